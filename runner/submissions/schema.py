"""The submission contract: `submissions/<org>/<model>.yaml`, one file per submitted model.

A submitter states only what they know (which model, which commit, which precision, what kind of
model, its base and license). Everything that can be read from the Hub (parameter count,
architecture, vocabulary) is read from the Hub by the model checks, never taken from this file.

`review_mapping` checks a parsed file field by field and returns every problem at once, each on
its key's line, with the advice of `runner.submissions.suggestions`: a misspelled key is checked
under the name it stands for, and the rule on `base_model` is checked whenever the fields it
reads are valid, so one push fixes everything (ARCHITECTURE.md, "Submissions").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal, get_args
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
from runner.results_schema import TRACKS, Track
from runner.submissions import suggestions
from runner.submissions.safe_yaml import (
    EmptyFileError,
    FileError,
    Problem,
    YamlMapping,
    load_yaml_bytes,
    load_yaml_mapping,
)
from runner.untrusted_text import shorten

SUBMISSIONS_DIR = "submissions"
SUBMISSION_SUFFIX = ".yaml"
MAX_HUB_NAME = 96  # the Hub's limit on a repository name (and, here, on an org name)

ModelType = Literal["pretrained", "fine-tuned", "instruction-tuned", "rl-tuned", "merged"]
MODEL_TYPES: tuple[str, ...] = get_args(ModelType)
DERIVED_MODEL_TYPES = tuple(kind for kind in MODEL_TYPES if kind != "pretrained")

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


def _tracks_as_tuple(value: Any) -> Any:
    # YAML gives a list; the frozen submission keeps an (immutable, hashable) tuple.
    return tuple(value) if isinstance(value, list) else value


def _check_tracks(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError(f"list at least one of {', '.join(TRACKS)}, or leave the field out")
    if len(set(value)) != len(value):
        raise ValueError("names a track twice")
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
    # Which tracks to run (ARCHITECTURE.md, "The reasoning track"); None: every track the model
    # allows (`cot` needs a chat template).
    tracks: (
        Annotated[
            tuple[Track, ...], BeforeValidator(_tracks_as_tuple), AfterValidator(_check_tracks)
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _base_model_rules(self) -> Submission:
        broken = base_model_rule(self.model, self.model_type, self.base_model)
        if broken is not None:
            raise ValueError(broken[1])
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


def base_model_rule(
    model: str | None, model_type: str | None, base_model: str | None
) -> tuple[str, str] | None:
    """(the field whose line shows the problem, reason) when `base_model` breaks its rule.

    `model` / `model_type` None: not known to be valid, so the part of the rule that needs it is
    not judged (the field's own problem is reported instead)."""
    if model_type in DERIVED_MODEL_TYPES and base_model is None:
        return (
            "model_type",
            f"base_model: required when model_type is {model_type}; add "
            "`base_model: <org>/<name>`, the Hub id of the model it was made from",
        )
    if model is not None and base_model == model:
        return "base_model", "base_model: must differ from model (name the model it was made from)"
    return None


def path_problem(model: str, path: Path) -> str | None:
    """Why `path` is not `submissions/<org>/<model>.yaml` for `model` (None: it is)."""
    path = Path(path).absolute()  # so that `Model.yaml` given from inside its folder works too
    actual = PurePosixPath(path.parent.parent.name, path.parent.name, path.name)
    org, name = model.split("/")
    expected = PurePosixPath(SUBMISSIONS_DIR, org, name + SUBMISSION_SUFFIX)
    if actual == expected:
        return None
    reason = f"model {model} must be submitted as {expected}"
    if actual.with_suffix(SUBMISSION_SUFFIX) == expected:
        return reason + f"; rename the file: the suffix is {SUBMISSION_SUFFIX}"
    if str(actual).lower() == str(expected).lower():
        return reason + "; folder and file name must match `model` letter for letter"
    return reason + " (move the file there, or correct `model` if the path is right)"


def check_submission_path(submission: Submission, path: Path, display: str) -> None:
    """The file must be `submissions/<org>/<model>.yaml` for the model it names."""
    reason = path_problem(submission.model, path)
    if reason is not None:
        raise FileError(display, reason, 1)


@dataclass(frozen=True)
class SchemaReview:
    """Every schema problem of one file, and what could be read despite them."""

    submission: Submission | None  # None when any problem was found
    problems: list[Problem]
    model: str | None  # the `model` value when it is itself valid (all the path rule needs)
    revision: str | None = None  # the `revision` when valid (with `model`, the Hub checks' input)


def review_mapping(mapping: YamlMapping) -> SchemaReview:
    """Check a parsed file against `Submission` and return every problem (module docstring)."""
    fields = tuple(Submission.model_fields)
    data, lines, raw = {}, dict(mapping.key_lines), dict(mapping.raw)
    present = {key: line for key, line in mapping.key_lines.items() if key in fields}
    problems = []
    for key, value in mapping.data.items():
        if key in fields:
            data[key] = value
            continue
        name = str(key)
        reason, meant = suggestions.unknown_field(name, fields, present)
        problems.append(Problem(reason, lines.get(name)))
        if meant:  # check the value under the name it stands for, on this line
            data[meant], lines[meant] = value, lines.get(name, 0)
            raw[meant] = mapping.raw.get(name, "")
    bad: set[str] = set()
    try:
        submission: Submission | None = Submission.model_validate(data)
    except ValidationError as err:
        submission = None
        for error in err.errors(include_url=False, include_input=False):
            field = str(error["loc"][0]) if error.get("loc") else ""
            if not field or field in bad:  # the model-level rule is judged below
                continue
            bad.add(field)
            reason = _explain(field, error, data.get(field), raw.get(field))
            problems.append(Problem(reason, lines.get(field)))
    if "base_model" not in bad and submission is None:
        known = {f: None if f in bad else data.get(f) for f in ("model", "model_type")}
        if "model_type" in bad and isinstance(data.get("model_type"), str):
            # judged as what it stands for (`chat`: instruction-tuned), so that a missing
            # base_model is named in the same run as the model_type to rename
            known["model_type"] = suggestions.meant_model_type(data["model_type"])
        broken = base_model_rule(known["model"], known["model_type"], data.get("base_model"))
        if broken is not None:
            problems.append(Problem(broken[1], lines.get(broken[0])))
    if problems:
        submission = None
    problems.sort(key=lambda p: (p.line is None, p.line or 0))
    model = data.get("model") if "model" in data and "model" not in bad else None
    revision = data.get("revision") if "revision" in data and "revision" not in bad else None
    return SchemaReview(submission, problems, model, revision)


def _explain(field: str, error: Any, value: Any, raw: str | None) -> str:
    """The reason for one field's pydantic error, in the words of `suggestions`."""
    kind = error.get("type", "")
    message = error.get("msg", "invalid").removeprefix("Value error, ")
    if kind == "missing":
        return suggestions.missing_field(field)
    if field in ("model", "base_model"):
        if not isinstance(value, str):
            return suggestions.wrong_type(field, value, "a Hub id `org/name`")
        return suggestions.hub_id(field, value, message)
    if field == "tracks" and kind != "value_error":
        return f"tracks: must be a list of {' and/or '.join(TRACKS)}, e.g. `tracks: [loglik]`"
    explained = {
        "revision": lambda: suggestions.revision(value, raw),
        "precision": lambda: suggestions.precision(value, raw),
        "model_type": lambda: suggestions.model_type(value, raw),
        "license": lambda: suggestions.license_id(value),
        "description": lambda: suggestions.description(value),
        "paper": lambda: suggestions.paper(value, raw),
        "contact": lambda: suggestions.contact(value),
    }.get(field, lambda: None)()
    return explained or f"{field}: {message}"


def submission_from_mapping(mapping: YamlMapping, display: str) -> Submission:
    """Validate a parsed YAML mapping against `Submission`; a `FileError` lists every problem."""
    review = review_mapping(mapping)
    problems = [*mapping.problems, *review.problems]
    if problems or review.submission is None:
        raise FileError.of(display, problems or [Problem("not a valid submission")])
    return review.submission


def read_submission_mapping(path: Path, display: str) -> YamlMapping:
    """The YAML of a submission for `medlb validate`: slips come back in `problems` (the parse
    goes on past them), and an empty file says what to write."""
    try:
        return load_yaml_mapping(path, display, keep_going=True)
    except EmptyFileError as err:
        required = [f for f, info in Submission.model_fields.items() if info.is_required()]
        raise FileError(
            display,
            f"{err.reason}: write the fields {', '.join(required)} (the template is in "
            "SUBMITTING.md)",
        ) from None


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
