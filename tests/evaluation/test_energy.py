"""The NVML energy adapter: Wh from the GPUs' own counters, None where there are none.

NVML is a C library behind `pynvml`; these tests put a module with pynvml's documented functions
in `sys.modules` (counters in millijoules, as nvmlDeviceGetTotalEnergyConsumption returns) and
check the adapter's arithmetic and its choice of GPUs, which is all the adapter decides."""

from __future__ import annotations

import sys
import types

import pytest

from runner.evaluation.energy import EnergyMeter, visible_gpu_indices


class FakeNvml(types.ModuleType):
    """pynvml with `counters[i]` millijoules on GPU i, advanced by `spend`."""

    def __init__(self, counters: list[int], supported: bool = True):
        super().__init__("pynvml")
        self.counters = counters
        self.supported = supported
        self.shutdowns = 0

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shutdowns += 1

    def nvmlDeviceGetCount(self):
        return len(self.counters)

    def nvmlDeviceGetHandleByIndex(self, index):
        return index

    def nvmlDeviceGetTotalEnergyConsumption(self, handle):
        if not self.supported:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        return self.counters[handle]


@pytest.fixture
def fake_nvml(monkeypatch):
    def install(counters, supported=True, visible=None):
        module = FakeNvml(counters, supported)
        monkeypatch.setitem(sys.modules, "pynvml", module)
        if visible is None:
            monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
        else:
            monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
        return module

    return install


def test_energy_is_the_counters_difference_summed_over_the_visible_gpus(fake_nvml):
    nvml = fake_nvml([1_000, 50_000])
    meter = EnergyMeter()
    meter.start()
    nvml.counters[0] += 3_600_000  # 1 Wh
    nvml.counters[1] += 1_800_000  # 0.5 Wh
    assert meter.stop() == pytest.approx(1.5)
    assert nvml.shutdowns == 1


def test_only_the_gpus_cuda_visible_devices_names_are_counted(fake_nvml):
    nvml = fake_nvml([0, 0, 0], visible="2")
    meter = EnergyMeter()
    meter.start()
    nvml.counters = [7_200_000, 7_200_000, 3_600_000]
    assert meter.stop() == pytest.approx(1.0)


def test_no_counter_or_no_nvml_gives_none_never_an_estimate(fake_nvml, monkeypatch):
    fake_nvml([0], supported=False)
    meter = EnergyMeter()
    meter.start()
    assert meter.stop() is None
    monkeypatch.setitem(sys.modules, "pynvml", None)  # `import pynvml` raises ImportError
    meter.start()
    assert meter.stop() is None


def test_stop_without_start_is_none():
    assert EnergyMeter().stop() is None


@pytest.mark.parametrize(
    ("visible", "expected"),
    [(None, [0, 1, 2, 3]), ("1,3", [1, 3]), ("", []), ("GPU-1a2b", [0, 1, 2, 3]), ("0,9", [0])],
)
def test_visible_gpu_indices(visible, expected, monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert visible_gpu_indices(4, visible) == expected
