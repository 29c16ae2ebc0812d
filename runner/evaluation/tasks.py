"""The task registry: the nine leaderboard tasks as data plus a few pure functions.

Each `TaskSpec` says where the rows come from (Hub dataset, config, pinned revision, split), which
columns the prompt reads, and how a row becomes an `Item`: the context the model conditions on and
the continuations it scores. The prompts are byte-identical to lm-evaluation-harness 0.4.x
(`lm_eval/tasks/{medqa,medmcqa,pubmedqa,mmlu}`); `tests/evaluation/test_parity.py` checks that
against lm-eval's own code, not against a copy of it.

Every task takes the same request path (lm-eval's habit): `build_items` turns rows into `Item`s,
and the engine scores `context + target_delimiter + choice` for every choice, whatever the task.

The eight letter-choice tasks (all but PubMedQA) can also rotate a row (ARCHITECTURE.md,
"Option-order robustness"): rotation r shows ORIGINAL option (j + r) mod n at letter position j and
moves the gold to (gold - r) mod n, in the Hub row's own columns, so that a rotated item is
exactly what lm-eval builds from a dataset whose rows were rotated the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from runner.errors import UsageError, UserError

Row = Mapping[str, Any]

# lm-eval's default `target_delimiter`: the continuation scored is " " + choice.
TARGET_DELIMITER = " "
LETTERS = ("A", "B", "C", "D")

# Where a pinned revision's rows live on the Hub: the dataset repository's own data files, or the
# Hub's parquet conversion of a loading-script dataset (branch refs/convert/parquet, one directory
# per config and split).
DataSource = Literal["repository", "parquet-conversion"]


@dataclass(frozen=True)
class Item:
    """One question as the engine sees it. `doc_id` is the row's index in the split."""

    doc_id: int
    context: str
    continuations: tuple[str, ...]  # TARGET_DELIMITER + choice, one per choice
    gold: int
    subject: str | None


@dataclass(frozen=True)
class TaskSpec:
    name: str
    title: str  # human name for the site
    dataset: str  # Hub dataset id
    config: str | None  # Hub config name (None: the default config)
    revision: str | None  # pinned Hub commit of the rows read (see `data_source`)
    data_source: DataSource  # what `revision` points at
    split: str
    n_total: int  # rows in the split at `revision`
    columns: tuple[str, ...]  # columns the prompt, the gold and the subject read
    description: str  # lm-eval's task description, prepended to every prompt ("" for none)
    doc_to_text: Callable[[Row], str]
    doc_to_choices: Callable[[Row], Sequence[str]]
    doc_to_gold: Callable[[Row], int]
    doc_to_subject: Callable[[Row], str | None]
    specialty: str  # the site's grouping of tasks
    # sha256 of the split's rows at `revision` (`task_data.rows_sha256`, what `medlb data fetch`
    # prints); None until a maintainer has fetched them (see "Known row hashes" below)
    rows_sha256: str | None = None
    # Letter-choice tasks: (row, r) -> the row with its options rotated by r; None for PubMedQA.
    rotate_row: Callable[[Row, int], Row] | None = None

    @property
    def letter_choices(self) -> bool:
        return self.rotate_row is not None


# ---- prompt functions (lm-eval 0.4.x, byte for byte) ------------------------------------------


def medqa_text(doc: Row) -> str:
    # lm_eval/tasks/medqa/preprocess_medqa.py
    options = "".join(f"{k}. {doc[f'ending{i}']}\n" for i, k in enumerate(LETTERS))
    return f"Question: {doc['sent1']}\n{options}Answer:"


def medmcqa_text(doc: Row) -> str:
    # lm_eval/tasks/medmcqa/utils_medmcqa.py
    options = [doc["opa"], doc["opb"], doc["opc"], doc["opd"]]
    prompt = "Question: " + doc["question"] + "\nChoices:\n"
    for letter, option in zip(LETTERS, options, strict=True):
        prompt += f"{letter}. {option}\n"
    return prompt + "Answer:"


