"""Repository checks that stand in for hassfest and the HACS action.

Neither tool runs here (both need Docker), so this module checks what they check — the
manifest, hacs.json, brand images, translations against the code, services, icons — and
audits quality_scale.yaml: a rule claimed `done` needs evidence in the tree.

The collectors that read the integration's source with `ast` are tested on small trees
written to tmp_path at the end of this module, so the checker itself is checked.
"""

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
import importlib.util
import json
import os
from pathlib import Path
import re
import tomllib
from typing import Any

import homeassistant
from homeassistant.const import Platform, __version__ as HA_VERSION
from homeassistant.helpers import config_entry_oauth2_flow
from PIL import Image
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "tesla_resilient"
INTEGRATION = ROOT / "custom_components" / DOMAIN
MANIFEST = INTEGRATION / "manifest.json"
STRINGS = INTEGRATION / "strings.json"
EN = INTEGRATION / "translations" / "en.json"
SERVICES_YAML = INTEGRATION / "services.yaml"
ICONS = INTEGRATION / "icons.json"
QUALITY_SCALE = INTEGRATION / "quality_scale.yaml"
README = ROOT / "README.md"
HA_PACKAGE = Path(homeassistant.__file__).parent

PLATFORMS = frozenset(platform.value for platform in Platform)

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

QUALITY_RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow-test-coverage",
        "config-flow",
        "dependency-transparency",
        "docs-actions",
        "docs-triggers",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery-update-info",
        "discovery",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
ALL_QUALITY_RULES = frozenset(r for rules in QUALITY_RULES.values() for r in rules)

TRANSLATION_KEY = re.compile(r"^[a-z0-9_-]+$")
HTML_TAG = re.compile(r"</?[a-z][^>]*>", re.IGNORECASE)
QUOTED_PLACEHOLDER = re.compile(r"'\{[^}]*\}'")
# Abort reasons an OAuth2 flow handler gets translated by Home Assistant itself.
OAUTH_SHARED_ABORT_REASONS: frozenset[str] = getattr(
    config_entry_oauth2_flow, "_SHARED_ABORT_REASONS", frozenset()
)
EXCEPTION_NAMES = {
    "ConfigEntryAuthFailed",
    "ConfigEntryError",
    "ConfigEntryNotReady",
    "HomeAssistantError",
    "ServiceValidationError",
}


# ---------------------------------------------------------------------------------------
# Helpers: files
# ---------------------------------------------------------------------------------------


def load_json(path: Path) -> Any:
    """Parse a JSON file, failing the test with the file name when it is missing."""
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} does not exist yet")
    return json.loads(path.read_text(encoding="utf-8"))


def load_yaml(path: Path) -> Any:
    """Parse a YAML file, failing the test with the file name when it is missing."""
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} does not exist yet")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def repo_files(suffix: str) -> list[Path]:
    """Files of the repository ending in `suffix`, outside tool and VCS directories."""
    skip = {".git", ".venv", "venv", "node_modules", ".mypy_cache", ".ruff_cache"}
    found = []
    for directory, subdirs, files in os.walk(ROOT):
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


# ---------------------------------------------------------------------------------------
# Helpers: what the integration's source needs (ast)
# ---------------------------------------------------------------------------------------


def parse_package(package: Path) -> dict[Path, ast.Module]:
    """Parse every Python file under `package`, keyed by its path relative to it."""
    return {
        path.relative_to(package): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(package.rglob("*.py"))
    }


def _assigned(body: list[ast.stmt]) -> Iterator[tuple[str, ast.expr]]:
    """(name, value) of the simple assignments of a statement list."""
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    yield target.id, stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.value is not None
        ):
            yield stmt.target.id, stmt.value


def _returns(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """The return statements of a function, not of functions nested in it."""
    found: list[ast.Return] = []
    todo: list[ast.AST] = list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Return):
            found.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            todo.extend(ast.iter_child_nodes(node))
    return found


OAUTH2 = "<oauth2>"


def _key_params(
    function: ast.FunctionDef | ast.AsyncFunctionDef,
) -> list[tuple[int, str, str]]:
    """(position, name, section) of parameters a function uses as a translation_key.

    Position counts the arguments a caller passes (without self/cls); section is
    `exceptions` or `issues`.
    """
    params = [a.arg for a in function.args.posonlyargs + function.args.args]
    if params and params[0] in {"self", "cls"}:
        params = params[1:]
    params += [a.arg for a in function.args.kwonlyargs]
    found = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        key = keyword(node, "translation_key")
        if not isinstance(key, ast.Name) or key.id not in params:
            continue
        if call_name(node) == "async_create_issue":
            section = "issues"
        elif keyword(node, "translation_domain") is not None:
            section = "exceptions"
        else:
            continue
        found.append((params.index(key.id), key.id, section))
    return found


def _unique[T](found: Mapping[str, list[T]]) -> dict[str, T]:
    """Keep the names defined once, or several times identically."""
    return {
        name: values[0]
        for name, values in found.items()
        if all(value == values[0] for value in values)
    }


