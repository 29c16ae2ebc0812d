"""Driving a built site in headless Chromium: the browser, a local server, and layout checks.

The browser is Debian's /usr/bin/chromium (what `make chromium` installs; MEDLB_CHROMIUM names
another), driven by Playwright with no network beyond 127.0.0.1: every tab records console errors,
failed requests and any request to another host, and the test fails on them. The checks are
JavaScript run in the page, so they measure what a reader sees (rendered boxes, not markup).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from runner.sitegen.serve import static_server

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("MEDLB_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO / ".site-build" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = {1920: 1080, 1400: 900, 390: 844}  # viewport width -> height


@contextlib.contextmanager
def chromium() -> Iterator:
    if not CHROMIUM.exists():
        message = f"no browser at {CHROMIUM} (make chromium, or set MEDLB_CHROMIUM)"
        if os.environ.get("CI"):  # CI installs the browser first: a missing one is a failure
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@contextlib.contextmanager
def served(directory: Path) -> Iterator[str]:
    """The built site on 127.0.0.1; yields its base URL."""
    server = static_server(directory, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def watched_tab(browser, base_url: str, width: int = 1400, height: int | None = None):
    """A tab at this viewport that fails the test on console errors, failed requests and
    requests to any host but the site's."""
    phone = width < 500
    context = browser.new_context(
        viewport={"width": width, "height": height or WIDTHS.get(width, 900)},
        is_mobile=phone,
        has_touch=phone,
    )
    tab = context.new_page()
    problems: list[str] = []
    host = urlsplit(base_url).netloc
    tab.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else 0)
    tab.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    tab.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    tab.on(
        "request",
        lambda r: (
            problems.append(f"outside: {r.url}")
            if urlsplit(r.url).scheme in ("http", "https") and urlsplit(r.url).netloc != host
            else 0
        ),
    )
    try:
        yield tab
    finally:
        context.close()
    assert problems == []


def shot(tab, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    tab.wait_for_timeout(300)  # the theme's header swaps its title with a transition on scroll
    tab.screenshot(path=str(path))
    return path


def shot_between(tab, name: str, start: str, end: str) -> Path:
    """A screenshot of the page from element `start` down to element `end` (a panel)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    top, bottom = (
        tab.evaluate(
            "s => document.querySelector(s).getBoundingClientRect().top + window.scrollY", selector
        )
        for selector in (start, end)
    )
    width = tab.viewport_size["width"]
    clip = {"x": 0, "y": max(0, top - 16), "width": width, "height": max(1, bottom - top)}
    tab.screenshot(path=str(path), full_page=True, clip=clip)
    return path


# Words whose text spans more than one line box: a break inside a word (or at a hyphen inside a
# name). Text is split at whitespace; separate elements ("org/" and "name") are separate words.
BROKEN_WORDS_JS = """(selector) => {
  const out = [];
  for (const el of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /\\S+/g;
      for (let m = re.exec(node.textContent); m; m = re.exec(node.textContent)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = [...range.getClientRects()].filter(r => r.width > 0 && r.height > 0);
        if (rects.length > 1) out.push(m[0]);
      }
    }
  }
  return out;
}"""

# Tables wider than the element that holds them (a table that needs a sideways scroll).
WIDE_TABLES_JS = """() => [...document.querySelectorAll('.md-content table')]
  .filter(t => t.getClientRects().length)
  .filter(t => t.getBoundingClientRect().width > t.parentElement.clientWidth + 1)
  .map(t => (t.id || t.className || 'table') + ': ' + Math.round(t.getBoundingClientRect().width)
    + ' > ' + t.parentElement.clientWidth)"""

# The smallest rendered font size (px) of any text in a chart, SVG text scaled by its transform.
CHART_TEXT_JS = """() => {
  const sizes = [];
  for (const el of document.querySelectorAll('.medlb-chart, .medlb-chart *')) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.getClientRects().length) continue;
    let size = parseFloat(getComputedStyle(el).fontSize);
    if (el instanceof SVGElement && el.getScreenCTM) size *= el.getScreenCTM().a;
    sizes.push(size);
  }
  return sizes.length ? Math.min(...sizes) : null;
}"""

# After scrolling a table's box sideways: every cell whose middle is in view is the topmost
# element there, so no sticky cell covers a cell that should show (and sticky cells do not
# cover each other). Cells that slid under the sticky columns are not in view and not checked.
STICKY_JS = """(boxSelector) => {
  const box = document.querySelector(boxSelector);
  const table = box.querySelector('table');
  box.scrollLeft = Math.max(0, (box.scrollWidth - box.clientWidth) / 2);
  window.scrollTo(0, box.getBoundingClientRect().top + window.scrollY - 120);
  const frame = box.getBoundingClientRect();
  const right = frame.left + box.clientWidth, bottom = frame.top + box.clientHeight;
  const sticky = c => getComputedStyle(c).position === 'sticky' && c.classList.length &&
    [...c.classList].some(k => k.startsWith('sticky-'));
  const headRow = table.tHead.rows[table.tHead.rows.length - 1];
  const edges = [...headRow.cells].filter(sticky).map(c => c.getBoundingClientRect().right);
  const edge = Math.max(frame.left, ...edges);
  const headBottom = table.tHead.getBoundingClientRect().bottom;
  const rows = [headRow, ...[...table.tBodies[0].rows].slice(0, 6)];
  const problems = [];
  for (const row of rows) {
    for (const cell of row.cells) {
      if (!cell.getClientRects().length) continue;
      const r = cell.getBoundingClientRect();
      const left = sticky(cell) ? r.left : Math.max(r.left, edge);
      const rightEdge = Math.min(r.right, right);
      if (rightEdge - left < 6) continue;
      const y = r.top + Math.min(r.height / 2, 10);
      const underHead = row.parentElement.tagName === 'TBODY' && y < headBottom;
      if (y > bottom || y > window.innerHeight || underHead) continue;
      const hit = document.elementFromPoint((left + rightEdge) / 2, y);
      if (!cell.contains(hit)) {
        const what = hit ? (hit.className || hit.tagName) : 'nothing';
        problems.push((cell.textContent || '').trim().slice(0, 20) + ' covered by ' + what);
      }
    }
  }
  return {scrolled: box.scrollLeft, problems: problems};
}"""


def visible_columns(tab, table: str = "#lb-table") -> list[str]:
    """The `data-col` of every header cell shown, left to right (on the leaderboard, once its
    columns were fitted: a task of their own after the first rows)."""
    if table == "#lb-table":
        tab.wait_for_function("performance.getEntriesByName('medlb-fitted').length > 0")
    return tab.eval_on_selector_all(
        f"{table} thead th",
        "els => els.filter(e => e.getClientRects().length).map(e => e.dataset.col)",
    )


def box_overflow(tab, box: str = "lb-box") -> int:
    """How far the element with id `box` scrolls sideways (0: its table fits it)."""
    return tab.evaluate(
        "id => { const b = document.getElementById(id); return b.scrollWidth - b.clientWidth; }",
        box,
    )


def page_overflow(tab) -> int:
    """How far the page itself scrolls sideways (0: only boxes inside it may)."""
    return tab.evaluate("document.documentElement.scrollWidth - window.innerWidth")
