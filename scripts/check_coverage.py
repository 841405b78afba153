"""Per-module coverage gate (the quality scale's test-coverage rule is per module).

Reads the JSON report written by ``coverage json`` / ``pytest --cov-report=json:FILE`` and
fails when a module of the integration is at or below the minimum, or when a module of
the config flow (``FULL_COVERAGE``) is not fully covered. The percentage is the one
coverage.py reports (statements and, with branch coverage on, branches).

Usage: python scripts/check_coverage.py COVERAGE.json [--min 95] [--package DIR]
"""

import argparse
import json
from pathlib import Path, PurePosixPath
import sys
from typing import Any

DEFAULT_PACKAGE = "custom_components/tesla_resilient"
FULL_COVERAGE = (
    "config_flow.py",
    "flow_bluetooth.py",
    "flow_final.py",
    "flow_onboarding.py",
    "flow_signin.py",
    "options_flow.py",
)


def module_percentages(report: dict[str, Any], package: str) -> dict[str, float]:
    """Map each file of `package` (path relative to it) to its covered percentage."""
    prefix = PurePosixPath(package)
    result: dict[str, float] = {}
    for name, data in report.get("files", {}).items():
        path = PurePosixPath(name.replace("\\", "/"))
        try:
            relative = path.relative_to(prefix)
        except ValueError:
            continue
        result[str(relative)] = float(data["summary"]["percent_covered"])
    return result


def failures(
    percentages: dict[str, float],
    minimum: float,
    full: tuple[str, ...] = FULL_COVERAGE,
) -> list[str]:
    """Return one human-readable line per module that misses its target."""
    problems = []
    for module, percent in sorted(percentages.items()):
        if module in full:
            if percent < 100.0:
                problems.append(f"{module}: {percent:.2f} % (must be 100 %)")
        elif percent <= minimum:
            problems.append(f"{module}: {percent:.2f} % (must be above {minimum:g} %)")
    problems.extend(
        f"{module}: not measured (must be 100 %)"
        for module in full
        if module not in percentages
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    """Check a coverage JSON report; print the verdict; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--min", type=float, default=95.0, dest="minimum")
    parser.add_argument("--package", default=DEFAULT_PACKAGE)
    args = parser.parse_args(argv)

    report = json.loads(args.report.read_text(encoding="utf-8"))
    percentages = module_percentages(report, args.package)
    if not percentages:
        print(f"coverage: no module of {args.package} in {args.report}")
        return 1
    problems = failures(percentages, args.minimum)
    if problems:
        print(f"coverage: modules of {args.package} below target:")
        for line in problems:
            print(f"  {line}")
        return 1
    lowest = min(percentages, key=lambda module: percentages[module])
    print(
        f"coverage: all {len(percentages)} modules of {args.package} above "
        f"{args.minimum:g} % (lowest: {lowest} {percentages[lowest]:.2f} %)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
