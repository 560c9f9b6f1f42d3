"""The WeChat transport through a Wechaty puppet service. Only this package imports `wechaty`."""
