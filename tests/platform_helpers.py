"""Helpers for the entity platform tests: set-up per simulator account, snapshots, lookups.

Cars of the simulator (seed 1): ``totp@example.com`` has a fully optioned Model S
("Stella": sunroof, rear and third-row seat heaters, seat cooling, HomeLink, powered
liftgate) and a Model Y ("Yara": rear seat heaters, powered liftgate);
``nomfa@example.com`` has a Model 3 without options ("Sparky").
"""

from collections.abc import Callable
import time
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant, State
from homeassistant.helpers import entity_registry as er
import pyotp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion

from custom_components.tesla_resilient.const import (
    CONF_OTP_ACTIONS,
    CONF_OTP_SECRET,
    DOMAIN,
    ProtectedAction,
)
from custom_components.tesla_resilient.coordinator import VehicleCoordinator
from tesla_sim import SimServer
from tesla_sim.vehicles import Vehicle
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, make_config_entry, setup_entry

OTP_SECRET = pyotp.random_base32()

SNAPSHOT_TIME = "2025-06-01T12:00:00+00:00"
KM_PER_MILE = 1.609344
"""The frozen time of the snapshot tests (timestamps in the snapshots are this)."""


def each_account[T: Callable[..., Any]](test: T) -> T:
    """Run a snapshot test once per simulator account (``email``) at frozen time."""
    accounts = pytest.mark.parametrize("email", [TOTP_EMAIL, NO_MFA_EMAIL])
    return pytest.mark.freeze_time(SNAPSHOT_TIME)(accounts(test))


def otp_options(*actions: ProtectedAction) -> dict[str, Any]:
    """Entry options protecting ``actions`` with :data:`OTP_SECRET`."""
    return {CONF_OTP_SECRET: OTP_SECRET, CONF_OTP_ACTIONS: [str(a) for a in actions]}


def otp_code(step: int = 0) -> str:
    """The authenticator's code for :data:`OTP_SECRET`, ``step`` codes after the current.

    The next code (``step=1``) is still accepted: a second action in the same 30 s.
    """
    totp = pyotp.TOTP(OTP_SECRET)
    return totp.at(time.time() + step * totp.interval)


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


async def setup_and_snapshot(
    hass: HomeAssistant,
    sim: SimServer,
    email: str,
    platform: Platform,
    snapshot: SnapshotAssertion,
) -> tuple[MockConfigEntry, list[er.RegistryEntry]]:
    """Set up ``email``; snapshot the registry entries of ``platform`` and their states.

    Like pytest-homeassistant-custom-component's ``snapshot_platform`` (its serializer,
    its snapshot names), but that one needs every entity enabled and one platform per
    entry: here disabled-by-default entities stay in the snapshot (``disabled_by``) and
    must have no state, and the other platforms stay loaded. Returns the entry and the
    platform's registry entries.
    """
    entry = await setup_account(hass, sim, email)
    snapshot = snapshot.use_extension(HomeAssistantSnapshotExtension)
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
        assert state == snapshot(name=f"{entity.entity_id}-state")
    return entry, entries


async def call_service(
    hass: HomeAssistant, service: str, entity: str, **data: Any
) -> None:
    """Call ``service`` of the entity's platform on ``entity`` and wait for it."""
    await hass.services.async_call(
        entity.split(".", 1)[0],
        service,
        {ATTR_ENTITY_ID: entity, **data},
        blocking=True,
    )


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
