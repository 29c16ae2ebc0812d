"""Parameter counts from safetensors headers: the shapes, never the tensors.

A safetensors file starts with an 8-byte little-endian length and a JSON header listing every
tensor's dtype and shape. Validation reads it to report a model's size and evaluation to decide
whether the weights fit one GPU; neither reads or trusts anything else in the file.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024  # the format's own limit on the JSON header


def safetensors_parameter_count(path: Path) -> dict[str, int]:
    """Parameters per dtype from one safetensors file's JSON header; the tensors are not read."""
    try:
        with Path(path).open("rb") as handle:
            prefix = handle.read(8)
            if len(prefix) != 8:
                raise ValueError(f"{path.name}: not a safetensors file (too short)")
            (length,) = struct.unpack("<Q", prefix)
            if length > MAX_SAFETENSORS_HEADER:
                raise ValueError(f"{path.name}: safetensors header of {length:,} bytes is too big")
            header = json.loads(handle.read(length).decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(
            f"{path.name}: unreadable safetensors header ({type(err).__name__})"
        ) from err
    counts: dict[str, int] = {}
    for name, tensor in header.items():
        if name == "__metadata__":
            continue
        elements = 1
        for size in tensor["shape"]:
            elements *= int(size)
        counts[tensor["dtype"]] = counts.get(tensor["dtype"], 0) + elements
    return counts
