"""Home Assistant's log and stored entries: no errors of the integration, no secret."""

from __future__ import annotations

import json
import re

from .context import Run, step
from .harness import DOMAIN


async def check_logs(run: Run) -> None:
    """The integration logged no errors and no secret."""
    step("Home Assistant's log")
    log = (run.artifacts / "home-assistant.log").read_text(errors="replace")
    entries = json.loads(
        (run.config_dir / ".storage" / "core.config_entries").read_text()
    )["data"]["entries"]
    for entry in entries:
        if entry["domain"] == DOMAIN:
            token = entry["data"].get("token", {})
            run.secrets.update(
                v for k, v in token.items() if k in {"access_token", "refresh_token"}
            )
            run.expect(
                f"the entry of {entry['title']} stores no password or code",
                set(entry["data"])
                <= {
                    "auth_method",
                    "token",
                    "client_id",
                    "auth_base_url",
                    "token_url",
                    "api_base_url",
                    "region",
                    "auth_implementation",
                    "partner_domain",
                },
                sorted(entry["data"]),
            )
    leaked = [s[:4] + "…" for s in run.secrets if s and s in log]
    leaked += ["VIN " + vin[:5] + "…" for vin in run.cars if vin in log]
    run.expect("no password, 2FA secret, token or VIN in the log", not leaked, leaked)
    errors = [
        line
        for line in log.splitlines()
        if re.search(r"\b(ERROR|CRITICAL)\b.*custom_components\.tesla_resilient", line)
        or ("Traceback" in line and "tesla_resilient" in line)
    ]
    run.expect("the integration logged no errors", not errors, errors[:5])
    run.expect(
        "the outage was logged once at info level when it started",
        "unreachable" in log.lower(),
        "no outage line",
    )
