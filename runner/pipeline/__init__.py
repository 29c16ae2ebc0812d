"""The pipeline between a pull request and a published result (`medlb results …`).

- `request`: what crosses the trust boundary: the PR's bundle, `request.json`, the task split;
- `pull_request`: GitHub's answers about the PR, checked against the bundle;
- `intake`: the privileged side takes a submission in (bundle, GitHub, default branch);
- `merge`: a split run's parts into what one runner would have written;
- `publish`: `results/<org>/<model>.json` or a failure record, and the commit plan;
- `run_jobs`: whether a GPU job of the run started;
- `landing`: the commit through the Git Data API, decided on the live branch, then the comment;
- `failure_reasons`: one actionable line per failure kind;
- `score_report`: the PR comment and the job summary.
"""
