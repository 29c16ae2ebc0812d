"""Talking to the GitHub Actions runner: error lines, job outputs and the job summary.

Outside Actions (no `$GITHUB_OUTPUT` / `$GITHUB_STEP_SUMMARY`) outputs and summaries are skipped
and error lines are still printed, so a command reads the same locally and in CI. Text that may
come from untrusted files is escaped (the runner toolkit's rules for workflow commands, and
`markdown_text` for summaries) so that it can never start a workflow command or inject HTML.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from runner.untrusted_text import escape_markdown


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the GitHub Actions runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file, title): also ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def repository_url() -> str | None:
    """`https://github.com/<owner>/<repo>` of the running workflow (None outside Actions)."""
    server, repository = os.environ.get("GITHUB_SERVER_URL"), os.environ.get("GITHUB_REPOSITORY")
    return f"{server.rstrip('/')}/{repository}" if server and repository else None


@contextmanager
def log_group(title: str) -> Iterator[None]:
    """Fold what is printed inside into one collapsible section of the Actions log (no-op
    elsewhere). Markers go to stdout and stderr is flushed first, so the two streams stay in order
    in the runner's combined log."""
    if not in_actions():
        yield
        return
    sys.stderr.flush()
    print(f"::group::{escape_data(title)}", flush=True)
    try:
        yield
    finally:
        sys.stderr.flush()
        print("::endgroup::", flush=True)


def markdown_text(text: str, limit: int | None = None) -> str:
    """Untrusted text as inert Markdown on one line (`untrusted_text.escape_markdown`, the one
    escaping for Markdown), cut to about `limit` characters first."""
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return escape_markdown(text)


def annotation_line(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    title: str | None = None,
) -> str:
    """`::<level> file=…,line=…,title=…::message` (each property only when given), one line
    whatever the message and the properties hold."""
    props = [f"file={escape_property(file)}"] if file is not None else []
    if line is not None:
        props.append(f"line={line}")
    if title:
        props.append(f"title={escape_property(title)}")
    shown = f" {','.join(props)}" if props else ""
    return f"::{level}{shown}::{escape_data(message)}"


def error_line(message: str, *, title: str | None = None) -> str:
    """`::error title=…::message`, one line whatever the message holds."""
    return annotation_line("error", message, title=title)


def warning_line(message: str) -> str:
    """`::warning::message` under GitHub Actions (an annotation), else `warning: message`."""
    return f"::warning::{escape_data(message)}" if in_actions() else f"warning: {message}"


def set_outputs(outputs: dict[str, str]) -> None:
    """Append step outputs to `$GITHUB_OUTPUT` (heredoc form: a value may hold anything)."""
    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            delimiter = f"medlb_{uuid.uuid4().hex}"
            handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def append_summary(markdown: str) -> None:
    """Add a section to the job summary page (`$GITHUB_STEP_SUMMARY`; appending is the protocol)."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n\n")
