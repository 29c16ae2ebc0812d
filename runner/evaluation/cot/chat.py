"""Prompt token ids and generated text exactly as lm-eval 0.4.13's HF backend makes them under
`--apply_chat_template` (`HFLM.apply_chat_template`, `tok_batch_encode`, `generate_until`,
`postprocess_generated_text`); ARCHITECTURE.md, "The reasoning track".

- The chat: one user message, `apply_chat_template(tokenize=False, add_generation_prompt=True)`.
- Encoding: the rendered text is encoded WITHOUT special tokens when it already starts with the
  tokenizer's BOS text (no second BOS), else with the tokenizer's default; then left-truncated to
  `max_length - max_new_tokens` tokens.
- Stopping: at the tokenizer's EOS and at the model's `generation_config` EOS ids (transformers
  stops there under lm-eval too); lm-eval's stop string is the decoded EOS token.
- Text: the generated ids decoded with `skip_special_tokens=True`, cut at the first stop string.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runner.errors import UserError, first_line


def chat_template_text(tokenizer: Any) -> str | None:
    """The template `apply_chat_template` renders by default, or None when there is none."""
    template = getattr(tokenizer, "chat_template", None)
    if isinstance(template, dict):  # named templates: transformers renders "default"
        template = template.get("default")
    return template or None


def chat_template_sha256(tokenizer: Any) -> str:
    return hashlib.sha256((chat_template_text(tokenizer) or "").encode("utf-8")).hexdigest()


def render_chat(tokenizer: Any, message: str) -> str:
    """The prompt text: one user message through the model's chat template."""
    try:
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": message}],
            tokenize=False,
            add_generation_prompt=True,
            continue_final_message=False,
        )
    except Exception as err:  # jinja2's TemplateError and whatever a template raises
        raise UserError(f"chat template: cannot render a prompt ({first_line(err)})") from None


def encode_prompts(tokenizer: Any, texts: Sequence[str], max_prompt_tokens: int) -> list[list[int]]:
    """Token ids of rendered prompts, left-truncated to `max_prompt_tokens` (lm-eval's
    `max_length - max_gen_toks`)."""
    if max_prompt_tokens <= 0:
        raise UserError(f"--max-new-tokens leaves no room for the prompt ({max_prompt_tokens})")
    bos = getattr(tokenizer, "bos_token", None)
    encoded = []
    for text in texts:
        kwargs = {"add_special_tokens": False} if bos is not None and text.startswith(bos) else {}
        encoded.append(tokenizer(text, **kwargs)["input_ids"][-max_prompt_tokens:])
    return encoded


def stop_token_ids(tokenizer: Any, directory: Path) -> list[int]:
    """The tokenizer's EOS id and the model's `generation_config` EOS ids, in that order."""
    ids: list[int] = []
    if tokenizer.eos_token_id is not None:
        ids.append(int(tokenizer.eos_token_id))
    for value in _generation_config_eos(directory):
        if value not in ids:
            ids.append(value)
    return ids


def _generation_config_eos(directory: Path) -> list[int]:
    """transformers' `GenerationConfig` EOS: generation_config.json's, else config.json's."""
    for name in ("generation_config.json", "config.json"):
        path = directory / name
        if not path.is_file():
            continue
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise UserError(f"{path}: cannot read ({first_line(err)})") from None
        config = config.get("text_config", config) if name == "config.json" else config
        value = config.get("eos_token_id") if isinstance(config, dict) else None
        if value is not None:
            return [int(v) for v in (value if isinstance(value, list) else [value])]
    return []


def stop_strings(tokenizer: Any) -> list[str]:
    """lm-eval's `until` for a task that sets none of its own: the decoded EOS token."""
    if tokenizer.eos_token_id is None:
        return []
    return [tokenizer.decode(tokenizer.eos_token_id, skip_special_tokens=False)]


def decode_generation(tokenizer: Any, output_ids: Sequence[int], stops: Sequence[str]) -> str:
    """The generated text, cut at the first stop string (lm-eval's `postprocess_generated_text`)."""
    text = tokenizer.decode(list(output_ids), skip_special_tokens=True)
    for stop in stops:
        if stop:
            text = text.split(stop)[0]
    return text
