"""huggingface_hub's errors, classified once in runner/hub.py: the Hub answered no (a verdict,
exit 1) or did not answer (exit 3, "re-run"). Errors are built as huggingface_hub raises them,
on responses of its own HTTP library; nothing reaches the network."""

from __future__ import annotations

import importlib

import huggingface_hub
import pytest
from hub_runs import ModelInfo
from huggingface_hub.errors import (
    GatedRepoError,
    HfHubHTTPError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
)

from runner import hub, hub_errors
from runner.cli import main
from runner.errors import EXIT_COULD_NOT_CHECK
from runner.evaluation.task_data import SAMPLE_DATA_DIR
from runner.evaluation.tasks import TASKS

http = importlib.import_module(HfHubHTTPError.__bases__[0].__module__)
SHA = "a09a35458c702b33eeacc393d103063234e8bc28"


def response(status: int):
    return http.Response(status, request=http.Request("GET", "https://huggingface.co/api/x"))


@pytest.mark.parametrize(
    ("error", "no_answer"),
    [
        (http.ConnectError("connection refused"), True),
        (http.ReadTimeout("timed out"), True),
        (OfflineModeIsEnabled("HF_HUB_OFFLINE=1"), False),  # a setting: re-running won't help
        (HfHubHTTPError("Too Many Requests", response=response(429)), True),
        (HfHubHTTPError("Service Unavailable", response=response(503)), True),
        (RepositoryNotFoundError("not found", response=response(404)), False),
        (GatedRepoError("gated", response=response(403)), False),
        (HfHubHTTPError("Bad Request", response=response(400)), False),
    ],
    ids=["connect", "timeout", "offline", "429", "503", "404", "gated", "400"],
)
def test_no_answer_is_told_apart_from_a_refusal(error, no_answer):
    assert hub_errors.is_unavailable(error) is no_answer


def test_a_download_the_hub_does_not_answer_is_exit_3(tmp_path, monkeypatch, capsys):
    def snapshot_download(**kwargs):
        raise http.ConnectError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    listing = ModelInfo([], SHA)  # the listing answered; the download does not
    monkeypatch.setattr(huggingface_hub, "model_info", lambda *a, **kw: listing)
    argv = ["evaluate", "--model", "org/model", "--revision", SHA, "--tasks", "pubmedqa"]
    argv += ["--data-dir", str(SAMPLE_DATA_DIR), "--output", str(tmp_path / "out")]
    assert main(argv) == EXIT_COULD_NOT_CHECK
    assert capsys.readouterr().err == (
        f"medlb: error: the Hub did not answer while downloading org/model@{SHA[:12]} "
        "(ConnectError); this says nothing about the model: re-run later\n"
    )


def test_a_file_listing_the_hub_does_not_answer_is_exit_3(tmp_path, monkeypatch, capsys):
    def model_info(*args, **kwargs):
        raise http.ConnectError("[Errno 101] Network is unreachable")

    monkeypatch.setattr(huggingface_hub, "model_info", model_info)
    argv = ["evaluate", "--model", "org/model", "--revision", SHA, "--tasks", "pubmedqa"]
    argv += ["--data-dir", str(SAMPLE_DATA_DIR), "--output", str(tmp_path / "out")]
    assert main(argv) == EXIT_COULD_NOT_CHECK
    assert f"while listing the files of org/model@{SHA[:12]} (ConnectError)" in (
        capsys.readouterr().err
    )


def test_dataset_rows_the_hub_does_not_answer_for_are_could_not_check(monkeypatch):
    import datasets

    def load_dataset(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'cais/mmlu' on the Hub (ConnectionError)")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    with pytest.raises(hub.HubUnavailable) as caught:
        hub.download_task_rows(TASKS["mmlu_anatomy"])
    assert caught.value.exit_code == EXIT_COULD_NOT_CHECK
    assert "re-run later" in str(caught.value)
