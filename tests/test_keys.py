"""The app key (keys.py): made once per Home Assistant, kept in its storage, rotated, served
without authentication by Home Assistant's real HTTP server while in use, and never
written to a log line, diagnostics or the entry data."""

import asyncio
import json
import logging
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.tesla_resilient.const import DOMAIN
from custom_components.tesla_resilient.keys import (
    DATA,
    KEY_PATH,
    STORAGE_KEY,
    AppKey,
    async_get_app_key,
    async_rotate_app_key,
    async_serve_public_key,
)
from tesla_sim import SimServer
from tests.ha_fixtures import TOTP_EMAIL, make_config_entry, setup_entry
from tests.test_pairing import partner_entry

MOCK_STORAGE_LOGGER = "pytest_homeassistant_custom_component.common"


def stored_private_pem(hass_storage: dict[str, Any]) -> str:
    """The private key as written to Home Assistant's storage."""
    pem: str = hass_storage[STORAGE_KEY]["data"]["private_key"]
    return pem


def secrets_of(private_pem: str) -> list[str]:
    """Every way the private key could leak: PEM lines, DER, the scalar (hex, decimal)."""
    key = serialization.load_pem_private_key(private_pem.encode(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    scalar = key.private_numbers().private_value
    lines = private_pem.strip().splitlines()[1:-1]
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return [*lines, "".join(lines), der.hex(), f"{scalar:064x}", str(scalar)]


async def test_made_once_kept_in_storage_and_survives_a_restart(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    first, second = await asyncio.gather(
        async_get_app_key(hass), async_get_app_key(hass)
    )
    assert first is second  # one key, even when asked twice at once
    assert len(first.public_bytes) == 65 and first.public_bytes[0] == 4
    public = serialization.load_pem_public_key(first.public_pem.encode())
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    ) == (first.public_bytes)
    assert first.public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert len(first.fingerprint) == 16
    assert stored_private_pem(hass_storage).startswith("-----BEGIN PRIVATE KEY-----")
    assert "private_key" not in repr(first)

    hass.data.pop(DATA)  # a restart: only the storage is left
    again = await async_get_app_key(hass)
    assert again is not first
    assert (again.public_bytes, again.fingerprint) == (
        first.public_bytes,
        first.fingerprint,
    )


@pytest.mark.parametrize(
    "stored",
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
async def test_an_unreadable_stored_key_is_replaced(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    stored: str,
) -> None:
    hass_storage[STORAGE_KEY] = {
        "version": 1,
        "key": STORAGE_KEY,
        "data": {"private_key": stored},
    }
    key = await async_get_app_key(hass)
    assert stored_private_pem(hass_storage) != stored
    assert AppKey.from_private_key(key.private_key) == key
    assert "The stored app key is unreadable" in caplog.text


async def test_rotation_makes_and_keeps_a_new_key(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    old = await async_get_app_key(hass)
    new = await async_rotate_app_key(hass)
    assert new.public_bytes != old.public_bytes
    assert await async_get_app_key(hass) is new
    hass.data.pop(DATA)
    assert (await async_get_app_key(hass)).public_bytes == new.public_bytes
    assert f"new fingerprint {new.fingerprint}" in caplog.text


async def test_served_without_authentication_only_while_in_use(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    sim: SimServer,
) -> None:
    assert await async_setup_component(hass, DOMAIN, {})
    async_serve_public_key(hass)  # idempotent: the view is registered once
    client = await hass_client_no_auth()

    async def fetch() -> tuple[int, str, str]:
        reply = await client.get(KEY_PATH)
        return reply.status, reply.content_type, await reply.text()

    assert (await fetch())[0] == 404  # no entry loaded, no flow
    assert DATA not in hass.data or hass.data[DATA].key is None  # nor made for it

    # A config flow in progress uses it (the partner registration fetches it).
    flow = await hass.config_entries.flow.async_init(DOMAIN, context={"source": "user"})
    key = await async_get_app_key(hass)
    assert await fetch() == (200, "application/x-pem-file", key.public_pem)
    hass.config_entries.flow.async_abort(flow["flow_id"])
    assert (await fetch())[0] == 404

    # A loaded entry that registered no domain does not use it; one that did does.
    plain = await setup_entry(hass, await make_config_entry(sim, TOTP_EMAIL))
    assert (await fetch())[0] == 404
    await hass.config_entries.async_remove(plain.entry_id)
    entry = await partner_entry(hass, sim)
    assert await fetch() == (200, "application/x-pem-file", key.public_pem)
    await hass.config_entries.async_unload(entry.entry_id)
    assert (await fetch())[0] == 404


async def test_private_key_in_no_log_diagnostics_or_entry_data(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    sim: SimServer,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert await async_setup_component(hass, "diagnostics", {})
    entry = await partner_entry(hass, sim)
    client = await hass_client()
    reply = await client.get(KEY_PATH)
    assert reply.status == 200  # the key is made for the first request
    first = stored_private_pem(hass_storage)
    await async_rotate_app_key(hass)
    second = stored_private_pem(hass_storage)
    assert first != second
    diagnostics = json.dumps(
        await get_diagnostics_for_config_entry(hass, hass_client, entry)
    )
    entry_text = json.dumps([dict(entry.data), dict(entry.options)])
    # The test harness's in-memory storage logs what it is given to write (Home
    # Assistant's real Store logs only the file name): its records are not ours.
    logged = "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name != MOCK_STORAGE_LOGGER
    )
    assert "app key" in logged  # the key's own log lines were captured
    for secret in secrets_of(first) + secrets_of(second):
        assert secret not in logged
        assert secret not in diagnostics
        assert secret not in entry_text
