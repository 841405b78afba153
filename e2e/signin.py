"""Signing in: Home Assistant's onboarding, and the integration's config flow over REST."""

from __future__ import annotations

import time

import pyotp

from tesla_sim.tokens import fleet_auth_token_url

from .context import API_ACCOUNT, HA_PASSWORD, HA_USER, Run, other_code, step
from .harness import DOMAIN


async def onboard(run: Run) -> None:
    """Onboard Home Assistant over REST (or log in) and note the simulator's secrets."""
    since = time.monotonic()
    onboarded_now = await run.ha.onboard_or_login("Dev", HA_USER, HA_PASSWORD)
    run.expect(
        "onboarding over REST (user, core_config, analytics, integration)",
        onboarded_now,
    )
    status, steps = await run.ha.request("GET", "/api/onboarding", expect=None)
    run.expect(
        "every onboarding step is done",
        status == 200 and all(s["done"] for s in steps),
        steps,
    )
    await run.poll("Home Assistant to finish starting", run.ha.core_running, limit=180)
    # Onboarding's weather and radio entries would reach out to the internet.
    await run.ha.remove_entries({"met", "radio_browser"})
    run.timed("onboarding_s", since)
    state = await run.sim.state()
    for account in state["accounts"]:
        run.secrets.add(account["password"])
        run.secrets.update(f["secret"] for f in account["mfa"])
    run.expect("the simulator lists its accounts", state["accounts"])


async def config_flow_api(run: Run) -> None:
    """Sign in over REST as the frontend does: menu → password → 2FA."""
    step(f"config flow over REST ({API_ACCOUNT})")
    since = time.monotonic()
    account = await run.sim.account(API_ACCOUNT)
    secret = account["mfa"][0]["secret"]

    result = await run.ha.flow_start(DOMAIN)
    run.expect(
        "the flow opens with the sign-in menu",
        result.get("type") == "menu"
        and set(result.get("menu_options", []))
        >= {"password", "browser", "refresh_token"},
        result,
    )
    flow_id = result["flow_id"]
    result = await run.ha.flow_step(flow_id, {"next_step_id": "password"})
    fields = {f["name"] for f in result.get("data_schema", [])}
    run.expect(
        "the password step asks for email, password and servers",
        result.get("step_id") == "password"
        and {"email", "password", "servers"} <= fields,
        result,
    )
    servers = {
        "auth_base_url": run.sim.url,
        "token_url": fleet_auth_token_url(run.sim.url),
        "api_base_url": run.sim.url,
    }
    result = await run.ha.flow_step(
        flow_id,
        {
            "email": account["email"],
            "password": "not-" + account["password"],
            "servers": servers,
        },
    )
    run.expect(
        "a wrong password is refused in the same step",
        result.get("step_id") == "password"
        and result.get("errors", {}).get("base") == "invalid_auth",
        result,
    )
    result = await run.ha.flow_step(
        flow_id,
        {
            "email": account["email"],
            "password": account["password"],
            "servers": servers,
        },
    )
    run.expect(
        "the account's 2FA step follows the password",
        result.get("step_id") == "mfa"
        and result.get("description_placeholders", {}).get("factor")
        == account["mfa"][0]["name"],
        result,
    )
    result = await run.ha.flow_step(flow_id, {"code": other_code(secret, time.time())})
    run.expect(
        "a wrong 2FA code is refused in the same step",
        result.get("step_id") == "mfa"
        and result.get("errors", {}).get("base") == "invalid_code",
        result,
    )
    result = await run.ha.flow_step(flow_id, {"code": pyotp.TOTP(secret).now()})
    run.expect(
        "a valid 2FA code leads to the optional authenticator step",
        result.get("step_id") == "authenticator",
        result,
    )
    result = await run.ha.flow_step(flow_id, {"next_step_id": "wake"})
    run.expect(
        "declining the authenticator creates the entry",
        result.get("type") == "create_entry"
        and result.get("title") == API_ACCOUNT
        and result.get("result", {}).get("state") == "loaded",
        result,
    )
    run.entry_ids[API_ACCOUNT] = result["result"]["entry_id"]
    run.timed("config_flow_api_s", since)
