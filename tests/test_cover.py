"""Covers against the simulator: frunk, trunk, charge port door, windows, sunroof."""

from homeassistant.components.cover import (
    SERVICE_CLOSE_COVER,
    SERVICE_OPEN_COVER,
    CoverEntityFeature,
    CoverState,
)
from homeassistant.const import ATTR_SUPPORTED_FEATURES, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.tesla_resilient.api import VehicleData
from custom_components.tesla_resilient.const import ProtectedAction
from custom_components.tesla_resilient.values import position_params
from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    call_service,
    commands_sent,
    each_account,
    entity_id,
    has_entity,
    otp_options,
    setup_account,
    setup_and_snapshot,
    state_of,
)

SUNROOF = "vehicle_state_sun_roof_state"


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """The covers of each car configuration."""
    await setup_and_snapshot(hass, sim, email, Platform.COVER, snapshot)


async def test_hardware(hass: HomeAssistant, sim: SimServer) -> None:
    """A sunroof only where fitted; a closing trunk only with a powered liftgate."""
    await setup_account(hass, sim, TOTP_EMAIL)
    assert has_entity(hass, Platform.COVER, sim_car(sim, "Stella"), SUNROOF)
    assert not has_entity(hass, Platform.COVER, sim_car(sim, "Yara"), SUNROOF)
    await setup_account(hass, sim, NO_MFA_EMAIL)
    sparky = sim_car(sim, "Sparky")
    assert not has_entity(hass, Platform.COVER, sparky, SUNROOF)
    trunk = state_of(hass, entity_id(hass, Platform.COVER, sparky, "vehicle_state_rt"))
    assert trunk.attributes[ATTR_SUPPORTED_FEATURES] == CoverEntityFeature.OPEN


async def test_frunk_and_trunk(hass: HomeAssistant, sim: SimServer) -> None:
    """Open the frunk (open only); open and close the powered trunk, never toggling."""
    await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    frunk = entity_id(hass, Platform.COVER, car, "vehicle_state_ft")
    trunk = entity_id(hass, Platform.COVER, car, "vehicle_state_rt")
    assert state_of(hass, frunk).attributes[ATTR_SUPPORTED_FEATURES] == (
        CoverEntityFeature.OPEN
    )

    await call_service(hass, SERVICE_OPEN_COVER, frunk)
    assert sim_car(sim, "Stella").doors["ft"] == 1
    assert state_of(hass, frunk).state == CoverState.OPEN

    await call_service(hass, SERVICE_OPEN_COVER, trunk)
    assert sim_car(sim, "Stella").doors["rt"] == 1
    sent = commands_sent(sim)
    await call_service(
        hass, SERVICE_OPEN_COVER, trunk
    )  # already open: nothing is toggled
    assert commands_sent(sim) == sent
    assert sim_car(sim, "Stella").doors["rt"] == 1

    await call_service(hass, SERVICE_CLOSE_COVER, trunk)
    assert sim_car(sim, "Stella").doors["rt"] == 0
    assert state_of(hass, trunk).state == CoverState.CLOSED
    await call_service(hass, SERVICE_CLOSE_COVER, trunk)  # already closed
    assert commands_sent(sim) == sent + 1
    assert sim_car(sim, "Stella").doors["rt"] == 0


async def test_charge_port_windows_sunroof(hass: HomeAssistant, sim: SimServer) -> None:
    """Charge port door, windows (vent/close) and sunroof (vent/close)."""
    await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    port = entity_id(hass, Platform.COVER, car, "charge_state_charge_port_door_open")
    windows = entity_id(hass, Platform.COVER, car, "windows")
    sunroof = entity_id(hass, Platform.COVER, car, SUNROOF)

    await call_service(hass, SERVICE_OPEN_COVER, port)
    assert sim_car(sim, "Stella").charge_port_door_open is True
    assert state_of(hass, port).state == CoverState.OPEN
    await call_service(hass, SERVICE_CLOSE_COVER, port)
    assert sim_car(sim, "Stella").charge_port_door_open is False
    assert state_of(hass, port).state == CoverState.CLOSED

    await call_service(hass, SERVICE_OPEN_COVER, windows)
    assert set(sim_car(sim, "Stella").windows.values()) == {1}
    assert state_of(hass, windows).state == CoverState.OPEN
    await call_service(hass, SERVICE_CLOSE_COVER, windows)
    assert set(sim_car(sim, "Stella").windows.values()) == {0}
    assert state_of(hass, windows).state == CoverState.CLOSED

    await call_service(hass, SERVICE_OPEN_COVER, sunroof)
    assert sim_car(sim, "Stella").sun_roof_state == "vent"
    assert state_of(hass, sunroof).state == CoverState.OPEN
    await call_service(hass, SERVICE_CLOSE_COVER, sunroof)
    assert sim_car(sim, "Stella").sun_roof_state == "closed"
    assert state_of(hass, sunroof).state == CoverState.CLOSED


async def test_refused(hass: HomeAssistant, sim: SimServer) -> None:
    """The car's refusal reaches the user: no closing the port over a cable."""
    await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    car.plugged = True
    car.charging_state = "Stopped"
    port = entity_id(hass, Platform.COVER, car, "charge_state_charge_port_door_open")
    await call_service(hass, SERVICE_OPEN_COVER, port)
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_CLOSE_COVER, port)
    assert err.value.translation_key == "command_failed"
    assert sim_car(sim, "Sparky").charge_port_door_open is True


async def test_protected_opening(hass: HomeAssistant, sim: SimServer) -> None:
    """A protected frunk cannot be opened through the cover service (no code)."""
    await setup_account(
        hass, sim, NO_MFA_EMAIL, options=otp_options(ProtectedAction.OPEN_FRUNK)
    )
    car = sim_car(sim, "Sparky")
    sent = commands_sent(sim)
    with pytest.raises(ServiceValidationError) as err:
        await call_service(
            hass,
            SERVICE_OPEN_COVER,
            entity_id(hass, Platform.COVER, car, "vehicle_state_ft"),
        )
    assert err.value.translation_key == "code_required_open_frunk"
    assert commands_sent(sim) == sent
    assert sim_car(sim, "Sparky").doors["ft"] == 0
    # Unprotected covers still work.
    await call_service(
        hass,
        SERVICE_OPEN_COVER,
        entity_id(hass, Platform.COVER, car, "vehicle_state_rt"),
    )
    assert sim_car(sim, "Sparky").doors["rt"] == 1


def test_position_params() -> None:
    """Commands carry the car's position only when both coordinates are known."""
    known = {"drive_state_latitude": 37.5, "drive_state_longitude": -122.25}
    assert position_params(VehicleData(known)) == {"lat": 37.5, "lon": -122.25}
    assert position_params(VehicleData({"drive_state_latitude": 37.5})) is None
