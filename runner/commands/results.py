"""`medlb results`: the pipeline's plumbing between validation, GPU runs and the published files.

The GitHub workflows call these, one per step, in this order:
  validate.yml  bundle     pack the PR's submission file for the privileged workflow
  evaluate.yml  bundle-pr  the PR number a bundle names (the prepare job asks GitHub about it)
                intake     check the bundle against GitHub's answers and the default branch,
                           plan the task split
                merge      check and combine the parts of a split run (or stage one part)
                publish    write results/<org>/<model>.json, the commit plan and the PR comment
                           (and stage the per-item details for the details branch)
                fail       explain a run that published nothing; plan a failure record if a GPU
                           job started
                deliver    commit the details to the details branch, then the plan to the default
                           branch, then comment on the PR
Maintainers and model authors:
  details-branch.yml  details-branch  create the parentless details branch once (setup)
  (by hand)           model-card      merge a result into a Hub model card's model-index
"""

from __future__ import annotations

import argparse
from pathlib import Path

from runner.commands.results_deliver import register_deliver
from runner.commands.results_migrate import register_migrate

DESCRIPTION = __doc__


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "results",
        help="pipeline steps: bundle, bundle-pr, intake, merge, publish, fail, deliver; migrate, "
        "model-card, details-branch",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    steps = parser.add_subparsers(title="steps", metavar="STEP")
    steps.required = True
    _register_bundle(steps)
    _register_bundle_pr(steps)
    _register_intake(steps)
    _register_merge(steps)
    _register_publish(steps)
    _register_fail(steps)
    register_deliver(steps)
    register_migrate(steps)
    from runner.commands.results_maintainer import register_steps

    register_steps(steps)  # model-card, details-branch


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
    from runner.pipeline.request import bundle_submission

    bundle_submission(args.changed_from, args.pr, args.head_sha, args.output, Path.cwd())
    return 0


def _register_bundle_pr(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "bundle-pr",
        help="print the PR number a bundle names (checked), for fetching that PR from GitHub",
        description="Check DIR/bundle.json and print its PR number; in GitHub Actions also set "
        "the step output pr. Nothing else in the bundle is read, and the number is believed "
        "only after `intake` checks GitHub's answer about that PR against the bundle.",
    )
    p.add_argument("bundle", type=Path, metavar="DIR", help="validate.yml's artifact")
    p.set_defaults(handler=_bundle_pr)


def _bundle_pr(args: argparse.Namespace) -> int:
    from runner.pipeline.request import bundle_pr

    bundle_pr(args.bundle)
    return 0


# ---- intake -------------------------------------------------------------------------------------

_PR_EVIDENCE = ("bundle", "pull", "pull_files", "head_repo", "head_sha")


def _register_intake(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "intake",
        help="take a submission in as untrusted data and plan the GPU jobs",
        description="Create the request directory evaluate.yml's jobs share: the submission file "
        "and request.json (PR, run key, task split). From a workflow_run it reads the validate "
        "run's bundle and believes it only where GitHub's own answers about the pull request "
        "agree (--pull, --pull-files: the JSON of GET /repos/{o}/{r}/pulls/{n} and of its /files, "
        "one page or `gh api --paginate --slurp` pages): open, not a draft, head commit and "
        "repository of this run, base = default branch, exactly one file changed, a submission "
        "added or modified, at the bundle's path, with the bundle's git blob id. Then the "
        "default branch's files in the working directory must not already have that model at "
        "that revision. From a workflow_dispatch it reads a submission file of the checkout. "
        "Any refusal: one line, exit 1, nothing written. In GitHub Actions it sets the step "
        "outputs request, evaluate, submission, key, matrix, pr, model, revision and label, and "
        "writes the approver's job summary.",
    )
    p.add_argument(
        "--event",
        required=True,
        choices=["workflow_run", "workflow_dispatch"],
        help="the triggering event: workflow_run needs --bundle, --pull, --pull-files, "
        "--head-repo and --head-sha; workflow_dispatch needs --submission",
    )
    p.add_argument("--bundle", type=Path, metavar="DIR", help="validate.yml's artifact")
    p.add_argument("--pull", type=Path, metavar="PULL.json", help="GitHub's pull request object")
    p.add_argument(
        "--pull-files", type=Path, metavar="FILES.json", help="GitHub's list of the PR's files"
    )
    p.add_argument(
        "--head-repo", metavar="OWNER/NAME", help="workflow_run.head_repository.full_name"
    )
    p.add_argument("--head-sha", metavar="SHA", help="workflow_run.head_sha: the validated commit")
    p.add_argument(
        "--workflow-path",
        metavar="PATH",
        help="workflow_run.path; when given, it must be .github/workflows/validate.yml",
    )
    p.add_argument("--submission", default="", help="submissions/<org>/<model>.yaml (dispatch)")
    p.add_argument(
        "--pr-validation",
        default="success",
        choices=["success", "failure"],
        help="validate.yml's conclusion; after a failure nothing is evaluated, only reported",
    )
    p.add_argument("--split", type=int, default=1, help="GPU jobs to split the tasks across")
    p.add_argument(
        "--replace",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="workflow_dispatch only: replace this revision's published result (a maintainer's "
        "decision, named in the commit message); without it an existing result is never changed",
    )
    p.add_argument(
        "--environment",
        type=Path,
        metavar="ENV.json",
        help="GitHub's answer for the gpu-evaluation environment (GET "
        "/repos/{o}/{r}/environments/gpu-evaluation): intake refuses unless it has required "
        "reviewers",
    )
    p.add_argument(
        "--file-history",
        type=Path,
        metavar="COMMITS.json",
        help="GitHub's newest commit touching the submission file on the default branch (GET "
        "/repos/{o}/{r}/commits?path=FILE&per_page=1), named in the approver's summary",
    )
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="request directory")
    p.set_defaults(handler=_intake, writes_nothing_on_failure=True)


