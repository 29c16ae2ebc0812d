"""A Hub snapshot is loaded only if every file matches the digest the Hub lists for it (finding 2 of
the trust-boundary review: a cache that outlives a job on a persistent runner is not trusted).
Offline: the Hub's metadata is built here as `RepoSibling` objects, as
`model_info(..., files_metadata=True)` returns them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hub_runs import ModelInfo, hub_siblings
from huggingface_hub.hf_api import RepoSibling

from runner import hub
from runner.cli import main
from runner.errors import UserError
from runner.evaluation.tiny_models import SAMPLE_DATA_DIR

REVISION = "0123456789abcdef0123456789abcdef01234567"


def Info(siblings: list[RepoSibling], sha: str = REVISION) -> ModelInfo:
    return ModelInfo(siblings, sha)


@pytest.fixture
def snapshot(tmp_path, pipeline_tiny_model) -> Path:
    copy = tmp_path / "snapshot"
    shutil.copytree(pipeline_tiny_model, copy)
    return copy


def test_an_untouched_snapshot_passes(snapshot):
    digests = hub.file_digests(hub_siblings(snapshot))
    hub.verify_snapshot(snapshot, digests, "rehearsal/tiny@x")


@pytest.mark.parametrize("name", ["model.safetensors", "config.json"])
def test_a_changed_file_is_refused(snapshot, name):
    digests = hub.file_digests(hub_siblings(snapshot))
    data = bytearray((snapshot / name).read_bytes())
    data[-2] ^= 1
    (snapshot / name).write_bytes(bytes(data))
    with pytest.raises(UserError, match=f"{name} differs from the file the Hub lists"):
        hub.verify_snapshot(snapshot, digests, "rehearsal/tiny@x")


def test_weights_without_an_lfs_sha256_or_files_the_hub_does_not_list_are_refused(snapshot):
    siblings = hub_siblings(snapshot)
    no_lfs = [RepoSibling(s.rfilename, s.size, s.blob_id, None) for s in siblings]
    with pytest.raises(UserError, match=r"model\.safetensors has no digest"):
        hub.verify_snapshot(snapshot, hub.file_digests(no_lfs), "rehearsal/tiny@x")
    (snapshot / "extra.json").write_text("{}")
    with pytest.raises(UserError, match=r"extra\.json has no digest"):
        hub.verify_snapshot(snapshot, hub.file_digests(siblings), "rehearsal/tiny@x")


def test_evaluate_refuses_a_tampered_cached_snapshot(snapshot, tmp_path, monkeypatch, capsys):
    """`medlb evaluate` of a Hub model: the cache serves altered weights; nothing is evaluated."""
    import huggingface_hub

    siblings = hub_siblings(snapshot)
    weights = snapshot / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **kw: str(snapshot))
    monkeypatch.setattr(huggingface_hub, "model_info", lambda *a, **kw: Info(siblings))
    out = tmp_path / "run"
    argv = ["evaluate", "--model", "rehearsal/tiny", "--revision", REVISION, "--tasks", "pubmedqa"]
    argv += ["--data-dir", str(SAMPLE_DATA_DIR), "--no-progress", "--output", str(out)]
    assert main(argv) == 1
    assert "model.safetensors differs from the file the Hub lists" in capsys.readouterr().err
    assert not (out / "results.json").exists()


def _fake_download(monkeypatch, snapshot: Path, info: Info) -> dict:
    import huggingface_hub

    asked: dict = {}

    def snapshot_download(**kwargs):
        asked.update(kwargs)
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    monkeypatch.setattr(huggingface_hub, "model_info", lambda *a, **kw: info)
    return asked


def test_only_root_level_model_files_are_downloaded(snapshot, monkeypatch):
    """A subfolder's checkpoints (`*.safetensors` patterns matched them) are never fetched."""
    siblings = hub_siblings(snapshot)
    extra = [
        RepoSibling("checkpoint-500/model.safetensors", 10**12, "e" * 40, None),
        RepoSibling("runs/events.json", 10, "e" * 40, None),
        RepoSibling("pytorch_model.bin", 10, "e" * 40, None),
    ]
    asked = _fake_download(monkeypatch, snapshot, Info(siblings + extra))
    assert hub.download_model("rehearsal/tiny", REVISION) == str(snapshot)
    assert asked["allow_patterns"] == sorted(s.rfilename for s in siblings)
    assert asked["revision"] == REVISION


def test_a_revision_the_hub_resolves_to_another_commit_is_not_downloaded(snapshot, monkeypatch):
    asked = _fake_download(monkeypatch, snapshot, Info(hub_siblings(snapshot), sha="9" * 40))
    with pytest.raises(UserError, match=r"resolved the revision to 9999.*not the pinned commit"):
        hub.download_model("rehearsal/tiny", REVISION)
    assert asked == {}


def test_model_files_over_the_size_cap_are_not_downloaded(snapshot, monkeypatch):
    huge = [RepoSibling(f"model-{i}.safetensors", 200 * 1024**3, "e" * 40, None) for i in (1, 2, 3)]
    asked = _fake_download(monkeypatch, snapshot, Info(hub_siblings(snapshot) + huge))
    with pytest.raises(UserError, match="over the 400 GiB limit; nothing is downloaded"):
        hub.download_model("rehearsal/tiny", REVISION)
    assert asked == {}
