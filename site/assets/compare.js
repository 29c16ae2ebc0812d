/* The compare page: two models' per-item correctness bits, fetched from data/items/<key>.json,
 * and an exact McNemar test per task on the items both answered (same data, same count). */
(function () {
  "use strict";

  function decodeBits(base64, n) {
    var bytes = atob(base64), bits = new Uint8Array(n);
    for (var i = 0; i < n; i++) bits[i] = (bytes.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
    return bits;
  }

  /* Two-sided exact McNemar p: 2 * P(X <= min(b, c)), X ~ Binomial(b + c, 1/2), capped at 1.
   * Summed in log space so that thousands of discordant items do not underflow. */
  function mcnemarP(b, c) {
    var n = b + c;
    if (n === 0) return 1;
    var k = Math.min(b, c), logHalf = n * Math.log(0.5), logC = 0, terms = [];
    for (var i = 0; i <= k; i++) {
      if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
      terms.push(logC + logHalf);
    }
    var top = Math.max.apply(null, terms), sum = 0;
    terms.forEach(function (t) { sum += Math.exp(t - top); });
    return Math.min(1, 2 * Math.exp(top + Math.log(sum)));
  }

  function formatP(p) {
    if (p < 0.0001) return "< 0.0001";
    return p >= 0.1 ? p.toFixed(2) : p.toPrecision(2);
  }

  function init() {
    var root = document.getElementById("compare");
    if (!root || root.dataset.ready) return;
    root.dataset.ready = "1";
    var base = root.dataset.root || "";
    var data = JSON.parse(document.getElementById("cmp-data").textContent);
    var byId = {}, byKey = {}, cache = {};
    var list = document.getElementById("cmp-models");
    data.models.forEach(function (m) {
      byId[m[1]] = m[0];
      byKey[m[0]] = m[1];
      var option = document.createElement("option");
      option.value = m[1];
      list.appendChild(option);
    });
    var inputA = document.getElementById("cmp-a"), inputB = document.getElementById("cmp-b");
    var status = document.getElementById("cmp-status");
    var params = new URLSearchParams(window.location.search);
    if (byKey[params.get("a")]) inputA.value = byKey[params.get("a")];
    if (byKey[params.get("b")]) inputB.value = byKey[params.get("b")];

    function load(key) {
      if (!cache[key]) {
        cache[key] = fetch(base + "data/items/" + key + ".json").then(function (response) {
          if (!response.ok) throw new Error("cannot load " + key + " (" + response.status + ")");
          return response.json();
        });
      }
      return cache[key];
    }

    function cell(text, cls) {
      var td = document.createElement("td");
      if (cls) td.className = cls;
      td.textContent = text;
      return td;
    }

    function addRow(body, label, shared, a, b, onlyA, onlyB) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = label;
      tr.appendChild(th);
      if (shared === null) {
        var td = cell("not comparable: different questions or item counts");
        td.colSpan = 7;
        tr.appendChild(td);
        body.appendChild(tr);
        return;
      }
      var p = mcnemarP(onlyA, onlyB);
      var accA = (100 * a) / shared, accB = (100 * b) / shared;
      tr.appendChild(cell(String(shared), "num"));
      tr.appendChild(cell(accA.toFixed(1), "num"));
      tr.appendChild(cell(accB.toFixed(1), "num"));
      tr.appendChild(cell((accA - accB >= 0 ? "+" : "") + (accA - accB).toFixed(1), "num"));
      tr.appendChild(cell(String(onlyA), "num"));
      tr.appendChild(cell(String(onlyB), "num"));
      var pCell = cell(formatP(p), "num p" + (p < 0.05 ? " significant" : ""));
      pCell.dataset.p = String(p);
      tr.appendChild(pCell);
      tr.dataset.task = label;
      body.appendChild(tr);
    }

    function update() {
      var keyA = byId[inputA.value], keyB = byId[inputB.value];
      var table = document.getElementById("cmp-table");
      if (!keyA || !keyB) {
        table.hidden = true;
        status.textContent = "Choose two models from the list.";
        return;
      }
      var url = new URL(window.location.href);
      url.searchParams.set("a", keyA);
      url.searchParams.set("b", keyB);
      window.history.replaceState(null, "", url);
      status.textContent = "Loading…";
      Promise.all([load(keyA), load(keyB)]).then(function (pair) {
        var body = document.getElementById("cmp-body");
        body.textContent = "";
        document.getElementById("cmp-head-a").textContent = "A: " + pair[0].model;
        document.getElementById("cmp-head-b").textContent = "B: " + pair[1].model;
        var total = { shared: 0, a: 0, b: 0, onlyA: 0, onlyB: 0 };
        data.tasks.forEach(function (task) {
          var ta = pair[0].tasks[task[0]], tb = pair[1].tasks[task[0]];
          if (!ta || !tb) return;
          if (ta.n !== tb.n || ta.data !== tb.data) {
            addRow(body, task[1], null);
            return;
          }
          var bitsA = decodeBits(ta.bits, ta.n), bitsB = decodeBits(tb.bits, tb.n);
          var a = 0, b = 0, onlyA = 0, onlyB = 0;
          for (var i = 0; i < ta.n; i++) {
            a += bitsA[i];
            b += bitsB[i];
            if (bitsA[i] && !bitsB[i]) onlyA++;
            if (bitsB[i] && !bitsA[i]) onlyB++;
          }
          addRow(body, task[1], ta.n, a, b, onlyA, onlyB);
          total.shared += ta.n; total.a += a; total.b += b;
          total.onlyA += onlyA; total.onlyB += onlyB;
        });
        if (total.shared) {
          addRow(body, "All tasks (pooled)", total.shared, total.a, total.b, total.onlyA, total.onlyB);
          body.lastChild.classList.add("pooled");
        }
        table.hidden = false;
        status.textContent = pair[0].model + " vs " + pair[1].model + ": " + total.shared +
          " shared items.";
      }).catch(function (error) {
        status.textContent = String(error.message || error);
      });
    }

    [inputA, inputB].forEach(function (input) {
      input.addEventListener("change", update);
      input.addEventListener("input", function () { if (byId[input.value]) update(); });
    });
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
