"""Maintainer flags (flags/<org>/<model>.yaml): the format, and one clear error per bad file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runner.errors import UserError
from runner.sitegen.flags import load_flags

GOOD = (
    "model: acme/med-7b\n"
    "reason: The model card says MedQA's test split was in the fine-tuning data.\n"
    "discussion: https://github.com/example/leaderboard/issues/12\n"
    "date: 2026-01-15\n"
)


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_flag_loads_by_model_id_and_the_readme_is_not_a_flag(tmp_path):
    write(tmp_path, "acme/med-7b.yaml", GOOD)
    write(tmp_path, "README.md", "# Flags\n")
    flags = load_flags(tmp_path)
    assert list(flags) == ["acme/med-7b"]
    flag = flags["acme/med-7b"]
    assert flag.date == dt.date(2026, 1, 15)
    assert flag.discussion == "https://github.com/example/leaderboard/issues/12"
    assert "fine-tuning" in flag.reason


def test_no_flags_directory_means_no_flags(tmp_path):
    assert load_flags(tmp_path / "missing") == {}


def test_the_repository_flags_folder_loads():
    assert isinstance(load_flags(Path(__file__).resolve().parents[2] / "flags"), dict)


TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("relative", "text", "needle"),
    [
        ("acme/med-7b.yaml", GOOD + "severity: high\n", "severity"),
        ("acme/med-7b.yaml", GOOD.replace("date: 2026-01-15\n", ""), "date"),
        ("acme/other.yaml", GOOD, "must be flags/acme/med-7b.yaml"),
        ("med-7b.yaml", GOOD, "must be flags/acme/med-7b.yaml"),
        ("acme/med-7b.yaml", GOOD.replace("https://", "http://"), "discussion"),
        ("acme/med-7b.yaml", GOOD.replace("2026-01-15", TOMORROW), "in the future"),
        ("acme/med-7b.yaml", GOOD.replace("2026-01-15", "last week"), "date"),
        ("acme/med-7b.yaml", GOOD.replace("acme/med-7b", "acme/../x"), "model"),
        ("acme/med-7b.yaml", "model: &m acme/med-7b\nreason: *m\n", "anchors"),
        ("acme/med-7b.yml", GOOD, "flag files end in .yaml"),
    ],
)
def test_a_bad_flag_is_one_line_naming_the_file(tmp_path, relative, text, needle):
    path = write(tmp_path, relative, text)
    with pytest.raises(UserError) as raised:
        load_flags(tmp_path)
    message = str(raised.value)
    assert "\n" not in message and str(path) in message
    assert needle in message
