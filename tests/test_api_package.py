"""The Tesla cloud client is a standalone package: no Home Assistant imports."""

import ast
import json
from pathlib import Path

import custom_components.tesla_resilient.api as api_package

API_DIR = Path(api_package.__file__).parent


def _imported_modules(tree: ast.AST) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module)
    return modules


def test_api_imports_nothing_from_home_assistant() -> None:
    """Every module of api/ imports only the standard library, its libraries and itself."""
    files = sorted(API_DIR.rglob("*.py"))
    assert {path.name for path in files} >= {
        "__init__.py",
        "client.py",
        "commands.py",
        "errors.py",
        "models.py",
        "oauth.py",
        "sso.py",
        "tokens.py",
    }
    for path in files:
        modules = _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        roots = {name.split(".")[0] for name in modules}
        assert "homeassistant" not in roots, path.name
        assert "custom_components" not in roots, path.name
        assert roots <= {
            "aiohttp",
            "asyncio",
            "base64",
            "binascii",
            "bleak",
            "bleak_retry_connector",
            "collections",
            "contextlib",
            "cryptography",
            "dataclasses",
            "enum",
            "functools",
            "google",
            "hashlib",
            "html",
            "json",
            "logging",
            "math",
            "re",
            "secrets",
            "tesla_fleet_api",
            "tesla_protocol",
            "time",
            "typing",
            "urllib",
        }, path.name


def test_relative_imports_stay_inside_api() -> None:
    """Relative imports never climb out of the api package."""
    for path in API_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, path.name


def test_public_names_are_exported() -> None:
    """Everything in __all__ exists."""
    for name in api_package.__all__:
        assert hasattr(api_package, name), name


def test_user_agent_version_matches_the_manifest() -> None:
    """The User-Agent names the integration's released version."""
    manifest = json.loads(
        (API_DIR.parent / "manifest.json").read_text(encoding="utf-8")
    )
    assert manifest["version"] == api_package.VERSION
    assert f"tesla-resilient/{manifest['version']}" == api_package.USER_AGENT
