"""From items to rows: prompt ids, one engine call across every pending task, text and answers.

All tasks left to run go to the engine in ONE `generate` call (lm-eval groups requests the same
way: by generation settings, not by task), so the transformers engine packs its batches across
tasks and vLLM schedules them all at once; a task's rows are handed back as soon as its last item
is done, so it can be written (and resumed) on its own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from runner.evaluation.cot.chat import decode_generation, encode_prompts, render_chat, stop_strings
from runner.evaluation.cot.engine import GenerationEngine, GenerationOutput, GenerationRequest
from runner.evaluation.cot.extraction import extract_answer
from runner.evaluation.cot.prompts import CotItem
from runner.evaluation.cot.records import CotRow


@dataclass(frozen=True)
class TaskItems:
    items: Sequence[CotItem]
    letters: bool  # the answer is a letter (else PubMedQA's decision word)


@dataclass(frozen=True)
class FinishedTask:
    index: int  # position in the list given to `generate_tasks`
    rows: list[CotRow]  # in doc_id order
    prompt_tokens: int


def prompt_requests(
    tokenizer: Any, items: Sequence[CotItem], max_prompt_tokens: int
) -> list[GenerationRequest]:
    """Each item's prompt ids: chat template, lm-eval's tokenisation, left truncation."""
    texts = [render_chat(tokenizer, item.message) for item in items]
    ids = encode_prompts(tokenizer, texts, max_prompt_tokens)
    return [GenerationRequest(item.doc_id, prompt) for item, prompt in zip(items, ids, strict=True)]


def cot_row(
    tokenizer: Any, stops: Sequence[str], item: CotItem, output: GenerationOutput, *, letters: bool
) -> CotRow:
    """Decode, cut at the first stop string, extract and score one generation."""
    generation = decode_generation(tokenizer, output.output_ids, stops)
    answer = extract_answer(generation, letters=letters)
    return CotRow(
        doc_id=item.doc_id,
        generation=generation,
        answer=answer,
        gold=item.gold,
        correct=answer == item.gold,
        output_tokens=len(output.output_ids),
        truncated=output.truncated,
    )


def generate_tasks(
    engine: GenerationEngine,
    tokenizer: Any,
    tasks: Sequence[TaskItems],
    *,
    max_prompt_tokens: int,
    max_new_tokens: int,
    stop_ids: Sequence[int],
    progress: str | None = None,
) -> Iterator[FinishedTask]:
    """Every task's rows, each task as soon as its last item is generated."""
    from tqdm import tqdm

    requests, owner = [], []  # a request's id is its position: (task, item) in `owner`
    for index, task in enumerate(tasks):
        for item, request in zip(
            task.items, prompt_requests(tokenizer, task.items, max_prompt_tokens), strict=True
        ):
            owner.append((index, item))
            requests.append(GenerationRequest(len(requests), request.prompt_ids))
    prompt_tokens = [0] * len(tasks)
    for (index, _), request in zip(owner, requests, strict=True):
        prompt_tokens[index] += len(request.prompt_ids)
    rows: list[dict[int, CotRow]] = [{} for _ in tasks]
    stops = stop_strings(tokenizer)
    outputs = engine.generate(requests, max_new_tokens=max_new_tokens, stop_token_ids=stop_ids)
    bar = tqdm(
        total=len(requests), desc=progress, unit="item", file=sys.stderr, disable=progress is None
    )
    with bar:
        for output in outputs:
            index, item = owner[output.doc_id]
            task = tasks[index]
            rows[index][item.doc_id] = cot_row(tokenizer, stops, item, output, letters=task.letters)
            bar.update(1)
            if len(rows[index]) == len(task.items):
                ordered = [rows[index][i.doc_id] for i in task.items]
                yield FinishedTask(index, ordered, prompt_tokens[index])