def pubmedqa_text(doc: Row) -> str:
    # lm_eval/tasks/pubmedqa/preprocess_pubmedqa.py
    contexts = "\n".join(doc["CONTEXTS"])
    return f"Abstract: {contexts}\nQuestion: {doc['QUESTION']}\nAnswer:"


def mmlu_text(doc: Row) -> str:
    # lm_eval/tasks/mmlu/default/_default_template_yaml (a jinja template)
    c = doc["choices"]
    return f"{doc['question'].strip()}\nA. {c[0]}\nB. {c[1]}\nC. {c[2]}\nD. {c[3]}\nAnswer:"


def _letters(doc: Row) -> Sequence[str]:
    return LETTERS


PUBMEDQA_CHOICES = ("yes", "no", "maybe")


def _pubmedqa_gold(doc: Row) -> int:
    decision = doc["final_decision"]
    if decision not in PUBMEDQA_CHOICES:
        raise ValueError(f"final_decision must be one of yes/no/maybe, got {decision!r}")
    return PUBMEDQA_CHOICES.index(decision)


def _int_column(column: str) -> Callable[[Row], int]:
    def gold(doc: Row) -> int:
        value = doc[column]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 4:
            raise ValueError(f"{column} must be an integer 0-3, got {value!r}")
        return value

    return gold


def _no_subject(doc: Row) -> str | None:
    return None


# ---- option rotations (ARCHITECTURE.md, "Option-order robustness") ----------------------------


def _rotate_columns(option_columns: tuple[str, ...], gold_column: str) -> Callable[[Row, int], Row]:
    """Options in one column each (MedQA's ending0..3, MedMCQA's opa..opd)."""

    def rotate(doc: Row, r: int) -> Row:
        n = len(option_columns)
        rotated = dict(doc)
        for j, column in enumerate(option_columns):
            rotated[column] = doc[option_columns[(j + r) % n]]
        rotated[gold_column] = (doc[gold_column] - r) % n
        return rotated

    return rotate


def _rotate_list(list_column: str, gold_column: str) -> Callable[[Row, int], Row]:
    """Options in one list column (MMLU's choices)."""

    def rotate(doc: Row, r: int) -> Row:
        options = list(doc[list_column])
        if len(options) != len(LETTERS):
            raise ValueError(f"{list_column} must hold {len(LETTERS)} options to be rotated")
        n = len(options)
        return {
            **doc,
            list_column: options[r:] + options[:r],
            gold_column: (doc[gold_column] - r) % n,
        }

    return rotate


# lm_eval/tasks/mmlu/default/mmlu_<subject>.yaml `description` (the subject with spaces).
MMLU_DESCRIPTION = "The following are multiple choice questions (with answers) about {subject}.\n\n"


def _mmlu(subject: str, n_total: int, specialty: str) -> TaskSpec:
    spaced = subject.replace("_", " ")
    return TaskSpec(
        name=f"mmlu_{subject}",
        title=f"MMLU {spaced.title()}",
        dataset="cais/mmlu",
        config=subject,
        revision=MMLU_REVISION,
        data_source="repository",
        split="test",
        n_total=n_total,
        columns=("question", "choices", "answer"),
        description=MMLU_DESCRIPTION.format(subject=spaced),
        doc_to_text=mmlu_text,
        doc_to_choices=_letters,
        doc_to_gold=_int_column("answer"),
        doc_to_subject=lambda doc, _s=spaced: _s,
        specialty=specialty,
        rotate_row=_rotate_list("choices", "answer"),
    )


