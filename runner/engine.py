"""The evaluation engine: per-choice log-likelihoods exactly as lm-eval 0.4.13 computes them, fast.

`load_model` turns a local directory or a pinned Hub id into a `LoadedModel`; `score_items` returns,
for every item and choice, the summed log-probability of the continuation tokens given the context.

Exactness (lm-eval's `HFLM.loglikelihood` / `_loglikelihood_tokens`, read from its source):
- trailing spaces of the context move to the continuation; `whole = encode(context + continuation)`,
  `ctx = encode(context)`, continuation tokens are `whole[len(ctx):]`;
- `encode` uses the tokenizer's own special-token default, except that a string which already
  starts with the decoded prefix token (BOS, else EOS) is encoded without special tokens;
- an empty context is the prefix token (unless the continuation already starts with it);
- the model input is `(ctx + cont)[-(max_length + 1):][:-1]`, and the scored positions are the last
  `len(cont)` positions of that input.

Speed (DESIGN §5), without changing any of the above:
- when every choice of an item is one token, all choices are read from ONE forward pass over the
  context (the input is the same for each choice: `ctx[-max_length:]`);
- the LM head runs only at the scored positions (a forward pre-hook on the output embedding gathers
  them before the vocabulary projection), and log-softmax is taken in float32 on those rows only;
- sequences are sorted by length (longest first, so an out-of-memory error comes at once) and
  packed into batches by a token budget, right-padded with an attention mask; on
  `torch.OutOfMemoryError` the budget halves and the same batch is retried in smaller pieces;
- identical token sequences (repeated questions; a choice whose sequence is another item's
  context) run once, as lm-eval's "contexts" cache does;
- the tokens that every sequence of a task starts with (MMLU's "The following are multiple choice
  questions (with answers) about anatomy.\n\n": a fifth of the benchmark's tokens) run once per
  task, and each batch continues from their key/value cache (see "Shared prefix" below);
- bulk calls to the fast tokenizer, `torch.inference_mode()`.

Shared prefix, and why it is exact. In a causal decoder the hidden states (hence the keys and
values) at positions `0..P-1` depend only on the tokens at `0..P-1`. When every sequence of a task
starts with the same P tokens and no log-probability is read before position P, running those P
tokens once (batch of one, `use_cache=True`) and running each sequence's remaining tokens with
that cache copied to every row of the batch, at positions `P, P+1, ...` (transformers derives them
from the cache length), with the attention mask covering prefix and suffix, computes the same
function as running the whole sequences. Right padding stays after each sequence's last token, as
before. Only float rounding can differ, because the prefix's matrix products have other shapes:
in float32 about 1e-6 on the test models, and up to 1.4e-4 on the benchmark's random 20M Llama
(log-probabilities near -21), where changing only the batch composition already moves them by
up to 9e-5. Left-truncated contexts lose the prefix, and then nothing is shared. The argument
assumes a plain causal KV cache, so the first time a model meets a shared prefix its longest and
shortest sequences are scored both ways; if any log-probability differs by more than
`PREFIX_CHECK_TOLERANCE` (or the model returns no cache that can be repeated over a batch), the
model never uses the shortcut again. The lm-eval parity test (tests/test_parity.py, |Δ| <= 1e-4
per choice) runs the six MMLU tasks through this path on all three of its models (Llama, GPT-2,
and the several-token-continuation case).
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import UsageError, UserError
from runner.tasks import Item

DTYPES = ("float32", "bfloat16", "float16")
DEVICES = ("cpu", "cuda")
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

# lm-eval's `resolve_max_length`: the config attributes that carry the context window, in order,
# then the tokenizer's `model_max_length` unless it is transformers' "unset" sentinel, then 2048.
_SEQLEN_CONFIG_ATTRS = ("n_positions", "max_position_embeddings", "n_ctx")
_TOKENIZER_INFINITY = int(1e30)
_DEFAULT_MAX_LENGTH = 2048

# Token budgets (padded tokens per forward pass). On CPU larger batches stop paying off early; on
# a GPU the budget starts high and halves on out-of-memory until it fits.
CPU_TOKEN_BUDGET = 2048
CUDA_TOKEN_BUDGET = 65536

# A shared prefix shorter than this is not worth the extra forward pass and the cache copies.
MIN_SHARED_PREFIX_TOKENS = 16
# What a model's forward calls its KV cache (argument and output): transformers 5, then 4.
_CACHE_ARGUMENTS = ("cache", "past_key_values")
# What a model whose cache does not work the usual way raises when given or asked for one.
_NO_USABLE_CACHE = (TypeError, ValueError, NotImplementedError, RuntimeError, IndexError)
# Largest |log-probability difference| between the cached and uncached paths that the one-time
# check accepts: float32 rounding is about 1e-6; bfloat16/float16 rounding alone reaches 1e-2.
PREFIX_CHECK_TOLERANCE = {"float32": 1e-4, "bfloat16": 0.1, "float16": 0.1}

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
    directory: Path  # the local snapshot the weights came from
    input_device: Any  # torch.device of the input embedding (differs per layer under device_map)
    dtype: str
    max_length: int  # lm-eval's max_length: longer inputs are truncated from the left
    architecture: str | None
    vocab_size: int | None  # the model's (embedding rows), not the tokenizer's
    prefix_cache: PrefixCacheCheck = field(default_factory=PrefixCacheCheck, compare=False)


# ---- loading -------------------------------------------------------------------------------------


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


def load_model_dir(directory: Path, *, device: str = "cpu", dtype: str = "float32") -> LoadedModel:
    """`load_model` for a directory `resolve_model_dir` has already checked."""
    import torch

    check_device(device, dtype)
    config = _load_config(directory)
    tokenizer = _load_tokenizer(directory)
    torch_dtype = getattr(torch, dtype)
    device_map = _device_map(directory, device, torch_dtype)
    model = _load_weights(directory, config, torch_dtype, device_map)
    model.eval()
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        directory=directory,
        input_device=model.get_input_embeddings().weight.device,
        dtype=dtype,
        max_length=lm_eval_max_length(config, tokenizer),
        architecture=(getattr(config, "architectures", None) or [None])[0],
        vocab_size=getattr(config, "vocab_size", None),
    )


def check_device(device: str, dtype: str) -> None:
    """Refuse an unknown dtype or device, or CUDA without a GPU, before any work starts."""
    import torch

    if dtype not in DTYPES:
        raise UsageError(f"--dtype: {dtype!r} is not one of {', '.join(DTYPES)}")
    if device not in DEVICES:
        raise UsageError(f"--device: {device!r} is not one of {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA GPU is visible to torch")


def resolve_model_dir(source: str | Path, revision: str | None) -> Path:
    """A local directory as is; a Hub id downloaded at `revision`. Either must hold safetensors."""
    path = Path(source)
    if path.is_dir():
        if revision is not None:
            raise UsageError(f"--revision applies to a Hub id, not to the local directory {path}")
        directory = path
    elif isinstance(source, str) and HUB_ID.match(source) and not path.exists():
        if not revision:
            raise UsageError(f"--model {source}: a Hub model needs --revision (a commit SHA)")
        from runner.hub import download_model

        try:
            directory = Path(download_model(source, revision))
        except OSError as err:  # huggingface_hub's errors (not found, gated, offline) are OSErrors
            raise UserError(f"{source}@{revision}: cannot download ({_first_line(err)})") from None
    else:
        raise UserError(f"--model {source}: no such directory (and not a Hub id 'org/name')")
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
        raise UserError(f"{directory}/config.json: cannot load ({_first_line(err)})") from None


def _load_tokenizer(directory: Path) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(directory, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError, KeyError) as err:
        raise UserError(f"{directory}: cannot load the tokenizer ({_first_line(err)})") from None


def _device_map(directory: Path, device: str, torch_dtype: Any) -> str | None:
    """None on CPU; on CUDA the first GPU, or accelerate's "auto" (spread over every GPU, then
    CPU memory) when the weights do not fit one GPU with room left for activations."""
    import torch

    if device != "cuda":
        return None
    weight_bytes = safetensors_param_count(directory) * torch.empty((), dtype=torch_dtype).itemsize
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
        raise UserError(f"{directory}: cannot load the model ({_first_line(err)})") from None


def safetensors_param_count(directory: Path) -> int:
    """Parameters counted from the safetensors headers (shapes only; no weights are read)."""
    from runner.model_checks import safetensors_parameter_count

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


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:200]


# ---- requests: items -> token sequences to run ---------------------------------------------------


@dataclass(frozen=True)
class _Forward:
    """One sequence through the model and the log-probabilities to read from its output.

    `reads[k] = (item, choice, position, token)`: add log p(token | tokens[:position + 1]) to the
    score of `choice` of `item`.
    """

    tokens: list[int]
    reads: list[tuple[int, int, int, int]]

    @property
    def positions(self) -> list[int]:
        return sorted({position for _, _, position, _ in self.reads})

    @property
    def items(self) -> set[int]:
        return {item for item, _, _, _ in self.reads}

    def sum_by_choice(self, logprobs: Any) -> list[tuple[int, int, float]]:
        """`(item, choice, score)` from the read log-probabilities (a float32 tensor, one per
        read): a continuation's tokens are summed in float32, as lm-eval sums them."""
        groups: dict[tuple[int, int], list[int]] = {}
        for k, (item, choice, _, _) in enumerate(self.reads):
            groups.setdefault((item, choice), []).append(k)
        return [(i, c, float(logprobs[ks].sum())) for (i, c), ks in groups.items()]


