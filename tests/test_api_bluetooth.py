"""The Bluetooth client (api/bluetooth.py) against tesla_sim's car, through HA's stack.

Home Assistant's real Bluetooth stack (``enable_bluetooth``) reaches the simulated car
through the ``ble_scanner`` proxy and its bleak backend; the device comes from
``bluetooth.async_ble_device_from_address`` as under the integration. The car checks
every message itself (tesla_sim.ble, tesla_sim.vcp).
"""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import bleak_retry_connector
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
import pytest
from tesla_protocol.command.universal_message_pb2 import RoutableMessage
from tesla_protocol.command.vcsec_pb2 import CommandStatus, FromVCSECMessage

from custom_components.tesla_resilient.api import (
    BleStatus,
    BluetoothSlotsFull,
    BluetoothUnavailable,
    BluetoothVehicle,
    CommandFailed,
    CommandOutcomeUnknown,
    KeyNotPaired,
    PairingDeclined,
    PairingTimedOut,
    VehicleData,
    VehicleState,
)
from tesla_sim import SimServer, World
from tesla_sim.ble import address_of
from tesla_sim.ble.scanner import SimRemoteScanner
from tesla_sim.payloads import vehicle_data
from tesla_sim.vehicles import Vehicle
from tests.ble_fixtures import async_car_in_range
from tests.sim_fixtures import APP_KEY
from tests.test_sim_fleet import car_of

OTHER_KEY = ec.derive_private_key(0x0B1E_5EC0, ec.SECP256R1())
"""A key no car knows (a phone of someone else)."""


@dataclass
class BleCar:
    """A car in range, our client for it and what the car counts."""

    hass: HomeAssistant
    sim: SimServer
    scanner: SimRemoteScanner
    car: Vehicle
    vehicle: BluetoothVehicle

    @property
    def world(self) -> World:
        return self.sim.world

    def radio(self) -> dict[str, Any]:
        """The car's radio state and its Bluetooth message counters."""
        return self.world.ble_state(self.car.vin)

    def client(self, key: ec.EllipticCurvePrivateKey) -> BluetoothVehicle:
        """Another client of the car, with ``key``."""
        device = bluetooth.async_ble_device_from_address(
            self.hass, address_of(self.car.vin), connectable=True
        )
        assert device is not None
        return BluetoothVehicle(self.car.vin, key, device)

    def sleep(self) -> None:
        """The car falls asleep (its infotainment stops answering)."""
        self.car.set_activity("sleep", self.world.now())
        self.world.tick()


