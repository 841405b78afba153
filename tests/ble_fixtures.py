"""Fixtures for Bluetooth tests: a remote scanner in range of tesla_sim's cars.

Imported by tests/conftest.py. ``ble_scanner`` registers a :class:`SimRemoteScanner`
with Home Assistant's real Bluetooth stack (``enable_bluetooth``) as a proxy with three
connection slots; ``async_car_in_range`` puts a car in range and feeds one poll, so the
car is among ``bluetooth.async_discovered_service_info`` right away (no timed waits).
Home Assistant's bluetooth is imported only when the fixture is used.
"""

from collections.abc import AsyncIterator

from homeassistant.core import HomeAssistant
import pytest

from tesla_sim import SimServer, World
from tesla_sim.ble.scanner import SimRemoteScanner

SCANNER_SOURCE = "AA:BB:CC:00:00:01"
"""The simulated proxy's source (its Bluetooth address)."""


@pytest.fixture
async def ble_scanner(
    enable_bluetooth: None, hass: HomeAssistant, sim: SimServer
) -> AsyncIterator[SimRemoteScanner]:
    """A started scanner in range of ``sim``'s cars, registered with Home Assistant."""
    # Imported here: Home Assistant's bluetooth needs usb's requirements (aiousbwatcher,
    # serialx), which only the Bluetooth tests need installed.
    from homeassistant.components import bluetooth

    scanner = SimRemoteScanner(SCANNER_SOURCE, sim.url)
    unregister = bluetooth.async_register_scanner(hass, scanner, connection_slots=3)
    stop = scanner.async_start()
    try:
        yield scanner
    finally:
        stop()
        await scanner.async_stop()
        unregister()


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
