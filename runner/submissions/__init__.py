"""Submissions: what a model author writes, and every check `medlb validate` runs on it.

- `safe_yaml`: hardened YAML for untrusted files; `yaml_diagnosis`: slips repaired, errors worded;
- `schema`: the `Submission` contract (`submissions/<org>/<model>.yaml`) and `review_mapping`,
  which finds every problem of a file at once; `suggestions`: what to write instead;
- `checks`: the table of every check (`CHECKS`) and the `CheckResult` each gives;
- `model_checks`, `hub_checks`: the checks on a model directory and on a Hub repository;
- `repo_checks`: what a pull request may change (`--changed-from`);
- `report`: the report as text, annotations, job summary and JSON;
- `validate`: the flow that runs the checks in order (`medlb validate`).
"""

from runner.submissions.schema import Submission, load_submission

__all__ = ["Submission", "load_submission"]