@dataclass(frozen=True)
class ScoringPlan:
    forwards: list[_Forward]
    choice_counts: list[int]  # choices per item
    multi_token_items: int  # items scored with one sequence per choice (slow path)


def plan_requests(tokenizer: Any, items: Sequence[Item], max_length: int) -> ScoringPlan:
    """The forward passes that score `items`: one per item when every choice is one token."""
    forwards: list[_Forward] = []
    multi_token_items = 0
    for index, (item, pairs) in enumerate(zip(items, encode_pairs(tokenizer, items), strict=True)):
        if any(not cont for _, cont in pairs):
            raise ValueError(f"item {item.doc_id}: a continuation encodes to no tokens")
        contexts = {tuple(ctx) for ctx, _ in pairs}
        if len(contexts) == 1 and all(len(cont) == 1 for _, cont in pairs):
            # (ctx + [t])[-(max_length + 1):][:-1] == ctx[-max_length:] for every choice t.
            tokens = pairs[0][0][-max_length:]
            last = len(tokens) - 1
            reads = [(index, choice, last, cont[0]) for choice, (_, cont) in enumerate(pairs)]
            forwards.append(_Forward(tokens=tokens, reads=reads))
        else:
            multi_token_items += 1
            forwards.extend(_continuation_forwards(index, pairs, max_length))
    return ScoringPlan(
        forwards=_merge_identical(forwards),
        choice_counts=[len(item.continuations) for item in items],
        multi_token_items=multi_token_items,
    )


