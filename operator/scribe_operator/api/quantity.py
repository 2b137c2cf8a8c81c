"""Kubernetes resource quantities (``500m``, ``2Gi``, ``1``): a pydantic type and a small parser."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, StringConstraints, WithJsonSchema

QUANTITY_PATTERN: Final = (
    r"^(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))"
    r"(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
"""Non-negative quantities, as the API server's own (unsigned) quantity syntax."""

_BINARY: Final = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL: Final = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_SPLIT = re.compile(r"^(?P<number>[0-9.]+)(?P<suffix>[A-Za-z]*)(?P<exp>[+-]?[0-9.]*)$")


def _number_to_str(value: Any) -> Any:
    """YAML ``cpu: 1`` arrives as an int: quantities are int-or-string, kept as strings here."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


Quantity = Annotated[
    str,
    BeforeValidator(_number_to_str),
    StringConstraints(pattern=QUANTITY_PATTERN, max_length=64),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "pattern": QUANTITY_PATTERN,
            "x-kubernetes-int-or-string": True,
        }
    ),
]
"""A resource quantity: an integer or a string such as ``500m`` or ``2Gi``."""


def parse_quantity(text: str) -> Decimal:
    """The value of a quantity (``"2Gi"`` -> 2147483648); ``ValueError`` if it is not one."""
    if re.match(QUANTITY_PATTERN, text) is None:
        raise ValueError(f"not a quantity: {text!r}")
    match = _SPLIT.match(text)
    if match is None:  # pragma: no cover - the pattern above is stricter
        raise ValueError(f"not a quantity: {text!r}")
    try:
        number = Decimal(match["number"])
        suffix = match["suffix"]
        if match["exp"]:  # the pattern only lets an exponent follow "e" or "E"
            return number * Decimal(10) ** Decimal(match["exp"])
        if suffix in _BINARY:
            return number * Decimal(1024) ** _BINARY[suffix]
        return number * Decimal(10) ** _DECIMAL[suffix]
    except (InvalidOperation, KeyError) as err:  # pragma: no cover - guarded by the pattern
        raise ValueError(f"not a quantity: {text!r}") from err


def memory_bytes(text: str) -> int | None:
    """A memory quantity in whole bytes (rounded up), or ``None`` if ``text`` is not a quantity."""
    try:
        return math.ceil(parse_quantity(text))
    except ValueError:
        return None


def format_mebibytes(size: int) -> str:
    """Bytes as a ``Mi`` quantity, rounded up: 1073741824 -> ``"1024Mi"``."""
    return f"{-(-size // 2**20)}Mi"
