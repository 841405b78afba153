"""scripts/check_metadata.py catches each kind of problem and passes the real repository.

Every check runs on a copy of the repository's checked files in tmp_path with one thing
broken; the copy left alone passes them all.
"""

from collections.abc import Callable
import json
from pathlib import Path
import shutil
import subprocess
import sys
from typing import Any

from PIL import Image
import pytest
import yaml

from scripts.metadata import files, quality, texts
from scripts.metadata.repo import ROOT, Repo
from scripts.metadata.run import CHECKS, Check, main, problems

COPIED = (
    "README.md",
    "LICENSE",
    "hacs.json",
    "pyproject.toml",
    "requirements_test.txt",
    "scripts/check_coverage.py",
    "scripts/test",
)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A copy of the files the checks read (the integration and the root's files)."""
    copy = Repo(tmp_path)
    shutil.copytree(
        Repo().integration,
        copy.integration,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for name in COPIED:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return copy


def _edit_json(path: Path, change: Callable[[Any], None]) -> None:
    tree = json.loads(path.read_text(encoding="utf-8"))
    change(tree)
    path.write_text(json.dumps(tree), encoding="utf-8")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def _drop_first_service(repo: Repo) -> None:
    services = repo.load_yaml(repo.services)
    del services[next(iter(services))]
    repo.services.write_text(yaml.safe_dump(services), encoding="utf-8")


def _drop_rule(repo: Repo) -> None:
    scale = repo.load_yaml(repo.quality_scale)
    del scale["rules"]["brands"]
    repo.quality_scale.write_text(yaml.safe_dump(scale), encoding="utf-8")


def _set_status(repo: Repo, rule: str, status: str) -> None:
    scale = repo.load_yaml(repo.quality_scale)
    scale["rules"][rule] = {"status": status, "comment": "Claimed."}
    repo.quality_scale.write_text(yaml.safe_dump(scale), encoding="utf-8")


def _tiny_icon(repo: Repo) -> None:
    Image.new("RGBA", (10, 10)).save(repo.integration / "brand" / "icon.png")


BROKEN: dict[str, tuple[Check, Callable[[Repo], None], str]] = {
    "manifest key missing": (
        files.manifest_keys_and_values,
        lambda r: _edit_json(r.manifest, lambda m: m.pop("iot_class")),
        "manifest misses ['iot_class']",
    ),
    "requirement not pinned": (
        files.manifest_requirements_pinned_and_consistent_with_home_assistant,
        lambda r: _edit_json(r.manifest, lambda m: m.update(requirements=["x>=1"])),
        "x>=1 is neither pinned with == nor bounded (>=,<)",
    ),
    "requirement range leaves out the test pin": (
        files.manifest_requirements_pinned_and_consistent_with_home_assistant,
        lambda r: _edit_json(
            r.manifest, lambda m: m.update(requirements=["tesla-fleet-api>=2,<3"])
        ),
        "tesla-fleet-api>=2,<3: requirements_test.txt pins 1.17.3",
    ),
    "component import undeclared": (
        files.manifest_dependencies_cover_component_imports,
        lambda r: _append(
            r.integration / "const.py",
            "from homeassistant.components.recorder import get_instance\n",
        ),
        "not in dependencies/after_dependencies: ['recorder']",
    ),
    "hacs.json key unknown": (
        files.hacs_json,
        lambda r: _edit_json(r.root / "hacs.json", lambda h: h.update(bogus=1)),
        "unknown keys ['bogus']",
    ),
    "README missing": (
        files.repository_layout,
        lambda r: r.readme.unlink(),
        "HACS needs README.md at the root",
    ),
    "icon of the wrong size": (
        files.brand_images,
        _tiny_icon,
        "brand/icon.png: must be a 256x256 RGBA PNG",
    ),
    "stray file in brand/": (
        files.brand_folder_holds_only_brand_images,
        lambda r: (r.integration / "brand" / "extra.png").write_bytes(b""),
        "does not read: ['extra.png']",
    ),
    "JSON file broken": (
        files.every_json_file_parses,
        lambda r: (r.root / "broken.json").write_text("{", encoding="utf-8"),
        "broken.json: ",
    ),
    "JSON key twice": (
        files.every_json_file_parses,
        lambda r: (r.root / "twice.json").write_text(
            '{"a": {"b": 1, "b": 2}}', encoding="utf-8"
        ),
        "twice.json: key 'b' appears twice in one object",
    ),
    "versions differ": (
        files.version_has_one_source,
        lambda r: _replace(r.root / "pyproject.toml", 'version = "', 'version = "9'),
        "pyproject.toml version '90.1.0' differs from manifest.json's '0.1.0'",
    ),
    "English translation stale": (
        texts.english_translation_is_strings_json,
        lambda r: _edit_json(r.en, lambda t: t.pop("issues")),
        "differs from strings.json",
    ),
    "string with a trailing space": (
        texts.strings_schema,
        lambda r: _edit_json(
            r.strings, lambda t: t["issues"].update(x={"title": "A "})
        ),
        "issues.x.title: leading or trailing whitespace",
    ),
    "translation missing": (
        texts.translation_keys_used_in_code_exist,
        lambda r: _edit_json(r.strings, lambda t: t.pop("issues")),
        "missing from strings.json: ['issues.",
    ),
    "service not described": (
        texts.services_consistent,
        _drop_first_service,
        "services.yaml describes",
    ),
    "icon not from mdi": (
        texts.icons_json,
        lambda r: _edit_json(
            r.icons,
            lambda i: i["entity"]["binary_sensor"]["cloud_connection"].update(
                default="cloud"
            ),
        ),
        "cloud_connection.default: 'cloud' is not an mdi: icon",
    ),
    "YAML configuration accepted": (
        texts.config_schema_when_async_setup,
        lambda r: _replace(r.integration / "__init__.py", "CONFIG_SCHEMA = ", "X = "),
        "__init__.py has async_setup but no config_entry_only CONFIG_SCHEMA",
    ),
    "parallel updates unlimited": (
        texts.platform_modules_set_parallel_updates,
        lambda r: _replace(r.integration / "sensor.py", "PARALLEL_UPDATES", "LIMIT"),
        "sensor.py: no PARALLEL_UPDATES",
    ),
    "api/ imports Home Assistant": (
        texts.api_package_is_independent_of_home_assistant,
        lambda r: _append(
            r.integration / "api" / "models.py", "import homeassistant\n"
        ),
        "imports homeassistant",
    ),
    "quality rule unlisted": (
        quality.quality_scale_lists_every_rule,
        _drop_rule,
        "quality_scale.yaml misses ['brands']",
    ),
    "done without evidence": (
        quality.quality_scale_done_rules_have_evidence,
        lambda r: _replace(r.readme, "## Troubleshooting", "## Help"),
        "claimed done without evidence: ['docs-troubleshooting']",
    ),
    "repair issue only informs": (
        quality.quality_scale_done_rules_have_evidence,
        lambda r: _set_status(r, "repair-issues", "done"),
        "claimed done without evidence: ['repair-issues']",
    ),
    "exempt rule met": (
        quality.quality_scale_done_rules_have_evidence,
        lambda r: _set_status(r, "entity-event-setup", "exempt"),
        "claimed exempt but met in the tree: ['entity-event-setup']",
    ),
    "file missing": (
        texts.strings_schema,
        lambda r: r.strings.unlink(),
        "custom_components/tesla_resilient/strings.json does not exist yet",
    ),
}


@pytest.mark.parametrize(("check", "breaks", "expected"), BROKEN.values(), ids=BROKEN)
def test_check_catches(
    repo: Repo, check: Check, breaks: Callable[[Repo], None], expected: str
) -> None:
    """Each check reports what was broken in its line."""
    breaks(repo)
    found = problems(check, repo)
    assert any(expected in line for line in found), found


def test_every_check_has_a_broken_case() -> None:
    """No check goes untested."""
    assert {check for check, _, _ in BROKEN.values()} == set(CHECKS)


def test_main_prints_one_line_per_problem(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit status 0 on the untouched copy; 1 and `check: problem` lines once broken."""
    assert main(["--root", str(repo.root)]) == 0
    assert capsys.readouterr().out == f"metadata: all {len(CHECKS)} checks passed\n"

    _edit_json(repo.root / "hacs.json", lambda h: h.update(bogus=1))
    (repo.integration / "brand" / "extra.png").write_bytes(b"")
    assert main(["--root", str(repo.root)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "hacs_json: hacs.json: unknown keys ['bogus']",
        "brand_folder_holds_only_brand_images: brand/ holds files Home Assistant "
        "does not read: ['extra.png']",
    ]


def test_command_passes_the_repository() -> None:
    """`python scripts/check_metadata.py` exits 0 on this repository."""
    result = subprocess.run(
        [sys.executable, "scripts/check_metadata.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checks passed" in result.stdout
