"""Climate against the simulator: on/off, temperature and presets."""

from homeassistant.components.climate import (
    ATTR_HVAC_MODE,
    ATTR_PRESET_MODE,
    SERVICE_SET_HVAC_MODE,
    SERVICE_SET_PRESET_MODE,
    SERVICE_SET_TEMPERATURE,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    HVACMode,
)
from homeassistant.const import ATTR_TEMPERATURE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from syrupy.assertion import SnapshotAssertion

from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, sim_car
from tests.platform_helpers import (
    call_service,
    commands_sent,
    each_account,
    entity_id,
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
    """One climate entity per car."""
    entry, entries = await setup_and_snapshot(
        hass, sim, email, Platform.CLIMATE, snapshot
    )
    assert len(entries) == len(entry.runtime_data.vehicles)


async def test_climate_commands(hass: HomeAssistant, sim: SimServer) -> None:
    """Every climate action changes the car."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    climate = entity_id(hass, Platform.CLIMATE, car, "climate")
    state = state_of(hass, climate)
    assert state.state == HVACMode.OFF
    assert state.attributes["min_temp"] == 15
    assert state.attributes["max_temp"] == 28
    assert state.attributes[ATTR_PRESET_MODE] == "normal"

    await call_service(hass, SERVICE_TURN_ON, climate)
    assert sim_car(sim, "Sparky").climate_on is True
    assert state_of(hass, climate).state == HVACMode.HEAT_COOL

    await call_service(
        hass, SERVICE_SET_TEMPERATURE, climate, **{ATTR_TEMPERATURE: 22.5}
    )
    assert sim_car(sim, "Sparky").driver_temp == 22.5
    assert sim_car(sim, "Sparky").passenger_temp == 22.5
    assert state_of(hass, climate).attributes[ATTR_TEMPERATURE] == 22.5

    await call_service(
        hass, SERVICE_SET_PRESET_MODE, climate, **{ATTR_PRESET_MODE: "defrost"}
    )
    assert sim_car(sim, "Sparky").defrost is True
    assert state_of(hass, climate).attributes[ATTR_PRESET_MODE] == "defrost"

    await call_service(
        hass, SERVICE_SET_PRESET_MODE, climate, **{ATTR_PRESET_MODE: "dog"}
    )
    assert sim_car(sim, "Sparky").defrost is False
    assert sim_car(sim, "Sparky").keeper_mode == "dog"
    await refresh(hass, entry)
    assert state_of(hass, climate).attributes[ATTR_PRESET_MODE] == "dog"

    await call_service(
        hass, SERVICE_SET_PRESET_MODE, climate, **{ATTR_PRESET_MODE: "defrost"}
    )
    assert sim_car(sim, "Sparky").defrost is True
    assert sim_car(sim, "Sparky").keeper_mode == "off"

    await call_service(
        hass, SERVICE_SET_PRESET_MODE, climate, **{ATTR_PRESET_MODE: "normal"}
    )
    assert sim_car(sim, "Sparky").defrost is False
    assert sim_car(sim, "Sparky").keeper_mode == "off"
    assert state_of(hass, climate).attributes[ATTR_PRESET_MODE] == "normal"

    await call_service(
        hass, SERVICE_SET_HVAC_MODE, climate, **{ATTR_HVAC_MODE: HVACMode.OFF}
    )
    assert sim_car(sim, "Sparky").climate_on is False
    assert state_of(hass, climate).state == HVACMode.OFF

    await call_service(
        hass,
        SERVICE_SET_TEMPERATURE,
        climate,
        **{ATTR_TEMPERATURE: 20, ATTR_HVAC_MODE: HVACMode.HEAT_COOL},
    )
    assert sim_car(sim, "Sparky").driver_temp == 20
    assert sim_car(sim, "Sparky").climate_on is True

    await call_service(hass, SERVICE_TURN_OFF, climate)
    assert sim_car(sim, "Sparky").climate_on is False


async def test_climate_errors(hass: HomeAssistant, sim: SimServer) -> None:
    """The car's refusal and a cloud outage reach the user as translated errors."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    climate = entity_id(hass, Platform.CLIMATE, car, "climate")
    # Outside the car's own range (min/max from the car): refused before sending.
    sent = commands_sent(sim)
    with pytest.raises(ServiceValidationError):
        await call_service(
            hass, SERVICE_SET_TEMPERATURE, climate, **{ATTR_TEMPERATURE: 40}
        )
    assert commands_sent(sim) == sent
    assert sim_car(sim, "Sparky").driver_temp == 21

    await start_outage(hass, sim, entry)
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_TURN_ON, climate)
    assert err.value.translation_key == "cloud_unreachable"
    assert sim_car(sim, "Sparky").climate_on is False
