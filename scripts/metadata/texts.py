"""Checks of the texts: strings.json and its English copy, services, icons, code rules."""

import ast
from collections.abc import Iterator, Mapping
import re
from typing import Any

from .collector import collect
from .repo import PLATFORMS, Repo, has_path, iter_keys, iter_strings
from .resolver import parse_package

TRANSLATION_KEY = re.compile(r"^[a-z0-9_-]+$")
HTML_TAG = re.compile(r"</?[a-z][^>]*>", re.IGNORECASE)
QUOTED_PLACEHOLDER = re.compile(r"'\{[^}]*\}'")


def strings_problems(strings: Any) -> list[str]:
    """What hassfest's translation schema would reject in a strings.json tree."""
    problems = []
    for path, text in iter_strings(strings):
        if "[%key:" in text:
            problems.append(
                f"{path}: [%key:…%] references are not resolved for custom integrations"
            )
        if text != text.strip():
            problems.append(f"{path}: leading or trailing whitespace")
        if HTML_TAG.search(text):
            problems.append(f"{path}: contains HTML")
        if QUOTED_PLACEHOLDER.search(text):
            problems.append(f"{path}: placeholders must not be in single quotes")
        if not text:
            problems.append(f"{path}: empty string")
    for parent, key in iter_keys(strings):
        if parent.endswith((".data", ".data_description", ".fields")):
            continue  # form field and service field names follow the schema, checked below
        if not TRANSLATION_KEY.match(key):
            problems.append(f"{parent}.{key}: key must match {TRANSLATION_KEY.pattern}")

    def check_steps(tree: Any, path: str) -> None:
        if not isinstance(tree, Mapping):
            return
        if "data_description" in tree:
            data = tree.get("data", {})
            problems.extend(
                f"{path}.data_description.{key}: no matching {path}.data.{key}"
                for key in tree["data_description"]
                if key not in data
            )
        for key, value in tree.items():
            check_steps(value, f"{path}.{key}" if path else key)

    check_steps(strings, "")
    return problems


def english_translation_is_strings_json(repo: Repo) -> Iterator[str]:
    """translations/en.json is strings.json (scripts/sync_translations copies it)."""
    if repo.load_json(repo.en) != repo.load_json(repo.strings):
        yield "translations/en.json differs from strings.json: run scripts/sync_translations"


def strings_schema(repo: Repo) -> Iterator[str]:
    """No [%key:…%] references, no HTML, no stray spaces, descriptions match fields."""
    yield from strings_problems(repo.load_json(repo.strings))


def translation_keys_used_in_code_exist(repo: Repo) -> Iterator[str]:
    """Every translation the code asks for is in strings.json."""
    strings = repo.load_json(repo.strings)
    facts = collect(repo.integration)
    yield from facts.problems
    missing = sorted(path for path in facts.translations if not has_path(strings, path))
    if missing:
        yield f"missing from strings.json: {missing}"


def services_consistent(repo: Repo) -> Iterator[str]:
    """services.yaml, the services the code registers and strings.json agree."""
    registered = collect(repo.integration).services
    strings = repo.load_json(repo.strings)
    if not registered:
        if repo.services.exists():
            yield "services.yaml describes services the code never registers"
        if "services" in strings:
            yield "strings.json names services the code never registers"
        return
    described = repo.load_yaml(repo.services)
    if set(described) != registered:
        yield f"services.yaml describes {sorted(described)}, the code registers {sorted(registered)}"
    texts = strings.get("services", {})
    if set(texts) != registered:
        yield f"strings.json names {sorted(texts)}, the code registers {sorted(registered)}"
    for service, spec in described.items():
        text = texts.get(service, {})
        if not text.get("name") or not text.get("description"):
            yield f"services.{service}: needs a name and a description"
        fields = set((spec or {}).get("fields") or {})
        if set(text.get("fields", {})) != fields:
            yield f"services.{service}: the fields differ from services.yaml's"
        for name in sorted(fields):
            field = text.get("fields", {}).get(name, {})
            if not field.get("name") or not field.get("description"):
                yield f"services.{service}.fields.{name}: needs a name and a description"


def icons_json(repo: Repo) -> Iterator[str]:
    """icons.json: mdi icons only, entity keys that exist, services that exist."""
    icons = repo.load_json(repo.icons)
    strings = repo.load_json(repo.strings)
    for path, icon in iter_strings(icons):
        if not icon.startswith("mdi:"):
            yield f"icons: {path}: {icon!r} is not an mdi: icon"
    for platform, entities in icons.get("entity", {}).items():
        for key, spec in entities.items():
            if not has_path(strings, f"entity.{platform}.{key}"):
                yield f"icons: {platform}.{key} is no entity of strings.json"
            default = spec.get("default")
            for state, icon in spec.get("state", {}).items():
                if icon == default:
                    yield f"icons: {platform}.{key}.{state} repeats the default"
    if "services" in icons:
        services = set(repo.load_yaml(repo.services))
        if set(icons["services"]) != services:
            yield f"icons: services {sorted(icons['services'])}, services.yaml {sorted(services)}"
        for service, spec in icons["services"].items():
            if not spec.get("service", "").startswith("mdi:"):
                yield f"icons: services.{service} needs an mdi: service icon"


def config_schema_when_async_setup(repo: Repo) -> Iterator[str]:
    """An integration with async_setup declares it takes no YAML configuration."""
    source = repo.text(repo.integration / "__init__.py")
    if re.search(r"^async def async_setup\(", source, re.MULTILINE) and (
        "CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)" not in source
    ):
        yield "__init__.py has async_setup but no config_entry_only CONFIG_SCHEMA"


def _module_names(module: ast.Module) -> set[str]:
    """Names a module assigns at its top level."""
    return {
        target.id
        for stmt in module.body
        for target in (
            stmt.targets
            if isinstance(stmt, ast.Assign)
            else [stmt.target]
            if isinstance(stmt, ast.AnnAssign)
            else []
        )
        if isinstance(target, ast.Name)
    }


def platform_modules_set_parallel_updates(repo: Repo) -> Iterator[str]:
    """Each entity platform module limits parallel updates explicitly."""
    for path, module in parse_package(repo.integration).items():
        if len(path.parts) != 1 or path.stem not in PLATFORMS:
            continue
        if "PARALLEL_UPDATES" not in _module_names(module):
            yield f"{path}: no PARALLEL_UPDATES"


def api_package_is_independent_of_home_assistant(repo: Repo) -> Iterator[str]:
    """api/ imports nothing from homeassistant (it could be published on its own)."""
    for path, module in parse_package(repo.integration / "api").items():
        for node in ast.walk(module):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] in {"homeassistant", "requests"}:
                    yield f"api/{path}:{node.lineno}: imports {name}"


CHECKS = (
    english_translation_is_strings_json,
    strings_schema,
    translation_keys_used_in_code_exist,
    services_consistent,
    icons_json,
    config_schema_when_async_setup,
    platform_modules_set_parallel_updates,
    api_package_is_independent_of_home_assistant,
)
