/* The compare page: two to four models' per-item correctness bits, from their published results
 * files (data/results/<key>.json, served as published), on one track. Per task, on the items all
 * chosen models answered (same data, same count): each model's accuracy, and model A against each
 * other one: A − X with a paired bootstrap 95% interval and an exact McNemar test. The ids of the
 * questions where exactly one of A and B is right link to their question views (question_links.js).
 * Models are picked by name or part of one; the page opens on the two best by average. */
(function () {
  "use strict";

  var SIDES = ["a", "b", "c", "d"];
  var RESAMPLES = 1000, SEED = 1234;

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

  /* A seeded generator (mulberry32): the same page shows the same interval on every load. */
  function generator(seed) {
    var state = seed >>> 0;
    return function () {
      state = (state + 0x6D2B79F5) >>> 0;
      var t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  /* Binomial(n, p) by counting geometric waiting times: exact, and costs about n·min(p, 1 − p)
   * draws, so a thousand resamples of thousands of questions stay instant. */
  function binomial(random, n, p) {
    if (p <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - binomial(random, n, 1 - p);
    var logQ = Math.log(1 - p), count = 0, trials = 0;
    for (;;) {
      trials += Math.max(1, Math.ceil(Math.log(1 - random()) / logQ));
      if (trials > n) return count;
      count++;
    }
  }

  /* The paired bootstrap of A − B over the items of several tasks, each resampled within itself.
   * Resampling n items of a task draws its (A only, B only, rest) counts from a multinomial with
   * the observed shares, which is what drawing the items themselves does to a difference of
   * accuracies; `weights` turn each task's difference into the statistic (1/n_total pooled,
   * 1/(9·n_t) for the average of the nine). Returns the 2.5th and 97.5th percentiles, as numpy
   * interpolates them. */
  function pairedInterval(strata, weights) {
    var random = generator(SEED), values = new Float64Array(RESAMPLES);
    for (var r = 0; r < RESAMPLES; r++) {
      var total = 0;
      for (var s = 0; s < strata.length; s++) {
        var st = strata[s], onlyA = binomial(random, st.n, st.onlyA / st.n);
        var rest = st.n - onlyA, share = st.n - st.onlyA > 0 ? st.onlyB / (st.n - st.onlyA) : 0;
        var onlyB = binomial(random, rest, share);
        total += weights[s] * (onlyA - onlyB);
      }
      values[r] = total;
    }
    values.sort();
    function at(q) {
      var x = q * (RESAMPLES - 1), i = Math.floor(x), f = x - i;
      return i + 1 < RESAMPLES ? values[i] + f * (values[i + 1] - values[i]) : values[i];
    }
    return [at(0.025), at(0.975)];
  }

  function formatP(p) {
    if (p < 0.0001) return "< 0.0001";
    return p >= 0.1 ? p.toFixed(2) : p.toPrecision(2);
  }

  function signed(value) {
    return (value >= 0 ? "+" : "−") + Math.abs(value).toFixed(1);
  }

  function cell(text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  /* Per task the items every chosen model answered: counts per model, and per other model its
   * pair counts against A. Null when the models ran different questions. */
  function taskStats(tasks) {
    var first = tasks[0];
    for (var i = 1; i < tasks.length; i++) {
      if (tasks[i].n !== first.n || tasks[i].data !== first.data) return null;
    }
    var bits = tasks.map(function (t) { return decodeBits(t.bits, t.n); });
    var right = bits.map(function (b) { var s = 0; for (var i = 0; i < b.length; i++) s += b[i]; return s; });
    var pairs = bits.slice(1).map(function (other) {
      var onlyA = [], onlyB = [];
      for (var i = 0; i < first.n; i++) {
        if (bits[0][i] && !other[i]) onlyA.push(i);
        if (other[i] && !bits[0][i]) onlyB.push(i);
      }
      return { onlyA: onlyA, onlyB: onlyB };
    });
    return { n: first.n, right: right, pairs: pairs };
  }

  /* A − X as a cell: the difference, its interval beneath, McNemar's p (two models: its own
   * column). */
  function differenceCell(diff, interval, p, withP) {
    var td = cell(signed(diff), "num diff");
    var ci = document.createElement("span");
    ci.className = "ci";
    ci.textContent = signed(100 * interval[0]) + " to " + signed(100 * interval[1]);
    td.appendChild(ci);
    td.dataset.low = String(interval[0]);
    td.dataset.high = String(interval[1]);
    if (withP) {
      var pSpan = document.createElement("span");
      pSpan.className = "ci p-note";
      pSpan.textContent = "p " + formatP(p);
      td.appendChild(pSpan);
    }
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
    var inputs = {};
    SIDES.forEach(function (side) { inputs[side] = document.getElementById("cmp-" + side); });
    var trackSelect = document.getElementById("cmp-track");
    var status = document.getElementById("cmp-status");
    var table = document.getElementById("cmp-table");
    var idsBox = document.getElementById("cmp-ids");
    var note = document.getElementById("cmp-pooled-note");

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
          function tasksOf(source) {
            var tasks = {};
            Object.keys(source || {}).forEach(function (name) {
              var t = source[name];
              tasks[name] = { n: t.n, data: t.data_sha256, bits: t.correct };
            });
            return tasks;
          }
          return { model: result.model.id, loglik: tasksOf(result.tasks),
            cot: tasksOf(result.cot ? result.cot.tasks : null) };
        });
      }
      return cache[key];
    }

    function show(message, isError) {
      status.textContent = message;
      status.classList.toggle("error", !!isError);
      if (isError) { table.hidden = true; idsBox.hidden = true; note.hidden = true; }
    }

    /* A model id as two unbreakable halves, "org/" and "name": it may wrap after the slash,
     * never at one of its hyphens (the tables' modelName, table_columns.js). */
    function nameNode(id) {
      var node = document.createElement("span");
      node.innerHTML = window.MedlbColumns.modelName(id);
      return node;
    }

    function showModels(loaded, shared, track) {
      show("", false);
      loaded.forEach(function (m, i) {
        if (i) status.appendChild(document.createTextNode(" · "));
        status.appendChild(document.createTextNode(SIDES[i].toUpperCase() + ": "));
        status.appendChild(nameNode(m.model));
      });
      status.appendChild(document.createTextNode(" · " + track + " track · " + shared + " shared questions."));
    }

    function header(count) {
      var row = document.createElement("tr");
      function th(text, cls, title) {
        var h = document.createElement("th");
        h.textContent = text;
        if (cls) h.className = cls;
        if (title) h.title = title;
        row.appendChild(h);
      }
      th("Task");
      th("Shared items", "num wide-only");
      for (var i = 0; i < count; i++) th(SIDES[i].toUpperCase(), "num");
      for (var j = 1; j < count; j++) {
        th("A − " + SIDES[j].toUpperCase(), "num", "accuracy difference with its paired bootstrap 95% interval");
      }
      if (count === 2) {
        th("A only", "num", "questions A answered correctly and B did not");
        th("B only", "num", "questions B answered correctly and A did not");
        th("McNemar p", "num");
      }
      var head = table.tHead;
      head.textContent = "";
      head.appendChild(row);
    }

    function addRow(body, task, stats, intervals, count) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.title = task[1];
      th.innerHTML = '<span class="wide-only"></span><span class="narrow-only"></span>';
      th.firstChild.textContent = task[1];
      th.lastChild.textContent = task[2];
      tr.appendChild(th);
      tr.dataset.task = task[1];
      body.appendChild(tr);
      if (stats === null) {
        var td = cell("not comparable: different questions or item counts");
        td.colSpan = 1 + count + (count - 1) + (count === 2 ? 3 : 0);
        tr.appendChild(td);
        return;
      }
      tr.appendChild(cell(String(stats.n), "num wide-only"));
      var acc = stats.right.map(function (r) { return (100 * r) / stats.n; });
      acc.forEach(function (value) { tr.appendChild(cell(value.toFixed(1), "num")); });
      stats.pairs.forEach(function (pair, j) {
        var p = mcnemarP(pair.onlyA, pair.onlyB);
        var diff = stats.diffs ? stats.diffs[j] : acc[0] - acc[j + 1];
        tr.appendChild(differenceCell(diff, intervals[j], p, count > 2));
      });
      if (count === 2) {
        var pair = stats.pairs[0], p = mcnemarP(pair.onlyA, pair.onlyB);
        tr.appendChild(cell(String(pair.onlyA), "num"));
        tr.appendChild(cell(String(pair.onlyB), "num"));
        var pCell = cell(formatP(p), "num p" + (p < 0.05 ? " significant" : ""));
        pCell.dataset.p = String(p);
        tr.appendChild(pCell);
      }
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

    /* The two summary rows: every shared question pooled, and the unweighted average of the
     * per-task accuracies (the leaderboard's rule), each with its paired interval. */
    function summaryRows(body, perTask, count) {
      var total = 0;
      perTask.forEach(function (s) { total += s.stats.n; });
      var pooled = { n: total, right: [], pairs: [], diffs: [] };
      var average = { n: total, right: [], pairs: [], diffs: [] };
      for (var m = 0; m < count; m++) {
        var sum = 0, mean = 0;
        perTask.forEach(function (s) { sum += s.stats.right[m]; mean += s.stats.right[m] / s.stats.n; });
        pooled.right.push(sum);
        average.right.push((mean / perTask.length) * total);
      }
      var pooledIntervals = [], averageIntervals = [];
      for (var j = 0; j < count - 1; j++) {
        var strata = perTask.map(function (s) {
          return { n: s.stats.n, onlyA: s.stats.pairs[j].onlyA.length, onlyB: s.stats.pairs[j].onlyB.length };
        });
        var onlyA = 0, onlyB = 0;
        strata.forEach(function (st) { onlyA += st.onlyA; onlyB += st.onlyB; });
        pooled.pairs.push({ onlyA: onlyA, onlyB: onlyB });
        average.pairs.push({ onlyA: onlyA, onlyB: onlyB });
        pooled.diffs.push(100 * (pooled.right[0] - pooled.right[j + 1]) / total);
        average.diffs.push(100 * (average.right[0] - average.right[j + 1]) / total);
        pooledIntervals.push(pairedInterval(strata, strata.map(function () { return 1 / total; })));
        averageIntervals.push(pairedInterval(strata, strata.map(function (st) {
          return 1 / (perTask.length * st.n);
        })));
      }
      addRow(body, ["all", "All tasks (pooled)", "All (pooled)"], pooled, pooledIntervals, count);
      body.lastChild.classList.add("pooled");
      if (count === 2) body.lastChild.querySelector("td.p").dataset.pooled = "1";
      addRow(body, ["average", "Average of the " + perTask.length + " tasks", "Average"], average,
        averageIntervals, count);
      body.lastChild.classList.add("pooled", "average");
      var pTd = body.lastChild.querySelector("td.p");
      if (pTd) { pTd.textContent = "—"; pTd.title = "McNemar's test is on questions: see the pooled row"; delete pTd.dataset.p; }
      return { pooled: pooled, average: average, total: total };
    }

    function explainPooled(summary, count) {
      var pooledA = 100 * summary.pooled.right[0] / summary.total;
      var averageA = 100 * summary.average.right[0] / summary.total;
      note.hidden = false;
      note.textContent = "Why two summary rows: “pooled” counts every shared question once, so a task " +
        "with more questions weighs more (MedMCQA's 4,183 against an MMLU subset's 100–272); the " +
        "average gives each task the same weight, as the leaderboard does. For A they are " +
        pooledA.toFixed(1) + " and " + averageA.toFixed(1) + ": " +
        (Math.abs(pooledA - averageA) < 0.05 ? "the same here." :
          "they differ because A's accuracy is not the same on the large and the small tasks.") +
        (count > 2 ? " McNemar's p for each pair is under its difference." : "");
    }

    function compareKeys(keys, track) {
      var url = new URL(window.location.href);
      SIDES.forEach(function (side, i) {
        if (keys[i]) url.searchParams.set(side, keys[i]);
        else url.searchParams.delete(side);
      });
      if (track === "cot") url.searchParams.set("track", "cot"); else url.searchParams.delete("track");
      window.history.replaceState(null, "", url);
      keys.forEach(function (key, i) { inputs[SIDES[i]].value = byKey[key]; });
      for (var i = 0; i < keys.length; i++) {
        for (var j = 0; j < i; j++) {
          if (keys[i] === keys[j]) {
            show(SIDES[j].toUpperCase() + " and " + SIDES[i].toUpperCase() + " are the same model (" +
              byKey[keys[i]] + "): choose another model for " + SIDES[i].toUpperCase() + ".", true);
            return;
          }
        }
      }
      show("Loading…", false);
      Promise.all(keys.map(load)).then(function (loaded) {
        var count = loaded.length;
        var body = document.getElementById("cmp-body");
        var idsBody = document.getElementById("cmp-ids-body");
        body.textContent = "";
        idsBody.textContent = "";
        header(count);
        var perTask = [];
        data.tasks.forEach(function (task) {
          var tasks = loaded.map(function (m) { return m[track][task[0]]; });
          if (tasks.some(function (t) { return !t; })) return;
          var stats = taskStats(tasks);
          if (stats === null) { addRow(body, task, null, [], count); return; }
          var intervals = stats.pairs.map(function (pair) {
            return pairedInterval([{ n: stats.n, onlyA: pair.onlyA.length, onlyB: pair.onlyB.length }],
              [100 / stats.n]);
          });
          stats.pairs = stats.pairs.map(function (pair, j) {
            return { onlyA: pair.onlyA.length, onlyB: pair.onlyB.length, ids: stats.pairs[j] };
          });
          addRow(body, task, stats, intervals.map(function (iv) { return [iv[0] / 100, iv[1] / 100]; }), count);
          var first = stats.pairs[0].ids;
          addIds(idsBody, task[0], task[1], first.onlyA, first.onlyB, viewFor(task[0], keys[0], keys[1]));
          perTask.push({ task: task, stats: { n: stats.n, right: stats.right,
            pairs: stats.pairs.map(function (p) { return p.ids; }) } });
        });
        var shared = 0;
        perTask.forEach(function (s) { shared += s.stats.n; });
        if (perTask.length) explainPooled(summaryRows(body, perTask, count), count);
        else note.hidden = true;
        table.hidden = false;
        idsBox.hidden = !shared;
        showModels(loaded, shared, track);
        if (!perTask.length && track === "cot") {
          show("These models have no cot track in common: choose the loglik track, or models with a chat template.", true);
        }
      }).catch(function (error) {
        show(String(error.message || error), true);
      });
    }

    /* The inputs resolved (A and B required, C and D optional), or the first problem shown. */
    function update(pickFirst) {
      var keys = [];
      for (var i = 0; i < SIDES.length; i++) {
        var text = inputs[SIDES[i]].value;
        if (i >= 2 && !text.trim()) continue;
        var found = resolve(text, pickFirst);
        if (found.error) {
          show(found.error === "empty" ? "Choose two models." :
            "Model " + SIDES[i].toUpperCase() + ": " + found.error, found.error !== "empty");
          return;
        }
        keys.push(found.key);
      }
      compareKeys(keys, trackSelect.value);
    }

    document.getElementById("cmp-form").addEventListener("submit", function (event) {
      event.preventDefault();
      update(true);
    });
    SIDES.forEach(function (side) {
      inputs[side].addEventListener("change", function () { update(false); });
    });
    trackSelect.addEventListener("change", function () { update(false); });

    /* From the URL: a key the site does not have is shown as an error, never dropped. */
    var params = new URLSearchParams(window.location.search);
    if (params.get("track") === "cot") trackSelect.value = "cot";
    var given = {};
    SIDES.forEach(function (side) { given[side] = params.get(side); });
    var unknown = SIDES.filter(function (side) { return given[side] && !byKey[given[side]]; });
    if (unknown.length) {
      SIDES.forEach(function (side) {
        if (given[side]) inputs[side].value = byKey[given[side]] || given[side];
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
    var keys = [keyA, keyB];
    if (given.c) keys.push(given.c);
    if (given.d) keys.push(given.d);
    compareKeys(keys, trackSelect.value);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
