"""Reading the answer out of a generation (DESIGN §10; ARCHITECTURE.md, "The reasoning track").

The LAST match of the "Final Answer" pattern, read from the text after the last `</think>` (with
its leading whitespace stripped, as lm-eval's `think_end_token` does). It is exactly what lm-eval's
`regex` filter with `group_select: -1` returns (`re.findall(...)[-1]`); where lm-eval says
"[invalid]", this says None ("no answer": scored wrong, and counted).
"""

from __future__ import annotations

import re

THINK_END = "</think>"
LETTER_PATTERN = r"(?i:final\s*answer)\s*[:：]?[\s*_()\[\]]*([A-D])\b"
PUBMEDQA_PATTERN = r"(?i:final\s*answer)\s*[:：]?[\s*_()\[\]]*((?i:yes|no|maybe))\b"
_LETTER = re.compile(LETTER_PATTERN)
_PUBMEDQA = re.compile(PUBMEDQA_PATTERN)


def answer_text(generation: str) -> str:
    """The part of a generation that extraction reads: after the last `</think>`, if any, without
    leading whitespace (lm-eval's `postprocess_generated_text` with `think_end_token`)."""
    return generation.split(THINK_END)[-1].lstrip()


def extract_answer(generation: str, *, letters: bool) -> str | None:
    """ "A".."D" (letter tasks) or "yes"/"no"/"maybe" (lower-cased), else None."""
    matches = (_LETTER if letters else _PUBMEDQA).findall(answer_text(generation))
    if not matches:
        return None
    answer = matches[-1].strip()
    return answer if letters else answer.lower()
