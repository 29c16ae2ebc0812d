/* The leaderboard table: a track switch, sort, filter, search, columns and row details over the
 * rows embedded in the page (<script id="lb-data">, a payloads.LeaderboardPayload: per track its
 * rows, rank ranges and reference rows, every value computed by the build). Only one page of
 * rows is in the document at a time (PAGE_ROWS), so 1,000 models cost what 50 do. Sorting by a
 * task shows each model's rank range on that task; *Rank by consistent accuracy* and
 * *Chance-normalised scores* are loglik views. The track is kept in the address (?track=cot).
 * No library, nothing fetched. */
(function () {
  "use strict";

  var PAGE_ROWS = 50;
  var TEXT_COLUMNS = { model: 1, type: 1, precision: 1, license: 1, engine: 1 };
  // Hidden first to last when the table is wider than the screen (table_columns.js).
  var PRIORITY = ["license", "precision", "engine", "cons", "trunc", "noans", "params", "type",
    "t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1", "t0"];
  // The payload fields this script reads, per object (tests/sitegen/test_payloads.py checks
  // them against site/assets/payloads.schema.json).
  var READS = {
    LeaderboardPayload: ["tasks", "task_titles", "models", "tracks", "track_files",
      "normalized_file"],
    NormalizedScores: ["rows", "references"],
    NormalizedRow: ["model_index", "normalized_average", "normalized_rank", "normalized_tasks"],
    LeaderboardTrack: ["track", "rows", "references", "ranked"],
    ModelFacts: ["key", "model", "hub_url", "model_type", "params", "size_label", "precision",
      "license", "flag"],
    LeaderboardRow: ["model_index", "rank", "unranked_reason", "average", "tasks", "task_ranks",
      "consistent", "consistent_rank", "no_answer", "truncated", "engine", "not_run"],
    FlagNote: ["reason", "discussion", "date"],
    ReferenceRow: ["name", "setting", "setting_text", "source_url", "average", "tasks"],
  };

  var cols = window.MedlbColumns;
  var esc = cols.esc, modelName = cols.modelName, rangeText = cols.rangeText;

  /* A score as the table prints it: one decimal, a real minus sign below zero. */
  function number(v) { return v.toFixed(1).replace("-", "−"); }

  function taskIndex(col) { return /^t\d$/.test(col) ? Number(col.slice(1)) : -1; }

  /* What a column ranks by when the table is sorted by it. */
  function basisOf(col) {
    var task = taskIndex(col);
    if (task >= 0) return task;
    return col === "cons" ? "cons" : "avg";
  }

  /* The rank range shown for a row in the current view, or null. */
  function rankOf(row, view) {
    if (view.basis === "cons") return row.consistent_rank || null;
    if (view.basis === "avg") {
      return (view.normalized ? normalizedOf(row, view).normalized_rank : row.rank) || null;
    }
    return row.task_ranks[view.basis] || null;
  }

  /* [value, low, high] of a score column in the current view, or null. */
  function scoreOf(row, col, view) {
    if (col === "cons") return row.consistent || null;
    var normal = view.normalized ? normalizedOf(row, view) : null;
    if (col === "avg") return (normal ? normal.normalized_average : row.average) || null;
    var i = taskIndex(col);
    if (normal) return normal.normalized_tasks ? normal.normalized_tasks[i] : null;
    return row.tasks[i];
  }

  /* A row's chance-normalised scores (payloads.NormalizedRow), {} when it has none. */
  function normalizedOf(row, view) {
    return view.normalizedRows[row.model_index] || {};
  }

  function sortValue(row, col, view) {
    var facts = view.models[row.model_index];
    if (col === "rank") { var r = rankOf(row, view); return r ? r[0] : null; }
    if (col === "model") return facts.model.toLowerCase();
    if (col === "type") return facts.model_type;
    if (col === "params") return facts.params;
    if (col === "precision") return facts.precision;
    if (col === "license") return facts.license;
    if (col === "noans") return row.no_answer;
    if (col === "trunc") return row.truncated;
    if (col === "engine") return row.engine;
    var t = scoreOf(row, col, view);
    return t ? t[0] : null;
  }

  function intervalText(t) { return number(t[1]) + "–" + number(t[2]); }

  function scoreCell(t, cls) {
    cls = "num" + (cls ? " " + cls : "");
    if (!t || t[0] == null) return '<td class="' + cls + ' empty">—</td>';
    return '<td class="' + cls + '" title="95% interval ' + intervalText(t) + '">' +
      number(t[0]) + '<span class="ci">' + intervalText(t) + "</span></td>";
  }

  function percentCell(v, cls) {
    return '<td class="num ' + cls + '">' + (v == null ? "—" : number(v)) + "</td>";
  }

  function rankCell(row, view, why) {
    var r = rankOf(row, view);
    if (!r) {
      var reason = row.not_run || row.unranked_reason ||
        (view.basis === "cons" ? why.cons : view.basis === "avg" ? why.normalized :
          "not ranked on this task");
      return '<td class="num rank sticky-1" title="' + esc(reason) + '">—</td>';
    }
    return '<td class="num rank sticky-1">' + rangeText(r) + "</td>";
  }

  /* A flagged model's marker, before its name so that a long name never hides it. */
  function pageKey(facts) { return facts.key || facts.model; }

  function flagMark(facts, base) {
    return '<a class="flag-mark" href="' + base + "models/" + esc(pageKey(facts)) +
      '/#flagged" title="Flagged by a maintainer on ' + esc(facts.flag.date) + ": " +
      esc(facts.flag.reason) +
      ' The scores stay published; a flag records a documented reason to doubt them." ' +
      'aria-label="flagged: ' + esc(facts.flag.reason) + '">⚑</a>';
  }

  function modelCell(row, facts, base) {
    var toggle = '<button type="button" class="row-toggle" aria-expanded="false" ' +
      'aria-label="all scores of ' + esc(facts.model) + '">▸</button>';
    var name = (facts.flag ? flagMark(facts, base) : "") + '<a class="name" href="' + base +
      "models/" + esc(pageKey(facts)) + '/" title="' + esc(facts.model) + '">' +
      modelName(facts.model) + "</a>";
    if (facts.hub_url) {
      name += ' <a class="hub" href="' + esc(facts.hub_url) +
        '" title="Hugging Face Hub page at the evaluated revision" aria-label="' +
        esc(facts.model) + ' on the Hugging Face Hub">↗</a>';
    }
    if (row.not_run) name += ' <span class="lb-not-run">' + esc(row.not_run) + "</span>";
    return '<th scope="row" class="model sticky-2"><div class="cell-model">' + toggle + name +
      "</div></th>";
  }

  function rowHtml(row, base, view, why) {
    var facts = view.models[row.model_index];
    var cells = [rankCell(row, view, why), modelCell(row, facts, base),
      scoreCell(scoreOf(row, "avg", view), "avg"), scoreCell(scoreOf(row, "cons", view), "cons"),
      percentCell(row.no_answer, "noans"), percentCell(row.truncated, "trunc")];
    for (var i = 0; i < row.tasks.length; i++) cells.push(scoreCell(scoreOf(row, "t" + i, view)));
    cells.push("<td>" + esc(facts.model_type) + "</td>",
      '<td class="num">' + esc(facts.size_label) + "</td>",
      "<td>" + esc(facts.precision || "—") + "</td>",
      "<td>" + esc(facts.license || "—") + "</td>",
      '<td class="engine">' + esc(row.engine || "—") + "</td>");
    return '<tr class="' + (facts.flag ? "flagged" : "") + '" data-index="' + row.model_index +
      '">' + cells.join("") + "</tr>";
  }

  /* A paper-reported row: its setting in words, never a rank; an average only when the
   * build gave one (all nine cells under one protocol). */
  function referenceHtml(ref, tasks, view) {
    var cells = ['<td class="num rank sticky-1" title="reported in a paper: never ranked">—</td>',
      '<th scope="row" class="model sticky-2"><div class="cell-model"><span class="name">' +
        modelName(ref.name) + '</span> <a class="badge" href="' + esc(ref.source_url) +
        '" title="' + esc(ref.setting_text) + '">reported, ' + esc(ref.setting) + "</a></div></th>",
      reportedCell(view.normalized ? null : ref.average, "avg"),
      '<td class="num cons empty">—</td>',
      '<td class="num noans empty">—</td>', '<td class="num trunc empty">—</td>'];
    tasks.forEach(function (v) { cells.push(reportedCell(v)); });
    cells.push("<td>reported</td>", '<td class="num">—</td>', "<td>—</td>", "<td>—</td>",
      '<td class="engine">—</td>');
    return '<tr class="ref">' + cells.join("") + "</tr>";
  }

  function reportedCell(v, cls) {
    if (v == null) return '<td class="num empty ' + (cls || "") + '">—</td>';
    return '<td class="num reported ' + (cls || "") +
      '" title="reported in the paper, not evaluated here">' + number(v) + "</td>";
  }

  /* Everything about one row, for the ▸ button: all scores with intervals and rank ranges. */
  function detailHtml(row, titles, span, view) {
    var items = [[view.normalized ? "Average (chance-normalised)" : "Average",
      scoreOf(row, "avg", view), rankOf(row, { basis: "avg", normalized: view.normalized,
        normalizedRows: view.normalizedRows })]];
    if (row.consistent) items.push(["Consistent accuracy", row.consistent, row.consistent_rank]);
    titles.forEach(function (title, i) {
      items.push([title, scoreOf(row, "t" + i, view), row.task_ranks[i]]);
    });
    var parts = items.map(function (item) {
      var t = item[1], r = item[2];
      var score = t && t[0] != null ? number(t[0]) : "—";
      var extra = t && t[1] != null ? ' <span class="nb">(' + intervalText(t) + ")</span>" : "";
      var rank = r ? ' <span class="detail-rank nb">rank ' + rangeText(r) + "</span>" : "";
      return "<div><dt>" + esc(item[0]) + "</dt><dd><b>" + score + "</b>" + extra + rank +
        "</dd></div>";
    });
    var model = view.models[row.model_index];
    var facts = [["Type", model.model_type], ["Params", model.size_label],
      ["Precision", model.precision || "—"], ["License", model.license || "—"]];
    if (row.engine) facts.push(["Engine", row.engine]);
    if (row.no_answer != null) facts.push(["No answer", number(row.no_answer) + "%"]);
    if (row.truncated != null) facts.push(["Truncated", number(row.truncated) + "%"]);
    if (row.not_run) facts.push(["No cot score", row.not_run]);
    var factHtml = facts.map(function (f) {
      return "<div><dt>" + f[0] + "</dt><dd>" + esc(f[1]) + "</dd></div>";
    }).join("");
    var hub = model.hub_url ? '<div><dt>Hub</dt><dd><a href="' + esc(model.hub_url) +
      '">the evaluated revision</a></dd></div>' : "";
    var flag = model.flag ? '<div class="detail-flag"><dt>Flagged</dt><dd>' +
      esc(model.flag.reason) + ' <a href="' + esc(model.flag.discussion) +
      '">discussion</a></dd></div>' : "";
    return '<tr class="row-detail"><td colspan="' + span + '"><dl class="detail-grid">' +
      parts.join("") + factHtml + hub + flag + "</dl></td></tr>";
  }

  /* The filter fields' values, read once per render. */
  function readFilters(el) {
    return {
      query: el("lb-search").value.trim().toLowerCase(),
      type: el("lb-type").value, precision: el("lb-precision").value,
      min: parseFloat(el("lb-size-min").value), max: parseFloat(el("lb-size-max").value),
      flagged: el("lb-flagged").checked, references: el("lb-references").checked,
    };
  }

  function rowMatches(facts, f, haystack) {
    if (facts.flag && !f.flagged) return false;
    if (f.type && facts.model_type !== f.type) return false;
    if (f.precision && facts.precision !== f.precision) return false;
    if (!isNaN(f.min) || !isNaN(f.max)) {
      if (facts.params == null) return false;
      var billions = facts.params / 1e9;
      if (!isNaN(f.min) && billions < f.min) return false;
      if (!isNaN(f.max) && billions > f.max) return false;
    }
    return !f.query || haystack.indexOf(f.query) >= 0;
  }

  function referenceMatches(ref, f) {
    if (!f.references || f.type || f.precision || !isNaN(f.min) || !isNaN(f.max)) return false;
    return !f.query || ref.name.toLowerCase().indexOf(f.query) >= 0;
  }

  function statusText(shown, total, references, flaggedHidden, page, pages, queue) {
    if (!total) {
      return "No evaluated model yet" + (queue ? ": " + queue + " in the queue" : "") + ".";
    }
    var hidden = flaggedHidden ? " (" + flaggedHidden + " flagged hidden)" : "";
    if (!shown && !references) return "No model matches these filters" + hidden + ".";
    return shown + " of " + total + " models" +
      (references ? " and " + references + " reported rows" : "") + hidden +
      (pages > 1 ? "; page " + (page + 1) + " of " + pages : "");
  }

  function init() {
    var root = document.getElementById("leaderboard");
    if (!root || root.dataset.ready) return;
    root.dataset.ready = "1";
    mark("medlb-init");
    var data = JSON.parse(document.getElementById("lb-data").textContent);
    mark("medlb-parsed");
    var base = root.dataset.root || "";
    var why = { cons: root.dataset.noRotations, normalized: root.dataset.noNormalized };
    var el = function (id) { return document.getElementById(id); };
    var table = el("lb-table");
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var byTrack = {};
    data.tracks.forEach(function (t) { byTrack[t.track] = t; });
    // the search text of each model, built once (a parallel array: facts stay as the build sent)
    var haystacks = data.models.map(function (m) {
      return [m.model, m.model_type, m.license || "", m.precision || ""].join(" ").toLowerCase();
    });
    var state = { track: "loglik", col: "avg", dir: -1, basis: "avg", normalized: false, page: 0,
      models: data.models, normalizedRows: null };
    var open = {};
    var priority = PRIORITY.slice();
    var columns = null;

    if (window.matchMedia("(max-width: 44.9375em)").matches) el("lb-filters").open = false;
    fillChoices(el("lb-type"), data.models.map(function (m) { return m.model_type; }));
    fillChoices(el("lb-precision"), data.models.map(function (m) { return m.precision; }));

    function compare(a, b) {
      var va = sortValue(a, state.col, state), vb = sortValue(b, state.col, state);
      if (va == null && vb == null) return 0;
      if (va == null) return 1;  // missing values sink, whichever the direction
      if (vb == null) return -1;
      if (va < vb) return -state.dir;
      if (va > vb) return state.dir;
      return 0;
    }

    function shownRows(track, f) {
      var shown = [];
      track.rows.forEach(function (row) {
        var i = row.model_index;
        if (rowMatches(data.models[i], f, haystacks[i])) shown.push(row);
      });
      return shown.sort(function (a, b) {
        var ra = rankOf(a, state), rb = rankOf(b, state);
        return compare(a, b) || (!ra) - (!rb) || (ra && rb ? ra[0] - rb[0] : 0);
      });
    }

    function render() {
      var track = byTrack[state.track];
      var f = readFilters(el);
      var shown = shownRows(track, f);
      var references = track.references.filter(function (ref) { return referenceMatches(ref, f); });
      var pages = Math.max(1, Math.ceil(shown.length / PAGE_ROWS));
      state.page = Math.min(state.page, pages - 1);
      var slice = shown.slice(state.page * PAGE_ROWS, (state.page + 1) * PAGE_ROWS);
      var parts = slice.map(function (row) {
        var html = rowHtml(row, base, state, why);
        return open[row.model_index] ? markOpen(html) + detailHtml(row, data.task_titles, heads.length,
          state) : html;
      });
      if (state.page === 0) {
        references.forEach(function (ref) {
          var i = track.references.indexOf(ref);
          var tasks = state.normalized ? state.normalizedRefs[i] : ref.tasks;
          parts.push(referenceHtml(ref, tasks, state));
        });
      }
      el("lb-body").innerHTML = parts.join("");
      var flaggedHidden = f.flagged ? 0 :
        data.models.filter(function (m) { return m.flag; }).length;
      el("lb-count").textContent = statusText(shown.length, track.rows.length, references.length,
        flaggedHidden, state.page, pages, Number(root.dataset.queue || 0));
      renderPager(pages);
      renderViewState();
      if (columns) columns.stick();
    }

    function renderPager(pages) {
      el("lb-pager").hidden = pages < 2;
      el("lb-prev").disabled = state.page === 0;
      el("lb-next").disabled = state.page >= pages - 1;
      el("lb-page").textContent = "Page " + (state.page + 1) + " of " + pages;
    }

    function renderViewState() {
      var cot = state.track === "cot";
      el("lb-rank-basis").textContent = state.basis === "cons" ? "consistent" :
        state.basis === "avg" ? (state.normalized ? "norm. average" : "average") :
          heads[0].parentNode.querySelector('th[data-col="t' + state.basis + '"]').textContent.trim();
      el("lb-consistent").checked = state.basis === "cons";
      el("lb-note-consistent").hidden = state.basis !== "cons";
      el("lb-note-normalized").hidden = !state.normalized;
      el("lb-note-cot").hidden = !cot;
      el("lb-loglik-views").hidden = cot;
      table.classList.toggle("normalized", state.normalized);
      table.classList.toggle("rank-cons", state.basis === "cons");
      table.classList.toggle("track-cot", cot);
      table.classList.toggle("track-loglik", !cot);
      Array.prototype.forEach.call(document.querySelectorAll(".lb-track-button"), function (b) {
        b.setAttribute("aria-pressed", String(b.dataset.track === state.track));
      });
      heads.forEach(function (th) {
        if (th.dataset.col === state.col) {
          th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        } else {
          th.removeAttribute("aria-sort");
        }
      });
    }

    function markOpen(html) {
      return html.replace('aria-expanded="false"', 'aria-expanded="true"')
        .replace(">▸</button>", ">▾</button>");
    }

    function sortBy(col, dir) {
      var before = state.basis;
      state.col = col;
      state.dir = dir;
      state.page = 0;
      if (col !== "rank") state.basis = basisOf(col);
      render();
      // ranked by consistent accuracy, its column must show: refit only when that changes
      if ((before === "cons") !== (state.basis === "cons")) fitColumns();
    }

    /* Each track shows its own columns: cot no-answer, truncation and engine; loglik the
     * consistent accuracy. Ranked by consistent accuracy, its column is never hidden. */
    var wide = window.matchMedia("(min-width: 80em)");
    function fitColumns() {
      var other = state.track === "cot" ? ["cons"] : ["noans", "trunc", "engine"];
      var ranked = state.basis === "cons" && !wide.matches;
      priority.length = 0;
      PRIORITY.forEach(function (col) {
        if (other.indexOf(col) < 0 && (col !== "cons" || !ranked)) priority.push(col);
      });
      if (ranked) priority.push("avg");
      if (columns) columns.fit(other);
    }
    wide.addEventListener("change", fitColumns);

    /* The view in the address, so that it can be linked: ?track=cot&rank=consistent&scores=normalized */
    function remember() {
      var params = new URLSearchParams(window.location.search);
      setParam(params, "track", state.track === "cot" ? "cot" : null);
      setParam(params, "rank", state.basis === "cons" ? "consistent" : null);
      setParam(params, "scores", state.normalized ? "normalized" : null);
      var query = params.toString();
      window.history.replaceState(null, "", window.location.pathname +
        (query ? "?" + query : "") + window.location.hash);
    }

    /* A track not embedded in the page is fetched once, the first time it is shown. */
    function switchTrack(track) {
      if (!byTrack[track]) {
        cols.loadTrack(base + data.track_files[track], byTrack, track, el("lb-count"),
          switchTrack);
        return;
      }
      state.track = track;
      state.page = 0;
      if (track === "cot") {
        state.normalized = el("lb-normalized").checked = false;
        if (state.basis === "cons") { state.col = "avg"; state.basis = "avg"; }
      }
      render();
      fitColumns();
      remember();
    }

    heads.forEach(function (th) {
      th.tabIndex = 0;
      var onClick = function () {
        var col = th.dataset.col;
        if (state.col === col) sortBy(col, -state.dir);
        else sortBy(col, col === "rank" || TEXT_COLUMNS[col] ? 1 : -1);
        remember();
      };
      th.addEventListener("click", onClick);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); onClick(); }
      });
    });
    el("lb-body").addEventListener("click", function (event) {
      var button = event.target.closest("button.row-toggle");
      if (!button) return;
      var index = button.closest("tr").dataset.index;
      open[index] = !open[index];
      render();
    });
    var refilter = function () { state.page = 0; render(); };
    ["lb-search", "lb-size-min", "lb-size-max"].forEach(function (id) {
      el(id).addEventListener("input", refilter);
    });
    ["lb-type", "lb-precision", "lb-references", "lb-flagged"].forEach(function (id) {
      el(id).addEventListener("change", refilter);
    });
    el("lb-prev").addEventListener("click", function () { state.page--; render(); });
    el("lb-next").addEventListener("click", function () { state.page++; render(); });
    el("lb-intervals").addEventListener("change", function () {
      table.classList.toggle("show-ci", el("lb-intervals").checked);
      if (columns) columns.fit();
    });
    el("lb-consistent").addEventListener("change", function () {
      sortBy(el("lb-consistent").checked ? "cons" : "avg", -1);
      remember();
    });
    el("lb-normalized").addEventListener("change", function () {
      showNormalized(el("lb-normalized").checked);
    });

    /* The chance-normalised scores are fetched once, the first time they are asked for. */
    function showNormalized(on) {
      if (on && !state.normalizedRows) {
        fetch(base + data.normalized_file).then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        }).then(function (loaded) {
          state.normalizedRows = {};
          loaded.rows.forEach(function (r) { state.normalizedRows[r.model_index] = r; });
          state.normalizedRefs = loaded.references;
          showNormalized(el("lb-normalized").checked);
        }).catch(function (err) {
          el("lb-count").textContent = "Cannot load the chance-normalised scores (" +
            err.message + ").";
        });
        return;
      }
      state.normalized = on;
      render();
      remember();
    }
    Array.prototype.forEach.call(document.querySelectorAll(".lb-track-button"), function (b) {
      b.addEventListener("click", function () { switchTrack(b.dataset.track); });
    });

    var asked = new URLSearchParams(window.location.search);
    el("lb-normalized").checked = asked.get("scores") === "normalized";
    if (state.track === "loglik" && asked.get("rank") === "consistent") {
      state.col = state.basis = "cons";
    }
    render();
    mark("medlb-first-row");
    columns = cols.attach({
      table: table, box: el("lb-box"), chooser: el("lb-column-list"),
      storageKey: "medlb-leaderboard-columns", priority: priority, fixed: ["rank", "model"],
      onChange: function (hidden) { el("lb-cons-hidden").hidden = !hidden.cons; },
    });
    // Columns are fitted in a task of their own, after the first rows had their frame.
    window.setTimeout(function () {
      fitColumns();
      mark("medlb-fitted");
      if (asked.get("track") === "cot" && data.track_files.cot) switchTrack("cot");
      else if (el("lb-normalized").checked) showNormalized(true);
    }, 0);
  }

  function fillChoices(select, values) {
    var seen = {};
    values.forEach(function (v) { if (v) seen[v] = 1; });
    Object.keys(seen).sort().forEach(function (v) {
      var option = document.createElement("option");
      option.value = option.textContent = v;
      select.appendChild(option);
    });
  }

  /* A named point in the page's timeline (the browser tests read them). */
  function mark(name) {
    if (window.performance && performance.mark) performance.mark(name);
  }

  function setParam(params, name, value) {
    if (value) params.set(name, value); else params.delete(name);
  }

  /* The size plot (1,000 points, 3,000 SVG nodes) arrives as an inert <template>: it joins the
   * page when the browser is idle after loading, in a task of its own, so it never weighs on
   * the first rows or on the theme's start-up. */
  function mountSizePlot() {
    var content = document.getElementById("lb-size-plot-content");
    var box = document.getElementById("lb-size-plot");
    if (!content || !box || box.childNodes.length) return;
    box.appendChild(document.importNode(content.content, true));
  }

  function mountSizePlotWhenIdle() {
    if (window.requestIdleCallback) window.requestIdleCallback(mountSizePlot, { timeout: 1500 });
    else window.setTimeout(mountSizePlot, 300);
  }

  window.MedlbLeaderboard = { READS: READS };
  if (document.readyState === "complete") mountSizePlotWhenIdle();
  else window.addEventListener("load", mountSizePlotWhenIdle);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
