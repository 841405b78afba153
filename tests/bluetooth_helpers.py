"""Helpers of the Bluetooth runtime tests: a config entry with a car's Bluetooth subentry,
and the fixtures ``stella`` and ``paired`` (Stella paired and in range, set up).

The pairing flow (``flow_bluetooth.py``) makes the subentry; here it is written directly
(``subentry_type`` ``bluetooth``, ``unique_id`` the VIN, ``data`` the VIN and address).
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryData
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.const import (
    CONF_ADDRESS,
    CONF_VIN,
    DOMAIN,
    SUBENTRY_BLUETOOTH,
)
from custom_components.tesla_resilient.coordinator import VehicleCoordinator
from tesla_sim import SimServer
from tesla_sim.ble import address_of
from tesla_sim.ble.scanner import SimRemoteScanner
from tesla_sim.vehicles import Vehicle
from tests.ble_fixtures import async_car_in_range
from tests.ha_fixtures import TOTP_EMAIL, make_config_entry, setup_entry, sim_car

WAIT = 10.0
"""Most seconds a test waits for the car's answer over the loopback link."""


def with_bluetooth(entry: MockConfigEntry, *vins: str) -> MockConfigEntry:
    """``entry`` (not added) again, with a Bluetooth subentry for each of ``vins``."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options=dict(entry.options),
        subentries_data=[
            ConfigSubentryData(
                subentry_type=SUBENTRY_BLUETOOTH,
                unique_id=vin,
                title=f"Bluetooth {vin[-4:]}",
                data={CONF_VIN: vin, CONF_ADDRESS: address_of(vin)},
            )
            for vin in vins
        ],
    )


def entity_id(hass: HomeAssistant, platform: str, vin: str, key: str) -> str | None:
    """The entity id of the car's entity ``key`` on ``platform``, if registered."""
    return er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{vin}-{key}")


def vehicle_of(entry: MockConfigEntry, vin: str) -> VehicleCoordinator:
    """The coordinator of the car ``vin``."""
    return next(v for v in entry.runtime_data.vehicles.values() if v.vin == vin)


def meter_total(sim: SimServer) -> int:
    """Every cloud request the simulator counted (Bluetooth is never counted)."""
    total: int = sim.world.meter.as_dict()["total"]
    return total


async def async_wait_state(hass: HomeAssistant, entity: str, state: str) -> None:
    """Wait (at most :data:`WAIT` seconds) until ``entity`` shows ``state``."""
    if (current := hass.states.get(entity)) is not None and current.state == state:
        return
    reached = asyncio.Event()

    @callback
    def changed(event: Event[Any]) -> None:
        new = event.data.get("new_state")
        if event.data.get("entity_id") == entity and new and new.state == state:
            reached.set()

    unsub = hass.bus.async_listen(EVENT_STATE_CHANGED, changed)
    try:
        await asyncio.wait_for(reached.wait(), WAIT)
    finally:
        unsub()


@pytest.fixture
def stella(sim: SimServer) -> Vehicle:
    """The Model S, paired over Bluetooth in these tests."""
    return sim_car(sim, "Stella")


@pytest.fixture
async def paired(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner, stella: Vehicle
) -> AsyncIterator[MockConfigEntry]:
    """The TOTP account with Stella paired over Bluetooth and in range, set up."""
    await async_car_in_range(hass, ble_scanner, sim.world, stella.vin, rssi=-55)
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), stella.vin)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
