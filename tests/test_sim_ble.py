"""tesla_sim's car over Bluetooth through Home Assistant's real Bluetooth stack.

The client is tesla-fleet-api's ``VehicleBluetooth`` (conformance: the library checks the
car side: framing, session info, AES-GCM commands, encrypted answers, broadcasts),
connecting through habluetooth to the ``SimRemoteScanner`` proxy and its
``SimBleakClient`` backend.
"""

import asyncio

import aiohttp
from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
import pytest
from tesla_fleet_api.exceptions import BluetoothTimeout
from tesla_protocol.command.universal_message_pb2 import Domain
from tesla_protocol.command.vcsec_pb2 import (
    ClosureState_E,
    VehicleLockState_E,
    VehicleSleepStatus_E,
)

from tesla_sim import SimServer
from tesla_sim.ble import address_of, local_name
from tesla_sim.ble.scanner import SimRemoteScanner
from tests.ble_fixtures import async_car_in_range, ble_vehicle

LOCKED = VehicleLockState_E.VEHICLELOCKSTATE_LOCKED
UNLOCKED = VehicleLockState_E.VEHICLELOCKSTATE_UNLOCKED
ASLEEP = VehicleSleepStatus_E.VEHICLE_SLEEP_STATUS_ASLEEP
AWAKE = VehicleSleepStatus_E.VEHICLE_SLEEP_STATUS_AWAKE
INFO = Domain.DOMAIN_INFOTAINMENT


def _vin(sim: SimServer) -> str:
    return next(iter(sim.world.vehicles))


