"""Wall time of `lm_eval --model hf` vs `medlb evaluate` on the same model, data and dtype.

Both run as whole processes (start-up, model load, tokenisation, scoring, writing results), in
alternating order, on a random Llama and the nine tasks' bundled sample rows cycled to --items
per task. lm-eval reads those rows through its own task YAMLs (tests/lmeval_reference.py, the
parity test's), so both tools score the same requests; the script checks that their accuracies
agree before it reports a ratio. See bench/README.md.

    .venv/bin/python bench/run_bench.py                    # 20M Llama, CPU, float32
    .venv/bin/python bench/run_bench.py --preset 1b --device cuda --dtype bfloat16 \
        --peak-tflops 989                                  # also prints tokens/s and MFU
    .venv/bin/python bench/run_bench.py --rotations        # cost of medlb evaluate --rotations
    .venv/bin/python bench/run_bench.py --track cot        # generate_until vs medlb --track cot

`--rotations` times no lm_eval: each round runs `medlb evaluate --rotations` and a plain
`medlb evaluate` (alternating which goes first) and reports, for the eight letter tasks, the
rotations run's scoring time (rotation 0 plus rotations 1-3) over its own rotation-0 scoring
time, from run.json's per-task records (`seconds` / `rotation_seconds`, the same figures as
results.json's `seconds` / `robustness.seconds`, and their CPU-time twins), and as a cross-check
over the plain run's scoring time of the same tasks.

`--track cot` times the reasoning track: `lm_eval --model hf --apply_chat_template` on
`generate_until` tasks with DESIGN §10's prompt and regex filter (tests/cot_reference.py, the
parity test's YAMLs) against `medlb evaluate --track cot`, both with the same `--max-new-tokens`,
on the same random Llama given a chat template; it checks that the two tools' exact-match
accuracies agree and prints the ratio and each tool's output tokens per second.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # lmeval_reference: the parity test's task YAMLs

from cot_reference import COT_PREFIX, write_cot_task_yamls  # noqa: E402
from lmeval_reference import PREFIX, write_task_yamls  # noqa: E402

from runner.evaluation.task_data import SAMPLE_DATA_DIR, load_task_rows, write_task_rows  # noqa: E402
from runner.evaluation.tasks import LETTER_TASK_NAMES, TASK_NAMES, TASKS  # noqa: E402
from runner.evaluation.tiny_models import (  # noqa: E402
    BOS_CHAT_TEMPLATE,
    TinyModelSpec,
    build_tiny_model,
)
from runner.precision import PRECISIONS  # noqa: E402

# Random Llamas with a 32k model vocabulary (as Llama 2's); the tokenizer is the small trained one.
PRESETS = {
    "20m": TinyModelSpec(
        model_vocab_size=32000, hidden_size=256, layers=4, heads=4, intermediate_size=688
    ),
    "1b": TinyModelSpec(
        model_vocab_size=32000, hidden_size=2048, layers=18, heads=16, intermediate_size=5632
    ),
}
LM_EVAL_BATCH_SIZE = 16


@dataclass(frozen=True)
class Timing:
    tool: str
    seconds: float  # wall time of the whole process
    cpu_seconds: float  # user + system time of the process (less sensitive to a busy machine)
    accuracies: dict[str, float]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default="20m")
    parser.add_argument("--items", type=int, default=60, help="items per task (default 60)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each tool (default 2)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--dtype", choices=PRECISIONS, default="float32")
    parser.add_argument("--peak-tflops", type=float, help="device peak, for MFU (GPU runs)")
    parser.add_argument("--workdir", type=Path, help="keep model, data and outputs here")
    parser.add_argument(
        "--rotations",
        action="store_true",
        help="measure what --rotations costs medlb (no lm_eval run)",
    )
    parser.add_argument("--track", choices=("loglik", "cot"), default="loglik")
    parser.add_argument(
        "--max-new-tokens", type=int, default=48, help="--track cot: tokens per answer (48)"
    )
    parser.add_argument(
        "--compare-engines",
        action="store_true",
        help="--track cot on CUDA: medlb --engine hf vs --engine vllm, answers item by item",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="medlb-bench-") as tmp:
        work = args.workdir or Path(tmp)
        chat = args.track == "cot"
        model_dir = work / f"model-{args.preset}{'-chat' if chat else ''}"
        if not (model_dir / "config.json").exists():
            spec = PRESETS[args.preset]
            template = BOS_CHAT_TEMPLATE if chat else None
            build_tiny_model(model_dir, dataclasses.replace(spec, chat_template=template))
        data_dir = write_bench_data(work / "data", args.items)
        print(describe_setup(model_dir, args), flush=True)
        if chat and args.compare_engines:
            compare_engines(model_dir, data_dir, work, args)
            return 0
        if chat:
            cot_bench(model_dir, data_dir, work, args)
            return 0
        yaml_dir = work / "lm-eval-tasks"
        write_task_yamls(data_dir, yaml_dir)
        if args.rotations:
            rotations_bench(model_dir, data_dir, work, args)
            return 0

        timings: list[Timing] = []
        for round_no in range(args.rounds):
            # Alternate which tool goes first, so neither always gets the warmer page cache.
            order = (run_lm_eval, run_medlb) if round_no % 2 == 0 else (run_medlb, run_lm_eval)
            for run in order:
                out = work / f"out-{round_no}"
                shutil.rmtree(out, ignore_errors=True)  # a fresh run each time, never a resume
                timing = run(model_dir, data_dir, yaml_dir, out, args)
                print(
                    f"round {round_no + 1}: {timing.tool:<8} wall {timing.seconds:6.1f} s, "
                    f"CPU {timing.cpu_seconds:6.1f} s",
                    flush=True,
                )
                timings.append(timing)
        report(timings, work, args)
    return 0


def write_bench_data(data_dir: Path, items: int) -> Path:
    """The sample rows of each task, cycled to `items` rows.

    Every repeat gets " (variant k)" after its question: both tools run identical requests only
    once (lm-eval's "contexts" cache, medlb's merge), and exact copies would turn the benchmark
    into a start-up benchmark.
    """
    for name in TASK_NAMES:
        spec = TASKS[name]
        rows = load_task_rows(spec, SAMPLE_DATA_DIR).rows
        question = spec.columns[0]  # sent1 / question / QUESTION
        copies = []
        for index, row in zip(range(items), itertools.cycle(rows)):
            variant = index // len(rows)
            suffix = f" (variant {variant})" if variant else ""
            copies.append({**row, question: row[question] + suffix})
        write_task_rows(data_dir, spec, copies)
    return data_dir


def timed_lm_eval(
    yaml_dir: Path, out: Path, args, model_dir: Path, prefix: str, metric: str, *flags: str
) -> Timing:
    """lm-eval on the tasks `prefix` names in `yaml_dir`, timed; each task's `metric`."""
    command = [sys.executable, "-m", "lm_eval", "run", "--model", "hf", *flags]
    command += ["--model_args", f"pretrained={model_dir},dtype={args.dtype}"]
    command += ["--tasks", ",".join(prefix + name for name in TASK_NAMES)]
    command += ["--include_path", str(yaml_dir), "--device", args.device]
    command += ["--batch_size", str(LM_EVAL_BATCH_SIZE), "--output_path", str(out / "lm-eval")]
    seconds, cpu_seconds = timed(command)
    results = json.loads(next((out / "lm-eval").rglob("results_*.json")).read_text())["results"]
    accs = {name: results[prefix + name][metric] for name in TASK_NAMES}
    return Timing("lm_eval", seconds, cpu_seconds, accs)


