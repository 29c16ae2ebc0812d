"""What `medlb validate` checks, and the checks that look at a model.

`CHECKS` is the table of every check, in the order a report lists them: its id, what it verifies
and how a submitter fixes a failure. The site's Submit page and SUBMITTING.md are written from it.

The model checks work on a `ModelSource`: a local directory holding config.json and the tokenizer
files, the list of every file in the repository, and (for a Hub model) the parameter counts the
Hub read from the safetensors headers. `local_model_source` makes one from a checkout on disk;
`check_hub_model` makes one from the Hub (through `runner.hub`, the only module that touches the
network) and then runs exactly the same checks. No check ever loads weights or runs repository code.
"""

from __future__ import annotations

import json
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from runner.safe_yaml import shorten

Status = Literal["pass", "fail", "skip"]
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

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Any one of these lets AutoTokenizer build a tokenizer without running repository code.
TOKENIZER_FILE_SETS: tuple[tuple[str, ...], ...] = (
    ("tokenizer.json",),
    ("tokenizer.model",),
    ("vocab.json", "merges.txt"),
    ("vocab.txt",),
)
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
)
MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024  # the format's own limit on the JSON header


@dataclass(frozen=True)
class CheckResult:
    check: str  # an id from CHECKS
    status: Status
    message: str  # what was found: the evidence behind a pass, the reason for a fail or skip
    line: int | None = None  # line in the submission file, for file checks

    @property
    def failed(self) -> bool:
        return self.status == "fail"


@dataclass(frozen=True)
class ModelSource:
    """What the model checks look at (see the module docstring)."""

    directory: Path  # config.json and tokenizer files (a local checkout: everything)
    files: tuple[str, ...]  # every file in the repository, posix paths relative to its root
    hub_parameter_count: dict[str, int] | None = None  # per dtype; None: read local headers


def local_model_source(directory: Path) -> ModelSource:
    directory = Path(directory)
    files = tuple(
        sorted(
            path.relative_to(directory).as_posix()
            for path in directory.rglob("*")
            if path.is_file() and ".git" not in path.relative_to(directory).parts
        )
    )
    return ModelSource(directory=directory, files=files)


def skipped(ids: list[str], reason: str) -> list[CheckResult]:
    return [CheckResult(check_id, "skip", reason) for check_id in ids]


MODEL_CHECK_IDS = [check.id for check in CHECKS if check.stage == "model"]
HUB_CHECK_IDS = [check.id for check in CHECKS if check.stage == "hub"]


# ---- the checks on a ModelSource ---------------------------------------------------------------


def run_model_checks(source: ModelSource) -> list[CheckResult]:
    """Every "model" check of `CHECKS`, in order; a check whose input is missing is skipped."""
    results = [check_safetensors(source), check_no_remote_code(source)]
    config_result, config = check_config(source)
    results += [config_result, check_tokenizer(source)]
    if config is None:
        results.append(CheckResult("architecture", "skip", "config.json did not load"))
    else:
        results.append(check_architecture(config))
    results.append(check_parameters(source))
    return results


def check_safetensors(source: ModelSource) -> CheckResult:
    weights = [name for name in source.files if name.endswith(".safetensors")]
    pickles = [name for name in source.files if name.endswith(PICKLE_SUFFIXES)]
    if weights:
        note = f"; pickle files are never loaded ({_listed(pickles)})" if pickles else ""
        return CheckResult("safetensors", "pass", f"{_count(weights, 'safetensors file')}{note}")
    if pickles:
        return CheckResult(
            "safetensors",
            "fail",
            f"pickle-only weights ({_listed(pickles)}); upload the weights as *.safetensors",
        )
    return CheckResult("safetensors", "fail", "no weight files (*.safetensors) in the repository")


