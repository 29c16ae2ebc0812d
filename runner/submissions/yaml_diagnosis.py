"""What went wrong in a YAML file, in words that say what to write instead.

Two halves, both for `runner.submissions.safe_yaml`:

- `line_problems` reads the text line by line for the slips people make in `key: value` files
  (no space after the colon, `key = value`, tabs, no-break spaces and full-width colons from a
  word processor, a `---` or `...` marker line, Markdown fences around pasted YAML) and returns
  each with its line and the repaired line. Repairs keep every line where it was, so after them the
  file can still be parsed and its fields checked in the same pass: one push fixes everything
  (ARCHITECTURE.md, "Submissions").
- `describe_syntax_error` turns PyYAML's own error into a sentence on the line the author must
  edit (PyYAML often points at the line after the mistake).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from runner.untrusted_text import MAX_SHOWN, shorten

# A top-level key as submissions write them; used only to recognise the slips below.
_KEY = r"[A-Za-z_][A-Za-z0-9_.-]*"
_NO_SPACE = re.compile(rf"^(?P<key>{_KEY}):(?P<value>[^\s/].*)$")
_EQUALS = re.compile(rf"^(?P<key>{_KEY})\s*=\s*(?P<value>.*)$")
_MARKER = re.compile(r"^(?P<marker>---|\.\.\.)(?:\s+#.*)?\s*$")
_KEY_VALUE = re.compile(rf"^(?P<key>{_KEY}):\s+(?P<value>.*)$")
_FENCE = re.compile(r"^(```|~~~)")
# Spaces and colons that look right but are not YAML's: no-break and other Unicode spaces, and
# the full-width colon, as word processors and some keyboards write them.
_ODD_SPACE = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_INDENT = re.compile("^[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]*")
_LOOKALIKE_PAIR = re.compile(rf"^(?P<key>{_KEY})(?P<colon>[:：﹕])(?P<space>\s*)(?P<value>.*)$")


@dataclass(frozen=True)
class LineProblem:
    line: int  # 1-based
    reason: str
    repaired: str  # the line as it should read (the same line when no repair is safe)


def line_problems(text: str) -> list[LineProblem]:
    """Every slip `line_problems` knows (module docstring), in line order."""
    problems = []
    lines = text.split("\n")
    first_content = next(
        (i for i, line in enumerate(lines) if line.strip() and not line.lstrip().startswith("#")),
        None,
    )
    for index, line in enumerate(lines):
        number = index + 1
        body = line.rstrip("\r")
        marker = _MARKER.match(body)
        if marker and (index == first_content or marker["marker"] == "..."):
            problems.append(
                LineProblem(
                    number,
                    f"remove the `{marker['marker']}` line: a submission is one plain mapping of "
                    "`key: value` lines, without document markers",
                    "",
                )
            )
            continue
        if _FENCE.match(body):
            problems.append(
                LineProblem(
                    number,
                    "remove this Markdown fence line: the file holds the YAML itself",
                    "",
                )
            )
            continue
        problem = (
            _tab_problem(body, number)
            or _lookalike_problem(body, number)
            or _colon_problem(body, number)
        )
        if problem is not None:
            problems.append(problem)
    return problems


def _tab_problem(line: str, number: int) -> LineProblem | None:
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in indent:
        return LineProblem(
            number,
            "tab character in indentation; YAML indents with spaces",
            indent.replace("\t", "  ") + line[len(indent) :],
        )
    if "\t" in line[len(line.rstrip(" \t")) :]:
        return LineProblem(
            number, "trailing tab at the end of the line; delete it", line.rstrip(" \t")
        )
    key_tab = re.match(rf"^({_KEY}):[ \t]*\t[ \t]*(.*)$", line)
    if key_tab:
        return LineProblem(
            number,
            f"tab after `{key_tab[1]}:`; write one space instead: `{key_tab[1]}: …`",
            f"{key_tab[1]}: {key_tab[2]}",
        )
    return None


# A key and its value written without YAML's `: ` between them, and how each slip is named.
_SEPARATOR_SLIPS = (
    (_NO_SPACE, "no space after the colon in {line}"),
    (_EQUALS, "{line} uses `=`"),
)


def _lookalike_problem(line: str, number: int) -> LineProblem | None:
    """A no-break (or other Unicode) space in the indentation or after a key's colon, or a
    full-width colon after a key: YAML sees none of them as what they look like."""
    indent = _INDENT.match(line)[0]
    odd = _ODD_SPACE.search(indent)
    if odd:
        fixed = _ODD_SPACE.sub(" ", indent) + line[len(indent) :]
        return LineProblem(number, _odd_space_reason(odd[0], "in the indentation"), fixed)
    pair = _LOOKALIKE_PAIR.match(line)
    if pair is None:
        return None
    key, fixed = pair["key"], f"{pair['key']}: {pair['value']}"
    if pair["colon"] != ":":
        reason = f"full-width colon after `{key}`; write an ASCII colon: `{key}: …`"
        return LineProblem(number, reason, fixed)
    odd = _ODD_SPACE.search(pair["space"])
    if odd:
        return LineProblem(number, _odd_space_reason(odd[0], f"after `{key}:`"), fixed)
    return None


def _odd_space_reason(char: str, where: str) -> str:
    return (
        f"a no-break or other Unicode space (U+{ord(char):04X}) {where}, where YAML needs a plain "
        "space; retype it as a space"
    )


def _colon_problem(line: str, number: int) -> LineProblem | None:
    for pattern, slip in _SEPARATOR_SLIPS:
        found = pattern.match(line)
        if found:
            key, value = found["key"], found["value"]
            return LineProblem(
                number,
                f"{slip.format(line=shorten(line.strip()))}; write `{key}: {_shown(value)}` (YAML "
                "separates a key from its value with `: `)",
                f"{key}: {value}",
            )
    return None


def _shown(value: str) -> str:
    value = value.strip()
    if len(value) <= MAX_SHOWN and value.isprintable() and "`" not in value:
        return value
    return "…"


def describe_syntax_error(err: yaml.MarkedYAMLError, text: str) -> tuple[str, int | None]:
    """(reason, line) for PyYAML's error, on the line the author has to edit."""
    problem = err.problem or err.context or "malformed YAML"
    line = _line_of(err)
    lines = text.split("\n")
    source = lines[line - 1].rstrip("\r") if line is not None and 0 < line <= len(lines) else ""
    context = err.context or ""
    if "expected a single document" in context:
        return "more than one YAML document (`---`); a submission is exactly one", line
    if "while scanning a quoted scalar" in context and err.context_mark is not None:
        opened = err.context_mark.line + 1
        return (
            "a quoted value is never closed; end it with the same quote it starts with",
            opened,
        )
    if "while scanning a simple key" in context and err.context_mark is not None:
        return _stray_line(lines, err.context_mark.line + 1)
    if "'\\t'" in problem:
        return "tab character where YAML expects spaces; use spaces", line
    if problem == "mapping values are not allowed here":
        return _mapping_value_reason(source), line
    if problem == "sequence entries are not allowed here":
        return 'a value that starts with `- ` must be in quotes: `key: "- …"`', line
    start = re.match(r"found character '(.)' that cannot start any token", problem)
    if start:
        char = start[1]
        if char == "`":
            return "backticks are not YAML quotes; remove them or use '…' or \"…\"", line
        return f"a value cannot start with `{char}`; put the whole value in quotes", line
    if problem.startswith("expected <block end>"):
        return (
            "the indentation does not match the lines above; top-level fields start at the "
            "beginning of the line, and a `>-` block is indented by the same spaces on every line",
            line,
        )
    return f"YAML syntax error: {problem[:100]}", line


