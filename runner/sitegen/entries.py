"""One `ModelEntry` per results file: the result joined with its submission and its ranks.

This is the view every page and data file renders from, so the joining rules live here once:
a result's submission is the file at the same `org/model` path; a model is ranked only when all
nine tasks ran on every item (`average` is set and `--limit` was not used).

Scores on different data are never ranked together. A result on the registry's full splits (every
task's `n` equals `TaskSpec.n_total`) is the leaderboard's currency; once any such result exists,
results on smaller local data (the bundled sample questions, say) are shown but not ranked. A site
with no full-split result at all (the demo, the tests) ranks its sample-data results among
themselves, and its pages say so (`sample_data_site`). `unranked_reason` and
`task_unranked_reason` put the rule into words for a result it leaves unranked; `rankable_task` is
defined by the latter, so the reason shown is the rule applied.

Two more rankings use the same rule among the models ranked by average (ARCHITECTURE.md, "The
site"): by consistent accuracy over the eight letter tasks (only results with rotation scores;
`NO_ROTATIONS` says why the others are not), and by the chance-normalised average.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from runner.evaluation.tasks import TASK_NAMES, TASKS
from runner.results_schema import Estimate, EvaluationResult, TaskResult
from runner.sitegen.flags import Flag
from runner.sitegen.inputs import SiteInputs
from runner.sitegen.queue import https_only
from runner.sitegen.ranking import RankPlace, rank_places
from runner.stats import Interval, mean_interval
from runner.submissions.schema import Submission

HUB = "https://huggingface.co"
NO_ROTATIONS = "no rotation scores (evaluated without --rotations)"
NO_NORMALIZED = "no chance-normalised scores (a results file of schema version 1)"


@dataclass(frozen=True)
class ModelEntry:
    key: str  # "org/model", also the page path models/<key>/
    result: EvaluationResult
    submission: Submission | None
    average: Interval | None  # None: not all nine tasks complete, so not ranked
    place: RankPlace | None
    task_places: dict[str, RankPlace] = field(default_factory=dict)
    unranked_reason: str | None = None  # why `place` is None, in words the site shows
    # Per-item details (runner.sitegen.question_views), set by the build when it read them:
    # the tasks with a question view, and the folder of predictions files on the details branch.
    question_tasks: tuple[str, ...] = ()
    predictions_url: str | None = None
    consistent_place: RankPlace | None = None  # rank by consistent accuracy (ranked models only)
    normalized_place: RankPlace | None = None  # rank by the chance-normalised average
    flag: Flag | None = None  # a maintainer's flag (flags/<org>/<model>.yaml)
    model_key: str = ""  # "org/model" as results/ and submissions/ spell it
    results_file: str = ""  # the results file, repository-relative

    @property
    def run_url(self) -> str | None:
        """The CI run that published the result: an https link, or none."""
        return https_only(self.result.run.ci_run_url)

    # The cot track (ARCHITECTURE.md, "The reasoning track"), ranked apart from loglik
    cot_average: Interval | None = None
    cot_place: RankPlace | None = None
    cot_task_places: dict[str, RankPlace] = field(default_factory=dict)

    @property
    def model_id(self) -> str:
        return self.result.model.id

    @property
    def revision(self) -> str | None:
        return self.result.model.revision

    @property
    def hub_url(self) -> str | None:
        """The Hub page at the evaluated commit; None for a local directory."""
        model = self.result.model
        if model.source != "hub" or not model.revision:
            return None
        return f"{HUB}/{model.id}/tree/{model.revision}"

    @property
    def model_type(self) -> str:
        return self.submission.model_type if self.submission else "unknown"

    @property
    def license(self) -> str | None:
        return self.submission.license if self.submission else None

    @property
    def params(self) -> int | None:
        return self.result.model.params

    @property
    def page(self) -> str:
        return f"models/{self.key}.md"

    @property
    def results_download(self) -> str:
        """The published results file as the site serves it (path under the site root)."""
        return f"data/results/{self.key}.json"

    def task(self, name: str) -> TaskResult | None:
        return self.result.tasks.get(name)

    @property
    def consistent(self) -> Estimate | None:
        """Consistent accuracy, mean of the eight letter tasks; None without rotation scores."""
        return consistent_accuracy(self.result)

    @property
    def consistent_unranked_reason(self) -> str | None:
        """Why this model has no rank by consistent accuracy (None when it has one)."""
        if self.consistent_place is not None:
            return None
        return self.unranked_reason or NO_ROTATIONS


def consistent_accuracy(result: EvaluationResult) -> Estimate | None:
    average = result.letter_tasks_average
    return average.rotations.consistent if average and average.rotations else None


def on_full_splits(result: EvaluationResult) -> bool:
    """Every task the result holds ran on the registry's whole split (not a local sample)."""
    return all(TASKS[name].n_total == task.n_total for name, task in result.tasks.items())


