"""Measured GPU energy: NVML's cumulative energy counter, read before and after a track.

The one thin adapter around NVML (`nvidia-ml-py`, imported as `pynvml`, only inside `EnergyMeter`
and only on a machine that has it): a result's `energy_wh` is what the GPUs' own counters say,
summed over the GPUs this process can see, or None where NVML or the counter is unavailable
(a CPU machine, a GPU older than Volta). Never estimated from power constants
(ARCHITECTURE.md, "The reasoning track").
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

_MILLIJOULES_PER_WH = 3_600_000.0


class EnergyMeter:
    """`start()` reads every visible GPU's counter; `stop()` returns the Wh used since, or None."""

    def __init__(self) -> None:
        self._nvml: Any = None
        self._handles: list[Any] = []
        self._start_mj: list[int] | None = None

    def start(self) -> None:
        self._start_mj = None
        self._nvml, self._handles = _open_nvml()
        if self._handles:
            self._start_mj = self._read_mj()

    def stop(self) -> float | None:
        """Wh used by the visible GPUs since `start()`; None when it could not be measured."""
        if self._start_mj is None:
            return None
        end_mj = self._read_mj()
        self._close()
        if end_mj is None:
            return None
        used = sum(max(0, end - begin) for begin, end in zip(self._start_mj, end_mj, strict=True))
        self._start_mj = None
        return used / _MILLIJOULES_PER_WH

    def _read_mj(self) -> list[int] | None:
        try:
            return [int(self._nvml.nvmlDeviceGetTotalEnergyConsumption(h)) for h in self._handles]
        except Exception:  # NVMLError_NotSupported and kin: no counter, so no figure
            self._close()
            return None

    def _close(self) -> None:
        if self._nvml is not None:
            # shutting down a library that failed: nothing more to say
            with contextlib.suppress(Exception):
                self._nvml.nvmlShutdown()
        self._nvml, self._handles = None, []


def _open_nvml() -> tuple[Any, list[Any]]:
    """(pynvml, handles of the GPUs this process may use), or (None, []) without NVML."""
    try:
        import pynvml
    except ImportError:
        return None, []
    try:
        pynvml.nvmlInit()
        count = pynvml.nvmlDeviceGetCount()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in visible_gpu_indices(count)]
    except Exception:  # no driver, no GPU: energy is simply not measured
        return None, []
    return pynvml, handles


def visible_gpu_indices(count: int, visible: str | None = None) -> list[int]:
    """The NVML indices of the GPUs CUDA_VISIBLE_DEVICES names (all `count` when unset).

    Only numeric indices are understood; a UUID list falls back to every GPU, which over-counts
    only on a machine shared between jobs (the CI's GPU runners are not)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES") if visible is None else visible
    if visible is None:
        return list(range(count))
    parts = [part.strip() for part in visible.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        return list(range(count))
    return [int(part) for part in parts if int(part) < count]
