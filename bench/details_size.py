"""What one model's `cot` details weigh, compressed: a realistic synthetic `predictions/cot/` set.

    .venv/bin/python bench/details_size.py [--median-tokens 500 1500] [--seed 0]

For every item of the nine full test splits (`TaskSpec.n_total`: 7,045 items), a generation whose
length in tokens is drawn from a log-normal distribution (the given median, sigma 0.9, at most
4,096 tokens, the default `--max-new-tokens`; longer ones are cut and marked truncated), written as
about 4 characters per token of real English prose (contiguous windows of the Markdown, reST and
text documentation on this machine, so the text compresses as prose does, not as repeated
filler), ending in a "Final Answer: X" line for 95% of items. The files are written by the
evaluation's own `render_rows`, so the bytes are those a run writes. Printed per scenario: raw
size, gzip (level 6, per file, as HTTP and most stores compress), and what git stores (a
repository holding the files, after `git gc --aggressive`), then the same for 1,000 models.
ARCHITECTURE.md, "Details at scale", quotes the figures.
"""

from __future__ import annotations

import argparse
import gzip
import math
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runner.evaluation.cot.records import COT_DIR, CotRow, render_rows  # noqa: E402
from runner.evaluation.tasks import LETTERS, PUBMEDQA_CHOICES, TASKS  # noqa: E402

CHARS_PER_TOKEN = 4.0  # English prose under Llama/Qwen/Gemma tokenizers
MAX_NEW_TOKENS = 4096
SIGMA = 0.9


def prose_corpus(limit: int = 40_000_000) -> str:
    """Real English prose: the documentation files of this machine's Python packages and Debian."""
    roots = [Path(sys.prefix) / "lib", Path("/usr/share/doc")]
    texts, size = [], 0
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in (".md", ".rst", ".txt") and path.is_file():
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
                if len(text) > 4000:
                    texts.append(text)
                    size += len(text)
            if size > limit:
                break
    return "\n".join(texts)


def synthetic_rows(task: str, n: int, median: float, corpus: str, rng: random.Random):
    labels = LETTERS if TASKS[task].letter_choices else PUBMEDQA_CHOICES
    for doc_id in range(n):
        tokens = int(math.exp(rng.gauss(math.log(median), SIGMA)))
        tokens = max(20, tokens)
        truncated = tokens >= MAX_NEW_TOKENS
        tokens = min(tokens, MAX_NEW_TOKENS)
        chars = int(tokens * CHARS_PER_TOKEN)
        start = rng.randrange(0, len(corpus) - chars)
        text = corpus[start : start + chars]
        gold, said = rng.choice(labels), rng.choice(labels)
        answer = None if truncated or rng.random() < 0.05 else said
        if answer is not None:
            text += f"\n\nFinal Answer: {answer}"
        yield CotRow(doc_id, text, answer, gold, answer == gold, tokens, truncated)


def write_model(out: Path, median: float, corpus: str, seed: int) -> int:
    rng = random.Random(seed)
    items = 0
    for task, spec in TASKS.items():
        rows = list(synthetic_rows(task, spec.n_total, median, corpus, rng))
        path = out / COT_DIR / f"{task}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_rows(rows))
        items += len(rows)
    return items


def sizes(folder: Path) -> tuple[int, int, int]:
    """(raw bytes, gzip -6 bytes per file summed, git pack bytes after gc --aggressive)."""
    files = sorted(folder.rglob("*.jsonl"))
    raw = sum(path.stat().st_size for path in files)
    gz = sum(len(gzip.compress(path.read_bytes(), compresslevel=6)) for path in files)
    git = ["git", "-C", str(folder), "-c", "user.name=bench", "-c", "user.email=bench@invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "details"], check=True)
    subprocess.run([*git, "gc", "-q", "--aggressive"], check=True)
    pack = sum(p.stat().st_size for p in (folder / ".git" / "objects" / "pack").glob("*.pack"))
    return raw, gz, pack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--median-tokens", type=float, nargs="+", default=[500.0, 1500.0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    corpus = prose_corpus()
    print(f"prose corpus: {len(corpus) / 1e6:.1f} MB of documentation text")
    print(f"{'median tokens':>13}  {'items':>6}  {'raw MB':>7}  {'gzip MB':>7}  {'git MB':>7}"
          f"  {'1,000 models (git)':>18}")  # fmt: skip
    for median in args.median_tokens:
        folder = Path(tempfile.mkdtemp(prefix="medlb-details-"))
        try:
            items = write_model(folder, median, corpus, args.seed)
            raw, gz, pack = sizes(folder)
        finally:
            shutil.rmtree(folder)
        print(f"{median:>13.0f}  {items:>6,}  {raw / 1e6:>7.1f}  {gz / 1e6:>7.1f}  "
              f"{pack / 1e6:>7.1f}  {pack * 1000 / 1e9:>15.1f} GB")  # fmt: skip


if __name__ == "__main__":
    main()