async def _script(sim: SimServer, vin: str, **body: object) -> None:
    """Change the car through the control API (an HTTP request, as the cloud's are)."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{sim.url}/__sim__/vehicles/{vin}", json=body) as response,
    ):
        assert response.status == 200


async def test_status_and_lock_through_home_assistant(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """A car in range is discovered, connects, answers VCSEC status and unlocks; the
    cloud sees the change; no cloud request is metered."""
    vin = _vin(sim)
    await async_car_in_range(hass, ble_scanner, sim.world, vin, rssi=-55)
    info = bluetooth.async_last_service_info(hass, address_of(vin), connectable=True)
    assert info is not None
    assert info.name == local_name(vin)
    assert info.rssi == -55

    car = ble_vehicle(hass, vin)
    await car.connect()
    try:
        status = await car.vehicle_state()
        assert status.vehicleLockState == LOCKED
        assert status.vehicleSleepStatus == AWAKE
        assert status.closureStatuses.chargePort == ClosureState_E.CLOSURESTATE_CLOSED
        result = await car.door_unlock()
        assert result["response"]["result"] is True
        assert sim.world.vehicles[vin].locked is False
        assert (await car.vehicle_state()).vehicleLockState == UNLOCKED
        assert (await car.door_lock())["response"]["result"] is True
        assert sim.world.state()["vehicles"][0]["locked"] is True
    finally:
        await car.disconnect()
    radio = sim.world.ble_state(vin)
    assert radio["messages_in"] >= 5
    assert radio["messages_out"] >= radio["messages_in"]
    assert radio["connections"] == 1
    assert sim.world.meter.as_dict()["total"] == 0


async def test_answers_are_encrypted(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """Commands carry FLAG_ENCRYPT_RESPONSE: every answer to one is AES-GCM encrypted
    (the library decrypts it: the test passing is the check)."""
    vin = _vin(sim)
    await async_car_in_range(hass, ble_scanner, sim.world, vin)
    car = ble_vehicle(hass, vin)
    await car.connect()
    try:
        await car.vehicle_state()
        await car.charge_port_door_open()
        await car.charge_state()
    finally:
        await car.disconnect()
    answers = [m for m in car.received if m.HasField("protobuf_message_as_bytes")]
    encrypted = [
        m for m in answers if m.signature_data.HasField("AES_GCM_Response_data")
    ]
    assert len(encrypted) == 3
    assert sim.world.vehicles[vin].charge_port_door_open is True


async def test_changes_from_anywhere_are_broadcast(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """A lock change through the control API and the car falling asleep reach every
    open link as an unsolicited VCSEC status."""
    vin = _vin(sim)
    await async_car_in_range(hass, ble_scanner, sim.world, vin)
    car = ble_vehicle(hass, vin)
    locks: asyncio.Queue[int] = asyncio.Queue()
    sleeps: asyncio.Queue[int] = asyncio.Queue()
    car.listen_vehicle_lock_state(locks.put_nowait)
    car.listen_vehicle_sleep_status(sleeps.put_nowait)
    await car.connect()
    try:
        await _script(sim, vin, locked=False)
        assert await asyncio.wait_for(locks.get(), 5) == UNLOCKED
        assert await asyncio.wait_for(sleeps.get(), 5) == AWAKE
        await _script(sim, vin, activity="sleep")
        assert await asyncio.wait_for(sleeps.get(), 5) == ASLEEP
        assert await asyncio.wait_for(locks.get(), 5) == UNLOCKED
    finally:
        await car.disconnect()
    broadcasts = [m for m in car.received if m.to_destination.domain == 0]
    assert len(broadcasts) == 2
    assert not broadcasts[0].HasField("signature_data")
    assert sim.world.ble_state(vin)["broadcasts"] == 2


@pytest.mark.sim(wake_seconds=0.0)
async def test_asleep_vcsec_answers_infotainment_is_silent_until_woken(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """Asleep: VCSEC reports it, infotainment stays silent; the RKE wake wakes the car
    (counted as a wake we caused) and infotainment answers again."""
    vin = _vin(sim)
    sim.world.vehicles[vin].set_activity("sleep", sim.world.now())
    await async_car_in_range(hass, ble_scanner, sim.world, vin)
    car = ble_vehicle(hass, vin)
    car._default_timeout = 0.3  # the silence is a time-out: keep it short
    await car.connect()
    try:
        assert (await car.vehicle_state()).vehicleSleepStatus == ASLEEP
        with pytest.raises(BluetoothTimeout):
            await car.handshakeInfotainment()
        assert not [m for m in car.received if m.from_destination.domain == INFO]
        await car.wake_up()
        sim.world.tick()
        assert sim.world.vehicles[vin].is_online
        car._default_timeout = 5
        await car.handshakeInfotainment()
        assert (await car.vehicle_state()).vehicleSleepStatus == AWAKE
    finally:
        await car.disconnect()
    assert sim.world.meter.as_dict()["total"] == 0


async def test_vehicle_data_and_actions_share_the_cloud_car(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """Infotainment's charge, climate and closures states match the car; a car-server
    action over Bluetooth changes the one car the cloud reports."""
    vin = _vin(sim)
    sim_car = sim.world.vehicles[vin]
    await async_car_in_range(hass, ble_scanner, sim.world, vin)
    car = ble_vehicle(hass, vin)
    await car.connect()
    try:
        charge = await car.charge_state()
        assert charge.battery_level == round(sim_car.battery_level)
        assert charge.charge_limit_soc == sim_car.charge_limit
        assert charge.charging_state.HasField("Disconnected")
        climate = await car.climate_state()
        assert climate.is_climate_on is False
        assert climate.inside_temp_celsius == pytest.approx(
            sim_car.inside_temp, abs=0.1
        )
        closures = await car.closures_state()
        assert closures.locked is True
        assert closures.door_open_trunk_rear is False
        result = await car.auto_conditioning_start()
        assert result["response"]["result"] is True
        assert (await car.climate_state()).is_climate_on is True
        result = await car.set_charge_limit(90)
        assert result["response"]["result"] is True
    finally:
        await car.disconnect()
    assert sim_car.climate_on is True
    assert sim_car.charge_limit == 90
