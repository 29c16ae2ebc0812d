"""The checks that look at a model: safetensors only, no custom code, it loads with transformers.

They work on a `ModelSource`: a local directory holding config.json and the tokenizer files, the
list of every file in the repository, and (for a Hub model) the parameter counts the Hub read
from the safetensors headers. `local_model_source` makes one from a checkout on disk;
`runner.submissions.hub_checks.check_hub_model` makes one from the Hub and runs exactly the same
checks. No check ever loads weights or runs repository code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.errors import first_line
from runner.safetensors_header import safetensors_parameter_count
from runner.submissions.chat_template import check_chat_template
from runner.submissions.checks import CheckResult
from runner.untrusted_text import shorten

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# Any one of these lets AutoTokenizer build a tokenizer without running repository code.
TOKENIZER_FILE_SETS: tuple[tuple[str, ...], ...] = (
    ("tokenizer.json",),
    ("tokenizer.model",),
    ("vocab.json", "merges.txt"),
    ("vocab.txt",),
)


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


ADAPTER_FIX = (
    "Merge the adapter into its base model (peft: `model = model.merge_and_unload()`, then "
    "`model.save_pretrained(dir, safe_serialization=True)` with the tokenizer), upload the merged "
    "model to its own repository and submit that."
)
GGUF_FIX = (
    "Upload the transformers checkpoint the GGUF was made from (config.json, the tokenizer files "
    "and *.safetensors weights in the original precision) or submit the repository it came from; "
    "GGUF files are llama.cpp's format and are not evaluated."
)
PICKLE_FIX = (
    "Convert on your machine with `AutoModelForCausalLM.from_pretrained(dir)."
    "save_pretrained(dir, safe_serialization=True)` and upload the *.safetensors files (the "
    "pickle files may stay: they are never loaded)."
)


def run_model_checks(
    source: ModelSource, tracks: tuple[str, ...] | None = None
) -> list[CheckResult]:
    """Every "model" check of `CHECKS`, in order; a check whose input is missing is skipped.
    `tracks` is the submission's optional `tracks:` field."""
    if "adapter_config.json" in source.files and "config.json" not in source.files:
        return _adapter_results(source)
    config_json = _read_json_object(source.directory / "config.json")
    results = [check_safetensors(source), check_no_remote_code(source, config_json)]
    config_result, config = check_config(source, config_json)
    tokenizer_result = check_tokenizer(source)
    results += [config_result, tokenizer_result]
    results.append(_chat_template_result(source, tracks, results[1], tokenizer_result))
    if config is None:
        results.append(CheckResult("architecture", "skip", "config.json did not load"))
    else:
        results.append(check_architecture(config))
    results.append(check_parameters(source))
    return results


def _adapter_results(source: ModelSource) -> list[CheckResult]:
    """A PEFT adapter (adapter_config.json, no config.json) is not a model: one reason, said
    where it applies, and the model checks that cannot apply skipped."""
    adapter = _read_json_object(source.directory / "adapter_config.json")
    base = adapter.get("base_model_name_or_path") if isinstance(adapter, dict) else None
    of = f" of {shorten(base, 60)}" if isinstance(base, str) and base else ""
    found = f"adapter_config.json: this is a PEFT/LoRA adapter{of}, not a whole model"
    merge = "; merge the adapter into its base and submit the merged model"
    return [
        CheckResult("safetensors", "fail", found + merge, fix=ADAPTER_FIX),
        check_no_remote_code(source, "no config.json"),
        CheckResult("config", "fail", f"no config.json ({found}){merge}", fix=ADAPTER_FIX),
        check_tokenizer(source),
        CheckResult("chat-template", "skip", "an adapter is not evaluated"),
        CheckResult("architecture", "skip", "an adapter has no model config"),
        CheckResult("parameters", "skip", "an adapter's weights are not the model's"),
    ]


def _chat_template_result(
    source: ModelSource,
    tracks: tuple[str, ...] | None,
    remote_code: CheckResult,
    tokenizer: CheckResult,
) -> CheckResult:
    """The template is rendered only with a tokenizer that loads without custom code."""
    if remote_code.failed:
        return CheckResult("chat-template", "skip", "the model needs custom code")
    if tokenizer.status != "pass":
        return CheckResult("chat-template", "skip", "the tokenizer did not load")
    return check_chat_template(source.directory, tracks)


def check_safetensors(source: ModelSource) -> CheckResult:
    weights = [name for name in source.files if name.endswith(".safetensors")]
    pickles = [name for name in source.files if name.endswith(PICKLE_SUFFIXES)]
    ggufs = [name for name in source.files if name.lower().endswith(".gguf")]
    if weights:
        note = f"; pickle files are never loaded ({_listed(pickles)})" if pickles else ""
        return CheckResult("safetensors", "pass", f"{_count(weights, 'safetensors file')}{note}")
    if ggufs:
        return CheckResult(
            "safetensors",
            "fail",
            f"only GGUF weights ({_listed(ggufs)}), which are not evaluated; upload the "
            "transformers checkpoint they were made from (*.safetensors, config.json, tokenizer)",
            fix=GGUF_FIX,
        )
    if pickles:
        return CheckResult(
            "safetensors",
            "fail",
            f"pickle-only weights ({_listed(pickles)}); convert them with save_pretrained(dir, "
            "safe_serialization=True) and upload the *.safetensors files",
            fix=PICKLE_FIX,
        )
    return CheckResult("safetensors", "fail", "no weight files (*.safetensors) in the repository")


def check_no_remote_code(source: ModelSource, config_json: dict[str, Any] | str) -> CheckResult:
    """No `auto_map` in config.json (`config_json`, as `_read_json_object` read it) or
    tokenizer_config.json, and no Python files."""
    tokenizer_config = _read_json_object(source.directory / "tokenizer_config.json")
    for name, data in (("config.json", config_json), ("tokenizer_config.json", tokenizer_config)):
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


def check_config(source: ModelSource, data: dict[str, Any] | str) -> tuple[CheckResult, Any]:
    """The config check's result and the loaded `PretrainedConfig` (None when it failed);
    `data` is config.json as `_read_json_object` read it."""
    if isinstance(data, str):
        if any(name.lower().endswith(".gguf") for name in source.files):
            reason = f"{data}: a GGUF-only repository; upload the transformers checkpoint"
            return CheckResult("config", "fail", reason, fix=GGUF_FIX), None
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
        return CheckResult("config", "fail", f"AutoConfig failed: {first_line(err, 160)}"), None
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
        return CheckResult("tokenizer", "fail", f"AutoTokenizer failed: {first_line(err, 160)}")
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
        return CheckResult("architecture", "fail", f"instantiation failed: {first_line(err, 160)}")
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


def _local_parameter_count(directory: Path, weights: list[str]) -> dict[str, int]:
    total: dict[str, int] = {}
    for name in weights:
        for dtype, count in safetensors_parameter_count(directory / name).items():
            total[dtype] = total.get(dtype, 0) + count
    return total


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


def _listed(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _count(items: list[str], noun: str) -> str:
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}"


def _billions(total: int) -> str:
    return f"{total / 1e9:.2f}B" if total >= 1e8 else f"{total / 1e6:.2f}M"
