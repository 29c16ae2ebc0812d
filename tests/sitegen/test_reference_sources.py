"""Paper-reported rows: each cell names the publication that reports it, and a row whose cells
do not share one protocol says so, on the task pages too."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.errors import UserError
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.sitegen.pages import template_environment
from runner.sitegen.ranking_rules import ranking_rules
from runner.sitegen.references import load_references
from runner.sitegen.task_facts import FACTS

ROOT = Path(__file__).resolve().parents[2]
MMLU_GPT4_BASE = {
    "mmlu_clinical_knowledge": 88.7,
    "mmlu_medical_genetics": 97.0,
    "mmlu_anatomy": 85.2,
    "mmlu_professional_medicine": 93.8,
    "mmlu_college_biology": 97.2,
    "mmlu_college_medicine": 80.9,
}
NATURE_MEDICINE_2025 = "https://doi.org/10.1038/s41591-024-03423-7"


@pytest.fixture(scope="module")
def references():
    return {ref.name: ref for ref in load_references(ROOT / "references")}


def test_gpt4_base_reports_all_nine_cells_each_with_its_source(references):
    gpt4 = references["GPT-4-base"]
    assert {task: gpt4.scores_percent[task] for task in MMLU_GPT4_BASE} == MMLU_GPT4_BASE
    assert gpt4.source.url == "https://arxiv.org/abs/2303.13375v2"
    for task in MMLU_GPT4_BASE:
        source = gpt4.source_for(task)
        assert (source.url, source.year) == (NATURE_MEDICINE_2025, 2025)
        assert "Table 1" in source.location
    assert gpt4.source_for("medqa_4options") == gpt4.source
    assert gpt4.average == pytest.approx(sum(gpt4.scores_percent.values()) / 9 / 100)


def test_med_palm_2_says_its_best_column_mixes_protocols(references):
    note = references["Med-PaLM 2"].note
    assert "prompting strategies" in note and "task-specific fine-tuning" in note


def test_task_pages_show_each_cells_source_and_the_protocol_note(references):
    env = template_environment(ROOT / "site" / "templates")
    env.globals["rules"] = ranking_rules([], sample_site=False)  # as render_pages sets it
    page = env.get_template("task.md.j2").render(
        root="../../",
        spec=TASKS["mmlu_anatomy"],
        fact=FACTS["mmlu_anatomy"],
        ranked=[],
        unranked=[],
        references=list(references.values()),
    )
    (gpt4,) = [line for line in page.splitlines() if line.startswith("| GPT-4-base |")]
    assert f"]({NATURE_MEDICINE_2025}), Nature Medicine, Table 1" in gpt4
    (palm,) = [line for line in page.splitlines() if line.startswith("| Med-PaLM 2 |")]
    assert "task-specific fine-tuning" in palm


def write_reference(directory: Path, extra: str, scores: dict[str, float]) -> None:
    lines = "".join(f"  {task}: {value}\n" for task, value in scores.items())
    (directory / "x.yaml").write_text(
        "name: X\ndeveloper: Y\nsetting: 5-shot\nsetting_kind: few-shot\n"
        "source:\n  title: T\n  authors: A\n"
        f"  year: 2024\n  url: https://example.org/t\n  location: Table 2\n{extra}"
        f"scores_percent:\n{lines}"
    )


def test_a_cell_source_must_name_reported_cells(tmp_path):
    extra = (
        "cell_sources:\n  - tasks: [mmlu_anatomy]\n    title: U\n    authors: B\n    year: 2025\n"
        "    url: https://example.org/u\n    location: Table 1\n"
    )
    write_reference(tmp_path, extra, {"medqa_4options": 50.0})
    with pytest.raises(UserError, match="'mmlu_anatomy' has no score in scores_percent"):
        load_references(tmp_path)


def test_a_row_without_all_nine_cells_has_no_average(tmp_path):
    write_reference(tmp_path, "", {name: 50.0 for name in TASK_NAMES[:8]})
    (ref,) = load_references(tmp_path)
    assert ref.average is None and ref.accuracy(TASK_NAMES[8]) is None
