"""What the code generator needs to know about one resource kind: its names, its schema models, its printer columns
and where its field reference goes in the docs.

Each kind package describes itself with one :class:`KindApi` (``kinds/<kind>/api/crd.py``);
:mod:`scribe_operator.codegen` turns every description in :data:`scribe_operator.kinds.registry.APIS` into the
checked-in CRD ``crds/<group>_<plural>.yaml`` and the generated field tables of the docs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, ConfigDict

from scribe_operator.api.base import ApiModel
from scribe_operator.api.constants import GROUP, VERSION

CATEGORIES: Final = ("scribe",)
"""The categories every kind of the operator is in: ``kubectl get scribe`` lists the objects of them all."""


class PrinterColumn(ApiModel):
    """One column of ``kubectl get``: an ``additionalPrinterColumns`` entry of the CRD, spelled like every API
    model (:meth:`to_schema`)."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: str
    json_path: str
    description: str | None = None

    def to_schema(self) -> dict[str, str]:
        """The CRD's spelling of this column: camelCase, no ``description`` when it has none."""
        return self.model_dump(by_alias=True, exclude_none=True)


def status_column(name: str, type: str, path: str, description: str) -> PrinterColumn:
    """A column that shows the status field at ``path`` (JSON names, dotted: ``counts.total``)."""
    return PrinterColumn(name=name, type=type, json_path=f".status.{path}", description=description)


AGE_COLUMN: Final = PrinterColumn(name="Age", type="date", json_path=".metadata.creationTimestamp")
"""How long ago the object was created, as ``kubectl get`` shows the age of every kind."""


def kubectl_columns(phase: str, *columns: PrinterColumn) -> tuple[PrinterColumn, ...]:
    """The ``kubectl get`` columns of one of the operator's kinds: its phase first (``phase`` says what the phase
    tells), then the kind's own ``columns``, its age last."""
    return (status_column("Phase", "string", "phase", phase), *columns, AGE_COLUMN)


@dataclass(frozen=True, kw_only=True)
class DocSection:
    """A generated section of a hand-written Markdown file: the text between ``<!-- BEGIN GENERATED: name -->``
    and ``<!-- END GENERATED: name -->`` in ``doc`` (a path relative to the repository root)."""

    doc: str
    name: str


@dataclass(frozen=True, kw_only=True)
class KindApi:
    """The API of one namespaced custom resource kind with a status subresource, served in one version."""

    kind: str
    """``TranscriptionTask``; the list kind is this plus ``List``, the CRD's name is ``<plural>.<group>``."""
    plural: str
    short_names: tuple[str, ...]
    description: str
    """The schema's top-level description (``kubectl explain <kind>``)."""
    spec: type[BaseModel]
    status: type[BaseModel]
    printer_columns: tuple[PrinterColumn, ...]
    fields_doc: DocSection
    """Where the spec and status field tables go."""
    operator_verbs: tuple[str, ...] = ("get", "list", "watch")
    """What the operator does with the kind's objects (its status it only patches): its chart RBAC rules."""
    operator_why: str = "watch them"
    """Why, for the comment above those rules in the chart (``watch them; create ...``)."""
    categories: tuple[str, ...] = CATEGORIES
    group: str = GROUP
    version: str = VERSION

    @property
    def singular(self) -> str:
        """The kind's singular resource name: the kind in lower case (``transcriptiontask``), as Kubernetes names
        its own."""
        return self.kind.lower()

    @property
    def crd_path(self) -> str:
        """Where the generated CRD is checked in, relative to the repository root."""
        return f"crds/{self.group}_{self.plural}.yaml"
