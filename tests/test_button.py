"""Buttons against the simulator: wake, refresh, lights, horn, HomeLink, remote start."""

from homeassistant.components.button import SERVICE_PRESS
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.tesla_resilient.api import VehicleState
from custom_components.tesla_resilient.const import ProtectedAction
from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    call_service,
    commands_sent,
    coordinator_of,
    each_account,
    entity_id,
    has_entity,
    otp_options,
    setup_account,
    setup_and_snapshot,
)


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """The buttons of each car configuration (HomeLink only where fitted)."""
    await setup_and_snapshot(hass, sim, email, Platform.BUTTON, snapshot)


async def test_commands(hass: HomeAssistant, sim: SimServer) -> None:
    """Lights, horn, HomeLink and remote start reach the car."""
    await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    assert not has_entity(hass, Platform.BUTTON, sim_car(sim, "Yara"), "homelink")

    await call_service(
        hass, SERVICE_PRESS, entity_id(hass, Platform.BUTTON, car, "flash_lights")
    )
    assert sim_car(sim, "Stella").light_flashes == 1
    await call_service(
        hass, SERVICE_PRESS, entity_id(hass, Platform.BUTTON, car, "honk_horn")
    )
    assert sim_car(sim, "Stella").horn_honks == 1
    await call_service(
        hass, SERVICE_PRESS, entity_id(hass, Platform.BUTTON, car, "homelink")
    )
    assert sim_car(sim, "Stella").homelink_triggers == 1
    await call_service(
        hass, SERVICE_PRESS, entity_id(hass, Platform.BUTTON, car, "remote_start")
    )
    assert sim_car(sim, "Stella").remote_start_until > sim.world.now()


async def test_homelink_refused(hass: HomeAssistant, sim: SimServer) -> None:
    """Away from home the car refuses HomeLink, and says why."""
    await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    car.set_location(car.latitude + 1, car.longitude)
    homelink = entity_id(hass, Platform.BUTTON, car, "homelink")
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_PRESS, homelink)
    assert err.value.translation_key == "command_failed"
    assert sim_car(sim, "Stella").homelink_triggers == 0


async def test_wake_and_refresh(hass: HomeAssistant, sim: SimServer) -> None:
    """Wake wakes a sleeping car; refresh fetches vehicle_data at once."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    coordinator = coordinator_of(entry, car)

    data_requests = sim.world.meter.requests["data"]
    car.odometer += 10
    await call_service(
        hass, SERVICE_PRESS, entity_id(hass, Platform.BUTTON, car, "refresh")
    )
    assert sim.world.meter.requests["data"] == data_requests + 1
    assert coordinator.snapshot.data is not None
    assert coordinator.snapshot.data.get_float("vehicle_state_odometer") == round(
        car.odometer, 6
    )

    car.set_activity("sleep", sim.world.now())
    car.wake_seconds = 0.0
    coordinator.wake_check_interval = 0.01
    await coordinator.async_refresh_now()  # learns that the car sleeps (408)
    assert coordinator.snapshot.state is VehicleState.ASLEEP
    await call_service(
        hass, SERVICE_PRESS, entity_id(hass, Platform.BUTTON, car, "wake")
    )
    assert sim_car(sim, "Sparky").is_online
    assert sim.world.meter.vehicle(car.vin).wakes_caused == 1
    assert coordinator.snapshot.state is VehicleState.ONLINE


async def test_remote_start_protected(hass: HomeAssistant, sim: SimServer) -> None:
    """A protected remote start is refused from the button (it carries no code)."""
    await setup_account(
        hass, sim, NO_MFA_EMAIL, options=otp_options(ProtectedAction.REMOTE_START)
    )
    car = sim_car(sim, "Sparky")
    sent = commands_sent(sim)
    with pytest.raises(ServiceValidationError) as err:
        await call_service(
            hass, SERVICE_PRESS, entity_id(hass, Platform.BUTTON, car, "remote_start")
        )
    assert err.value.translation_key == "code_required_remote_start"
    assert commands_sent(sim) == sent
    assert sim_car(sim, "Sparky").remote_start_until == 0
