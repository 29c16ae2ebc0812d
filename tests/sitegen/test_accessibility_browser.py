"""Accessibility of the main pages (leaderboard, compare with its disagreements' stems open,
shortlist, about, specialties, a task page, the queue, a model page, a question view), measured
in headless Chromium in both of mkdocs-material's themes (light "default" and dark "slate"):
every visible piece of text has a contrast of at least 4.5:1 with what is behind it (3:1 for
large text, WCAG 2.1 AA 1.4.3), and every focusable control shows a visible focus indicator when
reached from the keyboard (2.4.7): an outline or ring of at least 2 px whose colour has at least
3:1 against the background (1.4.11)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from site_browser import served, watched_tab
from site_fixtures import build_synthetic_site

# name -> (path, what shows when it is ready, a disclosure to open first and what it shows then)
PAGES = {
    "leaderboard": ("", "#lb-body tr", None),
    "compare": (
        "compare/",
        "#cmp-body tr",
        ("#cmp-ids-body details > summary", '#cmp-ids-body details[data-stems="shown"]'),
    ),
    "shortlist": ("shortlist/", "#sl-body tr", None),
    "about": ("about/", "h1", None),
    "specialties": ("specialties/", "#sp-body tr", None),
    "task page": ("tasks/medmcqa/", "#task-ranking tbody tr", None),
    "queue": ("queue/", "h1", None),
}
THEMES = ("default", "slate")

# WCAG relative luminance and contrast; the colour behind an element is found by compositing the
# background colours of it and its ancestors (semi-transparent ones included) over the page's.
COLOUR_JS = """
window.__medlbColour = (() => {
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, under) => { const a = top[3];
    return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]); };
  const channel = v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const lum = c => 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
  const contrast = (a, b) => {
    const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const background = el => {
    const layers = [];
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = parse(getComputedStyle(document.body).backgroundColor) || [255, 255, 255, 1];
    if (colour[3] < 1) colour = over(colour, [255, 255, 255, 1]);
    for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return colour;
  };
  return {parse, over, contrast, background};
})();
"""

CONTRAST_JS = """() => {
  const {parse, over, contrast, background} = window.__medlbColour;
  const failures = [];
  let checked = 0;
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg, script, style, [hidden], [aria-hidden=true]')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;  // visually hidden (screen-reader text)
    if (r.right <= 0 || r.left >= innerWidth) continue;  // an off-canvas drawer, closed
    const style = getComputedStyle(el);
    if (style.visibility !== 'visible' || el.closest('[disabled]')) continue;
    let opacity = 1;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      opacity *= +getComputedStyle(n).opacity;
    }
    if (opacity === 0) continue;
    const fg = parse(style.color);
    const bg = background(el);
    const shown = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const ratio = contrast(shown, bg);
    const size = parseFloat(style.fontSize), bold = +style.fontWeight >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    checked++;
    if (ratio < (large ? 3 : 4.5) - 0.005) {
      failures.push(ratio.toFixed(2) + ' ' + el.tagName.toLowerCase() + '.' +
        [...el.classList].join('.') + ' "' + el.textContent.trim().slice(0, 30) + '" ' +
        style.color + ' on ' + bg.map(Math.round).join(','));
    }
  }
  return {checked, failures: [...new Set(failures)]};
}"""

FOCUS_JS = """(limit) => {
  const {parse, contrast, background} = window.__medlbColour;
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
    '[tabindex]:not([tabindex="-1"])';
  const controls = [...document.querySelectorAll(selector)].filter(el => {
    const r = el.getBoundingClientRect();
    const shown = getComputedStyle(el).visibility === 'visible';
    return r.width > 0 && r.height > 0 && shown && !el.disabled;
  });
  const failures = [];
  let checked = 0;
  for (const el of controls.slice(0, limit)) {
    el.focus();
    if (document.activeElement !== el) continue;
    checked++;
    const style = getComputedStyle(el);
    const width = parseFloat(style.outlineWidth);
    const outline = style.outlineStyle !== 'none' && width >= 2;
    const ring = style.boxShadow !== 'none' && /\\b[2-9]px|\\b\\d{2}px/.test(style.boxShadow);
    let ok = outline || ring;
    if (outline) {
      const colour = parse(style.outlineColor);
      const behind = background(el.parentElement || el);
      ok = contrast(colour, behind) >= 3 || contrast(colour, background(el)) >= 3;
    }
    if (!ok) failures.push(el.tagName.toLowerCase() + '.' + [...el.classList].join('.') + ' "' +
      (el.textContent || el.value || el.id || '').trim().slice(0, 30) + '" outline ' +
      style.outlineStyle + ' ' + style.outlineWidth + ' ' + style.outlineColor);
  }
  return {total: controls.length, checked, failures: [...new Set(failures)]};
}"""


@pytest.fixture(scope="module")
def site(site_tree, tmp_path_factory):
    work = tmp_path_factory.mktemp("a11y")
    ids = build_synthetic_site(site_tree, work, 14, seed=3, details=True)
    with served(work / "html") as base_url:
        yield base_url, ids


def checked_pages(ids: list[str]) -> dict[str, tuple]:
    return {
        **PAGES,
        "model page": (f"models/{ids[0]}/", "table.tracks", None),
        "question view": (f"questions/?model={ids[0]}&task=medmcqa&item=0", "#qv-card h2", None),
    }


@pytest.mark.parametrize("theme", THEMES)
def test_every_text_has_enough_contrast_and_every_control_a_visible_focus(browser, site, theme):
    base_url, ids = site
    problems = {}
    for width in (1400, 390):
        with watched_tab(browser, base_url, width) as tab:
            for name, (path, ready, disclosure) in checked_pages(ids).items():
                tab.goto(base_url + path)
                tab.wait_for_selector(ready)
                if disclosure:
                    tab.locator(disclosure[0]).first.click()
                    tab.wait_for_selector(disclosure[1])
                tab.evaluate(f"document.body.setAttribute('data-md-color-scheme', '{theme}')")
                tab.wait_for_timeout(600)  # the theme's colour transitions settle
                tab.evaluate(COLOUR_JS)
                text = tab.evaluate(CONTRAST_JS)
                tab.keyboard.press("Tab")  # keyboard modality: focus() then shows :focus-visible
                focus = tab.evaluate(FOCUS_JS, 400)
                assert text["checked"] > 20 and focus["checked"] > 5, name
                for kind, result in (("contrast", text), ("focus", focus)):
                    if result["failures"]:
                        problems[f"{width}px {name} {kind}"] = result["failures"][:40]
    if os.environ.get("MEDLB_A11Y_REPORT"):
        Path(os.environ["MEDLB_A11Y_REPORT"] + theme).write_text(json.dumps(problems, indent=1))
    assert problems == {}
