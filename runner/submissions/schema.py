"""The submission contract: `submissions/<org>/<model>.yaml`, one file per submitted model.

A submitter states only what they know (which model, which commit, which precision, what kind of
model, its base and license). Everything that can be read from the Hub (parameter count,
architecture, vocabulary) is read from the Hub by the model checks, never taken from this file.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from runner.precision import Precision
from runner.submissions.safe_yaml import (
    FileError,
    YamlMapping,
    load_yaml_bytes,
    load_yaml_mapping,
    shorten,
)

SUBMISSIONS_DIR = "submissions"
SUBMISSION_SUFFIX = ".yaml"
MAX_HUB_NAME = 96  # the Hub's limit on a repository name (and, here, on an org name)

ModelType = Literal["pretrained", "fine-tuned", "instruction-tuned", "rl-tuned", "merged"]
DERIVED_MODEL_TYPES = ("fine-tuned", "instruction-tuned", "rl-tuned", "merged")

_HUB_PART = re.compile(r"[A-Za-z0-9_.-]+")
COMMIT_SHA = re.compile(r"[0-9a-f]{40}")  # a full, lowercase git commit id
_LICENSE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_-]*")


def check_hub_id(value: str) -> str:
    """A Hub model id `org/name` as the Hub accepts it, restricted to ASCII (no homoglyphs)."""
    for char in value:
        if not char.isascii():
            name = unicodedata.name(char, "unnamed")
            raise ValueError(f"contains non-ASCII character U+{ord(char):04X} ({name})")
    if ".." in value:
        raise ValueError("may not contain '..'")
    if value.count("/") != 1:
        raise ValueError("must be `org/name` with exactly one '/'")
    for part in value.split("/"):
        if not part:
            raise ValueError("org and name must both be non-empty")
        if len(part) > MAX_HUB_NAME:
            raise ValueError(f"org and name are limited to {MAX_HUB_NAME} characters each")
        if not _HUB_PART.fullmatch(part):
            raise ValueError("may contain only ASCII letters, digits, '-', '_' and '.'")
        if "--" in part:
            raise ValueError("may not contain '--'")
        if part[0] in "-." or part[-1] in "-.":
            raise ValueError("org and name may not start or end with '-' or '.'")
    return value


# The one rule for where a submission lives: exactly `submissions/<org>/<model>.yaml`, matched in
# full (nothing before, after or in between), org and model spelled as the parts of a Hub id.
_SUBMISSION_FILE = re.compile(rf"{SUBMISSIONS_DIR}/([^/]+)/([^/]+){re.escape(SUBMISSION_SUFFIX)}")


def is_submission_path(path: str) -> bool:
    match = _SUBMISSION_FILE.fullmatch(path)
    if match is None:
        return False
    try:
        check_hub_id(f"{match[1]}/{match[2]}")
    except ValueError:
        return False
    return True


def _check_https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError("must be an https:// URL")
    return value


def _check_contact(value: str) -> str:
    if value.startswith("mailto:") and "@" in value and not any(c.isspace() for c in value):
        return value
    try:
        return _check_https_url(value)
    except ValueError:
        raise ValueError("must be an https:// URL or a mailto: address") from None


def _require_revision_text(value: Any) -> Any:
    # YAML reads an all-digit SHA as an integer: say how to fix it instead of "not a string".
    if isinstance(value, int | float):
        raise ValueError("must be a 40-character commit SHA in quotes (YAML read a number)")
    return value


def _check_sha(value: str) -> str:
    if not COMMIT_SHA.fullmatch(value):
        if COMMIT_SHA.fullmatch(value.lower()):
            raise ValueError("write the commit SHA in lowercase")
        raise ValueError(
            f"must be a full 40-character lowercase hex commit SHA, not {shorten(value, 20)} "
            "(branch names, tags and short SHAs are not pinned)"
        )
    return value


def _check_license(value: str) -> str:
    if not _LICENSE.fullmatch(value):
        raise ValueError("must be a Hub license id such as apache-2.0, mit, llama2 or other")
    return value


HubId = Annotated[str, AfterValidator(check_hub_id)]
CommitSha = Annotated[str, BeforeValidator(_require_revision_text), AfterValidator(_check_sha)]


class Submission(BaseModel):
    """One model submitted for evaluation: the file a model author writes (SUBMITTING.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    model: HubId
    revision: CommitSha
    precision: Precision
    model_type: ModelType
    base_model: HubId | None = None  # required unless model_type is pretrained
    license: Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_license)]
    description: Annotated[str, Field(min_length=10, max_length=2000)]
    paper: Annotated[str, Field(max_length=500), AfterValidator(_check_https_url)] | None = None
    contact: Annotated[str, Field(max_length=500), AfterValidator(_check_contact)] | None = None

    @model_validator(mode="after")
    def _base_model_rules(self) -> Submission:
        if self.model_type in DERIVED_MODEL_TYPES and self.base_model is None:
            raise ValueError(f"base_model: required when model_type is {self.model_type}")
        if self.base_model == self.model:
            raise ValueError("base_model: must differ from model")
        return self

    @property
    def org(self) -> str:
        return self.model.split("/")[0]

    @property
    def name(self) -> str:
        return self.model.split("/")[1]

    @property
    def expected_path(self) -> PurePosixPath:
        """Where this submission must live, relative to the repository root."""
        return PurePosixPath(SUBMISSIONS_DIR, self.org, self.name + SUBMISSION_SUFFIX)