def _intake(args: argparse.Namespace) -> int:
    from runner.errors import UsageError
    from runner.pipeline.intake import PullRequestEvidence, intake_dispatch, intake_pull_request

    if args.environment is not None:
        from runner.pipeline.environment_check import check_environment

        check_environment(args.environment)
    if args.event == "workflow_dispatch":
        intake_dispatch(
            args.submission,
            output=args.output,
            split=args.split,
            repo_dir=Path.cwd(),
            replace=args.replace,
        )
        return 0
    if args.replace:
        raise UsageError("--replace: only a maintainer's workflow_dispatch may replace a result")
    missing = ["--" + name.replace("_", "-") for name in _PR_EVIDENCE if not getattr(args, name)]
    if missing:
        raise UsageError(f"--event workflow_run needs {', '.join(missing)}")
    evidence = PullRequestEvidence(
        bundle_dir=args.bundle,
        pull_json=args.pull,
        files_json=args.pull_files,
        head_repo=args.head_repo,
        head_sha=args.head_sha,
        workflow_path=args.workflow_path,
    )
    intake_pull_request(
        evidence,
        output=args.output,
        pr_validation=args.pr_validation,
        split=args.split,
        repo_dir=Path.cwd(),
        file_history=args.file_history,
    )
    return 0


# ---- merge --------------------------------------------------------------------------------------


def _register_merge(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "merge",
        help="merge the parts of a split run into one results directory",
        description="Check that the parts are the same model and software on disjoint tasks, "
        "verify every predictions file against its hash, and write one results.json plus "
        "predictions/ identical to a single-runner run except for run timings and device names "
        "(runner.pipeline.merge.MAY_DIFFER). One part in, a checked copy out.",
    )
    p.add_argument("parts", nargs="+", type=Path, metavar="PART_DIR", help="`evaluate` outputs")
    p.add_argument("--output", required=True, type=Path, metavar="DIR", help="merged directory")
    p.set_defaults(handler=_merge)


def _merge(args: argparse.Namespace) -> int:
    from runner.pipeline.merge import merge_and_report

    merge_and_report(args.parts, args.output)
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
        help="write results/<org>/<model>/<revision>.json from a complete run",
        description="Check a finished run against its submission (model, revision, precision, "
        "every planned task, no --limit; a PR's run must be of the Hub repository, not a local "
        "directory), recompute every score from its predictions files checked against the task "
        "rows (the Hub at the pinned revision, or --data-dir), and write "
        "results/<org>/<model>/<revision>.json atomically, removing that revision's failure "
        "record. The result links --run-url as its CI run (https only). Prints the score table "
        "(and adds it to the job summary in GitHub Actions).",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="`evaluate` or `merge` output")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--request", type=Path, metavar="DIR", help="the request directory")
    source.add_argument("--submission", type=Path, metavar="FILE", help="a submission file")
    _add_output_options(p)
    p.add_argument(
        "--details-dir",
        type=Path,
        metavar="DIR",
        help="also copy the run's predictions files (each checked against its sha256 in the "
        "result) to DIR/<org>/<model>/<revision>/predictions/<task>.jsonl, the layout of the "
        "details branch, with the question texts of the pinned rows read again at "
        "DIR/questions/<task>/<data_sha256>.json, and plan their commit there before the "
        "result's (`deliver`)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="read the task rows the scores are recomputed against from DIR (as `medlb "
        "evaluate --data-dir`); default: the Hub at each task's pinned revision",
    )
    p.set_defaults(handler=_publish)


def _publish(args: argparse.Namespace) -> int:
    from runner.pipeline.publish import publish_run

    publish_run(
        args.run_dir,
        request_dir=args.request,
        submission_file=args.submission,
        results_dir=args.results_dir,
        out_dir=args.out,
        run_url=args.run_url,
        details_dir=args.details_dir,
        data_dir=args.data_dir,
    )
    return 0


def _register_fail(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "fail",
        help="write results/<org>/<model>.failure.json for a run that published nothing",
        description="Explain why a request produced no results (invalid submission, model that "
        "does not load, out of memory, runner lost, never approved) from the jobs' outcomes and "
        "logs, print it as an ::error:: line, write the PR comment and, only when a GPU job "
        "started (or a maintainer's dispatch named an invalid file), the failure record the "
        "site's queue page lists.",
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
    p.add_argument(
        "--jobs",
        type=Path,
        metavar="JOBS.json",
        help="GET /repos/{o}/{r}/actions/runs/{id}/jobs: a failure record is planned only if a "
        "GPU job had a runner (missing file: none had)",
    )
    _add_output_options(p)
    p.set_defaults(handler=_fail)


def _fail(args: argparse.Namespace) -> int:
    from runner.pipeline.publish import JobOutcomes, record_failure

    record_failure(
        args.request,
        JobOutcomes(
            prepare=args.prepare,
            evaluate=args.evaluate,
            publish=args.publish,
            evaluate_logs=args.logs,
            publish_log=args.publish_log,
            jobs=args.jobs,
        ),
        results_dir=args.results_dir,
        out_dir=args.out,
        run_url=args.run_url,
    )
    return 0
