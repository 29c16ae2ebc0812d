"""`medlb site build`: inputs → entries → pages → mkdocs, timed, into a fresh output directory.

The HTML is built into a temporary sibling of `--out` and swapped in only when mkdocs succeeded,
so a failed build leaves the previous site as it was. medlb only ever deletes directories it
created itself (they carry a marker file).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from runner.errors import UsageError, UserError, first_line
from runner.github_actions import warning_line
from runner.sitegen.entries import build_entries
from runner.sitegen.git_dates import head_commit, last_commit_dates
from runner.sitegen.inputs import collect_inputs
from runner.sitegen.mkdocs_build import run_mkdocs
from runner.sitegen.pages import RenderedSite, SiteSources, render_pages
from runner.sitegen.question_views import load_question_views, with_question_views
from runner.sitegen.repository import Repository, repository_from
from runner.sitegen.software_versions import locked_versions

MARKER = ".medlb-site"  # present in every directory this module may replace


@dataclass(frozen=True)
class BuildOptions:
    config_file: Path  # mkdocs.yml; the site's templates and assets are in site/ beside it
    out_dir: Path  # the HTML
    pages_dir: Path  # the generated Markdown (mkdocs' docs_dir)
    results_dir: Path
    submissions_dir: Path
    references_dir: Path
    repo_url: str | None = None  # overrides mkdocs.yml's repo_url (--repo-url)
    details_dir: Path | None = None  # a checkout of the details branch (--details)
    flags_dir: Path | None = None  # maintainer flags, flags/<org>/<model>.yaml (--flags)


@dataclass
class BuildReport:
    models: int = 0
    pages: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # step -> wall time
    leaderboard_bytes: int = 0
    question_views: int = 0  # per-model-per-task data files of the question view
    warnings: list[str] = field(default_factory=list)  # one line each (a flag without a result)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def summary(self, out_dir: Path) -> str:
        steps = ", ".join(f"{step} {seconds:.2f} s" for step, seconds in self.seconds.items())
        return (
            f"built {out_dir}: {self.models} models, {self.pages} pages, {self.question_views} "
            f"question views in {self.total_seconds:.2f} s ({steps}); leaderboard page "
            f"{self.leaderboard_bytes / 1024:.0f} KiB"
        )


def build_and_report(options: BuildOptions, *, quiet: bool = False) -> BuildReport:
    """`medlb site build`: build, then print what was built and where the time went."""
    report = build_site(options)
    for line in report.warnings:  # printed even with --quiet: a maintainer has something to fix
        print(warning_line(line), file=sys.stderr)
    if not quiet:
        print(report.summary(options.out_dir))
    return report


def build_and_serve(options: BuildOptions, *, quiet: bool, host: str, port: int) -> None:
    """`medlb site serve`: build, then serve the HTML on `host:port` until Ctrl-C."""
    from runner.sitegen.serve import check_port, serve_directory

    check_port(port)
    build_and_report(options, quiet=quiet)
    serve_directory(options.out_dir, host, port)


def build_site(options: BuildOptions) -> BuildReport:
    if options.out_dir.resolve() == options.pages_dir.resolve():
        raise UsageError("--out and --pages-dir must be different directories")
    report = BuildReport()
    source_dir = options.config_file.parent / "site"
    if not options.config_file.is_file():
        raise UsageError(f"--config: {options.config_file} does not exist")
    if not (source_dir / "templates").is_dir():
        raise UsageError(f"{source_dir}/templates: the site's templates are missing")

    repository = _repository(options)

    clock = time.perf_counter()
    inputs = collect_inputs(
        options.results_dir, options.submissions_dir, options.references_dir, options.flags_dir
    )
    entries = build_entries(inputs)
    sources = SiteSources(
        repository=repository,
        checks=_checks(),
        submitting_md=_read_optional(options.config_file.parent / "SUBMITTING.md"),
        submitted_at=last_commit_dates(options.submissions_dir),
        year=datetime.now(UTC).year,
        locked=locked_versions(),
        commit=head_commit(options.results_dir) if options.results_dir.is_dir() else None,
    )
    report.models = len(entries)
    report.warnings = list(inputs.warnings)
    report.seconds["read inputs"] = _lap(clock)

    clock = time.perf_counter()
    questions = load_question_views(options.details_dir, inputs.results, repository)
    entries = with_question_views(entries, questions, repository)
    sources = replace(sources, questions=questions)
    report.question_views = len(questions.files)
    report.seconds["read details"] = _lap(clock)

    clock = time.perf_counter()
    rendered = render_pages(inputs, entries, source_dir / "templates", sources)
    report.pages = sum(1 for path in rendered.files if path.endswith(".md"))
    report.seconds["render pages"] = _lap(clock)

    clock = time.perf_counter()
    _write_pages(options.pages_dir, rendered, source_dir / "assets")
    report.seconds["write pages"] = _lap(clock)

    clock = time.perf_counter()
    staging = _staging_dir(options.out_dir)
    try:
        run_mkdocs(
            options.config_file,
            options.pages_dir,
            staging,
            rendered.nav,
            rendered.raw_blocks,
            repo_url=repository.url,
            repo_name=repository.name,
        )
        (staging / MARKER).touch()
        _replace_dir(staging, options.out_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    report.seconds["mkdocs build"] = _lap(clock)
    report.leaderboard_bytes = (options.out_dir / "index.html").stat().st_size
    return report


def _lap(start: float) -> float:
    return time.perf_counter() - start


def _checks() -> list:
    from runner.submissions.checks import CHECKS

    return list(CHECKS)


def _repository(options: BuildOptions) -> Repository:
    return configured_repository(options.config_file, options.repo_url)


def configured_repository(config_file: Path, repo_url: str | None) -> Repository:
    """--repo-url, else mkdocs.yml's repo_url: the repository readers open pull requests on."""
    if repo_url is not None:
        return repository_from(repo_url, flag="--repo-url")
    import yaml

    try:
        config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise UserError(f"{config_file}: cannot read it ({first_line(err)})") from None
    url = config.get("repo_url") if isinstance(config, dict) else None
    if not isinstance(url, str):
        raise UserError(f"{config_file}: repo_url is missing (or pass --repo-url)")
    return repository_from(url, flag=f"{config_file}: repo_url")


