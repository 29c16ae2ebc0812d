/* The leaderboard table: sort, filter, search, columns and row details over rows embedded in
 * the page. The rows are JSON in <script id="lb-data"> (runner/sitegen/data_files.py,
 * table_payload); the body is rebuilt as one string on each change, a few milliseconds for
 * 1,000 rows. Sorting by a task shows each model's rank on that task. No library, nothing
 * fetched. */
(function () {
  "use strict";

  var TEXT_COLUMNS = { model: 1, type: 1, precision: 1, license: 1 };
  // Hidden first to last when the table is wider than the screen (table_columns.js).
  var PRIORITY = ["license", "precision", "params", "type",
    "t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1", "t0"];

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

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

  /* "org/name" with a line-break opportunity after the slash only, never inside a word. */
  function modelName(id) {
    var cut = id.indexOf("/");
    if (cut < 0) return '<span class="nb">' + esc(id) + "</span>";
    return '<span class="nb">' + esc(id.slice(0, cut + 1)) + '</span><span class="nb">' +
      esc(id.slice(cut + 1)) + "</span>";
  }

  function taskIndex(col) { return col.charAt(0) === "t" && col !== "type" ? Number(col.slice(1)) : -1; }

  /* The rank shown for a row: by the task the table is sorted by, else by the average. */
  function place(row, basis) {
    if (row.ref) return null;
    if (basis < 0) return row.r == null ? null : [row.r, row.x];
    return row.tr && row.tr[basis] ? row.tr[basis] : null;
  }

  function value(row, col, basis) {
    if (col === "rank") { var p = place(row, basis); return p ? p[0] : null; }
    if (col === "model") return row.m.toLowerCase();
    if (col === "type") return row.t;
    if (col === "params") return row.p;
    if (col === "precision") return row.q;
    if (col === "license") return row.l;
    if (col === "avg") return row.a ? row.a[0] : null;
    var s = row.s[taskIndex(col)];
    return s ? s[0] : null;
  }

  function intervalText(triple) { return triple[1].toFixed(1) + "–" + triple[2].toFixed(1); }

  function scoreCell(triple, reported, cls) {
    cls = "num" + (cls ? " " + cls : "");
    if (!triple || triple[0] == null) return '<td class="' + cls + ' empty">—</td>';
    if (reported || triple[1] == null) {
      return '<td class="' + cls + ' reported" title="reported in the paper, not evaluated here">' +
        triple[0].toFixed(1) + "</td>";
    }
    return '<td class="' + cls + '" title="95% interval ' + intervalText(triple) + '">' +
      triple[0].toFixed(1) + '<span class="ci">' + intervalText(triple) + "</span></td>";
  }

  function rankCell(row, basis) {
    var p = place(row, basis);
    if (!p) {
      var why = row.ref ? "reported in a paper: never ranked" : row.w || "not ranked on this task";
      return '<td class="num rank sticky-1" title="' + esc(why) + '">—</td>';
    }
    var tie = p[1] > 0 ? ' <span class="tie" title="95% interval overlaps ' + p[1] +
      ' other model(s): they share ranks">≈</span>' : "";
    return '<td class="num rank sticky-1">' + p[0] + tie + "</td>";
  }

  function modelCell(row, base) {
    var toggle = '<button type="button" class="row-toggle" aria-expanded="false" ' +
      'aria-label="all scores of ' + esc(row.m) + '">▸</button>';
    var name;
    if (row.ref) {
      name = '<span class="name">' + modelName(row.m) + '</span> <a class="badge" href="' +
        esc(row.ref) + '" title="' + esc(row.note) + '">reported</a>';
    } else {
      name = '<a class="name" href="' + base + "models/" + esc(row.k) + '/" title="' + esc(row.m) +
        '">' + modelName(row.m) + "</a>";
      if (row.u) {
        name += ' <a class="hub" href="' + esc(row.u) +
          '" title="Hugging Face Hub page at the evaluated revision" aria-label="' + esc(row.m) +
          ' on the Hugging Face Hub">↗</a>';
      }
    }
    return '<th scope="row" class="model sticky-2"><div class="cell-model">' + toggle + name +
      "</div></th>";
  }

  function rowHtml(row, base, basis) {
    var cells = [rankCell(row, basis), modelCell(row, base), scoreCell(row.a, !!row.ref, "avg")];
    for (var i = 0; i < row.s.length; i++) cells.push(scoreCell(row.s[i], !!row.ref));
    cells.push("<td>" + esc(row.t) + "</td>", '<td class="num">' + sizeLabel(row.p) + "</td>",
      "<td>" + esc(row.q || "—") + "</td>", "<td>" + esc(row.l || "—") + "</td>");
    return '<tr class="' + (row.ref ? "ref" : "") + '" data-row="' + row.id + '">' +
      cells.join("") + "</tr>";
  }

  /* Everything about one row, for the ▸ button: all scores with intervals and task ranks. */
  function detailHtml(row, tasks, titles, span) {
    var items = [["Average", row.a, row.r == null ? null : [row.r, row.x]]];
    tasks.forEach(function (t, i) { items.push([titles[i], row.s[i], row.tr ? row.tr[i] : null]); });
    var parts = items.map(function (item) {
      var triple = item[1], p = item[2];
      var score = triple && triple[0] != null ? triple[0].toFixed(1) : "—";
      var extra = triple && triple[1] != null ?
        ' <span class="nb">(' + intervalText(triple) + ")</span>" : "";
      var rank = p ? "rank " + p[0] + (p[1] ? " ≈" : "") : "";
      return "<div><dt>" + esc(item[0]) + "</dt><dd><b>" + score + "</b>" + extra +
        (rank ? ' <span class="detail-rank nb">' + rank + "</span>" : "") + "</dd></div>";
    });
    var facts = "<div><dt>Type</dt><dd>" + esc(row.t) + "</dd></div><div><dt>Params</dt><dd>" +
      sizeLabel(row.p) + "</dd></div><div><dt>Precision</dt><dd>" + esc(row.q || "—") +
      "</dd></div><div><dt>License</dt><dd>" + esc(row.l || "—") + "</dd></div>" +
      (row.u ? '<div><dt>Hub</dt><dd><a href="' + esc(row.u) + '">the evaluated revision</a></dd></div>' : "");
    return '<tr class="row-detail"><td colspan="' + span + '"><dl class="detail-grid">' +
      parts.join("") + (row.ref ? "" : facts) + "</dl></td></tr>";
  }

  function init() {
    var root = document.getElementById("leaderboard");
    if (!root || root.dataset.ready) return;
    root.dataset.ready = "1";
    var data = JSON.parse(document.getElementById("lb-data").textContent);
    var base = root.dataset.root || "";
    var rows = data.rows;
    rows.forEach(function (r, i) { r.id = i; r.html = {}; });
    var el = function (id) { return document.getElementById(id); };
    var table = el("lb-table");
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var titles = data.tasks.map(function (t, i) {
      return table.querySelector('th[data-col="t' + i + '"]').getAttribute("title");
    });
    var shorts = data.tasks.map(function (t, i) {
      return table.querySelector('th[data-col="t' + i + '"]').textContent.trim();
    });
    var state = { col: "avg", dir: -1, basis: -1 };
    var open = {};

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
      var va = value(a, state.col, state.basis), vb = value(b, state.col, state.basis);
      if (va == null && vb == null) return 0;
      if (va == null) return 1;  // missing values sink, whichever the direction
      if (vb == null) return -1;
      if (va < vb) return -state.dir;
      if (va > vb) return state.dir;
      return 0;
    }

    function statusText(models, total, reported) {
      if (!total) {
        var queue = Number(root.dataset.queue || 0);
        return "No evaluated model yet" + (queue ? ": " + queue + " in the queue" : "") +
          (reported ? "; " + reported + " reported rows" : "") + ".";
      }
      if (!models && !reported) return "No model matches these filters.";
      return "Showing " + models + " of " + total + " models" +
        (reported ? " and " + reported + " reported rows" : "");
    }

    function render() {
      var shown = rows.filter(visible);
      var basis = state.basis;
      // Ties keep the order of the rank shown (the task's when sorted by a task).
      shown.sort(function (a, b) {
        var pa = place(a, basis), pb = place(b, basis);
        return compare(a, b) || (!pa) - (!pb) || (pa && pb ? pa[0] - pb[0] : 0);
      });
      // Row markup changes only with the rank basis: build each once per basis.
      window.MedlbColumns.fillRows(el("lb-body"), shown.map(function (r) {
        if (r.html[basis] === undefined) r.html[basis] = rowHtml(r, base, basis);
        return open[r.id] ? markOpen(r.html[basis]) + detailHtml(r, data.tasks, titles, heads.length)
          : r.html[basis];
      }));
      var models = shown.filter(function (r) { return !r.ref; }).length;
      var total = rows.filter(function (r) { return !r.ref; }).length;
      el("lb-count").textContent = statusText(models, total, shown.length - models);
      el("lb-rank-basis").textContent = basis < 0 ? "average" : shorts[basis];
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

    heads.forEach(function (th) {
      th.tabIndex = 0;
      var sortBy = function () {
        var col = th.dataset.col;
        if (state.col === col) {
          state.dir = -state.dir;
        } else {
          state.col = col;
          state.dir = col === "rank" || TEXT_COLUMNS[col] ? 1 : -1;
        }
        if (col !== "rank") state.basis = taskIndex(col);
        render();
      };
      th.addEventListener("click", sortBy);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(); }
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
    ["lb-type", "lb-precision", "lb-references"].forEach(function (id) {
      el(id).addEventListener("change", render);
    });
    el("lb-intervals").addEventListener("change", function () {
      table.classList.toggle("show-ci", el("lb-intervals").checked);
      if (columns) columns.fit();
    });
    var columns = null;
    render();
    columns = window.MedlbColumns.attach({
      table: table, box: el("lb-box"), chooser: el("lb-column-list"),
      storageKey: "medlb-leaderboard-columns", priority: PRIORITY, fixed: ["rank", "model"],
    });
    columns.fit();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
