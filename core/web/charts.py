"""Small charts drawn on the server as inline SVG: no chart library, no script, and they read
the same in every browser (and with scripts off). Text is escaped; numbers come formatted."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 8, 8, 24, 28


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    css: str  # class that colours it (web.css)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def line_chart(*, labels: Sequence[str], series: Sequence[Series], title: str,
               fmt: Callable[[int], str]) -> SafeString:
    """Lines over time: one point per label, a shared y scale from zero to the largest value."""
    top = max((max(s.values, default=0) for s in series), default=0) or 1
    count = len(labels)
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(i: int) -> float:
        return PAD_LEFT + (inner_w * i / (count - 1) if count > 1 else inner_w / 2)

    def y(value: int) -> float:
        return PAD_TOP + inner_h * (1 - value / top)

    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>",
             f'<line class="axis" x1="{PAD_LEFT}" y1="{_num(y(0))}" x2="{WIDTH - PAD_RIGHT}" '
             f'y2="{_num(y(0))}"/>',
             f'<text class="tick" x="{PAD_LEFT}" y="14">{escape(fmt(top))}</text>']
    for s in series:
        points = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in enumerate(s.values))
        parts.append(f'<polyline class="{s.css}" fill="none" points="{points}">'
                     f"<title>{escape(s.name)}</title></polyline>")
        for i, v in enumerate(s.values):
            parts.append(f'<circle class="{s.css}" cx="{_num(x(i))}" cy="{_num(y(v))}" r="3">'
                         f"<title>{escape(labels[i])}: {escape(fmt(v))}</title></circle>")
    if labels:
        parts.append(f'<text class="tick" x="{PAD_LEFT}" y="{HEIGHT - 8}">'
                     f"{escape(labels[0])}</text>")
        if count > 1:
            parts.append(f'<text class="tick" x="{WIDTH - PAD_RIGHT}" y="{HEIGHT - 8}" '
                         f'text-anchor="end">{escape(labels[-1])}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def bar_chart(*, items: Sequence[tuple[str, int]], title: str,
              fmt: Callable[[int], str]) -> SafeString:
    """Horizontal bars, one per item, labelled with the item and its formatted value."""
    row, label_w = 26, 210
    height = max(row * len(items), row)
    top = max((value for _label, value in items), default=0) or 1
    bar_room = WIDTH - label_w - 60
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for i, (label, value) in enumerate(items):
        top_y = i * row
        width = bar_room * value / top
        parts.append(f'<text class="label" x="0" y="{top_y + 17}">{escape(label)}</text>')
        parts.append(f'<rect class="bar" x="{label_w}" y="{top_y + 5}" width="{_num(width)}" '
                     f'height="{row - 10}" rx="3"><title>{escape(label)}: {escape(fmt(value))}'
                     f"</title></rect>")
        parts.append(f'<text class="value" x="{_num(label_w + width + 6)}" y="{top_y + 17}">'
                     f"{escape(fmt(value))}</text>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
