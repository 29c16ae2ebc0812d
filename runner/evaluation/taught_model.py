"""A tiny model taught the reasoning track's answer format, so that the demo's `cot` numbers are
real generations that end in "Final Answer: X", not a column of "no answer".

A random-weight model never writes "Final Answer"; this one is trained for a few seconds on CPU:
on the chat-templated prompts of the bundled sample questions (the prompts the `cot` track will
send), the response is one short line of "reasoning" and a final line `Final Answer: X`, where X
is drawn from a seeded hash of the prompt, NOT the gold answer. It learns the format, not the
answers, so its `cot` accuracy is chance level: the demo shows the pipeline, not medicine.
Deterministic: fixed seed, fixed order, float32 on CPU.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from runner.evaluation.tasks import LETTERS, PUBMEDQA_CHOICES

REASONING_LINE = "Let me think step by step about each option."
PROMPT_TAIL_TOKENS = 160  # the prompt's end: the turn markers the format follows, and context
STEPS = 100
BATCH = 16
LEARNING_RATE = 5e-3


def taught_response(message: str, letter_task: bool) -> str:
    """The response the model is taught for one user message: a line of "reasoning", then the
    answer line with a label chosen by hash (never the gold answer)."""
    labels = LETTERS if letter_task else PUBMEDQA_CHOICES
    index = hashlib.sha256(message.encode("utf-8")).digest()[0] % len(labels)
    return f"{REASONING_LINE}\nFinal Answer: {labels[index]}"


def training_pairs(tokenizer, data_dir: Path) -> list[tuple[list[int], list[int]]]:
    """(prompt tail ids, response ids + EOS) for every sample question of the nine tasks, with
    the chat template and tokenisation the `cot` track uses."""
    from runner.evaluation.cot.chat import encode_prompts, render_chat
    from runner.evaluation.cot.prompts import build_cot_items
    from runner.evaluation.task_data import load_task_rows
    from runner.evaluation.tasks import TASKS

    pairs = []
    for spec in TASKS.values():
        rows = load_task_rows(spec, data_dir).rows
        for item in build_cot_items(spec, rows):
            text = render_chat(tokenizer, item.message)
            (prompt,) = encode_prompts(tokenizer, [text], PROMPT_TAIL_TOKENS)
            response = taught_response(item.message, spec.letter_choices)
            ids = tokenizer(response, add_special_tokens=False)["input_ids"]
            pairs.append((prompt, [*ids, tokenizer.eos_token_id]))
    return pairs


def teach_answer_format(directory: Path, data_dir: Path, seed: int = 0) -> Path:
    """Train the checkpoint in `directory` (with a chat template) in place; returns it."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(directory, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(
        directory, dtype=torch.float32, trust_remote_code=False, use_safetensors=True
    )
    pairs = training_pairs(tokenizer, data_dir)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    threads = torch.get_num_threads()
    # One thread: these matrices are too small to share, and the same thread count gives the same
    # float sums, so the same weights, on every machine.
    torch.set_num_threads(1)
    model.train()
    try:
        for _ in range(STEPS):
            picked = torch.randperm(len(pairs), generator=generator)[:BATCH].tolist()
            input_ids, labels, mask = _batch([pairs[i] for i in picked], tokenizer.pad_token_id)
            loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    model.save_pretrained(directory, safe_serialization=True)
    return directory


def _batch(pairs: list[tuple[list[int], list[int]]], pad_id: int):
    """Right-padded inputs; the loss is on the response tokens only."""
    import torch

    width = max(len(prompt) + len(response) for prompt, response in pairs)
    input_ids = torch.full((len(pairs), width), pad_id, dtype=torch.long)
    labels = torch.full((len(pairs), width), -100, dtype=torch.long)
    mask = torch.zeros((len(pairs), width), dtype=torch.long)
    for row, (prompt, response) in enumerate(pairs):
        ids = prompt + response
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, len(prompt) : len(ids)] = torch.tensor(response)
        mask[row, : len(ids)] = 1
    return input_ids, labels, mask
