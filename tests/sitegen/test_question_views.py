"""Every answer auditable: `medlb site build --details DIR` verifies each predictions file against
the sha256 its result pins and turns it into the question view's data.

Two real runs of one tiny model (with and without `--rotations`) are published through the CLI
with `--details-dir`, as the publish job does; the data files are compared with the predictions
rows themselves, the rotations with the evaluation's own (numpy) definition and the result's
robustness bits.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from site_fixtures import result_file, site_build_argv, write_submission

from runner.cli import main
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.evaluation.tiny_models import SAMPLE_DATA_DIR
from runner.results_schema import decode_bits, load_result

ROTATED, PLAIN, NO_DETAILS = "acme/rotated", "acme/plain", "acme/no-details"
REVISIONS = {ROTATED: "1" * 40, PLAIN: "2" * 40, NO_DETAILS: "3" * 40}


@pytest.fixture(scope="module")
def published(tmp_path_factory, pipeline_rotations_run, pipeline_full_run) -> Path:
    """results/, submissions/ and details/ of three models; one has no details."""
    work = tmp_path_factory.mktemp("question-views")
    runs = {
        ROTATED: pipeline_rotations_run,
        PLAIN: pipeline_full_run,
        NO_DETAILS: pipeline_full_run,
    }
    for model, run in runs.items():
        submission = write_submission(work / "submissions", model, REVISIONS[model])
        argv = ["results", "publish", str(run), "--submission", str(submission)]
        argv += ["--results-dir", str(work / "results"), "--data-dir", str(SAMPLE_DATA_DIR)]
        if model != NO_DETAILS:
            argv += ["--details-dir", str(work / "details")]
        assert main(argv) == 0
    return work


def _build(work: Path, out: Path, *extra: str) -> int:
    argv = site_build_argv(work / "results", work / "submissions", work / "references", out)
    return main([*argv, *extra])


@pytest.fixture(scope="module")
def site(published, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("question-views-site")
    assert _build(published, out, "--details", str(published / "details")) == 0
    return out


def _view(site: Path, model: str, task: str) -> dict:
    return json.loads((site / "html" / "data" / "questions" / model / f"{task}.json").read_text())


def _rows(published: Path, model: str, task: str) -> list[dict]:
    path = published / "details" / model / REVISIONS[model] / "predictions" / f"{task}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("model", [ROTATED, PLAIN])
def test_the_view_holds_every_answer_and_probability_of_the_predictions(published, site, model):
    for task in TASK_NAMES:
        view, rows = _view(site, model, task), _rows(published, model, task)
        assert (view["model"], view["revision"], view["task"]) == (model, REVISIONS[model], task)
        assert (
            view["n"]
            == len(rows)
            == load_result(result_file(published / "results", model)).tasks[task].n
        )
        assert view["gold"] == [r["gold"] for r in rows]
        assert view["pred"] == [r["pred"] for r in rows]
        assert view["labels"] == (["yes", "no", "maybe"] if task == "pubmedqa" else list("ABCD"))
        for p, row in zip(view["p"], rows, strict=True):
            exp = [math.exp(x) for x in row["choice_logprobs"]]
            assert p == [round(1000 * e / sum(exp)) for e in exp]  # per mille of the softmax
        assert view["conf"] == [p[c] for p, c in zip(view["p"], view["pred"], strict=True)]
        assert view["p_gold"] == [p[g] for p, g in zip(view["p"], view["gold"], strict=True)]


def test_the_view_shows_the_stems_publish_staged_from_the_pinned_rows(published, site):
    """`medlb results publish --details-dir` wrote each task's question texts once; the site
    build with `--details` serves them to every view of those rows."""
    from runner.evaluation.task_data import load_task_rows

    for task in TASK_NAMES:
        rows = load_task_rows(TASKS[task], SAMPLE_DATA_DIR).rows
        urls = {_view(site, model, task)["texts_url"] for model in (ROTATED, PLAIN)}
        [url] = urls  # one file for both models
        texts = json.loads((site / "html" / url).read_text())
        stems = [q["stem"] for q in texts["questions"]]
        column = {"medqa_4options": "sent1", "medmcqa": "question", "pubmedqa": "QUESTION"}
        assert stems == [row[column.get(task, "question")].strip() for row in rows]


def test_the_answers_under_rotation_are_the_evaluations_own(published, site):
    """`rot` equals runner.evaluation.rotations (numpy), and the items the view says survive every
    rotation (`survives`) are the result's consistent-correct bits; those it says are not
    `stable`, its flip rate."""
    from runner.evaluation.rotations import all_rotations, chosen_options

    result = load_result(result_file(published / "results", ROTATED))
    for task in TASK_NAMES:
        view, rows = _view(site, ROTATED, task), _rows(published, ROTATED, task)
        if not TASKS[task].letter_choices:
            assert view["rot"] is view["stable"] is view["survives"] is None  # no letters to rotate
            continue
        scores = all_rotations(
            [r["choice_logprobs"] for r in rows], [r["rotation_logprobs"] for r in rows]
        )
        assert [[int(c) for c in rot] for rot in view["rot"]] == chosen_options(scores).tolist()
        robustness = result.tasks[task].robustness
        assert view["survives"] == decode_bits(robustness.consistent_correct, view["n"])
        changes = [not stable for stable in view["stable"]]
        assert sum(changes) / view["n"] == pytest.approx(robustness.flip_rate.value)
        assert changes == [len(set(rot)) > 1 for rot in view["rot"]]
    assert all(_view(site, PLAIN, task)["stable"] is None for task in TASK_NAMES)


def test_pages_link_the_views_and_the_download_or_say_why_there_are_none(site):
    page = (site / "html" / "models" / ROTATED / "index.html").read_text()
    for task in TASK_NAMES:
        assert f"questions/?model={ROTATED}&amp;task={task}" in page
    folder = f"tree/details/{ROTATED}/{REVISIONS[ROTATED]}/predictions"
    assert f'href="https://github.com/open-medical-llm/leaderboard/{folder}"' in page
    missing = (site / "html" / "models" / NO_DETAILS / "index.html").read_text()
    assert "per-item details are not on the details branch" in missing
    assert ">Predictions<" not in missing
    assert not (site / "html" / "data" / "questions" / NO_DETAILS).exists()
    compare = json.loads(
        (site / "html" / "compare" / "index.html")
        .read_text()
        .split('id="cmp-data">')[1]
        .split("</script>")[0]
    )
    views = {entry["key"]: entry["question_tasks"] for entry in compare["models"]}
    assert views == {ROTATED: list(TASK_NAMES), PLAIN: list(TASK_NAMES), NO_DETAILS: []}


def test_without_details_the_site_says_so(published, tmp_path):
    assert _build(published, tmp_path) == 0
    page = (tmp_path / "html" / "models" / ROTATED / "index.html").read_text()
    assert "this site was built without the per-item details" in page
    questions = (tmp_path / "html" / "questions" / "index.html").read_text()
    assert "built without the per-item details" in questions
    assert not (tmp_path / "html" / "data" / "questions").exists()


def test_a_tampered_details_file_stops_the_build_naming_it(published, tmp_path, capsys):
    """One line naming the file; the site built before stays as it was."""
    details = tmp_path / "details"
    shutil.copytree(published / "details", details)
    assert _build(published, tmp_path, "--details", str(details)) == 0
    before = (tmp_path / "html" / "index.html").read_bytes()
    target = details / PLAIN / REVISIONS[PLAIN] / "predictions" / "medmcqa.jsonl"
    rows = target.read_text().splitlines()
    row = json.loads(rows[3])
    row["pred"] = row["gold"]  # a wrong answer made right
    target.write_text("\n".join([*rows[:3], json.dumps(row), *rows[4:]]) + "\n")
    capsys.readouterr()
    assert _build(published, tmp_path, "--details", str(details)) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert str(target) in line and "is not the predictions_sha256" in line
    assert f"results/{PLAIN}/{REVISIONS[PLAIN]}.json pins for medmcqa" in line
    assert (tmp_path / "html" / "index.html").read_bytes() == before


def test_a_details_directory_that_is_not_there_is_one_line(published, tmp_path, capsys):
    assert _build(published, tmp_path, "--details", str(tmp_path / "nowhere")) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "--details:" in line and "nowhere" in line


def test_worker_processes_condense_exactly_as_one_process(published):
    from runner.sitegen.inputs import collect_inputs
    from runner.sitegen.question_views import load_question_views
    from runner.sitegen.repository import Repository

    inputs = collect_inputs(published / "results", published / "submissions", Path("none"))
    repository = Repository("https://github.com/o/r")
    one = load_question_views(published / "details", inputs.results, repository, workers=1)
    two = load_question_views(published / "details", inputs.results, repository, workers=2)
    # 2 models x 9 views, and the 9 tasks' question texts once (both read the same rows)
    assert one.files == two.files and one.tasks == two.tasks and len(one.files) == 18 + 9


def test_hub_links_exist_only_for_the_pinned_rows():
    """The viewer cannot be pinned: a row link plus the pinned revision's files; none for rows
    that are not the Hub's (the bundled samples)."""
    from runner.results_schema import RowsSource
    from runner.sitegen.question_views import dataset_links

    result = load_result(Path(__file__).parents[1] / "evaluation" / "fixtures" / "results_v1.json")
    task = result.tasks["mmlu_anatomy"].model_copy(
        update={"dataset_revision": "c" * 40, "rows_source": RowsSource(kind="hub")}
    )
    links = dataset_links(task)
    assert links["viewer"] == "https://huggingface.co/datasets/cais/mmlu/viewer/anatomy/test"
    assert links["files"] == f"https://huggingface.co/datasets/cais/mmlu/tree/{'c' * 40}"
    sample = task.model_copy(
        update={"dataset_revision": None, "rows_source": RowsSource(kind="local", sample=True)}
    )
    assert dataset_links(sample)["viewer"] is None and dataset_links(sample)["rows"] == "sample"
    medqa = result.tasks["medqa_4options"].model_copy(update={"dataset_revision": "d" * 40})
    assert dataset_links(medqa)["viewer"].endswith(
        "/GBaker/MedQA-USMLE-4-options-hf/viewer/default/test"
    )


def test_a_pinned_file_that_is_not_predictions_rows_is_one_line(published, tmp_path, capsys):
    """Should a result pin a file that is no predictions file of its task (a hand-edited result
    and its file, both changed), the build names the file and the line, without a traceback."""
    import hashlib

    from runner.results_schema import save

    work = tmp_path / "w"
    for folder in ("results", "submissions", "details"):
        shutil.copytree(published / folder, work / folder)
    target = work / "details" / PLAIN / REVISIONS[PLAIN] / "predictions" / "pubmedqa.jsonl"
    rows = target.read_text().splitlines()
    rows[2] = json.dumps({**json.loads(rows[2]), "choice_logprobs": [-1.0, -2.0]})  # 2 of 3
    target.write_text("\n".join(rows) + "\n")
    result_path = result_file(work / "results", PLAIN)
    result = load_result(result_path)
    task = result.tasks["pubmedqa"].model_copy(
        update={"predictions_sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
    )
    save(result_path, result.model_copy(update={"tasks": {**result.tasks, "pubmedqa": task}}))
    capsys.readouterr()
    assert _build(work, tmp_path, "--details", str(work / "details")) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.endswith(f"{target}: line 3: not a predictions row of pubmedqa")
