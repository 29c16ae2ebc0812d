"""The pages a clinician choosing a model for a pilot, or a researcher comparing a fine-tune,
reads: the shortlist, the compare page with four models, and a model page with both tracks and
its base model, on the 1,000-model fixture (two models flagged) in headless Chromium at 1920,
1400 and 390 px, each writing screenshots to .site-build/screenshots/. Every number checked is
recomputed here from the results and submission files the site was built from."""

from __future__ import annotations

import hashlib
import math

import pytest
import yaml
from site_browser import BROKEN_WORDS_JS, WIDTHS, served, shot, shot_between, watched_tab
from site_fixtures import published_results

from runner.results_schema import decode_bits
from runner.sitegen.shortlist import GIB, OVERHEAD


@pytest.fixture(scope="module")
def large(pilot_site):
    """The session's 1,000-model pilot site (conftest.pilot_site), served."""
    work, ids = pilot_site
    with served(work / "html") as base_url:
        yield work, ids, base_url


def submission_of(work, model: str) -> dict:
    return yaml.safe_load((work / "submissions" / f"{model}.yaml").read_text())


def meets(work, model: str, result, flagged: set[str]) -> bool:
    """Commercial use (an open licence), 24 GB at bfloat16 with the stated overhead, unflagged."""
    licence = submission_of(work, model)["license"]
    memory = result.model.params * 2 * (1 + OVERHEAD) / GIB
    return licence in ("apache-2.0", "mit") and memory <= 24 and model not in flagged


def best_ranks(intervals: dict[str, tuple[float, float]]) -> dict[str, int]:
    return {
        m: 1 + sum(1 for o, (low, _) in intervals.items() if o != m and low > high)
        for m, (_, high) in intervals.items()
    }


@pytest.mark.parametrize("width", WIDTHS)
def test_shortlist_commercial_24_gb_bfloat16_and_its_dossier(browser, large, width, tmp_path):
    work, ids, base_url = large
    results = published_results(work / "results")
    with watched_tab(browser, base_url, width) as tab:
        tab.goto(base_url + "shortlist/")
        tab.wait_for_selector("#sl-data", state="attached")
        tab.check("#sl-commercial")
        tab.fill("#sl-memory", "24")
        tab.select_option("#sl-precision", "bfloat16")
        tab.wait_for_selector("#sl-body tr")
        assert "commercial=1" in tab.url and "gb=24" in tab.url and "precision=bfloat16" in tab.url
        listed = tab.eval_on_selector_all("#sl-body tr", "rows => rows.map(r => r.dataset.key)")
        ranges = tab.eval_on_selector_all(
            "#sl-body td.rank-range", "cells => cells.map(c => c.textContent)"
        )
        # Only models meeting all three constraints; exactly those tied for the top among them.
        flagged = set(ids[:2])
        by_key = {m: r for m, r in results.items() if r.model.params and r.average is not None}
        meeting = {m: r for m, r in by_key.items() if meets(work, m, r, flagged)}
        assert set(listed) <= set(meeting)
        intervals = {m: meeting_interval(r) for m, r in meeting.items()}
        best = best_ranks(intervals)
        assert set(listed) == {m for m, b in best.items() if b == 1}
        worst = {
            m: sum(1 for _, (_, high) in intervals.items() if high >= low)
            for m, (low, _) in intervals.items()
        }
        expected = [f"1–{worst[m]}" if worst[m] > 1 else "1" for m in listed]
        assert ranges == expected
        status = tab.inner_text("#sl-status")
        assert f"{len(meeting)} of " in status and f"{len(listed)} of them" in status
        assert tab.evaluate(BROKEN_WORDS_JS, "#sl-body") == []
        tab.evaluate("window.scrollTo(0, 0)")
        shot(tab, f"shortlist-{width}")
        shot_between(tab, f"shortlist-table-{width}", "#sl-form", "#sl-downloads")
        if width != 1400:
            return
        with tab.expect_download() as download:
            tab.click("#sl-dossier-md")
        markdown = read_download(download.value, tmp_path)
        with tab.expect_download() as download:
            tab.click("#sl-dossier-html")
        html = read_download(download.value, tmp_path)
    for model in listed:
        result = results[model]
        path = work / "results" / f"{model}.json"
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        for text in (markdown, html):
            assert model in text and result.model.revision in text and digest in text
            for task in result.tasks.values():
                assert task.predictions_sha256 in text
            for task in (result.cot.tasks if result.cot else {}).values():
                assert task.predictions_sha256 in text
    for text in (markdown, html):
        assert "Research comparison, not clinical approval" in text
        assert "fits in 24 GB at bfloat16" in text and "flagged models excluded" in text
    assert "@media print" in html