def check_no_remote_code(source: ModelSource) -> CheckResult:
    for name in ("config.json", "tokenizer_config.json"):
        data = _read_json_object(source.directory / name)
        if isinstance(data, dict) and "auto_map" in data:
            return CheckResult(
                "no-remote-code",
                "fail",
                f"{name} has auto_map (custom code); the model must load with "
                "trust_remote_code=False",
            )
    code = [name for name in source.files if name.endswith(".py")]
    if code:
        return CheckResult(
            "no-remote-code",
            "fail",
            f"the repository contains Python files ({_listed(code)}); custom code is never run",
        )
    return CheckResult(
        "no-remote-code", "pass", "no auto_map in config.json or tokenizer_config.json, no *.py"
    )


def check_config(source: ModelSource) -> tuple[CheckResult, Any]:
    """The config check's result and the loaded `PretrainedConfig` (None when it failed)."""
    data = _read_json_object(source.directory / "config.json")
    if isinstance(data, str):
        return CheckResult("config", "fail", data), None
    transformers = _import_transformers()
    if transformers is None:
        return CheckResult("config", "fail", _NEEDS_EVAL_EXTRA), None
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    model_type = data.get("model_type")
    if not isinstance(model_type, str):
        return CheckResult("config", "fail", "config.json has no model_type"), None
    if model_type not in CONFIG_MAPPING_NAMES:
        return CheckResult(
            "config",
            "fail",
            f"model_type {shorten(model_type)} is not built into transformers "
            f"{transformers.__version__}",
        ), None
    try:
        config = transformers.AutoConfig.from_pretrained(
            source.directory, trust_remote_code=False, local_files_only=True
        )
    except Exception as err:  # any failure inside transformers is the checkpoint's problem
        return CheckResult("config", "fail", f"AutoConfig failed: {_first_line(err)}"), None
    return CheckResult(
        "config", "pass", f"{type(config).__name__} (model_type {model_type}) loads"
    ), config


def check_tokenizer(source: ModelSource) -> CheckResult:
    present = set(source.files)
    if not any(all(name in present for name in group) for group in TOKENIZER_FILE_SETS) and not any(
        name.endswith(".tiktoken") for name in present
    ):
        return CheckResult(
            "tokenizer",
            "fail",
            "no tokenizer files (tokenizer.json, tokenizer.model, vocab.json + merges.txt, "
            "vocab.txt or *.tiktoken)",
        )
    transformers = _import_transformers()
    if transformers is None:
        return CheckResult("tokenizer", "fail", _NEEDS_EVAL_EXTRA)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            source.directory, trust_remote_code=False, local_files_only=True
        )
    except Exception as err:  # any failure inside transformers is the checkpoint's problem
        return CheckResult("tokenizer", "fail", f"AutoTokenizer failed: {_first_line(err)}")
    return CheckResult(
        "tokenizer", "pass", f"{type(tokenizer).__name__} loads, {len(tokenizer):,} tokens"
    )


def check_architecture(config: Any) -> CheckResult:
    """The config's class resolves to a causal-LM class that builds on the meta device."""
    try:
        import torch
    except ImportError:
        return CheckResult("architecture", "fail", _NEEDS_EVAL_EXTRA)
    import transformers  # present: the config check loaded the config with it
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    listed = list(getattr(config, "architectures", None) or [])
    if not listed:
        return CheckResult("architecture", "fail", "config.json lists no architectures")
    named = str(listed[0])
    if not hasattr(transformers, named):
        return CheckResult(
            "architecture", "fail", f"architecture {shorten(named)} is not a transformers class"
        )
    if config.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        return CheckResult(
            "architecture",
            "fail",
            f"model_type {config.model_type} has no AutoModelForCausalLM class",
        )
    try:
        with torch.device("meta"):  # shapes only: no memory, no weights read
            model = transformers.AutoModelForCausalLM.from_config(config, trust_remote_code=False)
    except Exception as err:  # any failure inside transformers is the checkpoint's problem
        return CheckResult("architecture", "fail", f"instantiation failed: {_first_line(err)}")
    resolved = type(model).__name__
    params = sum(param.numel() for param in model.parameters())
    note = "" if resolved == named else f" (config lists {shorten(named)})"
    return CheckResult(
        "architecture",
        "pass",
        f"{resolved}{note} instantiates on the meta device: {params:,} parameters",
    )