class Resolver:
    """What strings an expression of the integration's code can stand for, statically.

    Knows module- and class-level string constants (`NAME = "x"`, enum members), lists
    of them (`METHODS = [Method.A, "b"]`), dicts of them (`list(STATES.values())`),
    "key functions" whose every return is such a string (`def _error_key(err): ...
    return "invalid_auth"`) and "key parameters": a function parameter passed on as an
    exception's or an issue's translation_key (`def translated_error(key): return
    HomeAssistantError(translation_domain=DOMAIN, translation_key=key)`). Names defined
    twice differently are left out: they cannot be resolved.
    """

    def __init__(self, modules: Mapping[Path, ast.Module]) -> None:
        strings: dict[str, list[str]] = {}
        lists: dict[str, list[ast.expr]] = {}
        dicts: dict[str, list[ast.Dict]] = {}
        members: dict[str, list[str]] = {}
        bases: dict[str, list[list[str]]] = {}
        functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        for module in modules.values():
            for name, value in _assigned(module.body):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    strings.setdefault(name, []).append(value.value)
                elif isinstance(value, ast.List | ast.Tuple | ast.Set):
                    lists.setdefault(name, []).append(value)
                elif isinstance(value, ast.Dict):
                    dicts.setdefault(name, []).append(value)
            for node in ast.walk(module):
                if isinstance(node, ast.ClassDef):
                    bases.setdefault(node.name, []).append(base_names(node))
                    values = []
                    for name, value in _assigned(node.body):
                        if isinstance(value, ast.Constant) and isinstance(
                            value.value, str
                        ):
                            strings.setdefault(f"{node.name}.{name}", []).append(
                                value.value
                            )
                            values.append(value.value)
                    members.setdefault(node.name, []).append(values)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    functions.append(node)
        self.strings = _unique(strings)
        self.lists = {
            name: values[0] for name, values in lists.items() if len(values) == 1
        }
        self.dicts = {
            name: nodes[0] for name, nodes in dicts.items() if len(nodes) == 1
        }
        self.members = _unique(members)
        self.bases = _unique(bases)
        self.functions: dict[str, frozenset[str]] = {}
        found: dict[str, list[frozenset[str]]] = {}
        for function in functions:
            returns = _returns(function)
            values = [self.values(r.value) for r in returns]
            if returns and all(v is not None for v in values):
                found.setdefault(function.name, []).append(
                    frozenset(s for v in values if v is not None for s in v)
                )
        self.functions = _unique(found)
        params: dict[str, list[tuple[tuple[int, str, str], ...]]] = {}
        for function in functions:
            params.setdefault(function.name, []).append(tuple(_key_params(function)))
        self.key_params = {
            name: found for name, found in _unique(params).items() if found
        }

    def is_exception(self, name: str, seen: frozenset[str] = frozenset()) -> bool:
        """Whether class `name` of the integration derives from an exception."""
        for base in self.bases.get(name, []):
            if base in EXCEPTION_NAMES or base.endswith(("Error", "Exception")):
                return True
            if base not in seen and self.is_exception(base, seen | {name}):
                return True
        return False

    def one(self, node: ast.expr | None) -> str | None:
        """The single string `node` stands for, or None."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.strings.get(node.id)
        if isinstance(node, ast.Attribute):
            if node.attr == "value" and isinstance(node.value, ast.Attribute):
                return self.one(node.value)
            if isinstance(
                node.value, ast.Name
            ):  # Enum.MEMBER, Class.CONST, module.CONST
                return self.strings.get(
                    f"{node.value.id}.{node.attr}", self.strings.get(node.attr)
                )
        if (
            isinstance(node, ast.Call)
            and call_name(node) == "str"
            and len(node.args) == 1
        ):
            return self.one(node.args[0])
        return None

    def values(self, node: ast.expr | None) -> set[str] | None:
        """Every string `node` may stand for, or None when that cannot be known."""
        if (single := self.one(node)) is not None:
            return {single}
        if isinstance(node, ast.IfExp):
            body, orelse = self.values(node.body), self.values(node.orelse)
            return body | orelse if body is not None and orelse is not None else None
        if isinstance(node, ast.Call) and call_name(node) in self.functions:
            return set(self.functions[call_name(node)])
        return None

    def elements(self, node: ast.expr | None) -> list[str] | None:
        """The strings of a list expression (literal, constant, enum comprehension)."""
        if isinstance(node, ast.Name) and node.id in self.lists:
            return self.elements(self.lists[node.id])
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            found: list[str] = []
            for element in node.elts:
                found.extend(sorted(self.values(element) or ()))
            return found
        if (
            isinstance(node, ast.ListComp)
            and len(node.generators) == 1
            and isinstance(node.generators[0].iter, ast.Name)
            and not node.generators[0].ifs
        ):
            return self.members.get(node.generators[0].iter.id)
        if isinstance(node, ast.Call) and call_name(node) in {"values", "keys"}:
            mapping = node.func.value if isinstance(node.func, ast.Attribute) else None
            if isinstance(mapping, ast.Name) and mapping.id in self.dicts:
                literal = self.dicts[mapping.id]
                items = literal.values if call_name(node) == "values" else literal.keys
                return [v for item in items if (v := self.one(item)) is not None]
        if (
            isinstance(node, ast.Call)
            and call_name(node) in {"list", "tuple", "sorted", "set"}
            and len(node.args) == 1
        ):
            if isinstance(node.args[0], ast.Name) and node.args[0].id in self.members:
                return self.members[node.args[0].id]
            return self.elements(node.args[0])
        return None


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    """The value of keyword argument `name` of a call, if given."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def call_name(call: ast.Call) -> str:
    """`f` for `f(...)` and `x.y.f(...)`."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return ""


def base_names(cls: ast.ClassDef) -> list[str]:
    """Names of a class's bases (`A`, `mod.A`, `A[T]` all give `A`)."""
    names = []
    for base in cls.bases:
        node = base.value if isinstance(base, ast.Subscript) else base
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
        elif isinstance(node, ast.Name):
            names.append(node.id)
    return names