def _read_optional(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _write_pages(pages_dir: Path, rendered: RenderedSite, assets_dir: Path) -> None:
    """Make docs_dir hold exactly the generated files plus the site's own CSS and JS.

    Files are overwritten in place and stale ones deleted, rather than the tree being removed
    and rewritten (deleting 2,000 files alone took seconds here). Plain writes, not
    `write_atomic`: this is scratch that every build rewrites, and mkdocs reads it at once.
    """
    _claim_dir(pages_dir)
    wanted = dict(rendered.files)
    for asset in assets_dir.rglob("*"):
        if asset.is_file():
            wanted[f"assets/{asset.relative_to(assets_dir).as_posix()}"] = asset.read_text("utf-8")
    for existing in pages_dir.rglob("*"):
        relative = existing.relative_to(pages_dir).as_posix()
        if (
            existing.is_file()
            and relative not in wanted
            and relative not in rendered.copies
            and relative != MARKER
        ):
            existing.unlink()
    for relative, text in wanted.items():
        target = pages_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    for relative, source in rendered.copies.items():
        target = pages_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(source, target)


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link where the file system allows one (no bytes written), else a copy."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _claim_dir(path: Path) -> None:
    """Create `path`, or accept it if medlb made it or it is empty; refuse anything else."""
    if not path.exists():
        path.mkdir(parents=True)
        (path / MARKER).touch()
        return
    if not path.is_dir():
        raise UserError(f"{path}: exists and is not a directory")
    if not (path / MARKER).exists() and any(path.iterdir()):
        raise UserError(f"{path}: not empty and not made by `medlb site build`; choose another")
    (path / MARKER).touch()


def _staging_dir(out_dir: Path) -> Path:
    _claim_dir(out_dir)  # refuse early, before minutes of work, if out_dir is someone else's
    return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))


def _replace_dir(new: Path, old: Path) -> None:
    """Swap `new` in for `old` with two renames; the old tree is deleted only afterwards."""
    retired = old.with_name(f".{old.name}.old.{os.getpid()}")
    old.rename(retired)
    new.rename(old)
    shutil.rmtree(retired)
