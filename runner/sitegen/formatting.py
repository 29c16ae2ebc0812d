"""How numbers look on the site: one function per format, used by pages, plots and data files.

- `fraction_number`: a fraction rounded for the downloads (`0.7365999999999999` -> `0.7366`);
- `percent_number`: a fraction as a percentage rounded to one decimal, for the JSON the
  leaderboard's script reads (`0.7366` -> `73.7`);
- `percent_text`: the same as text for a table cell, "—" for a missing score (`73.7`);
- `signed_percent_text`: the same with a real minus sign, for scores that can be negative
  (chance-normalised accuracy: `−4.3`);
- `percent_label`: text with its sign, for plot labels and hover text (`73.7%`);
- `signed_percent_label`: the same with a real minus sign (`−4.3%`);
- `size_label`: a parameter count as people say it (`7.2B`, `338K`).
"""

from __future__ import annotations

MISSING = "—"
DOWNLOAD_DIGITS = 4  # 0.01 percentage points; k / n stays recoverable for n up to 5,000


def fraction_number(value: float) -> float:
    return round(value, DOWNLOAD_DIGITS)


def percent_number(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def percent_text(value: float | None, digits: int = 1) -> str:
    return MISSING if value is None else f"{100 * value:.{digits}f}"


def signed_percent_text(value: float | None) -> str:
    return percent_text(value).replace("-", "−")


def percent_label(value: float) -> str:
    return f"{100 * value:.1f}%"


def signed_percent_label(value: float) -> str:
    return percent_label(value).replace("-", "−")


def size_label(params: float | None) -> str:
    """`7.2B`, `338K`: the size as the table and the charts show it."""
    if params is None:
        return MISSING
    for unit, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if params >= scale:
            value = params / scale
            if value >= 10:
                return f"{value:.0f}{unit}"
            return f"{value:.1f}".rstrip("0").rstrip(".") + unit
    return str(int(params))
