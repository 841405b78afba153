"""Sensors against the simulator: values, units, timestamps and the connection."""

from datetime import datetime

from homeassistant.const import STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_system import US_CUSTOMARY_SYSTEM
import pytest
from syrupy.assertion import SnapshotAssertion

from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    KM_PER_MILE,
    coordinator_of,
    each_account,
    entity_id,
    has_entity,
    refresh,
    setup_account,
    setup_and_snapshot,
    start_outage,
    state_of,
)


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """The sensors of each car configuration (noisy ones disabled by default)."""
    await setup_and_snapshot(hass, sim, email, Platform.SENSOR, snapshot)


async def test_values_and_units(hass: HomeAssistant, sim: SimServer) -> None:
    """Values come from the car in its units and are shown in the user's."""
    await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")

    def sensor(key: str) -> str:
        return state_of(hass, entity_id(hass, Platform.SENSOR, car, key)).state

    assert int(sensor("charge_state_battery_level")) == round(car.battery_level)
    range_km = car.config.full_range_mi * car.battery_level / 100 * KM_PER_MILE
    assert float(sensor("charge_state_battery_range")) == pytest.approx(
        range_km, abs=0.1
    )
    assert float(sensor("vehicle_state_odometer")) == pytest.approx(
        car.odometer * KM_PER_MILE, abs=0.1
    )
    assert sensor("charge_state_charging_state") == "disconnected"
    assert sensor("drive_state_shift_state") == "p"
    assert float(sensor("drive_state_speed")) == 0
    assert float(sensor("climate_state_outside_temp")) == car.outside_temp
    assert float(sensor("vehicle_state_tpms_pressure_fl")) == 2.775  # bar
    assert sensor("charge_state_minutes_to_full_charge") == STATE_UNKNOWN
    assert sensor("drive_state_active_route_minutes_to_arrival") == STATE_UNKNOWN


async def test_us_customary_units(hass: HomeAssistant, sim: SimServer) -> None:
    """With US customary units, miles and mph are shown as the car sends them."""
    hass.config.units = US_CUSTOMARY_SYSTEM
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    car.set_activity("drive", sim.world.now())
    await refresh(hass, entry)

    speed = state_of(hass, entity_id(hass, Platform.SENSOR, car, "drive_state_speed"))
    assert float(speed.state) == 45
    assert speed.attributes["unit_of_measurement"] == "mph"
    pressure = state_of(
        hass, entity_id(hass, Platform.SENSOR, car, "vehicle_state_tpms_pressure_fl")
    )
    assert float(pressure.state) == pytest.approx(2.775 * 14.5038, abs=0.01)
    assert pressure.attributes["unit_of_measurement"] == "psi"
    shift = entity_id(hass, Platform.SENSOR, car, "drive_state_shift_state")
    assert state_of(hass, shift).state == "d"


async def test_charging(hass: HomeAssistant, sim: SimServer) -> None:
    """While charging: state, power, and a time to full that does not jitter."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Yara")
    car.set_activity("charge", sim.world.now())
    await refresh(hass, entry)

    def sensor(key: str) -> str:
        return state_of(hass, entity_id(hass, Platform.SENSOR, car, key)).state

    assert sensor("charge_state_charging_state") == "charging"
    assert float(sensor("charge_state_charger_power")) > 0
    snapshot = coordinator_of(entry, car).snapshot
    assert snapshot.data is not None
    minutes = snapshot.data.get_float("charge_state_minutes_to_full_charge")
    assert minutes is not None
    assert snapshot.fetched_at is not None
    full = datetime.fromisoformat(sensor("charge_state_minutes_to_full_charge"))
    assert full == dt_util.utc_from_timestamp(round(snapshot.fetched_at + minutes * 60))


async def test_navigation(hass: HomeAssistant, sim: SimServer) -> None:
    """Arrival time and distance of an active route."""
    car = sim_car(sim, "Sparky")
    car.destination = "Work"
    car.destination_lat, car.destination_lon = car.latitude + 0.1, car.longitude
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    snapshot = coordinator_of(entry, car).snapshot
    assert snapshot.data is not None and snapshot.fetched_at is not None

    arrival = state_of(
        hass,
        entity_id(
            hass, Platform.SENSOR, car, "drive_state_active_route_minutes_to_arrival"
        ),
    )
    minutes = snapshot.data.get_float("drive_state_active_route_minutes_to_arrival")
    assert minutes is not None
    assert datetime.fromisoformat(arrival.state) == dt_util.utc_from_timestamp(
        round(snapshot.fetched_at + minutes * 60)
    )
    distance = state_of(
        hass,
        entity_id(
            hass, Platform.SENSOR, car, "drive_state_active_route_miles_to_arrival"
        ),
    )
    assert float(distance.state) == pytest.approx(0.1 * 69.0 * KM_PER_MILE, rel=0.02)


async def test_connection_sensors(hass: HomeAssistant, sim: SimServer) -> None:
    """Vehicle state and data source (with the time of the data), in an outage."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    coordinator = coordinator_of(entry, car)

    def sensor(key: str) -> str:
        return state_of(hass, entity_id(hass, Platform.SENSOR, car, key)).state

    assert sensor("vehicle_state") == "online"
    assert sensor("data_source") == "cloud"
    assert coordinator.last_update is not None
    source = entity_id(hass, Platform.SENSOR, car, "data_source")
    as_of = state_of(hass, source).attributes["data_as_of"]
    assert datetime.fromisoformat(as_of) == coordinator.last_update
    assert not has_entity(hass, Platform.SENSOR, car, "last_update")
    level = sensor("charge_state_battery_level")

    await start_outage(hass, sim, entry)
    assert sensor("data_source") == "cache"
    assert sensor("charge_state_battery_level") == level  # last known value kept
    assert sensor("vehicle_state") == "online"  # last known sleep state


async def test_disabled_by_default(hass: HomeAssistant, sim: SimServer) -> None:
    """Noisy sensors are disabled by default and work once enabled."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    registry = er.async_get(hass)
    last_seen = entity_id(
        hass, Platform.SENSOR, car, "vehicle_state_tpms_last_seen_pressure_time_fl"
    )
    voltage = entity_id(hass, Platform.SENSOR, car, "charge_state_charger_voltage")
    for entity in (last_seen, voltage):
        assert (
            registry.async_get(entity).disabled_by
            is er.RegistryEntryDisabler.INTEGRATION
        )
        registry.async_update_entity(entity, disabled_by=None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    data = coordinator_of(entry, car).snapshot.data
    assert data is not None
    seen = data.get_float("vehicle_state_tpms_last_seen_pressure_time_fl")
    assert seen is not None
    assert datetime.fromisoformat(
        state_of(hass, last_seen).state
    ) == dt_util.utc_from_timestamp(seen)
    assert float(state_of(hass, voltage).state) == 0
