"""The typed contract between the site build and its scripts: every JSON payload that crosses from
Python to the browser, as pydantic models with readable field names (ARCHITECTURE.md, "The site").

Python computes every derived value (rank ranges, the Hub link, size labels, the engine's words,
the question text, a question's confidence and stability under rotation); the scripts only
display. `python -m runner.sitegen.payloads` writes their JSON Schema to
`site/assets/payloads.schema.json`; `tests/sitegen/test_payloads.py` fails when that file is stale
or when a script reads a field the schema does not declare, so a field renamed on one side only
fails a test.

Payloads: the leaderboard (`LeaderboardPayload`, per track), the specialties table
(`SpecialtiesPayload`), the question view (`QuestionViewIndex` embedded, a `QuestionViewPayload`
file per model and task, with the question texts from `QuestionTexts`), the compare page's data
(`ComparePayload` embedded, a `CompareModel` file per model) and the pilot shortlist's
(`ShortlistPayload`, a `DossierSections` file per model).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from runner.evaluation.question_texts import QuestionTexts

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "site" / "assets" / "payloads.schema.json"

Triple = tuple[float | None, float | None, float | None]  # percent: value, 95% low, 95% high


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json(self) -> str:
        """Compact JSON without absent fields (the scripts read a missing field as null), safe
        inside a <script> element (no `</script>` can close it early)."""
        return self.model_dump_json(exclude_none=True).replace("</", "<\\/")


# ---- the leaderboard ----


# Where a model's 95% interval allows it to rank: [best, worst], best = 1 + the models whose
# interval lies wholly above, worst = N − the models wholly below (worst − best other models
# overlap it). A pair, not an object: 1,000 rows × 12 rankings keep the page under 1 MB.
RankRange = tuple[int, int]


class FlagNote(_Payload):
    reason: str
    discussion: str
    date: str


class ModelFacts(_Payload):
    """What the tracks share about one evaluated model (`LeaderboardRow.model_index`)."""

    key: str | None = None  # the page path models/<key>/ when it is not the model id
    model: str
    hub_url: str | None = None  # the Hub page at the evaluated revision
    model_type: str
    params: int | None = None
    size_label: str  # "7B", "—"
    precision: str | None = None
    license: str | None = None
    flag: FlagNote | None = None


class LeaderboardRow(_Payload):
    """One evaluated model on one track: its scores, ranges and, per track, its own columns."""

    model_index: int  # into LeaderboardPayload.models
    rank: RankRange | None = None
    unranked_reason: str | None = None
    average: Triple | None = None
    tasks: list[Triple | None]
    task_ranks: list[RankRange | None]
    # loglik track only
    consistent: Triple | None = None
    consistent_rank: RankRange | None = None
    # cot track only
    no_answer: float | None = None  # percent of items without a "Final Answer" line
    truncated: float | None = None  # percent of items that hit max_new_tokens
    engine: str | None = None  # "transformers 4.57.1", "vLLM 0.11.0"
    not_run: str | None = None  # why this model has no cot score


class NormalizedRow(_Payload):
    """A loglik row's chance-normalised scores, fetched when the reader asks for that view."""

    model_index: int
    normalized_average: Triple | None = None
    normalized_rank: RankRange | None = None
    normalized_tasks: list[Triple | None] | None = None


class NormalizedScores(_Payload):
    rows: list[NormalizedRow]
    references: list[list[float | None]]  # per loglik reference row: the nine tasks, normalised


ReferenceSetting = Literal["zero-shot", "few-shot", "CoT", "ensemble"]


class ReferenceRow(_Payload):
    """A closed model's paper-reported scores: never ranked, shown only on request and only
    beside the track whose setting it matches; an average only when all nine share one setting."""

    name: str
    setting: ReferenceSetting
    setting_text: str  # the source's own words
    source_url: str
    average: float | None = None
    tasks: list[float | None]


class LeaderboardTrack(_Payload):
    track: Literal["loglik", "cot"]
    rows: list[LeaderboardRow]
    references: list[ReferenceRow]
    ranked: int


class LeaderboardPayload(_Payload):
    """The page embeds the loglik track; every other track is a `LeaderboardTrack` file it
    fetches when the reader switches to it (`track_files`), so each page stays under 1 MB."""

    tasks: list[str]
    task_titles: list[str]
    models: list[ModelFacts]
    tracks: list[LeaderboardTrack]
    track_files: dict[str, str]  # track -> path under the site root
    normalized_file: str  # NormalizedScores, path under the site root


# ---- the specialties table ----


class SpecialtyColumn(_Payload):
    key: str  # "<task>:<subject>", the ?sort= value
    name: str  # the specialty as the page names it
    group: str  # "MedMCQA", "MMLU"
    task_title: str
    questions: int  # the count most models answered


# One model in one specialty: accuracy, its Wilson 95% interval (percent), rank range, questions
SpecialtyCell = tuple[float, float, float, int, int, int]


class SpecialtyRow(_Payload):
    model_index: int  # into SpecialtiesPayload.models
    rank: RankRange | None = None  # the track's rank by average
    average: float | None = None  # percent
    cells: list[SpecialtyCell | None]


class SpecialtiesTrack(_Payload):
    track: Literal["loglik", "cot"]
    rows: list[SpecialtyRow]
    ranked: list[int]  # per column, the models ranked in it


class SpecialtyModel(_Payload):
    key: str
    model: str


