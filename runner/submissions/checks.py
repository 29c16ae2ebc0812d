"""What `medlb validate` checks: the table of every check and the result each one gives.

`CHECKS` lists every check in the order a report shows them: its id, what holds when it passes,
how a submitter fixes a failure, and its stage ("file" and "repository" checks read the
submission and the git history; "hub" checks need the network; "model" checks read a model's
small files). `medlb validate`, SUBMITTING.md and the site's Submit page are all written from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["pass", "fail", "skip", "error"]  # error: could not check (Hub down)
Stage = Literal["file", "repository", "hub", "model"]


@dataclass(frozen=True)
class Check:
    """One row of the checks table: `id` in reports, `title` says what holds when it passes."""

    id: str
    title: str
    fix: str  # what a submitter does when the check fails
    stage: Stage = "model"  # "hub" checks need the network; `--offline` skips them


CHECKS: tuple[Check, ...] = (
    Check(
        "yaml",
        "The file is one small, plain YAML mapping in UTF-8",
        "Write `key: value` lines indented with spaces: no anchors, aliases, tags, duplicate keys "
        "or `---` separators, UTF-8 text under 64 KiB.",
        "file",
    ),
    Check(
        "schema",
        "Every required field is present and valid, and there are no other fields",
        "Follow the template in SUBMITTING.md; the message names the field and what it must be.",
        "file",
    ),
    Check(
        "path",
        "The file is `submissions/<org>/<model>.yaml` for the model it names",
        "Move the file so its folder is the Hub organisation and its name the model name.",
        "file",
    ),
    Check(
        "pr-scope",
        "The pull request adds or updates exactly one submission file and changes nothing else",
        "Split the pull request: one model per PR, with no changes outside `submissions/`; never "
        "delete or rename a submission (ask a maintainer instead).",
        "repository",
    ),
    Check(
        "resubmission",
        "This model revision has not been submitted or evaluated before",
        "Submit a newer commit of the model; an evaluated revision is never re-run by PR.",
        "repository",
    ),
    Check(
        "hub-access",
        "The model repository exists on the Hub, is public and is not gated",
        "Make the repository public and turn off gated access (Settings on the Hub).",
        "hub",
    ),
    Check(
        "hub-revision",
        "`revision` is a commit of the repository (not a branch or tag name)",
        "Copy the full 40-character commit SHA from the repository's history "
        "(Files and versions, History).",
        "hub",
    ),
    Check(
        "safetensors",
        "The weights are in safetensors format (pickle-only repositories are refused)",
        "Convert the weights with `model.save_pretrained(dir, safe_serialization=True)` and "
        "upload the `*.safetensors` files.",
    ),
    Check(
        "no-remote-code",
        "The model needs no custom code: no `auto_map` in its configs and no `*.py` files",
        "Use an architecture built into transformers and remove `auto_map` and `*.py` files; "
        "evaluation always runs with trust_remote_code=False.",
    ),
    Check(
        "config",
        "`config.json` loads with AutoConfig (trust_remote_code=False)",
        "Save the config with a `model_type` that the current transformers release knows.",
    ),
    Check(
        "tokenizer",
        "The tokenizer loads with AutoTokenizer from the repository's own files",
        "Upload the tokenizer files written by `tokenizer.save_pretrained(dir)`.",
    ),
    Check(
        "chat-template",
        "The chat template, if any, renders a sample message in transformers' sandbox in under "
        "2 s and 64 KB; it decides the tracks (`loglik and cot`, or `loglik only`)",
        "Fix the template (`chat_template.jinja` or tokenizer_config.json's `chat_template`, under "
        "128 KiB) so that it renders one user message with add_generation_prompt=True, or add "
        "`tracks: [loglik]` to the submission to skip the reasoning track.",
    ),
    Check(
        "architecture",
        "The architecture resolves to a transformers AutoModelForCausalLM class and "
        "instantiates (on the meta device, no weights loaded)",
        "Set `architectures` in `config.json` to the transformers causal-LM class of the model.",
    ),
    Check(
        "parameters",
        "The parameter count is read from the safetensors headers",
        "Upload complete safetensors files; their headers must list every tensor.",
    ),
)
CHECKS_BY_ID: dict[str, Check] = {check.id: check for check in CHECKS}


@dataclass(frozen=True)
class CheckResult:
    check: str  # an id from CHECKS
    status: Status
    message: str  # what was found: the evidence behind a pass, the reason for a fail or skip
    line: int | None = None  # line in the submission file, for file checks
    fix: str | None = None  # what to do instead, when the check's own `fix` does not apply

    @property
    def fix_text(self) -> str:
        """How to fix this failure: its own `fix`, else its check's."""
        return self.fix or CHECKS_BY_ID[self.check].fix

    @property
    def failed(self) -> bool:
        return self.status == "fail"


def skipped(ids: list[str], reason: str) -> list[CheckResult]:
    return [CheckResult(check_id, "skip", reason) for check_id in ids]


MODEL_CHECK_IDS = [check.id for check in CHECKS if check.stage == "model"]
HUB_CHECK_IDS = [check.id for check in CHECKS if check.stage == "hub"]
