/* Long server-rendered tables (a task's ranking, the queue) come in bodies of 50 rows, all but
 * the first hidden (no style or layout for them); "Show 50 more" reveals the next one. */
(function () {
  "use strict";

  function showMore(button) {
    var table = document.getElementById(button.dataset.table);
    var next = table.querySelector("tbody[hidden]");
    if (next) next.hidden = false;
    var left = table.querySelectorAll("tbody[hidden]").length;
    button.hidden = left === 0;
    button.textContent = "Show " + button.dataset.step + " more (" + left + " pages left)";
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("button.paged-more"), function (b) {
      if (b.dataset.ready) return;
      b.dataset.ready = "1";
      b.addEventListener("click", function () { showMore(b); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
