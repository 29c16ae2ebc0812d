"""Whether a GPU job of this workflow run actually started, from GitHub's list of the run's jobs.

The publish job fetches `GET /repos/{o}/{r}/actions/runs/{id}/jobs?filter=all` (every attempt) and
passes the answer as a file: one page (`{"total_count": …, "jobs": […]}`) or the pages `gh api
--paginate --slurp` writes (an array of them). A GPU job that a runner picked up has a
`runner_name`; one whose approval was rejected, or expired, or that no runner ever took, has none.
Only a started GPU job may lead to a commit on the default branch (ARCHITECTURE.md, "Trust
boundary"): anyone can open a pull request, so an unapproved one is answered on the PR only.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from runner.errors import UserError, describe_validation_error
from runner.pipeline.capped_files import read_json

# evaluate.yml's GPU job names start with this (tests/pipeline/test_workflows.py keeps them so).
GPU_JOB_NAME = "GPU evaluation"
MAX_JOBS_BYTES = 8 << 20


class WorkflowJob(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    name: str
    runner_name: str | None = None


class _JobsPage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    jobs: list[WorkflowJob]


def load_jobs(path: Path) -> list[WorkflowJob]:
    document = read_json(path, MAX_JOBS_BYTES, f"--jobs {path}")
    pages = document if isinstance(document, list) else [document]
    try:
        return [job for page in pages for job in _JobsPage.model_validate(page).jobs]
    except ValidationError as err:
        raise UserError(f"--jobs {path}: {describe_validation_error(err)}") from None


def jobs_listed(path: Path | None) -> bool:
    """Whether the run's job list was read: a file that loads (a failed lookup leaves none, or
    an empty one)."""
    if path is None or not Path(path).is_file():
        return False
    try:
        load_jobs(path)
    except UserError:
        return False
    return True


def gpu_job_started(path: Path | None) -> bool:
    """True when some GPU job of the run had a runner. No file (the lookup failed): False, so
    that doubt never commits."""
    if not jobs_listed(path):
        return False
    return any(job.name.startswith(GPU_JOB_NAME) and job.runner_name for job in load_jobs(path))
