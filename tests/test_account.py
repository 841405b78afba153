"""The account and its vehicles against the simulator: outage listeners, endpoints, seeds."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.account import ACCOUNT_REFRESH_INTERVAL
from custom_components.tesla_resilient.api import VehicleState
from custom_components.tesla_resilient.coordinator import VehicleCoordinator
from custom_components.tesla_resilient.snapshot import DataSource
from tesla_sim import SimServer
from tesla_sim.vehicles import Vehicle
from tests.ha_fixtures import add_fault, disable_location_entities, setup_entry, sim_car


def coordinator(entry: MockConfigEntry, car: Vehicle) -> VehicleCoordinator:
    """The coordinator of the simulator car ``car``."""
    return next(v for v in entry.runtime_data.vehicles.values() if v.vin == car.vin)


def data_requests(sim: SimServer, car: Vehicle) -> int:
    """``vehicle_data`` requests the simulator counted for ``car``."""
    return sim.world.meter.vehicle(car.vin).requests["data"]


async def test_outage_end_refreshes_the_vehicles_not_already_busy(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
) -> None:
    """Recovery: every listening vehicle refreshes once, except one mid-command."""
    entry = setup_integration
    stella_car, yara_car = sim_car(sim, "Stella"), sim_car(sim, "Yara")
    stella, yara = coordinator(entry, stella_car), coordinator(entry, yara_car)
    account = entry.runtime_data.account
    add_fault(sim, "outage", 3600)
    while not account.in_outage:
        await account.async_refresh()
    await hass.async_block_till_done()
    assert stella.data_source is DataSource.CACHE
    assert yara.data_source is DataSource.CACHE
    assert stella.update_interval is None

    sim.world.faults.clear()
    freezer.tick(timedelta(seconds=account.health.retry_delay() + 1))
    before = data_requests(sim, stella_car), data_requests(sim, yara_car)
    async with stella.commands._lock:  # stella is sending a command right now
        assert stella.commands.busy
        await account.async_refresh()  # the probe succeeds: the outage is over
        await hass.async_block_till_done(wait_background_tasks=True)
    assert not account.in_outage
    assert data_requests(sim, stella_car) == before[0]
    assert data_requests(sim, yara_car) == before[1] + 1
    assert yara.data_source is DataSource.CLOUD


async def test_unloaded_vehicle_stops_listening(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A shut-down vehicle coordinator no longer hears of outages (twice is fine)."""
    entry = setup_integration
    vehicle = coordinator(entry, sim_car(sim, "Stella"))
    account = entry.runtime_data.account
    await vehicle.async_shutdown()
    await vehicle.async_shutdown()
    published = vehicle.data
    add_fault(sim, "outage", 3600)
    while not account.in_outage:
        await account.async_refresh()
    await hass.async_block_till_done()
    assert vehicle.data is published


async def test_new_endpoint_is_fetched_once_at_once(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """An entity asking for an endpoint not fetched yet gets one fetch, not two."""
    car = sim_car(sim, "Stella")
    disable_location_entities(hass, car)
    await setup_entry(hass, config_entry)
    vehicle = coordinator(config_entry, car)
    assert "location_data" not in vehicle.memory.fetched
    before = data_requests(sim, car)
    vehicle.register_endpoints(object(), {"location_data"})
    vehicle.register_endpoints(object(), {"location_data"})  # already scheduled
    await hass.async_block_till_done(wait_background_tasks=True)
    assert data_requests(sim, car) == before + 1
    assert "location_data" in vehicle.memory.fetched
    assert vehicle.snapshot.data is not None
    assert vehicle.snapshot.data.latitude is not None


async def test_unknown_state_from_the_list_seeds_nothing(
    setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A vehicle list entry with an unknown state spares no sleep check."""
    vehicle = coordinator(setup_integration, sim_car(sim, "Stella"))
    memory, data = vehicle.memory, vehicle.data
    vehicle.async_seed_state(VehicleState.UNKNOWN)
    assert vehicle.memory is memory
    assert vehicle.data is data


async def test_sleep_check_learns_a_new_name(
    setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A car renamed while asleep shows its new name after the next sleep check."""
    car = sim_car(sim, "Yara")
    vehicle = coordinator(setup_integration, car)
    car.set_activity("sleep", sim.world.now())
    await vehicle.async_refresh_now()
    assert vehicle.snapshot.state is VehicleState.ASLEEP
    car.display_name = "Yara the Second"
    vehicle.memory = replace(vehicle.memory, last_sleep_check=None)
    await vehicle.async_refresh()
    assert vehicle.snapshot.display_name == "Yara the Second"


async def test_publishing_the_same_snapshot_changes_nothing(
    setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Only a new snapshot (or ``always``) reaches the entities."""
    vehicle = coordinator(setup_integration, sim_car(sim, "Stella"))
    calls: list[None] = []
    unsubscribe = vehicle.async_add_listener(lambda: calls.append(None))
    vehicle.async_publish(vehicle.data)
    assert calls == []
    vehicle.async_publish(vehicle.data, always=True)
    assert calls == [None]
    unsubscribe()


async def test_early_account_timer_still_probes(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
) -> None:
    """The account's timer firing 0.7 s before the backoff ends probes all the same.

    Held back further off, it runs again when the wait is over, not a backoff later.
    """
    account = setup_integration.runtime_data.account
    health = account.health
    add_fault(sim, "outage", 3600)
    while not account.in_outage:
        await account.async_refresh()
    sim.world.faults.clear()  # the cloud is back
    due = health.next_attempt_at
    assert due is not None

    freezer.move_to(datetime.fromtimestamp(due - 5, UTC))
    sent = sum(sim.world.meter.requests.values())
    await account.async_refresh()  # 5 s early: held back, no probe
    assert sum(sim.world.meter.requests.values()) == sent
    assert account.update_interval is not None
    assert account.update_interval.total_seconds() == pytest.approx(5, abs=0.01)

    freezer.move_to(datetime.fromtimestamp(due - 0.7, UTC))
    await account.async_refresh()  # 0.7 s early: the probe goes out
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sum(sim.world.meter.requests.values()) > sent
    assert not account.in_outage
    assert account.update_interval == ACCOUNT_REFRESH_INTERVAL


async def test_account_back_to_hours_after_a_rate_limit(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
) -> None:
    """A 429 on the vehicle list: waited out, then every 3 h again (not every second)."""
    account = setup_integration.runtime_data.account
    add_fault(sim, "rate_limit", 60, retry_after=60)
    await account.async_refresh()
    assert account.update_interval is not None
    assert account.update_interval.total_seconds() == pytest.approx(60, abs=1)
    freezer.tick(timedelta(seconds=61))
    await account.async_refresh()
    assert account.update_interval == ACCOUNT_REFRESH_INTERVAL
