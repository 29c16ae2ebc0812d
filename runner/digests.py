"""The digests that tie a file to what GitHub or the Hub says it is.

- `git_blob_sha1`: git's object id of a file's bytes (`sha1(b"blob <len>\\0" + bytes)`), the `sha`
  GitHub's pull request files API reports and the `blob_id` the Hub reports for small files;
- `file_sha256`: the sha256 of a file, streamed, which the Hub reports for LFS files (weights).

A git blob id is SHA-1. Matching it is enough here because the other file of a colliding pair
would have to be pushed to GitHub, whose git (SHA-1DC) refuses objects built by a collision attack.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

_CHUNK = 1 << 20


def git_blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def file_git_blob_sha1(path: Path) -> str:
    """`git_blob_sha1` of a file, streamed (the header needs only the size)."""
    digest = hashlib.sha1(b"blob %d\0" % Path(path).stat().st_size)
    _feed(digest, Path(path))
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    _feed(digest, Path(path))
    return digest.hexdigest()


def _feed(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