def flow_sections(module: ast.Module) -> dict[str, set[str]]:
    """Map each class of a module to the strings.json sections its flow steps use.

    A class deriving from a config flow uses `config`, from an options flow `options`;
    subclasses inherit; a mixin without a flow base takes the sections of the flow
    classes built on it. OAuth2 flow handlers also get the marker `oauth2`.
    """
    classes = {c.name: c for c in ast.walk(module) if isinstance(c, ast.ClassDef)}

    def direct(name: str) -> set[str]:
        sections = set()
        for base in base_names(classes[name]):
            if "OptionsFlow" in base:
                sections.add("options")
            elif "ConfigFlow" in base:
                sections.add("config")
            elif "OAuth2FlowHandler" in base:
                sections |= {"config", OAUTH2}
        return sections

    own: dict[str, set[str]] = {}

    def own_sections(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if name not in own:
            sections = direct(name)
            for base in base_names(classes[name]):
                if base in classes and base not in seen:
                    sections |= own_sections(base, seen | {name})
            own[name] = sections
        return own[name]

    for name in classes:
        own_sections(name)
    result = {name: set(sections) for name, sections in own.items()}
    for name, sections in own.items():
        if sections:
            continue
        for other, cls in classes.items():
            if name in base_names(cls):
                result[name] |= own[other]
    return result


@dataclass
class SourceFacts:
    """What the integration's code needs from its metadata files."""

    translations: set[str] = field(default_factory=set)  # dotted strings.json paths
    services: set[str] = field(default_factory=set)
    component_imports: dict[str, set[str]] = field(default_factory=dict)  # file -> X
    problems: list[str] = field(default_factory=list)


class _Collector(ast.NodeVisitor):
    """Walk one module and record what it needs into a SourceFacts."""

    def __init__(
        self,
        facts: SourceFacts,
        module_path: Path,
        resolver: Resolver,
        sections: Mapping[str, set[str]],
        key_fallback: bool,
    ) -> None:
        self.facts = facts
        self.where = str(module_path)
        stem = module_path.stem if len(module_path.parts) == 1 else ""
        self.platform = stem if stem in PLATFORMS else None
        self.resolver = resolver
        self.sections = sections
        self.current: set[str] = set()  # strings.json sections of the enclosing flow
        self.oauth2 = False  # the enclosing flow is an OAuth2 flow handler
        # Entities fall back to their description's key as translation key.
        self.key_fallback = bool(self.platform) and key_fallback
        self.imports = facts.component_imports.setdefault(self.where, set())

    # -- structure --------------------------------------------------------------------

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if self.resolver.is_exception(node.name):
            for name, value in _assigned(node.body):
                if name == "translation_key":
                    for key in self.resolver.values(value) or ():
                        self._need(f"exceptions.{key}.message")
        outer = self.current, self.oauth2
        sections = self.sections.get(node.name, set())
        self.current, self.oauth2 = sections - {OAUTH2}, OAUTH2 in sections
        self.generic_visit(node)
        self.current, self.oauth2 = outer

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for stmt in node.orelse:
                self.visit(stmt)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            parts = alias.name.split(".")
            if parts[:2] == ["homeassistant", "components"] and len(parts) > 2:
                self.imports.add(parts[2])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        parts = (node.module or "").split(".")
        if node.level == 0 and parts[:2] == ["homeassistant", "components"]:
            if len(parts) > 2:
                self.imports.add(parts[2])
            else:
                self.imports.update(alias.name for alias in node.names)

    # -- things that need translations --------------------------------------------------

    def _need(self, path: str) -> None:
        self.facts.translations.add(path)

    def _flow_need(self, kind: str, node: ast.expr | None, default: str = "") -> None:
        keys = self.resolver.values(node) if node is not None else {default}
        if kind == "abort" and self.oauth2 and keys:
            keys -= OAUTH_SHARED_ABORT_REASONS
        for key in keys or ():
            for section in self.current:
                self._need(f"{section}.{kind}.{key}")

    def _errors_dict(self, node: ast.expr | None) -> None:
        if isinstance(node, ast.Dict):
            for value in node.values:
                self._flow_need("error", value)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assignment(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._assignment(node.target, node.value)
        self.generic_visit(node)

    def _assignment(self, target: ast.expr, value: ast.expr | None) -> None:
        name = (
            target.id
            if isinstance(target, ast.Name)
            else target.attr
            if isinstance(target, ast.Attribute)
            else None
        )
        if name in {"errors", "_errors"}:
            self._errors_dict(value)
        elif isinstance(target, ast.Subscript) and (
            (isinstance(target.value, ast.Name) and target.value.id == "errors")
            or (
                isinstance(target.value, ast.Attribute)
                and target.value.attr in {"errors", "_errors"}
            )
        ):
            self._flow_need("error", value)
        elif name == "_attr_translation_key" and self.platform:
            for key in self.resolver.values(value) or ():
                self._need(f"entity.{self.platform}.{key}.name")

    def visit_Call(self, node: ast.Call) -> None:
        name = call_name(node)
        handler = getattr(self, f"_call_{name}", None)
        if handler is not None:
            handler(node)
        elif keyword(node, "translation_key") is not None or (
            self.key_fallback
            and name.endswith("EntityDescription")
            and keyword(node, "key") is not None
        ):
            self._translation_key_call(node, name)
        for position, param, section in self.resolver.key_params.get(name, []):
            arg = (
                node.args[position]
                if position < len(node.args)
                else keyword(node, param)
            )
            for key in self.resolver.values(arg) or ():
                self._need(
                    f"{section}.{key}.message"
                    if section == "exceptions"
                    else f"{section}.{key}.title"
                )
        self.generic_visit(node)

    def _call_async_show_form(self, node: ast.Call) -> None:
        self._flow_need("step", keyword(node, "step_id"))
        self._errors_dict(keyword(node, "errors"))

    def _call_async_show_menu(self, node: ast.Call) -> None:
        for step in self.resolver.values(keyword(node, "step_id")) or ():
            for section in self.current:
                self._need(f"{section}.step.{step}")
                for option in (
                    self.resolver.elements(keyword(node, "menu_options")) or ()
                ):
                    self._need(f"{section}.step.{step}.menu_options.{option}")

    def _call_async_abort(self, node: ast.Call) -> None:
        if keyword(node, "translation_domain") is not None:
            return  # translated by another domain (Home Assistant's shared strings)
        self._flow_need("abort", keyword(node, "reason"))

    def _call_async_update_reload_and_abort(self, node: ast.Call) -> None:
        # Without `reason` Home Assistant uses its own reauth/reconfigure strings.
        if (reason := keyword(node, "reason")) is not None:
            self._flow_need("abort", reason)

    _call_async_update_and_abort = _call_async_update_reload_and_abort

    def _call__abort_if_unique_id_configured(self, node: ast.Call) -> None:
        self._flow_need("abort", keyword(node, "error"), "already_configured")

    def _call__abort_if_unique_id_mismatch(self, node: ast.Call) -> None:
        self._flow_need("abort", keyword(node, "reason"), "unique_id_mismatch")

    def _call_async_create_issue(self, node: ast.Call) -> None:
        for key in self.resolver.values(keyword(node, "translation_key")) or ():
            self._need(f"issues.{key}.title")

    def _call_async_register(self, node: ast.Call) -> None:
        if len(node.args) >= 2 and self.resolver.one(node.args[0]) == DOMAIN:
            self.facts.services.update(self.resolver.values(node.args[1]) or ())

    def _call_async_register_entity_service(self, node: ast.Call) -> None:
        arg = node.args[0] if node.args else keyword(node, "name")
        self.facts.services.update(self.resolver.values(arg) or ())

    def _call_async_register_platform_entity_service(self, node: ast.Call) -> None:
        arg = node.args[2] if len(node.args) >= 3 else keyword(node, "service_name")
        self.facts.services.update(self.resolver.values(arg) or ())

    def _call_SelectSelectorConfig(self, node: ast.Call) -> None:
        for key in self.resolver.values(keyword(node, "translation_key")) or ():
            for option in self.resolver.elements(keyword(node, "options")) or ():
                self._need(f"selector.{key}.options.{option}")

    def _translation_key_call(self, node: ast.Call, name: str) -> None:
        given = keyword(node, "translation_key")
        keys = self.resolver.values(
            given if given is not None else keyword(node, "key")
        )
        keys = keys or set()
        for key in sorted(keys):
            if keyword(node, "translation_domain") is not None:
                self._need(f"exceptions.{key}.message")
            elif name in EXCEPTION_NAMES or name.endswith(("Error", "Exception")):
                self.facts.problems.append(
                    f"{self.where}:{node.lineno}: {name}(translation_key={key!r}) "
                    "without translation_domain is never translated"
                )
            elif self.platform:
                self._need(f"entity.{self.platform}.{key}.name")
                for state in self.resolver.elements(keyword(node, "options")) or ():
                    self._need(f"entity.{self.platform}.{key}.state.{state}")


def collect(package: Path) -> SourceFacts:
    """Everything the integration in `package` needs from its metadata files."""
    modules = parse_package(package)
    resolver = Resolver(modules)
    facts = SourceFacts()
    shared_fallback = any(
        uses_key_fallback(module)
        for path, module in modules.items()
        if len(path.parts) == 1 and path.stem not in PLATFORMS
    )
    for path, module in modules.items():
        fallback = shared_fallback or uses_key_fallback(module)
        _Collector(facts, path, resolver, flow_sections(module), fallback).visit(module)
    return facts


def uses_key_fallback(module: ast.Module) -> bool:
    """Whether entities set `_attr_translation_key = d.translation_key or d.key`."""
    for node in ast.walk(module):
        if (
            isinstance(node, ast.Assign)
            and any(
                isinstance(t, ast.Attribute) and t.attr == "_attr_translation_key"
                for t in node.targets
            )
            and isinstance(node.value, ast.BoolOp)
            and isinstance(node.value.op, ast.Or)
            and isinstance(last := node.value.values[-1], ast.Attribute)
            and last.attr == "key"
        ):
            return True
    return False


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


def headings(markdown: str) -> list[str]:
    """The heading lines of a Markdown document, without the #s."""
    return [
        match.group(1).strip()
        for match in re.finditer(r"^#{1,6}\s+(.+)$", markdown, re.MULTILINE)
    ]


# ---------------------------------------------------------------------------------------
# manifest.json, hacs.json, repository files
# ---------------------------------------------------------------------------------------


def test_manifest_keys_and_values() -> None:
    """Keys in hassfest's order, the required ones present, values well formed."""
    manifest = load_json(MANIFEST)
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"], "manifest must start with domain, name"
    assert keys[2:] == sorted(keys[2:]), "manifest keys after name must be sorted"
    missing = [key for key in MANIFEST_REQUIRED if key not in manifest]
    assert not missing, f"manifest misses {missing}"
    assert manifest["domain"] == INTEGRATION.name == DOMAIN
    assert manifest["name"] == "Tesla Resilient"
    assert manifest["codeowners"]
    assert all(re.fullmatch(r"@[\w-]+(/[\w-]+)?", o) for o in manifest["codeowners"])
    for key in ("documentation", "issue_tracker"):
        assert manifest[key].startswith("https://"), key
        assert "home-assistant.io" not in manifest[key], key
    assert manifest["iot_class"] in IOT_CLASSES
    assert manifest["integration_type"] in INTEGRATION_TYPES
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["config_flow"] is True
    assert (INTEGRATION / "config_flow.py").is_file()
    assert "loggers" not in manifest or all(
        not logger.startswith("custom_components") for logger in manifest["loggers"]
    ), "loggers names the requirements' loggers, not our own"


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


def test_manifest_requirements_pinned_and_consistent_with_home_assistant() -> None:
    """Requirements are pinned and never in a version Home Assistant pins differently."""
    manifest = load_json(MANIFEST)
    pins = _ha_pins()
    for requirement in manifest.get("requirements", []):
        assert re.fullmatch(
            r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+!-]*", requirement
        ), f"{requirement} is not pinned with =="
        name, version = requirement.split("==")
        ha_versions = pins.get(re.sub(r"[-_.]+", "-", name).lower(), set())
        assert not ha_versions or ha_versions == {version}, (
            f"{requirement}: Home Assistant {HA_VERSION} pins {sorted(ha_versions)}"
        )
    test_reqs = (ROOT / "requirements_test.txt").read_text(encoding="utf-8")
    for requirement in manifest.get("requirements", []):
        assert requirement in test_reqs.splitlines(), (
            f"{requirement} must be pinned identically in requirements_test.txt"
        )


def test_manifest_dependencies_cover_component_imports() -> None:
    """Every `homeassistant.components.X` import is declared (entity platforms exempt)."""
    manifest = load_json(MANIFEST)
    facts = collect(INTEGRATION)
    undeclared = undeclared_components(INTEGRATION, facts, manifest)
    assert not undeclared, f"not in dependencies/after_dependencies: {undeclared}"
    after = set(manifest.get("after_dependencies", []))
    assert not set(manifest.get("dependencies", [])) & after
    for dependency in [*manifest.get("dependencies", []), *after]:
        assert (HA_PACKAGE / "components" / dependency).is_dir(), dependency


def test_hacs_json() -> None:
    """hacs.json has a name, only keys HACS knows, a minimum version we test against."""
    hacs = load_json(ROOT / "hacs.json")
    assert hacs.get("name")
    assert set(hacs) <= HACS_KEYS, f"unknown keys {set(hacs) - HACS_KEYS}"
    minimum = tuple(int(part) for part in hacs["homeassistant"].split("."))
    tested = tuple(int(part) for part in HA_VERSION.split(".")[:3])
    assert minimum <= tested, f"tests run on {HA_VERSION}, below the declared minimum"


def test_repository_layout() -> None:
    """One integration, a README and an OSI licence (MIT) at the root."""
    integrations = [
        p.parent.name for p in (ROOT / "custom_components").glob("*/manifest.json")
    ]
    assert integrations == [DOMAIN]
    assert README.is_file(), "HACS needs README.md at the root"
    licence = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert licence.startswith("MIT License")
    assert "Tesla Resilient developers" in licence


@pytest.mark.parametrize(("name", "size"), list(BRAND_SIZES.items()))
def test_brand_images(name: str, size: tuple[int, int]) -> None:
    """Brand icons live in the integration folder, PNG, exact sizes, transparent."""
    with Image.open(INTEGRATION / "brand" / name) as image:
        assert image.format == "PNG"
        assert image.size == size
        assert image.mode == "RGBA"
        alpha = image.getchannel("A")
        assert alpha.getextrema() == (0, 255), "transparent background, opaque drawing"


def test_brand_folder_holds_only_brand_images() -> None:
    """Only the file names Home Assistant reads; an optional logo has a sane size."""
    allowed = {
        f"{dark}{kind}{hi_dpi}.png"
        for dark in ("", "dark_")
        for kind in ("icon", "logo")
        for hi_dpi in ("", "@2x")
    }
    present = {path.name for path in (INTEGRATION / "brand").iterdir()}
    assert {"icon.png", "icon@2x.png"} <= present <= allowed
    for name in present:
        if "logo" in name:
            with Image.open(INTEGRATION / "brand" / name) as image:
                shortest = 256 if "@2x" in name else 128
                assert image.format == "PNG", name
                assert shortest <= min(image.size) <= 2 * shortest, name


def test_every_json_file_parses() -> None:
    """Every *.json in the repository is valid JSON."""
    files = repo_files(".json")
    assert MANIFEST in files
    for path in files:
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except ValueError as err:
            pytest.fail(f"{path.relative_to(ROOT)}: {err}")


# ---------------------------------------------------------------------------------------
# Translations, services, icons
# ---------------------------------------------------------------------------------------


def test_english_translation_is_strings_json() -> None:
    """translations/en.json is strings.json (scripts/sync_translations copies it)."""
    assert load_json(EN) == load_json(STRINGS)


def test_strings_schema() -> None:
    """No [%key:…%] references, no HTML, no stray spaces, descriptions match fields."""
    problems = strings_problems(load_json(STRINGS))
    assert not problems, "\n".join(problems)


def test_translation_keys_used_in_code_exist() -> None:
    """Every translation the code asks for is in strings.json."""
    strings = load_json(STRINGS)
    facts = collect(INTEGRATION)
    assert facts.problems == []
    missing = sorted(path for path in facts.translations if not has_path(strings, path))
    assert not missing, f"missing from strings.json: {missing}"


def test_services_consistent() -> None:
    """services.yaml, the services the code registers and strings.json agree."""
    registered = collect(INTEGRATION).services
    strings = load_json(STRINGS)
    if not registered:
        assert not SERVICES_YAML.exists()
        assert "services" not in strings
        return
    described = load_yaml(SERVICES_YAML)
    assert set(described) == registered
    assert set(strings.get("services", {})) == registered
    for service, spec in described.items():
        text = strings["services"][service]
        assert text.get("name"), service
        assert text.get("description"), service
        fields = set((spec or {}).get("fields") or {})
        assert set(text.get("fields", {})) == fields, service
        for name in fields:
            assert text["fields"][name].get("name"), f"{service}.{name}"
            assert text["fields"][name].get("description"), f"{service}.{name}"


def test_icons_json() -> None:
    """icons.json: mdi icons only, entity keys that exist, services that exist."""
    icons = load_json(ICONS)
    strings = load_json(STRINGS)
    for path, icon in iter_strings(icons):
        assert icon.startswith("mdi:"), path
    for platform, entities in icons.get("entity", {}).items():
        for key, spec in entities.items():
            assert has_path(strings, f"entity.{platform}.{key}"), (
                f"icons: {platform}.{key}"
            )
            default = spec.get("default")
            for state, icon in spec.get("state", {}).items():
                assert icon != default, f"{platform}.{key}.{state} repeats the default"
    if "services" in icons:
        services = set(load_yaml(SERVICES_YAML))
        assert set(icons["services"]) == services
        for service, spec in icons["services"].items():
            assert spec.get("service", "").startswith("mdi:"), service


def test_config_schema_when_async_setup() -> None:
    """An integration with async_setup declares it takes no YAML configuration."""
    source = (INTEGRATION / "__init__.py").read_text(encoding="utf-8")
    if re.search(r"^async def async_setup\(", source, re.MULTILINE):
        assert "CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)" in source


def test_platform_modules_set_parallel_updates() -> None:
    """Each entity platform module limits parallel updates explicitly."""
    for path, module in parse_package(INTEGRATION).items():
        if len(path.parts) != 1 or path.stem not in PLATFORMS:
            continue
        names = {
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
        assert "PARALLEL_UPDATES" in names, path


def test_api_package_is_independent_of_home_assistant() -> None:
    """api/ imports nothing from homeassistant (it could be published on its own)."""
    for path, module in parse_package(INTEGRATION / "api").items():
        for node in ast.walk(module):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                assert name.split(".")[0] not in {"homeassistant", "requests"}, path


# ---------------------------------------------------------------------------------------
# Quality scale self-audit
# ---------------------------------------------------------------------------------------


def test_quality_scale_lists_every_rule() -> None:
    """All 54 rules, each done/todo/exempt; todo and exempt explain themselves."""
    rules = load_yaml(QUALITY_SCALE)["rules"]
    assert len(ALL_QUALITY_RULES) == 54
    assert set(rules) == ALL_QUALITY_RULES
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value.get("status")
        assert status in {"done", "todo", "exempt"}, rule
        if status != "done":
            assert isinstance(value, dict), f"{rule}: needs a comment"
            assert str(value.get("comment", "")).strip(), f"{rule}: needs a comment"


def _source(*names: str) -> str:
    paths = (
        [INTEGRATION / n for n in names] if names else sorted(INTEGRATION.rglob("*.py"))
    )
    return "\n".join(p.read_text(encoding="utf-8") for p in paths if p.is_file())


def _readme_heading(pattern: str) -> Callable[[], bool]:
    def check() -> bool:
        text = README.read_text(encoding="utf-8") if README.is_file() else ""
        return any(re.search(pattern, h, re.IGNORECASE) for h in headings(text))

    return check


def _has_description() -> bool:
    text = README.read_text(encoding="utf-8") if README.is_file() else ""
    intro = re.split(r"^##\s", text, maxsplit=1, flags=re.MULTILINE)[0]
    return any(
        line.strip() and not line.startswith(("#", "!", "[", "<"))
        for line in intro.splitlines()
    )


def _code(pattern: str, *names: str) -> Callable[[], bool]:
    return lambda: re.search(pattern, _source(*names), re.MULTILINE) is not None


def _json_has(path: Path, key: str) -> Callable[[], bool]:
    return lambda: (
        path.is_file() and key in json.loads(path.read_text(encoding="utf-8"))
    )


def _exists(*names: str) -> Callable[[], bool]:
    return lambda: all((INTEGRATION / name).exists() for name in names)


def _mypy_strict() -> bool:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["mypy"].get("strict") is True


def _coverage_gates() -> bool:
    gate = (ROOT / "scripts" / "check_coverage.py").read_text(encoding="utf-8")
    runner = (ROOT / "scripts" / "test").read_text(encoding="utf-8")
    return '"config_flow.py"' in gate and "scripts/check_coverage.py" in runner


# Evidence a rule claimed `done` must show in the tree (rules not listed are trusted to
# the tests of the behaviour they describe).
EVIDENCE: dict[str, Callable[[], bool]] = {
    "action-exceptions": _code(r"ServiceValidationError\("),
    "action-setup": _code(r"^async def async_setup\(", "__init__.py"),
    "appropriate-polling": _exists("polling.py"),
    "async-dependency": lambda: "aiohttp" in _source("api/client.py", "api/auth.py"),
    "brands": _exists("brand/icon.png", "brand/icon@2x.png"),
    "common-modules": _exists("coordinator.py", "entity.py"),
    "config-entry-unloading": _code(r"^async def async_unload_entry\(", "__init__.py"),
    "config-flow": _exists("config_flow.py"),
    "config-flow-test-coverage": _coverage_gates,
    "devices": _code(r"DeviceInfo\("),
    "diagnostics": _code(r"def async_get_config_entry_diagnostics\(", "diagnostics.py"),
    "entity-category": _code(r"EntityCategory\.(DIAGNOSTIC|CONFIG)"),
    "entity-device-class": _code(r"device_class\s*="),
    "entity-disabled-by-default": _code(r"entity_registry_enabled_default\s*=\s*False"),
    "entity-translations": _json_has(STRINGS, "entity"),
    "entity-unique-id": _code(r"_attr_unique_id\s*="),
    "exception-translations": _json_has(STRINGS, "exceptions"),
    "has-entity-name": _code(r"_attr_has_entity_name\s*=\s*True"),
    "icon-translations": _exists("icons.json"),
    "inject-websession": _code(r"async_get_clientsession|async_create_clientsession"),
    "integration-owner": _json_has(MANIFEST, "codeowners"),
    "reauthentication-flow": _code(r"async def async_step_reauth\(", "config_flow.py"),
    "reconfiguration-flow": _code(
        r"async def async_step_reconfigure\(", "config_flow.py"
    ),
    "repair-issues": _code(r"async_create_issue\("),
    "runtime-data": _code(r"\.runtime_data\b", "__init__.py"),
    "stale-devices": _code(r"def async_remove_config_entry_device\(", "__init__.py"),
    "strict-typing": _mypy_strict,
    "test-before-setup": _code(
        r"ConfigEntry(NotReady|AuthFailed|Error)\b", "__init__.py", "coordinator.py"
    ),
    "test-coverage": _coverage_gates,
    "unique-config-entry": _code(r"async_set_unique_id\(", "config_flow.py"),
    "dynamic-devices": _code(r"signal_new_vehicle\("),
    "docs-actions": _readme_heading(r"action|service"),
    "docs-conditions": _readme_heading(r"condition"),
    "docs-configuration-parameters": _readme_heading(r"option|configur"),
    "docs-data-update": _readme_heading(r"data update|polling|how .*update"),
    "docs-examples": _readme_heading(r"example|automation"),
    "docs-high-level-description": _has_description,
    "docs-installation-instructions": _readme_heading(r"install"),
    "docs-installation-parameters": _readme_heading(
        r"sign.?in|set.?up|configur|paramet"
    ),
    "docs-known-limitations": _readme_heading(r"limitation"),
    "docs-removal-instructions": _readme_heading(r"remov|uninstall"),
    "docs-supported-devices": _readme_heading(r"supported|vehicles|cars|compatib"),
    "docs-supported-functions": _readme_heading(r"entit|function|feature"),
    "docs-troubleshooting": _readme_heading(r"troubleshoot"),
    "docs-triggers": _readme_heading(r"trigger"),
    "docs-use-cases": _readme_heading(r"use.?case"),
}


def test_quality_scale_done_rules_have_evidence() -> None:
    """A rule marked done shows in the tree (README section, code, files)."""
    assert set(EVIDENCE) <= ALL_QUALITY_RULES
    rules = load_yaml(QUALITY_SCALE)["rules"]
    unproven = [
        rule
        for rule, value in rules.items()
        if (value if isinstance(value, str) else value.get("status")) == "done"
        and rule in EVIDENCE
        and not EVIDENCE[rule]()
    ]
    assert not unproven, f"claimed done without evidence: {unproven}"


# ---------------------------------------------------------------------------------------
# The checker checked: collectors on small trees
# ---------------------------------------------------------------------------------------

FAKE_CONST = """
from enum import StrEnum
from typing import Final
DOMAIN: Final = "tesla_resilient"
SERVICE_WAKE = "wake_vehicle"
ERROR_AUTH = "invalid_auth"
class Key(StrEnum):
    BATTERY = "battery_level"
    LIMIT = "charge_limit"
"""

FAKE_CONFIG_FLOW = """
from homeassistant.config_entries import ConfigFlow, OptionsFlow
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.helpers.selector import SelectSelectorConfig
from .const import DOMAIN, ERROR_AUTH, Key

METHODS = [Key.BATTERY, "token"]
SELECT = SelectSelectorConfig(options=[str(k) for k in Key], translation_key="keys")

def _error_key(err):
    if err:
        return ERROR_AUTH
    return "unknown" if err is None else "cannot_connect"

def _not_a_key(err):
    if err:
        return "x"
    return None

class _SignIn:
    async def async_step_mfa(self, user_input=None):
        return self.async_show_form(step_id="mfa", errors={"base": "invalid_passcode"})

class Flow(_SignIn, ConfigFlow, domain=DOMAIN):
    async def async_step_user(self, user_input=None):
        return self.async_show_menu(step_id="user", menu_options=METHODS)
    async def async_step_password(self, user_input=None):
        errors: dict[str, str] = {}
        errors["base"] = ERROR_AUTH
        errors["code"] = _not_a_key(user_input)
        await self.async_set_unique_id("x")
        self._abort_if_unique_id_configured()
        if user_input:
            return self.async_abort(reason=_error_key(user_input))
        return self.async_abort(reason="oauth_error", translation_domain="homeassistant")
    async def async_step_reauth_confirm(self, user_input=None):
        return self.async_update_reload_and_abort(self._get_reauth_entry())

class Browser(config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN):
    async def async_step_creds(self, user_input=None):
        if user_input:
            return self.async_abort(reason="oauth_error")  # Home Assistant's own text
        return self.async_abort(reason="no_vehicles")

class Options(OptionsFlow):
    async def async_step_init(self, user_input=None):
        errors = {"base": "wrong_code"}
        return self.async_show_form(step_id="init", errors=errors)
"""

FAKE_SENSOR = """
from homeassistant.components.sensor import SensorEntityDescription
from homeassistant.exceptions import ServiceValidationError
from .const import DOMAIN, Key
PARALLEL_UPDATES = 0
DESCRIPTIONS = (
    SensorEntityDescription(key="a", translation_key=Key.BATTERY),
    SensorEntityDescription(key="b", translation_key="charging_state",
                            options=["charging", "stopped"]),
    SensorEntityDescription(key="c", translation_key="limit_kind", options=list(Key)),
    SensorEntityDescription(key=f"x", translation_key=f"tpms_{1}"),
)
class Thing:
    _attr_translation_key = "data_source"
    def fail(self):
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="bad_code")
    def wrong(self):
        raise ServiceValidationError(translation_key="forgot_domain")
"""

FAKE_INIT = """
from typing import TYPE_CHECKING
from homeassistant.helpers import issue_registry as ir
from homeassistant.components.recorder import get_instance
from homeassistant.components import http
import homeassistant.components.cloud
from .const import DOMAIN, SERVICE_WAKE
if TYPE_CHECKING:
    from homeassistant.components.zeroconf import ZeroconfServiceInfo
async def async_setup(hass, config):
    hass.services.async_register(DOMAIN, SERVICE_WAKE, handler)
    hass.services.async_register("other_domain", "not_ours", handler)
    ir.async_create_issue(hass, DOMAIN, "outage", translation_key="cloud_outage")
"""

FAKE_DIAGNOSTICS = """
from homeassistant.components.diagnostics import async_redact_data
"""

FAKE_HELPERS = """
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from .const import DOMAIN

class GuardError(Exception):
    translation_key = "guard_failed"

class GuardLocked(GuardError):
    translation_key: str = "guard_locked"

class NotAnError:
    translation_key = "not_an_exception"

def translated_error(key, placeholders=None):
    return HomeAssistantError(translation_domain=DOMAIN, translation_key=key)

def raise_issue(hass, *, issue):
    ir.async_create_issue(hass, DOMAIN, issue, translation_key=issue)

def use(hass):
    raise_issue(hass, issue="token_revoked")
    return translated_error("command_failed", {"reason": "x"})
"""

FAKE_ENTITY = """
class BaseEntity:
    def __init__(self, description):
        self._attr_translation_key = description.translation_key or description.key
"""

FAKE_LOCK = """
from .const import DOMAIN
STATES = {"Engaged": "engaged", "Disengaged": "disengaged"}
LOCKS = (
    LockEntityDescription(key="doors"),
    LockEntityDescription(key="latch", translation_key="charge_port_latch"),
    LockEntityDescription(key="mode", options=list(STATES.values())),
    LockEntityDescription(key=f"window_{1}"),
)
def later(translated_error):
    raise translated_error(key="vehicle_asleep")
"""

FAKE_BUTTON = """
from homeassistant.helpers import entity_platform, service
from homeassistant.components.sensor import SensorDeviceClass
PARALLEL_UPDATES = 1
async def async_setup_entry(hass, entry, add):
    entity_platform.async_get_current_platform().async_register_entity_service("honk", None, "x")
    service.async_register_platform_entity_service(hass, "tesla_resilient", "flash", entity_domain="button")
"""


@pytest.fixture
def fake_integration(tmp_path: Path) -> Path:
    """A tiny integration tree exercising every pattern the collectors know."""
    package = tmp_path / DOMAIN
    package.mkdir()
    for name, text in {
        "const.py": FAKE_CONST,
        "config_flow.py": FAKE_CONFIG_FLOW,
        "sensor.py": FAKE_SENSOR,
        "__init__.py": FAKE_INIT,
        "diagnostics.py": FAKE_DIAGNOSTICS,
        "button.py": FAKE_BUTTON,
        "helpers.py": FAKE_HELPERS,
        "entity.py": FAKE_ENTITY,
        "lock.py": FAKE_LOCK,
    }.items():
        (package / name).write_text(text, encoding="utf-8")
    return package


def test_collector_finds_translation_paths(fake_integration: Path) -> None:
    """Flows, entity descriptions, exceptions and issues map to strings.json paths."""
    facts = collect(fake_integration)
    assert facts.translations == {
        "config.step.mfa",
        "config.error.invalid_passcode",
        "config.step.user",
        "config.step.user.menu_options.battery_level",
        "config.step.user.menu_options.token",
        "config.error.invalid_auth",
        "config.abort.already_configured",
        "config.abort.invalid_auth",
        "config.abort.unknown",
        "config.abort.cannot_connect",
        "config.abort.no_vehicles",
        "selector.keys.options.battery_level",
        "selector.keys.options.charge_limit",
        "options.error.wrong_code",
        "options.step.init",
        "entity.sensor.battery_level.name",
        "entity.sensor.charging_state.name",
        "entity.sensor.charging_state.state.charging",
        "entity.sensor.charging_state.state.stopped",
        "entity.sensor.data_source.name",
        "entity.sensor.limit_kind.name",
        "entity.sensor.limit_kind.state.battery_level",
        "entity.sensor.limit_kind.state.charge_limit",
        "exceptions.bad_code.message",
        "issues.cloud_outage.title",
        "issues.token_revoked.title",
        "exceptions.guard_failed.message",
        "exceptions.guard_locked.message",
        "exceptions.command_failed.message",
        "exceptions.vehicle_asleep.message",
        "entity.lock.doors.name",
        "entity.lock.charge_port_latch.name",
        "entity.lock.mode.name",
        "entity.lock.mode.state.engaged",
        "entity.lock.mode.state.disengaged",
    }
    assert "oauth_error" in OAUTH_SHARED_ABORT_REASONS
    assert len(facts.problems) == 1
    assert "forgot_domain" in facts.problems[0]


def test_collector_finds_services(fake_integration: Path) -> None:
    """Services registered for our domain, entity services and platform services."""
    assert collect(fake_integration).services == {"wake_vehicle", "honk", "flash"}


def test_collector_finds_undeclared_components(fake_integration: Path) -> None:
    """Imports of other integrations need dependencies; platforms and own files don't."""
    facts = collect(fake_integration)
    manifest = {"domain": DOMAIN, "dependencies": ["application_credentials"]}
    # recorder, http and cloud are undeclared; zeroconf is only for type checking;
    # sensor is an entity platform; diagnostics.py is the diagnostics platform.
    assert undeclared_components(fake_integration, facts, manifest) == {
        "recorder",
        "http",
        "cloud",
    }
    manifest["after_dependencies"] = ["recorder", "http", "cloud"]
    assert undeclared_components(fake_integration, facts, manifest) == set()


def test_strings_problems_detected() -> None:
    """The strings checker reports each kind of mistake and accepts clean text."""
    clean = {
        "config": {
            "step": {
                "user": {
                    "title": "Sign in",
                    "data": {"email": "Email"},
                    "data_description": {"email": "Your Tesla account's email."},
                }
            }
        }
    }
    assert strings_problems(clean) == []
    broken = {
        "config": {
            "step": {
                "user": {
                    "title": "Sign in ",
                    "description": "[%key:common::config_flow::data::email%]",
                    "data": {"email": "Email"},
                    "data_description": {"password": "Not a field"},
                }
            },
            "error": {"Bad-Key": "<b>bold</b>", "quoted": "Car '{name}'"},
        }
    }
    problems = strings_problems(broken)
    assert len(problems) == 6, problems
    for fragment in (
        "whitespace",
        "[%key:",
        "HTML",
        "single quotes",
        "Bad-Key",
        "password",
    ):
        assert any(fragment in p for p in problems), fragment


def test_has_path_and_headings() -> None:
    """The small helpers behave."""
    tree = {"a": {"b": {"c": "x"}}}
    assert has_path(tree, "a.b.c")
    assert has_path(tree, "a.b")
    assert not has_path(tree, "a.c")
    assert not has_path(tree, "a.b.c.d")
    assert headings("# T\ntext\n## Install\n### Remove it\n") == [
        "T",
        "Install",
        "Remove it",
    ]


def _load_script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """scripts/check_coverage.py fails a module at 95 % or less and config_flow below 100."""
    gate = _load_script("check_coverage")

    def report(**percents: float) -> Path:
        files = {
            f"custom_components/tesla_resilient/{name.replace('__', '/')}.py": {
                "summary": {"percent_covered": value}
            }
            for name, value in percents.items()
        }
        files["tesla_sim/world.py"] = {"summary": {"percent_covered": 10.0}}
        path = tmp_path / "coverage.json"
        path.write_text(json.dumps({"files": files}), encoding="utf-8")
        return path

    assert (
        gate.main([str(report(config_flow=100.0, sensor=95.5, api__client=99.0))]) == 0
    )
    assert "all 3 modules" in capsys.readouterr().out
    assert gate.main([str(report(config_flow=99.9, sensor=95.0, lock=100.0))]) == 1
    out = capsys.readouterr().out
    assert "config_flow.py: 99.90 % (must be 100 %)" in out
    assert "sensor.py: 95.00 %" in out
    assert "lock.py" not in out
    assert gate.main([str(report(sensor=99.0))]) == 1
    assert "config_flow.py: not measured" in capsys.readouterr().out
    assert gate.main([str(report())]) == 1
    assert "no module" in capsys.readouterr().out


def test_icon_script_draws_what_is_committed() -> None:
    """scripts/make_icon.py reproduces the committed brand images."""
    icon = _load_script("make_icon")
    for name, size in icon.SIZES.items():
        assert BRAND_SIZES[name] == (size, size)
        drawn = icon.draw_icon(size)
        with Image.open(INTEGRATION / "brand" / name) as committed:
            assert committed.convert("RGBA").tobytes() == drawn.tobytes(), name
