"""The shape every object of the operator's kinds shares: ``apiVersion``, ``kind``, ``metadata``, ``spec`` and
``status``, generic in the spec and status models (each kind's model names its own, and the defaults of
``apiVersion`` and ``kind``)."""

from __future__ import annotations

from typing import Generic, Self, TypeVar

from pydantic import Field

from scribe_operator.api.base import ApiModel
from scribe_operator.api.meta import ObjectMeta

SpecT = TypeVar("SpecT", bound=ApiModel)
StatusT = TypeVar("StatusT", bound=ApiModel)


class Resource(ApiModel, Generic[SpecT, StatusT]):
    """An object of one of the operator's kinds."""

    api_version: str
    kind: str
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: SpecT
    status: StatusT

    def with_status(self, status: StatusT) -> Self:
        """A copy carrying ``status`` (e.g. a plan's new status, as if written)."""
        return self.model_copy(update={"status": status})