def encode_pairs(tokenizer: Any, items: Sequence[Item]) -> list[list[tuple[list[int], list[int]]]]:
    """Per item, per choice: lm-eval's `(context_enc, continuation_enc)`, in three bulk calls."""
    prefix_id = _prefix_token_id(tokenizer)
    prefix_text = tokenizer.decode(prefix_id)
    contexts: list[str] = []
    wholes: list[str] = []
    bare_continuations: list[str] = []  # continuations of empty contexts
    for item in items:
        if item.context:
            context, moved = _split_trailing_space(item.context)
            contexts.append(context)
            wholes.extend(context + moved + cont for cont in item.continuations)
        else:
            bare_continuations.extend(item.continuations)
    context_ids = iter(_encode(tokenizer, contexts, prefix_text))
    whole_ids = iter(_encode(tokenizer, wholes, prefix_text))
    bare_ids = iter(_encode(tokenizer, bare_continuations, None))
    pairs = []
    for item in items:
        if item.context:
            ctx = next(context_ids)
            pairs.append([(ctx, next(whole_ids)[len(ctx) :]) for _ in item.continuations])
        else:
            pairs.append(
                [_empty_context_pair(next(bare_ids), prefix_id) for _ in item.continuations]
            )
    return pairs


def _merge_identical(forwards: list[_Forward]) -> list[_Forward]:
    """One forward per distinct token sequence (repeated questions, lm-eval's "contexts" cache)."""
    merged: dict[tuple[int, ...], _Forward] = {}
    for forward in forwards:
        key = tuple(forward.tokens)
        earlier = merged.get(key)
        merged[key] = (
            forward if earlier is None else _Forward(forward.tokens, earlier.reads + forward.reads)
        )
    return list(merged.values())