class SpecialtiesPayload(_Payload):
    """The page embeds the loglik track; the cot track is a `SpecialtiesTrack` file it fetches
    when the reader switches to it."""

    columns: list[SpecialtyColumn]
    models: list[SpecialtyModel]
    tracks: list[SpecialtiesTrack]
    track_files: dict[str, str]


# ---- the question view ----


class CotAnswer(_Payload):
    generation: str
    answer: str | None = None  # the extracted letter/word, null when none was found
    correct: bool
    output_tokens: int
    truncated: bool


class QuestionDataset(_Payload):
    """The rows a question view shows and their Hub links (`question_views.dataset_links`)."""

    id: str
    config: str | None = None
    split: str
    revision: str | None = None  # the rows are known to be the Hub's at this commit
    rows: str  # "hub", "sample", "unknown", ...
    viewer: str | None = None  # the Hub's dataset viewer, current version (no revision)
    files: str | None = None  # the dataset's files at `revision`


class PredictionsFile(_Payload):
    url: str
    sha256: str


class QuestionViewPayload(_Payload):
    """One model on one task: per item the gold, the choice, per-mille probabilities, the
    probability of the choice (`conf`) and of the gold (`p_gold`), the option chosen under each
    rotation (digits), whether it stayed the same (`stable`) and stayed right (`survives`) and,
    on the cot track, the generation."""

    model: str
    revision: str
    task: str
    labels: list[str]
    n: int
    dataset: QuestionDataset
    predictions: PredictionsFile
    gold: list[int]
    pred: list[int]
    p: list[list[int]]
    conf: list[int]  # p[i][pred[i]]
    p_gold: list[int]  # p[i][gold[i]]
    rot: list[str] | None = None
    stable: list[bool] | None = None  # every rotation chose the same option
    survives: list[bool] | None = None  # every rotation chose the gold
    texts_url: str | None = None  # the QuestionTexts file of these rows
    cot: list[CotAnswer] | None = None


class QuestionViewTask(_Payload):
    name: str  # "medqa_4options", the ?task= value
    title: str


class QuestionViewModel(_Payload):
    key: str  # the ?model= value, data/questions/<key>/
    model: str
    tasks: list[int]  # its tasks with a question view, into QuestionViewIndex.tasks


class QuestionViewIndex(_Payload):
    """What the question-view page embeds: the tasks and the models with a view."""

    tasks: list[QuestionViewTask]
    models: list[QuestionViewModel]


# ---- the compare page ----


class CompareTaskName(_Payload):
    name: str  # "medqa_4options"
    title: str  # "MedQA (USMLE, 4 options)"
    short: str  # the narrow screen's column name


class CompareEntry(_Payload):
    """One evaluated model in the compare page's picker, in leaderboard order."""

    key: str
    model: str
    file: str  # its `CompareModel` file under the site root, fetched when the model is chosen
    question_tasks: list[str]  # tasks with a question view (the disagreement ids link there)


class ComparePayload(_Payload):
    """What the compare page embeds: the tasks and the models it can compare."""

    tasks: list[CompareTaskName]
    models: list[CompareEntry]


class CompareTask(_Payload):
    correct: str  # encode_bits of [right, doc_id 0..n-1], as in the results file
    n: int
    data_sha256: str  # the rows as evaluated: two models compare only on the same rows
    texts_url: str | None = None  # the QuestionTexts file of these rows (disagreements' stems)


class CompareModel(_Payload):
    """One model's per-item correctness on both tracks (`data/compare/<key>.json`)."""

    key: str
    model: str
    loglik: dict[str, CompareTask]
    cot: dict[str, CompareTask]


# ---- the pilot shortlist (runner/sitegen/shortlist.py) ----


LicenceClass = Literal["open", "custom", "non-commercial", "unknown"]


class ShortlistTrack(_Payload):
    """A track's nine-task average on which the model is ranked, with its 95% interval."""

    average: float
    low: float
    high: float


class ShortlistModel(_Payload):
    key: str  # org/model: its page is models/<key>/, its dossier data/dossier/<key>.json
    model_id: str
    licence: str  # the submission's Hub licence id, "" when there is no submission
    licence_class: LicenceClass
    licence_note: str  # what the class means for this licence, in words
    params: int | None
    memory_gib: dict[str, float]  # precision -> weights plus overhead; empty without params
    evaluated_precision: str
    flagged: bool
    tracks: dict[Literal["loglik", "cot"], ShortlistTrack]


class ShortlistPayload(_Payload):
    overhead: float
    bytes_per_parameter: dict[str, int]
    advisory_title: str
    advisory: str
    models: list[ShortlistModel]


class DossierSections(_Payload):
    """A listed model's dossier section (`data/dossier/<key>.json`), rendered by dossier.py."""

    key: str
    markdown: str
    html: str


PAYLOADS: tuple[type[_Payload], ...] = (
    LeaderboardPayload,
    NormalizedScores,
    SpecialtiesPayload,
    QuestionViewPayload,
    QuestionViewIndex,
    QuestionTexts,
    ComparePayload,
    CompareModel,
    ShortlistPayload,
    DossierSections,
)


def payload_schema() -> dict:
    """One JSON Schema document with every payload's definitions."""
    from pydantic.json_schema import models_json_schema

    _, schema = models_json_schema(
        [(model, "serialization") for model in PAYLOADS], title="medlb site payloads"
    )
    return schema


def schema_text() -> str:
    return json.dumps(payload_schema(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    sys.stdout.write(f"wrote {SCHEMA_FILE}\n")