@pytest.fixture
async def ble_car(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> AsyncIterator[BleCar]:
    """The no-MFA account's car in range of the proxy; it trusts :data:`APP_KEY`."""
    car = car_of(sim, "nomfa@example.com")
    car.wake_seconds = 0.0
    await async_car_in_range(hass, ble_scanner, sim.world, car.vin)
    device = bluetooth.async_ble_device_from_address(
        hass, address_of(car.vin), connectable=True
    )
    assert device is not None
    vehicle = BluetoothVehicle(car.vin, APP_KEY, device)
    try:
        yield BleCar(hass, sim, ble_scanner, car, vehicle)
    finally:
        await vehicle.disconnect()


async def test_status_while_awake_and_asleep(ble_car: BleCar) -> None:
    """VCSEC answers awake and asleep, as the cloud's keys; never through the cloud."""
    car, vehicle = ble_car.car, ble_car.vehicle
    status = await vehicle.status()
    assert status.state is VehicleState.ONLINE
    assert status.values.locked is car.locked
    assert status.values.get("vehicle_state_df") == 0
    assert status.values.get("charge_state_charge_port_door_open") is (
        car.charge_port_door_open
    )
    assert status.values.get("vehicle_state_is_user_present") is car.user_present
    ble_car.sleep()
    asleep = await vehicle.status()
    assert asleep.state is VehicleState.ASLEEP
    assert ble_car.car.reported_state == "asleep"
    assert ble_car.world.meter.as_dict()["total"] == 0


async def test_read_awake_matches_the_cloud(ble_car: BleCar) -> None:
    """Charge, climate and closures over Bluetooth: the cloud's keys and values."""
    data = await ble_car.vehicle.read_awake()
    assert data is not None
    cloud = VehicleData.from_api(vehicle_data(ble_car.car, ble_car.world.now()))
    for key in (
        "charge_state_battery_level",
        "charge_state_charge_limit_soc",
        "charge_state_charging_state",
        "charge_state_charge_energy_added",
        "climate_state_is_climate_on",
        "climate_state_driver_temp_setting",
        "climate_state_inside_temp",
        "vehicle_state_locked",
        "vehicle_state_fd_window",
        "vehicle_state_df",
    ):
        assert key in data.values, key
    for key, value in data.values.items():
        if key not in cloud.values:
            continue
        expected = cloud.values[key]
        if isinstance(expected, float):
            assert value == pytest.approx(expected, rel=1e-6), key
        else:
            assert value == expected, key
    assert data.sections == frozenset()


async def test_read_awake_never_wakes(ble_car: BleCar) -> None:
    """Asleep: no data, and the car sleeps on."""
    ble_car.sleep()
    assert await ble_car.vehicle.read_awake() is None
    assert ble_car.car.reported_state == "asleep"


async def test_commands(ble_car: BleCar) -> None:
    """VCSEC and infotainment commands, REST-named, change the one car state."""
    car, vehicle = ble_car.car, ble_car.vehicle
    await vehicle.send("door_unlock")
    assert car.locked is False
    await vehicle.send("door_lock")
    assert car.locked is True
    await vehicle.send("set_charge_limit", {"percent": 66})
    assert car.charge_limit == 66
    await vehicle.send("auto_conditioning_start")
    assert car.climate_on is True
    assert ble_car.world.meter.as_dict()["total"] == 0


async def test_command_wakes_a_sleeping_car(ble_car: BleCar) -> None:
    """An infotainment command to a sleeping car wakes it over Bluetooth first."""
    ble_car.sleep()
    await ble_car.vehicle.send("set_charge_limit", {"percent": 70})
    assert ble_car.car.charge_limit == 70
    assert ble_car.car.reported_state == "online"


async def test_refusal_is_a_failed_command(ble_car: BleCar) -> None:
    """The car answers that it will not: CommandFailed (safe to try the cloud)."""
    with pytest.raises(ValueError, match="Bluetooth"):
        await ble_car.vehicle.send("remote_start_drive")
    ble_car.world.ble_set(ble_car.car.vin, busy_next=True)
    locked = ble_car.car.locked
    with pytest.raises(CommandFailed) as err:
        await ble_car.vehicle.send("door_unlock" if locked else "door_lock")
    assert err.value.reason == "busy"
    assert ble_car.car.locked is locked


async def test_lost_ack_is_an_unknown_outcome(ble_car: BleCar) -> None:
    """The car did it but its answer was lost: CommandOutcomeUnknown, never re-sent."""
    vehicle = ble_car.vehicle
    await vehicle.status()
    before = ble_car.radio()["messages_in"]
    ble_car.world.ble_set(ble_car.car.vin, drop_ack_next=True)
    with pytest.raises(CommandOutcomeUnknown):
        await vehicle.send("door_unlock")
    assert ble_car.car.locked is False
    assert ble_car.radio()["messages_in"] == before + 1
    await vehicle.send("door_lock")
    assert ble_car.car.locked is True


async def test_stale_session_one_new_handshake(ble_car: BleCar) -> None:
    """A car rebooted since the session: one handshake, one more try."""
    await ble_car.vehicle.send("door_unlock")
    ble_car.world.reboot_vehicle(ble_car.car.vin)
    await ble_car.vehicle.send("door_lock")
    assert ble_car.car.locked is True


async def test_broadcasts_reach_listeners(ble_car: BleCar) -> None:
    """While connected, a status change from any path is broadcast to listeners."""
    seen: list[BleStatus] = []
    stop = ble_car.vehicle.listen_status(seen.append)
    await ble_car.vehicle.status()
    ble_car.car.locked = not ble_car.car.locked
    ble_car.world.tick()
    await ble_car.hass.async_block_till_done()
    await ble_car.vehicle.status()
    assert seen
    assert seen[-1].values.locked is ble_car.car.locked
    stop()
    stop()
    count = len(seen)
    ble_car.car.locked = not ble_car.car.locked
    ble_car.world.tick()
    await ble_car.vehicle.status()
    assert len(seen) == count


async def test_unknown_key(ble_car: BleCar) -> None:
    """A key the car does not know: not paired; reads and commands refused."""
    stranger = ble_car.client(OTHER_KEY)
    try:
        assert await stranger.is_paired() is False
        with pytest.raises(KeyNotPaired):
            await stranger.status()
        with pytest.raises(KeyNotPaired):
            await stranger.send("door_unlock")
    finally:
        await stranger.disconnect()
    assert await ble_car.vehicle.is_paired() is True


async def test_pairing_with_a_tap(ble_car: BleCar) -> None:
    """The whitelist add waits for the key card; then the key works."""
    stranger = ble_car.client(OTHER_KEY)
    vin = ble_car.car.vin
    try:
        pairing = ble_car.hass.async_create_task(stranger.pair())
        await _until_pending(ble_car)
        assert ble_car.world.ble_tap(vin) is True
        await pairing
        assert await stranger.is_paired() is True
        await stranger.pair()  # a key already there: nothing to do
        await stranger.send("door_unlock")
        assert ble_car.car.locked is False
    finally:
        await stranger.disconnect()


async def test_pairing_declined_or_untapped(ble_car: BleCar) -> None:
    """Declined on the screen: PairingDeclined; nobody taps: PairingTimedOut."""
    stranger = ble_car.client(OTHER_KEY)
    try:
        pairing = ble_car.hass.async_create_task(stranger.pair())
        await _until_pending(ble_car)
        assert ble_car.world.ble_decline(ble_car.car.vin) is True
        with pytest.raises(PairingDeclined):
            await pairing
        with pytest.raises(PairingTimedOut):
            await stranger.pair(timeout=0.2)
    finally:
        await stranger.disconnect()
    assert await stranger.is_paired() is False


async def test_no_free_slot(ble_car: BleCar, monkeypatch: pytest.MonkeyPatch) -> None:
    """A car whose three connections are taken: BluetoothSlotsFull, nothing sent.

    Home Assistant's connector waits 4 s between its tries for a free slot; not here.
    """
    monkeypatch.setattr(bleak_retry_connector, "BLEAK_OUT_OF_SLOTS_BACKOFF_TIME", 0.0)
    ble_car.world.ble_set(ble_car.car.vin, other_clients=3)
    await ble_car.scanner.async_poll_once()
    with pytest.raises(BluetoothSlotsFull):
        await ble_car.vehicle.send("door_unlock")
    assert ble_car.radio()["messages_in"] == 0
    assert ble_car.car.locked is True


async def test_out_of_range(ble_car: BleCar) -> None:
    """A car gone out of range: BluetoothUnavailable (not a slot), nothing sent."""
    ble_car.world.ble_set(ble_car.car.vin, in_range=False)
    with pytest.raises(BluetoothUnavailable) as err:
        await ble_car.vehicle.status()
    assert not isinstance(err.value, BluetoothSlotsFull)
    with pytest.raises(BluetoothUnavailable):
        await ble_car.vehicle.send("set_charge_limit", {"percent": 55})
    assert ble_car.radio()["messages_in"] == 0


async def _until_pending(ble_car: BleCar) -> None:
    """Let the loop run until the car holds a pending key add (at most 10 s)."""
    for _ in range(500):
        if ble_car.radio()["pairing"]:
            return
        await asyncio.sleep(0.02)
    pytest.fail("The key add never reached the car")


async def test_wake_up_command_and_a_new_device(ble_car: BleCar) -> None:
    """``wake_up`` over Bluetooth wakes a sleeping car; a new device is used next."""
    ble_car.sleep()
    await ble_car.vehicle.send("wake_up")
    ble_car.world.tick()
    assert ble_car.car.reported_state == "online"
    await ble_car.vehicle.disconnect()
    device = bluetooth.async_ble_device_from_address(
        ble_car.hass, address_of(ble_car.car.vin), connectable=True
    )
    assert device is not None
    ble_car.vehicle.set_device(device)
    assert (await ble_car.vehicle.status()).state is VehicleState.ONLINE


async def test_broadcasts_other_than_status_are_ignored(ble_car: BleCar) -> None:
    """A VCSEC broadcast that is no status, or no message at all, reaches nobody."""
    seen: list[BleStatus] = []
    ble_car.vehicle.listen_status(seen.append)
    ble_car.vehicle._on_broadcast(RoutableMessage(protobuf_message_as_bytes=b"\xff"))
    ble_car.vehicle._on_broadcast(
        RoutableMessage(
            protobuf_message_as_bytes=FromVCSECMessage(
                commandStatus=CommandStatus()
            ).SerializeToString()
        )
    )
    assert seen == []
