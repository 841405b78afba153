"""Checks of the repository's files: manifest.json, hacs.json, brand images, layout."""

from collections.abc import Iterator, Mapping
import json
from pathlib import Path
import re
import tomllib
from typing import Any

from homeassistant.const import __version__ as HA_VERSION
from packaging.version import Version
from PIL import Image

from .collector import SourceFacts, collect
from .repo import DOMAIN, HA_PACKAGE, PLATFORMS, Repo

# Integrations any integration may import from without declaring them (hassfest's list).
ALWAYS_ALLOWED_COMPONENTS = PLATFORMS | {
    "alert",
    "automation",
    "conversation",
    "default_config",
    "device_automation",
    "frontend",
    "group",
    "homeassistant",
    "input_boolean",
    "input_button",
    "input_datetime",
    "input_number",
    "input_select",
    "input_text",
    "media_source",
    "mjpeg",
    "onboarding",
    "panel_custom",
    "persistent_notification",
    "person",
    "script",
    "shopping_list",
    "stream",
    "sun",
    "system_health",
    "system_log",
    "timer",
    "webhook",
    "websocket_api",
    "zone",
}

MANIFEST_REQUIRED = (
    "domain",
    "name",
    "codeowners",
    "config_flow",
    "documentation",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "version",
)
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
    "virtual",
}
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}
BRAND_SIZES = {"icon.png": (256, 256), "icon@2x.png": (512, 512)}
PINNED = re.compile(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+!-]*")
BOUNDED = re.compile(
    r"([A-Za-z0-9_.\-\[\]]+)>=([0-9][0-9A-Za-z.+!-]*),<([0-9][0-9A-Za-z.+!-]*)"
)
"""A bounded range, ``name>=low,<high``: a library Home Assistant core pins too."""


def manifest_keys_and_values(repo: Repo) -> Iterator[str]:
    """Keys in hassfest's order, the required ones present, values well formed."""
    manifest = repo.load_json(repo.manifest)
    keys = list(manifest)
    if keys[:2] != ["domain", "name"]:
        yield "manifest must start with domain, name"
    if keys[2:] != sorted(keys[2:]):
        yield "manifest keys after name must be sorted"
    if missing := [key for key in MANIFEST_REQUIRED if key not in manifest]:
        yield f"manifest misses {missing}"
    if not manifest.get("domain") == repo.integration.name == DOMAIN:
        yield f"domain {manifest.get('domain')!r}: must be {DOMAIN!r}, the folder name"
    if manifest.get("name") != "Tesla Resilient":
        yield f"name {manifest.get('name')!r}: must be 'Tesla Resilient'"
    owners = manifest.get("codeowners")
    if not owners or not all(re.fullmatch(r"@[\w-]+(/[\w-]+)?", o) for o in owners):
        yield f"codeowners {owners!r}: GitHub @users or @org/teams, at least one"
    for key in ("documentation", "issue_tracker"):
        url = str(manifest.get(key, ""))
        if not url.startswith("https://") or "home-assistant.io" in url:
            yield f"{key} {url!r}: an https:// address outside home-assistant.io"
    if manifest.get("iot_class") not in IOT_CLASSES:
        yield f"iot_class {manifest.get('iot_class')!r}: not one of {sorted(IOT_CLASSES)}"
    if manifest.get("integration_type") not in INTEGRATION_TYPES:
        yield f"integration_type {manifest.get('integration_type')!r}: unknown"
    if not re.fullmatch(r"\d+\.\d+\.\d+", str(manifest.get("version"))):
        yield f"version {manifest.get('version')!r}: not MAJOR.MINOR.PATCH"
    if manifest.get("config_flow") is not True:
        yield "config_flow must be true"
    if not (repo.integration / "config_flow.py").is_file():
        yield "config_flow.py does not exist"
    if any(
        logger.startswith("custom_components") for logger in manifest.get("loggers", [])
    ):
        yield "loggers names the requirements' loggers, not our own"


def _ha_pins() -> dict[str, set[str]]:
    """Versions Home Assistant pins, by normalised package name."""
    pins: dict[str, set[str]] = {}

    def add(requirement: str) -> None:
        if "==" in requirement:
            name, version = requirement.split("==", 1)
            name = re.sub(r"[-_.]+", "-", name.split("[")[0].strip()).lower()
            pins.setdefault(name, set()).add(version.split(";")[0].strip())

    for line in (HA_PACKAGE / "package_constraints.txt").read_text().splitlines():
        add(line.strip())
    for manifest in (HA_PACKAGE / "components").glob("*/manifest.json"):
        for requirement in json.loads(manifest.read_text()).get("requirements", []):
            add(requirement)
    return pins