def check_parameters(source: ModelSource) -> CheckResult:
    counts = source.hub_parameter_count
    where = "the Hub's safetensors metadata"
    if counts is None:
        weights = [name for name in source.files if name.endswith(".safetensors")]
        if not weights:
            return CheckResult("parameters", "skip", "no safetensors files to read")
        where = f"{_count(weights, 'safetensors header')}"
        try:
            counts = _local_parameter_count(source.directory, weights)
        except ValueError as err:
            return CheckResult("parameters", "fail", str(err))
    total = sum(counts.values())
    if total <= 0:
        return CheckResult("parameters", "fail", "the safetensors headers list no tensors")
    dtypes = ", ".join(f"{dtype} {count:,}" for dtype, count in sorted(counts.items()))
    return CheckResult(
        "parameters", "pass", f"{total:,} parameters ({_billions(total)}; {dtypes}) from {where}"
    )


def safetensors_parameter_count(path: Path) -> dict[str, int]:
    """Parameters per dtype from one safetensors file's JSON header; the tensors are not read."""
    try:
        with Path(path).open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) != 8:
                raise ValueError(f"{path.name}: not a safetensors file (too short)")
            (length,) = struct.unpack("<Q", prefix)
            if length > MAX_SAFETENSORS_HEADER:
                raise ValueError(f"{path.name}: safetensors header of {length:,} bytes is too big")
            header = json.loads(handle.read(length).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(
            f"{path.name}: unreadable safetensors header ({type(err).__name__})"
        ) from err
    counts: dict[str, int] = {}
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        elements = 1
        for size in tensor["shape"]:
            elements *= int(size)
        counts[tensor["dtype"]] = counts.get(tensor["dtype"], 0) + elements
    return counts


def _local_parameter_count(directory: Path, weights: list[str]) -> dict[str, int]:
    total: dict[str, int] = {}
    for name in weights:
        for dtype, count in safetensors_parameter_count(directory / name).items():
            total[dtype] = total.get(dtype, 0) + count
    return total


# ---- the Hub -----------------------------------------------------------------------------------


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


def check_hub_model(repo_id: str, revision: str) -> list[CheckResult]:
    """The hub checks, then the model checks on the repository's small files and Hub metadata."""
    from runner import hub

    try:
        repo = hub.fetch_model_repo(repo_id, revision)
    except hub.HubLookupError as err:
        failed = "hub-revision" if err.kind == "revision" else "hub-access"
        results = [CheckResult(failed, "fail", str(err))]
        others = [check_id for check_id in HUB_CHECK_IDS if check_id != failed]
        return results + skipped(others + MODEL_CHECK_IDS, "the Hub lookup failed")
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
        except hub.HubLookupError as err:
            return [
                *results,
                CheckResult("hub-access", "fail", str(err)),
                *skipped(MODEL_CHECK_IDS, "the Hub files could not be read"),
            ]
        source = ModelSource(Path(tmp), repo.files, counts)
        return results + run_model_checks(source)


# ---- helpers for messages ----------------------------------------------------------------------

_NEEDS_EVAL_EXTRA = "transformers is not installed: pip install 'medlb[eval]'"


def _import_transformers() -> Any:
    try:
        import transformers
    except ImportError:
        return None
    transformers.logging.set_verbosity_error()  # the report says what matters; no library chatter
    return transformers


def _read_json_object(path: Path) -> dict[str, Any] | str:
    """The JSON object in `path`, or a one-line reason why there is none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"no {path.name}"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return f"{path.name} is not valid JSON ({type(err).__name__})"
    if not isinstance(data, dict):
        return f"{path.name} is not a JSON object"
    return data


def _is_tiktoken(name: str) -> bool:
    return "/" not in name and name.endswith(".tiktoken")


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:160]


def _listed(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _count(items: list[str], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _billions(total: int) -> str:
    return f"{total / 1e9:.2f}B" if total >= 1e8 else f"{total / 1e6:.2f}M"
