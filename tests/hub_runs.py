"""A run of a tiny local model as the GPU job's run of a Hub repository would be.

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


def as_hub_run(run_dir: Path, dest: Path, model_id: str, revision: str) -> Path:
    shutil.copytree(run_dir, dest)
    results = dest / "results.json"
    document = json.loads(results.read_text())
    document["model"].update(source="hub", id=model_id, revision=revision)
    results.write_text(json.dumps(document, indent=2) + "\n")
    return dest