def manifest_requirements_pinned_and_consistent_with_home_assistant(
    repo: Repo,
) -> Iterator[str]:
    """Requirements are pinned or bounded, and admit the version Home Assistant pins.

    A pinned requirement (``==``) must be the version Home Assistant pins, if it pins
    one, and pinned identically in requirements_test.txt. A bounded range
    (``>=low,<high``) must contain Home Assistant's pin and the version
    requirements_test.txt pins.
    """
    requirements = repo.load_json(repo.manifest).get("requirements", [])
    pins = _ha_pins()
    test_reqs = repo.text(repo.root / "requirements_test.txt").splitlines()
    for requirement in requirements:
        if bounded := BOUNDED.fullmatch(requirement):
            name, low, high = bounded.groups()
            wanted = (Version(low), Version(high))
            versions = {"requirements_test.txt": _test_pin(test_reqs, name)}
            for version in _ha_versions(pins, name):
                versions[f"Home Assistant {HA_VERSION}"] = version
            for where, version in versions.items():
                if version is None or not wanted[0] <= Version(version) < wanted[1]:
                    yield f"{requirement}: {where} pins {version}"
            continue
        if not PINNED.fullmatch(requirement):
            yield f"{requirement} is neither pinned with == nor bounded (>=,<)"
            continue
        name, version = requirement.split("==")
        ha_versions = _ha_versions(pins, name)
        if ha_versions and ha_versions != {version}:
            yield f"{requirement}: Home Assistant {HA_VERSION} pins {sorted(ha_versions)}"
        if requirement not in test_reqs:
            yield f"{requirement} must be pinned identically in requirements_test.txt"


def _ha_versions(pins: Mapping[str, set[str]], name: str) -> set[str]:
    """The versions Home Assistant pins of the package ``name``."""
    return pins.get(re.sub(r"[-_.]+", "-", name).lower(), set())


def _test_pin(test_reqs: list[str], name: str) -> str | None:
    """The version requirements_test.txt pins of the package ``name``, if any."""
    prefix = f"{name}=="
    for line in test_reqs:
        if line.startswith(prefix):
            return line.removeprefix(prefix).strip()
    return None


def undeclared_components(
    package: Path, facts: SourceFacts, manifest: Mapping[str, Any]
) -> set[str]:
    """Integrations imported from but neither declared nor allowed (hassfest's rule)."""
    allowed = (
        ALWAYS_ALLOWED_COMPONENTS
        | set(manifest.get("dependencies", []))
        | set(manifest.get("after_dependencies", []))
        | {manifest.get("domain", DOMAIN)}
    )
    missing = set()
    for where, refs in facts.component_imports.items():
        file_platform = Path(where).parts[0].removesuffix(".py")
        for ref in refs - allowed:
            if ref == file_platform:
                continue  # e.g. diagnostics.py implements the diagnostics platform
            if (package / f"{ref}.py").is_file() or (package / ref).is_dir():
                continue  # the integration has a platform for it
            missing.add(ref)
    return missing


def manifest_dependencies_cover_component_imports(repo: Repo) -> Iterator[str]:
    """Every `homeassistant.components.X` import is declared (entity platforms exempt)."""
    manifest = repo.load_json(repo.manifest)
    facts = collect(repo.integration)
    if undeclared := undeclared_components(repo.integration, facts, manifest):
        yield f"not in dependencies/after_dependencies: {sorted(undeclared)}"
    after = set(manifest.get("after_dependencies", []))
    if both := set(manifest.get("dependencies", [])) & after:
        yield f"in both dependencies and after_dependencies: {sorted(both)}"
    for dependency in [*manifest.get("dependencies", []), *after]:
        if not (HA_PACKAGE / "components" / dependency).is_dir():
            yield f"{dependency}: no such Home Assistant integration"


