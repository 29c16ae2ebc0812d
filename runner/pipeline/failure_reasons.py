"""Why an evaluation did not publish results, in one line a submitter can act on.

The publish job knows how the `prepare` and `evaluate` jobs and its own merge/publish steps ended
(success, failure, cancelled, skipped) and the logs they left. From those, `explain_failure` picks
the failure stage and reason recorded in `results/<org>/<model>.failure.json`:

- the submission did not validate (the PR's check, or our re-validation of its artifact), or
  could not be checked because the Hub did not answer (then nothing is said against it);
- the model did not load on the runner (`medlb evaluate`'s loading errors);
- the GPU ran out of memory (torch's OutOfMemoryError survives even the adaptive batch budget);
- no GPU job started: the approval was rejected or expired, or no runner took the job (said only
  when the run's job list was read; without it, that it is not known);
- the job left no log at all: the runner was lost, the job timed out or was cancelled. A re-run of
  the failed jobs starts their parts again (a persistent runner resumes finished tasks; an
  ephemeral one, the recommended kind, has nothing to resume from);
- the parts did not merge or the run did not match its request (stage "publishing").

Logs come from runs on untrusted models, so only one line of them is kept, with a length cap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Stage = Literal["validation", "loading", "evaluation", "publishing"]

MAX_REASON = 400
_MEDLB_ERROR = re.compile(r"^medlb: error: (?P<message>.+)$")
_ANNOTATION = re.compile(r"^::error(?: [^:]*)?::(?P<message>.+)$")
# `medlb validate`'s text report: "  FAIL  schema  precision: must be one of … (line 3)".
_FAILED_CHECK = re.compile(r"^FAIL\s+(?P<message>\S+\s+.+)$")
_OUT_OF_MEMORY = re.compile(r"OutOfMemoryError|CUDA out of memory|out of memory", re.IGNORECASE)
# `medlb evaluate`'s errors while resolving and loading the model
# (runner/evaluation/engine/loading.py).
_LOADING = re.compile(
    r"cannot load|safetensors|no such directory|needs --revision|no CUDA GPU|trust_remote_code"
)
_TRACEBACK_LAST = re.compile(r"^(?P<message>[A-Za-z_.]*(?:Error|Exception)\b.*)$")

RESUME_HINT = "a maintainer can re-run the failed jobs of the evaluate workflow"
NOT_STARTED = (
    "no GPU job started: the approval was rejected or expired, or no runner took the job; "
    "a maintainer can re-run the evaluate workflow"
)
JOBS_UNKNOWN = (
    "the GPU jobs did not succeed, and whether one started is not known (the run's job list "
    "could not be read); a maintainer can look at the run and re-run it"
)
COULD_NOT_CHECK = (
    "the Hugging Face Hub did not answer while the submission was re-checked, so nothing is "
    "known to be wrong with it; a maintainer can re-run the evaluate workflow"
)
# `medlb validate`'s last line when the Hub did not answer (exit 3: no verdict)
_COULD_NOT_CHECK_LINE = "could not check"


@dataclass(frozen=True)
class FailureReport:
    stage: Stage
    reason: str
    could_not_check: bool = False  # the Hub did not answer: not a verdict on the submission


def explain_failure(
    *,
    prepare: str,
    evaluate: str,
    pr_validation: str | None,
    validation_log: Path | None,
    evaluate_logs: list[Path],
    publish: str = "skipped",
    publish_log: Path | None = None,
    gpu_started: bool = True,
    jobs_known: bool = True,
) -> FailureReport:
    """The stage and the reason of a run that published no results."""
    if prepare != "success" or pr_validation == "failure":
        found = _last_error(_read(validation_log)) if validation_log else None
        if found is not None and found.startswith(_COULD_NOT_CHECK_LINE):
            return FailureReport("validation", COULD_NOT_CHECK, could_not_check=True)
        return FailureReport(
            "validation",
            found
            or "the validate check failed on the pull request; see its annotations on the diff",
        )
    if evaluate == "success" and publish == "failure":
        found = _last_error(_read(publish_log))
        return FailureReport("publishing", found or "the results did not merge or publish")
    if evaluate == "skipped":
        return FailureReport("evaluation", "the GPU evaluation did not run (not approved?)")
    if not gpu_started:
        return FailureReport("evaluation", NOT_STARTED if jobs_known else JOBS_UNKNOWN)
    for log in evaluate_logs:
        text = _read(log)
        part = log.stem
        if _OUT_OF_MEMORY.search(text):
            line = next(x for x in reversed(text.splitlines()) if _OUT_OF_MEMORY.search(x))
            return FailureReport("evaluation", _cap(f"{part}: out of memory on the GPU: {line}"))
        message = _last_error(text)
        if message:
            stage: Stage = "loading" if _LOADING.search(message) else "evaluation"
            return FailureReport(stage, _cap(f"{part}: {message}"))
    if evaluate_logs:
        reason = f"the GPU job failed without an error line; {RESUME_HINT}"
        return FailureReport("evaluation", reason)
    return FailureReport(
        "evaluation",
        f"the GPU job ended ({evaluate}) without a log: runner lost, timed out or cancelled; "
        + RESUME_HINT,
    )


def _last_error(text: str) -> str | None:
    """The last `medlb: error:` line, `::error::` annotation, failed check or exception line."""
    for pattern in (_MEDLB_ERROR, _ANNOTATION, _FAILED_CHECK, _TRACEBACK_LAST):
        for line in reversed(text.splitlines()):
            match = pattern.match(line.strip())
            if match:
                return _cap(match["message"].replace("%0A", " ").replace("%25", "%"))
    return None


def _cap(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= MAX_REASON else one_line[: MAX_REASON - 1] + "…"


def _read(path: Path | None) -> str:
    if path is None or not Path(path).is_file():
        return ""
    tail = 1 << 20  # the error is at the end of a log that can be long
    with Path(path).open("rb") as handle:
        handle.seek(max(0, handle.seek(0, 2) - tail))
        return handle.read(tail).decode("utf-8", errors="replace")
