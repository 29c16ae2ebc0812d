"""The report of `medlb validate`, written for people, for GitHub Actions and for machines.

One `FileReport` per file looked at (a submission, or any other file a pull request changed) holds
the result of every check in `CHECKS` order. The renderers below never decide anything; they only
show the results: terminal text, `::error` workflow commands (inline on the PR diff), a Markdown
job summary and JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from runner.github_actions import escape_data, escape_property
from runner.submissions.checks import CHECKS_BY_ID, CheckResult
from runner.untrusted_text import escape_markdown

MARKS = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}


@dataclass
class FileReport:
    path: str  # as shown to the user; repository-relative in CI
    results: list[CheckResult] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not any(result.failed for result in self.results)


def render_text(reports: list[FileReport]) -> str:
    """What a person reads: every check of every file, with its evidence or reason."""
    width = max((len(r.check) for report in reports for r in report.results), default=8)
    lines = []
    for report in reports:
        # A path or message may hold a newline (a file name is anyone's choice): escaped, it can
        # never start a line that the Actions runner reads as a workflow command.
        path = escape_data(report.path)
        lines.append(f"{path}: {'valid' if report.valid else 'INVALID'}")
        for result in report.results:
            message = escape_data(result.message)
            if result.failed and CHECKS_BY_ID[result.check].stage == "file":
                # `path:line: reason`, the form editors and terminals turn into a link
                line = f":{result.line}" if result.line is not None else ""
                message = f"{path}{line}: {message}"
            lines.append(f"  {MARKS[result.status]}  {result.check:<{width}}  {message}")
    invalid = sum(not report.valid for report in reports)
    lines.append(
        f"{len(reports)} file{'s' if len(reports) != 1 else ''} checked: "
        f"{len(reports) - invalid} valid, {invalid} invalid"
    )
    return "\n".join(lines)


def render_annotations(reports: list[FileReport]) -> list[str]:
    """One `::error` command per failed check, anchored at the file (and line when known)."""
    commands = []
    for report in reports:
        for result in report.results:
            if not result.failed:
                continue
            props = [f"file={escape_property(report.path)}"]
            if result.line is not None:
                props.append(f"line={result.line}")
            props.append(f"title={escape_property(CHECKS_BY_ID[result.check].title)}")
            commands.append(f"::error {','.join(props)}::{escape_data(result.message)}")
    return commands


def _markdown_cell(text: str) -> str:
    # Messages and paths quote user input: keep it inert (the one escaping function for Markdown).
    return escape_markdown(text)


def render_markdown(reports: list[FileReport]) -> str:
    """The job summary: a verdict line, then a table of checks per file, fixes for failures."""
    invalid = [report for report in reports if not report.valid]
    verdict = "all valid" if not invalid else f"{len(invalid)} of {len(reports)} invalid"
    lines = [f"## Submission validation: {verdict}", ""]
    for report in reports:
        mark = "✅" if report.valid else "❌"
        lines += [f"### {mark} {_markdown_cell(report.path)}", ""]
        lines += ["| check | result | details |", "|---|---|---|"]
        for result in report.results:
            check = CHECKS_BY_ID[result.check]
            details = _markdown_cell(result.message)
            if result.failed:
                details += f"<br>**Fix:** {check.fix}"  # CHECKS text is ours: Markdown as written
            lines.append(f"| {check.title} | {MARKS[result.status]} | {details} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def render_json(reports: list[FileReport]) -> str:
    document = {
        "valid": all(report.valid for report in reports),
        "files": [
            {
                "path": report.path,
                "valid": report.valid,
                "checks": [
                    {
                        "id": result.check,
                        "status": result.status,
                        "message": result.message,
                        "line": result.line,
                    }
                    for result in report.results
                ],
            }
            for report in reports
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
