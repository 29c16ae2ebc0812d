"""A model's scores as a Hub model card's `model-index` (`medlb results model-card`).

The entries are built by huggingface_hub's own `EvalResult` and merged into an existing card
through its own parser (`ModelCard`, whose `ModelCardData` reads `model-index` into
`eval_results`), so the Hub reads the card the way this code does. Merging never drops an
entry: this board's entries (source name `SITE_NAME`) are replaced, every other entry is kept,
and the merged card is parsed again and compared with the original before it is written. The
source url is a permalink: the results file at the commit that last changed it, which does not
move when the model is re-evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from runner.atomic_io import write_atomic
from runner.errors import UserError, first_line
from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.results_schema import TaskResult, load_result
from runner.sitegen.git_dates import git_output

SITE_NAME = "Open Medical-LLM Leaderboard"


def eval_results(tasks: Mapping[str, TaskResult], source_url: str | None) -> list[Any]:
    """One huggingface_hub `EvalResult` per task of a result, in the registry's order."""
    from huggingface_hub.repocard_data import EvalResult

    return [
        EvalResult(
            task_type="multiple-choice",
            dataset_type=task.dataset,
            dataset_name=TASKS[name].title,
            dataset_config=task.dataset_config,
            dataset_split=task.split,
            dataset_revision=task.dataset_revision,
            metric_type="accuracy",
            metric_value=round(100 * task.acc, 2),
            metric_name="zero-shot accuracy",
            source_name=SITE_NAME if source_url else None,
            source_url=source_url,
        )
        for name in TASK_NAMES
        if (task := tasks.get(name)) is not None
    ]


def results_permalink(results_file: Path, repo_url: str, commit: str | None) -> str:
    """`repo_url/blob/<commit>/<path>`: the results file at `commit`, by default the last commit
    of its git checkout that changed it."""
    results_file = Path(results_file).resolve()
    root = git_output(results_file.parent, "rev-parse", "--show-toplevel")
    if root is None:
        raise UserError(f"{results_file}: not in a git checkout; give --commit and run it there")
    commit = commit or git_output(Path(root), "log", "-1", "--format=%H", "--", str(results_file))
    if not commit:
        raise UserError(
            f"{results_file}: no commit has this file yet; commit it first or give --commit"
        )
    path = results_file.relative_to(Path(root).resolve()).as_posix()
    return f"{repo_url.rstrip('/')}/blob/{commit}/{path}"


def merged_card(card_text: str, display: str, model_id: str, ours: list[Any]) -> str:
    """`card_text` with this board's entries replaced by `ours` and every other entry kept."""
    from huggingface_hub import ModelCard

    card = _parse(card_text, display)
    others = [r for r in card.data.eval_results or [] if r.source_name != SITE_NAME]
    names, metrics = _raw_index(card_text)
    if len(names) > 1 or metrics != len(others) + _ours_in(card):
        raise UserError(
            f"{display}: its model-index holds entries huggingface_hub cannot carry over "
            "(several model names, or results it does not read); merge by hand"
        )
    card.data.model_name = card.data.model_name or model_id
    card.data.eval_results = others + ours
    merged = str(card)
    again = ModelCard(merged).data.eval_results or []
    if [r for r in again if r.source_name != SITE_NAME] != others:  # never drop an entry
        raise UserError(f"{display}: merging would change its other entries; merge by hand")
    return merged


def _ours_in(card: Any) -> int:
    return sum(r.source_name == SITE_NAME for r in card.data.eval_results or [])


def _raw_index(card_text: str) -> tuple[set[str], int]:
    """The model names and the number of metrics in the card's `model-index` as written."""
    import yaml
    from huggingface_hub.repocard import REGEX_YAML_BLOCK

    match = REGEX_YAML_BLOCK.search(card_text)
    try:
        metadata = yaml.safe_load(match.group(2)) if match else None
    except yaml.YAMLError:
        metadata = None  # `_parse` has already said what is wrong with it
    index = metadata.get("model-index") if isinstance(metadata, dict) else None
    elements = [e for e in index or [] if isinstance(e, dict)]
    metrics = sum(
        len(result.get("metrics") or [])
        for element in elements
        for result in element.get("results") or []
        if isinstance(result, dict)
    )
    return {str(element.get("name")) for element in elements}, metrics


def _parse(card_text: str, display: str) -> Any:
    from huggingface_hub import ModelCard

    text = card_text if card_text.lstrip().startswith("---") else "---\n---\n" + card_text
    try:
        return ModelCard(text)
    except ValueError as err:
        raise UserError(
            f"{display}: the card's metadata does not parse ({first_line(err, 160)})"
        ) from None


def model_card(results_file: Path, *, merge: Path | None, repo_url: str, commit: str | None) -> str:
    """The `model-index` card for `results_file` (a new card's text), or, with `merge`, that
    README rewritten with this board's entries merged in; what was written or is to be printed."""
    result = load_result(results_file)
    ours = eval_results(result.tasks, results_permalink(results_file, repo_url, commit))
    if merge is None:
        return merged_card("", "new card", result.model.id, ours)
    try:
        text = merge.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"{merge}: cannot read it ({first_line(err, 120)})") from None
    merged = merged_card(text, str(merge), result.model.id, ours)
    write_atomic(merge, merged if merged.endswith("\n") else merged + "\n")
    return merged