def timed_medlb(
    model_dir: Path, data_dir: Path, out: Path, args, track: str, *extra: str
) -> Timing:
    """`medlb evaluate --track TRACK`, timed; that track's accuracy per task."""
    command = [sys.executable, "-m", "runner", "evaluate", "--model", str(model_dir)]
    command += ["--data-dir", str(data_dir), "--device", args.device, "--dtype", args.dtype]
    command += ["--track", track, "--no-progress", "--output", str(out / "medlb"), *extra]
    seconds, cpu_seconds = timed(command)
    results = json.loads((out / "medlb" / "results.json").read_text())
    tasks = results["tasks"] if track == "loglik" else results["cot"]["tasks"]
    return Timing("medlb", seconds, cpu_seconds, {n: t["acc"] for n, t in tasks.items()})


def run_lm_eval(model_dir: Path, data_dir: Path, yaml_dir: Path, out: Path, args) -> Timing:
    return timed_lm_eval(yaml_dir, out, args, model_dir, PREFIX, "acc,none")


def run_medlb(
    model_dir: Path, data_dir: Path, yaml_dir: Path | None, out: Path, args, *extra: str
) -> Timing:
    return timed_medlb(model_dir, data_dir, out, args, "loglik", *extra)


def cot_bench(model_dir: Path, data_dir: Path, work: Path, args) -> None:
    """lm-eval's generate_until vs medlb's cot track, alternating, then the ratio."""
    yaml_dir = work / "lm-eval-cot-tasks"
    write_cot_task_yamls(data_dir, yaml_dir, TASK_NAMES, args.max_new_tokens)
    timings: list[Timing] = []
    for round_no in range(args.rounds):
        order = (run_lm_eval_cot, run_medlb_cot) if round_no % 2 == 0 else (
            run_medlb_cot, run_lm_eval_cot)  # fmt: skip
        for run in order:
            out = work / f"cot-{round_no}"
            shutil.rmtree(out / ("lm-eval" if run is run_lm_eval_cot else "medlb"), True)
            timing = run(model_dir, data_dir, yaml_dir, out, args)
            print(
                f"round {round_no + 1}: {timing.tool:<8} wall {timing.seconds:6.1f} s, "
                f"CPU {timing.cpu_seconds:6.1f} s",
                flush=True,
            )
            timings.append(timing)
    report(timings, work, args)
    cot = json.loads(next(work.rglob("medlb/results.json")).read_text())["cot"]
    tokens = cot["cost"]["output_tokens"]
    print(
        f"medlb cot: {tokens} output tokens, {cot['truncation_rate']:.0%} of answers cut at "
        f"{args.max_new_tokens} tokens; {tokens / cot['cost']['seconds']:,.0f} output tokens/s "
        "of generation time"
    )


