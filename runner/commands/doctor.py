"""`medlb doctor --repo OWNER/NAME`: check the repository settings the workflows rely on
(runner.pipeline.doctor)."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
For maintainers: read the repository's and its organisation's settings through GitHub's API and
print one line per setting the workflows rely on, each failing line with its fix:

  environment          gpu-evaluation exists, has required reviewers, prevents self-review,
                       deploys from selected branches only
  actions-permissions  the workflow token is read-only by default
  fork-approval        every outside contributor's workflow run waits for approval
  pages                GitHub Pages is built by GitHub Actions
  rulesets             a ruleset on the default branch requires code owners' review, and every
                       ruleset that blocks direct commits lets GitHub Actions bypass it
                       (the publish job commits results/** directly)
  details-branch       the details branch exists and refuses deletion, force pushes and pushes
  files                the lock files and .github/CODEOWNERS are on the default branch
  runner-group         the organisation's runner group `gpu` serves only this repository and only
                       .github/workflows/evaluate.yml on the default branch
  runners              at least one online runner in that group with labels self-hosted, linux, gpu

Nothing is changed: every request is a GET. docs/maintainers/setup.md sets these up in order.
"""

EPILOG = """\
token: GH_TOKEN (or GITHUB_TOKEN) from the environment; it must read repository administration,
environments and Pages, and the organisation's self-hosted runners (a fine-grained token with
Administration, Environments, Pages: read on the repository and Self-hosted runners: read on the
organisation). The workflow `doctor.yml` runs this with a secret of that name.
example:
  GH_TOKEN=$(gh auth token) medlb doctor --repo medlb-org/leaderboard
exit status: 0 every setting as needed, 1 at least one is not (or could not be read), 2 usage.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check the repository's GitHub settings (environment, rulesets, runners, Pages)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--repo",
        required=True,
        metavar="OWNER/NAME",
        help="the leaderboard's repository, e.g. medlb-org/leaderboard",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from runner import github_actions
    from runner.errors import UsageError
    from runner.github_api import REPOSITORY_NAME, settings_from_environment
    from runner.pipeline.doctor import render, run_doctor

    if not REPOSITORY_NAME.fullmatch(args.repo):
        raise UsageError(f"--repo {args.repo!r}: write OWNER/NAME, e.g. medlb-org/leaderboard")
    findings = run_doctor(settings_from_environment(args.repo))
    report = render(findings)
    print(report)
    if github_actions.in_actions():
        lines = (github_actions.markdown_text(line) for line in report.splitlines())
        github_actions.append_summary("### medlb doctor\n\n" + "  \n".join(lines))
    return 0 if all(finding.ok for finding in findings) else 1
