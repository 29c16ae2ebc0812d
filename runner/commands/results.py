"""`medlb results`: the pipeline's plumbing between validation, GPU runs and the published files.

The GitHub workflows call these, one per step, in this order:
  validate.yml  bundle   pack the PR's submission file for the privileged workflow
  evaluate.yml  intake   take that bundle in as untrusted data, plan the task split
                merge    check and combine the parts of a split run (or stage one part)
                publish  write results/<org>/<model>.json, the commit list and the PR comment
                fail     write results/<org>/<model>.failure.json and the PR comment instead
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runner.errors import UsageError, UserError

DESCRIPTION = __doc__


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "results",
        help="pipeline steps: bundle, intake, merge, publish, fail",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    steps = parser.add_subparsers(title="steps", metavar="STEP")
    steps.required = True
    _register_bundle(steps)
    _register_intake(steps)
    _register_merge(steps)
    _register_publish(steps)
    _register_fail(steps)


# ---- bundle -------------------------------------------------------------------------------------


def _register_bundle(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "bundle",
        help="pack the PR's one changed submission file for evaluate.yml",
        description="Copy the submission file a PR adds or changes, with the PR's number and head "
        "commit, into a directory that validate.yml uploads as its artifact.",
    )
    p.add_argument("--changed-from", required=True, metavar="GIT_REF", help="the PR's base ref")
    p.add_argument("--pr", required=True, type=int, help="pull request number")
    p.add_argument("--head-sha", required=True, help="the PR's head commit (40 hex digits)")
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="bundle directory")
    p.set_defaults(handler=_bundle)


def _bundle(args: argparse.Namespace) -> int:
    from runner.request import changed_submissions, write_bundle

    changed = changed_submissions(args.changed_from, Path.cwd())
    if len(changed) != 1:  # none, or several (which repo_checks reports as none)
        raise UserError(
            f"--changed-from {args.changed_from}: nothing to bundle; a PR must add or change "
            "exactly one submission file (see the validate step's report)"
        )
    write_bundle(Path.cwd(), changed[0], args.pr, args.head_sha, args.output)
    print(f"bundled {changed[0]} (PR #{args.pr}) into {args.output}")
    return 0


# ---- intake -------------------------------------------------------------------------------------


def _register_intake(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "intake",
        help="take a submission in as untrusted data and plan the GPU jobs",
        description="Create the request directory evaluate.yml's jobs share: the submission file "
        "and request.json (PR, run key, task split). From a workflow_run it reads the validate "
        "run's bundle (checked: exact files, sizes, head commit); from a workflow_dispatch, a "
        "submission file of the checkout. In GitHub Actions it sets the step outputs request, "
        "evaluate, submission, key and matrix.",
    )
    p.add_argument(
        "--event",
        required=True,
        choices=["workflow_run", "workflow_dispatch"],
        help="the triggering event: which of --bundle / --submission is read",
    )
    p.add_argument("--bundle", type=Path, metavar="DIR", help="validate.yml's artifact")
    p.add_argument("--submission", default="", help="submissions/<org>/<model>.yaml (dispatch)")
    p.add_argument("--head-sha", default="", help="the commit validate.yml checked (workflow_run)")
    p.add_argument(
        "--pr-validation",
        default="success",
        choices=["success", "failure"],
        help="validate.yml's conclusion; after a failure nothing is evaluated, only reported",
    )
    p.add_argument("--split", type=int, default=1, help="GPU jobs to split the tasks across")
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="request directory")
    p.set_defaults(handler=_intake)


def _intake(args: argparse.Namespace) -> int:
    from runner import github_actions
    from runner.request import SUBMISSION_PATH, matrix_json, read_bundle, write_request

    if args.event == "workflow_run":
        if args.bundle is None:
            raise UsageError("--event workflow_run needs --bundle DIR")
        bundle, data = read_bundle(args.bundle, args.head_sha)
        request = write_request(
            args.output,
            bundle.submission,
            data,
            split=args.split,
            pr=bundle.pr,
            head_sha=bundle.head_sha,
            pr_validation=args.pr_validation,
        )
    else:
        if not SUBMISSION_PATH.fullmatch(args.submission):
            raise UsageError(
                f"--submission {args.submission!r}: not submissions/<org>/<model>.yaml"
            )
        path = Path.cwd() / args.submission
        if not path.is_file():
            raise UserError(f"{args.submission}: no such file on this branch")
        request = write_request(args.output, args.submission, path.read_bytes(), split=args.split)
    submission_file = request.submission_file(args.output).as_posix()
    github_actions.set_outputs(
        {
            "request": "true",
            "evaluate": "true" if request.evaluate else "false",
            "submission": submission_file,
            "key": request.key,
            "matrix": matrix_json(request),
        }
    )
    print(f"request {request.key}: {submission_file}, {len(request.parts)} GPU job(s)")
    return 0


# ---- merge --------------------------------------------------------------------------------------


def _register_merge(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "merge",
        help="merge the parts of a split run into one results directory",
        description="Check that the parts are the same model and software on disjoint tasks, "
        "verify every predictions file against its hash, and write one results.json plus "
        "predictions/ identical to a single-runner run except for run timings and device names "
        "(runner.merge.MAY_DIFFER). One part in, a checked copy out.",
    )
    p.add_argument("parts", nargs="+", type=Path, metavar="PART_DIR", help="`evaluate` outputs")
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="merged directory")
    p.set_defaults(handler=_merge)


def _merge(args: argparse.Namespace) -> int:
    from runner.merge import merge_runs

    merged = merge_runs(args.parts, args.output)
    average = "n/a" if merged.average is None else f"{merged.average:.4f}"
    print(f"merged {len(args.parts)} part(s), {len(merged.tasks)} task(s), average {average}")
    return 0


# ---- publish / fail -----------------------------------------------------------------------------


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--results-dir",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="the repository's results directory (default: results)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="also write DIR/changes.json (files for the commit) and DIR/comment.md (PR comment)",
    )
    p.add_argument("--run-url", help="link to the CI run, shown in the comment and the record")


def _register_publish(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "publish",
        help="write results/<org>/<model>.json from a complete run",
        description="Check a finished run against its submission (model, revision, precision, "
        "every planned task, no --limit) and write results/<org>/<model>.json atomically, "
        "removing an earlier failure record. Prints the score table (and adds it to the job "
        "summary in GitHub Actions).",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="`evaluate` or `merge` output")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--request", type=Path, metavar="DIR", help="the request directory")
    source.add_argument("--submission", type=Path, metavar="FILE", help="a submission file")
    _add_output_options(p)
    p.set_defaults(handler=_publish)


def _publish(args: argparse.Namespace) -> int:
    from runner.merge import load_part
    from runner.publish import publish_result, result_path
    from runner.request import load_request
    from runner.score_report import result_markdown
    from runner.submission import load_submission
    from runner.tasks import TASK_NAMES

    if args.request is not None:
        request = load_request(args.request)
        submission_file, planned = request.submission_file(args.request), request.tasks
    else:
        submission_file, planned = args.submission, list(TASK_NAMES)
    submission = load_submission(submission_file, check_path=True)
    result = load_part(args.run_dir)
    publication, published = publish_result(
        result, submission, args.results_dir, planned_tasks=planned
    )
    target = result_path(args.results_dir, submission.model)
    markdown = result_markdown(published, target, args.run_url or result.run.ci_run_url)
    _write_outputs(args.out, publication, markdown)
    print(markdown)
    return 0


def _register_fail(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "fail",
        help="write results/<org>/<model>.failure.json for a run that published nothing",
        description="Explain why a request produced no results (invalid submission, model that "
        "does not load, out of memory, runner lost) from the jobs' outcomes and logs, print it as "
        "an ::error:: line, and write the failure record the site's queue page lists.",
    )
    p.add_argument("--request", required=True, type=Path, metavar="DIR", help="request directory")
    p.add_argument("--prepare", required=True, help="result of the prepare job (success, …)")
    p.add_argument("--evaluate", required=True, help="result of the GPU jobs (failure, …)")
    p.add_argument("--logs", type=Path, metavar="DIR", help="logs of the failed GPU jobs")
    p.add_argument(
        "--publish",
        default="skipped",
        help="outcome of the merge/publish steps (failure: the stage is publishing)",
    )
    p.add_argument("--publish-log", type=Path, metavar="FILE", help="their output")
    _add_output_options(p)
    p.set_defaults(handler=_fail)


def _fail(args: argparse.Namespace) -> int:
    from runner import github_actions
    from runner.failure_reasons import explain_failure
    from runner.publish import failure_path, failure_record, publish_failure
    from runner.request import VALIDATION_LOG, load_request
    from runner.score_report import failure_markdown
    from runner.submission import load_submission

    request = load_request(args.request)
    org_name = Path(request.submission).parent.name + "/" + Path(request.submission).stem
    try:
        submission = load_submission(request.submission_file(args.request), check_path=True)
        model_id, revision = submission.model, submission.revision
    except UserError:
        model_id, revision = org_name, "unknown"  # an invalid file: the path is all we trust
    logs = sorted(args.logs.glob("*.log")) if args.logs and args.logs.is_dir() else []
    report = explain_failure(
        prepare=args.prepare,
        evaluate=args.evaluate,
        pr_validation=request.pr_validation,
        validation_log=args.request / VALIDATION_LOG,
        evaluate_logs=logs,
        publish=args.publish,
        publish_log=args.publish_log,
    )
    failure = failure_record(model_id, revision, report, run_url=args.run_url)
    # A pull request that does not validate is answered on the PR only (annotations and the
    # comment), never with a commit to the default branch: anyone can open such a PR, as often as
    # they like. Failures after a maintainer's approval are recorded for the queue page.
    recorded = not (report.stage == "validation" and request.pr is not None)
    publication = publish_failure(failure, args.results_dir) if recorded else None
    recorded_as = failure_path(args.results_dir, model_id) if recorded else None
    _write_outputs(args.out, publication, failure_markdown(failure, recorded_as))
    print(github_actions.error_line(f"{model_id}: {report.reason}", title=report.stage))
    return 0


def _write_outputs(out_dir: Path | None, publication, markdown: str) -> None:
    """The job summary always (in Actions); comment.md, and changes.json when there is something
    to commit, when `--out` is given."""
    from runner import github_actions
    from runner.atomic_io import write_atomic
    from runner.publish import write_changes

    github_actions.append_summary(markdown)
    if out_dir is not None:
        if publication is not None:
            write_changes(publication, out_dir / "changes.json")
        write_atomic(out_dir / "comment.md", markdown)
