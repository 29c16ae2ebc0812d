"""Maintainer flags: `flags/<org>/<model>.yaml`, one small file per flagged model.

A flag records that a maintainer has a documented reason to doubt a model's scores (for example,
evidence that it was trained on one of the nine test sets) and where that was discussed in the
open. The scores stay published; the site marks the model, says why, and lets readers hide
flagged models (ARCHITECTURE.md, "Flags"). The format is in flags/README.md. Like references/,
every file is checked strictly: an unknown or missing field, a model that does not match the
file's path, a link that is not https, or a date in the future is one error naming the file.

A flag must also name a model the site knows (`flag_targets`, ARCHITECTURE.md "Flags"): one
whose model was submitted but has no result yet is a warning (a maintainer may flag a model
before its run; the flag shows once the result is published), and one that names a model with
neither a result nor a submission stops the build, because it can never mark anything: almost
certainly a misspelled model id, which would otherwise leave the model it meant unmarked.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path, PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from runner.errors import UserError, describe_validation_error
from runner.submissions.safe_yaml import load_yaml_mapping
from runner.submissions.schema import check_hub_id

FLAGS_DIR = "flags"
FLAG_SUFFIX = ".yaml"


class Flag(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model: Annotated[str, AfterValidator(check_hub_id)]  # the flagged Hub id, as in submissions/
    reason: str = Field(min_length=10, max_length=600)  # shown on the site as written
    discussion: str = Field(pattern=r"^https://\S+$")  # the public issue, PR or discussion
    date: dt.date  # when the flag was raised

    @field_validator("date")
    @classmethod
    def _not_in_the_future(cls, value: dt.date) -> dt.date:
        if value > dt.date.today():
            raise ValueError(f"{value} is in the future")
        return value

    @property
    def expected_path(self) -> PurePosixPath:
        org, name = self.model.split("/")
        return PurePosixPath(FLAGS_DIR, org, name + FLAG_SUFFIX)


def load_flags(directory: Path) -> dict[str, Flag]:
    """Every `<org>/<model>.yaml` under `directory`, by model id; a missing directory means none."""
    directory = Path(directory)
    if not directory.is_dir():
        return {}
    misnamed = sorted(directory.rglob("*.yml"))
    if misnamed:
        raise UserError(f"{misnamed[0]}: flag files end in {FLAG_SUFFIX}")
    flags = {}
    for path in sorted(directory.rglob(f"*{FLAG_SUFFIX}")):
        flag = _load_flag(path)
        relative = PurePosixPath(FLAGS_DIR, *path.relative_to(directory).parts)
        if relative != flag.expected_path:
            raise UserError(f"{path}: a flag of {flag.model} must be {flag.expected_path}")
        flags[flag.model] = flag
    return flags


def _load_flag(path: Path) -> Flag:
    mapping = load_yaml_mapping(path, str(path))
    try:
        return Flag.model_validate(mapping.data)
    except ValidationError as err:
        raise UserError(f"{path}: {describe_validation_error(err)}") from None


def flag_targets(
    flags: dict[str, Flag], directory: Path, evaluated: set[str], submitted: set[str]
) -> list[str]:
    """Check that every flag names a model with a result; returns one warning line per flag of a
    submitted model without a result yet, and raises `UserError` for a flag of an unknown model."""
    warnings = []
    # Hub ids ignore case, so a flag of BioMistral/BioMistral-7B flags biomistral/biomistral-7b.
    evaluated_folded = {model.casefold() for model in evaluated}
    submitted_folded = {model.casefold() for model in submitted}
    for model in sorted(m for m in flags if m.casefold() not in evaluated_folded):
        # the file it was loaded from: load_flags holds every flag to its expected path
        path = Path(directory, flags[model].expected_path.relative_to(FLAGS_DIR))
        if model.casefold() not in submitted_folded:
            raise UserError(
                f"{path}: flags {model}, which has no result and no submission "
                "(a misspelled model id?)"
            )
        warnings.append(f"{path}: flags {model}, which has no result yet; shown once published")
    return warnings
