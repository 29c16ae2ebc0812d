/* The specialties heatmap: models × specialties from <script id="sp-data">
 * (runner/sitegen/specialties.py, specialty_payload), sortable by any specialty; the Rank
 * column follows the sort. A cell is [correct, rank, overlaps] (+ n when it differs from the
 * column's), so accuracy and its Wilson interval are computed here exactly as
 * runner/stats.py's wilson_interval computes them. */
(function () {
  "use strict";

  var Z95 = 1.959963984540054;
  var CHANCE = 0.25;

  // The cell markup the leaderboard and the specialties table share (table_columns.js).
  var esc = window.MedlbColumns.esc, modelName = window.MedlbColumns.modelName,
    rangeText = window.MedlbColumns.rangeText;

  function wilson(acc, n) {
    var z2 = Z95 * Z95;
    var centre = (acc + z2 / (2 * n)) / (1 + z2 / n);
    var half = Z95 * Math.sqrt(acc * (1 - acc) / n + z2 / (4 * n * n)) / (1 + z2 / n);
    return [Math.max(0, centre - half), Math.min(1, centre + half)];
  }

  /* Ten shades from chance (h0) to 100% (h9). */
  function shade(acc) {
    return "h" + Math.max(0, Math.min(9, Math.floor((acc - CHANCE) / ((1 - CHANCE) / 10))));
  }

  function init() {
    var root = document.getElementById("specialties");
    if (!root || root.dataset.ready) return;
    root.dataset.ready = "1";
    var data = JSON.parse(document.getElementById("sp-data").textContent);
    var base = root.dataset.root || "";
    var el = function (id) { return document.getElementById(id); };
    var table = el("sp-table"), select = el("sp-sort");
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th[data-col]"));
    var colIndex = {};
    data.cols.forEach(function (c, i) { colIndex[c[0]] = i; });
    var counts = data.cols.map(function (c, i) {
      return data.rows.filter(function (r) { return r.c[i]; }).length;
    });
    var state = { basis: -1 };  // -1: the average; else a specialty's index

    /* The score of row r in specialty i: accuracy, interval, rank, overlaps, n. */
    function score(row, i) {
      var cell = row.c[i];
      if (!cell) return null;
      var n = cell.length > 3 ? cell[3] : data.cols[i][4];
      var acc = cell[0] / n, ci = wilson(acc, n);
      return { acc: acc, low: ci[0], high: ci[1], rank: cell[1], tied: cell[2], n: n };
    }

    function pct(x, digits) { return (100 * x).toFixed(digits); }

    function heatCell(row, i, sorted) {
      var s = score(row, i);
      var cls = "heat sp" + (sorted ? " sorted" : "");
      if (!s) return '<td class="' + cls + ' empty">—</td>';
      var col = data.cols[i];
      var title = col[1] + " (" + col[2] + "): " + pct(s.acc, 1) + "%, 95% interval " +
        pct(s.low, 1) + "–" + pct(s.high, 1) + "; rank " + s.rank + (s.tied ? "–" + (s.rank + s.tied) : "") +
        " of " + counts[i] + "; " + s.n + " questions";
      var text = sorted ? pct(s.acc, 1) + '<span class="ci">' + pct(s.low, 0) + "–" +
        pct(s.high, 0) + "</span>" : pct(s.acc, 0);
      return '<td class="' + cls + " " + shade(s.acc) + '" title="' + esc(title) + '">' + text + "</td>";
    }

    function rankCell(row) {
      var rank = null, tied = 0;
      if (state.basis < 0) {
        rank = row.r; tied = row.x;
      } else {
        var s = score(row, state.basis);
        if (s) { rank = s.rank; tied = s.tied; }
      }
      if (rank == null) return '<td class="num rank sticky-1">—</td>';
      return '<td class="num rank sticky-1">' +
        rangeText([rank, rank + tied]) + "</td>";
    }

    function rowHtml(row) {
      var cells = [rankCell(row),
        '<th scope="row" class="model sticky-2"><div class="cell-model"><a href="' + base +
          "models/" + esc(row.k) + '/" title="' + esc(row.m) + '">' + modelName(row.m) +
          "</a></div></th>",
        '<td class="num avg' + (state.basis < 0 ? " sorted" : "") + '">' +
          (row.a == null ? "—" : row.a.toFixed(1)) + "</td>"];
      for (var i = 0; i < data.cols.length; i++) cells.push(heatCell(row, i, i === state.basis));
      return "<tr>" + cells.join("") + "</tr>";
    }

    function order(a, b) {
      if (state.basis < 0) {
        var ra = a.r == null ? Infinity : a.r, rb = b.r == null ? Infinity : b.r;
        return (b.a || 0) - (a.a || 0) || ra - rb;
      }
      var sa = score(a, state.basis), sb = score(b, state.basis);
      if (!sa || !sb) return (!sa) - (!sb);
      return sb.acc - sa.acc || sa.rank - sb.rank;
    }

    function render() {
      var query = el("sp-search").value.trim().toLowerCase();
      var rows = data.rows.filter(function (r) { return !query || r.m.toLowerCase().indexOf(query) >= 0; });
      rows.sort(function (a, b) { return order(a, b) || (a.m < b.m ? -1 : 1); });
      // A row's markup depends only on the sort: build it once per specialty sorted by.
      window.MedlbColumns.fillRows(el("sp-body"), rows.map(function (row) {
        row.html = row.html || {};
        if (row.html[state.basis] === undefined) row.html[state.basis] = rowHtml(row);
        return row.html[state.basis];
      }));
      var key = state.basis < 0 ? "avg" : data.cols[state.basis][0];
      el("sp-basis").textContent = state.basis < 0 ? "average" : data.cols[state.basis][1];
      select.value = key;
      table.querySelectorAll("thead th[data-count-of]").forEach(function (th) {
        th.classList.toggle("sorted", th.dataset.countOf === key);
      });
      heads.forEach(function (th) {
        var sorted = th.dataset.col === key;
        th.classList.toggle("sorted", sorted);
        if (sorted) th.setAttribute("aria-sort", "descending"); else th.removeAttribute("aria-sort");
      });
      if (columns) columns.stick();
    }

    function sortBy(key, remember) {
      state.basis = key in colIndex ? colIndex[key] : -1;
      if (remember) {
        var url = new URL(window.location.href);
        if (state.basis < 0) url.searchParams.delete("sort"); else url.searchParams.set("sort", key);
        window.history.replaceState(null, "", url);
      }
      render();
    }

    heads.forEach(function (th) {
      var col = th.dataset.col;
      if (col !== "avg" && !(col in colIndex)) return;
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(col, true); });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(col, true); }
      });
    });
    select.addEventListener("change", function () { sortBy(select.value, true); });
    el("sp-search").addEventListener("input", render);
    el("sp-all").addEventListener("change", function () {
      table.classList.toggle("show-all", el("sp-all").checked);
      if (columns) columns.stick();
    });
    var columns = window.MedlbColumns.attach({
      table: table, box: el("sp-box"), chooser: null, storageKey: "medlb-specialty-columns",
      priority: [], fixed: [],
    });
    sortBy(new URLSearchParams(window.location.search).get("sort") || "avg", false);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