def meeting_interval(result) -> tuple[float, float]:
    """The leaderboard average's interval (mean ± z·√Σse²/9), as the site computes it."""
    from runner.sitegen.entries import _average

    average = _average(result)
    return average.low, average.high


def read_download(download, folder) -> str:
    target = folder / download.suggested_filename
    download.save_as(target)
    return target.read_text(encoding="utf-8")


@pytest.mark.parametrize("width", WIDTHS)
def test_compare_four_models_with_paired_intervals(browser, large, width):
    work, ids, base_url = large
    results = published_results(work / "results")
    four = ids[20:24]
    query = "&".join(f"{side}={m}" for side, m in zip("abcd", four, strict=True))
    with watched_tab(browser, base_url, width) as tab:
        tab.goto(f"{base_url}compare/?{query}")
        tab.wait_for_selector("#cmp-table:not([hidden]) tbody tr")
        head = tab.inner_text("#cmp-table thead")
        assert all(f"A − {x}" in head for x in "BCD")
        rows = tab.locator("#cmp-body tr").all()
        assert rows[-2].get_attribute("data-task") == "All tasks (pooled)"
        assert rows[-1].get_attribute("data-task").startswith("Average of the")
        for row in rows:
            for diff in row.locator("td.diff").all():
                value = float(diff.inner_text().split("\n")[0].replace("−", "-"))
                low, high = (100 * float(diff.get_attribute(f"data-{k}")) for k in ("low", "high"))
                assert low - 1e-9 <= value <= high + 1e-9
        note = tab.inner_text("#cmp-pooled-note")
        assert "pooled" in note and "same weight" in note
        # Disagreements for A and each other model: A and D's on MedQA, as their bits say.
        assert tab.eval_on_selector_all("#cmp-ids-body h3", "hs => hs.map(h => h.textContent)") == [
            "A and B",
            "A and C",
            "A and D",
        ]
        task = results[four[0]].tasks["medqa_4options"]
        other = results[four[3]].tasks["medqa_4options"]
        pairs = list(
            zip(decode_bits(task.correct, task.n), decode_bits(other.correct, other.n), strict=True)
        )
        for side, want in (("a", (1, 0)), ("d", (0, 1))):
            shown = tab.eval_on_selector_all(
                f'details[data-pair="ad"][data-task="medqa_4options"] ul[data-side="{side}"] li',
                "items => items.map(i => +i.dataset.id)",
            )
            assert shown == [i for i, pair in enumerate(pairs) if pair == want]
        shot_between(tab, f"compare-four-{width}", "#cmp-form", "#cmp-ids")
        if width != 1400:
            return
        # Two models: the paired interval of A − B on MedQA is about the normal one of the
        # per-question differences (a bootstrap of 1,000 resamples: within a quarter).
        a, b = ids[20], ids[21]
        tab.goto(f"{base_url}compare/?a={a}&b={b}")
        tab.wait_for_selector("#cmp-table:not([hidden]) tbody tr")
        ta, tb = results[a].tasks["medmcqa"], results[b].tasks["medmcqa"]
        d = [
            int(x) - int(y)
            for x, y in zip(
                decode_bits(ta.correct, ta.n), decode_bits(tb.correct, tb.n), strict=True
            )
        ]
        mean = sum(d) / len(d)
        sd = math.sqrt(sum((v - mean) ** 2 for v in d) / (len(d) - 1))
        cell = tab.locator('#cmp-body tr[data-task="MedMCQA"] td.diff')
        low, high = (float(cell.get_attribute(f"data-{k}")) for k in ("low", "high"))
        assert (high - low) / 2 == pytest.approx(1.96 * sd / math.sqrt(len(d)), rel=0.25)
        assert "A only" in tab.inner_text("#cmp-table thead")
        # The cot track: the same page on the reasoning track's correctness bits.
        a, b = [m for m in ids[20:40] if results[m].cot is not None][:2]
        tab.goto(f"{base_url}compare/?a={a}&b={b}&track=cot")
        tab.wait_for_selector("#cmp-table:not([hidden]) tbody tr")
        assert tab.input_value("#cmp-track") == "cot"
        assert "cot track" in tab.inner_text("#cmp-status")
        row = tab.locator('#cmp-body tr[data-task="MedQA (USMLE, 4 options)"] td.num')
        accuracies = [float(x) for x in row.all_inner_texts()[1:3]]
        expected = [100 * results[m].cot.tasks["medqa_4options"].acc for m in (a, b)]
        assert accuracies == [pytest.approx(x, abs=0.05) for x in expected]