def compare_engines(model_dir: Path, data_dir: Path, work: Path, args) -> None:
    """medlb's cot track with transformers and with vLLM: output tokens/s of each, and how many
    items get the same extracted answer and the same text (bf16 on a GPU: not bitwise)."""
    answers = {}
    for engine in ("hf", "vllm"):
        out = work / f"engine-{engine}"
        shutil.rmtree(out, ignore_errors=True)
        timing = run_medlb_cot(model_dir, data_dir, None, out, args, "--engine", engine)
        cot = json.loads((out / "medlb" / "results.json").read_text())["cot"]
        rate = cot["cost"]["output_tokens"] / cot["cost"]["seconds"]
        print(f"{engine}: wall {timing.seconds:.1f} s, {rate:,.0f} output tokens/s, "
              f"engine {cot['engine']['name']} {cot['engine']['version']}", flush=True)  # fmt: skip
        answers[engine] = {
            (task, row["doc_id"]): (row["answer"], row["generation"])
            for task in TASK_NAMES
            for row in map(json.loads, (out / "medlb/predictions/cot" / f"{task}.jsonl").open())
        }
    keys = answers["hf"].keys()
    same_answer = sum(answers["hf"][k][0] == answers["vllm"][k][0] for k in keys)
    same_text = sum(answers["hf"][k] == answers["vllm"][k] for k in keys)
    print(f"same extracted answer: {same_answer}/{len(keys)}; same text: {same_text}/{len(keys)}")


def run_lm_eval_cot(model_dir: Path, data_dir: Path, yaml_dir: Path, out: Path, args) -> Timing:
    return timed_lm_eval(
        yaml_dir, out, args, model_dir, COT_PREFIX, "exact_match,cot", "--apply_chat_template"
    )


def run_medlb_cot(
    model_dir: Path, data_dir: Path, yaml_dir: Path | None, out: Path, args, *extra: str
) -> Timing:
    limit = ("--max-new-tokens", str(args.max_new_tokens))
    return timed_medlb(model_dir, data_dir, out, args, "cot", *limit, *extra)


def rotations_bench(model_dir: Path, data_dir: Path, work: Path, args) -> None:
    """Scoring time of the letter tasks with --rotations over rotation 0's (see the docstring)."""
    ratios: dict[str, list[float]] = {
        "wall": [],
        "CPU": [],
        "wall vs plain": [],
        "CPU vs plain": [],
    }
    for round_no in range(args.rounds):
        outs = {kind: work / f"out-{round_no}-{kind}" for kind in ("plain", "rotations")}
        kinds = ("rotations", "plain") if round_no % 2 == 0 else ("plain", "rotations")
        for kind in kinds:
            shutil.rmtree(outs[kind], ignore_errors=True)
            extra = ("--rotations",) if kind == "rotations" else ()
            run_medlb(model_dir, data_dir, None, outs[kind], args, *extra)
        accuracies = [
            {
                n: t["acc"]
                for n, t in json.loads((out / "medlb/results.json").read_text())["tasks"].items()
            }
            for out in outs.values()
        ]
        if accuracies[0] != accuracies[1]:
            sys.exit("rotation 0 of the --rotations run differs from the plain run")
        rotated, plain = (letter_task_records(outs[k] / "medlb") for k in ("rotations", "plain"))
        line = []
        for clock, prefix in (("wall", ""), ("CPU", "cpu_")):
            rotation_0 = sum(t[f"{prefix}seconds"] for t in rotated)
            rotations = sum(t[f"rotation_{prefix}seconds"] for t in rotated)
            plain_s = sum(t[f"{prefix}seconds"] for t in plain)
            ratios[clock].append((rotation_0 + rotations) / rotation_0)
            ratios[f"{clock} vs plain"].append((rotation_0 + rotations) / plain_s)
            line.append(
                f"{clock} {rotation_0:.2f} + {rotations:.2f} s = {ratios[clock][-1]:.2f}x "
                f"(plain run {plain_s:.2f} s: {ratios[f'{clock} vs plain'][-1]:.2f}x)"
            )
        tokens_0 = sum(t["model_tokens"] for t in rotated)
        tokens = sum(t["rotation_model_tokens"] for t in rotated)
        line.append(f"model tokens {tokens_0} + {tokens} ({(tokens_0 + tokens) / tokens_0:.2f}x)")
        print(f"round {round_no + 1}: " + "; ".join(line), flush=True)
    options = 4
    medians = ", ".join(f"{name} {statistics.median(v):.2f}x" for name, v in ratios.items())
    print(
        f"letter tasks, (rotation 0 + rotations 1-3) / rotation 0 scoring time (n = {options}, "
        f"limit {options + 0.3:.1f}x), median of {args.rounds}: {medians}"
    )


