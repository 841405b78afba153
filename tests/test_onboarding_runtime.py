"""What the onboarding leaves around the config flow: the page of the virtual key, the
app key in storage and its view (over Home Assistant's real HTTP server), the wake-once
choice at the first set-up."""

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.tesla_resilient import flow_onboarding
from custom_components.tesla_resilient.const import CONF_WAKE_ONCE
from custom_components.tesla_resilient.keys import (
    KEY_PATH,
    async_get_app_key,
    async_rotate_app_key,
)
from tesla_sim import SimServer
from tests.flow_helpers import (
    TOTP,
    ha_domain_fixture,  # noqa: F401 - a fixture
    start,
    unload_entries,  # noqa: F401 - an autouse fixture
)
from tests.ha_fixtures import add_fault, make_config_entry, setup_entry, sim_car


def test_virtual_key_url() -> None:
    """Tesla's page on Tesla's servers, the server's own elsewhere (the simulator)."""
    url = flow_onboarding.virtual_key_url
    assert url("https://auth.tesla.com", "ha.example.com") == (
        "https://tesla.com/_ak/ha.example.com"
    )
    assert url("https://auth.tesla.cn", "ha.example.com") == (
        "https://tesla.com/_ak/ha.example.com"
    )
    assert url("http://127.0.0.1:1234", "ha.example.com") == (
        "http://127.0.0.1:1234/_ak/ha.example.com"
    )


async def test_key_served_only_while_used(
    hass: HomeAssistant, ha_domain: str, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """Home Assistant serves the public key without authentication, while it is used."""
    http = await hass_client_no_auth()
    resp = await http.get(KEY_PATH)
    assert resp.status == 404
    result = await start(hass)  # a set-up in progress uses it
    resp = await http.get(KEY_PATH)
    assert resp.status == 200
    assert await resp.text() == (await async_get_app_key(hass)).public_pem
    hass.config_entries.flow.async_abort(result["flow_id"])
    assert (await http.get(KEY_PATH)).status == 404


async def test_app_key_kept_and_rotated(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Made once and saved (the private key only in storage), loaded, replaceable."""
    key = await async_get_app_key(hass)
    assert len(key.public_bytes) == 65
    assert "PrivateKey" not in repr(key)
    saved = hass_storage["tesla_resilient.app_key"]["data"]["private_key"]
    assert saved.startswith("-----BEGIN PRIVATE KEY-----")
    hass.data.pop("tesla_resilient_app_key")
    assert (await async_get_app_key(hass)).public_pem == key.public_pem
    rotated = await async_rotate_app_key(hass)
    assert rotated.public_pem != key.public_pem
    assert await async_get_app_key(hass) is rotated
    hass.data.pop("tesla_resilient_app_key")
    hass_storage["tesla_resilient.app_key"]["data"]["private_key"] = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(TypeError):
        await async_get_app_key(hass)


async def test_wake_once_that_fails_is_only_logged(
    hass: HomeAssistant, sim: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The chosen car is woken once (not the other); a failed wake leaves a log line."""
    stella, yara = (sim_car(sim, name) for name in ("Stella", "Yara"))
    for car in (stella, yara):
        car.set_activity("sleep", sim.world.now())
    add_fault(sim, "outage", paths=[f"/api/1/vehicles/{stella.id}/wake_up"])
    entry = await setup_entry(
        hass,
        await make_config_entry(sim, TOTP, options={CONF_WAKE_ONCE: [stella.vin]}),
    )
    assert entry.options == {}
    assert "did not wake" in caplog.text
    assert sim.world.meter.vehicle(yara.vin).wakes_caused == 0
