/* The specialties heatmap: models × specialties from <script id="sp-data"> (a
 * payloads.SpecialtiesPayload: columns, models and the loglik track; the cot track is fetched
 * when the reader switches to it). Every number (accuracy, Wilson interval, rank range) comes
 * computed from runner/sitegen/specialties.py; this script sorts, pages and displays. Only one
 * page of rows is in the document at a time. */
(function () {
  "use strict";

  var PAGE_ROWS = 50;
  var CHANCE = 25;
  // The payload fields this script reads (tests/sitegen/test_payloads.py checks them).
  var READS = {
    SpecialtiesPayload: ["columns", "models", "tracks", "track_files"],
    SpecialtyColumn: ["key", "name", "group", "task_title", "questions"],
    SpecialtyModel: ["key", "model"],
    SpecialtiesTrack: ["track", "rows", "ranked"],
    SpecialtyRow: ["model_index", "rank", "average", "cells"],
  };

  var cols = window.MedlbColumns;
  var esc = cols.esc, modelName = cols.modelName, rangeText = cols.rangeText;

  /* Ten shades from chance (h0) to 100% (h9). */
  function shade(acc) {
    return "h" + Math.max(0, Math.min(9, Math.floor((acc - CHANCE) / ((100 - CHANCE) / 10))));
  }

  /* A cell: [accuracy, low, high, best, worst, questions] (payloads.SpecialtyCell). */
  function heatCell(cell, column, ranked, sorted) {
    var cls = "heat sp" + (sorted ? " sorted" : "");
    if (!cell) return '<td class="' + cls + ' empty">—</td>';
    var rank = cell[3] === cell[4] ? String(cell[3]) : cell[3] + "–" + cell[4];
    var title = column.name + " (" + column.group + "): " + cell[0].toFixed(1) +
      "%, 95% interval " + cell[1].toFixed(1) + "–" + cell[2].toFixed(1) + "; rank " + rank +
      " of " + ranked + "; " + cell[5] + " questions";
    return '<td class="' + cls + " " + shade(cell[0]) + '" title="' + esc(title) + '">' +
      (sorted ? cell[0].toFixed(1) : cell[0].toFixed(0)) + '<span class="ci">' +
      cell[1].toFixed(0) + "–" + cell[2].toFixed(0) + "</span></td>";
  }

  function rankCell(row, basis) {
    var range = basis < 0 ? row.rank : row.cells[basis] && row.cells[basis].slice(3, 5);
    if (!range) return '<td class="num rank sticky-1">—</td>';
    return '<td class="num rank sticky-1">' + rangeText(range) + "</td>";
  }

  function rowHtml(row, model, track, columns, base, basis) {
    var cells = [rankCell(row, basis),
      '<th scope="row" class="model sticky-2"><div class="cell-model"><a href="' + base +
        "models/" + esc(model.key) + '/" title="' + esc(model.model) + '">' +
        modelName(model.model) + "</a></div></th>",
      '<td class="num avg' + (basis < 0 ? " sorted" : "") + '">' +
        (row.average == null ? "—" : row.average.toFixed(1)) + "</td>"];
    for (var i = 0; i < columns.length; i++) {
      cells.push(heatCell(row.cells[i], columns[i], track.ranked[i], i === basis));
    }
    return "<tr>" + cells.join("") + "</tr>";
  }

  /* Rows by the average (basis −1) or a specialty: best rank first, then accuracy. */
  function order(basis) {
    return function (a, b) {
      if (basis < 0) {
        var ra = a.rank ? a.rank[0] : Infinity, rb = b.rank ? b.rank[0] : Infinity;
        return (b.average || 0) - (a.average || 0) || ra - rb;
      }
      var ca = a.cells[basis], cb = b.cells[basis];
      if (!ca || !cb) return (!ca) - (!cb);
      return cb[0] - ca[0] || ca[3] - cb[3];
    };
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
    data.columns.forEach(function (c, i) { colIndex[c.key] = i; });
    var byTrack = {};
    data.tracks.forEach(function (t) { byTrack[t.track] = t; });
    var names = data.models.map(function (m) { return m.model.toLowerCase(); });
    var state = { basis: -1, track: "loglik", page: 0 };
    var columns = null;

    function render() {
      var track = byTrack[state.track];
      var query = el("sp-search").value.trim().toLowerCase();
      var rows = track.rows.filter(function (r) {
        return !query || names[r.model_index].indexOf(query) >= 0;
      });
      rows.sort(function (a, b) {
        return order(state.basis)(a, b) || (names[a.model_index] < names[b.model_index] ? -1 : 1);
      });
      var pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
      state.page = Math.min(state.page, pages - 1);
      el("sp-body").innerHTML = rows.slice(state.page * PAGE_ROWS, (state.page + 1) * PAGE_ROWS)
        .map(function (row) {
          return rowHtml(row, data.models[row.model_index], track, data.columns, base,
            state.basis);
        }).join("");
      el("sp-pager").hidden = pages < 2;
      el("sp-prev").disabled = state.page === 0;
      el("sp-next").disabled = state.page >= pages - 1;
      el("sp-page").textContent = "Page " + (state.page + 1) + " of " + pages + " · " +
        rows.length + " models";
      renderHeads();
      if (columns) columns.stick();
    }

    function renderHeads() {
      var key = state.basis < 0 ? "avg" : data.columns[state.basis].key;
      el("sp-basis").textContent = state.basis < 0 ? "average" : data.columns[state.basis].name;
      select.value = key;
      table.querySelectorAll("thead th[data-count-of]").forEach(function (th) {
        th.classList.toggle("sorted", th.dataset.countOf === key);
      });
      heads.forEach(function (th) {
        var sorted = th.dataset.col === key;
        th.classList.toggle("sorted", sorted);
        if (sorted) th.setAttribute("aria-sort", "descending"); else th.removeAttribute("aria-sort");
      });
      Array.prototype.forEach.call(document.querySelectorAll(".sp-track-button"), function (b) {
        b.setAttribute("aria-pressed", String(b.dataset.track === state.track));
      });
    }

    function remember() {
      var url = new URL(window.location.href);
      if (state.basis < 0) url.searchParams.delete("sort");
      else url.searchParams.set("sort", data.columns[state.basis].key);
      if (state.track === "cot") url.searchParams.set("track", "cot");
      else url.searchParams.delete("track");
      window.history.replaceState(null, "", url);
    }

    function sortBy(key, keep) {
      state.basis = key in colIndex ? colIndex[key] : -1;
      state.page = 0;
      if (keep) remember();
      render();
    }

    /* A track not embedded in the page is fetched once, the first time it is shown. */
    function switchTrack(track) {
      if (!byTrack[track]) {
        cols.loadTrack(base + data.track_files[track], byTrack, track, el("sp-page"),
          switchTrack);
        return;
      }
      state.track = track;
      state.page = 0;
      remember();
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
    el("sp-search").addEventListener("input", function () { state.page = 0; render(); });
    el("sp-prev").addEventListener("click", function () { state.page--; render(); });
    el("sp-next").addEventListener("click", function () { state.page++; render(); });
    el("sp-all").addEventListener("change", function () {
      table.classList.toggle("show-all", el("sp-all").checked);
      if (columns) columns.stick();
    });
    el("sp-intervals").addEventListener("change", function () {
      table.classList.toggle("show-ci", el("sp-intervals").checked);
    });
    Array.prototype.forEach.call(document.querySelectorAll(".sp-track-button"), function (b) {
      b.addEventListener("click", function () { switchTrack(b.dataset.track); });
    });
    columns = cols.attach({
      table: table, box: el("sp-box"), chooser: null, storageKey: "medlb-specialty-columns",
      priority: [], fixed: [],
    });
    var asked = new URLSearchParams(window.location.search);
    sortBy(asked.get("sort") || "avg", false);
    if (asked.get("track") === "cot" && data.track_files.cot) switchTrack("cot");
  }

  window.MedlbSpecialties = { READS: READS };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
