"""A run of a tiny local model as the GPU job's run of a Hub repository would be, and the Hub
serving a tiny local model (offline: `model_info` and `snapshot_download` answered here).

The GPU job evaluates the Hub repository at the pinned commit (`medlb evaluate SUBMISSION`), so
its result says `source: hub` with that id and revision, and publish refuses anything else for a
pull request. Tests are offline: they evaluate a local tiny model once (the session fixtures in
conftest.py) and copy the run with the identity a Hub download gives it. Every score is left as
evaluated; publish recomputes them from the predictions anyway.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from huggingface_hub.hf_api import BlobLfsInfo, RepoSibling

from runner.digests import file_git_blob_sha1, file_sha256


def as_hub_run(run_dir: Path, dest: Path, model_id: str, revision: str) -> Path:
    shutil.copytree(run_dir, dest)
    results = dest / "results.json"
    document = json.loads(results.read_text())
    document["model"].update(source="hub", id=model_id, revision=revision)
    results.write_text(json.dumps(document, indent=2) + "\n")
    return dest


def hub_siblings(directory: Path) -> list[RepoSibling]:
    """The metadata the Hub would list for these files: weights in LFS, the rest in git."""
    siblings = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        size = path.stat().st_size
        lfs = None
        if path.suffix == ".safetensors":
            lfs = BlobLfsInfo(size=size, sha256=file_sha256(path), pointer_size=134)
        blob = "f" * 40 if lfs else file_git_blob_sha1(path)  # an LFS file's blob is its pointer
        siblings.append(RepoSibling(rfilename=path.name, size=size, blob_id=blob, lfs=lfs))
    return siblings


class ModelInfo:
    """`model_info(..., files_metadata=True)`'s answer: the commit and the files' metadata."""

    def __init__(self, siblings: list[RepoSibling], sha: str) -> None:
        self.siblings, self.sha = siblings, sha


def serve_from_hub(monkeypatch, model_dir: Path, revision: str) -> None:
    """The Hub serving `model_dir` as any repository at the commit `revision`."""
    import huggingface_hub

    info = ModelInfo(hub_siblings(model_dir), revision)
    monkeypatch.setattr(huggingface_hub, "model_info", lambda *a, **kw: info)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda **kw: str(model_dir))
