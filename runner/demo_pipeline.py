"""`medlb demo`: the whole submission pipeline, offline, on two tiny local models.

It runs the very commands the GitHub workflows run (validate → evaluate → publish → site build),
in-process through `runner.cli.main`, inside a workspace laid out like the repository:

    WORKSPACE/models/<name>/                    two tiny real checkpoints (evaluation.tiny_models)
    WORKSPACE/submissions/demo/<name>.yaml      their submission files
    WORKSPACE/runs/<name>/                      `medlb evaluate` outputs (resumable)
    WORKSPACE/results/demo/<name>/<revision>.json  published results
    WORKSPACE/details/demo/<name>/<revision>/   their per-item details (the details branch's layout)
    WORKSPACE/details/questions/<task>/<data_sha256>.json   the question texts of those rows
    WORKSPACE/pages/, WORKSPACE/site/           the generated Markdown and the built site

The models differ in architecture (Llama with a BOS token, GPT-2 without) and seed, so the
leaderboard has two distinct rows. The Llama has a chat template and is taught the reasoning
track's answer format for a few seconds (`runner.evaluation.taught_model`: "Final Answer: X" with
X drawn by hash, never the gold answer), so it is scored on both tracks, `loglik` and `cot`; the
GPT-2 has no chat template, so it gets `loglik` only and says why. Questions are the bundled
samples (runner/sample_data), so the scores are those of tiny models on 108 questions: they show
the pipeline, not medicine.
They are evaluated with `--rotations`, as the GPU workflow evaluates, so the site shows the
robustness measures (ARCHITECTURE.md, "Beyond accuracy") as it will for real models.
A model's "revision" is the sha1 of its weights file, a stand-in for the Hub commit it would have.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner.errors import UsageError, UserError
from runner.evaluation.tiny_models import BOS_CHAT_TEMPLATE, SAMPLE_DATA_DIR, TinyModelSpec

DEMO_ORG = "demo"
STAGES = 6
# The taught model stops after about 25 tokens; the limit bounds the rest and is recorded.
DEMO_MAX_NEW_TOKENS = 48


@dataclass(frozen=True)
class DemoModel:
    name: str
    spec: TinyModelSpec
    description: str
    taught: bool = False  # taught the cot answer format (needs spec.chat_template)

    @property
    def model_id(self) -> str:
        return f"{DEMO_ORG}/{self.name}"


DEMO_MODELS = (
    DemoModel(
        "tiny-llama",
        TinyModelSpec(arch="llama", seed=0, chat_template=BOS_CHAT_TEMPLATE),
        "A 2-layer Llama with a BPE tokenizer trained on the sample questions and a chat "
        "template, taught for seconds to end each answer with a Final Answer line (X by hash).",
        taught=True,
    ),
    DemoModel(
        "tiny-gpt2",
        TinyModelSpec(arch="gpt2", seed=1, hidden_size=96, heads=4),
        "A 2-layer GPT-2 with random weights; its tokenizer adds no BOS token and it has no chat "
        "template, unlike the Llama.",
    ),
)


@dataclass(frozen=True)
class DemoWorkspace:
    root: Path

    def model_dir(self, model: DemoModel) -> Path:
        return self.root / "models" / model.name

    def submission(self, model: DemoModel) -> Path:
        return self.root / "submissions" / DEMO_ORG / f"{model.name}.yaml"

    def run_dir(self, model: DemoModel) -> Path:
        return self.root / "runs" / model.name

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def details(self) -> Path:
        """Stands in for a checkout of the details branch (ARCHITECTURE.md, "Every answer
        auditable")."""
        return self.root / "details"

    @property
    def site(self) -> Path:
        return self.root / "site"


Say = Callable[[str], None]


def demo_and_serve(workspace: DemoWorkspace, repo: Path, *, serve: bool, port: int) -> None:
    """`medlb demo`: stages 1-5 (`run_demo`), then serve the site on localhost until Ctrl-C."""
    from runner.sitegen.serve import check_port, serve_directory

    check_port(port)
    if not (repo / "mkdocs.yml").is_file():
        raise UsageError(f"--repo {repo}: no mkdocs.yml (run from a clone of the repository)")
    started = time.perf_counter()
    site = run_demo(workspace, repo)
    took = time.perf_counter() - started
    if not serve:
        print(f"[{STAGES}/{STAGES}] Done in {took:.0f} s; the site is in {site} (not served).")
        return
    print(f"[{STAGES}/{STAGES}] Built in {took:.0f} s. Open the URL below to browse the demo site.")
    serve_directory(site, "127.0.0.1", port)


def run_demo(workspace: DemoWorkspace, repo: Path, say: Say = print) -> Path:
    """Stages 1-5 of the demo; returns the built site's directory (stage 6 serves it).

    `repo` is the repository checkout: the site's mkdocs.yml, templates and references/ are read
    from it; everything the demo writes goes under the workspace.
    """
    from runner.evaluation.engine import quiet_transformers
    from runner.evaluation.taught_model import teach_answer_format
    from runner.evaluation.tiny_models import build_tiny_model

    quiet_transformers()
    say(f"[1/{STAGES}] Building {len(DEMO_MODELS)} tiny models in {workspace.root / 'models'}")
    for model in DEMO_MODELS:
        build_tiny_model(workspace.model_dir(model), model.spec)
        template = "a chat template" if model.spec.chat_template else "no chat template"
        say(f"      {model.model_id}: {model.spec.arch}, seed {model.spec.seed}, {template}")
        if model.taught:
            teach_answer_format(workspace.model_dir(model), SAMPLE_DATA_DIR)
            say("      taught it the answer format `Final Answer: X` (a few seconds of training)")

    say(f"[2/{STAGES}] Writing their submission files and validating them (offline)")
    for model in DEMO_MODELS:
        _write_submission(workspace, model)
        _medlb(say, "validate", workspace.submission(model), "--offline",
               "--model-dir", workspace.model_dir(model))  # fmt: skip

    say(f"[3/{STAGES}] Evaluating both on the bundled sample questions ({SAMPLE_DATA_DIR.name}/),")
    say("      each question also with its options rotated, as the GPU workflow does; a model")
    say("      with a chat template also on the reasoning track (cot), one without it loglik only")
    for model in DEMO_MODELS:
        _medlb(say, "evaluate", "--model", workspace.model_dir(model), "--rotations",
               "--max-new-tokens", str(DEMO_MAX_NEW_TOKENS),
               "--data-dir", SAMPLE_DATA_DIR, "--output", workspace.run_dir(model))  # fmt: skip

    say(f"[4/{STAGES}] Publishing the results into {workspace.results},")
    say(f"      their per-item details and question texts into {workspace.details}")
    for model in DEMO_MODELS:
        _medlb(say, "results", "publish", workspace.run_dir(model),
               "--submission", workspace.submission(model),
               "--results-dir", workspace.results, "--data-dir", SAMPLE_DATA_DIR,
               "--details-dir", workspace.details)  # fmt: skip

    say(f"[5/{STAGES}] Building the site into {workspace.site}")
    _medlb(say, "site", "build", "--results", workspace.results,
           "--submissions", workspace.root / "submissions",
           "--references", repo / "references", "--flags", repo / "flags",
           "--config", repo / "mkdocs.yml", "--details", workspace.details,
           "--pages-dir", workspace.root / "pages", "--out", workspace.site)  # fmt: skip
    return workspace.site


def _write_submission(workspace: DemoWorkspace, model: DemoModel) -> None:
    from runner.atomic_io import write_atomic

    weights = workspace.model_dir(model) / "model.safetensors"
    revision = hashlib.sha1(weights.read_bytes()).hexdigest()  # stands in for the Hub commit
    write_atomic(
        workspace.submission(model),
        f"model: {model.model_id}\n"
        f"revision: {revision}\n"
        "precision: float32\n"
        "model_type: pretrained\n"
        "license: apache-2.0\n"
        f"description: {model.description}\n",
    )


def _shown(arg: str | Path) -> str:
    """An argument as a reader would type it: paths relative to the current directory."""
    if isinstance(arg, Path) and arg.is_absolute() and arg.is_relative_to(Path.cwd()):
        return str(arg.relative_to(Path.cwd())) or "."
    return str(arg)


def _medlb(say: Say, *argv: str | Path) -> None:
    """Run one `medlb` command in-process, echoed first so a reader can replay it."""
    from runner.cli import main

    say("      $ medlb " + " ".join(map(_shown, argv)))
    code = main([str(arg) for arg in argv])
    if code != 0:
        raise UserError(f"demo: `medlb {argv[0]}` failed (exit {code}); see the message above")