def sample_data_site(inputs: SiteInputs) -> bool:
    """No result on the full splits: every score on the site comes from smaller local data."""
    return bool(inputs.results) and not any(on_full_splits(f.result) for f in inputs.results)


def rankable_task(result: EvaluationResult, name: str, sample_site: bool) -> bool:
    """`name` ran on every item of its data (no --limit), and that data is what the site ranks
    on: the registry's full split, or on a sample-data site any data."""
    return task_unranked_reason(result, name, sample_site) is None


def build_entries(inputs: SiteInputs) -> list[ModelEntry]:
    """Entries sorted as the leaderboard lists them: ranked by average, then the rest by name.

    A model ranked by average is also ranked by consistent accuracy when its result has rotation
    scores, and by the chance-normalised average when its result has one (schema version 2)."""
    submissions = {s.key: s.submission for s in inputs.submissions}  # by "org/model"
    sample_site = sample_data_site(inputs)
    averages = {
        f.key: _average(f.result)
        if f.result.average is not None
        and all(rankable_task(f.result, name, sample_site) for name in TASK_NAMES)
        else None
        for f in inputs.results
    }
    ranked = [key for key, average in averages.items() if average is not None]
    places = dict(zip(ranked, rank_places([averages[k] for k in ranked]), strict=True))
    task_places = _task_places(inputs, sample_site)
    by_key = {f.key: f.result for f in inputs.results}
    consistent = _places(ranked, lambda key: consistent_accuracy(by_key[key]))
    normalized = _places(ranked, lambda key: by_key[key].chance_normalized_average)
    cot_averages = {f.key: _cot_average(f.result, sample_site) for f in inputs.results}
    cot_ranked = [key for key, average in cot_averages.items() if average is not None]
    cot_places = dict(
        zip(cot_ranked, rank_places([cot_averages[k] for k in cot_ranked]), strict=True)
    )
    cot_task_places = _cot_task_places(inputs, sample_site)
    entries = [
        ModelEntry(
            key=f.key,
            result=f.result,
            submission=submissions.get(f.model_key),
            average=averages[f.key],
            place=places.get(f.key),
            task_places={t: p[f.key] for t, p in task_places.items() if f.key in p},
            unranked_reason=None if f.key in places else unranked_reason(f.result, sample_site),
            consistent_place=consistent.get(f.key),
            normalized_place=normalized.get(f.key),
            flag=inputs.flag_of(f.result.model.id),
            model_key=f.model_key,
            results_file=f.repo_path,
            cot_average=cot_averages[f.key],
            cot_place=cot_places.get(f.key),
            cot_task_places={t: p[f.key] for t, p in cot_task_places.items() if f.key in p},
        )
        for f in inputs.results
    ]
    return sorted(entries, key=_leaderboard_order)


def unranked_reason(result: EvaluationResult, sample_site: bool) -> str:
    """Why a result has no rank and no average, in the words the site shows."""
    missing = [TASKS[name].title for name in TASK_NAMES if name not in result.tasks]
    if result.run.limit is not None:
        return f"partial run (--limit {result.run.limit})"
    if missing:
        return "not all nine tasks ran (missing " + ", ".join(missing) + ")"
    for name in TASK_NAMES:
        reason = task_unranked_reason(result, name, sample_site)
        if reason:
            return f"{TASKS[name].title}: {reason}"
    return "no nine-task average in the results file"