# Pinned Hub revisions (dataset commit SHAs). Each SHA below was found stated for that dataset in
# public code that pins it; none could be re-checked against the Hub from this build environment
# (no network). `None` means no SHA could be found: `medlb data fetch` refuses such a task rather
# than read a moving branch; a maintainer with network access runs `medlb data pin --tasks NAME`,
# reviews the dataset at the commit it prints, and pins it here.
#
# GBaker/MedQA-USMLE-4-options-hf: stated as `REVISION = '17af9355…'` next to `REPO = 'GBaker/…'`,
# and as the Hub cache path `datasets--GBaker--MedQA-USMLE-4-options-hf/snapshots/17af9355…/`,
# in public GitHub code (found with code search; JSON-lines files train/dev/test.json).
MEDQA_REVISION: str | None = "17af9355ef89fba60de966eabaeba797c695f86e"
# openlifescienceai/medmcqa: apple/embedding-atlas packages/docs/examples/datasets.js downloads
# `openlifescienceai/medmcqa/resolve/91c6572c…/data/train-00000-of-00001.parquet`; other public
# configs pin the same SHA with "validation, 4183 rows".
MEDMCQA_REVISION: str | None = "91c6572c454088bf71b679ad90aa8dffcd0d5868"
# bigbio/pubmed_qa is a loading-script dataset (not loadable by datasets>=4); its rows come from the
# Hub's parquet conversion (refs/convert/parquet). Its commit is stated as the Hub cache path
# `datasets--bigbio--pubmed_qa/snapshots/13a7d154…/` holding
# `pubmed_qa_labeled_fold0_source/<split>/0000.parquet` (the conversion's layout) in public code
# that reads the splits of lm-eval's pubmedqa task; re-check it with
# `medlb data pin --tasks pubmedqa` on a machine with Hub access.
PUBMEDQA_REVISION: str | None = "13a7d15476092370cbabb6475390e7e69b74d2f2"
# cais/mmlu: pinned as `hf_revision="c30699e8…"` in a public lighteval task file and as
# `cais/mmlu/resolve/c30699e8…/anatomy/test-00000-of-00001.parquet` in public download code.
MMLU_REVISION: str | None = "c30699e8356da336a370243923dbaf21066bb9fe"
#
# Known row hashes (`TaskSpec.rows_sha256`): none yet. Nobody has fetched the pinned revisions from
# this build environment (no network), and a hash is never written down unseen. A maintainer
# with Hub access runs `medlb data fetch DIR`, which prints each task's sha256, and adds it to the
# task's spec below as `rows_sha256="…"`. Until then a run from a local copy (`--data-dir`)
# records its rows' sha256 as not known to be the pinned revision's (results.json,
# `rows_source`), and never claims the pinned revision as their source.

TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (
        TaskSpec(
            name="medqa_4options",
            title="MedQA (USMLE, 4 options)",
            dataset="GBaker/MedQA-USMLE-4-options-hf",
            config=None,
            revision=MEDQA_REVISION,
            data_source="repository",
            split="test",
            n_total=1273,
            columns=("sent1", "ending0", "ending1", "ending2", "ending3", "label"),
            description="",
            doc_to_text=medqa_text,
            doc_to_choices=_letters,
            doc_to_gold=_int_column("label"),
            doc_to_subject=_no_subject,
            specialty="clinical",
            rotate_row=_rotate_columns(
                ("ending0", "ending1", "ending2", "ending3"), gold_column="label"
            ),
        ),
        TaskSpec(
            name="medmcqa",
            title="MedMCQA",
            dataset="openlifescienceai/medmcqa",
            config=None,
            revision=MEDMCQA_REVISION,
            data_source="repository",
            split="validation",
            n_total=4183,
            columns=("question", "opa", "opb", "opc", "opd", "cop", "subject_name"),
            description="",
            doc_to_text=medmcqa_text,
            doc_to_choices=_letters,
            doc_to_gold=_int_column("cop"),
            doc_to_subject=lambda doc: doc["subject_name"],
            specialty="clinical",
            rotate_row=_rotate_columns(("opa", "opb", "opc", "opd"), gold_column="cop"),
        ),
        TaskSpec(
            name="pubmedqa",
            title="PubMedQA",
            dataset="bigbio/pubmed_qa",
            config="pubmed_qa_labeled_fold0_source",
            revision=PUBMEDQA_REVISION,
            data_source="parquet-conversion",
            split="test",
            n_total=500,
            columns=("QUESTION", "CONTEXTS", "final_decision"),
            description="",
            doc_to_text=pubmedqa_text,
            doc_to_choices=lambda doc: PUBMEDQA_CHOICES,
            doc_to_gold=_pubmedqa_gold,
            doc_to_subject=_no_subject,
            specialty="research",
        ),
        _mmlu("clinical_knowledge", 265, "clinical"),
        _mmlu("medical_genetics", 100, "basic science"),
        _mmlu("anatomy", 135, "basic science"),
        _mmlu("professional_medicine", 272, "clinical"),
        _mmlu("college_biology", 144, "basic science"),
        _mmlu("college_medicine", 173, "clinical"),
    )
}

