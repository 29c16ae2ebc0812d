"""`medlb doctor`: read a repository's settings through GitHub's API and say, one line each,
whether what the workflows rely on is set, and how to fix what is not.

The workflows are safe only together with settings that live outside the repository
(docs/maintainers/setup.md walks through them in order; ARCHITECTURE.md, "Trust boundary"). Each
check here reads one of them (GET requests only, all through `runner.github_api`) and gives a
`Finding`: what it found and, when it fails, the setting to change and where. A check that cannot
read its setting (a token without the right permission, a service that did not answer) fails
with what was missing, never passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runner.github_api import GitHubApiError, RepositorySettings
from runner.pipeline.details import DETAILS_BRANCH

ENVIRONMENT = "gpu-evaluation"
RUNNER_GROUP = "gpu"
RUNNER_LABELS = ("self-hosted", "linux", "gpu")  # evaluate.yml's `runs-on`
EVALUATE_WORKFLOW = ".github/workflows/evaluate.yml"
# The GitHub App whose installation token is every workflow's GITHUB_TOKEN ("GitHub Actions").
ACTIONS_APP_ID = 15368
REQUIRED_FILES = (
    "requirements/eval.lock",
    "requirements/publish.lock",
    "requirements/site.lock",
    ".github/CODEOWNERS",
)
# Rule types that refuse a direct commit to the branch unless its author may bypass the ruleset.
_BLOCKS_DIRECT_COMMITS = frozenset(
    {"pull_request", "update", "required_status_checks", "required_deployments"}
)
_TOKEN_FIX = (
    "run doctor with a token that can read repository administration (fine-grained: "
    "Administration, Environments, Pages: read) and organisation self-hosted runners "
    "(Self-hosted runners: read)"
)


@dataclass(frozen=True)
class Finding:
    check: str
    ok: bool
    found: str  # what the API said
    fix: str = ""  # what to change, and where, when not ok


@dataclass(frozen=True)
class Repository:
    """The facts every check shares."""

    full_name: str
    default_branch: str
    public: bool


def run_doctor(settings: RepositorySettings) -> list[Finding]:
    """Every check, in the order docs/maintainers/setup.md sets them up."""
    answer = settings.repository()
    repo = Repository(
        settings.full_name,
        str(answer.get("default_branch") or "main"),
        not answer.get("private", False),
    )
    checks: tuple[tuple[str, Callable[[RepositorySettings, Repository], Finding]], ...] = (
        ("environment", check_environment),
        ("actions-permissions", check_workflow_permissions),
        ("fork-approval", check_fork_approval),
        ("pages", check_pages),
        ("rulesets", check_default_branch_rules),
        ("details-branch", check_details_branch),
        ("files", check_files),
        ("runner-group", check_runner_group),
        ("runners", check_runners),
    )
    findings = []
    for name, check in checks:
        try:
            findings.append(check(settings, repo))
        except GitHubApiError as err:
            findings.append(Finding(name, False, f"could not read the setting: {err}", _TOKEN_FIX))
    return findings


def check_environment(settings: RepositorySettings, repo: Repository) -> Finding:
    where = f"Settings → Environments → {ENVIRONMENT}"
    environment = settings.environment(ENVIRONMENT)
    if environment is None:
        return Finding(
            "environment",
            False,
            f"no environment {ENVIRONMENT}",
            f"{where.rsplit(' → ', 1)[0]} → New environment `{ENVIRONMENT}`, then add Required "
            "reviewers (the maintainers), tick Prevent self-review, and limit Deployment "
            "branches and tags to the default branch",
        )
    rules = [r for r in environment.get("protection_rules") or [] if isinstance(r, dict)]
    reviewing = [r for r in rules if r.get("type") == "required_reviewers"]
    reviewers = [x for r in reviewing for x in r.get("reviewers") or []]
    gaps: list[tuple[str, str]] = []  # (what is wrong, what to set)
    if not reviewers:
        gaps.append(("no required reviewers", "Required reviewers: add the maintainers"))
    elif not any(r.get("prevent_self_review") for r in reviewing):
        gaps.append(("self-review is allowed", "tick Prevent self-review"))
    if environment.get("deployment_branch_policy") is None:
        gaps.append(
            ("any branch may deploy", "Deployment branches and tags: Selected, the default branch")
        )
    if gaps:
        found = f"{ENVIRONMENT}: " + "; ".join(gap for gap, _ in gaps)
        return Finding("environment", False, found, f"{where}: " + "; ".join(f for _, f in gaps))
    return Finding(
        "environment",
        True,
        f"{ENVIRONMENT}: {len(reviewers)} required reviewer(s), self-review prevented, "
        "deployments limited to selected branches",
    )


def check_workflow_permissions(settings: RepositorySettings, repo: Repository) -> Finding:
    answer = settings.workflow_permissions()
    default = answer.get("default_workflow_permissions")
    if default != "read":
        return Finding(
            "actions-permissions",
            False,
            f"the workflow token's default permissions are {default!r}",
            "Settings → Actions → General → Workflow permissions: Read repository contents and "
            "packages permissions",
        )
    return Finding("actions-permissions", True, "the workflow token is read-only by default")


def check_fork_approval(settings: RepositorySettings, repo: Repository) -> Finding:
    policy = settings.fork_approval_policy()
    if policy != "all_external_contributors":
        return Finding(
            "fork-approval",
            False,
            f"fork pull requests' workflows need approval for {policy or 'nobody'!s}",
            "Settings → Actions → General → Approval for running fork pull request workflows "
            "from contributors: Require approval for all external contributors",
        )
    return Finding("fork-approval", True, "every outside contributor's run waits for approval")


def check_pages(settings: RepositorySettings, repo: Repository) -> Finding:
    fix = "Settings → Pages → Build and deployment → Source: GitHub Actions"
    pages = settings.pages()
    if pages is None:
        return Finding("pages", False, "GitHub Pages is not enabled", fix)
    if pages.get("build_type") != "workflow":
        shown = pages.get("build_type") or "unknown"
        return Finding("pages", False, f"Pages builds from {shown}, not from a workflow", fix)
    return Finding("pages", True, f"Pages deploys from GitHub Actions ({pages.get('html_url')})")


def _bypasses(ruleset: dict) -> bool:
    """Whether the workflow token (the GitHub Actions app) may always bypass `ruleset`."""
    return any(
        actor.get("actor_type") == "Integration"
        and actor.get("actor_id") == ACTIONS_APP_ID
        and actor.get("bypass_mode") == "always"
        for actor in ruleset.get("bypass_actors") or []
        if isinstance(actor, dict)
    )


def _without_bypass(rules: list[dict], rulesets: dict) -> list[str]:
    """The names of the rulesets whose rules block a direct commit to the branch and that do not
    let the workflow token bypass them."""
    blocking = {
        rule.get("ruleset_id") for rule in rules if rule.get("type") in _BLOCKS_DIRECT_COMMITS
    }
    return sorted(
        str(rulesets.get(number, {}).get("name", number))
        for number in blocking
        if not _bypasses(rulesets.get(number, {}))
    )


def check_default_branch_rules(settings: RepositorySettings, repo: Repository) -> Finding:
    where = "Settings → Rules → Rulesets → Import a ruleset: .github/rulesets/default-branch.json"
    rules = settings.branch_rules(repo.default_branch)
    rulesets = {ruleset.get("id"): ruleset for ruleset in settings.rulesets()}
    reviews = [
        rule
        for rule in rules
        if rule.get("type") == "pull_request"
        and (rule.get("parameters") or {}).get("require_code_owner_review")
    ]
    if not reviews:
        return Finding(
            "rulesets",
            False,
            f"no active ruleset on {repo.default_branch} requires a code owner's review",
            where,
        )
    stuck = _without_bypass(rules, rulesets)
    if stuck:
        return Finding(
            "rulesets",
            False,
            f"the workflow cannot commit results/** to {repo.default_branch}: ruleset(s) "
            f"{', '.join(stuck)} have no bypass for GitHub Actions",
            f"Settings → Rules → Rulesets → {stuck[0]} → Bypass list → Add bypass → "
            "GitHub Actions (always); as .github/rulesets/default-branch.json has it",
        )
    return Finding(
        "rulesets",
        True,
        f"{repo.default_branch}: code owners review every change; only the workflow commits "
        "directly",
    )


def check_details_branch(settings: RepositorySettings, repo: Repository) -> Finding:
    if settings.branch_head_if_any(DETAILS_BRANCH) is None:
        return Finding(
            "details-branch",
            False,
            f"no branch {DETAILS_BRANCH}",
            "Actions → Create the details branch → Run workflow (then protect it)",
        )
    rules = settings.branch_rules(DETAILS_BRANCH)
    stuck = _without_bypass(rules, {r.get("id"): r for r in settings.rulesets()})
    if stuck:
        return Finding(
            "details-branch",
            False,
            f"the workflow cannot commit to {DETAILS_BRANCH}: ruleset(s) {', '.join(stuck)} have "
            "no bypass for GitHub Actions",
            f"Settings → Rules → Rulesets → {stuck[0]} → Bypass list → Add bypass → "
            "GitHub Actions (always); as .github/rulesets/details-branch.json has it",
        )
    missing = {"deletion", "non_fast_forward", "update"} - {rule.get("type") for rule in rules}
    if not missing:
        return Finding(
            "details-branch",
            True,
            f"{DETAILS_BRANCH}: no deletion, no force push, no push but the workflow's",
        )
    classic = settings.branch_protection(DETAILS_BRANCH)
    if classic is not None and _classic_locks(classic):
        return Finding(
            "details-branch", True, f"{DETAILS_BRANCH}: protected (classic branch protection)"
        )
    return Finding(
        "details-branch",
        False,
        f"{DETAILS_BRANCH} is not protected against {', '.join(sorted(missing))}",
        "Settings → Rules → Rulesets → Import a ruleset: .github/rulesets/details-branch.json",
    )


def _classic_locks(protection: dict) -> bool:
    """A classic protection that refuses force pushes, deletion and other people's pushes."""
    force = (protection.get("allow_force_pushes") or {}).get("enabled", True)
    delete = (protection.get("allow_deletions") or {}).get("enabled", True)
    return not force and not delete and protection.get("restrictions") is not None


