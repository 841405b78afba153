"""The client side of tesla_sim's Bluetooth (the bleak backend, the scanner) and the car's
AES-GCM against Tesla's published example (protocol.md)."""

import asyncio
from functools import partial
import hashlib

from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from homeassistant.core import HomeAssistant
import pytest
from tesla_protocol.command.signatures_pb2 import SignatureType
from tesla_protocol.command.universal_message_pb2 import (
    Destination,
    Domain,
    RoutableMessage,
)

from tesla_sim import SimServer
from tesla_sim.ble import (
    DEVICE_NAME_UUID,
    NOTIFY_UUID,
    VERSION_UUID,
    WRITE_UUID,
    address_of,
    local_name,
)
from tesla_sim.ble.bleak_client import SimBleakClient
from tesla_sim.ble.scanner import SimRemoteScanner, make_connector
from tesla_sim.vcp.aes import Undecryptable, decrypt, request_hash
from tesla_sim.vcp.tags import command_metadata

K = bytes.fromhex("1b2fce19967b79db696f909cff89ea9a")
EPOCH = bytes.fromhex("4c463f9cc0d3d26906e982ed224adde6")
gcm_metadata = partial(
    command_metadata, signature_type=SignatureType.SIGNATURE_TYPE_AES_GCM_PERSONALIZED
)
PUBLISHED_METADATA = (
    "000105010103021135594a333031323334353637383941424303104c463f9cc0d3d26906e982ed"
    "224adde6040400000a5f050400000007070400000002ff"
)


def test_aes_gcm_as_published() -> None:
    """protocol.md's "Turn HVAC on" example: the same metadata; what Tesla's recipe
    encrypts opens; a changed byte does not; request hashes per signature type."""
    meta = gcm_metadata(
        domain=Domain.DOMAIN_INFOTAINMENT,
        vin="5YJ30123456789ABC",
        epoch=EPOCH,
        expires_at=2655,
        counter=7,
        flags=2,
    )
    assert meta.hex() == PUBLISHED_METADATA
    plaintext, nonce = bytes.fromhex("120452020801"), bytes(12)
    sealed = AESGCM(K).encrypt(nonce, plaintext, hashlib.sha256(meta).digest())
    assert decrypt(K, meta, nonce, sealed[:-16], sealed[-16:]) == plaintext
    with pytest.raises(Undecryptable):
        decrypt(K, meta, nonce, b"\x00" + sealed[1:-16], sealed[-16:])
    with pytest.raises(Undecryptable):
        decrypt(K, meta, b"short", sealed[:-16], sealed[-16:])
    unflagged = gcm_metadata(
        domain=2, vin="5YJ30123456789ABC", epoch=EPOCH, expires_at=1, counter=1, flags=0
    )
    assert b"\x07\x04" not in unflagged
    hmac_request = RoutableMessage(
        to_destination=Destination(domain=Domain.DOMAIN_VEHICLE_SECURITY)
    )
    hmac_request.signature_data.HMAC_Personalized_data.tag = bytes(32)
    hashed = request_hash(hmac_request)
    assert hashed == bytes((SignatureType.SIGNATURE_TYPE_HMAC_PERSONALIZED,)) + bytes(
        16
    )
    assert request_hash(RoutableMessage()) == b""


def _connected(client: SimBleakClient) -> bool:
    """Read anew (mypy narrows a property as if it could not change)."""
    return client.is_connected


def _device(sim: SimServer, vin: str) -> BLEDevice:
    return BLEDevice(address_of(vin), local_name(vin), {"sim_url": sim.url})


async def test_backend_gatt_table(sim: SimServer) -> None:
    """The backend's GATT table, reads, refusals and an orderly disconnect."""
    vin = next(iter(sim.world.vehicles))
    client = SimBleakClient(_device(sim, vin))
    assert (client.name, client.mtu_size, client.is_connected) == (
        local_name(vin),
        23,
        False,
    )
    with pytest.raises(BleakError, match="not found"):
        await client.connect()
    sim.world.ble_set(vin, in_range=True)
    await client.connect()
    assert client.is_connected
    services = client.services
    assert services is not None
    version = services.get_characteristic(VERSION_UUID)
    name = services.get_characteristic(DEVICE_NAME_UUID)
    write = services.get_characteristic(WRITE_UUID)
    notify = services.get_characteristic(NOTIFY_UUID)
    assert version is not None and name is not None
    assert write is not None and notify is not None
    assert await client.read_gatt_char(version) == b"\x00\x01"
    assert await client.read_gatt_char(name) == local_name(vin).encode()
    with pytest.raises(BleakError):
        await client.read_gatt_char(write)
    with pytest.raises(BleakError):
        await client.write_gatt_char(notify, b"x", True)
    with pytest.raises(BleakError):
        await client.start_notify(write, lambda data: None)
    with pytest.raises(BleakError):
        await client.read_gatt_descriptor(None)  # type: ignore[arg-type]
    with pytest.raises(BleakError):
        await client.write_gatt_descriptor(None, b"")  # type: ignore[arg-type]
    await client.pair()
    await client.unpair()
    await client.stop_notify(notify)
    await client.disconnect()
    assert not _connected(client)
    with pytest.raises(BleakError, match="not connected"):
        await client.write_gatt_char(write, b"x", True)
    assert sim.world.ble_state(vin)["links"] in (0, 1)  # the car notices shortly


async def test_backend_without_a_simulator(sim: SimServer) -> None:
    """No ``sim_url``, or nothing listening: BleakError."""
    with pytest.raises(BleakError, match="no simulator"):
        await SimBleakClient("02:00:00:00:00:01").connect()
    device = BLEDevice("02:00:00:00:00:01", None, {"sim_url": "http://127.0.0.1:9"})
    with pytest.raises(BleakError, match="cannot reach"):
        await SimBleakClient(device).connect()


async def test_scanner_polls_and_survives_errors(
    socket_enabled: None, enable_bluetooth: None, hass: HomeAssistant
) -> None:
    """The connector names the backend; a scanner pointed nowhere keeps polling."""
    assert make_connector("src").client is SimBleakClient
    lost = SimRemoteScanner("lost", "http://127.0.0.1:9", interval=0.01)
    lost.async_start()
    await asyncio.sleep(0.05)
    await lost.async_stop()
    await lost.async_stop()