def _continuation_forwards(
    index: int, pairs: list[tuple[list[int], list[int]]], max_length: int
) -> list[_Forward]:
    """lm-eval's general case: one sequence per choice, scored on its last len(cont) positions."""
    forwards = []
    for choice, (ctx, cont) in enumerate(pairs):
        tokens = (ctx + cont)[-(max_length + 1) :][:-1]
        start = len(tokens) - len(cont)
        reads = [(index, choice, start + j, token) for j, token in enumerate(cont)]
        forwards.append(_Forward(tokens=tokens, reads=reads))
    return forwards


def _split_trailing_space(context: str) -> tuple[str, str]:
    stripped = context.rstrip()
    return stripped, context[len(stripped) :]


def _prefix_token_id(tokenizer: Any) -> int:
    # lm-eval's `prefix_token_id`: BOS, else EOS.
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def _empty_context_pair(cont: list[int], prefix_id: int) -> tuple[list[int], list[int]]:
    return ([prefix_id], cont) if cont[0] != prefix_id else (cont[:1], cont[1:])


def _encode(tokenizer: Any, texts: list[str], prefix_text: str | None) -> list[list[int]]:
    """Bulk encode. `prefix_text=None`: no special tokens at all (lm-eval's empty-context case);
    otherwise the tokenizer's default, except for texts already starting with `prefix_text`."""
    if not texts:
        return []
    if prefix_text is None:
        return tokenizer(texts, add_special_tokens=False)["input_ids"]
    own = [i for i, text in enumerate(texts) if text.startswith(prefix_text)]
    encoded = tokenizer(texts)["input_ids"]
    if own:
        plain = tokenizer([texts[i] for i in own], add_special_tokens=False)["input_ids"]
        for i, ids in zip(own, plain, strict=True):
            encoded[i] = ids
    return encoded


# ---- running: batches under a token budget -------------------------------------------------------


