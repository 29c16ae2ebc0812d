/* Columns of a wide table: which show, chosen by the reader or fitted to the width there is,
 * and the offsets of its sticky columns. Used by the leaderboard and the specialties table,
 * which also share the cell markup below (esc, modelName, tieMark); loaded first on every page.
 *
 * A column the reader ticked or unticked in the chooser stays as chosen (remembered in
 * localStorage); every other column shows when the table fits its box, and otherwise columns
 * are hidden in the table's priority order until it fits: the reader never has to scroll
 * sideways unless they asked for more columns than fit. */
(function () {
  "use strict";

  function load(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "{}") || {}; } catch (e) { return {}; }
  }

  function save(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  /* options: table, box (the scrolling container), chooser (element for the checkboxes, or
   * null), storageKey, priority (column ids, hidden first to last), fixed (ids always shown),
   * onChange (called after the visible set changed). Columns are the thead's th[data-col]. */
  function attach(options) {
    var table = options.table, box = options.box;
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th[data-col]"));
    var index = {}, label = {};
    heads.forEach(function (th, i) {
      index[th.dataset.col] = i + 1;
      label[th.dataset.col] = th.dataset.label || th.textContent.trim();
    });
    var style = document.createElement("style");
    document.head.appendChild(style);
    var chosen = load(options.storageKey);
    var hidden = {};
    var forced = [];
    var boxes = {};

    function apply() {
      var rules = [];
      Object.keys(hidden).forEach(function (col) {
        if (hidden[col] && index[col]) {
          rules.push("#" + table.id + " tr:not(.row-detail) > :nth-child(" + index[col] + ")");
        }
      });
      style.textContent = rules.length ? rules.join(",") + "{display:none}" : "";
      table.classList.toggle("has-hidden", rules.length > 0);
      Object.keys(boxes).forEach(function (col) {
        boxes[col].checked = !hidden[col];
        // a column of another view (track) is not offered in the chooser
        boxes[col].parentNode.hidden = forced.indexOf(col) >= 0;
      });
      stick();
    }

    function overflow() { return box.scrollWidth - box.clientWidth; }

    /* `always`: columns that do not belong to the current view (another track's), hidden
     * whatever was chosen. */
    function fit(always) {
      if (always) forced = always;
      hidden = {};
      Object.keys(chosen).forEach(function (col) { hidden[col] = !chosen[col]; });
      forced.forEach(function (col) { hidden[col] = true; });
      apply();
      var candidates = options.priority.filter(function (col) {
        return chosen[col] === undefined && index[col] && forced.indexOf(col) < 0;
      });
      // First a batch: the columns whose present widths add up to less than the overflow (a
      // table only narrows as they go, so this never hides one too many); then one column at a
      // time, each followed by a layout, until the table fits. Two or three layouts, not ten.
      var excess = overflow();
      if (excess > 1 && candidates.length) {
        var widths = {};
        heads.forEach(function (th) { widths[th.dataset.col] = th.getBoundingClientRect().width; });
        var batch = 0;
        while (candidates.length && batch + widths[candidates[0]] < excess) {
          batch += widths[candidates[0]];
          hidden[candidates.shift()] = true;
        }
        if (batch) apply();
      }
      while (overflow() > 1 && candidates.length) {
        hidden[candidates.shift()] = true;
        apply();
      }
      if (options.onChange) options.onChange(hidden);
    }

    /* Sticky columns sit side by side: each one's `left` is the width of those before it. */
    function stick() {
      var left = 0;
      for (var level = 1; level <= 3; level++) {
        var head = table.querySelector("thead th[data-col].sticky-" + level);
        if (!head) break;
        table.style.setProperty("--sticky-" + level + "-left", left + "px");
        left += head.getBoundingClientRect().width;
      }
    }

    if (options.chooser) {
      heads.forEach(function (th) {
        var col = th.dataset.col;
        if (options.fixed.indexOf(col) >= 0) return;
        var item = document.createElement("label");
        var input = document.createElement("input");
        input.type = "checkbox";
        input.addEventListener("change", function () {
          chosen[col] = input.checked;
          save(options.storageKey, chosen);
          fit();
        });
        boxes[col] = input;
        item.appendChild(input);
        item.appendChild(document.createTextNode(" " + label[col]));
        options.chooser.appendChild(item);
      });
      var reset = document.createElement("button");
      reset.type = "button";
      reset.className = "md-button col-reset";
      reset.textContent = "Fit to the screen";
      reset.addEventListener("click", function () {
        chosen = {};
        save(options.storageKey, chosen);
        fit();
      });
      options.chooser.appendChild(reset);
    }

    var timer = null;
    window.addEventListener("resize", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { fit(); }, 150);
    });
    return { fit: fit, stick: stick };
  }

  /* Fill a tbody with row markup: the first rows at once (the first screen, and what column
   * fitting measures), the rest after the next frame, so 1,000 rows never hold up a paint. A
   * newer fill cancels an older one's remainder. */
  var FIRST_ROWS = 60;
  function fillRows(body, parts) {
    if (body.medlbPending) window.cancelAnimationFrame(body.medlbPending);
    body.medlbPending = null;
    body.innerHTML = parts.slice(0, FIRST_ROWS).join("");
    if (parts.length <= FIRST_ROWS) return;
    body.medlbPending = window.requestAnimationFrame(function () {
      body.medlbPending = null;
      body.insertAdjacentHTML("beforeend", parts.slice(FIRST_ROWS).join(""));
    });
  }

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* "org/name" with a line-break opportunity after the slash only, never inside a word. */
  function modelName(id) {
    var cut = id.indexOf("/");
    if (cut < 0) return '<span class="nb">' + esc(id) + "</span>";
    return '<span class="nb">' + esc(id.slice(0, cut + 1)) + '</span><span class="nb">' +
      esc(id.slice(cut + 1)) + "</span>";
  }

  /* A rank range (payloads.RankRange, [best, worst]) as the tables print it: "12–47", or "3"
   * when the interval allows one rank only. */
  function rangeText(range) {
    var best = range[0], worst = range[1];
    var text = best === worst ? String(best) : best + "–" + worst;
    var why = worst > best ? "its 95% interval overlaps " + (worst - best) +
      " other model(s), so it could rank anywhere from " + best + " to " + worst :
      "no other model's 95% interval overlaps its own";
    return '<span class="rank-range" title="' + why + '">' + text + "</span>";
  }

  /* A track's data not embedded in the page, fetched once (into cache[track]) the first time it is
   * shown; `status` says so meanwhile, or why it failed; `shown` runs once it is there. */
  function loadTrack(url, cache, track, status, shown) {
    status.textContent = "Loading the " + track + " track…";
    fetch(url).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    }).then(function (loaded) {
      cache[track] = loaded;
      shown(track);
    }).catch(function (err) {
      status.textContent = "Cannot load the " + track + " track (" + err.message + ").";
    });
  }

  window.MedlbColumns = {
    attach: attach, fillRows: fillRows, esc: esc, modelName: modelName, rangeText: rangeText,
    loadTrack: loadTrack,
  };
})();
