"""The chat-template check on real tiny checkpoints: which tracks run, and templates that are
refused (slow, huge, erroring, escaping the sandbox) with one line, in a child process."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runner.evaluation.tiny_models import BOS_CHAT_TEMPLATE, SYSTEM_CHAT_TEMPLATE
from runner.submissions.chat_template import (
    MAX_TEMPLATE_BYTES,
    SAMPLE_MESSAGE,
    check_chat_template,
    find_chat_template,
    render_sample,
)
from runner.submissions.checks import MODEL_CHECK_IDS
from runner.submissions.model_checks import local_model_source, run_model_checks
from runner.submissions.schema import Submission

pytestmark = pytest.mark.slow  # each render starts a child process that loads the tokenizer


@pytest.fixture
def model_dir(validation_tiny_model: Path, tmp_path: Path) -> Path:
    """A private copy of the session's tiny model (no chat template), free to change."""
    return Path(shutil.copytree(validation_tiny_model, tmp_path / "model"))


def with_template(directory: Path, template: str) -> Path:
    (directory / "chat_template.jinja").write_text(template, encoding="utf-8")
    return directory


def in_tokenizer_config(directory: Path, template: object) -> Path:
    path = directory / "tokenizer_config.json"
    config = json.loads(path.read_text())
    config["chat_template"] = template
    path.write_text(json.dumps(config))
    return directory


def test_a_model_without_template_gets_loglik_only_and_says_why(model_dir):
    result = check_chat_template(model_dir)
    assert (result.status, result.message) == ("pass", "loglik only: no chat template")
    asked = check_chat_template(model_dir, ("loglik", "cot"))
    assert asked.status == "fail"
    assert asked.message == "tracks: cot needs a chat template; the model has none"


def test_a_template_that_renders_gives_both_tracks_with_evidence(model_dir):
    with_template(model_dir, BOS_CHAT_TEMPLATE)
    result = check_chat_template(model_dir)
    assert result.status == "pass", result.message
    size = len(BOS_CHAT_TEMPLATE.encode())
    assert result.message.startswith(
        f"loglik and cot: the template in chat_template.jinja ({size:,} bytes) renders"
    )
    rendering = render_sample(model_dir)
    assert rendering.text == f"<s>[USER] {SAMPLE_MESSAGE}\n[ASSISTANT] "


def test_the_template_in_tokenizer_config_and_named_templates_are_found(model_dir):
    in_tokenizer_config(model_dir, SYSTEM_CHAT_TEMPLATE)
    found = find_chat_template(model_dir)
    assert (found.source, found.text) == ("tokenizer_config.json", SYSTEM_CHAT_TEMPLATE)
    assert check_chat_template(model_dir).status == "pass"
    named = [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "{{ 1 }}"}]
    assert find_chat_template(in_tokenizer_config(model_dir, named)).text == "{{ 1 }}"
    only_tools = [{"name": "tool_use", "template": "x"}]
    assert "none named `default`" in find_chat_template(in_tokenizer_config(model_dir, only_tools))


def test_chat_template_jinja_wins_over_tokenizer_config(model_dir):
    in_tokenizer_config(model_dir, SYSTEM_CHAT_TEMPLATE)
    with_template(model_dir, BOS_CHAT_TEMPLATE)
    assert find_chat_template(model_dir).source == "chat_template.jinja"
    assert render_sample(model_dir).text.startswith("<s>[USER] ")


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (  # 10^10 loop steps: killed after two seconds
            "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}",
            "chat_template.jinja: rendering took over 2 s",
        ),
        (
            "{% for i in range(9999) %}{{ messages[0]['content'] }}{% endfor %}",
            f"chat_template.jinja: the rendered sample is {9999 * len(SAMPLE_MESSAGE):,} bytes "
            "(over 64 KB)",
        ),
        (
            "{{ raise_exception('only system + user + assistant turns') }}",
            "chat_template.jinja: rendering failed: TemplateError: only system + user + "
            "assistant turns",
        ),
        (  # the classic sandbox escape: the sandbox refuses the dunder attribute
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "chat_template.jinja: rendering failed: SecurityError: access to attribute "
            "'__class__' of 'str' object is unsafe.",
        ),
        (
            "{{ 'x' * 4000000000 }}",
            "chat_template.jinja: rendering failed: rendering needed over 1 GiB",
        ),
    ],
    ids=["slow", "huge-output", "raises", "sandbox-escape", "memory"],
)
def test_a_dangerous_or_broken_template_is_refused_with_one_line(model_dir, template, problem):
    result = check_chat_template(with_template(model_dir, template))
    assert (result.status, result.message) == ("fail", problem)


def test_an_oversized_template_is_refused_before_any_rendering(model_dir):
    with_template(model_dir, "{# #}" + "x" * MAX_TEMPLATE_BYTES)
    result = check_chat_template(model_dir)
    assert (result.status, result.message) == ("fail", "chat_template.jinja is over 128 KiB")


def test_tracks_loglik_never_renders_the_template(model_dir):
    with_template(model_dir, "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}"
                  "{% endfor %}")  # fmt: skip
    result = check_chat_template(model_dir, ("loglik",))
    assert (result.status, result.message) == ("pass", "loglik only: the submission asks for it")


def test_the_model_checks_report_the_tracks_after_the_tokenizer(model_dir):
    results = run_model_checks(local_model_source(with_template(model_dir, BOS_CHAT_TEMPLATE)))
    assert [r.check for r in results] == MODEL_CHECK_IDS
    by_id = {r.check: r for r in results}
    assert by_id["chat-template"].message.startswith("loglik and cot: ")
    (model_dir / "tokenizer.json").unlink()
    results = run_model_checks(local_model_source(model_dir))
    by_id = {r.check: (r.status, r.message) for r in results}
    assert by_id["chat-template"] == ("skip", "the tokenizer did not load")


BASE = {
    "model": "org/model",
    "revision": "a" * 40,
    "precision": "bfloat16",
    "model_type": "pretrained",
    "license": "mit",
    "description": "A model for the tests.",
}


def test_the_optional_tracks_field_narrows_the_tracks():
    assert Submission.model_validate(BASE).tracks is None
    assert Submission.model_validate({**BASE, "tracks": ["loglik"]}).tracks == ("loglik",)
    for bad in ([], ["cot", "cot"], ["reasoning"], "loglik"):
        with pytest.raises(ValueError, match="tracks"):
            Submission.model_validate({**BASE, "tracks": bad})
