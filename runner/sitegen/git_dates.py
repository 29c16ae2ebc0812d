"""When each file under a folder was last committed, from `git log`; nothing when git cannot say.

The queue page dates a pending submission by its file's last commit. A shallow clone (the
default of actions/checkout) would date every file by the one commit it has, which is wrong, so
a shallow history, a folder outside a git checkout or a missing git all give no dates and the
page leaves the column out.
"""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

GIT_TIMEOUT_S = 60
_COMMIT = "\x01"  # marks a commit's date line in the log (file names cannot contain it)


def last_commit_dates(folder: Path) -> dict[Path, datetime]:
    """Resolved path -> committer date of the newest commit that touched it, for files under
    `folder` that still exist; {} when there is no usable history."""
    folder = folder.resolve()
    if not folder.is_dir() or git_output(folder, "rev-parse", "--is-shallow-repository") != "false":
        return {}
    log = git_output(
        folder, "log", f"--format={_COMMIT}%cI", "--name-only", "--relative", "--", "."
    )
    if not log:
        return {}
    dates: dict[Path, datetime | None] = {}
    current: datetime | None = None
    for line in log.splitlines():
        if line.startswith(_COMMIT):
            current = _parsed(line[1:])
        elif line:
            path = folder / line
            if path not in dates and path.is_file():  # the newest commit that touched it
                dates[path] = current
    return {path: date for path, date in dates.items() if date is not None}


def _parsed(date: str) -> datetime | None:
    """A committer date as git printed it; None for one git accepts but Python cannot represent
    (a timezone such as +9959 passes `git fsck --strict`): the files it was the newest commit
    of get no date, like files without usable history."""
    try:
        return datetime.fromisoformat(date)
    except ValueError:
        return None


def head_commit(folder: Path) -> str | None:
    """The commit the checkout holding `folder` is at (None outside git): every file of the
    site's inputs is exactly as it is at this commit, so links to it never move."""
    return git_output(folder.resolve(), "rev-parse", "--verify", "-q", "HEAD^{commit}") or None


def git_output(cwd: Path, *args: str) -> str | None:
    """git's output (stripped), or None when git is missing, fails or takes too long."""
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotePath=false", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