def check_files(settings: RepositorySettings, repo: Repository) -> Finding:
    missing = [p for p in REQUIRED_FILES if settings.file_at(p, repo.default_branch) is None]
    if missing:
        return Finding(
            "files",
            False,
            f"missing on {repo.default_branch}: {', '.join(missing)}",
            "commit them from a checkout of this project (requirements/lock.sh writes the locks)",
        )
    errors = settings.codeowners_errors()
    if errors:
        first = errors[0]
        return Finding(
            "files",
            False,
            f"GitHub cannot use {len(errors)} line(s) of CODEOWNERS, first line "
            f"{first.get('line')}: {first.get('message') or first.get('kind')}",
            "name teams and users that exist and have write access (the file's last lines "
            "cover .github/, requirements/, runner/ and results/)",
        )
    return Finding("files", True, f"{', '.join(REQUIRED_FILES)} present; CODEOWNERS is valid")


def _gpu_group(settings: RepositorySettings) -> dict | None:
    return next((g for g in settings.runner_groups() if g.get("name") == RUNNER_GROUP), None)


def check_runner_group(settings: RepositorySettings, repo: Repository) -> Finding:
    where = f"Organisation settings → Actions → Runner groups → {RUNNER_GROUP}"
    workflow = f"{repo.full_name}/{EVALUATE_WORKFLOW}@refs/heads/{repo.default_branch}"
    group = _gpu_group(settings)
    if group is None:
        return Finding(
            "runner-group",
            False,
            f"the organisation has no runner group {RUNNER_GROUP!r}",
            f"{where.rsplit(' → ', 1)[0]} → New runner group `{RUNNER_GROUP}`: selected "
            f"repositories {repo.full_name}, selected workflows {workflow}",
        )
    gaps = []
    if group.get("visibility") != "selected" or settings.group_repositories(group["id"]) != [
        repo.full_name
    ]:
        gaps.append(f"Repository access: only {repo.full_name}")
    if not group.get("restricted_to_workflows") or group.get("selected_workflows") != [workflow]:
        gaps.append(f"Workflow access: selected workflows, exactly {workflow}")
    if repo.public and not group.get("allows_public_repositories"):
        gaps.append("tick Allow public repositories (else GPU jobs of this public repository wait)")
    if gaps:
        return Finding("runner-group", False, f"{RUNNER_GROUP}: " + "; ".join(gaps), where)
    return Finding("runner-group", True, f"{RUNNER_GROUP}: only {workflow}")


