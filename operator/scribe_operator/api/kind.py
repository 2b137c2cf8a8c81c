"""What the code generator needs to know about one resource kind: its names, its schema models, its printer columns
and where its field reference goes in the docs.

Each kind package describes itself with one :class:`KindApi` (``kinds/<kind>/api/crd.py``);
:mod:`scribe_operator.codegen` turns every description in :data:`scribe_operator.kinds.registry.APIS` into the
checked-in CRD ``crds/<group>_<plural>.yaml`` and the generated field tables of the docs.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from scribe_operator.api.constants import GROUP, VERSION


@dataclass(frozen=True, kw_only=True)
class PrinterColumn:
    """One column of ``kubectl get`` (an ``additionalPrinterColumns`` entry)."""

    name: str
    type: str
    json_path: str
    description: str | None = None

    def to_schema(self) -> dict[str, str]:
        """The CRD's spelling of this column."""
        column = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description is not None:
            column["description"] = self.description
        return column


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
    singular: str
    short_names: tuple[str, ...]
    categories: tuple[str, ...]
    description: str
    """The schema's top-level description (``kubectl explain <kind>``)."""
    spec: type[BaseModel]
    status: type[BaseModel]
    printer_columns: tuple[PrinterColumn, ...]
    fields_doc: DocSection
    """Where the spec and status field tables go."""
    group: str = GROUP
    version: str = VERSION

    @property
    def crd_path(self) -> str:
        """Where the generated CRD is checked in, relative to the repository root."""
        return f"crds/{self.group}_{self.plural}.yaml"
