"""tesla-fleet-api against tesla_sim: every REST command our entities and services send and
every one HA core's ``tesla_fleet`` sends (its platforms, with its arguments), each answered
the way HA core's ``handle_vehicle_command`` accepts.

REST commands reach a car only when it does not require the Vehicle Command Protocol (a
pre-2021 Model S/X in Tesla's cloud); until the signed-commands issue, the cars here are
set to take REST (``requires_command_signing = False``) and one test checks the 403 of a
car that requires signing.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from tesla_fleet_api import TeslaFleetApi
from tesla_fleet_api.const import (
    AutoSeat,
    CabinOverheatProtectionTemp,
    ClimateKeeperMode,
    Level,
    Seat,
    SunRoofCommand,
    Trunk,
    WindowCommand,
)
from tesla_fleet_api.exceptions import Forbidden
from tesla_fleet_api.tesla import VehicleFleet

from tesla_sim import SimServer
from tesla_sim.vehicles import Vehicle
from tests.conformance import (
    SimSession,
    fleet_api,
    fleet_tokens,
    session_fixture,  # noqa: F401 - a fixture
)
from tests.ha_fixtures import TOTP_EMAIL

type Car = VehicleFleet[TeslaFleetApi]
type Send = Callable[[Car, Vehicle], Awaitable[dict[str, Any]]]

ACCEPTED_REASONS = ("already_set", "not_charging", "requested")
"""Reasons of ``result: false`` HA core's ``handle_vehicle_command`` takes as success."""
VOLUME = int(0.5 * 11)  # HA core's media player at half volume (volume_max 11)


def sent(name: str, send: Send, *marks: Any) -> Any:
    """A command case: its id and how the library sends it."""
    return pytest.param(send, id=name, marks=marks)


def comfort(send: Send) -> Send:
    """A cabin comfort command, sent as HA core and our entities do: climate on first
    (the car refuses comfort commands while its climate is off)."""

    async def climate_first(car: Car, sim_car: Vehicle) -> dict[str, Any]:
        await car.auto_conditioning_start()
        return await send(car, sim_car)

    return climate_first


async def plug_in_and_start(car: Car, sim_car: Vehicle) -> dict[str, Any]:
    """``charge_start`` on a car plugged in (unplugged, it answers ``disconnected``)."""
    sim_car.plugged = True
    return await car.charge_start()


HA_CORE = [
    sent("door_lock", lambda c, _: c.door_lock()),
    sent("door_unlock", lambda c, _: c.door_unlock()),
    sent("charge_port_door_open", lambda c, _: c.charge_port_door_open()),
    sent("charge_port_door_close", lambda c, _: c.charge_port_door_close()),
    sent("actuate_trunk_front", lambda c, _: c.actuate_trunk(Trunk.FRONT)),
    sent("actuate_trunk_rear", lambda c, _: c.actuate_trunk(Trunk.REAR)),
    sent("window_vent", lambda c, _: c.window_control(command=WindowCommand.VENT)),
    sent("window_close", lambda c, _: c.window_control(command=WindowCommand.CLOSE)),
    sent("sun_roof_vent", lambda c, _: c.sun_roof_control(SunRoofCommand.VENT)),
    sent("sun_roof_close", lambda c, _: c.sun_roof_control(SunRoofCommand.CLOSE)),
    sent("sun_roof_stop", lambda c, _: c.sun_roof_control(SunRoofCommand.STOP)),
    sent("auto_conditioning_start", lambda c, _: c.auto_conditioning_start()),
    sent("auto_conditioning_stop", lambda c, _: c.auto_conditioning_stop()),
    sent(
        "set_temps",
        lambda c, _: c.set_temps(driver_temp=21.5, passenger_temp=21.5),
    ),
    sent(
        "set_climate_keeper_mode",
        lambda c, _: c.set_climate_keeper_mode(
            climate_keeper_mode=ClimateKeeperMode.DOG_MODE
        ),
    ),
    sent(
        "set_cop_temp",
        lambda c, _: c.set_cop_temp(CabinOverheatProtectionTemp.MEDIUM),
    ),
    sent(
        "set_cabin_overheat_protection",
        lambda c, _: c.set_cabin_overheat_protection(on=True, fan_only=True),
    ),
    sent("adjust_volume", lambda c, _: c.adjust_volume(VOLUME)),
    sent(
        "media_toggle_playback",
        lambda c, _: c.media_toggle_playback(),
    ),
    sent(
        "media_next_track",
        lambda c, _: c.media_next_track(),
    ),
    sent(
        "media_prev_track",
        lambda c, _: c.media_prev_track(),
    ),
    sent(
        "schedule_software_update",
        lambda c, _: c.schedule_software_update(offset_sec=0),
    ),
    sent("flash_lights", lambda c, _: c.flash_lights()),
    sent("honk_horn", lambda c, _: c.honk_horn()),
    sent("remote_start_drive", lambda c, _: c.remote_start_drive()),
    sent("remote_boombox", lambda c, _: c.remote_boombox(0)),
    sent(
        "trigger_homelink",
        lambda c, car: c.trigger_homelink(lat=car.latitude, lon=car.longitude),
    ),
    sent("set_sentry_mode", lambda c, _: c.set_sentry_mode(on=True)),
    sent(
        "remote_auto_seat_climate_request",
        comfort(
            lambda c, _: c.remote_auto_seat_climate_request(AutoSeat.FRONT_LEFT, True)
        ),
    ),
    sent(
        "remote_auto_steering_wheel_heat_climate_request",
        comfort(
            lambda c, _: c.remote_auto_steering_wheel_heat_climate_request(on=True)
        ),
    ),
    sent(
        "remote_steering_wheel_heat_level_request",
        comfort(lambda c, _: c.remote_steering_wheel_heat_level_request(Level.HIGH)),
    ),
    sent(
        "set_preconditioning_max",
        lambda c, _: c.set_preconditioning_max(on=True, manual_override=False),
    ),
    sent("charge_start", plug_in_and_start),
    sent("charge_stop", lambda c, _: c.charge_stop()),
    sent("set_charging_amps", lambda c, _: c.set_charging_amps(16)),
    sent("set_charge_limit", lambda c, _: c.set_charge_limit(80)),
    sent(
        "remote_seat_heater_request",
        comfort(lambda c, _: c.remote_seat_heater_request(Seat.FRONT_LEFT, Level.HIGH)),
    ),
]
"""What HA core's platforms send (button, climate, cover, lock, media_player, number,
select, switch, update), with the arguments it passes."""

