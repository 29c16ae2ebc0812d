/* The leaderboard table: sort, filter, search, columns and row details over rows embedded in
 * the page. The rows are JSON in <script id="lb-data"> (runner/sitegen/data_files.py,
 * table_payload); the body is rebuilt as one string on each change, a few milliseconds for
 * 1,000 rows. Sorting by a task shows each model's rank on that task; *Rank by consistent
 * accuracy* sorts and ranks by the Consistent column; *Chance-normalised scores* shows
 * (accuracy − chance) / (1 − chance) and ranks the average by it. No library, nothing fetched. */
(function () {
  "use strict";

  var TEXT_COLUMNS = { model: 1, type: 1, precision: 1, license: 1 };
  // Hidden first to last when the table is wider than the screen (table_columns.js). While the
  // table is ranked by consistent accuracy its column is never hidden, and the Average column
  // goes last instead (a phone then shows rank, model and consistent accuracy).
  var PRIORITY = ["license", "precision", "cons", "params", "type",
    "t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1", "t0"];
  var HUB = "https://huggingface.co/";

  // The cell markup the leaderboard and the specialties table share (table_columns.js).
  var esc = window.MedlbColumns.esc, modelName = window.MedlbColumns.modelName,
    tieMark = window.MedlbColumns.tieMark;

  function sizeLabel(params) {
    if (params == null) return "—";
    var units = [["T", 1e12], ["B", 1e9], ["M", 1e6], ["K", 1e3]];
    for (var i = 0; i < units.length; i++) {
      if (params >= units[i][1]) {
        var v = params / units[i][1];
        return (v >= 10 ? v.toFixed(0) : String(Number(v.toFixed(1)))) + units[i][0];
      }
    }
    return String(params);
  }

  /* A score as the table prints it: one decimal, a real minus sign below zero. */
  function number(v) { return v.toFixed(1).replace("-", "−"); }

  function taskIndex(col) { return col.charAt(0) === "t" && col !== "type" ? Number(col.slice(1)) : -1; }

  /* What a column ranks by when the table is sorted by it: a task, consistent accuracy, or (any
   * other column) the average. */
  function basisOf(col) {
    var task = taskIndex(col);
    if (task >= 0) return task;
    return col === "cons" ? "cons" : "avg";
  }

  /* The rank shown for a row: by the task or the measure the table is ranked by. Task ranks are
   * the same in both views (chance normalisation keeps each task's order); the average's is not. */
  function place(row, view) {
    if (row.ref) return null;
    if (view.basis === "cons") return row.cr || null;
    if (view.basis === "avg") {
      if (view.normalized) return row.nr || null;
      return row.r == null ? null : [row.r, row.x];
    }
    return row.tr && row.tr[view.basis] ? row.tr[view.basis] : null;
  }

  /* [value, low, high] of a score column in the current view, or null. */
  function triple(row, col, normalized) {
    if (col === "cons") return row.c || null;
    if (col === "avg") return (normalized ? row.n : row.a) || null;
    var i = taskIndex(col);
    if (normalized) return row.ns ? row.ns[i] : null;
    return row.s[i];
  }

  function value(row, col, view) {
    if (col === "rank") { var p = place(row, view); return p ? p[0] : null; }
    if (col === "model") return row.m.toLowerCase();
    if (col === "type") return row.t;
    if (col === "params") return row.p;
    if (col === "precision") return row.q;
    if (col === "license") return row.l;
    var t = triple(row, col, view.normalized);
    return t ? t[0] : null;
  }

  function intervalText(t) { return number(t[1]) + "–" + number(t[2]); }

  function scoreCell(t, reported, cls) {
    cls = "num" + (cls ? " " + cls : "");
    if (!t || t[0] == null) return '<td class="' + cls + ' empty">—</td>';
    if (reported || t[1] == null) {
      return '<td class="' + cls + ' reported" title="reported in the paper, not evaluated here">' +
        number(t[0]) + "</td>";
    }
    return '<td class="' + cls + '" title="95% interval ' + intervalText(t) + '">' +
      number(t[0]) + '<span class="ci">' + intervalText(t) + "</span></td>";
  }

  function rankCell(row, view, why) {
    var p = place(row, view);
    if (!p) {
      var reason = row.ref ? "reported in a paper: never ranked" : row.w ||
        (view.basis === "cons" ? why.cons : view.basis === "avg" ? why.normalized :
          "not ranked on this task");
      return '<td class="num rank sticky-1" title="' + esc(reason) + '">—</td>';
    }
    return '<td class="num rank sticky-1">' + p[0] + tieMark(p[1]) + "</td>";
  }

  /* A flagged model's marker, before its name so that a long name never hides it: what the
   * flag says, and a link to the banner on the model's page. */
  function flagMark(row, base) {
    return '<a class="flag-mark" href="' + base + "models/" + esc(row.k) + '/#flagged" ' +
      'title="Flagged by a maintainer on ' + esc(row.f[2]) + ": " + esc(row.f[0]) +
      ' The scores stay published; a flag records a documented reason to doubt them." ' +
      'aria-label="flagged: ' + esc(row.f[0]) + '">⚑</a>';
  }

  function modelCell(row, base) {
    var toggle = '<button type="button" class="row-toggle" aria-expanded="false" ' +
      'aria-label="all scores of ' + esc(row.m) + '">▸</button>';
    var name;
    if (row.ref) {
      name = '<span class="name">' + modelName(row.m) + '</span> <a class="badge" href="' +
        esc(row.ref) + '" title="' + esc(row.note) + '">reported</a>';
    } else {
      name = (row.f ? flagMark(row, base) : "") + '<a class="name" href="' + base + "models/" +
        esc(row.k) + '/" title="' + esc(row.m) + '">' + modelName(row.m) + "</a>";
      if (row.u) {
        name += ' <a class="hub" href="' + esc(row.u) +
          '" title="Hugging Face Hub page at the evaluated revision" aria-label="' + esc(row.m) +
          ' on the Hugging Face Hub">↗</a>';
      }
    }
    return '<th scope="row" class="model sticky-2"><div class="cell-model">' + toggle + name +
      "</div></th>";
  }

  function rowHtml(row, base, view, why) {
    var reported = !!row.ref;
    var cells = [rankCell(row, view, why), modelCell(row, base),
      scoreCell(triple(row, "avg", view.normalized), reported, "avg"),
      scoreCell(triple(row, "cons", view.normalized), reported, "cons")];
    for (var i = 0; i < row.s.length; i++) {
      cells.push(scoreCell(triple(row, "t" + i, view.normalized), reported));
    }
    cells.push("<td>" + esc(row.t) + "</td>", '<td class="num">' + sizeLabel(row.p) + "</td>",
      "<td>" + esc(row.q || "—") + "</td>", "<td>" + esc(row.l || "—") + "</td>");
    return '<tr class="' + (reported ? "ref" : row.f ? "flagged" : "") + '" data-row="' +
      row.id + '">' + cells.join("") + "</tr>";
  }

  /* Everything about one row, for the ▸ button: all scores with intervals and ranks. */
  function detailHtml(row, titles, span, view) {
    var average = view.normalized ? "Average (chance-normalised)" : "Average";
    var avgView = { basis: "avg", normalized: view.normalized };
    var items = [[average, triple(row, "avg", view.normalized), place(row, avgView)],
      ["Consistent accuracy", row.c, place(row, { basis: "cons" })]];
    titles.forEach(function (title, i) {
      items.push([title, triple(row, "t" + i, view.normalized), row.tr ? row.tr[i] : null]);
    });
    var parts = items.map(function (item) {
      var t = item[1], p = item[2];
      var score = t && t[0] != null ? number(t[0]) : "—";
      var extra = t && t[1] != null ? ' <span class="nb">(' + intervalText(t) + ")</span>" : "";
      var rank = p ? "rank " + p[0] + (p[1] ? " ≈" : "") : "";
      return "<div><dt>" + esc(item[0]) + "</dt><dd><b>" + score + "</b>" + extra +
        (rank ? ' <span class="detail-rank nb">' + rank + "</span>" : "") + "</dd></div>";
    });
    var hub = row.u ? '<div><dt>Hub</dt><dd><a href="' + esc(row.u) +
      '">the evaluated revision</a></dd></div>' : "";
    var facts = "<div><dt>Type</dt><dd>" + esc(row.t) + "</dd></div><div><dt>Params</dt><dd>" +
      sizeLabel(row.p) + "</dd></div><div><dt>Precision</dt><dd>" + esc(row.q || "—") +
      "</dd></div><div><dt>License</dt><dd>" + esc(row.l || "—") + "</dd></div>" + hub;
    var flag = row.f ? '<div class="detail-flag"><dt>Flagged</dt><dd>' + esc(row.f[0]) +
      ' <a href="' + esc(row.f[1]) + '">discussion</a></dd></div>' : "";
    return '<tr class="row-detail"><td colspan="' + span + '"><dl class="detail-grid">' +
      parts.join("") + (row.ref ? "" : facts + flag) + "</dl></td></tr>";
  }

  function init() {
    var root = document.getElementById("leaderboard");
    if (!root || root.dataset.ready) return;
    root.dataset.ready = "1";
    var data = JSON.parse(document.getElementById("lb-data").textContent);
    var base = root.dataset.root || "";
    var why = { cons: root.dataset.noRotations, normalized: root.dataset.noNormalized };
    var rows = data.rows;
    rows.forEach(function (r, i) {
      r.id = i;
      r.html = {};
      if (!r.ref && r.k == null) r.k = r.m;  // the page key, when it is the model id
      if (r.v) r.u = HUB + r.m + "/tree/" + r.v;  // ModelEntry.hub_url
    });
    var el = function (id) { return document.getElementById(id); };
    var table = el("lb-table");
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var titles = data.tasks.map(function (t, i) {
      return table.querySelector('th[data-col="t' + i + '"]').getAttribute("title");
    });
    var shorts = data.tasks.map(function (t, i) {
      return table.querySelector('th[data-col="t' + i + '"]').textContent.trim();
    });
    var state = { col: "avg", dir: -1, basis: "avg", normalized: false };
    var open = {};
    var priority = PRIORITY.slice();  // table_columns.js reads it at every fit

    if (window.matchMedia("(max-width: 44.9375em)").matches) el("lb-filters").open = false;

    function fill(select, values) {
      values.sort().forEach(function (v) {
        var option = document.createElement("option");
        option.value = option.textContent = v;
        select.appendChild(option);
      });
    }
    var types = {}, precisions = {};
    rows.forEach(function (r) {
      if (!r.ref) { types[r.t] = 1; if (r.q) precisions[r.q] = 1; }
    });
    fill(el("lb-type"), Object.keys(types));
    fill(el("lb-precision"), Object.keys(precisions));

    function visible(row) {
      var query = el("lb-search").value.trim().toLowerCase();
      var type = el("lb-type").value, precision = el("lb-precision").value;
      var min = parseFloat(el("lb-size-min").value), max = parseFloat(el("lb-size-max").value);
      if (row.ref) {
        if (!el("lb-references").checked || type || precision) return false;
        if (!isNaN(min) || !isNaN(max)) return false;
      } else {
        if (row.f && !el("lb-flagged").checked) return false;
        if (type && row.t !== type) return false;
        if (precision && row.q !== precision) return false;
        if (!isNaN(min) || !isNaN(max)) {
          if (row.p == null) return false;
          var billions = row.p / 1e9;
          if (!isNaN(min) && billions < min) return false;
          if (!isNaN(max) && billions > max) return false;
        }
      }
      if (query) {
        var hay = [row.m, row.t, row.l || "", row.q || ""].join(" ").toLowerCase();
        if (hay.indexOf(query) < 0) return false;
      }
      return true;
    }

    function compare(a, b) {
      var va = value(a, state.col, state), vb = value(b, state.col, state);
      if (va == null && vb == null) return 0;
      if (va == null) return 1;  // missing values sink, whichever the direction
      if (vb == null) return -1;
      if (va < vb) return -state.dir;
      if (va > vb) return state.dir;
      return 0;
    }

    function statusText(models, total, reported, flaggedHidden) {
      if (!total) {
        var queue = Number(root.dataset.queue || 0);
        return "No evaluated model yet" + (queue ? ": " + queue + " in the queue" : "") +
          (reported ? "; " + reported + " reported rows" : "") + ".";
      }
      var hidden = flaggedHidden ? " (" + flaggedHidden + " flagged hidden)" : "";
      if (!models && !reported) return "No model matches these filters" + hidden + ".";
      return "Showing " + models + " of " + total + " models" +
        (reported ? " and " + reported + " reported rows" : "") + hidden;
    }

    function basisLabel() {
      if (state.basis === "cons") return "consistent";
      if (state.basis === "avg") return state.normalized ? "norm. average" : "average";
      return shorts[state.basis];
    }

    function render() {
      var shown = rows.filter(visible);
      // Ties keep the order of the rank shown (the task's when sorted by a task).
      shown.sort(function (a, b) {
        var pa = place(a, state), pb = place(b, state);
        return compare(a, b) || (!pa) - (!pb) || (pa && pb ? pa[0] - pb[0] : 0);
      });
      // Row markup changes only with the rank basis and the view: build each once per pair.
      var key = state.basis + (state.normalized ? "n" : "a");
      window.MedlbColumns.fillRows(el("lb-body"), shown.map(function (r) {
        if (r.html[key] === undefined) r.html[key] = rowHtml(r, base, state, why);
        return open[r.id] ? markOpen(r.html[key]) + detailHtml(r, titles, heads.length, state)
          : r.html[key];
      }));
      var models = shown.filter(function (r) { return !r.ref; }).length;
      var evaluated = rows.filter(function (r) { return !r.ref; });
      var flaggedHidden = el("lb-flagged").checked ? 0 :
        evaluated.filter(function (r) { return r.f; }).length;
      el("lb-count").textContent = statusText(models, evaluated.length, shown.length - models,
        flaggedHidden);
      el("lb-rank-basis").textContent = basisLabel();
      el("lb-consistent").checked = state.basis === "cons";
      el("lb-note-consistent").hidden = state.basis !== "cons";
      el("lb-note-normalized").hidden = !state.normalized;
      table.classList.toggle("normalized", state.normalized);
      table.classList.toggle("rank-cons", state.basis === "cons");
      heads.forEach(function (th) {
        if (th.dataset.col === state.col) {
          th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        } else {
          th.removeAttribute("aria-sort");
        }
      });
      if (columns) columns.stick();
    }

    function markOpen(html) {
      return html.replace('aria-expanded="false"', 'aria-expanded="true"')
        .replace(">▸</button>", ">▾</button>");
    }

    /* Sort by `col`; the rank follows it unless it is the Rank column itself. */
    function sortBy(col, dir) {
      var before = state.basis;
      state.col = col;
      state.dir = dir;
      if (col !== "rank") state.basis = basisOf(col);
      render();
      if ((before === "cons") !== (state.basis === "cons")) keepConsistentShown();
    }

    /* While the table is ranked by consistent accuracy its column stays on a narrow screen, where
     * the Average makes way for it; from 1280 px on the nine tasks, the average, params and type
     * come first, and the column shows whenever it fits beside them. */
    var wide = window.matchMedia("(min-width: 80em)");
    function keepConsistentShown() {
      var ranked = state.basis === "cons" && !wide.matches;
      priority.length = 0;
      PRIORITY.forEach(function (col) { if (col !== "cons" || !ranked) priority.push(col); });
      if (ranked) priority.push("avg");
      if (columns) columns.fit();
    }
    wide.addEventListener("change", keepConsistentShown);

    /* The view in the address, so that a ranking can be linked: ?rank=consistent&scores=normalized */
    function remember() {
      var params = new URLSearchParams(window.location.search);
      if (state.basis === "cons") params.set("rank", "consistent"); else params.delete("rank");
      if (state.normalized) params.set("scores", "normalized"); else params.delete("scores");
      var query = params.toString();
      window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") +
        window.location.hash);
    }

    heads.forEach(function (th) {
      th.tabIndex = 0;
      var onClick = function () {
        var col = th.dataset.col;
        if (state.col === col) {
          sortBy(col, -state.dir);
        } else {
          sortBy(col, col === "rank" || TEXT_COLUMNS[col] ? 1 : -1);
        }
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
      var id = Number(button.closest("tr").dataset.row);
      open[id] = !open[id];
      render();
    });
    ["lb-search", "lb-size-min", "lb-size-max"].forEach(function (id) {
      el(id).addEventListener("input", render);
    });
    ["lb-type", "lb-precision", "lb-references", "lb-flagged"].forEach(function (id) {
      el(id).addEventListener("change", render);
    });
    el("lb-intervals").addEventListener("change", function () {
      table.classList.toggle("show-ci", el("lb-intervals").checked);
      if (columns) columns.fit();
    });
    el("lb-consistent").addEventListener("change", function () {
      sortBy(el("lb-consistent").checked ? "cons" : "avg", -1);
      remember();
    });
    el("lb-normalized").addEventListener("change", function () {
      state.normalized = el("lb-normalized").checked;
      render();
      remember();
    });
    var columns = null;
    var asked = new URLSearchParams(window.location.search);
    state.normalized = el("lb-normalized").checked = asked.get("scores") === "normalized";
    if (asked.get("rank") === "consistent") state.col = state.basis = "cons";
    keepConsistentShown();
    render();
    columns = window.MedlbColumns.attach({
      table: table, box: el("lb-box"), chooser: el("lb-column-list"),
      storageKey: "medlb-leaderboard-columns", priority: priority, fixed: ["rank", "model"],
      onChange: function (hidden) { el("lb-cons-hidden").hidden = !hidden.cons; },
    });
    columns.fit();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
