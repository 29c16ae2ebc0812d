/* The question view (questions/?model=ORG/NAME&task=TASK[&item=ID][&vs=ORG/OTHER]): every answer of
 * one model on one task, from data/questions/<model>/<task>.json (runner/sitegen/question_views.py
 * writes it from the verified predictions file): right answer, the model's answer, the
 * probability of each option, the option chosen under each rotation, the Hub row. Filters (wrong,
 * unstable, confidence) and sorting run here on values the build computed (payloads.py: `READS`
 * names every field read); rows are drawn a page at a time. `item` opens one
 * question as a card, beside another model's answer when `vs` names one (the compare page's
 * links). */
(function () {
  "use strict";

  var PAGE = 100;
  var READS = {
    QuestionViewIndex: ["tasks", "models"],
    QuestionViewModel: ["key", "model", "tasks"],
    QuestionViewTask: ["name", "title"],
    QuestionViewPayload: ["model", "revision", "labels", "n", "dataset", "predictions", "gold",
      "pred", "p", "conf", "p_gold", "rot", "stable", "survives", "texts_url", "cot"],
    QuestionDataset: ["id", "config", "split", "revision", "rows", "viewer", "files"],
    PredictionsFile: ["url", "sha256"],
    CotAnswer: ["generation", "answer", "correct", "output_tokens", "truncated"],
    QuestionTexts: ["questions", "dataset", "data_sha256", "licence"],
    QuestionText: ["stem", "options", "context"]
  };

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function link(href, text) {
    var a = el("a", text);
    a.href = href;
    return a;
  }

  function pct(perMille) {
    return (perMille / 10).toFixed(1);
  }

  /* Per question: what the table and the card show, gathered from the columnar data file. */
  function questions(view) {
    var out = [];
    for (var i = 0; i < view.n; i++) {
      out.push({
        id: i, gold: view.gold[i], pred: view.pred[i], p: view.p[i], conf: view.conf[i],
        pGold: view.p_gold[i], rot: view.rot ? view.rot[i].split("").map(Number) : null,
        stable: view.stable ? view.stable[i] : null, survives: view.survives ? view.survives[i] : null
      });
    }
    return out;
  }

  /* "same ✓", "same", or the letters chosen under rotation 0..n-1. */
  function reordered(view, q) {
    if (!q.rot) return "—";
    if (q.stable) return q.survives ? "same ✓" : "same";
    return q.rot.map(function (c) { return view.labels[c]; }).join(" ");
  }

  function init() {
    var box = document.getElementById("questions");
    if (!box || box.dataset.ready) return;
    box.dataset.ready = "1";
    var root = box.dataset.root || "";
    var data = JSON.parse(document.getElementById("qv-data").textContent);
    var byKey = {}, list = document.getElementById("qv-models");
    data.models.forEach(function (entry) {
      byKey[entry.key] = { model: entry.model, tasks: entry.tasks.map(function (k) { return data.tasks[k]; }) };
      var option = document.createElement("option");
      option.value = entry.model;
      list.appendChild(option);
    });
    var input = document.getElementById("qv-model"), taskSelect = document.getElementById("qv-task");
    var status = document.getElementById("qv-status"), viewBox = document.getElementById("qv-view");
    var state = { view: null, items: [], shown: 0, other: null, texts: null };

    function show(message, isError) {
      status.textContent = message;
      status.hidden = !message;
      status.classList.toggle("error", !!isError);
      if (isError) viewBox.hidden = true;
    }

    function keyOf(text) {
      var query = text.trim().toLowerCase();
      if (!query) return null;
      var hits = data.models.filter(function (entry) {
        return entry.key.toLowerCase() === query || entry.model.toLowerCase() === query;
      });
      if (!hits.length) hits = data.models.filter(function (entry) { return entry.model.toLowerCase().indexOf(query) >= 0; });
      return hits.length ? hits[0].key : null;
    }

    function fillTasks(key, chosen) {
      taskSelect.textContent = "";
      (byKey[key] ? byKey[key].tasks : []).forEach(function (viewTask) {
        var option = el("option", viewTask.title);
        option.value = viewTask.name;
        option.selected = viewTask.name === chosen;
        taskSelect.appendChild(option);
      });
    }

    function load(key, task) {
      return fetch(root + "data/questions/" + key + "/" + task + ".json").then(function (response) {
        if (!response.ok) throw new Error("cannot load the questions of " + key + " (" + response.status + ")");
        return response.json();
      });
    }

    function about(view, key) {
      var p = document.getElementById("qv-about");
      p.textContent = "";
      p.appendChild(link(root + "models/" + key + "/", view.model));
      p.appendChild(document.createTextNode(" at revision "));
      p.appendChild(el("code", view.revision.slice(0, 12)));
      var source = view.dataset;
      p.appendChild(document.createTextNode(" · " + view.n + " questions of " + source.id +
        (source.config ? " (" + source.config + ")" : "") + ", " + source.split + " split, "));
      if (source.revision) {
        p.appendChild(document.createTextNode("rows pinned at "));
        p.appendChild(link(source.files, source.revision.slice(0, 12)));
        p.appendChild(document.createTextNode("; the Hub's viewer shows the current version"));
      } else {
        p.appendChild(document.createTextNode(source.rows === "sample" ? "the bundled sample questions (no Hub rows)"
          : "local rows not known to be the pinned ones (no Hub rows)"));
      }
      p.appendChild(document.createTextNode(" · "));
      var predictions = view.predictions;
      p.appendChild(link(predictions.url, "predictions file"));
      p.appendChild(document.createTextNode(" (sha256 "));
      p.appendChild(el("code", predictions.sha256.slice(0, 12)));
      p.appendChild(document.createTextNode("…, verified against the results)"));
    }

    function head(view) {
      var tr = document.getElementById("qv-head");
      tr.textContent = "";
      [["#", "num", "the question's index in the split"]]
        .concat(state.texts ? [["Question", "qv-stem-cell", "the question at the evaluated rows"]] : [])
        .concat([["Right", "", "the gold answer"],
        ["Answer", "", "the model's answer"], ["Confidence", "num", "probability of the model's answer"]])
        .concat(view.labels.map(function (l) { return [l, "num wide-only", "probability of option " + l]; }))
        .concat(view.cot ? [["CoT", "", "the answer extracted from the chain-of-thought generation"]] : [])
        .concat([["Reordered", "", "the option chosen under each rotation of the options"],
          ["Hub", "wide-only", "the question's row in the Hub's dataset viewer"]])
        .forEach(function (c) {
          var th = el("th", c[0], c[1]);
          th.title = c[2];
          th.scope = "col";
          tr.appendChild(th);
        });
    }

    function hubLink(view, id) {
      var source = view.dataset;
      return source.viewer ? source.viewer + "?row=" + id : null;
    }

    function row(view, q) {
      var tr = el("tr");
      tr.id = "q-" + q.id;
      tr.dataset.id = String(q.id);
      var th = el("th", null, "num");
      th.scope = "row";
      th.appendChild(link("#q-" + q.id, String(q.id)));
      th.firstChild.addEventListener("click", function (event) {
        event.preventDefault();
        select(q.id);
      });
      tr.appendChild(th);
      if (state.texts) {
        var stem = state.texts.questions[q.id].stem;
        var cell = el("td", stem.length > 160 ? stem.slice(0, 157) + "…" : stem, "qv-stem-cell");
        cell.title = stem;
        tr.appendChild(cell);
      }
      tr.appendChild(el("td", view.labels[q.gold]));
      tr.appendChild(el("td", view.labels[q.pred] + (q.pred === q.gold ? " ✓" : " ✗"),
        q.pred === q.gold ? "right" : "wrong"));
      tr.appendChild(el("td", pct(q.conf), "num"));
      q.p.forEach(function (p) { tr.appendChild(el("td", pct(p), "num wide-only")); });
      if (view.cot) {
        var cotAnswer = view.cot[q.id];
        tr.appendChild(el("td", (cotAnswer.answer == null ? "none" : cotAnswer.answer) + (cotAnswer.correct ? " ✓" : " ✗"),
          cotAnswer.correct ? "right" : "wrong"));
      }
      tr.appendChild(el("td", reordered(view, q), q.rot && !q.stable ? "unstable" : ""));
      var hub = el("td", null, "wide-only");
      var href = hubLink(view, q.id);
      hub.appendChild(href ? link(href, "row " + q.id) : el("span", "—"));
      tr.appendChild(hub);
      return tr;
    }

    function filtered() {
      var wrong = document.getElementById("qv-wrong").checked;
      var unstable = document.getElementById("qv-unstable").checked;
      var minConf = 10 * (parseFloat(document.getElementById("qv-conf").value) || 0);
      var sort = document.getElementById("qv-sort").value;
      var items = state.items.filter(function (q) {
        return (!wrong || q.pred !== q.gold) && (!unstable || q.stable === false) && q.conf >= minConf;
      });
      var by = {
        "conf-desc": function (a, b) { return b.conf - a.conf || a.id - b.id; },
        "conf-asc": function (a, b) { return a.conf - b.conf || a.id - b.id; },
        "gold-asc": function (a, b) { return a.pGold - b.pGold || a.id - b.id; }
      }[sort];
      return by ? items.sort(by) : items;
    }

    function draw(more) {
      var body = document.getElementById("qv-body");
      var items = filtered();
      if (!more) { body.textContent = ""; state.shown = 0; }
      var end = Math.min(items.length, state.shown + PAGE);
      for (var i = state.shown; i < end; i++) body.appendChild(row(state.view, items[i]));
      state.shown = end;
      document.getElementById("qv-count").textContent = "Showing " + end + " of " + items.length +
        " questions" + (items.length < state.items.length ? " that match (" + state.items.length + " in all)" : "") + ".";
      var button = document.getElementById("qv-more");
      button.hidden = end >= items.length;
      button.textContent = "Show " + Math.min(PAGE, items.length - end) + " more";
    }

    function answerLine(dl, name, view, q, gold) {
      dl.appendChild(el("dt", name + " answered"));
      dl.appendChild(el("dd", view.labels[q.pred] + (q.pred === gold ? " ✓ right" : " ✗ wrong") +
        " with " + pct(q.conf) + "% · options " + view.labels.map(function (l, k) {
          return l + " " + pct(q.p[k]) + "%";
        }).join(", ") + (q.rot ? " · reordered: " + reordered(view, q) : "")));
    }

    function select(id) {
      var view = state.view, card = document.getElementById("qv-card");
      var url = new URL(window.location.href);
      url.searchParams.set("item", String(id));
      window.history.replaceState(null, "", url);
      card.textContent = "";
      if (!(id >= 0 && id < view.n)) {
        card.appendChild(el("p", "No question " + id + " in this task (0–" + (view.n - 1) + ").", "cmp-message error"));
        card.hidden = false;
        return;
      }
      var q = state.items[id];
      card.appendChild(el("h2", "Question " + id));
      if (state.texts) card.appendChild(questionBlock(view, q, state.texts));
      var dl = el("dl", null, "qv-facts");
      dl.appendChild(el("dt", "Right answer"));
      dl.appendChild(el("dd", view.labels[q.gold]));
      answerLine(dl, view.model, view, q, q.gold);
      var other = state.other;
      if (other) answerLine(dl, other.model, other, state.otherItems[id], q.gold);
      if (q.rot) {
        dl.appendChild(el("dt", "Under rotations 0–" + (q.rot.length - 1)));
        dl.appendChild(el("dd", q.rot.map(function (c) { return view.labels[c]; }).join(", ") + ": " +
          (q.survives ? "right under every rotation" : q.stable ? "the same answer every time"
            : "the answer changes") + "."));
      }
      if (view.cot) card.appendChild(cotBlock(view, q, view.cot[id]));
      dl.appendChild(el("dt", "On the Hub"));
      var dd = el("dd");
      var href = hubLink(view, id);
      if (href) {
        dd.appendChild(link(href, "row " + id + " in the dataset viewer"));
        dd.appendChild(document.createTextNode(" (its current version); evaluated at revision "));
        var source = view.dataset;
        dd.appendChild(link(source.files, source.revision.slice(0, 12)));
      } else {
        dd.textContent = "no row to link: these questions are not the Hub's pinned rows";
      }
      dl.appendChild(dd);
      card.appendChild(dl);
      card.hidden = false;
      var tr = document.getElementById("q-" + id);
      Array.prototype.forEach.call(document.querySelectorAll("#qv-body tr.selected"), function (r) {
        r.classList.remove("selected");
      });
      if (tr) tr.classList.add("selected");
      card.scrollIntoView({ block: "nearest" });
    }

    /* The question as the model saw it: stem (and abstract), every option with its letter, the
     * right one and the model's marked, and the dataset's licence. */
    function questionBlock(view, q, texts) {
      var text = texts.questions[q.id];
      var box = el("div", null, "qv-question");
      if (text.context) box.appendChild(el("p", text.context, "qv-context"));
      box.appendChild(el("p", text.stem, "qv-stem"));
      var list = el("ol", null, "qv-options");
      text.options.forEach(function (option, k) {
        var item = el("li", null, k === q.gold ? "gold" : "");
        item.appendChild(el("span", view.labels[k], "qv-letter"));
        item.appendChild(document.createTextNode(" " + option + " (" + pct(q.p[k]) + "%)" +
          (k === q.gold ? " — right answer" : "") + (k === q.pred ? " — the model's choice" : "")));
        list.appendChild(item);
      });
      box.appendChild(list);
      box.appendChild(el("p", "Text of " + texts.dataset + " at the evaluated rows (sha256 " +
        texts.data_sha256.slice(0, 12) + "…); licence: " + texts.licence + ".", "ci"));
      return box;
    }

    /* The chain-of-thought track on this question: the extracted answer beside the
     * log-likelihood choice, and the whole generation, collapsed (it can be thousands of tokens). */
    function cotBlock(view, q, cotAnswer) {
      var box = el("div", null, "qv-cot");
      box.appendChild(el("p", "Chain of thought: " + (cotAnswer.answer == null ?
        "no “Final Answer” line (scored wrong)" : "answered " + cotAnswer.answer +
        (cotAnswer.correct ? ", right" : ", wrong")) + " · log-likelihood choice " +
        view.labels[q.pred] + (q.pred === q.gold ? ", right" : ", wrong") + " · " +
        cotAnswer.output_tokens + " tokens" + (cotAnswer.truncated ? ", cut at the token limit" : "") + "."));
      var details = el("details", null, "qv-generation");
      details.appendChild(el("summary", "The generation (" + cotAnswer.output_tokens + " tokens)"));
      details.appendChild(el("pre", cotAnswer.generation));
      box.appendChild(details);
      return box;
    }

    function loadTexts(view) {
      if (!view.texts_url) return Promise.resolve(null);
      return fetch(root + view.texts_url).then(function (response) {
        return response.ok ? response.json() : null;
      });
    }

    function open(key, task, id, vsKey) {
      var url = new URL(window.location.href);
      url.searchParams.set("model", key);
      url.searchParams.set("task", task);
      ["item", "vs"].forEach(function (name) { url.searchParams.delete(name); });
      if (vsKey) url.searchParams.set("vs", vsKey);
      window.history.replaceState(null, "", url);
      input.value = byKey[key].model;
      fillTasks(key, task);
      show("Loading…", false);
      var hasOther = vsKey && byKey[vsKey] && byKey[vsKey].tasks.some(function (viewTask) { return viewTask.name === task; });
      Promise.all([load(key, task), hasOther ? load(vsKey, task) : null]).then(function (pair) {
        return loadTexts(pair[0]).then(function (texts) { state.texts = texts; return pair; });
      }).then(function (pair) {
        state.view = pair[0];
        state.other = pair[1] && pair[1].n === pair[0].n ? pair[1] : null;
        state.otherItems = state.other ? questions(state.other) : null;
        state.items = questions(pair[0]);
        about(pair[0], key);
        head(pair[0]);
        document.getElementById("qv-unstable").disabled = !pair[0].rot;
        show("", false);
        viewBox.hidden = false;
        draw(false);
        document.getElementById("qv-card").hidden = true;
        if (id !== null) select(id);
      }).catch(function (error) { show(String(error.message || error), true); });
    }

    function fromForm(event) {
      if (event) event.preventDefault();
      var key = keyOf(input.value);
      if (!key) { show(input.value.trim() ? "No model with question views matches “" + input.value.trim() + "”." : "Choose a model and a task.", !!input.value.trim()); return; }
      var task = taskSelect.value;
      if (!byKey[key].tasks.some(function (viewTask) { return viewTask.name === task; })) task = byKey[key].tasks[0].name;
      open(key, task, null, null);
    }

    document.getElementById("qv-pick").addEventListener("submit", fromForm);
    input.addEventListener("change", function () {
      var key = keyOf(input.value);
      if (key) fillTasks(key, taskSelect.value);
    });
    taskSelect.addEventListener("change", function () { fromForm(null); });
    ["qv-wrong", "qv-unstable", "qv-conf", "qv-sort"].forEach(function (name) {
      document.getElementById(name).addEventListener("change", function () { if (state.view) draw(false); });
    });
    document.getElementById("qv-more").addEventListener("click", function () { draw(true); });

    var params = new URLSearchParams(window.location.search);
    var key = params.get("model"), task = params.get("task");
    if (!data.models.length) {
      show("No model's per-item details are on this site yet.", false);
      return;
    }
    if (!key) return;
    if (!byKey[key]) { show("?model=" + key + " has no question views on this site.", true); return; }
    var tasks = byKey[key].tasks.map(function (viewTask) { return viewTask.name; });
    if (task && tasks.indexOf(task) < 0) {
      show(byKey[key].model + " has no question view for ?task=" + task + ".", true);
      return;
    }
    var q = params.get("item");
    open(key, task || tasks[0], q === null ? null : parseInt(q, 10), params.get("vs"));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
