"""Static charts drawn at build time: SVG marks with HTML text, no JavaScript, nothing fetched.

An SVG scaled to the width of a phone shrinks its text with it (a 720-unit chart on a 358 px
screen draws 11-unit labels at 5.5 px). So the marks are SVG stretched to the box they sit in
(`preserveAspectRatio="none"`; the CSS draws strokes and dots with `vector-effect:
non-scaling-stroke`, so nothing looks stretched), and every word is HTML positioned in percent
over it, sized by the site's CSS at any width. Classes, not colours, so the light and dark
palettes both apply; each mark carries a hover text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from runner.results_schema import ReliabilityBin
from runner.sitegen.formatting import percent_label, signed_percent_label, size_label

_NS = 'preserveAspectRatio="none" aria-hidden="true" focusable="false"'


@dataclass(frozen=True)
class ScatterPoint:
    label: str
    params: int  # parameter count
    value: float  # accuracy in [0, 1]
    href: str


@dataclass(frozen=True)
class ReferenceLine:
    label: str
    value: float
    kind: str = "reference"  # CSS class: "reference" (reported score) or "chance"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # accuracy in [0, 1]
    low: float
    high: float
    note: str = ""  # extra hover text (item count)
    marker: float | None = None  # a comparison tick (e.g. the leaderboard median)
    chance: float | None = None  # accuracy of guessing uniformly among the options
    majority: float | None = None  # accuracy of always giving the most common answer
    title: str = ""  # the label's full text on hover, when `label` is short


def _signed(value: float) -> str:
    """A number as text with a real minus sign (−25, not -25)."""
    return f"{value:g}".replace("-", "−")


def _pos(value: float) -> str:
    return f"{100 * value:.2f}".rstrip("0").rstrip(".")


def size_vs_average(points: Sequence[ScatterPoint], references: Sequence[ReferenceLine]) -> str:
    """Average accuracy against parameter count (log scale); references as dashed lines."""
    sizes = [p.params for p in points] or [1_000_000_000]
    lo_exp = math.floor(math.log10(min(sizes)))
    hi_exp = max(lo_exp + 1, math.ceil(math.log10(max(sizes))))

    def x(params: int) -> float:  # fraction of the plot's width
        return (math.log10(params) - lo_exp) / (hi_exp - lo_exp)

    marks, labels = [], []
    for tick in range(0, 101, 20):
        y = 1 - tick / 100
        marks.append(f'<line class="grid" x1="0" x2="100" y1="{_pos(y)}" y2="{_pos(y)}"/>')
        labels.append(f'<span class="tick y" style="top:{_pos(y)}%">{tick}%</span>')
    for exp in range(lo_exp, hi_exp + 1):
        tx = _pos(x(10**exp))
        marks.append(f'<line class="grid" x1="{tx}" x2="{tx}" y1="0" y2="100"/>')
        end = _end_class(exp - lo_exp, hi_exp - lo_exp)
        labels.append(f'<span class="tick x{end}" style="left:{tx}%">{size_label(10**exp)}</span>')
    for ref in references:
        y = _pos(1 - ref.value)
        text = escape(ref.label)
        marks.append(
            f'<line class="{ref.kind}" x1="0" x2="100" y1="{y}" y2="{y}">'
            f"<title>{text}: {percent_label(ref.value)}</title></line>"
        )
        labels.append(f'<span class="line-label {ref.kind}" style="top:{y}%">{text}</span>')
    for p in points:
        marks.append(
            f'<a href="{escape(p.href)}"><path class="point" d="M{_pos(x(p.params))} '
            f'{_pos(1 - p.value)}h0"><title>{escape(p.label)}: '
            f"{percent_label(p.value)}, {size_label(p.params)} parameters</title></path></a>"
        )
    return (
        '<div class="medlb-chart scatter" role="group" '
        'aria-label="Average accuracy against model size">'
        '<div class="axis-title y">average accuracy</div>'
        f'<div class="plot"><svg viewBox="0 0 100 100" {_NS}>{"".join(marks)}</svg>'
        f"{''.join(labels)}</div>"
        '<div class="axis-title x">parameters (log scale)</div></div>'
    )


def _end_class(index: int, last: int) -> str:
    """The first and last labels of an x axis sit inside the plot (a centred "1T" at the right
    edge is clipped on a phone): " first", " last" or nothing."""
    return " first" if index == 0 else " last" if index == last else ""


def interval_bars(bars: Sequence[Bar], *, caption: str = "", axis_min: float = 0.0) -> str:
    """Horizontal bars on an `axis_min`–100% axis with 95% interval whiskers, one row per bar.

    `axis_min` below 0 (a multiple of 25%) makes room for scores below zero, such as a
    chance-normalised accuracy under chance: bars then grow from the zero line either way."""
    axis = Axis(axis_min)
    # Interior ticks are "minor" (hidden on phones) or "mid" (hidden where the axis is too narrow
    # for three labels, medlb.css): a narrow axis never runs "50%100%" together.
    ends = (round(100 * axis.low), 100)
    ticks = "".join(
        f'<span style="left:{_pos(axis.x(tick / 100))}%"'
        f"{' class=minor' if tick % 50 else ' class=mid' if tick not in ends else ''}>"
        f"{_signed(tick)}%</span>"
        for tick in axis.ticks()
    )
    rows = [_bar_row(bar, axis) for bar in bars]
    figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
    return (
        '<figure class="medlb-chart bars" role="group" aria-label="Accuracy with 95% intervals">'
        f'{"".join(rows)}<div class="bar-row axis"><span></span><div class="bar-axis">{ticks}'
        f"</div><span></span></div>{figcaption}</figure>"
    )


@dataclass(frozen=True)
class Axis:
    """A horizontal percent axis from `low` (0, or a negative multiple of 25%) to 100%."""

    low: float = 0.0

    def x(self, value: float) -> float:
        """Where `value` sits, as a fraction of the axis (clamped to it)."""
        return min(1.0, max(0.0, (value - self.low) / (1.0 - self.low)))

    def ticks(self) -> range:
        return range(round(100 * self.low), 101, 25)


def _bar_row(bar: Bar, axis: Axis) -> str:
    interval = f"{percent_label(bar.low)}–{percent_label(bar.high)}"
    hover = f"{bar.title or bar.label}: {percent_label(bar.value)} (95% interval {interval})"
    if bar.note:
        hover += f", {bar.note}"
    zero, end = axis.x(0.0), axis.x(bar.value)
    inner = [t for t in axis.ticks() if t not in (round(100 * axis.low), 100)]
    marks = [
        *(
            f'<line class="{"zero" if t == 0 else "grid"}" x1="{(x := _pos(axis.x(t / 100)))}" '
            f'x2="{x}" y1="0" y2="10"/>'
            for t in inner
        ),
        f'<rect class="bar" x="{_pos(min(zero, end))}" y="2" width="{_pos(abs(end - zero))}" '
        'height="6"/>',
        f'<line class="whisker" x1="{_pos(axis.x(bar.low))}" x2="{_pos(axis.x(bar.high))}" '
        'y1="5" y2="5"/>',
    ]
    for kind, value in (("chance", bar.chance), ("majority", bar.majority), ("marker", bar.marker)):
        if value is not None:
            x = _pos(axis.x(value))
            marks.append(f'<line class="{kind}" x1="{x}" x2="{x}" y1="0" y2="10"/>')
    return (
        f'<div class="bar-row" title="{escape(hover)}"><span class="bar-label">'
        f"{escape(bar.label)}</span>"
        f'<svg class="bar-track" viewBox="0 0 100 10" {_NS}>{"".join(marks)}</svg>'
        f'<span class="bar-value">{signed_percent_label(bar.value)}</span></div>'
    )


def reliability_diagram(bins: Sequence[ReliabilityBin], *, title: str, caption: str) -> str:
    """Accuracy against confidence in equal-width bins (Guo et al. 2017): a bar per populated
    bin up to its accuracy, a tick at its mean confidence, the shaded gap between them, and the
    diagonal where confidence equals accuracy; above each bar its question count. Hover a bar for
    its means."""
    width = 100 / len(bins)
    marks, labels = [], []
    for tick in (0, 50, 100):
        at = _pos(tick / 100)
        marks.append(
            f'<line class="grid" x1="0" x2="100" y1="{_pos(1 - tick / 100)}" '
            f'y2="{_pos(1 - tick / 100)}"/>'
        )
        marks.append(f'<line class="grid" x1="{at}" x2="{at}" y1="0" y2="100"/>')
        labels.append(f'<span class="tick y" style="top:{_pos(1 - tick / 100)}%">{tick}%</span>')
        end = _end_class(tick // 50, 2)
        labels.append(f'<span class="tick x{end}" style="left:{at}%">{tick}%</span>')
    marks.append('<line class="diagonal" x1="0" y1="100" x2="100" y2="0"/>')
    for b, cell in enumerate(bins):
        if not cell.count or cell.accuracy is None or cell.confidence is None:
            continue
        left, right = b * width, (b + 1) * width
        hover = (
            f"confidence {_pos(left / 100)}–{_pos(right / 100)}%: {cell.count} question"
            f"{'s' if cell.count != 1 else ''}, mean confidence {percent_label(cell.confidence)}, "
            f"accuracy {percent_label(cell.accuracy)}"
        )
        top, gap_top = 1 - cell.accuracy, 1 - max(cell.accuracy, cell.confidence)
        gap = abs(cell.accuracy - cell.confidence)
        x, w = _pos((left + width * 0.08) / 100), _pos(width * 0.84 / 100)
        marks.append(
            f"<g><title>{escape(hover)}</title>"
            f'<rect class="bar" x="{x}" y="{_pos(top)}" width="{w}" '
            f'height="{_pos(cell.accuracy)}"/>'
            f'<rect class="gap" x="{x}" y="{_pos(gap_top)}" width="{w}" height="{_pos(gap)}"/>'
            f'<line class="confidence" x1="{x}" x2="{_pos((left + width * 0.92) / 100)}" '
            f'y1="{_pos(1 - cell.confidence)}" y2="{_pos(1 - cell.confidence)}"/></g>'
        )
        labels.append(
            f'<span class="bin-count" style="left:{_pos((left + width / 2) / 100)}%;'
            f'top:{_pos(min(top, gap_top))}%">{cell.count}</span>'
        )
    return (
        '<figure class="medlb-chart scatter reliability" role="group" '
        f'aria-label="Reliability diagram: {escape(title)}">'
        '<div class="axis-title y">accuracy</div>'
        f'<div class="plot"><svg viewBox="0 0 100 100" {_NS}>{"".join(marks)}</svg>'
        f"{''.join(labels)}</div>"
        '<div class="axis-title x">confidence</div>'
        f"<figcaption><strong>{escape(title)}</strong> {caption}</figcaption></figure>"
    )
