"""Paper-reported scores of closed models (`references/*.yaml`), shown beside evaluated models.

These numbers were not produced here: they come from papers, under the papers' own protocols
(few-shot prompts, chain of thought, ensembles), so the site marks them as reported and never
ranks them. Every file names its source precisely enough for a reader to find the table; a task
the paper does not report stays absent (an empty cell), never estimated.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class ReferenceModel(_Strict):
    """One closed model's reported accuracies, in percent exactly as the source prints them."""

    name: str = Field(min_length=1, max_length=80)
    developer: str = Field(min_length=1)
    setting: str = Field(min_length=1)  # the source's protocol, e.g. "5-shot"
    source: PaperSource
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

    def accuracy(self, task: str) -> float | None:
        value = self.scores_percent.get(task)
        return None if value is None else value / 100.0

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
