"""The pipeline between a pull request and a published result (`medlb results …`).

- `request`: what crosses the trust boundary: the PR's bundle, taken in as data; the task split;
- `merge`: a split run's parts into what one runner would have written;
- `publish`: `results/<org>/<model>.json` or a failure record, and the commit's file list;
- `failure_reasons`: one actionable line per failure kind;
- `score_report`: the PR comment and the job summary.
"""
