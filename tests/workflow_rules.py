"""Reading the GitHub workflows as data, and the trust rules every workflow must keep.

Shared by test_workflows.py (structure) and test_rehearsal.py (the command sequence), so that the
rehearsal fails on the same edits the structural checks catch.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"
PRIVILEGED_TRIGGERS = {"workflow_run", "workflow_dispatch", "pull_request_target"}
_PINNED_USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40}\s+#\s+v\d+\.\d+\.\d+\s*$"
)
# medlb subcommands that have steps of their own (`medlb results publish`, `medlb site build`).
_GROUPS = {"results", "site", "data"}
# The one `ref:` a privileged checkout may name: the default branch as it is now (the publish job
# decides against the current branch, not the commit the triggering event saw).
DEFAULT_BRANCH_REF = "${{ github.event.repository.default_branch }}"
# The other: the details branch, which only the publish job writes (predictions files, data never
# run), checked out into a folder of its own beside the default branch's code (pages.yml).
DETAILS_REF = "details"
LOCKED_INSTALLER = "requirements/install-locked.sh"


def load(path: Path | str) -> dict[str, Any]:
    return parse(Path(path).read_text(encoding="utf-8"))


def parse(text: str) -> dict[str, Any]:
    workflow = yaml.safe_load(text)
    # YAML 1.1 reads the bare key `on` as the boolean True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    workflow["_text"] = text
    return workflow


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow["on"]
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    return dict(on)


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(job id, step) for every step, jobs in file order."""
    return [
        (job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])
    ]


def medlb_commands_by_job(
    workflow: dict[str, Any], *, success_path: bool = True, event: str | None = None
) -> dict[str, list[str]]:
    """Per job, the `medlb` commands of its `run:` steps in order, e.g. ["results intake", ...].

    `success_path` leaves out the steps that only run when something failed (`failure()` or a
    `!= 'success'` condition), i.e. keeps what a submission that goes through runs. `event`
    leaves out the steps that run only for another event (`github.event_name == '…'`).
    """
    commands: dict[str, list[str]] = {}
    for job_id, step in steps(workflow):
        condition = str(step.get("if", ""))
        if success_path and ("failure()" in condition or "!= 'success'" in condition):
            continue
        only_for = re.search(r"github\.event_name == '(\w+)'", condition)
        if event is not None and only_for and only_for[1] != event:
            continue
        words = shlex.split(step.get("run", ""), comments=True)
        for i, word in enumerate(words[:-1]):
            if word == "medlb" or word.endswith("/bin/medlb"):
                sub = words[i + 1]
                if sub in _GROUPS and i + 2 < len(words):
                    sub += " " + words[i + 2]
                commands.setdefault(job_id, []).append(sub)
    return commands


def medlb_commands(
    workflow: dict[str, Any], *, success_path: bool = True, event: str | None = None
) -> list[str]:
    """`medlb_commands_by_job`, all jobs in file order."""
    by_job = medlb_commands_by_job(workflow, success_path=success_path, event=event)
    return [command for commands in by_job.values() for command in commands]


def is_privileged(workflow: dict[str, Any]) -> bool:
    return bool(PRIVILEGED_TRIGGERS & set(triggers(workflow)))


def trust_problems(workflow: dict[str, Any]) -> list[str]:
    """Every violation of the trust rules (ARCHITECTURE.md, "Trust boundary") in one workflow
    (empty: none)."""
    problems = []
    if "pull_request_target" in triggers(workflow):
        problems.append("uses pull_request_target (runs with write tokens on PR events)")
    if workflow.get("permissions") != {}:
        problems.append("top-level permissions must be {} (jobs declare their own)")
    for line in workflow["_text"].splitlines():
        if re.match(r"^\s*(?:-\s+)?uses:", line) and not _PINNED_USES.match(line):
            problems.append(f"not pinned to a commit SHA with a # vX.Y.Z comment: {line.strip()}")
    for job_id, job in workflow["jobs"].items():
        if "permissions" not in job:
            problems.append(f"job {job_id}: no permissions block")
    for job_id, step in steps(workflow):
        name = f"job {job_id}, step {step.get('name', step.get('uses', step.get('run')))!r}"
        if "${{" in str(step.get("run", "")):
            problems.append(f"{name}: ${{{{ }}}} inside run: (pass values through env:)")
        if "${{" in str(step.get("with", {}).get("script", "")):
            problems.append(f"{name}: ${{{{ }}}} inside a github-script script:")
        if str(step.get("uses", "")).startswith("actions/checkout@"):
            options = step.get("with") or {}
            if options.get("persist-credentials") is not False:
                problems.append(f"{name}: checkout without persist-credentials: false")
            ref = options.get("ref", DEFAULT_BRANCH_REF)
            data_beside = ref == DETAILS_REF and str(options.get("path", "")).strip("./") != ""
            chosen = "repository" in options or (ref != DEFAULT_BRANCH_REF and not data_beside)
            if is_privileged(workflow) and chosen:
                problems.append(f"{name}: privileged workflow checks out a chosen ref/repository")
        run = str(step.get("run", ""))
        if is_privileged(workflow) and re.search(r"\bgit\s+(fetch|checkout|switch)\b|gh pr", run):
            problems.append(f"{name}: privileged workflow fetches or checks out other code")
        if is_privileged(workflow) and re.search(r"pip\b.*\binstall\b|index-url|\buv\b", run):
            problems.append(f"{name}: privileged workflow installs without {LOCKED_INSTALLER}")
    return problems
