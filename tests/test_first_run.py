"""First run: a car asleep or offline when the account is added, with nothing stored.

Its device and the entities of the connection exist at once (from the vehicle list);
the entities that depend on the car's configuration come with its first data.
"""

from homeassistant.components.button import SERVICE_PRESS
from homeassistant.const import STATE_ON, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.const import DOMAIN
from tesla_sim import SimServer
from tests.ha_fixtures import setup_entry, sim_car
from tests.platform_helpers import (
    call_service,
    coordinator_of,
    entity_id,
    has_entity,
    state_of,
)

CONNECTION_ENTITIES = (
    (Platform.SENSOR, "vehicle_state"),
    (Platform.SENSOR, "data_source"),
    (Platform.BINARY_SENSOR, "cloud_connection"),
    (Platform.BUTTON, "wake"),
    (Platform.BUTTON, "refresh"),
)
"""The entities that need no data from the car."""


@pytest.mark.parametrize("activity", ["sleep", "offline"])
async def test_sleeping_car_gets_device_and_connection_entities(
    hass: HomeAssistant,
    sim: SimServer,
    no_mfa_config_entry: MockConfigEntry,
    activity: str,
) -> None:
    """The device and the connection's entities exist before the car ever answered."""
    car = sim_car(sim, "Sparky")
    car.set_activity(activity, sim.world.now())
    entry = await setup_entry(hass, no_mfa_config_entry)
    assert coordinator_of(entry, car).snapshot.data is None

    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, car.vin), entry.entry_id
    )
    assert device is not None
    assert device.name == "Sparky"
    assert device.model is None
    registered = {
        (entity.domain, entity.unique_id.removeprefix(f"{car.vin}-"))
        for entity in er.async_entries_for_device(er.async_get(hass), device.id)
    }
    assert registered == set(CONNECTION_ENTITIES)

    state = "asleep" if activity == "sleep" else "offline"
    assert (
        state_of(hass, entity_id(hass, Platform.SENSOR, car, "vehicle_state")).state
        == state
    )
    assert (
        state_of(
            hass, entity_id(hass, Platform.BINARY_SENSOR, car, "cloud_connection")
        ).state
        == STATE_ON
    )
    source = state_of(hass, entity_id(hass, Platform.SENSOR, car, "data_source"))
    assert source.state == STATE_UNKNOWN
    assert source.attributes["data_as_of"] is None
    for key in ("wake", "refresh"):
        assert state_of(hass, entity_id(hass, Platform.BUTTON, car, key)).state == (
            STATE_UNKNOWN
        )


async def test_configuration_entities_come_with_first_data(
    hass: HomeAssistant, sim: SimServer, no_mfa_config_entry: MockConfigEntry
) -> None:
    """Waking the car and fetching its data (its buttons) brings the other entities."""
    car = sim_car(sim, "Sparky")
    car.set_activity("sleep", sim.world.now())
    car.wake_seconds = 0.0
    entry = await setup_entry(hass, no_mfa_config_entry)
    coordinator_of(entry, car).wake_check_interval = 0.01
    assert not has_entity(hass, Platform.SENSOR, car, "charge_state_battery_level")

    for button in ("wake", "refresh"):
        await call_service(
            hass, SERVICE_PRESS, entity_id(hass, Platform.BUTTON, car, button)
        )
    await hass.async_block_till_done()

    battery = entity_id(hass, Platform.SENSOR, car, "charge_state_battery_level")
    assert state_of(hass, battery).state == str(round(car.battery_level))
    assert has_entity(
        hass, Platform.UPDATE, car, "vehicle_state_software_update_status"
    )
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, car.vin), entry.entry_id
    )
    assert device is not None
    assert device.model == "Model 3"
    assert state_of(
        hass, entity_id(hass, Platform.SENSOR, car, "data_source")
    ).state == ("cloud")
