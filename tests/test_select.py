"""Selects against the simulator: seat heaters and coolers of fitted seats."""

from homeassistant.components.select import SERVICE_SELECT_OPTION
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
import pytest
from syrupy.assertion import SnapshotAssertion

from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    call_service,
    each_account,
    entity_id,
    has_entity,
    setup_account,
    setup_and_snapshot,
    start_outage,
    state_of,
)

HEATERS = {  # key suffix -> heater index of remote_seat_heater_request
    "left": 0,
    "right": 1,
    "rear_left": 2,
    "rear_center": 4,
    "rear_right": 5,
    "third_row_left": 6,
    "third_row_right": 7,
}


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """One select per fitted seat heater and cooler."""
    await setup_and_snapshot(hass, sim, email, Platform.SELECT, snapshot)


async def test_fitted_seats_only(hass: HomeAssistant, sim: SimServer) -> None:
    """Rear heaters with rear_seat_heaters, third row with third-row seats, coolers."""
    await setup_account(hass, sim, TOTP_EMAIL)
    await setup_account(hass, sim, NO_MFA_EMAIL)

    def seats(name: str) -> set[str]:
        car = sim_car(sim, name)
        keys = {f"climate_state_seat_heater_{seat}" for seat in HEATERS} | {
            f"climate_state_seat_fan_front_{side}" for side in ("left", "right")
        }
        return {key for key in keys if has_entity(hass, Platform.SELECT, car, key)}

    assert len(seats("Stella")) == 9
    assert seats("Yara") == {
        f"climate_state_seat_heater_{seat}"
        for seat in ("left", "right", "rear_left", "rear_center", "rear_right")
    }
    assert seats("Sparky") == {
        "climate_state_seat_heater_left",
        "climate_state_seat_heater_right",
    }


async def test_every_seat(hass: HomeAssistant, sim: SimServer) -> None:
    """Every heater and cooler of the fully optioned car reaches its seat."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    registry = er.async_get(hass)
    for seat in ("third_row_left", "third_row_right"):  # disabled by default
        registry.async_update_entity(
            entity_id(hass, Platform.SELECT, car, f"climate_state_seat_heater_{seat}"),
            disabled_by=None,
        )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()

    for seat, heater in HEATERS.items():
        select = entity_id(
            hass, Platform.SELECT, car, f"climate_state_seat_heater_{seat}"
        )
        await call_service(hass, SERVICE_SELECT_OPTION, select, option="medium")
        assert sim_car(sim, "Stella").seat_heaters[heater] == 2, seat
        assert state_of(hass, select).state == "medium"
    # The first heater started the climate, as the car needs.
    assert sim_car(sim, "Stella").climate_on is True

    for side, position in (("left", 1), ("right", 2)):
        select = entity_id(
            hass, Platform.SELECT, car, f"climate_state_seat_fan_front_{side}"
        )
        await call_service(hass, SERVICE_SELECT_OPTION, select, option="high")
        assert sim_car(sim, "Stella").seat_coolers[position] == 3
        await call_service(hass, SERVICE_SELECT_OPTION, select, option="off")
        assert sim_car(sim, "Stella").seat_coolers[position] == 0
        assert state_of(hass, select).state == "off"


async def test_errors(hass: HomeAssistant, sim: SimServer) -> None:
    """During an outage nothing is sent and the level stays."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    select = entity_id(hass, Platform.SELECT, car, "climate_state_seat_heater_left")
    await start_outage(hass, sim, entry)
    with pytest.raises(HomeAssistantError):
        await call_service(hass, SERVICE_SELECT_OPTION, select, option="low")
    assert sim_car(sim, "Sparky").seat_heaters.get(0, 0) == 0
    assert state_of(hass, select).state == "off"
