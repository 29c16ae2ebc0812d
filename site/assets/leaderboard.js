/* The leaderboard table: sort, filter, search and toggles over rows embedded in the page.
 * The rows are JSON in <script id="lb-data"> (see runner/sitegen/data_files.py, table_payload);
 * the whole table is rebuilt as one string on each change, which takes a few milliseconds for
 * 1,000 rows. No library, nothing fetched. */
(function () {
  "use strict";

  var NUMERIC_DESC = { avg: true, params: true };  // numeric columns that start high-to-low

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

  function value(row, col) {
    if (col === "rank") return row.r;
    if (col === "model") return row.m.toLowerCase();
    if (col === "type") return row.t;
    if (col === "params") return row.p;
    if (col === "precision") return row.q;
    if (col === "license") return row.l;
    if (col === "avg") return row.a ? row.a[0] : null;
    var s = row.s[Number(col.slice(1))];
    return s ? s[0] : null;
  }

  function scoreCell(triple, reported) {
    if (!triple || triple[0] == null) return '<td class="num empty">—</td>';
    if (reported || triple[1] == null) {
      return '<td class="num reported" title="reported in the paper, not evaluated here">' +
        triple[0].toFixed(1) + "</td>";
    }
    var interval = triple[1].toFixed(1) + "–" + triple[2].toFixed(1);
    return '<td class="num" title="95% interval ' + interval + '">' + triple[0].toFixed(1) +
      '<span class="ci">' + interval + "</span></td>";
  }

  function rowHtml(row, base) {
    var reported = !!row.ref;
    var rank = reported ? "—" : row.r == null ? "—" : String(row.r);
    if (!reported && row.r != null && row.x > 0) {
      rank += ' <span class="tie" title="95% interval of the average overlaps ' + row.x +
        ' other model(s): they share ranks">≈</span>';
    }
    var model;
    if (reported) {
      model = esc(row.m) + ' <a class="badge" href="' + esc(row.ref) + '" title="' +
        esc(row.note) + '">reported</a>';
    } else {
      model = '<a href="' + base + "models/" + esc(row.k) + '/">' + esc(row.m) + "</a>";
      if (row.u) {
        model += ' <a class="hub" href="' + esc(row.u) + '" title="Hugging Face Hub page at the evaluated revision">Hub</a>';
      }
    }
    var cells = [
      '<td class="num rank">' + rank + "</td>",
      '<th scope="row" class="model">' + model + "</th>",
      "<td>" + esc(row.t) + "</td>",
      '<td class="num">' + sizeLabel(row.p) + "</td>",
      "<td>" + esc(row.q || "—") + "</td>",
      "<td>" + esc(row.l || "—") + "</td>",
      scoreCell(row.a, reported).replace('class="num', 'class="num avg'),
    ];
    for (var i = 0; i < row.s.length; i++) cells.push(scoreCell(row.s[i], reported));
    return '<tr class="' + (reported ? "ref" : "") + '">' + cells.join("") + "</tr>";
  }

  function init() {
    var root = document.getElementById("leaderboard");
    if (!root || root.dataset.ready) return;
    root.dataset.ready = "1";
    var data = JSON.parse(document.getElementById("lb-data").textContent);
    var base = root.dataset.root || "";
    var rows = data.rows;
    var el = function (id) { return document.getElementById(id); };
    var state = { col: "avg", dir: -1 };

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
      var va = value(a, state.col), vb = value(b, state.col);
      if (va == null && vb == null) return 0;
      if (va == null) return 1;  // missing values sink, whichever the direction
      if (vb == null) return -1;
      if (va < vb) return -state.dir;
      if (va > vb) return state.dir;
      return 0;
    }

    function render() {
      var shown = rows.filter(visible);
      shown.sort(function (a, b) {
        return compare(a, b) || (a.r == null) - (b.r == null) || (a.r || 0) - (b.r || 0);
      });
      // Row markup never changes, only which rows show and in what order: build it once.
      el("lb-body").innerHTML = shown.map(function (r) {
        if (r.html === undefined) r.html = rowHtml(r, base);
        return r.html;
      }).join("");
      var models = shown.filter(function (r) { return !r.ref; }).length;
      var total = rows.filter(function (r) { return !r.ref; }).length;
      el("lb-count").textContent = "Showing " + models + " of " + total + " models" +
        (shown.length > models ? " and " + (shown.length - models) + " reported rows" : "");
      document.querySelectorAll("#lb-table thead th").forEach(function (th) {
        if (th.dataset.col === state.col) {
          th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        } else {
          th.removeAttribute("aria-sort");
        }
      });
    }

    document.querySelectorAll("#lb-table thead th").forEach(function (th) {
      th.tabIndex = 0;
      var sortBy = function () {
        var col = th.dataset.col;
        if (state.col === col) {
          state.dir = -state.dir;
        } else {
          state.col = col;
          var numeric = th.dataset.type === "num" && col !== "rank";
          state.dir = numeric || NUMERIC_DESC[col] ? -1 : 1;
        }
        render();
      };
      th.addEventListener("click", sortBy);
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(); }
      });
    });
    ["lb-search", "lb-size-min", "lb-size-max"].forEach(function (id) {
      el(id).addEventListener("input", render);
    });
    ["lb-type", "lb-precision", "lb-references"].forEach(function (id) {
      el(id).addEventListener("change", render);
    });
    el("lb-intervals").addEventListener("change", function () {
      el("lb-table").classList.toggle("show-ci", el("lb-intervals").checked);
    });
    render();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
