"""Paper-reported scores of closed models (`references/*.yaml`), shown beside evaluated models.

These numbers were not produced here: they come from papers, under the papers' own protocols
(few-shot prompts, chain of thought, ensembles), so the site marks them as reported and never
ranks them. Every file names its source precisely enough for a reader to find the table; a task
the paper does not report stays absent (an empty cell), never estimated. Cells that another
publication reports (`cell_sources`) name that publication instead, and `protocol_note` says
where the cells do not share one protocol.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from runner.errors import UserError, describe_validation_error
from runner.evaluation.tasks import TASK_NAMES
from runner.submissions.safe_yaml import load_yaml_mapping


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PaperSource(_Strict):
    title: str = Field(min_length=1)
    authors: str = Field(min_length=1)
    year: int = Field(ge=1990, le=2100)
    url: str = Field(pattern=r"^https://\S+$")
    location: str = Field(min_length=1)  # where in the paper: table, figure, section


class CellSource(PaperSource):
    """The publication that reports some of a model's cells (`tasks`) instead of `source`."""

    tasks: tuple[str, ...] = Field(min_length=1)


class ReferenceModel(_Strict):
    """One closed model's reported accuracies, in percent exactly as the source prints them."""

    name: str = Field(min_length=1, max_length=80)
    developer: str = Field(min_length=1)
    setting: str = Field(min_length=1)  # the source's protocol, e.g. "5-shot"
    # the setting's kind, which says the track it sits beside (zero-/few-shot: loglik; CoT and
    # ensembles: cot); a row mixing protocols is filed under the strongest it uses
    setting_kind: Literal["zero-shot", "few-shot", "CoT", "ensemble"]
    source: PaperSource
    cell_sources: tuple[CellSource, ...] = ()  # cells reported by another publication
    protocol_note: str | None = None  # where the cells' protocols differ (read with `setting`)
    cross_check: str | None = None  # a second publication that prints the same numbers
    scores_percent: dict[str, float]

    @field_validator("scores_percent")
    @classmethod
    def _known_tasks(cls, scores: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(scores) - set(TASK_NAMES))
        if unknown:
            raise ValueError(f"unknown task {unknown[0]!r} (tasks: {', '.join(TASK_NAMES)})")
        for task, value in scores.items():
            if not 0.0 <= value <= 100.0:
                raise ValueError(f"{task}: {value} is not a percentage")
        return scores

    @model_validator(mode="after")
    def _cells_have_one_source(self) -> ReferenceModel:
        claimed = [task for cell in self.cell_sources for task in cell.tasks]
        for task in claimed:
            if task not in self.scores_percent:
                raise ValueError(f"cell_sources: {task!r} has no score in scores_percent")
        if len(claimed) != len(set(claimed)):
            raise ValueError("cell_sources: a task is claimed by two sources")
        return self

    def source_for(self, task: str) -> PaperSource:
        """The publication that reports this task's cell."""
        return next((c for c in self.cell_sources if task in c.tasks), self.source)

    @property
    def note(self) -> str:
        """The protocol as a reader needs it: the setting, then where cells differ."""
        return self.setting + (f". {self.protocol_note}" if self.protocol_note else "")

    def accuracy(self, task: str) -> float | None:
        value = self.scores_percent.get(task)
        return None if value is None else value / 100.0

    @property
    def track(self) -> str:
        """The track its setting sits beside: zero- and few-shot prompting beside loglik, chain
        of thought and ensembles beside cot."""
        return "loglik" if self.setting_kind in ("zero-shot", "few-shot") else "cot"

    @property
    def one_protocol_average(self) -> float | None:
        """The nine-task mean when every cell shares one protocol; never averaged across them."""
        return self.average if self.protocol_note is None else None

    @property
    def average(self) -> float | None:
        """The nine-task mean, only when the source reports all nine (else no average)."""
        if set(self.scores_percent) != set(TASK_NAMES):
            return None
        return sum(self.scores_percent[t] for t in TASK_NAMES) / len(TASK_NAMES) / 100.0


def load_references(directory: Path) -> list[ReferenceModel]:
    """Every `*.yaml` under `directory`, sorted by name; a missing directory means none."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    references = []
    for path in sorted(directory.glob("*.yaml")):
        mapping = load_yaml_mapping(path, str(path))
        try:
            references.append(ReferenceModel.model_validate(mapping.data))
        except ValidationError as err:
            raise UserError(f"{path}: {describe_validation_error(err)}") from None
    return sorted(references, key=lambda ref: ref.name.lower())
