"""The Hub checks of `medlb validate`: public, not gated, a pinned commit, and the model checks
run on the repository's small files and the Hub's safetensors metadata (never the weights).

Every network call goes through `runner.hub`; the decisions here are tested on constructed Hub
answers (`HubModelRepo`), the model checks on real tiny checkpoints.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from runner.submissions.checks import (
    HUB_CHECK_IDS,
    MODEL_CHECK_IDS,
    CheckResult,
    Status,
    skipped,
)
from runner.submissions.model_checks import ModelSource, run_model_checks

# The small files the checks read; for a Hub model only these are downloaded.
SMALL_FILES = (
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "tokenizer.json",
    "tokenizer.model",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "chat_template.jinja",
    "adapter_config.json",  # a PEFT adapter, told apart from a model
)


def hub_access_results(repo: Any, revision: str) -> list[CheckResult]:
    """The "hub" checks from what the Hub said about the repository (a `hub.HubModelRepo`)."""
    if repo.disabled:
        access = CheckResult("hub-access", "fail", f"{repo.repo_id} is disabled on the Hub")
    elif repo.private:
        access = CheckResult("hub-access", "fail", f"{repo.repo_id} is private")
    elif repo.gated:
        access = CheckResult(
            "hub-access",
            "fail",
            f"{repo.repo_id} is gated ({repo.gated} approval); turn gated access off",
        )
    elif repo.canonical_id and repo.canonical_id != repo.repo_id:
        access = CheckResult(
            "hub-access",
            "fail",
            f"the Hub spells this model {repo.canonical_id}; submit it under that id "
            f"(submissions/{repo.canonical_id}.yaml, model: {repo.canonical_id})",
        )
    else:
        access = CheckResult("hub-access", "pass", f"{repo.repo_id} is public and not gated")
    if repo.commit != revision:
        pinned = CheckResult(
            "hub-revision",
            "fail",
            f"{revision} names a branch or tag (now at {repo.commit}), not a commit",
        )
    else:
        pinned = CheckResult("hub-revision", "pass", f"commit {revision} exists")
    return [access, pinned]


def check_hub_model(
    repo_id: str, revision: str, tracks: tuple[str, ...] | None = None
) -> list[CheckResult]:
    """The hub checks, then the model checks on the repository's small files and Hub metadata
    (`tracks`: the submission's optional `tracks:` field).

    When the Hub does not answer, the check at hand is an "error" (could not check, exit 3) and
    the rest are skipped: nothing is concluded about the model."""
    from runner import hub

    try:
        repo = hub.fetch_model_repo(repo_id, revision)
    except (hub.HubLookupError, hub.HubUnavailable) as err:
        failed = "hub-revision" if getattr(err, "kind", "") == "revision" else "hub-access"
        status = _status_of(err)
        others = [check_id for check_id in HUB_CHECK_IDS if check_id != failed]
        why = "the Hub did not answer" if status == "error" else "the Hub lookup failed"
        return [CheckResult(failed, status, str(err)), *skipped(others + MODEL_CHECK_IDS, why)]
    results = hub_access_results(repo, revision)
    if any(result.failed for result in results):
        return results + skipped(MODEL_CHECK_IDS, "the Hub checks failed")
    wanted = [name for name in repo.files if name in SMALL_FILES or _is_tiktoken(name)]
    with tempfile.TemporaryDirectory(prefix="medlb-validate-") as tmp:
        try:
            hub.download_model_files(repo_id, revision, wanted, Path(tmp))
            counts = None
            if any(name.endswith(".safetensors") for name in repo.files):
                counts = hub.fetch_safetensors_parameter_count(repo_id, revision)
        except (hub.HubLookupError, hub.HubUnavailable) as err:
            return [
                *results,
                CheckResult("hub-access", _status_of(err), str(err)),
                *skipped(MODEL_CHECK_IDS, "the Hub files could not be read"),
            ]
        source = ModelSource(Path(tmp), repo.files, counts)
        return results + run_model_checks(source, tracks)


def _status_of(err: Exception) -> Status:
    """ "error" (could not check) when the Hub did not answer; "fail" when it answered no."""
    from runner import hub

    return "error" if isinstance(err, hub.HubUnavailable) else "fail"


def _is_tiktoken(name: str) -> bool:
    return "/" not in name and name.endswith(".tiktoken")
