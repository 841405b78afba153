"""Home Assistant fixtures for the integration tests (imported by tests/conftest.py).

Every fixture here talks to a real ``tesla_sim`` (the ``sim`` fixture, real clock, on
127.0.0.1) and drives a real Home Assistant:

* ``config_entry`` -- a MockConfigEntry (not yet added) signed in to the simulator's TOTP
  account ``totp@example.com``, whose cars are a fully optioned Model S ("Stella") and a
  Model Y ("Yara"). ``entry.data`` follows docs/architecture.md "Config entry"; the
  sign-in and API base URLs are the simulator's; ``unique_id`` is the account id.
* ``no_mfa_config_entry`` -- the same for ``nomfa@example.com`` and its Model 3 ("Sparky").
* ``setup_integration`` -- adds ``config_entry`` to Home Assistant, sets it up, waits
  until everything settled and returns it (state ``LOADED``).

Home Assistant's storage holds the app key :data:`tests.sim_fixtures.APP_KEY` from the
start (``hass_storage``), which the simulator's cars trust: commands are signed.

Helpers: :func:`make_config_entry` builds an entry for any simulator account (the
builder the benchmarks use too, from ``benchmarks/entries.py``), :func:`setup_entry`
adds and sets up any entry, :func:`add_fault` injects a simulator fault window and
:func:`sim_car` finds a simulator car by its display name and
:func:`disable_location_entities` registers a car's location entities disabled.
"""

from typing import Any

from cryptography.hazmat.primitives import serialization
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from benchmarks.entries import make_config_entry
from custom_components.tesla_resilient import keys
from custom_components.tesla_resilient.const import DOMAIN, LOCATION_ENTITIES
from tesla_sim import SimServer
from tesla_sim.faults import Fault
from tesla_sim.vehicles import Vehicle
from tests.sim_fixtures import APP_KEY

__all__ = [
    "NO_MFA_EMAIL",
    "TOTP_EMAIL",
    "add_fault",
    "config_entry",
    "disable_location_entities",
    "hass_storage",
    "make_config_entry",
    "no_mfa_config_entry",
    "setup_entry",
    "setup_integration",
    "sim_car",
]

TOTP_EMAIL = "totp@example.com"
"""Simulator account with one TOTP factor; cars: Model S (all options) and Model Y."""
NO_MFA_EMAIL = "nomfa@example.com"
"""Simulator account without a second factor; car: one Model 3."""


def add_fault(
    sim: SimServer, kind: str, seconds: float | None = None, **spec: Any
) -> Fault:
    """Inject a simulator fault (as ``POST /__sim__/faults`` does) starting now.

    ``spec`` takes the control API's other keys: ``paths``, ``status``, ``start_in``...
    Without ``seconds`` the fault lasts until cleared.
    """
    world = sim.world
    body: dict[str, Any] = {"kind": kind, **spec}
    if seconds is not None:
        body["seconds"] = seconds
    return world.faults.add(world.faults.parse(body, world.now()))


def sim_car(sim: SimServer, display_name: str) -> Vehicle:
    """The simulator car named ``display_name``, brought up to date."""
    for vin, car in sim.world.vehicles.items():
        if car.display_name == display_name:
            return sim.world.vehicle(vin)
    raise KeyError(display_name)


def disable_location_entities(hass: HomeAssistant, *cars: Vehicle) -> None:
    """Register every entity of ``cars`` that needs the location, disabled by the user."""
    registry = er.async_get(hass)
    for car in cars:
        for platform, key in LOCATION_ENTITIES:
            registry.async_get_or_create(
                platform,
                DOMAIN,
                f"{car.vin}-{key}",
                disabled_by=er.RegistryEntryDisabler.USER,
            )


async def setup_entry(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add ``entry`` (when not yet added), set it up and wait until Home Assistant settled."""
    if hass.config_entries.async_get_entry(entry.entry_id) is None:
        entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    return entry


@pytest.fixture
def hass_storage(hass_storage: dict[str, Any]) -> dict[str, Any]:
    """Home Assistant's storage, holding the app key the simulator's cars trust."""
    pem = APP_KEY.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    hass_storage[keys.STORAGE_KEY] = {
        "version": keys.STORAGE_VERSION,
        "minor_version": 1,
        "key": keys.STORAGE_KEY,
        "data": {"private_key": pem},
    }
    return hass_storage


@pytest.fixture
async def config_entry(sim: SimServer) -> MockConfigEntry:
    """Config entry of the TOTP account (Model S + Model Y), not yet added."""
    return await make_config_entry(sim, TOTP_EMAIL)


@pytest.fixture
async def no_mfa_config_entry(sim: SimServer) -> MockConfigEntry:
    """Config entry of the account without a second factor (one Model 3), not yet added."""
    return await make_config_entry(sim, NO_MFA_EMAIL)


@pytest.fixture
async def setup_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> MockConfigEntry:
    """``config_entry`` added and set up (LOADED); returns it."""
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    return config_entry
