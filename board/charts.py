"""Charts drawn by the server as inline SVG: no script, no outside asset, readable on a phone.

Each function returns an `<svg>` string sized by its viewBox, so it scales to the page width.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ledger.rates import format_rate

WIDTH = 600
BAR_COLOUR = "#2f6fb0"
LINE_COLOUR = "#c2410c"
AXIS_COLOUR = "#999"
TEXT_STYLE = 'font-size="13" fill="#333"'


def _scale(values: Sequence[float]) -> float:
    top = max(values, default=0)
    return top if top > 0 else 1


def column_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """Vertical bars with their value above, e.g. reports per week."""
    height, top, bottom, left = 220, 30, 30, 10
    plot = height - top - bottom
    step = (WIDTH - 2 * left) / max(len(values), 1)
    scale = _scale(values)
    parts = [_open(title, height), f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - left}" '
             f'y2="{height - bottom}" stroke="{AXIS_COLOUR}"/>']  # fmt: skip
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        bar = plot * value / scale
        x = left + index * step + step * 0.15
        y = height - bottom - bar
        centre = x + step * 0.35
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{bar:.1f}" '
            f'fill="{BAR_COLOUR}"><title>{escape(label)}：{value:g}</title></rect>'
        )
        parts.append(f'<text x="{centre:.1f}" y="{y - 5:.1f}" text-anchor="middle" {TEXT_STYLE}>{value:g}</text>')
        parts.append(
            f'<text x="{centre:.1f}" y="{height - 10}" text-anchor="middle" {TEXT_STYLE}>{escape(label)}</text>'
        )
    return "".join([*parts, "</svg>"])


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float]) -> str:
    """Horizontal bars, one row per label, e.g. reports by category."""
    row, label_width, right = 28, 130, 40
    height = max(len(values), 1) * row + 10
    scale = _scale(values)
    parts = [_open(title, height)]
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 5 + index * row
        length = (WIDTH - label_width - right) * value / scale
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end" {TEXT_STYLE}>{escape(label)}</text>'
            f'<rect class="bar" x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{BAR_COLOUR}"><title>{escape(label)}：{value:g}</title></rect>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 18}" {TEXT_STYLE}>{value:g}</text>'
        )
    return "".join([*parts, "</svg>"])


def rate_pairs_chart(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]
) -> str:
    """Horizontal bars of rates (0–1, drawn to 100 %), one row per label with a bar per series, e.g. each unit's
    部门响应率 and 部门办结率; a rate with nothing to divide by is a `—` without a bar."""
    colours = (BAR_COLOUR, LINE_COLOUR)
    bar, gap, label_width, right, legend = 14, 12, 130, 50, 26
    row = bar * len(series) + gap
    height = legend + max(len(labels), 1) * row + 6
    parts = [_open(title, height)]
    for index, (name, _) in enumerate(series):
        x = label_width + index * 130
        colour = colours[index % len(colours)]
        parts.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 18}" y="17" {TEXT_STYLE}>{escape(name)}</text>'
        )
    for index, label in enumerate(labels):
        y = legend + index * row
        middle = y + row / 2 + 2
        parts.append(
            f'<text x="{label_width - 8}" y="{middle:.1f}" text-anchor="end" {TEXT_STYLE}>{escape(label)}</text>'
        )
        for which, (name, values) in enumerate(series):
            value, top = values[index], y + which * bar
            shown = format_rate(value)
            length = 0 if value is None else (WIDTH - label_width - right) * max(0.0, min(value, 1.0))
            parts.append(
                f'<rect class="bar" x="{label_width}" y="{top + 1}" width="{length:.1f}" height="{bar - 2}" '
                f'fill="{colours[which % len(colours)]}"><title>{escape(label)} {escape(name)}：{shown}</title></rect>'
                f'<text x="{label_width + length + 6:.1f}" y="{top + bar - 2}" {TEXT_STYLE}>{shown}</text>'
            )
    return "".join([*parts, "</svg>"])


def line_chart(title: str, labels: Sequence[str], values: Sequence[float | None]) -> str:
    """A line through the known values (gaps where a week has none), e.g. median minutes to first response."""
    height, top, bottom, left = 220, 30, 30, 10
    plot = height - top - bottom
    step = (WIDTH - 2 * left) / max(len(values), 1)
    scale = _scale([v for v in values if v is not None])
    parts = [_open(title, height), f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - left}" '
             f'y2="{height - bottom}" stroke="{AXIS_COLOUR}"/>']  # fmt: skip
    points = []
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + index * step + step / 2
        parts.append(f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" {TEXT_STYLE}>{escape(label)}</text>')
        if value is None:
            continue
        y = height - bottom - plot * value / scale
        points.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{LINE_COLOUR}">'
            f"<title>{escape(label)}：{value:g}</title></circle>"
            f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" {TEXT_STYLE}>{value:g}</text>'
        )
    if len(points) > 1:
        parts.insert(2, f'<polyline points="{" ".join(points)}" fill="none" stroke="{LINE_COLOUR}" stroke-width="2"/>')
    return "".join([*parts, "</svg>"])


def _open(title: str, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
    )
