"""Tiny real causal LMs, built locally: the demo's default models and the tests' fixtures.

A model here is a real transformers checkpoint (config.json, model.safetensors, tokenizer.json)
with random weights and a byte-level BPE tokenizer trained with `tokenizers` on the bundled sample
questions, so every code path that a Hub model takes (AutoConfig, AutoTokenizer,
AutoModelForCausalLM, safetensors metadata) runs on it, offline, in seconds.

Two architectures differ in the way that matters for scoring parity:
- "llama": LlamaForCausalLM whose tokenizer adds a BOS token to every encoding (like Llama 2);
- "gpt2": GPT2LMHeadModel whose tokenizer adds nothing (like GPT-2).

Two chat templates differ in the ways that matter for the reasoning track's parity
(`BOS_CHAT_SPEC`, `SYSTEM_CHAT_SPEC`): one renders the BOS text itself (so the prompt must not get
a second BOS), one adds a default system prompt, stops at a second end-of-turn id from
generation_config.json and has a window small enough that PubMedQA prompts are left-truncated.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from runner.evaluation.task_data import SAMPLE_DATA_DIR

# Always in the training text, so that the answer continuations (" A", " yes", ...) are learned as
# single tokens when the vocabulary is large enough, as they are in real tokenizers.
_ANSWER_LINES = [
    "Answer: A", "Answer: B", "Answer: C", "Answer: D",
    "Answer: yes", "Answer: no", "Answer: maybe",
]  # fmt: skip


@dataclass(frozen=True)
class TinyModelSpec:
    arch: str = "llama"  # "llama" or "gpt2"
    seed: int = 0
    vocab_size: int = 2000  # tokenizer vocabulary (BPE target size)
    model_vocab_size: int | None = None  # embedding rows; None: the tokenizer's size
    hidden_size: int = 64
    layers: int = 2
    heads: int = 4
    intermediate_size: int = 128
    max_positions: int = 2048
    chat_template: str | None = None  # saved as chat_template.jinja
    extra_special_tokens: tuple[str, ...] = ()  # e.g. a template's turn markers
    generation_eos: tuple[str, ...] = ()  # generation_config.json's EOS tokens besides </s>


# Like Llama 2 / Mistral: the template writes the BOS text itself.
BOS_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}[{{ message['role'] | upper }}] "
    "{{ message['content'] | trim }}{{ eos_token if message['role'] == 'assistant' else '' }}\n"
    "{% endfor %}{% if add_generation_prompt %}[ASSISTANT] {% endif %}"
)
# Like Qwen: a default system prompt, turn markers, and an end-of-turn token that also stops.
SYSTEM_CHAT_TEMPLATE = (
    "{% if messages[0]['role'] != 'system' %}<|im_start|>system\nYou are a careful medical "
    "assistant.<|im_end|>\n{% endif %}{% for message in messages %}<|im_start|>"
    "{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
BOS_CHAT_SPEC = TinyModelSpec(arch="llama", seed=3, chat_template=BOS_CHAT_TEMPLATE)
SYSTEM_CHAT_SPEC = TinyModelSpec(
    arch="gpt2",
    seed=4,
    max_positions=320,  # PubMedQA's abstracts are longer: their prompts are left-truncated
    chat_template=SYSTEM_CHAT_TEMPLATE,
    extra_special_tokens=("<|im_start|>", "<|im_end|>"),
    generation_eos=("<|im_end|>",),
)


def sample_corpus() -> Iterator[str]:
    """Every string in the bundled sample questions (the tokenizer's training text)."""
    for path in sorted(SAMPLE_DATA_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield from _strings(json.loads(line))


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def train_tokenizer(spec: TinyModelSpec, corpus: Iterable[str] | None = None):
    """A byte-level BPE `PreTrainedTokenizerFast`; BOS is added by the post-processor for llama."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = ["<s>", "</s>", "<pad>", *spec.extra_special_tokens]
    trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    text = list(corpus if corpus is not None else sample_corpus()) + _ANSWER_LINES * 50
    tokenizer.train_from_iterator(text, trainer=trainer)
    if spec.arch == "llama":
        bos = tokenizer.token_to_id("<s>")
        tokenizer.post_processor = processors.TemplateProcessing(
            single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
        )
    else:
        tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        model_max_length=spec.max_positions,
    )
    if spec.extra_special_tokens:
        fast.add_special_tokens({"additional_special_tokens": list(spec.extra_special_tokens)})
    fast.chat_template = spec.chat_template
    return fast


def _config(spec: TinyModelSpec, tokenizer):
    from transformers import GPT2Config, LlamaConfig

    vocab = spec.model_vocab_size or len(tokenizer)
    ids = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if spec.arch == "llama":
        return LlamaConfig(
            vocab_size=vocab,
            hidden_size=spec.hidden_size,
            intermediate_size=spec.intermediate_size,
            num_hidden_layers=spec.layers,
            num_attention_heads=spec.heads,
            num_key_value_heads=spec.heads,
            max_position_embeddings=spec.max_positions,
            tie_word_embeddings=False,
            **ids,
        )
    if spec.arch == "gpt2":
        return GPT2Config(
            vocab_size=vocab,
            n_embd=spec.hidden_size,
            n_layer=spec.layers,
            n_head=spec.heads,
            n_inner=spec.intermediate_size,
            n_positions=spec.max_positions,
            **ids,
        )
    raise ValueError(f"unknown tiny architecture {spec.arch!r} (llama or gpt2)")


def build_tiny_model(
    out_dir: Path, spec: TinyModelSpec | None = None, corpus: Iterable[str] | None = None
) -> Path:
    """Write a complete local checkpoint (safetensors + fast tokenizer) to `out_dir`."""
    import torch
    from transformers import AutoModelForCausalLM

    spec = spec or TinyModelSpec()
    out_dir = Path(out_dir)
    tokenizer = train_tokenizer(spec, corpus)
    config = _config(spec, tokenizer)
    torch.manual_seed(spec.seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    # Random init with std 0.02 gives near-uniform next-token distributions; widen it so that the
    # tiny models have real preferences between choices (and so scores and ties are informative).
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() > 1:
                param.normal_(0.0, 0.3)
    model.eval()
    if spec.generation_eos:
        eos = [tokenizer.eos_token_id, *tokenizer.convert_tokens_to_ids(list(spec.generation_eos))]
        model.generation_config.eos_token_id = eos
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return out_dir
