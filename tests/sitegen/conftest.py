"""Fixtures the browser tests share."""

from __future__ import annotations

import pytest
from site_browser import chromium


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (starting one costs about a second)."""
    with chromium() as instance:
        yield instance
