"""Switches against the simulator: sentry, charging, valet, steering heater, defrost."""

from homeassistant.components.switch import SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.tesla_resilient.api import VehicleData
from custom_components.tesla_resilient.const import ProtectedAction
from custom_components.tesla_resilient.values import is_defrosting
from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    call_service,
    commands_sent,
    each_account,
    entity_id,
    otp_options,
    refresh,
    setup_account,
    setup_and_snapshot,
    state_of,
)


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """The switches of each car configuration."""
    await setup_and_snapshot(hass, sim, email, Platform.SWITCH, snapshot)


async def test_switch_commands(hass: HomeAssistant, sim: SimServer) -> None:
    """Each switch changes the car both ways and shows the new state at once."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")

    def switch(key: str) -> str:
        return entity_id(hass, Platform.SWITCH, car, key)

    checks = {
        "vehicle_state_sentry_mode": lambda: sim_car(sim, "Sparky").sentry_mode,
        "vehicle_state_valet_mode": lambda: sim_car(sim, "Sparky").valet_mode,
        "climate_state_defrost_mode": lambda: sim_car(sim, "Sparky").defrost,
    }
    for key, in_car in checks.items():
        await call_service(hass, SERVICE_TURN_ON, switch(key))
        assert in_car() is True, key
        assert state_of(hass, switch(key)).state == STATE_ON
        await call_service(hass, SERVICE_TURN_OFF, switch(key))
        assert in_car() is False, key
        assert state_of(hass, switch(key)).state == STATE_OFF

    # The steering wheel heater needs the climate on (defrost turned it on).
    sim_car(sim, "Sparky").set_activity("park", sim.world.now())
    await refresh(hass, entry)
    wheel = switch("climate_state_steering_wheel_heater")
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_TURN_ON, wheel)
    assert err.value.translation_key == "command_failed"
    sim_car(sim, "Sparky").set_activity("climate", sim.world.now())
    await refresh(hass, entry)
    await call_service(hass, SERVICE_TURN_ON, wheel)
    assert sim_car(sim, "Sparky").steering_wheel_heater is True
    assert state_of(hass, wheel).state == STATE_ON
    await call_service(hass, SERVICE_TURN_OFF, wheel)
    assert sim_car(sim, "Sparky").steering_wheel_heater is False


async def test_charging_switch(hass: HomeAssistant, sim: SimServer) -> None:
    """Stop and start charging."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Yara")
    charging = entity_id(
        hass, Platform.SWITCH, car, "charge_state_charge_enable_request"
    )
    with pytest.raises(HomeAssistantError) as err:  # no cable
        await call_service(hass, SERVICE_TURN_ON, charging)
    assert err.value.translation_placeholders == {"reason": "disconnected"}

    car.set_activity("charge", sim.world.now())
    await refresh(hass, entry)
    assert state_of(hass, charging).state == STATE_ON
    await call_service(hass, SERVICE_TURN_OFF, charging)
    assert sim_car(sim, "Yara").charging_state == "Stopped"
    assert state_of(hass, charging).state == STATE_OFF
    await call_service(hass, SERVICE_TURN_ON, charging)
    assert sim_car(sim, "Yara").charging_state == "Charging"
    assert state_of(hass, charging).state == STATE_ON


async def test_disable_sentry_protected(hass: HomeAssistant, sim: SimServer) -> None:
    """With disabling sentry protected, turning it off is refused; on still works."""
    await setup_account(
        hass, sim, NO_MFA_EMAIL, options=otp_options(ProtectedAction.DISABLE_SENTRY)
    )
    car = sim_car(sim, "Sparky")
    sentry = entity_id(hass, Platform.SWITCH, car, "vehicle_state_sentry_mode")
    await call_service(hass, SERVICE_TURN_ON, sentry)
    assert sim_car(sim, "Sparky").sentry_mode is True
    sent = commands_sent(sim)
    with pytest.raises(ServiceValidationError):
        await call_service(hass, SERVICE_TURN_OFF, sentry)
    assert commands_sent(sim) == sent
    assert sim_car(sim, "Sparky").sentry_mode is True


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"climate_state_defrost_mode": 2}, True),
        # defrost_mode decides when the car reports it (it is what the command sets)
        (
            {
                "climate_state_defrost_mode": 0,
                "climate_state_is_front_defroster_on": True,
            },
            False,
        ),
        # cars without defrost_mode: the front defroster
        ({"climate_state_is_front_defroster_on": True}, True),
        ({"climate_state_is_front_defroster_on": False}, False),
        ({}, None),
    ],
)
def test_is_defrosting(values: dict[str, object], expected: bool | None) -> None:
    """The switch and the climate preset read defrost the same way."""
    assert is_defrosting(VehicleData(values)) is expected
