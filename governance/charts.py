"""Bar charts as plain geometry for server-rendered inline SVG: a pure module, no Django.

The templates draw what this returns (``templates/governance/_bar_chart.html`` and ``_comparison_chart.html``,
coloured by classes in ``static/css/jjp.css``: no inline style, so the Content-Security-Policy holds). A table
stays beside each chart with the same figures for people who would rather read; screen readers get the chart's
title and a text summary (``summary``) as its accessible name and description."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 640
HEIGHT = 220
LEFT = 48  # room for the axis labels
BOTTOM = 28  # room for the month labels
TOP = 20  # room for the value above the tallest bar
MIN_LABELLED_SLOT = 40  # narrower slots (many months) label every few bars and leave values to the table

# The comparison chart: one horizontal bar per row (England and Wales, pilot sites, other sites, a force...).
ROW_HEIGHT = 30
LABEL_WIDTH = 260  # room for the row labels
VALUE_WIDTH = 56  # room for the value after the bar


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str  # the value as shown (e.g. "75%")
    x: float
    y: float
    width: float
    height: float
    show_label: bool = True  # draw the label under the bar (every bar, or every few when there are many)
    show_text: bool = True  # draw the value above the bar (when it fits)
    name: str = ""  # the label in full (e.g. "January 2026"), for the summary and the table beside the chart

    @property
    def text_x(self) -> float:
        """The middle of the bar, where its value and label are centred."""
        return round(self.x + self.width / 2, 1)

    @property
    def text_y(self) -> float:
        return round(self.y - 5, 1)

    @property
    def end_x(self) -> float:
        """Just after a horizontal bar's end, where its value goes."""
        return round(self.x + self.width + 6, 1)

    @property
    def middle_y(self) -> float:
        """The baseline of text centred on a horizontal bar."""
        return round(self.y + self.height / 2 + 4, 1)


@dataclass(frozen=True)
class Chart:
    title: str
    bars: tuple[Bar, ...]
    width: int
    height: int
    baseline: float
    top_label: str
    summary: str
    left: int = LEFT
    top: int = TOP

    @property
    def label_y(self) -> float:
        return self.height - 8

    @property
    def has_values(self) -> bool:
        return any(b.value is not None for b in self.bars)


def _scale_top(values: Sequence[float], maximum: float | None) -> float:
    top = maximum if maximum is not None else max(values, default=0.0)
    return top or 1.0


def _top_label(top: float, maximum: float | None) -> str:
    return f"{top:.0%}" if maximum == 1.0 else f"{top:g}"


def bar_chart(
    title: str,
    points: Sequence[tuple[str, float | None, str]],
    *,
    maximum: float | None = None,
    long_labels: Sequence[str] | None = None,
) -> Chart:
    """One bar per point (label, value, value as text). ``maximum`` fixes the scale (1.0 for shares); otherwise
    the largest value sets it. Missing values draw no bar but keep their slot and label, and read "no figure"
    in the summary. ``long_labels`` (one per point, e.g. "January 2026") name the points in the summary that
    screen readers hear, where the axis has room only for "Jan 26"."""
    names = list(long_labels) if long_labels is not None else [label for label, _, _ in points]
    if len(names) != len(points):
        raise ValueError("long_labels must name every point")
    values = [v for _, v, _ in points if v is not None]
    top = _scale_top(values, maximum)
    plot_height = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT) / max(len(points), 1)
    bar_width = max(slot * 0.6, 1.0)
    every = 1 if slot >= MIN_LABELLED_SLOT else -(-MIN_LABELLED_SLOT // int(max(slot, 1)))
    bars = []
    for i, ((label, value, text), name) in enumerate(zip(points, names, strict=True)):
        height = 0.0 if value is None else plot_height * min(max(value, 0.0), top) / top
        bars.append(
            Bar(
                label=label,
                value=value,
                text=text if value is not None else "no figure",
                x=round(LEFT + i * slot + (slot - bar_width) / 2, 1),
                y=round(TOP + plot_height - height, 1),
                width=round(bar_width, 1),
                height=round(height, 1),
                show_label=i % every == 0,
                show_text=every == 1,
                name=name,
            )
        )
    shown = "; ".join(f"{bar.name}: {bar.text}" for bar in bars)
    return Chart(
        title=title,
        bars=tuple(bars),
        width=WIDTH,
        height=HEIGHT,
        baseline=TOP + plot_height,
        top_label=_top_label(top, maximum),
        summary=shown or "No figures in the period.",
    )


def comparison_chart(
    title: str, points: Sequence[tuple[str, float | None, str]], *, maximum: float | None = None
) -> Chart:
    """One horizontal bar per point (label, value, value as text), for comparing rows over the same period:
    England and Wales, pilot sites, other sites and the forces and Areas the viewer may see. The label sits to
    the left of its bar and the value to its right; a missing value draws no bar and reads "no figure"."""
    values = [v for _, v, _ in points if v is not None]
    top = _scale_top(values, maximum)
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = TOP + ROW_HEIGHT * max(len(points), 1) + 8
    bar_height = ROW_HEIGHT * 0.6
    bars = []
    for i, (label, value, text) in enumerate(points):
        length = 0.0 if value is None else plot_width * min(max(value, 0.0), top) / top
        bars.append(
            Bar(
                label=label,
                value=value,
                text=text if value is not None else "no figure",
                x=float(LABEL_WIDTH),
                y=round(TOP + i * ROW_HEIGHT + (ROW_HEIGHT - bar_height) / 2, 1),
                width=round(length, 1),
                height=round(bar_height, 1),
                name=label,
            )
        )
    shown = "; ".join(f"{bar.name}: {bar.text}" for bar in bars)
    return Chart(
        title=title,
        bars=tuple(bars),
        width=WIDTH,
        height=height,
        baseline=float(LABEL_WIDTH),
        top_label=_top_label(top, maximum),
        summary=shown or "No figures in the period.",
        left=LABEL_WIDTH,
    )