@dataclass
class TokenBudget:
    """Padded tokens (longest sequence x sequences) one forward pass may hold.

    `max_sequences` caps the batch size (`--batch-size N`). On out-of-memory the engine halves
    `tokens` and retries; `before_forward` is where a device's memory limit shows up, and a test
    overrides it to make the engine meet a smaller "device" without a GPU.
    """

    tokens: int
    max_sequences: int | None = None
    backoffs: int = field(default=0)

    def batch_size_for(self, longest: int) -> int:
        fitting = max(1, self.tokens // max(1, longest))
        return min(fitting, self.max_sequences) if self.max_sequences else fitting

    def before_forward(self, sequences: int, padded_tokens: int) -> None:
        """Called with each batch's shape right before its forward pass."""

    def shrink(self, sequences: int, longest: int) -> None:
        """After an out-of-memory error on a batch of `sequences` x `longest` tokens."""
        if sequences <= 1:
            raise UserError(
                f"out of device memory on a single sequence of {longest} tokens; "
                "use a device with more memory or --dtype bfloat16"
            )
        self.tokens = max(longest, (sequences * longest) // 2)
        if self.max_sequences:
            self.max_sequences = max(1, min(self.max_sequences, sequences // 2))
        self.backoffs += 1
        print(
            f"medlb: out of memory at {sequences} x {longest} tokens; "
            f"retrying with a budget of {self.tokens} tokens",
            file=sys.stderr,
        )


def default_token_budget(lm: LoadedModel, batch_size: int | None = None) -> TokenBudget:
    """`--batch-size auto`: a token budget per device; `--batch-size N`: at most N sequences."""
    base = CUDA_TOKEN_BUDGET if lm.input_device.type == "cuda" else CPU_TOKEN_BUDGET
    if batch_size is not None:
        return TokenBudget(tokens=batch_size * lm.max_length, max_sequences=batch_size)
    return TokenBudget(tokens=base)


@dataclass(frozen=True)
class TaskScores:
    choice_logprobs: list[list[float]]  # per item, per choice
    model_tokens: int  # tokens run through the model (unpadded; a shared prefix counts once)
    multi_token_items: int


def score_items(
    lm: LoadedModel,
    items: Sequence[Item],
    *,
    token_budget: int | TokenBudget | None = None,
    progress: str | None = None,
    share_prefix: bool = True,
) -> list[list[float]]:
    """Per item, per choice: summed log-likelihood of the continuation tokens (lm-eval-exact)."""
    return score_task(
        lm, items, token_budget=token_budget, progress=progress, share_prefix=share_prefix
    ).choice_logprobs


def score_task(
    lm: LoadedModel,
    items: Sequence[Item],
    *,
    token_budget: int | TokenBudget | None = None,
    progress: str | None = None,
    share_prefix: bool = True,
) -> TaskScores:
    """`score_items` plus the counts a results file reports. `progress`: the bar's label.
    `share_prefix=False` runs every sequence whole (no shared-prefix cache)."""
    import torch
    from tqdm import tqdm

    if isinstance(token_budget, TokenBudget):
        budget = token_budget
    elif token_budget is None:
        budget = default_token_budget(lm)
    else:
        budget = TokenBudget(tokens=token_budget)
    plan = plan_requests(lm.tokenizer, items, lm.max_length)
    scores = [[0.0] * n for n in plan.choice_counts]
    # Longest first: the first batch is the largest, so memory trouble shows at once (lm-eval's
    # order too); ties keep item order, so the batches and hence the bytes are reproducible.
    order = sorted(plan.forwards, key=lambda f: -len(f.tokens))
    pending = [0] * len(items)  # forwards left per item, for the progress bar
    for forward in order:
        for item in forward.items:
            pending[item] += 1
    bar = tqdm(
        total=len(items), desc=progress, unit="item", file=sys.stderr, disable=progress is None
    )
    start = 0
    with torch.inference_mode(), bar:
        prefix = _shared_prefix(lm, order) if share_prefix else None
        while start < len(order):
            size = budget.batch_size_for(len(order[start].tokens))
            batch = order[start : start + size]
            values = None
            try:
                budget.before_forward(len(batch), len(batch) * len(batch[0].tokens))
                values = _run_batch(lm, batch, prefix)
            except torch.OutOfMemoryError:
                pass  # handled below, once the exception (and the frames holding memory) is gone
            if values is None:
                _release_cuda_memory()
                budget.shrink(len(batch), len(batch[0].tokens))
                continue
            for item, choice, value in values:
                scores[item][choice] += value
            for forward in batch:
                for item in forward.items:
                    pending[item] -= 1
                    bar.update(pending[item] == 0)
            start += len(batch)
    shared = 0 if prefix is None else prefix.length * (len(order) - 1)
    return TaskScores(
        choice_logprobs=scores,
        model_tokens=sum(len(f.tokens) for f in plan.forwards) - shared,
        multi_token_items=plan.multi_token_items,
    )


# ---- the shared prefix: run once, continued from its KV cache ------------------------------------


@dataclass(frozen=True)
class _SharedPrefix:
    """The first `length` tokens of every sequence of a task, already run: their KV cache."""

    length: int
    cache: Any  # transformers.Cache of a batch of one; copied, never extended
    argument: str  # the forward's name for it: "cache" (transformers 5), "past_key_values" before

    def cache_for(self, rows: int) -> Any:
        """A fresh copy for a batch of `rows` (the forward pass appends to the cache it gets)."""
        cache = copy.deepcopy(self.cache)
        cache.batch_repeat_interleave(rows)
        return cache


def shared_prefix_length(forwards: Sequence[_Forward]) -> int:
    """Tokens that start every sequence and precede every read; 0 below the useful minimum."""
    if len(forwards) < 2:
        return 0
    # The prefix all sequences share is the one the lexicographically first and last share.
    low, high = min(f.tokens for f in forwards), max(f.tokens for f in forwards)
    pairs = enumerate(zip(low, high, strict=False))  # `low` may be a prefix of `high`
    common = next((k for k, (a, b) in pairs if a != b), len(low))
    first_read = min(position for f in forwards for _, _, position, _ in f.reads)
    length = min(common, first_read)
    return length if length >= MIN_SHARED_PREFIX_TOKENS else 0


def _shared_prefix(lm: LoadedModel, forwards: list[_Forward]) -> _SharedPrefix | None:
    """The task's shared prefix, run once, if it is long enough and this model's cache agrees
    with full forward passes (checked the first time, see the module docstring)."""
    length = shared_prefix_length(forwards)
    if not length or lm.prefix_cache.agrees is False:
        return None
    prefix = _run_prefix(lm, forwards[0].tokens[:length])
    if lm.prefix_cache.agrees is None:
        lm.prefix_cache.agrees = prefix is not None and _prefix_cache_agrees(lm, forwards, prefix)
    return prefix if lm.prefix_cache.agrees else None


def _run_prefix(lm: LoadedModel, tokens: list[int]) -> _SharedPrefix | None:
    import inspect

    import torch

    # The class's forward: accelerate (device_map="auto") wraps the instance's in `*args, **kwargs`.
    parameters = inspect.signature(type(lm.model).forward).parameters
    argument = next((name for name in _CACHE_ARGUMENTS if name in parameters), None)
    if argument is None:
        return None
    input_ids = torch.tensor([tokens], dtype=torch.long, device=lm.input_device)
    try:
        output = lm.model(
            input_ids=input_ids, attention_mask=torch.ones_like(input_ids), use_cache=True
        )
    except torch.OutOfMemoryError:
        raise
    except _NO_USABLE_CACHE:
        return None
    cache = output.get(argument)
    if cache is None or not hasattr(cache, "batch_repeat_interleave"):
        return None
    return _SharedPrefix(length=len(tokens), cache=cache, argument=argument)


def _prefix_cache_agrees(lm: LoadedModel, forwards: list[_Forward], prefix: _SharedPrefix) -> bool:
    """Score the longest and the shortest sequence (so one is padded) with and without the cache.
    `forwards` is sorted longest first."""
    import torch

    pair = [forwards[0], forwards[-1]]
    try:
        cached = _run_batch(lm, pair, prefix)
    except torch.OutOfMemoryError:
        raise
    except _NO_USABLE_CACHE:
        return False
    whole = _run_batch(lm, pair, None)
    tolerance = PREFIX_CHECK_TOLERANCE[lm.dtype]
    return all(
        (i, c) == (j, d) and abs(x - y) <= tolerance
        for (i, c, x), (j, d, y) in zip(cached, whole, strict=True)
    )


# ---- one batch -----------------------------------------------------------------------------------


def _run_batch(
    lm: LoadedModel, batch: list[_Forward], prefix: _SharedPrefix | None = None
) -> list[tuple[int, int, float]]:
    """One padded forward pass: `(item, choice, log-likelihood)` for the choices it scores.
    With a shared prefix only the tokens after it are input; the cache stands for the rest."""
    import torch

    skip = 0 if prefix is None else prefix.length
    width = max(len(f.tokens) for f in batch) - skip
    pad_id = lm.tokenizer.pad_token_id
    pad_id = 0 if pad_id is None else pad_id
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(batch), skip + width), dtype=torch.long)
    rows: list[int] = []
    cols: list[int] = []
    read_rows: list[list[int]] = []  # per sequence: index into the gathered positions per read
    for r, forward in enumerate(batch):
        input_ids[r, : len(forward.tokens) - skip] = torch.tensor(
            forward.tokens[skip:], dtype=torch.long
        )
        attention_mask[r, : len(forward.tokens)] = 1
        slot = {}
        for position in forward.positions:
            slot[position] = len(rows)
            rows.append(r)
            cols.append(position - skip)
        read_rows.append([slot[position] for _, _, position, _ in forward.reads])
    input_ids = input_ids.to(lm.input_device)
    attention_mask = attention_mask.to(lm.input_device)

    def model_inputs() -> dict[str, Any]:
        if prefix is None:
            return {"input_ids": input_ids, "attention_mask": attention_mask, "use_cache": False}
        return {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            prefix.argument: prefix.cache_for(len(batch)),
            "use_cache": True,
        }

    logits = _logits_at(lm, model_inputs, rows, cols)
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    flat_rows = torch.tensor([k for ks in read_rows for k in ks], device=logprobs.device)
    flat_tokens = torch.tensor(
        [token for f in batch for _, _, _, token in f.reads], device=logprobs.device
    )
    picked = logprobs[flat_rows, flat_tokens].cpu()
    values: list[tuple[int, int, float]] = []
    offset = 0
    for forward in batch:
        values.extend(forward.sum_by_choice(picked[offset : offset + len(forward.reads)]))
        offset += len(forward.reads)
    return values


def _logits_at(
    lm: LoadedModel, model_inputs: Callable[[], dict[str, Any]], rows: list[int], cols: list[int]
):
    """Logits `[len(rows), vocab]` at (row, position) pairs, with the LM head run only there.

    `model_inputs()` gives the forward's keyword arguments, fresh for each call (a KV cache is
    extended by the pass that uses it). A forward pre-hook on the output embedding replaces its
    input `[batch, seq, hidden]` by the gathered rows, so everything the model does after its head
    (e.g. Gemma's logit soft-capping) still applies. If a model computes logits without calling
    its output embedding, or reshapes them, the forward runs again without the hook and the full
    logits are gathered: slower, same numbers.
    """
    import torch

    head = lm.model.get_output_embeddings()
    if head is not None:
        gathered = _forward_with_gathered_head(lm.model, head, model_inputs(), rows, cols)
        if gathered is not None:
            return gathered
    logits = lm.model(**model_inputs()).logits
    device = logits.device
    return logits[torch.tensor(rows, device=device), torch.tensor(cols, device=device)]


def _forward_with_gathered_head(
    model: Any, head: Any, inputs: dict[str, Any], rows: list[int], cols: list[int]
):
    import torch

    calls = []

    def gather_positions(module: Any, args: tuple) -> tuple:
        hidden = args[0]
        calls.append(hidden.shape)
        index_rows = torch.tensor(rows, device=hidden.device)
        index_cols = torch.tensor(cols, device=hidden.device)
        return (hidden[index_rows, index_cols].unsqueeze(0), *args[1:])

    handle = head.register_forward_pre_hook(gather_positions)
    try:
        logits = model(**inputs).logits
    finally:
        handle.remove()
    if len(calls) == 1 and logits.shape[:2] == (1, len(rows)):
        return logits[0]
    return None


def _release_cuda_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