OURS = [
    sent("set_valet_mode", lambda c, _: c.set_valet_mode(on=True)),
    sent(
        "remote_steering_wheel_heater_request",
        comfort(lambda c, _: c.remote_steering_wheel_heater_request(on=True)),
    ),
    sent(
        "remote_seat_cooler_request",
        comfort(lambda c, _: c.remote_seat_cooler_request(1, Level.MEDIUM)),
    ),
    sent(
        "window_close_with_position",
        lambda c, car: c.window_control(
            command=WindowCommand.CLOSE, lat=car.latitude, lon=car.longitude
        ),
    ),
    sent(
        "navigation_request",
        lambda c, _: c.navigation_request("1 Main Street", locale="en-US"),
    ),
    sent(
        "set_scheduled_charging",
        lambda c, _: c.set_scheduled_charging(enable=True, time=120),
    ),
    sent(
        "set_scheduled_departure",
        lambda c, _: c.set_scheduled_departure(
            enable=True, departure_time=450, end_off_peak_time=360
        ),
    ),
]
"""Commands our entities and services send that HA core does not (the rest are shared)."""


@pytest.fixture
def stella(sim: SimServer) -> Vehicle:
    """The TOTP account's fully optioned Model S: online, parked, taking REST commands."""
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    car = sim.world.vehicle(account.vins[0])
    car.requires_command_signing = False
    return car


@pytest.fixture
def car(sim: SimServer, session: SimSession, stella: Vehicle) -> Car:
    api = fleet_api(session, fleet_tokens(sim, TOTP_EMAIL)["access_token"])
    return api.vehicles.createFleet(stella.vin)


def ha_core_accepts(answer: dict[str, Any]) -> bool:
    """HA core's ``handle_vehicle_command``: ``result`` true or an accepted reason."""
    response = answer["response"]
    return response["result"] is True or response["reason"] in ACCEPTED_REASONS


@pytest.mark.parametrize("send", [*HA_CORE, *OURS])
async def test_command(car: Car, stella: Vehicle, send: Send) -> None:
    answer = await send(car, stella)
    assert set(answer["response"]) == {"result", "reason"}, answer
    assert ha_core_accepts(answer), answer


async def test_rest_command_to_a_car_that_requires_signing(
    car: Car, stella: Vehicle
) -> None:
    """403 ``Tesla Vehicle Command Protocol required``.

    Library's reading: ``Forbidden``, whose message blames a missing scope; the body's
    ``error`` says the truth. HA core never meets it: it reads ``command_signing`` from
    ``products`` and sends signed commands to such a car.
    """
    stella.requires_command_signing = True
    with pytest.raises(Forbidden) as refused:
        await car.door_lock()
    assert refused.value.data is not None
    assert refused.value.data["error"].startswith(
        "Tesla Vehicle Command Protocol required, please refer to the documentation here: "
    )