TASK_NAMES: tuple[str, ...] = tuple(TASKS)
# The tasks whose choices are letters A-D (every task but PubMedQA): rotations and letter bias.
LETTER_TASK_NAMES: tuple[str, ...] = tuple(n for n in TASK_NAMES if TASKS[n].letter_choices)


def build_item(spec: TaskSpec, doc_id: int, row: Row) -> Item:
    """The request lm-eval builds for one row (zero-shot): context and one continuation a choice."""
    return Item(
        doc_id=doc_id,
        context=spec.description + spec.doc_to_text(row),
        continuations=tuple(TARGET_DELIMITER + c for c in spec.doc_to_choices(row)),
        gold=spec.doc_to_gold(row),
        subject=spec.doc_to_subject(row),
    )


def build_items(spec: TaskSpec, rows: Sequence[Row], *, source: str = "") -> list[Item]:
    """All rows of a split as `Item`s; a row the prompt cannot read is a `UserError`."""
    return [_built(spec, doc_id, row, source, build_item) for doc_id, row in enumerate(rows)]


def build_rotated_items(spec: TaskSpec, rows: Sequence[Row], *, source: str = "") -> list[Item]:
    """Rotations r = 1..n-1 of every row, item by item (doc 0 r=1, doc 0 r=2, ...), each built
    by `build_item` from the rotated row; n is the item's number of choices."""
    if spec.rotate_row is None:
        raise ValueError(f"{spec.name}: its choices are not letters; it has no rotations")
    return [
        item
        for doc_id, row in enumerate(rows)
        for item in _built(spec, doc_id, row, source, _rotations_of)
    ]


def _rotations_of(spec: TaskSpec, doc_id: int, row: Row) -> list[Item]:
    n = len(build_item(spec, doc_id, row).continuations)  # also checks the row itself
    return [build_item(spec, doc_id, spec.rotate_row(row, r)) for r in range(1, n)]  # type: ignore[misc]


def _built(spec: TaskSpec, doc_id: int, row: Row, source: str, build: Callable) -> Any:
    try:
        return build(spec, doc_id, row)
    except (KeyError, TypeError, ValueError, IndexError) as err:
        where = source or spec.name
        detail = f"missing column {err}" if isinstance(err, KeyError) else str(err)
        raise UserError(f"{where}: row {doc_id}: {detail}"[:400]) from None


def resolve_tasks(names: str | None) -> list[TaskSpec]:
    """`--tasks a,b` -> specs in registry order; None or "all" -> all nine."""
    if names is None or names.strip() in ("", "all"):
        return list(TASKS.values())
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in TASKS]
    if unknown:
        raise UsageError(
            f"--tasks: unknown task {', '.join(map(repr, unknown))}; "
            f"known tasks: {', '.join(TASK_NAMES)}"
        )
    return [TASKS[n] for n in TASK_NAMES if n in wanted]
