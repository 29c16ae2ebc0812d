"""`medlb results deliver`: what publish/fail planned, committed through GitHub's Git Data API,
then the PR comment (`runner.pipeline.landing`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def register_deliver(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "deliver",
        help="commit what publish/fail planned to the default branch, then comment on the PR",
        description="Commit OUT/changes.json through GitHub's Git Data API (retried with backoff; "
        "each attempt re-decides against the branch's live head: the model's submission file "
        "must still name this revision, and a stale failure record is deleted only if present), "
        "then post OUT/comment.md on the request's PR. A result's per-item details (publish "
        "--details-dir) are committed first, on the details branch (created if missing; question "
        "texts only where the branch lacks them, refused where it holds other bytes); if that "
        "fails, nothing is published. If a commit fails, a comment says so instead and the exit "
        "status is 1. Needs GITHUB_TOKEN (or GH_TOKEN) and GITHUB_REPOSITORY.",
    )
    p.add_argument("--request", required=True, type=Path, metavar="DIR", help="request directory")
    p.add_argument(
        "--out", required=True, type=Path, metavar="DIR", help="where publish/fail wrote"
    )
    p.add_argument("--branch", required=True, help="the default branch")
    p.add_argument("--run-url", help="link to the CI run, shown in a failure comment")
    p.add_argument(
        "--cot-details-dataset",
        metavar="ORG/NAME",
        default=os.environ.get("MEDLB_COT_DETAILS_DATASET") or None,
        help="upload the cot generations to this Hugging Face dataset repository (created by a "
        "maintainer; needs HF_TOKEN with write access) instead of the details branch "
        "(default: $MEDLB_COT_DETAILS_DATASET; unset: the details branch). ARCHITECTURE.md, "
        '"Details at scale"',
    )
    p.set_defaults(handler=_deliver)


def _deliver(args: argparse.Namespace) -> int:
    from runner.github_api import repo_from_environment
    from runner.pipeline.landing import deliver

    dataset = args.cot_details_dataset
    if dataset is not None:
        from runner.submissions.schema import check_hub_id

        try:
            check_hub_id(dataset)
        except ValueError as err:
            from runner.errors import UsageError

            raise UsageError(f"--cot-details-dataset {dataset!r}: {err}") from None
    deliver(
        args.out,
        args.request,
        repo=repo_from_environment(),
        branch=args.branch,
        run_url=args.run_url,
        cot_dataset=dataset,
    )
    return 0
