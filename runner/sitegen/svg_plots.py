"""Static SVG charts drawn at build time: no JavaScript library, nothing fetched at view time.

Every chart is a plain string of SVG with classes instead of colours, so the site's CSS themes it
(light and dark palettes) and each mark carries a <title> that browsers show on hover.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from runner.sitegen.formatting import percent_label, size_label


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


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # accuracy in [0, 1]
    low: float
    high: float
    note: str = ""  # extra hover text (item count)
    marker: float | None = None  # a comparison tick (e.g. the leaderboard median)


def size_vs_average(points: Sequence[ScatterPoint], references: Sequence[ReferenceLine]) -> str:
    """Average accuracy against parameter count (log scale); references as dashed lines."""
    width, height, left, right, top, bottom = 720, 380, 56, 150, 16, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    sizes = [p.params for p in points] or [1_000_000_000]
    lo_exp = math.floor(math.log10(min(sizes)))
    hi_exp = max(lo_exp + 1, math.ceil(math.log10(max(sizes))))

    def x(params: int) -> float:
        return left + plot_w * (math.log10(params) - lo_exp) / (hi_exp - lo_exp)

    def y(value: float) -> float:
        return top + plot_h * (1.0 - value)

    parts = [
        f'<svg class="medlb-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Average accuracy against model size">'
    ]
    for tick in range(0, 101, 20):
        ty = y(tick / 100)
        parts.append(
            f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="tick" x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end">{tick}%</text>'
        )
    for exp in range(lo_exp, hi_exp + 1):
        tx = x(10**exp)
        parts.append(
            f'<line class="grid" x1="{tx:.1f}" x2="{tx:.1f}" y1="{top}" y2="{top + plot_h}"/>'
            f'<text class="tick" x="{tx:.1f}" y="{top + plot_h + 16}" text-anchor="middle">'
            f"{size_label(10**exp)}</text>"
        )
    parts.append(
        f'<text class="axis" x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">'
        f"parameters (log scale)</text>"
        f'<text class="axis" transform="translate(14 {top + plot_h / 2}) rotate(-90)" '
        f'text-anchor="middle">average accuracy</text>'
    )
    for ref in references:
        ry = y(ref.value)
        parts.append(
            f'<line class="reference" x1="{left}" x2="{left + plot_w}" y1="{ry:.1f}" '
            f'y2="{ry:.1f}"><title>{escape(ref.label)}: {percent_label(ref.value)} (reported)'
            f"</title></line>"
            f'<text class="reference-label" x="{left + plot_w + 4}" y="{ry + 4:.1f}">'
            f"{escape(ref.label)} (reported)</text>"
        )
    for p in points:
        parts.append(
            f'<a href="{escape(p.href)}"><circle class="point" cx="{x(p.params):.1f}" '
            f'cy="{y(p.value):.1f}" r="4"><title>{escape(p.label)}: {percent_label(p.value)}, '
            f"{size_label(p.params)} parameters</title></circle></a>"
        )
    parts.append("</svg>")
    return "".join(parts)


def interval_bars(bars: Sequence[Bar], *, label_width: int = 210, row: int = 22) -> str:
    """Horizontal accuracy bars on a 0–100% axis with 95% interval whiskers."""
    width = 720
    plot_w = width - label_width - 60
    height = row * len(bars) + 28
    parts = [
        f'<svg class="medlb-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Accuracy with 95% intervals">'
    ]
    for tick in range(0, 101, 25):
        tx = label_width + plot_w * tick / 100
        parts.append(
            f'<line class="grid" x1="{tx:.1f}" x2="{tx:.1f}" y1="0" y2="{height - 22}"/>'
            f'<text class="tick" x="{tx:.1f}" y="{height - 8}" text-anchor="middle">{tick}%</text>'
        )
    for i, bar in enumerate(bars):
        top = i * row + 3
        mid = top + (row - 6) / 2
        lo_x = label_width + plot_w * bar.low
        hi_x = label_width + plot_w * bar.high
        interval = f"{percent_label(bar.low)}–{percent_label(bar.high)}"
        hover = f"{bar.label}: {percent_label(bar.value)} (95% CI {interval})"
        if bar.note:
            hover += f", {bar.note}"
        parts.append(
            f"<g><title>{escape(hover)}</title>"
            f'<text class="label" x="{label_width - 8}" y="{mid + 4:.1f}" text-anchor="end">'
            f"{escape(_shorten(bar.label, 30))}</text>"
            f'<rect class="bar" x="{label_width}" y="{top}" width="{plot_w * bar.value:.1f}" '
            f'height="{row - 6}"/>'
            f'<line class="whisker" x1="{lo_x:.1f}" x2="{hi_x:.1f}" y1="{mid:.1f}" y2="{mid:.1f}"/>'
            f'<text class="value" x="{label_width + plot_w + 6}" y="{mid + 4:.1f}">'
            f"{percent_label(bar.value)}</text>"
        )
        if bar.marker is not None:
            mx = label_width + plot_w * bar.marker
            parts.append(
                f'<line class="marker" x1="{mx:.1f}" x2="{mx:.1f}" y1="{top - 1}" '
                f'y2="{top + row - 5}"/>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
