"""The repository under check: where its files are and how they are read."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import re
from typing import Any

import homeassistant
from homeassistant.const import Platform
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
DOMAIN = "tesla_resilient"
HA_PACKAGE = Path(homeassistant.__file__).parent
PLATFORMS = frozenset(platform.value for platform in Platform)


class MissingFileError(Exception):
    """A file a check reads does not exist."""


@dataclass
class Repo:
    """The files of a repository holding the integration (the real one or a copy)."""

    root: Path = ROOT
    integration: Path = field(init=False)  # custom_components/tesla_resilient
    manifest: Path = field(init=False)
    strings: Path = field(init=False)  # the source of the English texts
    en: Path = field(init=False)  # translations/en.json, a copy of strings.json
    services: Path = field(init=False)  # services.yaml
    icons: Path = field(init=False)
    quality_scale: Path = field(init=False)  # the quality scale self-audit
    readme: Path = field(init=False)  # HACS shows it; the docs-* rules read it

    def __post_init__(self) -> None:
        self.integration = self.root / "custom_components" / DOMAIN
        self.manifest = self.integration / "manifest.json"
        self.strings = self.integration / "strings.json"
        self.en = self.integration / "translations" / "en.json"
        self.services = self.integration / "services.yaml"
        self.icons = self.integration / "icons.json"
        self.quality_scale = self.integration / "quality_scale.yaml"
        self.readme = self.root / "README.md"

    def load_json(self, path: Path) -> Any:
        """Parse a JSON file; MissingFileError names it when it does not exist."""
        return json.loads(self.text(path))

    def load_yaml(self, path: Path) -> Any:
        """Parse a YAML file; MissingFileError names it when it does not exist."""
        return yaml.safe_load(self.text(path))

    def text(self, path: Path) -> str:
        """Read a text file; MissingFileError names it when it does not exist."""
        if not path.is_file():
            raise MissingFileError(f"{path.relative_to(self.root)} does not exist yet")
        return path.read_text(encoding="utf-8")

    def files(self, suffix: str) -> list[Path]:
        """Files of the repository ending in `suffix`, outside tool and VCS directories."""
        skip = {".git", ".venv", "venv", "node_modules", ".mypy_cache", ".ruff_cache"}
        found: list[Path] = []
        for directory, subdirs, files in os.walk(self.root):
            subdirs[:] = [
                d for d in subdirs if d not in skip and not d.startswith(".cache")
            ]
            found.extend(Path(directory, f) for f in files if f.endswith(suffix))
        return sorted(found)


def has_path(tree: Any, dotted: str) -> bool:
    """True when `tree` has nested keys `a.b.c` (the last value may be anything)."""
    node = tree
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def iter_strings(tree: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (dotted path, text) for every string value of a translation tree."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            yield from iter_strings(value, f"{path}.{key}" if path else str(key))
    elif isinstance(tree, str):
        yield path, tree


def iter_keys(tree: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Yield (dotted path of the parent, key) for every key of a translation tree."""
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            yield path, str(key)
            yield from iter_keys(value, f"{path}.{key}" if path else str(key))


def headings(markdown: str) -> list[str]:
    """The heading lines of a Markdown document, without the #s."""
    return [
        match.group(1).strip()
        for match in re.finditer(r"^#{1,6}\s+(.+)$", markdown, re.MULTILINE)
    ]
