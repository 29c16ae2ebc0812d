/* The compare page: two models' per-item correctness bits, from their published results files
 * (data/results/<key>.json, served as published),
 * an exact McNemar test per task on the items both answered (same data, same count), and the
 * ids of the questions where exactly one of them is right, each linked to its question view where
 * the site has the per-item details (question_links.js). Models are picked by name or part of
 * one; the page opens on the two best by average (the list is in leaderboard order). */
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

  function cell(text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  function init() {
    var root = document.getElementById("compare");
    if (!root || root.dataset.ready) return;
    root.dataset.ready = "1";
    var base = root.dataset.root || "";
    var data = JSON.parse(document.getElementById("cmp-data").textContent);
    var models = data.models;  // [key, id, tasks with a question view as digits], leaderboard order
    var byKey = {}, cache = {}, views = {};
    var list = document.getElementById("cmp-models");
    models.forEach(function (m) {
      byKey[m[0]] = m[1];
      views[m[0]] = (m[2] || "").split("").map(function (d) { return data.tasks[+d][0]; });
      var option = document.createElement("option");
      option.value = m[1];
      list.appendChild(option);
    });
    var inputs = { a: document.getElementById("cmp-a"), b: document.getElementById("cmp-b") };
    var status = document.getElementById("cmp-status");
    var table = document.getElementById("cmp-table");
    var idsBox = document.getElementById("cmp-ids");

    /* A typed name -> {key} or {error}. Exact id or key first; then the models whose id
     * contains the text (those starting with it first): one match is taken, several are taken
     * only when `pickFirst` (Enter), so typing never jumps to a model unasked. */
    function resolve(text, pickFirst) {
      var query = text.trim().toLowerCase();
      if (!query) return { error: "empty" };
      for (var i = 0; i < models.length; i++) {
        if (models[i][1].toLowerCase() === query || models[i][0].toLowerCase() === query) {
          return { key: models[i][0] };
        }
      }
      var starts = [], contains = [];
      models.forEach(function (m) {
        var id = m[1].toLowerCase(), name = id.slice(id.indexOf("/") + 1);
        if (id.indexOf(query) === 0 || name.indexOf(query) === 0) starts.push(m);
        else if (id.indexOf(query) >= 0) contains.push(m);
      });
      var matches = starts.concat(contains);
      if (!matches.length) return { error: "No evaluated model matches “" + text.trim() + "”." };
      if (matches.length === 1 || pickFirst) return { key: matches[0][0] };
      return { error: matches.length + " models match “" + text.trim() + "”: press Enter for " +
        matches[0][1] + ", or pick one from the list." };
    }

    function load(key) {
      if (!cache[key]) {
        cache[key] = fetch(base + "data/results/" + key + ".json").then(function (response) {
          if (!response.ok) throw new Error("cannot load " + key + " (" + response.status + ")");
          return response.json();
        }).then(function (result) {
          var tasks = {};
          Object.keys(result.tasks).forEach(function (name) {
            var t = result.tasks[name];
            tasks[name] = { n: t.n, data: t.data_sha256, bits: t.correct };
          });
          return { model: result.model.id, tasks: tasks };
        });
      }
      return cache[key];
    }

    function show(message, isError) {
      status.textContent = message;
      status.classList.toggle("error", !!isError);
      if (isError) { table.hidden = true; idsBox.hidden = true; }
    }

    /* A model id as two unbreakable halves, "org/" and "name": it may wrap after the slash,
     * never at one of its hyphens (the tables' modelName, table_columns.js). */
    function nameNode(id) {
      var node = document.createElement("span");
      node.innerHTML = window.MedlbColumns.modelName(id);
      return node;
    }

    function showPair(a, b, shared) {
      show("", false);
      status.appendChild(document.createTextNode("A: "));
      status.appendChild(nameNode(a));
      status.appendChild(document.createTextNode(" · B: "));
      status.appendChild(nameNode(b));
      status.appendChild(document.createTextNode(" · " + shared + " shared questions."));
    }

    function addRow(body, task, shared, a, b, onlyA, onlyB) {
      var label = task[1];
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.title = label;
      th.innerHTML = '<span class="wide-only"></span><span class="narrow-only"></span>';
      th.firstChild.textContent = label;
      th.lastChild.textContent = task[2];
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
      tr.appendChild(cell(String(shared), "num wide-only"));
      tr.appendChild(cell(accA.toFixed(1), "num"));
      tr.appendChild(cell(accB.toFixed(1), "num"));
      tr.appendChild(cell((accA - accB >= 0 ? "+" : "") + (accA - accB).toFixed(1), "num wide-only"));
      tr.appendChild(cell(String(onlyA), "num"));
      tr.appendChild(cell(String(onlyB), "num"));
      var pCell = cell(formatP(p), "num p" + (p < 0.05 ? " significant" : ""));
      pCell.dataset.p = String(p);
      tr.appendChild(pCell);
      tr.dataset.task = label;
      body.appendChild(tr);
    }

    /* The question view to open for `task`: A's, with B's answer beside it (B's if only B's
     * per-item details are on the site); null when neither has them. */
    function viewFor(task, keyA, keyB) {
      if (views[keyA].indexOf(task) >= 0) return [keyA, keyB];
      if (views[keyB].indexOf(task) >= 0) return [keyB, keyA];
      return null;
    }

    /* "A only: 3 17 25" with each id linked to its question view where the site has one. */
    function idList(task, ids, pair) {
      var p = document.createElement("p");
      ids.forEach(function (id, i) {
        if (i) p.appendChild(document.createTextNode(" "));
        var href = pair && window.MedlbQuestions ?
          window.MedlbQuestions.link(base, task, id, pair[0], pair[1]) : null;
        var node = href ? document.createElement("a") : document.createElement("span");
        if (href) node.href = href;
        node.textContent = String(id);
        p.appendChild(node);
      });
      return p;
    }

    function addIds(box, task, title, onlyA, onlyB, pair) {
      var details = document.createElement("details");
      details.dataset.task = task;
      var summary = document.createElement("summary");
      summary.textContent = title + ": A only " + onlyA.length + ", B only " + onlyB.length;
      details.appendChild(summary);
      [["A only", onlyA, "a"], ["B only", onlyB, "b"]].forEach(function (part) {
        var label = document.createElement("p");
        label.innerHTML = "<b>" + part[0] + "</b> (" + part[1].length + ")";
        details.appendChild(label);
        var ids = idList(task, part[1], pair);
        ids.dataset.side = part[2];
        details.appendChild(ids);
      });
      box.appendChild(details);
    }

    function compareKeys(keyA, keyB) {
      var url = new URL(window.location.href);
      url.searchParams.set("a", keyA);
      url.searchParams.set("b", keyB);
      window.history.replaceState(null, "", url);
      inputs.a.value = byKey[keyA];
      inputs.b.value = byKey[keyB];
      if (keyA === keyB) {
        show("A and B are the same model (" + byKey[keyA] + "): choose another model for B.", true);
        return;
      }
      show("Loading…", false);
      Promise.all([load(keyA), load(keyB)]).then(function (pair) {
        var body = document.getElementById("cmp-body");
        var idsBody = document.getElementById("cmp-ids-body");
        body.textContent = "";
        idsBody.textContent = "";
        document.getElementById("cmp-head-a").title = pair[0].model;
        document.getElementById("cmp-head-b").title = pair[1].model;
        var total = { shared: 0, a: 0, b: 0, onlyA: 0, onlyB: 0 };
        data.tasks.forEach(function (task) {
          var ta = pair[0].tasks[task[0]], tb = pair[1].tasks[task[0]];
          if (!ta || !tb) return;
          if (ta.n !== tb.n || ta.data !== tb.data) {
            addRow(body, task, null);
            return;
          }
          var bitsA = decodeBits(ta.bits, ta.n), bitsB = decodeBits(tb.bits, tb.n);
          var a = 0, b = 0, onlyA = [], onlyB = [];
          for (var i = 0; i < ta.n; i++) {
            a += bitsA[i];
            b += bitsB[i];
            if (bitsA[i] && !bitsB[i]) onlyA.push(i);
            if (bitsB[i] && !bitsA[i]) onlyB.push(i);
          }
          addRow(body, task, ta.n, a, b, onlyA.length, onlyB.length);
          addIds(idsBody, task[0], task[1], onlyA, onlyB, viewFor(task[0], keyA, keyB));
          total.shared += ta.n; total.a += a; total.b += b;
          total.onlyA += onlyA.length; total.onlyB += onlyB.length;
        });
        if (total.shared) {
          addRow(body, ["all", "All tasks (pooled)", "All (pooled)"], total.shared, total.a,
            total.b, total.onlyA, total.onlyB);
          body.lastChild.classList.add("pooled");
        }
        table.hidden = false;
        idsBox.hidden = !total.shared;
        showPair(pair[0].model, pair[1].model, total.shared);
      }).catch(function (error) {
        show(String(error.message || error), true);
      });
    }

    /* Both inputs resolved, or the first problem shown. */
    function update(pickFirst) {
      var keys = {};
      var sides = ["a", "b"];
      for (var i = 0; i < sides.length; i++) {
        var found = resolve(inputs[sides[i]].value, pickFirst);
        if (found.error) {
          show(found.error === "empty" ? "Choose two models." :
            "Model " + sides[i].toUpperCase() + ": " + found.error, found.error !== "empty");
          return;
        }
        keys[sides[i]] = found.key;
      }
      compareKeys(keys.a, keys.b);
    }

    document.getElementById("cmp-form").addEventListener("submit", function (event) {
      event.preventDefault();
      update(true);
    });
    ["a", "b"].forEach(function (side) {
      inputs[side].addEventListener("change", function () { update(false); });
    });

    /* From the URL: a key the site does not have is shown as an error, never dropped. */
    var params = new URLSearchParams(window.location.search);
    var given = { a: params.get("a"), b: params.get("b") };
    var unknown = ["a", "b"].filter(function (side) { return given[side] && !byKey[given[side]]; });
    if (unknown.length) {
      unknown.forEach(function (side) { inputs[side].value = given[side]; });
      ["a", "b"].forEach(function (side) {
        if (given[side] && byKey[given[side]]) inputs[side].value = byKey[given[side]];
      });
      show(unknown.map(function (side) {
        return "?" + side + "=" + given[side] + " is not an evaluated model on this site";
      }).join("; ") + ". Choose one from the list.", true);
      return;
    }
    if (models.length < 2) {
      show(models.length ? "Only one model is evaluated so far: nothing to compare it with." :
        "No model is evaluated yet.", false);
      return;
    }
    var keyA = given.a || (given.b === models[0][0] ? models[1][0] : models[0][0]);
    var keyB = given.b || (keyA === models[0][0] ? models[1][0] : models[0][0]);
    compareKeys(keyA, keyB);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
