"""The integration's metadata passes every check of scripts/check_metadata.py.

The checks themselves (hassfest's and the HACS action's rules, the quality scale
self-audit) live in scripts/metadata/ and are tested on broken copies in
tests/test_check_metadata.py; this module runs them on the real repository, one test
per check, and checks the other scripts' output against what is committed.
"""

import importlib.util
import json
from pathlib import Path
from typing import Any

from PIL import Image
import pytest

from scripts.metadata.files import BRAND_SIZES
from scripts.metadata.repo import ROOT, Repo
from scripts.metadata.run import CHECKS, Check, problems

INTEGRATION = Repo().integration


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_metadata(check: Check) -> None:
    """The repository passes the check."""
    assert problems(check, Repo()) == []


def _load_script(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_coverage_gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """scripts/check_coverage.py fails a module at 95 % or less and a flow module below 100."""
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

    flows = {
        "config_flow": 100.0,
        "flow_bluetooth": 100.0,
        "flow_final": 100.0,
        "flow_onboarding": 100.0,
        "flow_signin": 100.0,
        "options_flow": 100.0,
    }
    assert gate.main([str(report(**flows, sensor=95.5, api__client=99.0))]) == 0
    assert "all 8 modules" in capsys.readouterr().out
    assert (
        gate.main(
            [str(report(**{**flows, "config_flow": 99.9}, sensor=95.0, lock=100.0))]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "config_flow.py: 99.90 % (must be 100 %)" in out
    assert "sensor.py: 95.00 %" in out
    assert "lock.py" not in out
    assert gate.main([str(report(sensor=99.0))]) == 1
    out = capsys.readouterr().out
    assert "config_flow.py: not measured" in out
    assert "flow_onboarding.py: not measured" in out
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
