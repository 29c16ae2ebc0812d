"""The three precisions a model is submitted and evaluated in: one list for every layer.

The submission schema, the results contract, `medlb evaluate --dtype` and the engine all read
`PRECISIONS`; `PRECISION_ALIASES` are the spellings people type instead (torch's and common
shorthand), which messages turn into a "did you mean" rather than accept silently.
"""

from __future__ import annotations

from typing import Literal

Precision = Literal["float16", "bfloat16", "float32"]
PRECISIONS: tuple[str, ...] = ("float16", "bfloat16", "float32")

PRECISION_ALIASES: dict[str, str] = {
    "fp16": "float16",
    "f16": "float16",
    "half": "float16",
    "torch.float16": "float16",
    "16": "float16",
    "bf16": "bfloat16",
    "bfloat": "bfloat16",
    "brainfloat16": "bfloat16",
    "torch.bfloat16": "bfloat16",
    "fp32": "float32",
    "f32": "float32",
    "float": "float32",
    "full": "float32",
    "torch.float32": "float32",
    "32": "float32",
}
