"""The one exception type that reaches a user as a message instead of a traceback.

Anything a user can cause (a bad YAML file, a missing data file, a wrong flag) raises `UserError`
with a sentence that names the file and field. The CLI prints it on one line and exits with
`exit_code`. A service that did not answer (the Hub down or rate-limiting) is `CouldNotCheck`:
exit 3, which is no verdict on the input and means "run it again later". Every other exception is
a bug in medlb and keeps its traceback.
"""

from __future__ import annotations

from runner.untrusted_text import one_line

EXIT_INVALID = 1  # the input is wrong: fix the file, the model or the data
EXIT_USAGE = 2  # the command line is wrong
EXIT_COULD_NOT_CHECK = 3  # a service (the Hub) did not answer: no verdict; re-run later


class UserError(Exception):
    """An error the user can fix; `str(err)` is the whole message shown."""

    def __init__(self, message: str, *, exit_code: int = EXIT_INVALID) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class UsageError(UserError):
    """A wrong command line (unknown task name, `--limit 0`, conflicting flags)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_USAGE)


class CouldNotCheck(UserError):
    """A service did not answer (unreachable, timed out, rate-limited, a server error): nothing is
    known about the input, and running the command again later may succeed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=EXIT_COULD_NOT_CHECK)


def first_line(err: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (its type name when it has none), cut to `limit`.

    Library errors (transformers, huggingface_hub) can span pages; a user's message shows one line.
    """
    lines = str(err).strip().splitlines()
    return (lines[0] if lines else type(err).__name__)[:limit]


def describe_validation_error(err: object, *, max_items: int = 3, max_chars: int = 160) -> str:
    """One short line from a pydantic `ValidationError`: `field.path: problem; ...`.

    Input values are never echoed in full (a hostile file could make the message huge); at most
    `max_items` problems are listed, each cut to `max_chars`.
    """
    items = []
    for problem in err.errors(include_url=False, include_input=False):  # type: ignore[attr-defined]
        # A key of the input (an unexpected field's name) is untrusted text: escaped, cut.
        where = ".".join(one_line(str(part))[:60] for part in problem.get("loc", ()))
        where = where or "(top level)"
        text = f"{where}: {problem.get('msg', 'invalid')}"
        items.append(text if len(text) <= max_chars else text[: max_chars - 1] + "…")
    extra = len(items) - max_items
    shown = "; ".join(items[:max_items])
    return shown + (f" (and {extra} more)" if extra > 0 else "")
