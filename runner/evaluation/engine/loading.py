"""Loading a model for scoring: safetensors only, no remote code, lm-eval's context window.

`load_model` turns a local directory or a pinned Hub id into a `LoadedModel`. Why these choices
keep the scores lm-eval's: see the package docstring (`runner.evaluation.engine`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import UsageError, UserError, first_line
from runner.precision import PRECISIONS
from runner.safetensors_header import safetensors_parameter_count

DEVICES = ("cpu", "cuda")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

# lm-eval's `resolve_max_length`: the config attributes that carry the context window, in order,
# then the tokenizer's `model_max_length` unless it is transformers' "unset" sentinel, then 2048.
_SEQLEN_CONFIG_ATTRS = ("n_positions", "max_position_embeddings", "n_ctx")
_TOKENIZER_INFINITY = int(1e30)
_DEFAULT_MAX_LENGTH = 2048

# Leave headroom on the GPU for activations when deciding whether the weights fit on one device.
_SINGLE_GPU_WEIGHT_FRACTION = 0.8


@dataclass
class PrefixCacheCheck:
    """Whether this model's KV cache reproduces full forward passes: None until first needed."""

    agrees: bool | None = None


@dataclass(frozen=True)
class LoadedModel:
    """A causal LM ready to score: the model in eval mode, its tokenizer, and where inputs go."""

    model: Any  # transformers.PreTrainedModel
    tokenizer: Any  # transformers.PreTrainedTokenizerBase (fast when the model ships one)
    input_device: Any  # torch.device of the input embedding (differs per layer under device_map)
    dtype: str
    max_length: int  # lm-eval's max_length: longer inputs are truncated from the left
    architecture: str | None
    prefix_cache: PrefixCacheCheck = field(default_factory=PrefixCacheCheck, compare=False)


def load_model(
    source: str | Path,
    *,
    revision: str | None = None,
    device: str = "cpu",
    dtype: str = "float32",
) -> LoadedModel:
    """Load a local model directory, or a Hub id at the pinned commit `revision`.

    Safetensors weights only, `trust_remote_code=False`, SDPA attention where the architecture has
    it; on CUDA a model too large for one GPU is spread with `device_map="auto"` (accelerate).
    """
    return load_model_dir(resolve_model_dir(source, revision), device=device, dtype=dtype)


def load_model_dir(
    directory: Path, *, device: str = "cpu", dtype: str = "float32", params: int | None = None
) -> LoadedModel:
    """`load_model` for a directory `resolve_model_dir` has already checked; `params` is its
    `safetensors_param_count` when the caller has it already (else read when CUDA needs it)."""
    import torch

    check_device(device, dtype)
    config = _load_config(directory)
    tokenizer = _load_tokenizer(directory)
    torch_dtype = getattr(torch, dtype)
    device_map = _device_map(directory, device, torch_dtype, params)
    model = _load_weights(directory, config, torch_dtype, device_map)
    model.eval()
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        input_device=model.get_input_embeddings().weight.device,
        dtype=dtype,
        max_length=lm_eval_max_length(config, tokenizer),
        architecture=(getattr(config, "architectures", None) or [None])[0],
    )


def default_device() -> str:
    """cuda when torch sees a GPU, else cpu (`medlb evaluate` without --device)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def quiet_transformers() -> None:
    """No library chatter between medlb's own lines: long prompts trigger "sequence length is
    longer than the maximum" warnings (the engine truncates exactly as lm-eval does), and shard
    progress bars add noise to CI logs."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()


def check_device(device: str, dtype: str) -> None:
    """Refuse an unknown dtype or device, or CUDA without a GPU, before any work starts."""
    import torch

    if dtype not in PRECISIONS:
        raise UsageError(f"--dtype: {dtype!r} is not one of {', '.join(PRECISIONS)}")
    if device not in DEVICES:
        raise UsageError(f"--device: {device!r} is not one of {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA GPU is visible to torch")


