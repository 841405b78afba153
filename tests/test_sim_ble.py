"""tesla_sim's car over Bluetooth through Home Assistant's real Bluetooth stack.

The client is tesla-fleet-api's ``VehicleBluetooth`` (conformance: the library checks the
car side), connecting through habluetooth to the ``SimRemoteScanner`` proxy and its
``SimBleakClient`` backend.
"""

from homeassistant.components import bluetooth
from homeassistant.core import HomeAssistant
from tesla_fleet_api.tesla.bluetooth import TeslaBluetooth
from tesla_fleet_api.tesla.vehicle.bluetooth import VehicleBluetooth
from tesla_protocol.command.vcsec_pb2 import VehicleLockState_E, VehicleSleepStatus_E

from tesla_sim import SimServer
from tesla_sim.ble import address_of, local_name
from tesla_sim.ble.scanner import SimRemoteScanner
from tests.ble_fixtures import async_car_in_range
from tests.sim_fixtures import APP_KEY


def _vin(sim: SimServer) -> str:
    return next(iter(sim.world.vehicles))


async def _vehicle(hass: HomeAssistant, vin: str) -> VehicleBluetooth[TeslaBluetooth]:
    device = bluetooth.async_ble_device_from_address(
        hass, address_of(vin), connectable=True
    )
    assert device is not None
    return VehicleBluetooth(
        TeslaBluetooth(), vin, APP_KEY, device, keepalive_interval=None
    )


async def test_status_and_lock_through_home_assistant(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """A car in range is discovered, connects, answers VCSEC status and unlocks."""
    vin = _vin(sim)
    await async_car_in_range(hass, ble_scanner, sim.world, vin, rssi=-55)
    info = bluetooth.async_last_service_info(hass, address_of(vin), connectable=True)
    assert info is not None
    assert info.name == local_name(vin)
    assert info.rssi == -55

    car = await _vehicle(hass, vin)
    await car.connect()
    try:
        status = await car.vehicle_state()
        assert status.vehicleLockState == VehicleLockState_E.VEHICLELOCKSTATE_LOCKED
        assert (
            status.vehicleSleepStatus == VehicleSleepStatus_E.VEHICLE_SLEEP_STATUS_AWAKE
        )
        result = await car.door_unlock()
        assert result["response"]["result"] is True
        assert sim.world.vehicles[vin].locked is False
        status = await car.vehicle_state()
        assert status.vehicleLockState == VehicleLockState_E.VEHICLELOCKSTATE_UNLOCKED
    finally:
        await car.disconnect()
    radio = sim.world.ble_state(vin)
    assert radio["messages_in"] >= 4
    assert sim.world.meter.as_dict()["total"] == 0