def check_submission_path(submission: Submission, path: Path, display: str) -> None:
    """The file must be `submissions/<org>/<model>.yaml` for the model it names."""
    path = Path(path).absolute()  # so that `Model.yaml` given from inside its folder works too
    actual = PurePosixPath(path.parent.parent.name, path.parent.name, path.name)
    if actual != submission.expected_path:
        raise FileError(
            display,
            f"model {submission.model} must be submitted as {submission.expected_path}",
            1,
        )


def submission_from_mapping(mapping: YamlMapping, display: str) -> Submission:
    """Validate a parsed YAML mapping against `Submission`; errors name the field and line."""
    try:
        return Submission.model_validate(mapping.data)
    except ValidationError as err:
        raise _located_error(err, mapping, display) from None


# Problems listed in one message; the rest are counted, so the message stays short for any input.
MAX_PROBLEMS_SHOWN = 4


def _located_error(err: ValidationError, mapping: YamlMapping, display: str) -> FileError:
    """Every problem as `field: reason` (the first `MAX_PROBLEMS_SHOWN`, then a count), at the
    first problem's line (missing fields: no line), so one push fixes them all."""
    problems = err.errors(include_url=False, include_input=False)
    described = [_describe_problem(problem) for problem in problems]
    field = described[0][0]
    reasons = [reason[:160] for _, reason in described[:MAX_PROBLEMS_SHOWN]]
    more = len(problems) - len(reasons)
    text = "; ".join(reasons)
    if more:
        text += f" (and {more} more problem{'s' if more > 1 else ''})"
    return FileError(display, text, mapping.key_lines.get(field))


def _describe_problem(problem: Any) -> tuple[str, str]:
    """(field, "field: reason") for one pydantic error; input values are never echoed."""
    loc = problem.get("loc", ())
    field = str(loc[0]) if loc else ""
    reason = problem.get("msg", "invalid").removeprefix("Value error, ")
    if problem.get("type") == "extra_forbidden":
        reason = (
            f"unknown field {shorten(field, 30)} (allowed: {', '.join(Submission.model_fields)})"
        )
    elif problem.get("type") == "missing":
        reason = f"{field}: required field is missing"
    elif field:
        reason = f"{field}: {reason}"
    if not field and reason.split(":")[0] in Submission.model_fields:
        field = reason.split(":")[0]  # model-level rules name their field first
    return field, reason


def load_submission(
    path: Path, *, check_path: bool = False, display: str | None = None
) -> Submission:
    """Load and validate a submission file; any problem is one `FileError` (a `UserError`).

    `check_path=True` also requires the file to sit at `submissions/<org>/<model>.yaml` for the
    model it names (what `medlb validate` checks on a pull request).
    """
    shown = display if display is not None else str(path)
    submission = submission_from_mapping(load_yaml_mapping(Path(path), shown), shown)
    if check_path:
        check_submission_path(submission, Path(path), shown)
    return submission


def submission_from_bytes(data: bytes, display: str) -> Submission:
    """`load_submission` for file contents already in memory (a base branch's version)."""
    return submission_from_mapping(load_yaml_bytes(data, display), display)
