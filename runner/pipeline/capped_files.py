"""Reading the files a workflow step is handed (bundles, GitHub API answers, plans, requests)
with a size limit: an artifact or an API answer is input like any other, so a missing file, a
symlink, an oversized file or bytes that are not JSON get one line naming the file, never a
traceback and never an unbounded read (ARCHITECTURE.md, "Trust boundary")."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runner.errors import UserError


def read_capped(path: Path, limit: int, display: str) -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them; `display` names it."""
    path = Path(path)
    if not path.exists() and not path.is_symlink():
        raise UserError(f"{display}: no such file")
    if path.is_symlink() or not path.is_file():
        raise UserError(f"{display}: not a regular file")
    with path.open("rb") as handle:
        data = handle.read(limit + 1)  # never more, whatever the file grew to
    if len(data) > limit:
        raise UserError(f"{display}: larger than {limit} bytes")
    return data


def read_json(path: Path, limit: int, display: str) -> Any:
    """`read_capped`, parsed as JSON."""
    raw = read_capped(path, limit, display)
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise UserError(f"{display}: not JSON ({type(err).__name__})") from None
