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
from tesla_sim import SimServer
from tests.flow_helpers import (
    add_entry,
    unload_entries,  # noqa: F401 - an autouse fixture
)

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
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert list(result["menu_options"]) == ["protection"]
    return await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "protection"}
    )


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
    assert entry.options == {"keep": 1}


async def test_protection_applies_to_the_running_entry(
    hass: HomeAssistant, sim: SimServer
) -> None:
    entry = await add_entry(hass, sim)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.guard is None
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "protection"}
    )
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
