"""Helpers for the entity platform tests: set-up per simulator account, snapshots, lookups.

Cars of the simulator (seed 1): ``totp@example.com`` has a fully optioned Model S
("Stella": sunroof, rear and third-row seat heaters, seat cooling, HomeLink, powered
liftgate) and a Model Y ("Yara": rear seat heaters, powered liftgate);
``nomfa@example.com`` has a Model 3 without options ("Sparky").
"""

from datetime import datetime
from pathlib import Path
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pyotp
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation

from custom_components.tesla_resilient.const import (
    CONF_OTP_ACTIONS,
    CONF_OTP_SECRET,
    DOMAIN,
    ProtectedAction,
)
from custom_components.tesla_resilient.coordinator import VehicleCoordinator
from tesla_sim import SimServer
from tesla_sim.vehicles import Vehicle
from tests.ha_fixtures import make_config_entry, setup_entry

VOLATILE_ATTRIBUTES = frozenset({"data_as_of"})
"""Attributes holding the time of the test run."""
TIMESTAMP = "<timestamp>"

OTP_SECRET = pyotp.random_base32()


class PlatformSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's serializer (ids and times left out), files in tests/snapshots/."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        """Store the .ambr files in ``snapshots`` next to the test module."""
        return str(Path(test_location.filepath).parent / "snapshots")


def otp_options(*actions: ProtectedAction) -> dict[str, Any]:
    """Entry options protecting ``actions`` with :data:`OTP_SECRET`."""
    return {CONF_OTP_SECRET: OTP_SECRET, CONF_OTP_ACTIONS: [str(a) for a in actions]}


def otp_code() -> str:
    """The authenticator's current code for :data:`OTP_SECRET`."""
    return pyotp.TOTP(OTP_SECRET).now()


async def setup_account(
    hass: HomeAssistant,
    sim: SimServer,
    email: str,
    *,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """Set up the entry of ``email`` and fetch once more with every entity registered.

    The first ``vehicle_data`` is requested before any entity exists; the refresh asks
    for what the entities registered (location included), as the refresh button does.
    """
    entry = await setup_entry(
        hass, await make_config_entry(sim, email, options=options)
    )
    await refresh(hass, entry)
    return entry


async def refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Fetch ``vehicle_data`` of every vehicle of ``entry`` now."""
    for coordinator in list(entry.runtime_data.vehicles.values()):
        await coordinator.async_refresh_now()
    await hass.async_block_till_done()


def sim_car(sim: SimServer, name: str) -> Vehicle:
    """The simulator's car named ``name``, brought up to the simulator's time."""
    for vin, car in sim.world.vehicles.items():
        if car.display_name == name:
            return sim.world.vehicle(vin)
    raise LookupError(name)


def coordinator_of(entry: MockConfigEntry, car: Vehicle) -> VehicleCoordinator:
    """The coordinator of ``car`` in ``entry``."""
    coordinator: VehicleCoordinator = entry.runtime_data.vehicles[str(car.id)]
    return coordinator


def entity_id(hass: HomeAssistant, platform: Platform, car: Vehicle, key: str) -> str:
    """The entity id of ``key`` of ``car`` on ``platform`` (from the registry)."""
    found = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{car.vin}-{key}")
    if found is None:
        raise LookupError(f"{platform} {key}")
    return found


def has_entity(hass: HomeAssistant, platform: Platform, car: Vehicle, key: str) -> bool:
    """Whether ``car`` has the entity ``key`` on ``platform``."""
    registry = er.async_get(hass)
    return (
        registry.async_get_entity_id(platform, DOMAIN, f"{car.vin}-{key}") is not None
    )


def commands_sent(sim: SimServer) -> int:
    """Commands the simulator received so far."""
    return sim.world.meter.requests["command"]


def state_of(hass: HomeAssistant, entity: str) -> State:
    """The current state of ``entity`` (which must exist)."""
    state = hass.states.get(entity)
    assert state is not None, entity
    return state


def _stable(state: State) -> dict[str, Any]:
    """``state`` without the values that depend on when the test ran."""
    value = state.state
    if state.attributes.get("device_class") == "timestamp" and value not in (
        STATE_UNKNOWN,
        STATE_UNAVAILABLE,
    ):
        datetime.fromisoformat(value)  # a real timestamp, whatever its value
        value = TIMESTAMP
    attributes = {
        key: (TIMESTAMP if key in VOLATILE_ATTRIBUTES and val is not None else val)
        for key, val in state.attributes.items()
    }
    return {"entity_id": state.entity_id, "state": value, "attributes": attributes}


async def snapshot_platform(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    platform: Platform,
    snapshot: SnapshotAssertion,
) -> list[er.RegistryEntry]:
    """Snapshot the registry entries of ``platform`` and the states of enabled ones.

    Disabled-by-default entities are part of the snapshot (``disabled_by``) and must
    have no state. Returns the entries.
    """
    snapshot = snapshot.use_extension(PlatformSnapshotExtension)
    registry = er.async_get(hass)
    entries = sorted(
        (
            entity
            for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
            if entity.domain == platform
        ),
        key=lambda entity: entity.entity_id,
    )
    assert entries, f"no {platform} entities"
    for entity in entries:
        assert entity == snapshot(name=f"{entity.entity_id}-entry")
        state = hass.states.get(entity.entity_id)
        if entity.disabled_by is not None:
            assert state is None, entity.entity_id
            continue
        assert state is not None, entity.entity_id
        assert state.state != STATE_UNAVAILABLE, entity.entity_id
        assert _stable(state) == snapshot(name=f"{entity.entity_id}-state")
    return entries


async def start_outage(
    hass: HomeAssistant, sim: SimServer, entry: MockConfigEntry
) -> None:
    """Take the simulator's cloud down until the account sees an outage."""
    world = sim.world
    world.faults.add(
        world.faults.parse({"kind": "outage", "seconds": 3600}, world.now())
    )
    account = entry.runtime_data.account
    for _ in range(10):
        if account.in_outage:
            break
        await account.async_refresh()
    await hass.async_block_till_done()
    assert account.in_outage
