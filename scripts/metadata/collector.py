"""What the integration's code needs from its metadata files, collected with `ast`."""

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from homeassistant.helpers import config_entry_oauth2_flow

from .repo import DOMAIN, PLATFORMS
from .resolver import (
    EXCEPTION_NAMES,
    Resolver,
    assigned,
    base_names,
    call_name,
    keyword,
    parse_package,
)

# Abort reasons an OAuth2 flow handler gets translated by Home Assistant itself.
OAUTH_SHARED_ABORT_REASONS: frozenset[str] = getattr(
    config_entry_oauth2_flow, "_SHARED_ABORT_REASONS", frozenset()
)
OAUTH2 = "<oauth2>"


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
            for name, value in assigned(node.body):
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
