/* Where a question is shown: the link the compare page puts on a question id.
 *
 * questionLink(root, task, docId) returns the URL of a page about question `docId` (its index
 * in the task's split) of `task`, relative to the site root `root`, or null while the site has
 * no such page; callers then print the id without a link. A per-question view fills this in. */
(function () {
  "use strict";

  function questionLink(root, task, docId) {
    return null;
  }

  window.MedlbQuestions = { link: questionLink };
})();
