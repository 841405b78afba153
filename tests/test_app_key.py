"""The app key (keys.py): loaded from Home Assistant's storage, else made once."""

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.core import HomeAssistant
import pytest

from custom_components.tesla_resilient import keys
from tesla_sim.vcp.tags import public_bytes
from tests.sim_fixtures import APP_KEY


async def test_stored_key_is_loaded(hass: HomeAssistant) -> None:
    """The test HA's storage holds APP_KEY: that is the app key, loaded once."""
    key = await keys.async_get_app_key(hass)
    assert key.public_bytes == public_bytes(APP_KEY)
    assert len(key.public_bytes) == 65
    assert key.public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert len(key.fingerprint) == keys.FINGERPRINT_LENGTH
    assert "private" not in repr(key)
    assert await keys.async_get_app_key(hass) is key


async def test_key_made_once_and_saved(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Without a stored key one is made, saved, and returned from then on."""
    del hass_storage[keys.STORAGE_KEY]
    key = await keys.async_get_app_key(hass)
    assert key.public_bytes != public_bytes(APP_KEY)
    assert await keys.async_get_app_key(hass) is key
    await hass.async_block_till_done()
    saved = hass_storage[keys.STORAGE_KEY]["data"]["private_key"]
    loaded = serialization.load_pem_private_key(saved.encode(), None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert public_bytes(loaded) == key.public_bytes


@pytest.mark.parametrize(
    "pem",
    [
        "not a key",
        ec.generate_private_key(ec.SECP384R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode(),
    ],
    ids=["garbage", "p384"],
)
async def test_unreadable_key_replaced(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    pem: str,
) -> None:
    """A stored key that does not load (or is not P-256) is replaced, with a warning."""
    hass_storage[keys.STORAGE_KEY]["data"] = {"private_key": pem}
    key = await keys.async_get_app_key(hass)
    assert key.public_bytes != public_bytes(APP_KEY)
    assert "unreadable" in caplog.text