def letter_task_records(run_dir: Path) -> list[dict]:
    """The letter tasks' records in run.json, after checking results.json lists them all."""
    results = json.loads((run_dir / "results.json").read_text())["tasks"]
    records = json.loads((run_dir / "run.json").read_text())["tasks"]
    missing = [n for n in LETTER_TASK_NAMES if n not in results]
    if missing:
        sys.exit(f"{run_dir}: no results for {', '.join(missing)}")
    return [records[n] for n in LETTER_TASK_NAMES]


def timed(command: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    finished = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if finished.returncode != 0:
        sys.exit(f"{command[2]} failed:\n{finished.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu


def describe_setup(model_dir: Path, args) -> str:
    import torch

    from runner.evaluation.engine import safetensors_param_count

    params = safetensors_param_count(model_dir)
    return (
        f"model: random Llama, {params / 1e6:.1f}M parameters, 32k vocabulary ({args.preset})\n"
        f"data: 9 tasks x {args.items} items; {args.device}, {args.dtype}; "
        f"lm_eval batch size {LM_EVAL_BATCH_SIZE}, medlb --batch-size auto\n"
        f"machine: {cpu_name()}, {os.cpu_count()} CPUs, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)"
        + (f", {torch.cuda.get_device_name(0)}" if args.device == "cuda" else "")
    )


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def report(timings: list[Timing], work: Path, args) -> None:
    by_tool = {tool: [t for t in timings if t.tool == tool] for tool in ("lm_eval", "medlb")}
    lm_eval_acc, medlb_acc = by_tool["lm_eval"][0].accuracies, by_tool["medlb"][0].accuracies
    disagree = [n for n in TASK_NAMES if abs(lm_eval_acc[n] - medlb_acc[n]) > 1e-9]
    lm_eval_s = statistics.median(t.seconds for t in by_tool["lm_eval"])
    medlb_s = statistics.median(t.seconds for t in by_tool["medlb"])
    lm_eval_cpu = statistics.median(t.cpu_seconds for t in by_tool["lm_eval"])
    medlb_cpu = statistics.median(t.cpu_seconds for t in by_tool["medlb"])
    print(f"accuracy agrees on {9 - len(disagree)}/9 tasks")
    if disagree:
        print(f"WARNING: accuracies differ on {', '.join(disagree)}: the tools scored differently")
    print(f"wall: lm_eval median {lm_eval_s:.1f} s, medlb median {medlb_s:.1f} s")
    print(f"CPU:  lm_eval median {lm_eval_cpu:.1f} s, medlb median {medlb_cpu:.1f} s")
    print(
        f"ratio lm_eval/medlb = {lm_eval_s / medlb_s:.2f}x wall, {lm_eval_cpu / medlb_cpu:.2f}x CPU"
    )
    if args.device == "cuda":
        print_throughput(work, medlb_s, args)


def print_throughput(work: Path, medlb_s: float, args) -> None:
    """Model tokens per second of medlb's scoring, and MFU = 2 x params x tokens / time / peak."""
    results = json.loads(next(work.rglob("medlb/results.json")).read_text())
    tokens = sum(t["prompt_tokens"] for t in results["tasks"].values())
    scoring_s = sum(t["seconds"] for t in results["tasks"].values())
    params = results["model"]["params"]
    print(f"medlb scoring: {tokens} tokens in {scoring_s:.1f} s = {tokens / scoring_s:,.0f} tok/s")
    if args.peak_tflops:
        mfu = 2 * params * tokens / scoring_s / (args.peak_tflops * 1e12)
        print(f"MFU (scoring time, peak {args.peak_tflops} TFLOP/s): {mfu:.1%}")


if __name__ == "__main__":
    raise SystemExit(main())