def task_unranked_reason(result: EvaluationResult, name: str, sample_site: bool) -> str | None:
    """Why `name` is not ranked for this result (None when it is): the rule of `rankable_task`."""
    task = result.tasks.get(name)
    if task is None:
        return "not evaluated"
    if result.run.limit is not None:
        return f"partial run (--limit {result.run.limit})"
    if task.n != task.n_total:
        return f"{task.n} of {task.n_total} questions ran"
    if not sample_site and TASKS[name].n_total != task.n_total:
        return (
            f"evaluated on {task.n_total} local questions, not the full split of "
            f"{TASKS[name].n_total}"
        )
    return None


def _average(result: EvaluationResult) -> Interval:
    tasks = [result.tasks[name] for name in TASK_NAMES]
    return mean_interval([t.acc for t in tasks], [t.stderr for t in tasks])


def _cot_average(result: EvaluationResult, sample_site: bool) -> Interval | None:
    """The cot average with its interval, when all nine cot tasks ran on rankable data."""
    cot = result.cot
    if cot is None or cot.average is None or result.run.limit is not None:
        return None
    tasks = [cot.tasks.get(name) for name in TASK_NAMES]
    if any(
        t is None or not _rankable_rows(t.n, t.n_total, name, sample_site)
        for t, name in zip(tasks, TASK_NAMES, strict=True)
    ):
        return None
    return mean_interval([t.acc for t in tasks], [t.stderr for t in tasks])  # type: ignore[union-attr]


def _rankable_rows(n: int, n_total: int, name: str, sample_site: bool) -> bool:
    return n == n_total and (sample_site or TASKS[name].n_total == n_total)


def _cot_task_places(inputs: SiteInputs, sample_site: bool) -> dict[str, dict[str, RankPlace]]:
    """Per task, the cot place of every model whose cot track ran it on all of its items."""
    out: dict[str, dict[str, RankPlace]] = {}
    for name in TASK_NAMES:
        done = [
            (f.key, t)
            for f in inputs.results
            if f.result.cot is not None
            and f.result.run.limit is None
            and (t := f.result.cot.tasks.get(name)) is not None
            and _rankable_rows(t.n, t.n_total, name, sample_site)
        ]
        intervals = [Interval(t.acc, t.ci95[0], t.ci95[1]) for _, t in done]
        out[name] = {key: p for (key, _), p in zip(done, rank_places(intervals), strict=True)}
    return out


def _places(keys: list[str], estimate_of) -> dict[str, RankPlace]:
    """The places of the models among `keys` that have the estimate, by its 95% interval."""
    scored = [(key, e) for key in keys if (e := estimate_of(key)) is not None]
    intervals = [Interval(e.value, e.ci95[0], e.ci95[1]) for _, e in scored]
    return {key: p for (key, _), p in zip(scored, rank_places(intervals), strict=True)}


def _task_places(inputs: SiteInputs, sample_site: bool) -> dict[str, dict[str, RankPlace]]:
    """Per task, the place of every model that ran it on all of its items (of the same data)."""
    out: dict[str, dict[str, RankPlace]] = {}
    for name in TASK_NAMES:
        done = [
            (f.key, f.result.tasks[name])
            for f in inputs.results
            if rankable_task(f.result, name, sample_site)
        ]
        intervals = [Interval(t.acc, t.ci95[0], t.ci95[1]) for _, t in done]
        out[name] = {key: p for (key, _), p in zip(done, rank_places(intervals), strict=True)}
    return out


def _leaderboard_order(entry: ModelEntry) -> tuple:
    if entry.average is None:
        return (1, 0.0, entry.model_id.lower())
    return (0, -entry.average.value, entry.model_id.lower())
