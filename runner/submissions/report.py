"""The report of `medlb validate`, written for people, for GitHub Actions and for machines.

One `FileReport` per file looked at (a submission, or any other file a pull request changed) holds
the result of every check in `CHECKS` order; a check that found several problems gives one
result per problem, each with its own line. The renderers below never decide anything; they only
show the results: terminal text (one block per file, a log group under Actions), `::error`
workflow commands on the problem's line of the PR diff, a compact Markdown job summary and JSON.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from itertools import groupby

from runner.github_actions import annotation_line, escape_data, markdown_text, repository_url
from runner.submissions.checks import CHECKS_BY_ID, CheckResult
from runner.untrusted_text import table_code, visible_characters

MARKS = {"pass": "PASS", "fail": "FAIL", "skip": "skip", "error": "ERROR"}
VERDICTS = {"valid": "valid", "invalid": "INVALID", "unchecked": "COULD NOT CHECK"}
_SUMMARY_MARKS = {"valid": "✅ valid", "invalid": "❌ invalid", "unchecked": "⚠️ could not check"}
UNCHECKED_TITLE = "Could not check (the Hub did not answer; not a verdict on the submission)"
GUIDE = "SUBMITTING.md"


@dataclass
class FileReport:
    path: str  # as shown to the user; repository-relative in CI
    results: list[CheckResult] = field(default_factory=list)

    @property
    def problems(self) -> list[CheckResult]:
        return [result for result in self.results if result.failed]

    @property
    def verdict(self) -> str:
        """ "invalid" (some check failed), "unchecked" (some check could not run), "valid"."""
        if self.problems:
            return "invalid"
        if any(result.status == "error" for result in self.results):
            return "unchecked"
        return "valid"

    @property
    def valid(self) -> bool:
        return self.verdict == "valid"


def render_file_text(report: FileReport, width: int) -> str:
    """One file's block: its verdict, then every check with its evidence or reason."""
    # A path or message may hold a newline (a file name is anyone's choice): escaped, it can never
    # start a line that the Actions runner reads as a workflow command.
    path = escape_data(report.path)
    lines = [f"{path}: {VERDICTS[report.verdict]}"]
    for result in report.results:
        message = escape_data(result.message)
        if result.failed and CHECKS_BY_ID[result.check].stage == "file":
            # `path:line: reason`, the form editors and terminals turn into a link
            line = f":{result.line}" if result.line is not None else ""
            message = f"{path}{line}: {message}"
        lines.append(f"  {MARKS[result.status]:<5} {result.check:<{width}}  {message}")
    return "\n".join(lines)


def check_width(reports: list[FileReport]) -> int:
    return max((len(r.check) for report in reports for r in report.results), default=8)


def render_count(reports: list[FileReport]) -> str:
    counts = {verdict: sum(r.verdict == verdict for r in reports) for verdict in VERDICTS}
    text = (
        f"{len(reports)} file{'s' if len(reports) != 1 else ''} checked: "
        f"{counts['valid']} valid, {counts['invalid']} invalid"
    )
    if counts["unchecked"]:
        text += f", {counts['unchecked']} could not be checked (re-run)"
    return text


def render_annotations(report: FileReport) -> list[str]:
    """One `::error` per problem, on its line of the file; a check that could not run is a
    `::warning` (a re-run may pass, so it must not read as a verdict)."""
    commands = []
    for result in report.results:
        if result.status not in ("fail", "error"):
            continue
        if result.failed:
            title, level = CHECKS_BY_ID[result.check].title, "error"
        else:
            title, level = UNCHECKED_TITLE, "warning"
        commands.append(
            annotation_line(level, result.message, file=report.path, line=result.line, title=title)
        )
    return commands


def guide_link(anchor: str = "") -> str:
    """SUBMITTING.md on the repository's default branch under Actions, else relative."""
    base = repository_url()
    target = f"{base}/blob/HEAD/{GUIDE}" if base else GUIDE
    return target + (f"#{anchor}" if anchor else "")


def render_markdown(reports: list[FileReport]) -> str:
    """The job summary: a verdict line, one row per file (verdict and first problem), every
    check of each file folded in `<details>`, and links to SUBMITTING.md."""
    invalid = sum(report.verdict == "invalid" for report in reports)
    unchecked = sum(report.verdict == "unchecked" for report in reports)
    verdict = "all valid" if not invalid else f"{invalid} of {len(reports)} invalid"
    if unchecked:
        verdict += f", {unchecked} could not be checked (re-run; not a verdict)"
    lines = [f"## Submission validation: {verdict}", ""]
    lines += ["| file | verdict | first problem |", "|---|---|---|"]
    for report in reports:
        first = next((r for r in report.results if r.status in ("fail", "error")), None)
        count = len(report.problems)
        mark = _SUMMARY_MARKS[report.verdict]
        if count:
            mark += f" ({count} problem{'s' if count != 1 else ''})"
        lines.append(f"| {table_code(report.path)} | {mark} | {_first_problem(first)} |")
    lines.append("")
    for report in reports:  # what an approver of the GPU run weighs first (its size)
        counted = next((r for r in report.results if r.check == "parameters"), None)
        if counted is not None and counted.status == "pass":
            lines += [
                f"Parameters of {markdown_text(report.path)}: {markdown_text(counted.message)}",
                "",
            ]
    for report in reports:
        lines += _details(report)
    lines.append(
        f"Every check and how to fix it: [{GUIDE}]({guide_link('what-is-checked')}); "
        f"the fields of a submission: [{GUIDE}]({guide_link('the-file')})."
    )
    return "\n".join(lines) + "\n"


def _first_problem(result: CheckResult | None) -> str:
    if result is None:
        return ""
    where = f" line {result.line}" if result.line is not None else ""
    return f"`{result.check}`{where}: {table_code(result.message, 160)}"


def _details(report: FileReport) -> list[str]:
    """Every check of one file, folded; runs of checks skipped for one reason share a row."""
    lines = [
        # An HTML block: Markdown is not rendered there, so the path is HTML-escaped instead.
        f"<details><summary>{html.escape(visible_characters(report.path))}: every check</summary>",
        "",
        "| check | result | line | details |",
        "|---|---|---|---|",
    ]
    fixed: set[str] = set()
    for (status, _message), run in groupby(
        report.results, key=lambda r: (r.status, r.message if r.status == "skip" else id(r))
    ):
        results = list(run)
        ids = ", ".join(f"`{r.check}`" for r in results)
        result = results[0]
        details = table_code(result.message)
        if result.failed and result.fix_text not in fixed:  # each fix once
            fixed.add(result.fix_text)
            # CHECKS text is ours: Markdown as written, with the guide as a real link
            fix = result.fix_text.replace(GUIDE, f"[{GUIDE}]({guide_link()})")
            details += f"<br>Fix: {fix}"
        line = "" if result.line is None else str(result.line)
        lines.append(f"| {ids} | {MARKS[status]} | {line} | {details} |")
    return [*lines, "", "</details>", ""]


def render_json(reports: list[FileReport]) -> str:
    document = {
        "valid": all(report.valid for report in reports),
        "files": [
            {
                "path": report.path,
                "valid": report.valid,
                "verdict": report.verdict,
                "checks": [
                    {
                        "id": result.check,
                        "status": result.status,
                        "message": result.message,
                        "line": result.line,
                        # how to fix a failed check (CHECKS' text, as the summary shows it)
                        "fix": result.fix_text if result.failed else None,
                    }
                    for result in report.results
                ],
            }
            for report in reports
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
