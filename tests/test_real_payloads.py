"""Values on payloads real cars send and the simulator's cars do not.

The simulator's cars are recent; the payloads here are scripted per car in the test (the
simulator's ``vehicle_data`` is wrapped): an older Model S/X with an integer
``sun_roof_installed`` and without tyre pressure sensors, sentry mode or dashcam, and a
navigation that reports ``minutes_to_arrival: 0`` without a route.
"""

from collections.abc import Callable
from typing import Any

from homeassistant.components.update import (
    ATTR_INSTALLED_VERSION,
    ATTR_LATEST_VERSION,
    UpdateEntityFeature,
)
from homeassistant.const import (
    ATTR_SUPPORTED_FEATURES,
    STATE_CLOSED,
    STATE_OFF,
    STATE_ON,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant
import pytest

from custom_components.tesla_resilient.api import VehicleData
from custom_components.tesla_resilient.values import fitted, offered_update, sent
from tesla_sim import SimServer, fleet
from tesla_sim.vehicles import Vehicle
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    entity_id,
    has_entity,
    refresh,
    setup_account,
    state_of,
)

type Edit = Callable[[dict[str, Any]], None]

CORNERS = ("fl", "fr", "rl", "rr")
NEVER_SENT_BY_OLD_S = (
    *(f"tpms_pressure_{corner}" for corner in CORNERS),
    *(f"tpms_last_seen_pressure_time_{corner}" for corner in CORNERS),
    *(f"tpms_{level}_warning_{c}" for level in ("soft", "hard") for c in CORNERS),
    "sentry_mode",
    "sentry_mode_available",
    "dashcam_state",
)
"""``vehicle_state`` keys an older Model S never sends."""


def script_payloads(monkeypatch: pytest.MonkeyPatch, edits: dict[str, Edit]) -> None:
    """Edit the ``vehicle_data`` response of each car (VIN) of ``edits`` before it is sent."""
    original = fleet.vehicle_data

    def scripted(vehicle: Vehicle, *args: Any, **kwargs: Any) -> dict[str, Any]:
        data = original(vehicle, *args, **kwargs)
        if (edit := edits.get(vehicle.vin)) is not None:
            edit(data)
        return data

    monkeypatch.setattr(fleet, "vehicle_data", scripted)


def older_model_s(data: dict[str, Any]) -> None:
    """An older Model S: sunroof as a number, no tyre sensors, no sentry, no dashcam.

    Only the sections the request asked for are in ``data``.
    """
    if "vehicle_config" in data:
        data["vehicle_config"]["sun_roof_installed"] = 2
    if (state := data.get("vehicle_state")) is not None:
        state["sun_roof_state"] = "closed"
        for key in NEVER_SENT_BY_OLD_S:
            del state[key]


def tyre_unread(data: dict[str, Any]) -> None:
    """A car whose front-left tyre sensor was not read yet (``null``)."""
    data["vehicle_state"]["tpms_pressure_fl"] = None


async def test_older_model_s(
    hass: HomeAssistant, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A numeric sunroof makes the cover; keys never sent make no entities."""
    yara, stella = sim_car(sim, "Yara"), sim_car(sim, "Stella")
    script_payloads(monkeypatch, {yara.vin: older_model_s, stella.vin: tyre_unread})
    await setup_account(hass, sim, TOTP_EMAIL)

    sunroof = entity_id(hass, Platform.COVER, yara, "vehicle_state_sun_roof_state")
    assert state_of(hass, sunroof).state == STATE_CLOSED
    for platform, key in (
        *((Platform.SENSOR, f"vehicle_state_tpms_pressure_{c}") for c in CORNERS),
        (Platform.SENSOR, "vehicle_state_tpms_last_seen_pressure_time_fl"),
        (Platform.BINARY_SENSOR, "vehicle_state_tpms_soft_warning_fl"),
        (Platform.BINARY_SENSOR, "vehicle_state_tpms_hard_warning_rr"),
        (Platform.BINARY_SENSOR, "vehicle_state_dashcam_state"),
        (Platform.SWITCH, "vehicle_state_sentry_mode"),
    ):
        assert not has_entity(hass, platform, yara, key), key
        assert has_entity(hass, platform, stella, key), key
    # A value merely null (not read yet) keeps its entity.
    tyre = entity_id(hass, Platform.SENSOR, stella, "vehicle_state_tpms_pressure_fl")
    assert state_of(hass, tyre).state == STATE_UNKNOWN


async def test_no_route_no_arrival(
    hass: HomeAssistant, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``minutes_to_arrival: 0`` without a destination is no arrival time."""
    car = sim_car(sim, "Sparky")

    def idle_navigation(data: dict[str, Any]) -> None:
        data["drive_state"].update(
            active_route_minutes_to_arrival=0,
            active_route_miles_to_arrival=0,
            active_route_traffic_minutes_delay=0,
        )

    script_payloads(monkeypatch, {car.vin: idle_navigation})
    await setup_account(hass, sim, NO_MFA_EMAIL)
    for key in (
        "drive_state_active_route_minutes_to_arrival",
        "drive_state_active_route_miles_to_arrival",
    ):
        state = state_of(hass, entity_id(hass, Platform.SENSOR, car, key))
        assert state.state == STATE_UNKNOWN, key


@pytest.mark.parametrize("offered", ["2024.2.1", "2024.8.9"])
async def test_offered_version_not_newer(
    hass: HomeAssistant, sim: SimServer, offered: str
) -> None:
    """An offered version older than or equal to the installed one is no update."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    car.update_version = offered  # installed: 2024.8.9
    await refresh(hass, entry)

    key = "vehicle_state_software_update_status"
    update = state_of(hass, entity_id(hass, Platform.UPDATE, car, key))
    assert update.state == STATE_OFF
    assert update.attributes[ATTR_LATEST_VERSION] == "2024.8.9"
    assert update.attributes[ATTR_INSTALLED_VERSION] == "2024.8.9"
    assert update.attributes[ATTR_SUPPORTED_FEATURES] == UpdateEntityFeature.PROGRESS

    car = sim_car(sim, "Sparky")
    car.update_version = "2024.14.9"
    await refresh(hass, entry)
    assert state_of(hass, entity_id(hass, Platform.UPDATE, car, key)).state == STATE_ON


def test_value_rules() -> None:
    """The shared readers on values no simulator car sends."""
    data = VehicleData(
        {
            "vehicle_config_sun_roof_installed": 0,
            "vehicle_config_rear_seat_heaters": True,
            "vehicle_state_software_update_status": "available",
            "vehicle_state_software_update_version": "2025.2 build",
            "vehicle_state_car_version": "develop 1a2b",
            "climate_state_inside_temp": None,
        }
    )
    assert not fitted("vehicle_config_sun_roof_installed")(data)
    assert fitted("vehicle_config_rear_seat_heaters")(data)
    # Versions that are not numbers cannot be compared: the status decides.
    assert offered_update(data) == "2025.2"
    # A key of no section, a section not fetched, a null value: all count as sent.
    assert sent("display_name")(data)
    assert sent("charge_state_battery_level")(data)
    assert sent("climate_state_inside_temp")(data)
    assert not sent("climate_state_outside_temp")(data)
    no_version = VehicleData({"vehicle_state_software_update_status": "available"})
    assert offered_update(no_version) is None
    # Trailing zeros do not make a version newer.
    same = VehicleData(
        {
            "vehicle_state_software_update_status": "available",
            "vehicle_state_software_update_version": "2024.8.9.0",
            "vehicle_state_car_version": "2024.8.9 3c2b",
        }
    )
    assert offered_update(same) is None
