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

Speed (ARCHITECTURE.md, "Evaluation protocol and the engine"), without changing any of the above:
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
model never uses the shortcut again. The lm-eval parity test (tests/evaluation/test_parity.py,
|Δ| <= 1e-4 per choice) runs the six MMLU tasks through this path on all three of its models
(Llama, GPT-2, and the several-token-continuation case).
"""

from runner.evaluation.engine.batching import (
    TaskScores,
    TokenBudget,
    default_token_budget,
    score_items,
    score_task,
)
from runner.evaluation.engine.loading import (
    LoadedModel,
    check_device,
    check_model_source,
    default_device,
    lm_eval_max_length,
    load_model,
    load_model_dir,
    quiet_transformers,
    resolve_model_dir,
    safetensors_param_count,
)
from runner.evaluation.engine.prefix_cache import shared_prefix_length
from runner.evaluation.engine.requests import plan_requests

__all__ = [
    "LoadedModel",
    "TaskScores",
    "TokenBudget",
    "check_device",
    "check_model_source",
    "default_device",
    "default_token_budget",
    "lm_eval_max_length",
    "load_model",
    "load_model_dir",
    "plan_requests",
    "quiet_transformers",
    "resolve_model_dir",
    "safetensors_param_count",
    "score_items",
    "score_task",
    "shared_prefix_length",
]
