"""The checked-in image map: image reference -> local command."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[4]


def repository(image: str) -> str:
    """`registry/repo:tag@digest` -> `registry/repo`."""
    ref = image.split("@", 1)[0]
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    return ref[:colon] if colon > slash else ref


@dataclass(frozen=True)
class ImageMap:
    entries: dict[str, tuple[str, ...]]  # repository -> entrypoint

    @classmethod
    def load(cls, path: Path) -> ImageMap:
        raw = yaml.safe_load(path.read_text())
        entries: dict[str, tuple[str, ...]] = {}
        for item in raw["images"]:
            entry = tuple(
                str(a).replace("{python}", sys.executable).replace("{repo}", str(REPO)) for a in item["entrypoint"]
            )
            for repo in item["repositories"]:
                entries[repo] = entry
        return cls(entries)

    def argv(self, image: str, command: list[str] | None, args: list[str] | None) -> list[str] | None:
        """The process argv for a container, as a container runtime composes it; None if the image is unknown."""
        entry = self.entries.get(repository(image))
        if entry is None:
            return None
        if command:
            return [*command, *(args or [])]
        return [*entry, *(args or [])]
