"""Deep-merge the work-in-progress fragments in .strings/ and .icons/ into the real files.

Temporary tool used while several engineers write translations in parallel.
"""

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "tesla_resilient"


def merge(into: dict[str, Any], part: dict[str, Any], where: str) -> None:
    for key, value in part.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            merge(into[key], value, f"{where}.{key}")
        elif key in into and into[key] != value:
            raise SystemExit(f"conflict at {where}.{key}")
        else:
            into[key] = value


def collect(folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        merge(out, json.loads(path.read_text()), path.name)
    return out


def main() -> None:
    strings = collect(ROOT / ".strings")
    text = json.dumps(strings, indent=2, ensure_ascii=False) + "\n"
    (INTEGRATION / "strings.json").write_text(text)
    (INTEGRATION / "translations").mkdir(exist_ok=True)
    (INTEGRATION / "translations" / "en.json").write_text(text)
    icons = collect(ROOT / ".icons")
    (INTEGRATION / "icons.json").write_text(json.dumps(icons, indent=2) + "\n")


if __name__ == "__main__":
    main()
