"""The public progress wall (镜子墙/督办墙), the cadre view, exports for download and the Open311 API."""
