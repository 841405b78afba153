"""The car's radio faults over Bluetooth: busy (WAIT), a lost answer, a dropped link,
the three-connection limit, going out of range and the idle drop after 40 s.

Client: tesla-fleet-api's ``VehicleBluetooth`` (and bleak-retry-connector's
``establish_connection``) through Home Assistant's Bluetooth.
"""

import asyncio
from typing import Any

import bleak
from bleak.exc import BleakError
from bleak_retry_connector import (
    OUT_OF_SLOTS_ERRORS,
    BleakNotFoundError,
    establish_connection,
)
from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
import pytest
from tesla_fleet_api.exceptions import BluetoothTimeout
from tesla_protocol.command.vcsec_pb2 import FromVCSECMessage, OperationStatus_E

from tesla_sim import SimServer
from tesla_sim.ble import address_of
from tesla_sim.ble.bleak_client import SimBleakClient
from tesla_sim.ble.scanner import SimRemoteScanner
from tests.ble_fixtures import RecordingVehicle, async_car_in_range, ble_vehicle


def _vin(sim: SimServer) -> str:
    return next(iter(sim.world.vehicles))


async def _connected(
    hass: HomeAssistant, sim: SimServer, scanner: SimRemoteScanner, **options: Any
) -> tuple[str, RecordingVehicle, asyncio.Queue[bool]]:
    vin = _vin(sim)
    await async_car_in_range(hass, scanner, sim.world, vin)
    car = ble_vehicle(hass, vin, **options)
    links: asyncio.Queue[bool] = asyncio.Queue()
    car.listen_connection_status(links.put_nowait)
    await car.connect()
    assert await links.get() is True
    return vin, car, links


async def test_busy_answers_wait_once(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """busy_next: the next command is answered OPERATIONSTATUS_WAIT and not carried
    out (the library tries again and it goes through)."""
    vin, car, _ = await _connected(hass, sim, ble_scanner)
    try:
        await car.vehicle_state()
        sim.world.ble_set(vin, busy_next=True)
        assert (await car.door_unlock())["response"]["result"] is True
    finally:
        await car.disconnect()
    statuses = [
        FromVCSECMessage.FromString(m.protobuf_message_as_bytes).commandStatus
        for m in car.received
        if not m.signature_data.HasField("AES_GCM_Response_data")
        and m.HasField("protobuf_message_as_bytes")
        and m.to_destination.routing_address
    ]
    assert [s.operationStatus for s in statuses].count(
        OperationStatus_E.OPERATIONSTATUS_WAIT
    ) == 1
    assert sim.world.vehicles[vin].locked is False
    assert sim.world.ble_state(vin)["busy_next"] is False


async def test_lost_answer_drops_the_link_but_the_command_ran(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """drop_ack_next: the command is carried out, its answer lost, the link dropped."""
    vin, car, links = await _connected(hass, sim, ble_scanner, raise_unconfirmed=True)
    car._actuation_timeout = 0.5
    try:
        await car.vehicle_state()
        sim.world.ble_set(vin, drop_ack_next=True)
        with pytest.raises(BluetoothTimeout):
            await car.door_unlock()
        assert await asyncio.wait_for(links.get(), 5) is False
    finally:
        await car.disconnect()
    assert sim.world.vehicles[vin].locked is False
    assert sim.world.ble_state(vin)["links"] == 0


async def test_drop_link_and_out_of_range(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """drop_link closes the connection (the client hears the disconnect); a car out of
    range drops its links, refuses new ones and stops advertising."""
    vin, car, links = await _connected(hass, sim, ble_scanner)
    sim.world.ble_set(vin, drop_link=True)
    assert await asyncio.wait_for(links.get(), 5) is False
    await car.connect()
    assert await links.get() is True
    sim.world.ble_set(vin, in_range=False)
    assert await asyncio.wait_for(links.get(), 5) is False
    assert await ble_scanner.async_poll_once() == []
    device = bluetooth.async_ble_device_from_address(hass, address_of(vin), True)
    assert device is not None  # Home Assistant has not noticed yet
    with pytest.raises(BleakNotFoundError):
        await establish_connection(bleak.BleakClient, device, vin, max_attempts=1)


async def test_three_connections_at_most(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """Other clients hold slots; the car takes three connections in all and, full,
    advertises non-connectable and refuses more (out of connection slots)."""
    vin = _vin(sim)
    await async_car_in_range(hass, ble_scanner, sim.world, vin)
    sim.world.ble_set(vin, other_clients=2)
    car = ble_vehicle(hass, vin)
    await car.connect()
    try:
        adverts = await ble_scanner.async_poll_once()
        assert adverts[0]["connectable"] is False
        device = bluetooth.async_ble_device_from_address(hass, address_of(vin), True)
        assert device is not None
        # The backend's refusal, as bleak-retry-connector recognises it (through it,
        # Home Assistant backs off and retries for a while: not here).
        with pytest.raises(BleakError, match="|".join(OUT_OF_SLOTS_ERRORS)):
            await SimBleakClient(device).connect()
        state = sim.world.ble_state(vin)
        assert (state["links"], state["other_clients"]) == (1, 2)
    finally:
        await car.disconnect()
    assert (await ble_scanner.async_poll_once())[0]["connectable"] is True


async def test_idle_link_drops_after_40_seconds(
    hass: HomeAssistant, sim_virtual: SimServer, ble_scanner_virtual: SimRemoteScanner
) -> None:
    """A link without a message for 40 s (the simulator's clock) is dropped."""
    world = sim_virtual.world
    vin, car, links = await _connected(hass, sim_virtual, ble_scanner_virtual)
    try:
        await car.vehicle_state()
        world.advance(39)
        assert world.ble_state(vin)["links"] == 1
        await car.handshakeVehicleSecurity()  # activity: the 40 s start again
        world.advance(39)
        assert world.ble_state(vin)["links"] == 1
        world.advance(1)
        assert await asyncio.wait_for(links.get(), 5) is False
        assert world.ble_state(vin)["links"] == 0
    finally:
        await car.disconnect()
