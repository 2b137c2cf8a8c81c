"""Kubernetes resource quantities, as far as the pod runner needs them (memory in bytes)."""

from __future__ import annotations

import re
from decimal import Decimal

_SUFFIX = {
    "": 1,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}  # fmt: skip
_RE = re.compile(r"^([0-9.]+(?:[eE][-+]?[0-9]+)?)(m|[kMGTPE]i?)?$")


def parse_bytes(quantity: str | int) -> int:
    text = str(quantity).strip()
    match = _RE.match(text)
    if not match:
        raise ValueError(f"not a quantity: {quantity!r}")
    number, suffix = Decimal(match.group(1)), match.group(2) or ""
    if suffix == "m":
        return int(number / 1000)
    return int(number * _SUFFIX[suffix])
