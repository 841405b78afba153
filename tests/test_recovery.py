"""What the vehicles show and do as the cloud health changes, and the owner's Refresh.

Against the simulator: a failure the integration sees turns every vehicle's
``cloud_connection`` off and its data source to the cache at once; the next success
turns them back without a request; the owner's Refresh always sends one request
(never during a 429's ``Retry-After``).
"""

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.api import CloudUnavailable
from custom_components.tesla_resilient.const import DOMAIN
from custom_components.tesla_resilient.health import HealthState
from custom_components.tesla_resilient.polling import PollMemory
from custom_components.tesla_resilient.snapshot import DataSource
from tesla_sim import SimServer
from tesla_sim.vehicles import Vehicle
from tests.ha_fixtures import add_fault, sim_car
from tests.platform_helpers import coordinator_of


def shown(hass: HomeAssistant, car: Vehicle) -> tuple[str, str]:
    """What the car's ``cloud_connection`` and ``data_source`` entities show."""
    registry = er.async_get(hass)
    states = []
    for domain, key in (
        ("binary_sensor", "cloud_connection"),
        ("sensor", "data_source"),
    ):
        entity_id = registry.async_get_entity_id(domain, DOMAIN, f"{car.vin}-{key}")
        assert entity_id is not None
        state = hass.states.get(entity_id)
        assert state is not None
        states.append(state.state)
    return states[0], states[1]


def polls(sim: SimServer, car: Vehicle) -> int:
    """Data requests and sleep checks the simulator counted for ``car``."""
    requests = sim.world.meter.vehicle(car.vin).requests
    return requests["data"] + requests["check"]


async def test_failed_command_shows_degraded_everywhere_at_once(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A failed command: every car off and cache at once; the next success: back."""
    stella_car, yara_car = sim_car(sim, "Stella"), sim_car(sim, "Yara")
    stella = coordinator_of(setup_integration, stella_car)
    yara = coordinator_of(setup_integration, yara_car)
    assert shown(hass, stella_car) == shown(hass, yara_car) == ("on", "cloud")
    yara_interval = yara.update_interval

    add_fault(
        sim, "outage", 60, paths=[f"/api/1/vehicles/{stella_car.id}/signed_command"]
    )
    with pytest.raises(HomeAssistantError):
        await stella.async_command("door_unlock")
    await hass.async_block_till_done()
    assert setup_integration.runtime_data.health.state is HealthState.DEGRADED
    assert shown(hass, stella_car) == shown(hass, yara_car) == ("off", "cache")
    assert yara.update_interval == yara_interval  # its next poll did not move

    # Stella's next poll succeeds: both cars are back, Yara without a request.
    sim.world.faults.clear()
    yara_polls = polls(sim, yara_car)
    await stella.async_refresh()
    await hass.async_block_till_done()
    assert shown(hass, stella_car) == shown(hass, yara_car) == ("on", "cloud")
    assert polls(sim, yara_car) == yara_polls


async def test_vehicle_known_only_from_the_store_stays_cached(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Back from a short failing streak, values never fetched in this run stay cached."""
    stella_car = sim_car(sim, "Stella")
    stella = coordinator_of(setup_integration, stella_car)
    account = setup_integration.runtime_data.account
    stella.memory = PollMemory()  # nothing learned from the cloud in this run
    account.report_failure(CloudUnavailable("down"))
    assert stella.data_source is DataSource.CACHE
    account.report_success()
    assert stella.data_source is DataSource.CACHE
    await hass.async_block_till_done()


async def test_refresh_after_the_cloud_returned_sends_one_request(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """During the backoff after an outage, Refresh sends its request and ends it."""
    entry = setup_integration
    stella_car, yara_car = sim_car(sim, "Stella"), sim_car(sim, "Yara")
    stella = coordinator_of(entry, stella_car)
    account = entry.runtime_data.account
    add_fault(sim, "outage", 3600)
    while not account.in_outage:
        await account.async_refresh()
    sim.world.faults.clear()  # the cloud is back, the backoff still runs
    assert not account.health.can_attempt()
    before = polls(sim, stella_car), polls(sim, yara_car)

    await stella.async_refresh_now()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert polls(sim, stella_car) == before[0] + 1
    assert not account.in_outage
    # The outage is over: the other car refreshes once, as after any outage.
    assert polls(sim, yara_car) == before[1] + 1
    assert shown(hass, stella_car) == shown(hass, yara_car) == ("on", "cloud")
