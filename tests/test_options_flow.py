"""Options flow tests: authenticator protection turned on, changed and turned off."""

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pyotp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.const import (
    CONF_OTP_ACTIONS,
    CONF_OTP_SECRET,
    DOMAIN,
    ProtectedAction,
)
from custom_components.tesla_resilient.otp import MAX_FAILURES, OtpLockedOut
from custom_components.tesla_resilient.polling import PollingSettings
from custom_components.tesla_resilient.polling_cost import standard_day_cost
from tesla_sim import SimServer
from tests.flow_helpers import (
    add_entry,
    unload_entries,  # noqa: F401 - an autouse fixture
)
from tests.flow_render import STRINGS, render

# The password steps sign in headless with the legacy client: a legacy sign-in server.
pytestmark = pytest.mark.sim(legacy_sign_in=True)

# ------------------------------------------------------------------------ options flow


def options_entry(
    hass: HomeAssistant, options: dict[str, Any] | None = None
) -> MockConfigEntry:
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="owner@example.com",
        unique_id="acct",
        options=options or {},
    )
    entry.add_to_hass(hass)
    return entry


async def open_protection(
    hass: HomeAssistant, entry: MockConfigEntry
) -> ConfigFlowResult:
    """Open the options and choose the protection item (it says whether it is on)."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    on = CONF_OTP_SECRET in entry.options
    item = "protection_change" if on else "protection_enable"
    assert list(result["menu_options"]) == [item, "polling"]
    shown = STRINGS["options"]["step"]["init"]["menu_options"][item]
    assert ("(on)" if on else "(off)") in shown
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": item}
    )


def saved_text(result: ConfigFlowResult) -> str:
    """What the options dialog shows once saved, as the frontend renders it."""
    assert result["type"] is FlowResultType.CREATE_ENTRY
    text = STRINGS["options"]["create_entry"][result["description"]]
    return render(text, dict(result["description_placeholders"] or {}))


async def test_enable_protection(hass: HomeAssistant) -> None:
    entry = options_entry(hass, {"keep": 1})
    result = await open_protection(hass, entry)
    assert result["step_id"] == "protection_enable"
    placeholders = result["description_placeholders"]
    secret = placeholders["key"]
    uri = urlsplit(placeholders["uri"])
    assert uri.scheme == "otpauth"
    assert parse_qs(uri.query)["secret"] == [secret]
    assert parse_qs(uri.query)["issuer"] == ["Tesla Resilient"]
    assert "owner" in uri.path
    assert result["data_schema"].schema[CONF_OTP_ACTIONS]  # the multi-select
    default = next(
        m for m in result["data_schema"].schema if m == CONF_OTP_ACTIONS
    ).default()
    assert default == ["unlock", "open_frunk", "open_trunk", "remote_start"]
    flow_id = result["flow_id"]
    totp = pyotp.TOTP(secret)
    wrong = next(c for c in ("000000", "111111") if not totp.verify(c, valid_window=1))
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_OTP_ACTIONS: ["unlock"], "code": wrong}
    )
    assert result["errors"] == {"code": "invalid_code"}
    assert result["description_placeholders"]["key"] == secret  # same secret on retry
    assert entry.options == {"keep": 1}
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_OTP_ACTIONS: [], "code": totp.now()}
    )
    assert result["errors"] == {CONF_OTP_ACTIONS: "no_actions"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {CONF_OTP_ACTIONS: ["unlock", "open_trunk"], "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "code of your authenticator app: Unlock the doors, Open the trunk." in (
        saved_text(result)
    )
    assert entry.options == {
        "keep": 1,
        CONF_OTP_SECRET: secret,
        CONF_OTP_ACTIONS: ["unlock", "open_trunk"],
    }


async def test_change_and_disable_protection(hass: HomeAssistant) -> None:
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    wrong = next(c for c in ("000000", "111111") if not totp.verify(c, valid_window=1))
    entry = options_entry(
        hass, {"keep": 1, CONF_OTP_SECRET: secret, CONF_OTP_ACTIONS: ["unlock"]}
    )
    result = await open_protection(hass, entry)
    assert result["step_id"] == "protection_change"
    assert secret not in json.dumps(result.get("description_placeholders") or {})
    flow_id = result["flow_id"]
    change = {"enabled": True, CONF_OTP_ACTIONS: ["unlock", "remote_start"]}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**change, "code": wrong}
    )
    assert result["errors"] == {"code": "invalid_code"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {"enabled": True, CONF_OTP_ACTIONS: [], "code": totp.now()}
    )
    assert result["errors"] == {CONF_OTP_ACTIONS: "no_actions"}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**change, "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_OTP_ACTIONS] == ["unlock", "remote_start"]
    assert entry.options[CONF_OTP_SECRET] == secret
    # Turning it off needs a valid code too.
    result = await open_protection(hass, entry)
    off = {"enabled": False, CONF_OTP_ACTIONS: []}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**off, "code": wrong}
    )
    assert result["errors"] == {"code": "invalid_code"}
    assert CONF_OTP_SECRET in entry.options
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**off, "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert "no action needs an authenticator code" in saved_text(result)
    assert entry.options == {"keep": 1}


async def test_protection_applies_to_the_running_entry(
    hass: HomeAssistant, sim: SimServer
) -> None:
    entry = await add_entry(hass, sim)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.guard is None
    result = await open_protection(hass, entry)
    totp = pyotp.TOTP(result["description_placeholders"]["key"])
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_OTP_ACTIONS: ["unlock"], "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    guard = entry.runtime_data.guard
    assert guard is not None
    assert guard.is_protected(ProtectedAction.UNLOCK)
    assert not guard.is_protected(ProtectedAction.OPEN_TRUNK)


async def test_protection_change_goes_through_the_running_guard(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """While the entry runs, its guard checks the code: replay and lock-out apply."""
    entry = await add_entry(hass, sim)
    await hass.async_block_till_done()
    result = await open_protection(hass, entry)
    totp = pyotp.TOTP(result["description_placeholders"]["key"])
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_OTP_ACTIONS: ["unlock"], "code": totp.now()}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    guard = entry.runtime_data.guard
    assert guard is not None
    options = dict(entry.options)
    # A code just used to unlock cannot be replayed to turn the protection off.
    code = totp.now()
    guard.verify(ProtectedAction.UNLOCK, code)
    result = await open_protection(hass, entry)
    assert result["step_id"] == "protection_change"
    flow_id = result["flow_id"]
    off = {"enabled": False, CONF_OTP_ACTIONS: []}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**off, "code": code}
    )
    assert result["errors"] == {"code": "code_reused"}
    # An unused code of the window is accepted.
    change = {"enabled": True, CONF_OTP_ACTIONS: ["unlock", "open_trunk"]}
    result = await hass.config_entries.options.async_configure(
        flow_id, {**change, "code": totp.at(int(time.time()) + 30)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_OTP_ACTIONS] == ["unlock", "open_trunk"]
    guard = entry.runtime_data.guard
    assert guard is not None
    options = dict(entry.options)
    # Wrong codes here count towards the guard's lock-out.
    result = await open_protection(hass, entry)
    flow_id = result["flow_id"]
    wrong = next(
        c for c in ("000000", "111111", "222222") if not totp.verify(c, valid_window=1)
    )
    for _ in range(MAX_FAILURES):
        result = await hass.config_entries.options.async_configure(
            flow_id, {**off, "code": wrong}
        )
        assert result["errors"] == {"code": "invalid_code"}
    assert guard.locked_until() is not None
    result = await hass.config_entries.options.async_configure(
        flow_id, {**off, "code": totp.now()}
    )
    assert result["errors"] == {"code": "locked_out"}
    with pytest.raises(OtpLockedOut):
        guard.verify(ProtectedAction.UNLOCK, totp.now())
    assert entry.options == options


# --------------------------------------------------------------------- polling intervals


def test_standard_day_cost_follows_the_benchmark() -> None:
    """The estimate of the default policy is the standard day's (BENCHMARKS.md).

    ``scripts/bench day``: 63 vehicle_data, 117 sleep checks, 2 commands; $10.86 a
    month if sleep checks are billed, $3.84 if not. Longer sleep checks cost less.
    """
    cost = standard_day_cost(PollingSettings())
    assert (cost.vehicle_data, cost.sleep_checks, cost.commands) == (63, 117, 2)
    assert (cost.usd_per_month, cost.usd_per_month_checks_free) == (10.86, 3.84)
    slow = standard_day_cost(PollingSettings(sleep_check_interval=3600))
    assert slow.usd_per_month < cost.usd_per_month
    assert slow.usd_per_month_checks_free == cost.usd_per_month_checks_free
    eager = standard_day_cost(PollingSettings(driving_interval=30))
    assert eager.vehicle_data > cost.vehicle_data
    # Polling a parked car less often than it needs to fall asleep (15 min) finds it
    # asleep: those 408 answers are billed like data.
    late = standard_day_cost(PollingSettings(idle_grace=2000, idle_interval=1000))
    assert late.vehicle_data > 0


async def test_polling_intervals(hass: HomeAssistant, sim: SimServer) -> None:
    """The owner picks the intervals, sees their monthly cost, the coordinators use them."""
    entry = await add_entry(hass, sim)
    await hass.async_block_till_done()
    assert all(
        vehicle.settings == PollingSettings()
        for vehicle in entry.runtime_data.vehicles.values()
    )
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "polling"}
    )
    assert result["step_id"] == "polling"
    assert result["description_placeholders"] == {
        "current_billed": "10.86",
        "current_free": "3.84",
    }
    chosen = {
        "sleep_check_interval": 3600,
        "driving_interval": 85,
        "charging_interval": 1800,
    }
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], chosen
    )
    assert result["step_id"] == "polling_confirm"
    placeholders = result["description_placeholders"]
    expected = standard_day_cost(PollingSettings(sleep_check_interval=3600))
    assert placeholders["chosen_billed"] == f"{expected.usd_per_month:.2f}"
    assert placeholders["chosen_free"] == "3.84"
    assert placeholders["default_billed"] == "10.86"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert "new intervals" in saved_text(result)
    await hass.async_block_till_done()
    assert entry.options["sleep_check_interval"] == 3600
    assert entry.state is ConfigEntryState.LOADED
    vehicles = entry.runtime_data.vehicles.values()
    assert vehicles
    assert all(v.settings.sleep_check_interval == 3600 for v in vehicles)
    assert all(v.settings.driving_interval == 85 for v in vehicles)
