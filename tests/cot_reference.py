"""lm-evaluation-harness as the reference for the reasoning track: its own `generate_until` on the
bundled sample rows, with DESIGN §10's prompt written here independently of medlb's code.

For each task a YAML is written at test time (`output_type: generate_until`, greedy,
`until: []` so the only stop string is lm-eval's decoded EOS, `max_gen_toks`), with a `regex`
filter holding §10's pattern and `group_select: -1`; `doc_to_text` is a function in a module
written beside the YAMLs (`!function`), which builds §10's prompt from the Hub columns. lm-eval
runs with `--model hf --apply_chat_template` (`simple_evaluate(apply_chat_template=True)`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COT_PREFIX = "cotparity_"

# §10's prompts, in a module lm-eval imports from the YAML directory (never medlb's own code).
PROMPTS_MODULE = r"""
LETTER = ("Answer the following multiple-choice question. Think step by step, then end your "
          "response with a line of the form \"Final Answer: X\", where X is one of A, B, C or D.")
PUBMEDQA = ("Answer the following question about the research abstract below with yes, no or "
            "maybe. Think step by step, then end your response with a line of the form "
            "\"Final Answer: X\", where X is yes, no or maybe.")


def _letters(question, options):
    lines = [LETTER, "", "Question: " + question.strip()]
    lines += [k + ". " + o.strip() for k, o in zip("ABCD", options)]
    return "\n".join(lines)


def medqa_text(doc):
    return _letters(doc["sent1"], [doc["ending%d" % i] for i in range(4)])


def medqa_gold(doc):
    return "ABCD"[doc["label"]]


def medmcqa_text(doc):
    return _letters(doc["question"], [doc["opa"], doc["opb"], doc["opc"], doc["opd"]])


def medmcqa_gold(doc):
    return "ABCD"[doc["cop"]]


def mmlu_text(doc):
    return _letters(doc["question"], doc["choices"])


def mmlu_gold(doc):
    return "ABCD"[doc["answer"]]


def pubmedqa_text(doc):
    abstract = "\n".join(c.strip() for c in doc["CONTEXTS"])
    question = "Question: " + doc["QUESTION"].strip()
    return "\n".join([PUBMEDQA, "", "Abstract: " + abstract, question])


def pubmedqa_gold(doc):
    return doc["final_decision"]
"""

LETTER_REGEX = r"(?i:final\s*answer)\s*[:：]?[\s*_()\[\]]*([A-D])\b"
PUBMEDQA_REGEX = r"(?i:final\s*answer)\s*[:：]?[\s*_()\[\]]*((?i:yes|no|maybe))\b"


@dataclass(frozen=True)
class ReferenceGeneration:
    doc_id: int
    response: str  # lm-eval's generated text (after its stop-string cut)
    answer: str | None  # the regex filter's match; None for "[invalid]"


def _functions(task: str) -> tuple[str, str]:
    if task == "medqa_4options":
        return "medqa_text", "medqa_gold"
    if task == "medmcqa":
        return "medmcqa_text", "medmcqa_gold"
    if task == "pubmedqa":
        return "pubmedqa_text", "pubmedqa_gold"
    return "mmlu_text", "mmlu_gold"


def write_cot_task_yamls(
    data_dir: Path, yaml_dir: Path, tasks: tuple[str, ...], max_gen_toks: int
) -> None:
    yaml_dir.mkdir(parents=True, exist_ok=True)
    (yaml_dir / "cot_parity_prompts.py").write_text(PROMPTS_MODULE, encoding="utf-8")
    for task in tasks:
        text, gold = _functions(task)
        regex = PUBMEDQA_REGEX if task == "pubmedqa" else LETTER_REGEX
        data_file = str((data_dir / f"{task}.jsonl").resolve())
        lines = [
            f"task: {COT_PREFIX}{task}",
            "dataset_path: json",
            f"dataset_kwargs: {json.dumps({'data_files': {'test': data_file}})}",
            "test_split: test",
            "output_type: generate_until",
            f"doc_to_text: !function cot_parity_prompts.{text}",
            f"doc_to_target: !function cot_parity_prompts.{gold}",
            "num_fewshot: 0",
            "generation_kwargs:",
            "  until: []",
            "  do_sample: false",
            f"  max_gen_toks: {max_gen_toks}",
            "filter_list:",
            "  - name: cot",
            "    filter:",
            "      - function: regex",
            f"        regex_pattern: {json.dumps(regex)}",
            "        group_select: -1",
            "metric_list:",
            "  - metric: exact_match",
        ]
        (yaml_dir / f"{COT_PREFIX}{task}.yaml").write_text("\n".join(lines) + "\n")


def run_lm_eval_cot(
    model_dir: Path,
    data_dir: Path,
    yaml_dir: Path,
    tasks: tuple[str, ...],
    *,
    max_gen_toks: int,
    limit: int | None = None,
    batch_size: int = 1,
) -> dict[str, list[ReferenceGeneration]]:
    """`lm_eval --model hf --apply_chat_template --log_samples [--limit N]`, float32 on CPU."""
    import lm_eval
    from lm_eval.tasks import TaskManager

    write_cot_task_yamls(data_dir, yaml_dir, tasks, max_gen_toks)
    output = lm_eval.simple_evaluate(
        model="hf",
        model_args=f"pretrained={model_dir},dtype=float32",
        device="cpu",
        batch_size=batch_size,
        limit=limit,
        apply_chat_template=True,
        log_samples=True,
        task_manager=TaskManager(include_path=str(yaml_dir), include_defaults=False),
        tasks=[COT_PREFIX + task for task in tasks],
    )
    return {task: _generations(output["samples"][COT_PREFIX + task]) for task in tasks}


def _generations(samples: list[dict[str, Any]]) -> list[ReferenceGeneration]:
    docs = []
    for sample in samples:
        filtered = sample["filtered_resps"][0]
        filtered = filtered[0] if isinstance(filtered, list) else filtered
        docs.append(
            ReferenceGeneration(
                doc_id=int(sample["doc_id"]),
                response=sample["resps"][0][0],
                answer=None if filtered == "[invalid]" else filtered,
            )
        )
    return sorted(docs, key=lambda doc: doc.doc_id)
