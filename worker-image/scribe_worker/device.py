"""Which device and compute type the model runs on: ``SCRIBE_DEVICE`` and ``SCRIBE_COMPUTE_TYPE`` resolved.

``auto`` uses CUDA when CTranslate2 sees a CUDA device and falls back to the CPU otherwise. Unless overridden,
the compute type follows the device: ``int8`` on CPU (fast, small), ``float16`` on CUDA.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from scribe_contract.env import COMPUTE_TYPE, DEVICE
from scribe_contract.taxonomy import Reason

from scribe_worker.errors import WorkerError

DEFAULT_COMPUTE_TYPES = {"cpu": "int8", "cuda": "float16"}


@dataclass(frozen=True)
class Placement:
    device: str  # cpu | cuda
    compute_type: str


def cuda_device_count() -> int:
    """CUDA devices CTranslate2 can use; 0 when it was built without CUDA or no driver/device is there."""
    import ctranslate2  # noqa: PLC0415  (lazy: engine-only)

    try:
        return int(ctranslate2.get_cuda_device_count())
    except Exception:  # a broken driver counts as no device
        return 0


def supported_compute_types(device: str) -> Collection[str]:
    import ctranslate2  # noqa: PLC0415  (lazy: engine-only)

    try:
        return frozenset(ctranslate2.get_supported_compute_types(device))
    except Exception:
        return frozenset()


def resolve(
    requested: str,
    compute_type: str | None,
    *,
    cuda_devices: Callable[[], int] = cuda_device_count,
    supported: Callable[[str], Collection[str]] = supported_compute_types,
) -> Placement:
    """The device for ``requested`` (auto | cpu | cuda) and the compute type; InvalidConfiguration if impossible."""
    if requested == "cpu":
        device = "cpu"
    elif cuda_devices() > 0:
        device = "cuda"
    elif requested == "cuda":
        raise WorkerError(
            Reason.INVALID_CONFIGURATION,
            f"{DEVICE}=cuda but no CUDA device is visible (check the pod's nvidia.com/gpu limit and the "
            "node's driver), or use auto to fall back to the CPU",
        )
    else:
        device = "cpu"
    chosen = compute_type or DEFAULT_COMPUTE_TYPES[device]
    # "auto"/"default" are CTranslate2's own choices; other types must be ones the device supports.
    available = supported(device)
    if chosen not in ("auto", "default") and available and chosen not in available:
        raise WorkerError(
            Reason.INVALID_CONFIGURATION,
            f"{COMPUTE_TYPE}={chosen!r} is not supported on {device} here (supported: {', '.join(sorted(available))})",
        )
    return Placement(device, chosen)
