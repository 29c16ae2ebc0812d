"""Run `mkdocs build --strict` in-process on the generated pages.

The repository's `mkdocs.yml` holds the theme and Markdown settings; this module overrides what
only the build knows (docs_dir, site_dir, the navigation, the repository's URL when
`--repo-url` gives it) and registers `RawHtmlPlugin`. A strict
build stops on the first warning; the warnings are collected so the `UserError` can say which.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from runner.errors import UserError
from runner.sitegen.raw_html import RawHtmlPlugin


class _WarningCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def run_mkdocs(
    config_file: Path,
    docs_dir: Path,
    site_dir: Path,
    nav: list[Any],
    raw_blocks: dict[str, list[str]],
    *,
    repo_url: str | None = None,
    repo_name: str | None = None,
) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    collector = _WarningCollector()
    mkdocs_logger = logging.getLogger("mkdocs")
    mkdocs_logger.addHandler(collector)
    try:
        config = load_config(
            str(config_file),
            # Absolute: mkdocs resolves a relative docs_dir against the config file's folder,
            # not the working directory the pages were written under.
            docs_dir=str(Path(docs_dir).resolve()),
            site_dir=str(Path(site_dir).resolve()),
            nav=nav,
            strict=True,
            **({"repo_url": repo_url, "repo_name": repo_name} if repo_url else {}),
        )
        config.plugins["medlb-raw-html"] = RawHtmlPlugin(raw_blocks)
        build(config)
    except MkDocsException as err:
        first = collector.messages[0] if collector.messages else str(err)
        raise UserError(f"{config_file}: mkdocs build --strict failed: {first}"[:600]) from None
    finally:
        mkdocs_logger.removeHandler(collector)
