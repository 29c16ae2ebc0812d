"""Evaluation: nine tasks, scored exactly as lm-evaluation-harness scores them, and fast.

- `tasks`: the task registry (`TaskSpec`, prompts byte for byte as lm-eval's);
- `task_data`, `data_dir`: a task's rows (local files or the Hub) and offline data directories;
- `engine`: per-choice log-likelihoods (loading, requests, batching, shared prefix, one batch);
- `metrics`, `predictions`, `run_manifest`: scores, the per-item evidence, resumable runs;
- `run`: one `medlb evaluate` run; `summary`: its score tables;
- `tiny_models`: tiny real checkpoints for the demo and the tests.
"""