def _stray_line(lines: list[str], at: int) -> tuple[str, int]:
    """A line without `key: ` at the top: usually the unindented text of a `>-` block or of a
    value that goes on over several lines."""
    above = next((line for line in reversed(lines[: at - 1]) if line.strip()), "")
    block = re.match(rf"^({_KEY}):\s*[>|][-+]?\s*(#.*)?$", above.rstrip("\r"))
    if block:
        return f"indent the text of the `{block[1]}` block by two spaces on every line", at
    shown = shorten(lines[at - 1].strip()) if at <= len(lines) else "this line"
    return f"{shown} is not a `key: value` line; write `key: value` or remove it", at


def _mapping_value_reason(source: str) -> str:
    if source[:1].isspace():
        return (
            "this line is indented but is not part of a block; top-level fields start at the "
            "beginning of the line"
        )
    key_value = _KEY_VALUE.match(source)
    if key_value and key_value["value"][:1] in "“‘„«":
        return (
            f'curly quotes are not YAML quotes; write `{key_value["key"]}: "…"` with straight '
            "quotes"
        )
    if key_value:
        key = key_value["key"]
        return (
            f"the value of `{key}` contains `: `; put the whole value in quotes "
            f'(`{key}: "…"`) or write it as a `>-` block on the lines below'
        )
    return "a value contains `: `; put the whole value in quotes"


def _line_of(err: yaml.MarkedYAMLError) -> int | None:
    mark = err.problem_mark or err.context_mark
    return mark.line + 1 if mark is not None else None
