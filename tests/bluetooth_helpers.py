"""Helpers of the Bluetooth runtime tests: a config entry with a car's Bluetooth subentry.

The pairing flow (``flow_bluetooth.py``) makes the subentry; here it is written directly
(``subentry_type`` ``bluetooth``, ``unique_id`` the VIN, ``data`` the VIN and address).
"""

import asyncio
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
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
