"""The submission schema: field rules, Hub ids, the file's expected path, located messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from submission_fixtures import SHA, VALID_SUBMISSION

from runner.submissions.safe_yaml import FileError
from runner.submissions.schema import check_hub_id, load_submission, submission_from_bytes

VALID = (
    VALID_SUBMISSION
    + "paper: https://arxiv.org/abs/2412.15115\ncontact: mailto:someone@example.org\n"
)
REPO_ROOT = Path(__file__).resolve().parents[2]


def load(text: str):
    return submission_from_bytes(text.encode(), "s.yaml")


def error_of(text: str) -> str:
    with pytest.raises(FileError) as caught:
        load(text)
    return str(caught.value)


def test_valid_submission_and_its_derived_names():
    sub = load(VALID)
    assert (sub.org, sub.name, sub.revision) == ("Qwen", "Qwen2.5-7B-Instruct", SHA)
    assert str(sub.expected_path) == "submissions/Qwen/Qwen2.5-7B-Instruct.yaml"


def test_pretrained_model_needs_no_base_and_optional_fields_may_be_absent():
    text = VALID.replace("instruction-tuned", "pretrained").replace(
        "base_model: Qwen/Qwen2.5-7B\n", ""
    )
    text = text.replace("paper: https://arxiv.org/abs/2412.15115\n", "")
    sub = load(text)
    assert sub.base_model is None and sub.paper is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            SHA,
            "main",
            "s.yaml:2: revision: must be a full 40-character lowercase hex commit SHA, not 'main' "
            "(branch names, tags and short SHAs are not pinned)",
        ),
        (
            SHA,
            SHA[:7],
            "s.yaml:2: revision: must be a full 40-character lowercase hex commit SHA, "
            "not 'a09a354'",
        ),
        (SHA, SHA.upper(), "s.yaml:2: revision: write the commit SHA in lowercase"),
        (
            SHA,
            "1" * 40,
            "s.yaml:2: revision: must be a 40-character commit SHA in quotes (YAML read a number)",
        ),
        (
            "bfloat16",
            "int8",
            "s.yaml:3: precision: must be float16, bfloat16 or float32, not 'int8': quantised "
            "weights are not evaluated",
        ),
        (
            "model_type: instruction-tuned",
            "model_type: chat",
            "s.yaml:4: model_type: must be one of pretrained, fine-tuned, instruction-tuned, "
            "rl-tuned, merged, not 'chat'; did you mean `instruction-tuned`?",
        ),
        (
            "base_model: Qwen/Qwen2.5-7B\n",
            "",
            "s.yaml:4: base_model: required when model_type is instruction-tuned; add "
            "`base_model: <org>/<name>`",
        ),
        (
            "Qwen/Qwen2.5-7B\n",
            "Qwen/Qwen2.5-7B-Instruct\n",
            "s.yaml:5: base_model: must differ from model",
        ),
        ("license: apache-2.0\n", "", "s.yaml: license: required field is missing"),
        (
            "apache-2.0",
            "Apache 2.0; see LICENSE",
            "s.yaml:6: license: must be a Hub license id such as apache-2.0",
        ),
        (
            "description: A general",
            "description: [A, general] #",
            "s.yaml:7: description: must be text (10 to 2000 characters), but YAML read a list",
        ),
        ("https://arxiv", "http://arxiv", "s.yaml:8: paper: must be an https:// URL"),
        (
            "mailto:someone@example.org",
            "javascript:alert(1)",
            "s.yaml:9: contact: must be an https:// URL or a mailto: address",
        ),
        (
            "precision: bfloat16",
            "precision: [bfloat16]",
            "s.yaml:3: precision: must be one of float16, bfloat16, float32, but YAML read a list",
        ),
        (
            "license: apache-2.0",
            "license: 2",
            "s.yaml:6: license: must be a Hub license id such as apache-2.0, but YAML read a "
            "number; put the value in quotes",
        ),
    ],
)
def test_field_rules(old, new, message):
    assert old in VALID
    assert error_of(VALID.replace(old, new)).startswith(message)


def test_unknown_field_is_named_with_the_allowed_ones():
    message = error_of(VALID + "foo: true\n")
    assert message.startswith("s.yaml:10: unknown field 'foo' (allowed: model, revision,")
    message = error_of(VALID + "trust_remote_code: true\n")
    assert message.startswith(
        "s.yaml:10: unknown field 'trust_remote_code': custom code never runs here: every model "
        "is loaded with trust_remote_code=False"
    )


def test_several_problems_are_all_reported_at_the_first_ones_line():
    message = error_of(VALID.replace("bfloat16", "int8").replace(SHA, "main"))
    assert message.startswith("s.yaml:2: revision:")
    assert "; precision:" in message


def test_many_problems_show_a_few_and_count_the_rest():
    extra = "".join(f"extra_{i}: 1\n" for i in range(10))
    message = error_of(VALID + extra)
    assert message.count("unknown field") == 4
    assert message.endswith("(and 6 more problems)")


@pytest.mark.parametrize(
    "hub_id",
    ["Qwen/Qwen2.5-7B-Instruct", "a/b", "epfl-llm/meditron_7b", "A1/" + "x" * 96],
)
def test_valid_hub_ids(hub_id):
    assert check_hub_id(hub_id) == hub_id


@pytest.mark.parametrize(
    ("hub_id", "reason"),
    [
        ("Qwen/Qwеn2.5", "contains non-ASCII character U+0435 (CYRILLIC SMALL LETTER IE)"),
        ("Qwen/Qwen２", "contains non-ASCII character U+FF12 (FULLWIDTH DIGIT TWO)"),
        ("../../etc/passwd", "may not contain '..'"),
        ("org/../name", "may not contain '..'"),
        ("just-a-name", "must be `org/name` with exactly one '/'"),
        ("a/b/c", "must be `org/name` with exactly one '/'"),
        ("/name", "org and name must both be non-empty"),
        ("org/" + "x" * 97, "org and name are limited to 96 characters each"),
        ("org/name with space", "may contain only ASCII letters, digits, '-', '_' and '.'"),
        ("org/na$me", "may contain only ASCII letters, digits, '-', '_' and '.'"),
        ("org/-name", "org and name may not start or end with '-' or '.'"),
        ("org/name.", "org and name may not start or end with '-' or '.'"),
        ("org/a--b", "may not contain '--'"),
    ],
)
def test_invalid_hub_ids(hub_id, reason):
    with pytest.raises(ValueError) as caught:
        check_hub_id(hub_id)
    assert str(caught.value) == reason


def test_path_must_match_the_model(tmp_path):
    right = tmp_path / "submissions" / "Qwen" / "Qwen2.5-7B-Instruct.yaml"
    wrong = tmp_path / "submissions" / "qwen" / "Qwen2.5-7B-Instruct.yaml"
    for path in (right, wrong):
        path.parent.mkdir(parents=True)
        path.write_text(VALID)
    assert load_submission(right, check_path=True).model == "Qwen/Qwen2.5-7B-Instruct"
    assert load_submission(wrong).model == "Qwen/Qwen2.5-7B-Instruct"  # the check is opt-in
    with pytest.raises(FileError) as caught:
        load_submission(wrong, check_path=True, display="x.yaml")
    assert str(caught.value) == (
        "x.yaml:1: model Qwen/Qwen2.5-7B-Instruct must be submitted as "
        "submissions/Qwen/Qwen2.5-7B-Instruct.yaml; folder and file name must match `model` "
        "letter for letter"
    )


# Example submissions whose revisions could not be checked against the Hub when they were written.
UNVERIFIED_EXAMPLES = [
    "submissions/BioMistral/BioMistral-7B.yaml",
    "submissions/HuggingFaceH4/zephyr-7b-beta.yaml",
    "submissions/Qwen/Qwen2.5-7B-Instruct.yaml",
    "submissions/allenai/OLMo-2-1124-7B.yaml",
]


def test_every_submission_in_the_repository_is_valid():
    for path in sorted((REPO_ROOT / "submissions").rglob("*.yaml")):
        load_submission(path, check_path=True)


@pytest.mark.parametrize("path", UNVERIFIED_EXAMPLES)
def test_examples_flag_their_unverified_revision_for_a_maintainer(path):
    description = load_submission(REPO_ROOT / path).description
    assert "UNVERIFIED REVISION: a maintainer must confirm on the Hub" in description


def test_the_template_in_submitting_md_is_a_valid_submission():
    guide = (REPO_ROOT / "SUBMITTING.md").read_text(encoding="utf-8")
    template = guide.split("```yaml\n", 1)[1].split("```", 1)[0]
    sub = submission_from_bytes(template.encode(), "SUBMITTING.md")
    assert str(sub.expected_path) == "submissions/BioMistral/BioMistral-7B.yaml"
