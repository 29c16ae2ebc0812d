/* The compare page: two to four models' per-item correctness bits, from their compare files
 * (`CompareModel`, runner/sitegen/payloads.py), on one track. Per task, on the items all chosen
 * models answered (same data, same count): each model's accuracy, and model A against each other
 * one: A − X with a paired bootstrap 95% interval and an exact McNemar test. For A and each other
 * model, the questions where exactly one of the two is right, each with its stem (the task's
 * `QuestionTexts`, fetched when the reader opens the task) and a link to its question view
 * (question_links.js). Models are picked by name or part of one; the page opens on the two best
 * by average. */
(function () {
  "use strict";

  /* The payload fields this script reads (tests/sitegen/test_payloads.py holds it to the schema). */
  var READS = {
    ComparePayload: ["tasks", "models"],
    CompareTaskName: ["name", "title", "short"],
    CompareEntry: ["key", "model", "file", "question_tasks"],
    CompareModel: ["model", "loglik", "cot"],
    CompareTask: ["correct", "n", "data_sha256", "texts_url"],
    QuestionTexts: ["questions"],
    QuestionText: ["stem"]
  };
  var STEM_CHARS = 140;  // a stem longer than this shows cut at a word, in full when opened

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
      if (tasks[i].n !== first.n || tasks[i].data_sha256 !== first.data_sha256) return null;
    }
    var bits = tasks.map(function (taskData) { return decodeBits(taskData.correct, taskData.n); });
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
    var models = data.models;  // CompareEntry, leaderboard order
    var byKey = {}, cache = {}, texts = {}, entries = {};
    var list = document.getElementById("cmp-models");
    models.forEach(function (entry) {
      byKey[entry.key] = entry.model;
      entries[entry.key] = entry;
      var option = document.createElement("option");
      option.value = entry.model;
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
        if (models[i].model.toLowerCase() === query || models[i].key.toLowerCase() === query) {
          return { key: models[i].key };
        }
      }
      var starts = [], contains = [];
      models.forEach(function (entry) {
        var id = entry.model.toLowerCase(), name = id.slice(id.indexOf("/") + 1);
        if (id.indexOf(query) === 0 || name.indexOf(query) === 0) starts.push(entry);
        else if (id.indexOf(query) >= 0) contains.push(entry);
      });
      var matches = starts.concat(contains);
      if (!matches.length) return { error: "No evaluated model matches “" + text.trim() + "”." };
      if (matches.length === 1 || pickFirst) return { key: matches[0].key };
      return { error: matches.length + " models match “" + text.trim() + "”: press Enter for " +
        matches[0].model + ", or pick one from the list." };
    }

    function fetchJson(url, what) {
      return fetch(base + url).then(function (response) {
        if (!response.ok) throw new Error("cannot load " + what + " (" + response.status + ")");
        return response.json();
      });
    }

    /* A model's CompareModel: { model, loglik: {task: CompareTask}, cot: {…} }. */
    function load(key) {
      if (!cache[key]) cache[key] = fetchJson(entries[key].file, key);
      return cache[key];
    }

    /* A task's QuestionTexts, once per version of its rows. */
    function loadTexts(url) {
      if (!texts[url]) texts[url] = fetchJson(url, "the question texts");
      return texts[url];
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
      loaded.forEach(function (result, i) {
        if (i) status.appendChild(document.createTextNode(" · "));
        status.appendChild(document.createTextNode(SIDES[i].toUpperCase() + ": "));
        status.appendChild(nameNode(result.model));
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
      th.title = task.title;
      th.innerHTML = '<span class="wide-only"></span><span class="narrow-only"></span>';
      th.firstChild.textContent = task.title;
      th.lastChild.textContent = task.short;
      tr.appendChild(th);
      tr.dataset.task = task.title;
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
      if (entries[keyA].question_tasks.indexOf(task) >= 0) return [keyA, keyB];
      if (entries[keyB].question_tasks.indexOf(task) >= 0) return [keyB, keyA];
      return null;
    }

    /* One list item per question: its id, linked to its question view where the site has one;
     * its stem comes when the reader opens the task (addStems). */
    function idList(task, ids, pair, side) {
      var list = document.createElement("ul");
      list.className = "cmp-qlist";
      list.dataset.side = side;
      ids.forEach(function (id) {
        var item = document.createElement("li");
        item.dataset.id = String(id);
        var href = pair && window.MedlbQuestions ?
          window.MedlbQuestions.link(base, task, id, pair[0], pair[1]) : null;
        var node = href ? document.createElement("a") : document.createElement("span");
        if (href) node.href = href;
        node.className = "cmp-qid";
        node.textContent = String(id);
        item.appendChild(node);
        list.appendChild(item);
      });
      return list;
    }

    /* A stem as it is, or cut at a word before STEM_CHARS with the whole of it on opening. */
    function stemNode(stem) {
      if (stem.length <= STEM_CHARS) {
        var span = document.createElement("span");
        span.className = "cmp-stem";
        span.textContent = stem;
        return span;
      }
      var cut = stem.slice(0, STEM_CHARS), space = cut.lastIndexOf(" ");
      if (space > STEM_CHARS / 2) cut = cut.slice(0, space);
      var details = document.createElement("details");
      details.className = "cmp-stem";
      var summary = document.createElement("summary");
      summary.innerHTML = '<span class="cut"></span>';
      summary.firstChild.textContent = cut + " …";
      var full = document.createElement("span");
      full.className = "cmp-stem-full";
      full.textContent = stem;
      details.appendChild(summary);
      details.appendChild(full);
      return details;
    }

    function addStems(box, url) {
      box.dataset.stems = "loading";
      loadTexts(url).then(function (questionTexts) {
        box.querySelectorAll("li[data-id]").forEach(function (item) {
          var question = questionTexts.questions[+item.dataset.id];
          if (question) item.appendChild(stemNode(question.stem));
        });
        box.dataset.stems = "shown";
      }).catch(function () {
        box.dataset.stems = "unavailable";
      });
    }

    /* One task's disagreements between A and the model on `side`: "A only" and "X only". */
    function addIds(box, task, side, onlyA, onlyX, pair, textsUrl) {
      var details = document.createElement("details");
      details.dataset.task = task.name;
      details.dataset.pair = "a" + side;
      var other = side.toUpperCase();
      var summary = document.createElement("summary");
      summary.textContent = task.title + ": A only " + onlyA.length + ", " + other + " only " +
        onlyX.length;
      details.appendChild(summary);
      [["A only", onlyA, "a"], [other + " only", onlyX, side]].forEach(function (part) {
        var label = document.createElement("p");
        label.innerHTML = "<b></b> (" + part[1].length + ")";
        label.firstChild.textContent = part[0];
        details.appendChild(label);
        details.appendChild(idList(task.name, part[1], pair, part[2]));
      });
      if (textsUrl) {
        details.addEventListener("toggle", function () {
          if (details.open && !details.dataset.stems) addStems(details, textsUrl);
        });
      }
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
      addRow(body, { name: "all", title: "All tasks (pooled)", short: "All (pooled)" }, pooled,
        pooledIntervals, count);
      body.lastChild.classList.add("pooled");
      if (count === 2) body.lastChild.querySelector("td.p").dataset.pooled = "1";
      addRow(body, { name: "average", title: "Average of the " + perTask.length + " tasks",
        short: "Average" }, average, averageIntervals, count);
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

    /* For A and each other model, per task, the questions only one of the two got right. */
    function disagreements(box, perTask, keys) {
      keys.slice(1).forEach(function (key, j) {
        var side = SIDES[j + 1];
        if (keys.length > 2) {
          var heading = document.createElement("h3");
          heading.textContent = "A and " + side.toUpperCase();
          box.appendChild(heading);
        }
        perTask.forEach(function (s) {
          var pair = s.stats.pairs[j];
          addIds(box, s.task, side, pair.onlyA, pair.onlyB, viewFor(s.task.name, keys[0], key),
            s.textsUrl);
        });
      });
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
          var tasks = loaded.map(function (result) { return result[track][task.name]; });
          if (tasks.some(function (taskData) { return !taskData; })) return;
          var taskData = tasks[0];
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
          perTask.push({ task: task, textsUrl: taskData.texts_url, stats: { n: stats.n,
            right: stats.right, pairs: stats.pairs.map(function (p) { return p.ids; }) } });
        });
        disagreements(idsBody, perTask, keys);
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
    var first = models[0].key, second = models[1].key;
    var keyA = given.a || (given.b === first ? second : first);
    var keyB = given.b || (keyA === first ? second : first);
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
