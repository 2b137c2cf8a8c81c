"""CEL validation rules (``x-kubernetes-validations``) declared next to the models they guard.

Every rule that the API server can check is also checked by the model's pydantic validator with the same
message, so a bad manifest fails the same way in ``kubectl apply`` and in the unit tests.
"""

from __future__ import annotations

from typing import Any, NamedTuple

VALIDATIONS_KEY = "x-kubernetes-validations"


class CelRule(NamedTuple):
    """One ``x-kubernetes-validations`` entry; ``message`` names the field it is about."""

    rule: str
    message: str

    def to_schema(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.message}


def validations(*rules: CelRule) -> dict[str, Any]:
    """A ``json_schema_extra`` fragment carrying ``rules``."""
    return {VALIDATIONS_KEY: [r.to_schema() for r in rules]}
