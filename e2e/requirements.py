"""Install the Python packages Home Assistant needs for the development configuration.

``requirements_test.txt`` pins what the tests need (Home Assistant's core through
pytest-homeassistant-custom-component), not what a running Home Assistant with its
frontend needs: the frontend package and the packages of the integrations Home
Assistant always sets up (camera, conversation, tts, ...; without them the frontend's
``get_services`` fails and the UI never loads), plus the ones onboarding starts.
Home Assistant runs with ``--skip-pip``, so this module installs them first, at the
exact versions the installed Home Assistant pins.

    python -m e2e.requirements [--check]
"""

from __future__ import annotations

import argparse
from importlib import metadata
import json
from pathlib import Path
import subprocess
import sys

from homeassistant import bootstrap, const
import homeassistant.components as ha_components

COMPONENTS = Path(ha_components.__file__).parent
# What config/configuration.yaml sets up, and what onboarding's core_config step starts.
CONFIGURED = {
    "frontend",
    "config",
    "history",
    "logbook",
    "energy",
    "sun",
    "my",
    "person",
    "system_health",
    "diagnostics",
    "application_credentials",
    "analytics",
    "met",
    "google_translate",
    "radio_browser",
    "shopping_list",
    # config/custom_components/tesla_sim_bluetooth (the simulated car over Bluetooth)
    # depends on it, and it on usb (aiousbwatcher, serialx); the tests' Bluetooth too
    "bluetooth",
}


def _manifest(domain: str) -> dict[str, object] | None:
    path = COMPONENTS / domain / "manifest.json"
    if not path.exists():
        return None
    return dict(json.loads(path.read_text()))


def needed() -> list[str]:
    """Pinned requirements of every integration Home Assistant will set up."""
    todo = (
        set(CONFIGURED)
        | set(bootstrap.DEFAULT_INTEGRATIONS)
        | set(const.BASE_PLATFORMS)
    )
    seen: set[str] = set()
    reqs: set[str] = set()
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = _manifest(domain)
        if manifest is None:
            continue
        reqs.update(str(r) for r in manifest.get("requirements", []))  # type: ignore[attr-defined]
        todo.update(str(d) for d in manifest.get("dependencies", []))  # type: ignore[attr-defined]
    return sorted(reqs)


def missing() -> list[str]:
    """The requirements not installed at their pinned version."""
    out = []
    for req in needed():
        name, _, version = req.partition("==")
        name = name.split("[")[0]
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            out.append(req)
            continue
        if version and installed != version:
            # A newer version pulled in by the test requirements is kept.
            continue
    return out


def main() -> int:
    """Install what is missing (or only list it with --check)."""
    parser = argparse.ArgumentParser(prog="python -m e2e.requirements")
    parser.add_argument(
        "--check", action="store_true", help="only list what is missing"
    )
    args = parser.parse_args()
    todo = missing()
    if not todo:
        return 0
    if args.check:
        print("\n".join(todo))
        return 1
    print(
        f"[requirements] installing {len(todo)} packages Home Assistant needs: "
        + " ".join(todo),
        file=sys.stderr,
        flush=True,
    )
    return subprocess.call([sys.executable, "-m", "pip", "install", "-q", *todo])  # noqa: S603


if __name__ == "__main__":
    sys.exit(main())
