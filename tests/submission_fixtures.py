"""Test data shared by the validation tests: a valid submission, its variants and a git helper."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

SHA = "a09a35458c702b33eeacc393d103063234e8bc28"
VALID_PATH = "submissions/Qwen/Qwen2.5-7B-Instruct.yaml"
VALID_SUBMISSION = f"""\
model: Qwen/Qwen2.5-7B-Instruct
revision: {SHA}
precision: bfloat16
model_type: instruction-tuned
base_model: Qwen/Qwen2.5-7B
license: apache-2.0
description: A general instruction-tuned model used as a reference point.
"""


def variant(old: str, new: str) -> str:
    """The valid submission with `old` replaced by `new` (`old` must be in it)."""
    assert old in VALID_SUBMISSION, old
    return VALID_SUBMISSION.replace(old, new)


_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}


def git(root: Path, *args: str) -> str:
    """Run git in `root` with a fixed identity; fail the test with git's message on error."""
    env = {**os.environ, **_GIT_IDENTITY}
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def place(root: Path, path: str, data: bytes | str) -> Path:
    """Write `data` to `root/path`, creating folders."""
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    target.write_bytes(data)
    return target
