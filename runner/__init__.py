"""Open Medical-LLM Leaderboard: validation, evaluation and site generation (`medlb`)."""

__version__ = "0.1.0"