def check_runners(settings: RepositorySettings, repo: Repository) -> Finding:
    group = _gpu_group(settings)
    runners = settings.group_runners(group["id"]) if group is not None else []
    wanted = set(RUNNER_LABELS)
    labelled = [
        r for r in runners if wanted <= {label.get("name") for label in r.get("labels") or []}
    ]
    online = [r for r in labelled if r.get("status") == "online"]
    if not online:
        return Finding(
            "runners",
            False,
            f"no online runner with labels {', '.join(RUNNER_LABELS)} in group {RUNNER_GROUP!r} "
            f"({len(labelled)} offline)",
            "start one as docs/maintainers/setup.md's last step says (actions-runner-controller "
            "with minRunners: 1, or deploy/jit-runner.sh); with minRunners: 0 this fails "
            "between jobs",
        )
    return Finding("runners", True, f"{len(online)} online: {', '.join(r['name'] for r in online)}")


def render(findings: list[Finding]) -> str:
    """One line per check: ok/FAIL, its id, what was found, and the fix."""
    width = max(len(f.check) for f in findings)
    lines = []
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"
        fix = "" if finding.ok or not finding.fix else f" → fix: {finding.fix}"
        lines.append(f"{mark} {finding.check:<{width}}  {finding.found}{fix}")
    failed = sum(not f.ok for f in findings)
    lines.append(f"{len(findings) - failed} of {len(findings)} settings as the workflows need them")
    return "\n".join(lines)