def check_model_source(source: str | Path, revision: str | None) -> bool:
    """Whether `source` is a Hub id (True) or a local directory (False), refusing anything else
    and a --revision that does not fit; cheap, so a run checks it before reading any data."""
    path = Path(source)
    if path.is_dir():
        if revision is not None:
            raise UsageError(f"--revision applies to a Hub id, not to the local directory {path}")
        return False
    if isinstance(source, str) and HUB_ID.match(source) and not path.exists():
        if not revision:
            raise UsageError(f"--model {source}: a Hub model needs --revision (a commit SHA)")
        return True
    raise UserError(f"--model {source}: no such directory (and not a Hub id 'org/name')")


def resolve_model_dir(source: str | Path, revision: str | None) -> Path:
    """A local directory as is; a Hub id downloaded at `revision`. Either must hold safetensors."""
    if check_model_source(source, revision):
        from runner.hub import download_model

        try:
            directory = Path(download_model(str(source), revision))
        except OSError as err:  # huggingface_hub's errors (not found, gated, offline) are OSErrors
            raise UserError(f"{source}@{revision}: cannot download ({first_line(err)})") from None
    else:
        directory = Path(source)
    if not any(directory.glob("*.safetensors")):
        raise UserError(
            f"{directory}: no *.safetensors weights (medlb loads safetensors only; "
            "pickled .bin weights can run code when loaded)"
        )
    return directory


def _load_config(directory: Path) -> Any:
    from transformers import AutoConfig

    try:
        return AutoConfig.from_pretrained(directory, trust_remote_code=False)
    except (OSError, ValueError, KeyError) as err:
        raise UserError(f"{directory}/config.json: cannot load ({first_line(err)})") from None


def _load_tokenizer(directory: Path) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(directory, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError, KeyError) as err:
        raise UserError(f"{directory}: cannot load the tokenizer ({first_line(err)})") from None


def _device_map(directory: Path, device: str, torch_dtype: Any, params: int | None) -> str | None:
    """None on CPU; on CUDA the first GPU, or accelerate's "auto" (spread over every GPU, then
    CPU memory) when the weights do not fit one GPU with room left for activations."""
    import torch

    if device != "cuda":
        return None
    if params is None:
        params = safetensors_param_count(directory)
    weight_bytes = params * torch.empty((), dtype=torch_dtype).itemsize
    gpu_bytes = torch.cuda.get_device_properties(0).total_memory
    return "auto" if weight_bytes > _SINGLE_GPU_WEIGHT_FRACTION * gpu_bytes else "cuda:0"


def _load_weights(directory: Path, config: Any, torch_dtype: Any, device_map: str | None) -> Any:
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {
        "config": config,  # already parsed; not read again
        "dtype": torch_dtype,
        "trust_remote_code": False,
        "use_safetensors": True,
    }
    if device_map is not None:
        kwargs["device_map"] = device_map
    try:
        try:
            return AutoModelForCausalLM.from_pretrained(
                directory, attn_implementation="sdpa", **kwargs
            )
        except (ValueError, ImportError):
            # The architecture has no SDPA kernel: its default attention gives the same numbers.
            return AutoModelForCausalLM.from_pretrained(directory, **kwargs)
    except (OSError, ValueError, KeyError) as err:
        raise UserError(f"{directory}: cannot load the model ({first_line(err)})") from None


def safetensors_param_count(directory: Path) -> int:
    """Parameters counted from the safetensors headers (shapes only; no weights are read)."""
    total = 0
    for path in sorted(Path(directory).glob("*.safetensors")):
        try:
            total += sum(safetensors_parameter_count(path).values())
        except ValueError as err:
            raise UserError(f"{directory}/{err}") from None
    return total


def lm_eval_max_length(config: Any, tokenizer: Any) -> int:
    """lm-eval's `resolve_max_length(config, tokenizer)` with its default of 2048."""
    text_config = getattr(config, "text_config", None) or config
    for attr in _SEQLEN_CONFIG_ATTRS:
        value = getattr(text_config, attr, None)
        if value is not None:
            return int(value)
    model_max_length = getattr(tokenizer, "model_max_length", None)
    if model_max_length is not None and model_max_length != _TOKENIZER_INFINITY:
        return int(model_max_length)
    return _DEFAULT_MAX_LENGTH
