"""The BibTeX entry for citing the leaderboard itself, as the About page prints it."""

from __future__ import annotations

CITATION_KEY = "open_medical_llm_leaderboard_rebuild"


def leaderboard_bibtex(repository_url: str, year: int) -> str:
    """A @misc entry with a valid key; braces around the title keep its capitals."""
    fields = {
        "title": "{Open Medical-LLM Leaderboard}: a reproducible rebuild",
        "author": "{Open Medical-LLM Leaderboard contributors}",
        "year": str(year),
        "howpublished": "\\url{" + repository_url + "}",
        "note": "Zero-shot accuracy on nine medical benchmarks, "
        "as lm-evaluation-harness 0.4 scores them",
    }
    width = max(map(len, fields))
    lines = [f"  {name.ljust(width)} = {{{value}}}" for name, value in fields.items()]
    return "@misc{" + CITATION_KEY + ",\n" + ",\n".join(lines) + "\n}"
