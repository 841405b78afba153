"""The quality scale self-audit: every rule listed, a rule claimed done shows evidence.

And a rule claimed exempt does not: the tree meets it, so it is done.
"""

import ast
from collections.abc import Callable, Iterator
import json
import re
import tomllib

from .repo import Repo, headings

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


type Evidence = Callable[[Repo], bool]


def quality_scale_lists_every_rule(repo: Repo) -> Iterator[str]:
    """All 54 rules, each done/todo/exempt; todo and exempt explain themselves."""
    rules = repo.load_yaml(repo.quality_scale)["rules"]
    if len(ALL_QUALITY_RULES) != 54:
        yield f"the checker knows {len(ALL_QUALITY_RULES)} rules, not 54"
    if missing := ALL_QUALITY_RULES - set(rules):
        yield f"quality_scale.yaml misses {sorted(missing)}"
    if unknown := set(rules) - ALL_QUALITY_RULES:
        yield f"quality_scale.yaml: unknown rules {sorted(unknown)}"
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value.get("status")
        if status not in {"done", "todo", "exempt"}:
            yield f"{rule}: status {status!r} is not done, todo or exempt"
        if status != "done" and not (
            isinstance(value, dict) and str(value.get("comment", "")).strip()
        ):
            yield f"{rule}: needs a comment"


def _source(repo: Repo, *names: str) -> str:
    package = repo.integration
    paths = [package / n for n in names] if names else sorted(package.rglob("*.py"))
    return "\n".join(p.read_text(encoding="utf-8") for p in paths if p.is_file())


def _readme(repo: Repo) -> str:
    return repo.readme.read_text(encoding="utf-8") if repo.readme.is_file() else ""


def _readme_heading(pattern: str) -> Evidence:
    return lambda repo: any(
        re.search(pattern, h, re.IGNORECASE) for h in headings(_readme(repo))
    )


def _has_description(repo: Repo) -> bool:
    intro = re.split(r"^##\s", _readme(repo), maxsplit=1, flags=re.MULTILINE)[0]
    return any(
        line.strip() and not line.startswith(("#", "!", "[", "<"))
        for line in intro.splitlines()
    )


def _code(pattern: str, *names: str) -> Evidence:
    return lambda repo: (
        re.search(pattern, _source(repo, *names), re.MULTILINE) is not None
    )


def _json_has(name: str, key: str) -> Evidence:
    def check(repo: Repo) -> bool:
        path = repo.integration / name
        return path.is_file() and key in json.loads(path.read_text(encoding="utf-8"))

    return check


def _exists(*names: str) -> Evidence:
    return lambda repo: all((repo.integration / name).exists() for name in names)


def _repairs_actionable(repo: Repo) -> bool:
    """Some repair issue is raised, and each says where to act.

    A repair flow (``is_fixable=True``) or a ``learn_more_url`` to act on: an issue
    that only tells that something is wrong is not what the rule asks for.
    """
    calls = [
        node
        for path in sorted(repo.integration.rglob("*.py"))
        for node in ast.walk(ast.parse(repo.text(path)))
        if isinstance(node, ast.Call)
        and getattr(node.func, "attr", getattr(node.func, "id", None))
        == "async_create_issue"
    ]

    def actionable(call: ast.Call) -> bool:
        given = {kw.arg: kw.value for kw in call.keywords}
        fixable = given.get("is_fixable")
        return "learn_more_url" in given or (
            isinstance(fixable, ast.Constant) and fixable.value is True
        )

    return bool(calls) and all(actionable(call) for call in calls)


def _mypy_strict(repo: Repo) -> bool:
    config = tomllib.loads(repo.text(repo.root / "pyproject.toml"))
    return config["tool"]["mypy"].get("strict") is True


def _coverage_gates(repo: Repo) -> bool:
    gate = repo.text(repo.root / "scripts" / "check_coverage.py")
    runner = repo.text(repo.root / "scripts" / "test")
    return '"config_flow.py"' in gate and "scripts/check_coverage.py" in runner


# Evidence a rule claimed `done` must show in the tree (rules not listed are trusted to
# the tests of the behaviour they describe).
EVIDENCE: dict[str, Evidence] = {
    "action-exceptions": _code(r"ServiceValidationError\("),
    "action-setup": _code(r"^async def async_setup\(", "__init__.py"),
    "appropriate-polling": _exists("polling.py"),
    "async-dependency": lambda repo: (
        "aiohttp" in _source(repo, "api/client.py", "api/oauth.py")
    ),
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
    "entity-event-setup": _code(
        r"def async_added_to_hass\([\s\S]*?self\.async_on_remove\(", "entity.py"
    ),
    "entity-translations": _json_has("strings.json", "entity"),
    "entity-unique-id": _code(r"_attr_unique_id\s*="),
    "exception-translations": _json_has("strings.json", "exceptions"),
    "has-entity-name": _code(r"_attr_has_entity_name\s*=\s*True"),
    "icon-translations": _exists("icons.json"),
    "inject-websession": _code(r"async_get_clientsession|async_create_clientsession"),
    "integration-owner": _json_has("manifest.json", "codeowners"),
    "reauthentication-flow": _code(r"async def async_step_reauth\(", "config_flow.py"),
    "reconfiguration-flow": _code(
        r"async def async_step_reconfigure\(", "config_flow.py"
    ),
    "repair-issues": _repairs_actionable,
    "runtime-data": _code(r"\.runtime_data\b", "__init__.py"),
    "stale-devices": _code(r"def async_remove_config_entry_device\(", "__init__.py"),
    "strict-typing": _mypy_strict,
    "test-before-setup": _code(
        r"ConfigEntry(NotReady|AuthFailed|Error)\b",
        "__init__.py",
        "coordinator.py",
        "errors.py",
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


def _status(value: str | dict[str, str]) -> str | None:
    return value if isinstance(value, str) else value.get("status")


def quality_scale_done_rules_have_evidence(repo: Repo) -> Iterator[str]:
    """A rule marked done shows in the tree (README section, code, files).

    A rule marked exempt does not: where the tree shows it, it is done.
    """
    if unknown := set(EVIDENCE) - ALL_QUALITY_RULES:
        yield f"evidence for unknown rules {sorted(unknown)}"
    rules = repo.load_yaml(repo.quality_scale)["rules"]
    claimed = {rule: _status(value) for rule, value in rules.items()}
    unproven = [
        rule
        for rule, status in claimed.items()
        if status == "done" and rule in EVIDENCE and not EVIDENCE[rule](repo)
    ]
    if unproven:
        yield f"claimed done without evidence: {unproven}"
    met = [
        rule
        for rule, status in claimed.items()
        if status == "exempt" and rule in EVIDENCE and EVIDENCE[rule](repo)
    ]
    if met:
        yield f"claimed exempt but met in the tree: {met}"


CHECKS = (quality_scale_lists_every_rule, quality_scale_done_rules_have_evidence)
