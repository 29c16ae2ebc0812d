"""Load an untrusted YAML file (a submission from a pull request) into a plain mapping.

A submission is a handful of `key: value` lines, so everything YAML can do beyond that is refused
rather than tamed: anchors and aliases (the "billion laughs" expansion needs them), explicit tags
(`!!python/object` and friends), merge keys, several documents, anything but a mapping at the top,
nesting deeper than `MAX_DEPTH`, files over `MAX_BYTES`, bytes that are not UTF-8 text, and
duplicate keys (PyYAML silently keeps the last one, which hides mistakes). A refusal is one
`FileError` that lists every `Problem` found (all duplicate keys, all tabs, every slip such as
`key:value`), each with its line and a short reason that never echoes much input.

The slips that `yaml_diagnosis.line_problems` repairs without moving a line do not stop the
parse: with `keep_going=True` the mapping comes back with them in `problems`, so `medlb validate`
checks the fields in the same pass (the file stays invalid until they are fixed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from runner.errors import UserError
from runner.submissions.yaml_diagnosis import LineProblem, describe_syntax_error, line_problems
from runner.untrusted_text import hidden_character, shorten

MAX_BYTES = 64 * 1024  # a real submission is well under 2 KiB
MAX_DEPTH = 16  # nodes from the top mapping down; a submission needs 2
MAX_PROBLEMS_SHOWN = 4  # reasons in one `FileError` message; the rest are counted

_MERGE_TAG = "tag:yaml.org,2002:merge"
# Controls except tab, newline and carriage return (YAML's reader refuses them too, with a
# message that points at a character position instead of a line), bidirectional marks and
# overrides that make text in a PR diff read differently from what is parsed ("Trojan Source"),
# zero-width and tag characters (`untrusted_text.hidden_character`): refused in the raw text and
# again in every parsed value, where YAML's escapes ("\u202e", "\x1b", "\0") would make them.


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: a short reason and its 1-based line (None: the whole file)."""

    reason: str
    line: int | None = None


class FileError(UserError):
    """Problems located in an input file. The message is `path:line: reason` for the first
    problem (line when known), then the next reasons and a count of the rest; `problems` holds
    them all, each with its own line."""

    def __init__(
        self,
        path: str,
        reason: str,
        line: int | None = None,
        *,
        problems: Sequence[Problem] | None = None,
    ) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        self.problems: tuple[Problem, ...] = tuple(problems or (Problem(reason, line),))
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")

    @classmethod
    def of(cls, path: str, problems: Sequence[Problem]) -> FileError:
        """One error for several problems, ordered by line (whole-file problems last)."""
        ordered = sorted(problems, key=lambda p: (p.line is None, p.line or 0))
        shown = [problem.reason[:160] for problem in ordered[:MAX_PROBLEMS_SHOWN]]
        more = len(ordered) - len(shown)
        text = "; ".join(shown)
        if more:
            text += f" (and {more} more problem{'s' if more > 1 else ''})"
        return cls(path, text, ordered[0].line, problems=ordered)


class EmptyFileError(FileError):
    """The file holds no YAML at all (nothing, or only comments)."""


@dataclass(frozen=True)
class YamlMapping:
    """A parsed top-level mapping; the 1-based line of each of its keys; the source text of each
    top-level scalar value (`0123…` as written, before YAML made a number of it); and the slips
    repaired on the way (`keep_going=True` only)."""

    data: dict[str, Any]
    key_lines: dict[str, int]
    raw: dict[str, str] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()


