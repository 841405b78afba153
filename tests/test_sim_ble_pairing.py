"""Pairing a key over Bluetooth (an unsigned whitelist add): the owner taps a key card,
denies it on the screen, or lets it time out (30 s on the simulator's clock).

Client: tesla-fleet-api's ``VehicleBluetooth.pair`` through Home Assistant's Bluetooth.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.core import HomeAssistant
import pytest
from tesla_fleet_api.exceptions import (
    WhitelistOperationLocalEntityAuthFailedTimedOutWaitingForTap,
    WhitelistOperationLocalEntityAuthFailedUIDenied,
    WhitelistOperationStatus,
)

from tesla_sim import SimServer, World
from tesla_sim.ble.scanner import SimRemoteScanner
from tesla_sim.vcp.tags import public_bytes
from tests.ble_fixtures import RecordingVehicle, async_car_in_range, ble_vehicle

NEW_KEY = ec.derive_private_key(0x5EC0_0D_CAFE, ec.SECP256R1())


async def _until_pending(world: World, vin: str) -> None:
    """Wait until the car waits for the key card (the add reached it)."""
    async with asyncio.timeout(5):
        while not world.ble_state(vin)["pairing"]:
            await asyncio.sleep(0.01)


@asynccontextmanager
async def _pairing(
    hass: HomeAssistant, sim: SimServer, scanner: SimRemoteScanner
) -> AsyncIterator[tuple[str, RecordingVehicle, asyncio.Task[None]]]:
    """A key add the car waits on: its VIN, the client (disconnected at the end) and
    the pairing task."""
    vin = next(iter(sim.world.vehicles))
    await async_car_in_range(hass, scanner, sim.world, vin)
    car = ble_vehicle(hass, vin, NEW_KEY)
    await car.connect()
    try:
        task = asyncio.create_task(car.pair(timeout=10, poll_interval=5))
        await _until_pending(sim.world, vin)
        yield vin, car, task
    finally:
        await car.disconnect()


async def test_tap_adds_the_key(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """No answer before the tap; on the tap the key joins the car's whitelist (the
    cloud's virtual keys too) and the car answers OK; the key then signs commands."""
    async with _pairing(hass, sim, ble_scanner) as (vin, car, task):
        assert not task.done()
        assert public_bytes(NEW_KEY) not in sim.world.vehicles[vin].whitelist
        assert sim.world.ble_tap(vin) is True
        await task
        assert sim.world.vehicles[vin].whitelist[public_bytes(NEW_KEY)] == "owner"
        state = sim.world.state()["vehicles"][0]
        assert public_bytes(NEW_KEY).hex() in state["virtual_keys"]
        assert (await car.door_unlock())["response"]["result"] is True
        with pytest.raises(WhitelistOperationStatus):
            await car.pair(timeout=1, poll_interval=1)  # already on the whitelist
    assert sim.world.ble_tap(vin) is False


async def test_declined_on_the_screen(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """Denied on the screen: LOCAL_ENTITY_AUTH_FAILED_UI_DENIED, no key added."""
    async with _pairing(hass, sim, ble_scanner) as (vin, _, task):
        assert sim.world.ble_decline(vin) is True
        with pytest.raises(WhitelistOperationLocalEntityAuthFailedUIDenied):
            await task
    assert public_bytes(NEW_KEY) not in sim.world.vehicles[vin].whitelist
    assert sim.world.ble_decline(vin) is False


async def test_no_tap_times_out(
    hass: HomeAssistant, sim_virtual: SimServer, ble_scanner_virtual: SimRemoteScanner
) -> None:
    """Nobody taps for 30 s (the simulator's clock): TIMED_OUT_WAITING_FOR_TAP."""
    async with _pairing(hass, sim_virtual, ble_scanner_virtual) as (vin, _, task):
        sim_virtual.world.advance(29)
        assert sim_virtual.world.ble_state(vin)["pairing"] is True
        sim_virtual.world.advance(1)
        with pytest.raises(
            WhitelistOperationLocalEntityAuthFailedTimedOutWaitingForTap
        ):
            await task
    assert sim_virtual.world.ble_state(vin)["pairing"] is False
    assert public_bytes(NEW_KEY) not in sim_virtual.world.vehicles[vin].whitelist


async def test_tap_after_the_link_dropped_still_pairs(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """The answer is lost with the link, but the tap still adds the key (the library
    finds out by a handshake)."""
    async with _pairing(hass, sim, ble_scanner) as (vin, _, task):
        task.cancel()
    assert sim.world.ble_tap(vin) is True
    assert public_bytes(NEW_KEY) in sim.world.vehicles[vin].whitelist
    second = ble_vehicle(hass, vin, NEW_KEY)
    await second.connect()
    try:
        await second.handshakeVehicleSecurity()
    finally:
        await second.disconnect()
