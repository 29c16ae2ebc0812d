"""Fail closed on setup: the GPU jobs run only behind an environment with required reviewers.

GitHub creates an environment that a workflow names, on first use, with no protection rules, so
a repository set up in the wrong order (runners registered before `gpu-evaluation` was given its
reviewers) would run every GPU job unapproved, and nothing would say so. The prepare job asks
GitHub (`GET /repos/{o}/{r}/environments/gpu-evaluation`, with its own token) and intake refuses
unless that answer lists a required-reviewers rule with at least one reviewer
(docs/maintainers/runners.md, §1; ARCHITECTURE.md, "Trust boundary").
"""

from __future__ import annotations

from pathlib import Path

from runner.errors import UserError
from runner.pipeline.capped_files import read_json

GPU_ENVIRONMENT = "gpu-evaluation"
MAX_ENVIRONMENT_BYTES = 1 << 20
FIX = (
    f"add the maintainers as required reviewers of the {GPU_ENVIRONMENT} environment "
    "(Settings → Environments; docs/maintainers/runners.md, §1), then re-run"
)


def check_environment(path: Path) -> int:
    """The number of required reviewers GitHub's answer lists; a `UserError` when it is none."""
    display = f"--environment {path}"
    document = read_json(path, MAX_ENVIRONMENT_BYTES, display)
    if not isinstance(document, dict) or document.get("name") != GPU_ENVIRONMENT:
        raise UserError(f"{display}: not GitHub's answer for the {GPU_ENVIRONMENT} environment")
    rules = document.get("protection_rules")
    reviewers = 0
    for rule in rules if isinstance(rules, list) else []:
        if isinstance(rule, dict) and rule.get("type") == "required_reviewers":
            listed = rule.get("reviewers")
            reviewers += len(listed) if isinstance(listed, list) else 0
    if reviewers == 0:
        raise UserError(
            f"{GPU_ENVIRONMENT} has no required reviewers, so GPU jobs would run unapproved; {FIX}"
        )
    return reviewers
