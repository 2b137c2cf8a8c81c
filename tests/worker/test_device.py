"""Choosing the device and compute type (the CUDA side with a stand-in device count: there is no GPU here)."""

from __future__ import annotations

import pytest
from scribe_contract.taxonomy import Reason
from scribe_worker import device
from scribe_worker.device import Placement
from scribe_worker.errors import WorkerError

CUDA_TYPES = frozenset({"float16", "int8_float16", "float32", "int8"})
CPU_TYPES = frozenset({"int8", "int8_float32", "float32"})


def supported(name: str) -> frozenset[str]:
    return CUDA_TYPES if name == "cuda" else CPU_TYPES


@pytest.mark.parametrize(
    ("requested", "compute_type", "cuda_devices", "expected"),
    [
        ("auto", None, 0, Placement("cpu", "int8")),
        ("auto", None, 1, Placement("cuda", "float16")),
        ("cpu", None, 2, Placement("cpu", "int8")),
        ("cuda", None, 1, Placement("cuda", "float16")),
        ("auto", "int8_float16", 1, Placement("cuda", "int8_float16")),
        ("auto", "float32", 0, Placement("cpu", "float32")),
        ("cpu", "auto", 0, Placement("cpu", "auto")),
    ],
)
def test_resolve(requested: str, compute_type: str | None, cuda_devices: int, expected: Placement) -> None:
    assert device.resolve(requested, compute_type, cuda_devices=lambda: cuda_devices, supported=supported) == expected


def test_cuda_without_a_device_is_invalid_configuration() -> None:
    with pytest.raises(WorkerError) as caught:
        device.resolve("cuda", None, cuda_devices=lambda: 0, supported=supported)
    assert caught.value.reason is Reason.INVALID_CONFIGURATION
    assert "SCRIBE_DEVICE=cuda but no CUDA device is visible" in caught.value.message


def test_a_compute_type_the_device_lacks_is_invalid_configuration() -> None:
    with pytest.raises(WorkerError, match=r"SCRIBE_COMPUTE_TYPE='float16' is not supported on cpu here"):
        device.resolve("auto", "float16", cuda_devices=lambda: 0, supported=supported)


def test_this_host_falls_back_to_the_cpu() -> None:
    # The real CTranslate2 query: no CUDA device here (CI has none), so auto means CPU with int8.
    assert device.resolve("auto", None) == Placement("cpu", "int8")
