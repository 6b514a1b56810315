"""Small PNG bar charts for the chat (repayment schedules, portfolios).

Only shapes and Latin digits are drawn: Pillow's built-in font has no Persian or Devanagari
glyphs, so every word of a chart goes in the message caption, in the reader's language.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 640, 360
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 70, 20, 20, 40
PALETTE = ("#2f6fde", "#f2a93b", "#3fa66b", "#d9534f", "#8e6fd8")


@dataclass(frozen=True)
class Series:
    values: Sequence[int]  # base units (or any non-negative integers), one per bar
    color: str


def _axis_label(value: int, unit: int) -> str:
    whole = value / unit
    return f"{whole:,.0f}" if whole >= 10 or whole == int(whole) else f"{whole:,.1f}"


def stacked_bars_png(series: Sequence[Series], *, bar_labels: Sequence[str],
                     unit: int = 1) -> bytes:
    """Bars stacked bottom-up in series order; y axis in whole `unit`s (e.g. 10**6)."""
    count = len(bar_labels)
    if count == 0 or any(len(s.values) != count for s in series):
        raise ValueError("every series needs one value per bar")
    totals = [sum(s.values[i] for s in series) for i in range(count)]
    top = max(max(totals), 1)
    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=13)
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    base_y = MARGIN_TOP + plot_h
    for step in range(5):  # horizontal grid with the axis values
        value = top * step // 4
        y = base_y - plot_h * step / 4
        draw.line([(MARGIN_LEFT, y), (WIDTH - MARGIN_RIGHT, y)], fill="#e4e4e4")
        draw.text((MARGIN_LEFT - 8, y), _axis_label(value, unit), fill="#555555", font=font,
                  anchor="rm")
    slot = plot_w / count
    bar_w = max(2.0, slot * 0.7)
    label_every = max(1, count // 12)
    for index in range(count):
        x0 = MARGIN_LEFT + slot * index + (slot - bar_w) / 2
        y = base_y
        for s in series:
            height = plot_h * s.values[index] / top
            if height > 0:
                draw.rectangle([x0, y - height, x0 + bar_w, y], fill=s.color)
            y -= height
        if index % label_every == 0 or index == count - 1:
            draw.text((x0 + bar_w / 2, base_y + 6), bar_labels[index], fill="#333333",
                      font=font, anchor="mt")
    draw.line([(MARGIN_LEFT, base_y), (WIDTH - MARGIN_RIGHT, base_y)], fill="#333333")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