@pytest.mark.parametrize("width", WIDTHS)
def test_model_page_shows_both_tracks_and_its_base(browser, large, width):
    work, ids, base_url = large
    results = published_results(work / "results")
    model = ids[10]
    result = results[model]
    assert result.cot is not None
    with watched_tab(browser, base_url, width) as tab:
        tab.goto(f"{base_url}models/{model}/")
        tab.wait_for_selector("table.tracks")
        assert "Research comparison, not clinical approval" in tab.inner_text(".admonition.warning")
        for name, task in result.cot.tasks.items():
            row = tab.locator(f'table.agreement tr[data-task="{name}"] td.num').all_inner_texts()
            g = task.agreement
            assert row[:4] == [
                str(g.both_right),
                str(g.cot_fixes),
                str(g.cot_breaks),
                str(g.both_wrong),
            ]
        cost = tab.locator('table.track-cost tr[data-track="cot"]').inner_text()
        assert str(result.cot.cost.output_tokens) in cost
        assert result.cot.engine.version in cost
        base = tab.locator("dd.base-model a").first
        assert base.inner_text() == ids[11]
        assert tab.locator("table.against-base tbody tr").count() == 9
        assert "Find that pull request" in tab.inner_text("td.declaration")
        shot_between(tab, f"model-both-tracks-{width}", "#both-tracks", "table.track-cost")
        shot(tab, f"model-top-{width}")
        no_cot = next(m for m in ids if results[m].cot is None)
        tab.goto(f"{base_url}models/{no_cot}/")
        reason = results[no_cot].cot_not_run
        assert f"The cot track was not run for this model: {reason}" in tab.inner_text(
            ".cot-not-run"
        )


def test_phone_charts_do_not_overlap_or_clip(browser, large):
    """At 390 px: no two axis labels of a chart overlap ("50%100%"), and none is cut off at the
    edge of the screen (the size plot's "1T")."""
    _, ids, base_url = large
    overlap_js = """() => {
      const problems = [];
      for (const chart of document.querySelectorAll('.medlb-chart')) {
        const labels = [...chart.querySelectorAll('.bar-axis span, .tick')]
          .filter(e => e.getClientRects().length && getComputedStyle(e).display !== 'none')
          .map(e => [e.textContent, e.getBoundingClientRect()]);
        for (let i = 0; i < labels.length; i++) {
          const [text, r] = labels[i];
          if (r.left < 0 || r.right > innerWidth) problems.push('clipped ' + text);
          for (let j = i + 1; j < labels.length; j++) {
            const [other, s] = labels[j];
            const apart = r.right <= s.left || s.right <= r.left ||
              r.bottom <= s.top || s.bottom <= r.top;
            if (!apart) problems.push(text + ' overlaps ' + other);
          }
        }
      }
      return problems;
    }"""
    with watched_tab(browser, base_url, 390) as tab:
        for path in ("", f"models/{ids[10]}/"):
            tab.goto(base_url + path)
            tab.wait_for_selector(".medlb-chart")
            assert tab.evaluate(overlap_js) == [], path
