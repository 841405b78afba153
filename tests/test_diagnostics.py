"""Diagnostics download: useful content, nothing identifying or secret."""

import json

from homeassistant.components.diagnostics import REDACTED
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.tesla_resilient.const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_TOKEN,
    ProtectedAction,
)
from custom_components.tesla_resilient.diagnostics import _entry_data
from tesla_sim import SimServer
from tests.ha_fixtures import TOTP_EMAIL, make_config_entry, setup_entry, sim_car

OTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


async def test_diagnostics_redacted(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    sim: SimServer,
) -> None:
    """Health, polling and snapshots are there; tokens, VINs and places are not."""
    assert await async_setup_component(hass, "diagnostics", {})
    entry: MockConfigEntry = await make_config_entry(
        sim,
        TOTP_EMAIL,
        options={"otp_secret": OTP_SECRET, "otp_actions": ["unlock"]},
    )
    await setup_entry(hass, entry)
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(result)

    assert result["health"]["state"] == "ok"  # type: ignore[index]
    vehicles = result["vehicles"]
    assert isinstance(vehicles, list)
    assert len(vehicles) == 2
    first = vehicles[0]
    assert isinstance(first, dict)
    assert first["data_source"] == "cloud"
    assert first["polling"]["next"]["action"] in {"vehicle_data", "sleep_check"}  # type: ignore[index,call-overload]
    assert "location_data" in first["polling"]["endpoints"]  # type: ignore[index,call-overload]
    assert first["snapshot"]["data"]["charge_state_battery_level"] is not None  # type: ignore[index,call-overload]
    assert result["protected_actions"] == [ProtectedAction.UNLOCK.value]

    token = entry.data[CONF_TOKEN]
    secrets = [
        token["access_token"],
        token["refresh_token"],
        OTP_SECRET,
        TOTP_EMAIL,
        entry.unique_id,
    ]
    for name in ("Stella", "Yara"):
        car = sim_car(sim, name)
        secrets += [
            car.vin,
            name,
            str(car.id),
            str(car.vehicle_id),
            str(car.user_id),
            f"{car.latitude:.4f}",
            f"{car.longitude:.4f}",
        ]
    for secret in secrets:
        assert secret
        assert str(secret) not in text, "leaked a secret or identifier"
    assert '"drive_state_latitude": "**REDACTED**"' in text


def test_server_urls_lose_their_userinfo() -> None:
    """A user name or password in a stored server URL never reaches diagnostics."""
    data = _entry_data(
        {
            CONF_AUTH_BASE_URL: "https://user:hunter2@proxy.example:8443/auth",
            CONF_API_BASE_URL: "not a url",
            CONF_TOKEN: {"access_token": "abc"},
        }
    )
    assert data[CONF_AUTH_BASE_URL] == "https://proxy.example:8443/auth"
    assert data[CONF_API_BASE_URL] == REDACTED
    assert data[CONF_TOKEN] == REDACTED
    plain = _entry_data({CONF_API_BASE_URL: "https://fleet-api.example"})
    assert plain == {CONF_API_BASE_URL: "https://fleet-api.example"}
