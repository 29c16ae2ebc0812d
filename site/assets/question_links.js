/* Where a question is shown: the link the compare page puts on a question id.
 *
 * questionLink(root, task, docId, model, other) returns the URL of the question view
 * (site/assets/questions.js) of question `docId` (its index in the task's split) of `task`, for
 * `model` (a results key, "org/name"), showing `other`'s answer beside it when given; `root` is
 * the relative URL of the site root. Callers pass a model whose per-item details the site has
 * (the compare page knows which), else print the id without a link. */
(function () {
  "use strict";

  function questionLink(root, task, docId, model, other) {
    if (!model) return null;
    var query = new URLSearchParams({ model: model, task: task, item: String(docId) });
    if (other) query.set("vs", other);
    return root + "questions/?" + query.toString();
  }

  window.MedlbQuestions = { link: questionLink };
})();
