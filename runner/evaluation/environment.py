"""Where a run ran: the software and device a results file records, and the CI run behind it.

Results carry these so that a reader can tell two numbers apart that came from different
software (the site flags versions other than the lock's: ARCHITECTURE.md, "Trust boundary").
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from runner import __version__
from runner.results_schema import Environment


def run_environment(device: str) -> Environment:
    import torch
    import transformers

    on_gpu = device == "cuda"
    return Environment(
        medlb_version=__version__,
        medlb_git_sha=_git_sha(),
        python=platform.python_version(),
        torch=torch.__version__,
        transformers=transformers.__version__,
        device=torch.cuda.get_device_name(0) if on_gpu else "cpu",
        device_count=torch.cuda.device_count() if on_gpu else 1,
    )


def _git_sha() -> str | None:
    """The commit of the medlb checkout that ran (GitHub's env var first, then git itself)."""
    if os.environ.get("GITHUB_SHA"):
        return os.environ["GITHUB_SHA"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def ci_run_url() -> str | None:
    parts = [os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")]
    return f"{parts[0]}/{parts[1]}/actions/runs/{parts[2]}" if all(parts) else None
