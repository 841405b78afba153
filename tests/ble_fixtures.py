"""Fixtures for Bluetooth tests: a remote scanner in range of tesla_sim's cars.

Imported by tests/conftest.py. ``ble_scanner`` (``ble_scanner_virtual`` for the simulator
on a virtual clock) registers a :class:`SimRemoteScanner` with Home Assistant's real
Bluetooth stack (``enable_bluetooth``) as a proxy with three connection slots;
``async_car_in_range`` puts a car in range and feeds one poll, so the car is among
``bluetooth.async_discovered_service_info`` right away (no timed waits).
``ble_vehicle`` gives tesla-fleet-api's ``VehicleBluetooth`` for a car in range (the
client that checks the car side), keeping every message the car sent.

Home Assistant's bluetooth is imported only when used: it needs the requirements of
``usb`` (aiousbwatcher, serialx) that only the Bluetooth tests need.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.core import HomeAssistant
import pytest
from tesla_fleet_api.tesla.bluetooth import TeslaBluetooth
from tesla_fleet_api.tesla.vehicle.bluetooth import VehicleBluetooth
from tesla_protocol.command.universal_message_pb2 import RoutableMessage

from tesla_sim import SimServer, World
from tesla_sim.ble import address_of
from tesla_sim.ble.scanner import SimRemoteScanner
from tests.sim_fixtures import APP_KEY

SCANNER_SOURCE = "AA:BB:CC:00:00:01"
"""The simulated proxy's source (its Bluetooth address)."""


@asynccontextmanager
async def _registered(
    hass: HomeAssistant, sim: SimServer
) -> AsyncIterator[SimRemoteScanner]:
    from homeassistant.components import bluetooth

    scanner = SimRemoteScanner(SCANNER_SOURCE, sim.url)
    unregister = bluetooth.async_register_scanner(hass, scanner, connection_slots=3)
    scanner.async_start()
    try:
        yield scanner
    finally:
        await scanner.async_stop()
        unregister()


@pytest.fixture
async def ble_scanner(
    enable_bluetooth: None, hass: HomeAssistant, sim: SimServer
) -> AsyncIterator[SimRemoteScanner]:
    """A started scanner in range of ``sim``'s cars, registered with Home Assistant."""
    async with _registered(hass, sim) as scanner:
        yield scanner


@pytest.fixture
async def ble_scanner_virtual(
    enable_bluetooth: None, hass: HomeAssistant, sim_virtual: SimServer
) -> AsyncIterator[SimRemoteScanner]:
    """The same for ``sim_virtual`` (the simulator on a virtual clock)."""
    async with _registered(hass, sim_virtual) as scanner:
        yield scanner


async def async_car_in_range(
    hass: HomeAssistant,
    scanner: SimRemoteScanner,
    world: World,
    vin: str,
    rssi: int = -60,
) -> None:
    """Put the car ``vin`` in range at ``rssi`` and feed one advertisement poll."""
    world.ble_set(vin, in_range=True, rssi=rssi)
    await scanner.async_poll_once()
    await hass.async_block_till_done()


class RecordingVehicle(VehicleBluetooth[TeslaBluetooth]):
    """tesla-fleet-api's Bluetooth vehicle, keeping every message the car sent."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As ``VehicleBluetooth``."""
        super().__init__(*args, **kwargs)
        self.received: list[RoutableMessage] = []

    def _on_message(self, msg: RoutableMessage) -> None:
        copy = RoutableMessage()
        copy.CopyFrom(msg)
        self.received.append(copy)
        super()._on_message(msg)


def ble_vehicle(
    hass: HomeAssistant,
    vin: str,
    key: ec.EllipticCurvePrivateKey = APP_KEY,
    **options: Any,
) -> RecordingVehicle:
    """The library's client of ``vin`` (in range), through Home Assistant's Bluetooth;
    no keep-alive; ``options`` go to ``VehicleBluetooth``."""
    from homeassistant.components import bluetooth

    device = bluetooth.async_ble_device_from_address(
        hass, address_of(vin), connectable=True
    )
    if device is None:
        raise LookupError(f"{address_of(vin)} is not in range")
    options.setdefault("keepalive_interval", None)
    return RecordingVehicle(TeslaBluetooth(), vin, key, device, **options)