def hacs_json(repo: Repo) -> Iterator[str]:
    """hacs.json has a name, only keys HACS knows, a minimum version we test against."""
    hacs = repo.load_json(repo.root / "hacs.json")
    if not hacs.get("name"):
        yield "hacs.json has no name"
    if unknown := set(hacs) - HACS_KEYS:
        yield f"hacs.json: unknown keys {sorted(unknown)}"
    if "homeassistant" not in hacs:
        yield "hacs.json declares no minimum homeassistant version"
        return
    minimum = tuple(int(part) for part in hacs["homeassistant"].split("."))
    tested = tuple(int(part) for part in HA_VERSION.split(".")[:3])
    if minimum > tested:
        yield f"hacs.json: tests run on {HA_VERSION}, below the declared minimum"


def repository_layout(repo: Repo) -> Iterator[str]:
    """One integration, a README and an OSI licence (MIT) at the root."""
    integrations = [
        p.parent.name for p in (repo.root / "custom_components").glob("*/manifest.json")
    ]
    if integrations != [DOMAIN]:
        yield f"custom_components holds {integrations}, must hold only {DOMAIN}"
    if not repo.readme.is_file():
        yield "HACS needs README.md at the root"
    licence = repo.text(repo.root / "LICENSE")
    if not licence.startswith("MIT License"):
        yield "LICENSE is not the MIT License"
    if "Tesla Resilient developers" not in licence:
        yield "LICENSE does not name the Tesla Resilient developers"


def brand_images(repo: Repo) -> Iterator[str]:
    """Brand icons live in the integration folder, PNG, exact sizes, transparent."""
    for name, size in BRAND_SIZES.items():
        path = repo.integration / "brand" / name
        if not path.is_file():
            yield f"brand/{name} does not exist"
            continue
        with Image.open(path) as image:
            if (image.format, image.size, image.mode) != ("PNG", size, "RGBA"):
                yield f"brand/{name}: must be a {size[0]}x{size[1]} RGBA PNG"
            elif image.getchannel("A").getextrema() != (0, 255):
                yield f"brand/{name}: transparent background, opaque drawing"


def brand_folder_holds_only_brand_images(repo: Repo) -> Iterator[str]:
    """Only the file names Home Assistant reads; an optional logo has a sane size."""
    allowed = {
        f"{dark}{kind}{hi_dpi}.png"
        for dark in ("", "dark_")
        for kind in ("icon", "logo")
        for hi_dpi in ("", "@2x")
    }
    brand = repo.integration / "brand"
    present = {path.name for path in brand.iterdir()} if brand.is_dir() else set()
    if missing := {"icon.png", "icon@2x.png"} - present:
        yield f"brand/ misses {sorted(missing)}"
    if unknown := present - allowed:
        yield f"brand/ holds files Home Assistant does not read: {sorted(unknown)}"
    for name in sorted(present & allowed):
        if "logo" in name:
            with Image.open(brand / name) as image:
                shortest = 256 if "@2x" in name else 128
                if image.format != "PNG" or not (
                    shortest <= min(image.size) <= 2 * shortest
                ):
                    yield f"brand/{name}: a PNG, shortest side {shortest}-{2 * shortest}"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object's members; a key given twice (the later silently wins) is an error."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"key {key!r} appears twice in one object")
        seen[key] = value
    return seen


def every_json_file_parses(repo: Repo) -> Iterator[str]:
    """Every *.json in the repository is valid JSON, without a key twice in an object."""
    files = repo.files(".json")
    if repo.manifest not in files:
        yield f"{repo.manifest.relative_to(repo.root)} does not exist"
    for path in files:
        try:
            json.loads(path.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
        except ValueError as err:
            yield f"{path.relative_to(repo.root)}: {err}"


def version_has_one_source(repo: Repo) -> Iterator[str]:
    """manifest.json holds the version; pyproject.toml repeats it."""
    released = repo.load_json(repo.manifest).get("version")
    project = tomllib.loads(repo.text(repo.root / "pyproject.toml"))["project"]
    if project.get("version") != released:
        yield (
            f"pyproject.toml version {project.get('version')!r} differs from "
            f"manifest.json's {released!r}"
        )


CHECKS = (
    manifest_keys_and_values,
    manifest_requirements_pinned_and_consistent_with_home_assistant,
    manifest_dependencies_cover_component_imports,
    hacs_json,
    repository_layout,
    brand_images,
    brand_folder_holds_only_brand_images,
    every_json_file_parses,
    version_has_one_source,
)
