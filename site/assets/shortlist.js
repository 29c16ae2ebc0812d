/* The pilot shortlist (runner/sitegen/shortlist.py computes every model's facts): filter the
 * models by the reader's constraints, rank the ones left by their 95% intervals, show the tied
 * top set with rank ranges, and build the dossier from the listed models' pre-rendered sections
 * (data/dossier/<key>.json). The constraints live in the URL, so a shortlist can be shared. */
(function () {
  "use strict";

  /* The payload fields this script reads (tests/sitegen/test_payloads.py holds it to the schema). */
  var READS = {
    ShortlistPayload: ["models", "advisory_title", "advisory"],
    ShortlistModel: ["key", "model_id", "licence", "licence_class", "licence_note", "params",
      "memory_gib", "flagged", "tracks"],
    ShortlistTrack: ["average", "low", "high"],
    DossierSections: ["markdown", "html"]
  };

  function pct(value) { return (100 * value).toFixed(1); }

  /* The reader's constraints, from the form. */
  function readForm(form) {
    var memory = parseFloat(form.querySelector("#sl-memory").value);
    return {
      track: form.querySelector("input[name=track]:checked").value,
      commercial: form.querySelector("#sl-commercial").checked,
      custom: form.querySelector("#sl-custom").checked,
      memory: isFinite(memory) && memory > 0 ? memory : null,
      precision: form.querySelector("#sl-precision").value,
      unflagged: form.querySelector("#sl-unflagged").checked
    };
  }

  function writeForm(form, params) {
    var track = params.get("track");
    if (track) {
      var radio = form.querySelector("input[name=track][value=" + (track === "cot" ? "cot" : "loglik") + "]");
      radio.checked = true;
    }
    if (params.has("commercial")) form.querySelector("#sl-commercial").checked = params.get("commercial") === "1";
    if (params.has("custom")) form.querySelector("#sl-custom").checked = params.get("custom") === "1";
    if (params.has("gb")) form.querySelector("#sl-memory").value = params.get("gb");
    if (params.has("precision")) {
      var select = form.querySelector("#sl-precision"), wanted = params.get("precision");
      if (select.querySelector("option[value='" + wanted.replace(/[^a-z0-9]/g, "") + "']")) select.value = wanted;
    }
    if (params.has("unflagged")) form.querySelector("#sl-unflagged").checked = params.get("unflagged") === "1";
  }

  function saveState(state) {
    var url = new URL(window.location.href);
    url.searchParams.set("track", state.track);
    url.searchParams.set("commercial", state.commercial ? "1" : "0");
    url.searchParams.set("custom", state.custom ? "1" : "0");
    if (state.memory) url.searchParams.set("gb", String(state.memory));
    else url.searchParams.delete("gb");
    url.searchParams.set("precision", state.precision);
    url.searchParams.set("unflagged", state.unflagged ? "1" : "0");
    window.history.replaceState(null, "", url);
  }

  function licenceAllowed(model, state) {
    if (!state.commercial) return true;
    return model.licence_class === "open" || (state.custom && model.licence_class === "custom");
  }

  function fits(model, state) {
    if (state.memory === null) return true;
    var need = model.memory_gib[state.precision];
    return need !== undefined && need <= state.memory;
  }

  function meets(model, state) {
    return !!model.tracks[state.track] && licenceAllowed(model, state) && fits(model, state) &&
      !(state.unflagged && model.flagged);
  }

  /* Rank ranges among `models` on one track: best = 1 + those entirely above, worst = 1 +
   * those not entirely below; sorted by average. Sorting the lows and highs once makes this
   * n log n, so 1,000 models rank instantly. */
  function rankRanges(models, track) {
    var lows = models.map(function (model) { return model.tracks[track].low; }).sort(function (a, b) { return a - b; });
    var highs = models.map(function (model) { return model.tracks[track].high; }).sort(function (a, b) { return a - b; });
    function countAbove(sorted, value) {  // how many of `sorted` are > value
      var lo = 0, hi = sorted.length;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (sorted[mid] > value) hi = mid; else lo = mid + 1; }
      return sorted.length - lo;
    }
    function countAtLeast(sorted, value) {  // how many of `sorted` are >= value
      var lo = 0, hi = sorted.length;
      while (lo < hi) { var mid = (lo + hi) >> 1; if (sorted[mid] >= value) hi = mid; else lo = mid + 1; }
      return sorted.length - lo;
    }
    return models.map(function (model) {
      var score = model.tracks[track];
      return {
        model: model, score: score,
        best: 1 + countAbove(lows, score.high),
        worst: countAtLeast(highs, score.low)  // itself included: 1 + the others not entirely below
      };
    }).sort(function (a, b) { return b.score.average - a.score.average; });
  }

  function cell(row, text, cls) {
    var td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    row.appendChild(td);
    return td;
  }

  function rangeText(ranked) {
    return ranked.best === ranked.worst ? String(ranked.best) : ranked.best + "–" + ranked.worst;
  }

  function memoryText(model, state) {
    var need = model.memory_gib[state.precision];
    return need === undefined ? "unknown" : need.toFixed(1) + " GB";
  }

  function renderRow(body, base, ranked, state) {
    var model = ranked.model, score = ranked.score, tr = document.createElement("tr");
    tr.dataset.key = model.key;
    cell(tr, rangeText(ranked), "num rank-range");
    var name = document.createElement("td"), link = document.createElement("a");
    link.href = base + "models/" + model.key + "/";
    link.innerHTML = window.MedlbColumns.modelName(model.model_id);  // wraps after "/" only
    name.appendChild(link);
    if (model.flagged) {
      var flag = document.createElement("span");
      flag.className = "flag-note";
      flag.textContent = " flagged";
      name.appendChild(flag);
    }
    tr.appendChild(name);
    var avg = cell(tr, pct(score.average), "num");
    var ci = document.createElement("span");
    ci.className = "ci narrow-only";
    ci.textContent = pct(score.low) + "–" + pct(score.high);
    avg.appendChild(ci);
    cell(tr, pct(score.low) + "–" + pct(score.high), "num ci wide-only");
    var licence = cell(tr, model.licence || "—", "licence");
    licence.title = model.licence_note;
    licence.dataset.licenceClass = model.licence_class;
    cell(tr, memoryText(model, state), "num memory");
    cell(tr, model.params ? (model.params / 1e9).toFixed(1) + " B" : "—", "num wide-only");
    body.appendChild(tr);
  }

  function describe(state) {
    var parts = ["track " + state.track];
    if (state.commercial) parts.push(state.custom ? "licence allows commercial use (open or with conditions)" :
      "licence allows commercial use (open licences)");
    if (state.memory) parts.push("fits in " + state.memory + " GB at " + state.precision);
    if (state.unflagged) parts.push("flagged models excluded");
    return parts.join("; ");
  }

  /* The dossier: a header (constraints, advisory, the listed models with rank ranges) and each
   * listed model's section as Python wrote it. */
  function dossierText(kind, data, state, listed, sections) {
    var when = new Date().toISOString().slice(0, 10), site = window.location.href;
    if (kind === "md") {
      var md = ["# Pilot shortlist dossier", "", "Built " + when + " from " + site, "",
        "**Constraints**: " + describe(state), "", "> **" + data.advisory_title + "** " + data.advisory, "",
        "| Rank range | Model | Average [95% CI] | Licence |", "|---|---|---|---|"];
      listed.forEach(function (r) {
        md.push("| " + rangeText(r) + " | " + r.model.model_id + " | " + pct(r.score.average) +
          " [" + pct(r.score.low) + ", " + pct(r.score.high) + "] | " + (r.model.licence || "—") + " |");
      });
      return md.concat([""]).concat(sections.map(function (modelSections) { return modelSections.markdown; })).join("\n");
    }
    function esc(text) {
      return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    }
    var rows = listed.map(function (r) {
      return "<tr><td>" + rangeText(r) + "</td><td>" + esc(r.model.model_id) + "</td><td>" +
        pct(r.score.average) + " [" + pct(r.score.low) + ", " + pct(r.score.high) + "]</td><td>" +
        esc(r.model.licence || "—") + "</td></tr>";
    }).join("");
    return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Pilot shortlist dossier</title>" +
      "<style>body{font:11pt/1.4 system-ui,sans-serif;color:#111;margin:2cm;max-width:60rem}" +
      "table{border-collapse:collapse;margin:.6rem 0;font-size:9pt}th,td{border:1px solid #999;padding:2px 5px;" +
      "text-align:left;vertical-align:top}td{word-break:break-all}caption{text-align:left;font-weight:600}" +
      "dt{font-weight:600;float:left;clear:left;width:11rem}dd{margin-left:11.5rem}code{font-size:8.5pt}" +
      ".advisory{border:2px solid #b45309;padding:.5rem .8rem}" +
      "@media print{body{margin:0}section.dossier-model{break-before:page}}</style></head><body>" +
      "<h1>Pilot shortlist dossier</h1><p>Built " + when + " from " + esc(site) + "</p>" +
      "<p><strong>Constraints</strong>: " + esc(describe(state)) + "</p>" +
      "<p class=\"advisory\"><strong>" + esc(data.advisory_title) + "</strong> " + esc(data.advisory) + "</p>" +
      "<table><thead><tr><th>Rank range</th><th>Model</th><th>Average [95% CI]</th><th>Licence</th></tr></thead>" +
      "<tbody>" + rows + "</tbody></table>" +
      sections.map(function (modelSections) { return modelSections.html; }).join("") + "</body></html>";
  }

  function download(name, type, text) {
    var link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: type }));
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  function init() {
    var root = document.getElementById("shortlist");
    if (!root || root.dataset.ready) return;
    root.dataset.ready = "1";
    var base = root.dataset.root || "";
    var data = JSON.parse(document.getElementById("sl-data").textContent);
    var form = document.getElementById("sl-form");
    var status = document.getElementById("sl-status");
    var table = document.getElementById("sl-table"), body = document.getElementById("sl-body");
    var downloads = document.getElementById("sl-downloads");
    var current = { state: null, listed: [] };

    function update() {
      var state = readForm(form);
      saveState(state);
      var meeting = data.models.filter(function (model) { return meets(model, state); });
      var ranked = rankRanges(meeting, state.track);
      var listed = ranked.filter(function (r) { return r.best === 1; });
      current = { state: state, listed: listed };
      body.textContent = "";
      listed.forEach(function (r) { renderRow(body, base, r, state); });
      table.hidden = !listed.length;
      downloads.hidden = !listed.length;
      status.textContent = meeting.length ?
        meeting.length + " of " + data.models.length + " models meet the constraints (" + describe(state) +
        "); " + listed.length + " of them " + (listed.length === 1 ? "is" : "are") +
        " statistically tied for the top." :
        "No model meets the constraints (" + describe(state) + ").";
    }

    function buildDossier(kind) {
      var listed = current.listed;
      status.textContent = "Gathering the dossier of " + listed.length + " models…";
      Promise.all(listed.map(function (r) {
        return fetch(base + "data/dossier/" + r.model.key + ".json").then(function (response) {
          if (!response.ok) throw new Error("cannot load the dossier of " + r.model.model_id);
          return response.json();
        });
      })).then(function (sections) {
        var text = dossierText(kind, data, current.state, listed, sections);
        download(kind === "md" ? "shortlist-dossier.md" : "shortlist-dossier.html",
          kind === "md" ? "text/markdown" : "text/html", text);
        update();
      }).catch(function (error) {
        status.textContent = String(error.message || error);
      });
    }

    writeForm(form, new URLSearchParams(window.location.search));
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    form.addEventListener("submit", function (event) { event.preventDefault(); update(); });
    document.getElementById("sl-dossier-md").addEventListener("click", function () { buildDossier("md"); });
    document.getElementById("sl-dossier-html").addEventListener("click", function () { buildDossier("html"); });
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
