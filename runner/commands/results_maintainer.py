"""The maintainers' and model authors' steps of `medlb results` (registered by
`runner.commands.results`): `model-card`, and `details-branch`, the one-time setup step."""

from __future__ import annotations

import argparse
from pathlib import Path


def register_steps(steps: argparse._SubParsersAction) -> None:
    _register_model_card(steps)
    _register_details_branch(steps)


def _register_model_card(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "model-card",
        help="a published result as a Hub model card's model-index, merged into a README",
        description="Write a published result's scores as a Hugging Face model card's "
        "`model-index` (built and parsed by huggingface_hub, as the Hub does). Without --merge "
        "the new card's metadata is printed. With --merge README.md the entries are merged into "
        "that card in place: this leaderboard's entries are replaced, every other entry (the "
        "Open LLM Leaderboard's, a paper's) is kept, and a card whose index huggingface_hub "
        "cannot carry over whole is refused rather than rewritten. Each entry's source is a "
        "permalink: the results file at the commit that last changed it (git log in the "
        "results file's checkout), not a branch that moves on re-evaluation.",
    )
    p.add_argument("results", type=Path, metavar="RESULTS.json", help="a published results file")
    p.add_argument("--merge", type=Path, metavar="README.md", help="the model card to update")
    p.add_argument(
        "--repo-url",
        metavar="URL",
        help="the leaderboard's repository (default: repo_url in mkdocs.yml)",
    )
    p.add_argument(
        "--commit",
        metavar="SHA",
        help="the commit to link the results file at (default: the last that changed it)",
    )
    p.set_defaults(handler=_model_card)


def _model_card(args: argparse.Namespace) -> int:
    from runner.sitegen.build import configured_repository
    from runner.sitegen.model_card import model_card

    repo_url = configured_repository(Path("mkdocs.yml"), args.repo_url).url
    card = model_card(args.results, merge=args.merge, repo_url=repo_url, commit=args.commit)
    if args.merge is None:
        print(card)
    else:
        print(f"{args.merge}: model-index updated from {args.results}")
    return 0


def _register_details_branch(steps: argparse._SubParsersAction) -> None:
    p = steps.add_parser(
        "details-branch",
        help="create the parentless details branch once, so it can be protected",
        description="Create the branch `details` (the per-item predictions of every published "
        "result) as a parentless commit holding a README, through the Git Data API, so that it "
        "can be protected before the first publication. A branch that exists is left as it is "
        "(exit 0). Needs GITHUB_TOKEN (or GH_TOKEN) with contents: write and GITHUB_REPOSITORY; "
        "the workflow details-branch.yml runs it.",
    )
    p.set_defaults(handler=_details_branch)


def _details_branch(args: argparse.Namespace) -> int:
    from runner.github_api import repo_from_environment
    from runner.pipeline.details import DETAILS_BRANCH
    from runner.pipeline.details_branch import create_details_branch

    commit = create_details_branch(repo_from_environment())
    done = f"created at {commit}" if commit else "exists already; nothing changed"
    print(f"{DETAILS_BRANCH}: {done}")
    return 0
