"""Bar charts as plain geometry for server-rendered inline SVG: a pure module, no Django.

The template draws what this returns; the table beside each chart carries the same figures for people who
would rather read (and for screen readers, which get the chart's title and a text summary)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 220
LEFT = 48  # room for the axis labels
BOTTOM = 28  # room for the month labels
TOP = 16


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str  # the value as shown (e.g. "75%")
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    baseline: float
    top_label: str
    summary: str


def bar_chart(
    title: str, points: Sequence[tuple[str, float | None, str]], *, maximum: float | None = None
) -> Chart:
    """One bar per point (label, value, value as text). ``maximum`` fixes the scale (1.0 for shares); otherwise
    the largest value sets it. Missing values draw no bar but keep their slot and label."""
    values = [v for _, v, _ in points if v is not None]
    top = maximum if maximum is not None else max(values, default=0.0)
    top = top or 1.0
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(points), 1)
    bar_width = max(slot * 0.6, 1.0)
    bars = []
    for i, (label, value, text) in enumerate(points):
        height = 0.0 if value is None else plot_height * max(value, 0.0) / top
        bars.append(
            Bar(
                label=label,
                value=value,
                text=text,
                x=round(LEFT + i * slot + (slot - bar_width) / 2, 1),
                y=round(TOP + plot_height - height, 1),
                width=round(bar_width, 1),
                height=round(height, 1),
            )
        )
    shown = "; ".join(f"{label}: {text}" for label, _, text in points)
    top_label = f"{top:.0%}" if maximum == 1.0 else f"{top:g}"
    return Chart(
        title=title,
        bars=tuple(bars),
        width=WIDTH,
        height=HEIGHT,
        baseline=TOP + plot_height,
        top_label=top_label,
        summary=shown,
    )
