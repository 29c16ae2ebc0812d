"""Which results were evaluated with other torch or transformers versions than CI installs now.

The GPU jobs install from `requirements/eval.lock` (ARCHITECTURE.md, "Trust boundary"); a result
records the versions it ran with. One evaluated with different ones (an older lock, a
maintainer's own machine) is flagged on its model page and in `leaderboard.json`, so a reader
knows its numbers may differ in float noise from the others'. Local build tags (`2.13.0+cpu`)
are ignored: they name the same release.
"""

from __future__ import annotations

import re
from pathlib import Path

from runner.results_schema import Environment

LOCK_FILE = Path("requirements/eval.lock")  # relative to the checkout the site is built in
FLAGGED = ("torch", "transformers")
_PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s\\;]+)", re.M)


def locked_versions(lock_file: Path = LOCK_FILE) -> dict[str, str]:
    """torch and transformers as the lock pins them; {} without a lock (nothing is flagged)."""
    if not Path(lock_file).is_file():
        return {}
    pins = {name.lower(): version for name, version in _PIN.findall(Path(lock_file).read_text())}
    return {name: pins[name] for name in FLAGGED if name in pins}


def software_mismatch(environment: Environment, locked: dict[str, str]) -> str | None:
    """e.g. "torch 2.12.0 (CI: 2.13.0)", or None when the result ran what the lock pins."""
    differing = []
    for name in FLAGGED:
        used = str(getattr(environment, name))
        if name in locked and used.split("+")[0] != locked[name].split("+")[0]:
            differing.append(f"{name} {used} (CI: {locked[name]})")
    return ", ".join(differing) or None
