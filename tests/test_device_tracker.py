"""Device trackers against the simulator: location and navigation destination."""

from homeassistant.const import STATE_NOT_HOME, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
import pytest
from syrupy.assertion import SnapshotAssertion

from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    KM_PER_MILE,
    coordinator_of,
    each_account,
    entity_id,
    refresh,
    setup_account,
    setup_and_snapshot,
    state_of,
)


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """Every car has a location and a navigation destination tracker."""
    entry, entries = await setup_and_snapshot(
        hass, sim, email, Platform.DEVICE_TRACKER, snapshot
    )
    assert len(entries) == 2 * len(entry.runtime_data.vehicles)


async def test_location(hass: HomeAssistant, sim: SimServer) -> None:
    """The location follows the car, with heading, speed and freshness."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    tracker = entity_id(hass, Platform.DEVICE_TRACKER, car, "location")
    coordinator = coordinator_of(entry, car)
    assert "location_data" in coordinator.endpoints

    state = state_of(hass, tracker)
    assert state.attributes["latitude"] == round(car.latitude, 6)
    assert state.attributes["longitude"] == round(car.longitude, 6)
    assert state.attributes["heading"] == round(car.heading) % 360
    assert state.attributes["speed"] == 0
    assert state.attributes["data_source"] == "cloud"
    assert state.attributes["data_as_of"] is not None

    car.set_location(52.52, 13.405)
    car.set_activity("drive", sim.world.now())
    await refresh(hass, entry)
    state = state_of(hass, tracker)
    assert state.state == STATE_NOT_HOME
    assert state.attributes["latitude"] == pytest.approx(52.52, abs=0.01)
    assert state.attributes["longitude"] == pytest.approx(13.405, abs=0.01)
    assert state.attributes["speed"] == round(45 * KM_PER_MILE, 1)  # metric owner


async def test_route(hass: HomeAssistant, sim: SimServer) -> None:
    """The destination exists only while a route is active."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Yara")
    tracker = entity_id(hass, Platform.DEVICE_TRACKER, car, "route")
    assert state_of(hass, tracker).state == STATE_UNKNOWN
    assert state_of(hass, tracker).attributes["destination"] is None

    car.destination = "Work"
    car.destination_lat, car.destination_lon = 37.4, -122.1
    await refresh(hass, entry)
    state = state_of(hass, tracker)
    assert state.state == STATE_NOT_HOME
    assert state.attributes["latitude"] == 37.4
    assert state.attributes["longitude"] == -122.1
    assert state.attributes["destination"] == "Work"
    # In the owner's unit system (metric here), as the Navigation distance sensor.
    data = coordinator_of(entry, car).snapshot.data
    assert data is not None
    miles = data.get_float("drive_state_active_route_miles_to_arrival")
    assert miles
    assert state.attributes["distance_to_arrival"] == round(miles * KM_PER_MILE, 1)


async def test_route_ends(hass: HomeAssistant, sim: SimServer) -> None:
    """When the route ends, the destination is unknown again."""
    car = sim_car(sim, "Yara")
    car.destination = "Work"
    car.destination_lat, car.destination_lon = 37.4, -122.1
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    tracker = entity_id(hass, Platform.DEVICE_TRACKER, car, "route")
    assert state_of(hass, tracker).state == STATE_NOT_HOME

    sim_car(sim, "Yara").destination = None
    await refresh(hass, entry)
    state = state_of(hass, tracker)
    assert state.state == STATE_UNKNOWN
    assert state.attributes["destination"] is None