class _Rejected(Exception):
    """Raised inside the loader; turned into a `FileError` with the file's name."""

    def __init__(self, reason: str, mark: yaml.Mark | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = mark.line + 1 if mark is not None else None


class _HardenedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with the refusals listed in the module docstring.

    The pure-Python loader is used on purpose: its composer can be overridden node by node, and at
    64 KiB at most its speed does not matter.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self.duplicates: list[Problem] = []  # every duplicate key, reported together

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            raise _Rejected(
                "aliases (*name) are not allowed; write the value out", event.start_mark
            )
        if event.anchor is not None:
            raise _Rejected(
                "anchors (&name) are not allowed; write the value out", event.start_mark
            )
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise _Rejected(
                f"explicit tags are not allowed (found {shorten(tag)})", event.start_mark
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Rejected(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        """A value YAML cannot represent in Python (an integer of over 4,300 digits, a date such
        as 2024-02-30) is a problem on its line, not a traceback."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as err:
            raise _Rejected(
                f"{shorten(str(node.value), 20)} cannot be read as a value "
                f"({type(err).__name__}); quote it to make it text",
                node.start_mark,
            ) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_line: dict[str, int] = {}
        for key_node, _ in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                raise _Rejected("merge keys (<<) are not allowed", key_node.start_mark)
            if not isinstance(key_node, ScalarNode):
                raise _Rejected("mapping keys must be plain strings", key_node.start_mark)
            if key_node.value in first_line:
                self.duplicates.append(
                    Problem(
                        f"duplicate key {shorten(key_node.value)} (first at line "
                        f"{first_line[key_node.value]})",
                        line,
                    )
                )
                continue
            first_line[key_node.value] = line
        return super().construct_mapping(node, deep=deep)


def read_limited(path: Path, display: str) -> bytes:
    """The bytes of `path`, refusing anything but a regular file of at most `MAX_BYTES`."""
    try:
        if path.is_symlink():  # a link could point validation at any file on the CI runner
            raise FileError(display, "is a symbolic link; a submission must be a regular file")
        if not path.is_file():
            reason = "no such file" if not path.exists() else "not a regular file"
            raise FileError(display, reason)
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise FileError(display, f"file is {size:,} bytes; the limit is {MAX_BYTES:,}")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)  # the file may have grown since stat()
    except OSError as err:
        raise FileError(display, f"cannot read file ({err.strerror})") from None
    if len(data) > MAX_BYTES:
        raise FileError(display, f"file is over the {MAX_BYTES:,}-byte limit")
    return data


def decode_text(data: bytes, display: str) -> str:
    """Strict UTF-8 (a leading BOM is allowed and dropped); binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileError(display, "UTF-16/32 text; save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FileError(
            display, f"binary data (NUL byte at offset {nul}); expected a YAML text file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        bad = data[err.start : err.start + 1].hex()
        raise FileError(
            display, f"not UTF-8 text (byte 0x{bad} at offset {err.start})", line
        ) from None
    control = hidden_character(text)
    if control is not None:
        line = text.count("\n", 0, text.index(control)) + 1
        code = f"U+{ord(control):04X}"
        raise FileError(display, f"control character {code} is not allowed in a text file", line)
    return text


def parse_mapping(text: str, display: str, *, keep_going: bool = False) -> YamlMapping:
    """Parse `text` (one YAML document whose top is a mapping) with `_HardenedLoader`.

    Slips that `line_problems` repairs are parsed past; they raise a `FileError` (with every
    other problem found) unless `keep_going`, which returns them in `YamlMapping.problems`.
    """
    slips = line_problems(text)
    found = [Problem(slip.reason, slip.line) for slip in slips]
    try:
        mapping = _parse(_repair(text, slips) if slips else text, display)
    except FileError as err:
        if not found or isinstance(err, EmptyFileError):
            raise
        raise FileError.of(display, [*found, *err.problems]) from None
    if found and not keep_going:
        raise FileError.of(display, found)
    return replace(mapping, problems=tuple(found))


def _repair(text: str, slips: list[LineProblem]) -> str:
    lines = text.split("\n")
    for slip in slips:
        lines[slip.line - 1] = slip.repaired
    return "\n".join(lines)


def _parse(text: str, display: str) -> YamlMapping:
    loader = _HardenedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise EmptyFileError(display, "file is empty; expected `key: value` lines")
        if not isinstance(node, MappingNode):
            raise FileError(display, _not_a_mapping(node), 1)
        key_lines: dict[str, int] = {}
        raw: dict[str, str] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                key_lines.setdefault(str(key.value), key.start_mark.line + 1)
                if isinstance(value, ScalarNode):
                    raw.setdefault(str(key.value), value.value)
        data = loader.construct_document(node)
        if loader.duplicates:
            raise FileError.of(display, loader.duplicates)
        _check_parsed_text(data, key_lines, display)
    except _Rejected as err:
        raise FileError(display, err.reason, err.line) from None
    except yaml.MarkedYAMLError as err:
        reason, line = describe_syntax_error(err, text)
        raise FileError(display, reason, line) from None
    except yaml.YAMLError as err:  # errors without a position (e.g. from the reader)
        raise FileError(display, f"YAML error: {shorten(str(err), 80)}") from None
    except RecursionError:  # defence in depth: MAX_DEPTH stops nesting long before this
        raise FileError(display, "nested too deeply") from None
    finally:
        loader.dispose()
    return YamlMapping(data=data, key_lines=key_lines, raw=raw)


def _check_parsed_text(data: Any, key_lines: dict[str, int], display: str) -> None:
    """Refuse a parsed key or value holding a hidden character (YAML escapes make them)."""
    for key, value in data.items() if isinstance(data, dict) else ():
        for text in _strings(key, value):
            found = hidden_character(text)
            if found is not None:
                raise FileError(
                    display,
                    f"{shorten(str(key))}: control character U+{ord(found):04X} is not allowed "
                    "(written as a YAML escape)",
                    key_lines.get(str(key)),
                )


def _strings(*values: Any) -> list[str]:
    found: list[str] = []
    for value in values:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found += _strings(*value.keys(), *value.values())
        elif isinstance(value, list):
            found += _strings(*value)
    return found


def _not_a_mapping(node: Any) -> str:
    reason = "the top level must be a mapping of `key: value` lines, not "
    if not isinstance(node, SequenceNode):
        return reason + "a single value"
    if node.value and isinstance(node.value[0], MappingNode):
        return reason + (
            "a list; remove the `- ` in front of the first field (and the indentation of the "
            "fields below it)"
        )
    return reason + "a list"


def load_yaml_mapping(
    path: Path, display: str | None = None, *, keep_going: bool = False
) -> YamlMapping:
    """Read, decode and parse one untrusted YAML file; `display` is the name used in messages."""
    shown = display if display is not None else str(path)
    text = decode_text(read_limited(Path(path), shown), shown)
    return parse_mapping(text, shown, keep_going=keep_going)


def load_yaml_bytes(data: bytes, display: str, *, keep_going: bool = False) -> YamlMapping:
    """The same as `load_yaml_mapping` for bytes already in memory (e.g. from `git show`)."""
    if len(data) > MAX_BYTES:
        raise FileError(display, f"file is {len(data):,} bytes; the limit is {MAX_BYTES:,}")
    return parse_mapping(decode_text(data, display), display, keep_going=keep_going)
