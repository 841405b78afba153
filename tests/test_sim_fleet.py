"""tesla_sim Fleet API: envelope, status codes, vehicle_data, wake_up and every command."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tesla_sim import SimServer
from tesla_sim.vehicles import Vehicle
from tests.sim_fixtures import bearer

# REST commands (cars with command_signing "allowed"); signed ones: test_api_protocol.py
pytestmark = pytest.mark.sim(rest_commands=True)

ASLEEP_BODY = {
    "response": None,
    "error": "vehicle unavailable: vehicle is offline or asleep",
    "error_description": "",
}


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


class Api:
    """A minimal raw HTTP client for the tests."""

    def __init__(
        self, session: aiohttp.ClientSession, sim: SimServer, token: str
    ) -> None:
        self.session, self.sim, self.token = session, sim, token

    async def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        headers = kwargs.pop("headers", bearer(self.token))
        async with self.session.request(
            method, self.sim.url + path, headers=headers, **kwargs
        ) as r:
            body = (
                await r.json()
                if r.content_type == "application/json"
                else await r.text()
            )
            return Reply(r.status, body, r.headers)

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Reply:
        return await self.request("POST", path, **kwargs)

    async def command(self, car: Vehicle, name: str, **params: Any) -> Reply:
        return await self.post(f"/api/1/vehicles/{car.id}/command/{name}", json=params)

    async def data(self, car: Vehicle, endpoints: str | None = None) -> Reply:
        params = {} if endpoints is None else {"endpoints": endpoints}
        return await self.get(f"/api/1/vehicles/{car.vin}/vehicle_data", params=params)


def car_of(sim: SimServer, email: str, index: int = 0) -> Vehicle:
    account = sim.world.account_by_email(email)
    assert account is not None
    return sim.world.vehicles[account.vins[index]]


@pytest.fixture
async def api(sim: SimServer) -> AsyncIterator[Api]:
    tokens = await sim.issue_tokens("totp@example.com")
    async with aiohttp.ClientSession() as session:
        yield Api(session, sim, tokens["access_token"])


@pytest.fixture
async def vsim(socket_enabled: None) -> AsyncIterator[SimServer]:
    async with SimServer(seed=1, virtual_clock=True, rest_commands=True) as server:
        yield server


@pytest.fixture
async def vapi(vsim: SimServer) -> AsyncIterator[Api]:
    tokens = await vsim.issue_tokens("totp@example.com")
    async with aiohttp.ClientSession() as session:
        yield Api(session, vsim, tokens["access_token"])


async def test_users_and_vehicle_list(api: Api, sim: SimServer) -> None:
    reply = await api.get("/api/1/users/region")
    assert reply.body == {"response": {"region": "na", "fleet_api_base_url": sim.url}}
    reply = await api.get("/api/1/users/me")
    assert reply.body["response"]["email"] == "totp@example.com"
    reply = await api.get("/api/1/vehicles")
    assert reply.status == 200
    assert reply.body["count"] == 2
    first = reply.body["response"][0]
    stella = car_of(sim, "totp@example.com")
    assert first["vin"] == stella.vin
    assert isinstance(first["id"], int)
    assert first["id_s"] == str(first["id"])
    assert isinstance(first["vehicle_id"], int)
    assert first["display_name"] == "Stella"
    assert first["state"] == "online"
    assert first["in_service"] is False
    assert first["api_version"] == 71
    for key in (stella.vin, str(stella.id)):
        reply = await api.get(f"/api/1/vehicles/{key}")
        assert reply.body["response"]["vin"] == stella.vin
    reply = await api.get("/api/1/vehicles/12345")
    assert (reply.status, reply.body["response"]) == (404, None)
    other = car_of(sim, "nomfa@example.com")
    assert (await api.get(f"/api/1/vehicles/{other.vin}")).status == 404


async def test_unauthorized(api: Api, sim: SimServer) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, bearer("not.a.token")):
        reply = await api.get("/api/1/vehicles", headers=headers)
        assert reply.status == 401
        assert reply.body["response"] is None
        assert "WWW-Authenticate" in reply.headers
    account = sim.world.account_by_email("totp@example.com")
    assert account is not None
    account.registered = False
    reply = await api.get("/api/1/vehicles")
    assert reply.status == 412
    assert "register" in reply.body["error"]


async def test_region_mismatch_421(api: Api, sim: SimServer) -> None:
    account = sim.world.account_by_email("totp@example.com")
    assert account is not None
    account.region = "eu"
    reply = await api.get("/api/1/vehicles")
    assert reply.status == 421
    reply = await api.get("/api/1/users/region")
    assert reply.body["response"] == {
        "region": "eu",
        "fleet_api_base_url": sim.url + "/eu",
    }
    reply = await api.get("/eu/api/1/vehicles")
    assert (reply.status, reply.body["count"]) == (200, 2)
    account.region = "na"
    assert (await api.get("/eu/api/1/users/me")).status == 421


async def test_vehicle_data_endpoints_and_location(api: Api, sim: SimServer) -> None:
    stella = car_of(sim, "totp@example.com")
    reply = await api.data(stella)
    assert reply.status == 200
    data = reply.body["response"]
    assert {
        "charge_state",
        "climate_state",
        "drive_state",
        "gui_settings",
        "vehicle_config",
        "vehicle_state",
    } <= set(data)
    assert "latitude" not in data["drive_state"]
    assert data["drive_state"]["shift_state"] is None
    reply = await api.data(stella, "drive_state;location_data")
    data = reply.body["response"]
    assert set(data) & {"charge_state", "climate_state", "vehicle_state"} == set()
    drive = data["drive_state"]
    assert abs(drive["latitude"] - stella.latitude) < 1e-5
    assert isinstance(drive["gps_as_of"], int)
    assert drive["native_type"] == "wgs"
    reply = await api.data(stella, "location_data")
    assert "latitude" in reply.body["response"]["drive_state"]
    reply = await api.data(stella, "closures_state")
    assert "locked" in reply.body["response"]["vehicle_state"]
    # without the vehicle_location scope the location stays hidden
    tokens = await sim.issue_tokens(
        "totp@example.com", scope="openid vehicle_device_data"
    )
    limited = Api(api.session, sim, tokens["access_token"])
    reply = await limited.data(stella, "drive_state;location_data")
    assert reply.status == 200
    assert "latitude" not in reply.body["response"]["drive_state"]
    # commands need vehicle_cmds, vehicle_data needs vehicle_device_data
    reply = await limited.command(stella, "door_lock")
    assert (reply.status, reply.body["error"]) == (403, "Unauthorized missing scopes")
    tokens = await sim.issue_tokens(
        "totp@example.com", scope="openid vehicle_charging_cmds"
    )
    charging_only = Api(api.session, sim, tokens["access_token"])
    assert (await charging_only.data(stella)).status == 403
    assert (await charging_only.command(stella, "charge_stop")).status == 200


async def test_options_follow_the_car(api: Api, sim: SimServer) -> None:
    stella, yara = (
        car_of(sim, "totp@example.com", 0),
        car_of(sim, "totp@example.com", 1),
    )
    s = (await api.data(stella)).body["response"]
    y = (await api.data(yara)).body["response"]
    assert s["vehicle_config"]["sun_roof_installed"] is True
    assert s["vehicle_config"]["third_row_seats"] != "None"
    assert s["vehicle_config"]["has_seat_cooling"] is True
    assert s["vehicle_config"]["has_air_suspension"] is True
    assert s["vehicle_config"]["plg"] is True
    assert s["vehicle_config"]["car_type"] == "models"
    assert "sun_roof_state" in s["vehicle_state"]
    assert s["vehicle_state"]["homelink_device_count"] == 2
    assert s["vehicle_state"]["homelink_nearby"] is True
    assert "seat_heater_third_row_left" in s["climate_state"]
    assert "seat_fan_front_left" in s["climate_state"]
    assert y["vehicle_config"]["sun_roof_installed"] is False
    assert "sun_roof_state" not in y["vehicle_state"]
    assert "homelink_nearby" not in y["vehicle_state"]
    assert "seat_heater_rear_left" in y["climate_state"]
    assert "seat_heater_third_row_left" not in y["climate_state"]


async def test_asleep_car_408_and_wake_up(vapi: Api, vsim: SimServer) -> None:
    stella = car_of(vsim, "totp@example.com")
    vsim.world.advance(901)
    reply = await vapi.get(f"/api/1/vehicles/{stella.id}")
    assert reply.body["response"]["state"] == "asleep"
    reply = await vapi.data(stella)
    assert (reply.status, reply.body) == (408, ASLEEP_BODY)
    reply = await vapi.command(stella, "door_unlock")
    assert (reply.status, reply.body) == (408, ASLEEP_BODY)
    reply = await vapi.post(f"/api/1/vehicles/{stella.id}/wake_up")
    assert reply.status == 200
    assert reply.body["response"]["state"] == "asleep"
    vsim.world.advance(2)
    assert (await vapi.data(stella)).status == 408
    vsim.world.advance(12)
    reply = await vapi.post(f"/api/1/vehicles/{stella.vin}/wake_up")
    assert reply.body["response"]["state"] == "online"
    assert (await vapi.data(stella)).status == 200
    assert vsim.world.meter.vehicle(stella.vin).wakes_caused == 1
    vsim.world.vehicle(stella.vin).set_activity("offline", vsim.world.now())
    reply = await vapi.post(f"/api/1/vehicles/{stella.id}/wake_up")
    assert reply.body["response"]["state"] == "offline"
    assert (await vapi.data(stella)).status == 408


async def test_command_signing_required(api: Api, sim: SimServer) -> None:
    stella = car_of(sim, "totp@example.com")
    stella.requires_command_signing = True
    reply = await api.command(stella, "door_lock")
    assert reply.status == 403
    assert reply.body["error"].startswith("Tesla Vehicle Command Protocol required")
    assert (await api.data(stella)).status == 200


async def test_rate_limits_per_car(vapi: Api, vsim: SimServer) -> None:
    stella, yara = (
        car_of(vsim, "totp@example.com", 0),
        car_of(vsim, "totp@example.com", 1),
    )
    for _ in range(60):
        assert (await vapi.data(stella)).status == 200
    reply = await vapi.data(stella)
    assert reply.status == 429
    assert int(reply.headers["Retry-After"]) == 60
    assert reply.headers["RateLimit-Limit"] == "60"
    assert reply.headers["RateLimit-Remaining"] == "0"
    assert (await vapi.data(yara)).status == 200  # per car
    for _ in range(30):
        assert (await vapi.command(stella, "flash_lights")).status == 200
    reply = await vapi.command(stella, "flash_lights")
    assert reply.status == 429
    for _ in range(3):
        reply = await vapi.post(f"/api/1/vehicles/{stella.id}/wake_up")
        assert reply.status == 200
    reply = await vapi.post(f"/api/1/vehicles/{stella.id}/wake_up")
    assert reply.status == 429
    vsim.world.advance(30)
    reply = await vapi.data(stella)
    assert (reply.status, reply.headers["Retry-After"]) == (429, "30")
    vsim.world.advance(31)
    reply = await vapi.data(stella)
    assert reply.status == 200
    assert reply.headers["RateLimit-Remaining"] == "59"
    meter = vsim.world.meter
    assert meter.billed["data"] == meter.requests["data"]  # 429s are billed
    vsim.world.rate_limits.enabled = False
    for _ in range(61):
        assert (await vapi.data(yara)).status == 200


async def test_command_request_errors(api: Api, sim: SimServer) -> None:
    stella = car_of(sim, "totp@example.com")
    reply = await api.command(stella, "self_destruct")
    assert (reply.status, reply.body["error"]) == (400, "invalid_command")
    reply = await api.command(stella, "set_charge_limit")
    assert reply.status == 400
    reply = await api.command(stella, "set_charge_limit", percent="90")
    assert reply.status == 400
    reply = await api.command(stella, "set_charge_limit", percent=90.5)
    assert reply.status == 400
    path = f"/api/1/vehicles/{stella.id}/command/set_charge_limit"
    reply = await api.post(
        path,
        data="{",
        headers={**bearer(api.token), "Content-Type": "application/json"},
    )
    assert reply.status == 400
    reply = await api.post(
        path,
        data="[1]",
        headers={**bearer(api.token), "Content-Type": "application/json"},
    )
    assert reply.status == 400
    reply = await api.post(path, data={"percent": "90"})
    assert reply.status == 400  # form values are strings
    reply = await api.post(f"/api/1/vehicles/{stella.id}/command/door_lock")
    assert reply.body == {"response": {"result": True, "reason": ""}}


async def ok(api: Api, car: Vehicle, name: str, **params: Any) -> None:
    reply = await api.command(car, name, **params)
    assert reply.status == 200, reply.body
    assert reply.body["response"] == {"result": True, "reason": ""}, (name, reply.body)


async def refused(
    api: Api, car: Vehicle, name: str, reason: str, **params: Any
) -> None:
    reply = await api.command(car, name, **params)
    assert reply.status == 200
    assert reply.body["response"] == {"result": False, "reason": reason}, name


async def test_commands_change_the_car(api: Api, sim: SimServer) -> None:
    s = car_of(sim, "totp@example.com")
    sim.world.rate_limits.enabled = False  # more than 30 commands a minute

    async def state() -> dict[str, Any]:
        data: dict[str, Any] = (await api.data(s)).body["response"]
        return data

    await ok(api, s, "door_unlock")
    assert (await state())["vehicle_state"]["locked"] is False
    await ok(api, s, "door_lock")
    assert (await state())["vehicle_state"]["locked"] is True
    # charging
    await refused(api, s, "charge_start", "disconnected")
    await ok(api, s, "charge_port_door_open")
    assert (await state())["charge_state"]["charge_port_door_open"] is True
    await ok(api, s, "charge_port_door_close")
    sim.world.vehicle(s.vin).set_activity("charge", sim.world.now())
    await refused(api, s, "charge_start", "is_charging")
    await refused(api, s, "charge_port_door_open", "is_charging")
    await refused(api, s, "charge_port_door_close", "cable_connected")
    charge = (await state())["charge_state"]
    assert charge["charging_state"] == "Charging"
    assert charge["charger_power"] > 0
    assert charge["charger_phases"] == 1
    await ok(api, s, "charge_stop")
    await refused(api, s, "charge_stop", "not_charging")
    assert (await state())["charge_state"]["charging_state"] == "Stopped"
    await ok(api, s, "charge_port_door_open")
    assert (await state())["charge_state"]["charge_port_latch"] == "Disengaged"
    await ok(api, s, "set_charge_limit", percent=90)
    await refused(api, s, "set_charge_limit", "already_set", percent=90)
    await refused(api, s, "set_charge_limit", "invalid_charge_limit", percent=30)
    await ok(api, s, "charge_standard")
    await ok(api, s, "charge_max_range")
    assert (await state())["charge_state"]["charge_limit_soc"] == 100
    await ok(api, s, "charge_start")
    await ok(
        api, s, "set_charge_limit", percent=50
    )  # below the level: complete at once
    assert (await state())["charge_state"]["charging_state"] == "Complete"
    await refused(api, s, "charge_start", "complete")
    await ok(api, s, "set_charging_amps", charging_amps=99)
    assert (await state())["charge_state"]["charge_current_request"] == 48
    await ok(api, s, "set_charging_amps", charging_amps=12)
    assert (await state())["charge_state"]["charge_amps"] == 12
    await ok(api, s, "set_scheduled_charging", enable=True, time=120)
    charge = (await state())["charge_state"]
    assert charge["scheduled_charging_mode"] == "StartAt"
    assert charge["scheduled_charging_start_time_app"] == 120
    assert isinstance(charge["scheduled_charging_start_time"], int)
    await ok(
        api,
        s,
        "set_scheduled_departure",
        enable=True,
        departure_time=450,
        preconditioning_enabled=True,
        off_peak_charging_enabled=True,
        end_off_peak_time=360,
    )
    charge = (await state())["charge_state"]
    assert charge["scheduled_charging_mode"] == "DepartBy"
    assert charge["scheduled_departure_time_minutes"] == 450
    assert charge["preconditioning_enabled"] is True
    assert charge["off_peak_hours_end_time"] == 360
    assert (
        await api.command(s, "set_scheduled_charging", enable=True, time=2000)
    ).status == 400
    assert (
        await api.command(s, "set_scheduled_departure", enable=True, departure_time=-1)
    ).status == 400
    await ok(api, s, "set_scheduled_departure", enable=False)
    assert (await state())["charge_state"]["scheduled_charging_mode"] == "Off"


async def test_climate_commands(api: Api, sim: SimServer) -> None:
    s = car_of(sim, "totp@example.com")
    sim.world.rate_limits.enabled = False  # more than 30 commands a minute

    async def climate() -> dict[str, Any]:
        data: dict[str, Any] = (await api.data(s, "climate_state")).body["response"]
        climate_state: dict[str, Any] = data["climate_state"]
        return climate_state

    reason = "cabin comfort remote settings not enabled"
    await refused(api, s, "remote_seat_heater_request", reason, heater=0, level=3)
    await refused(api, s, "remote_steering_wheel_heater_request", reason, on=True)
    await refused(
        api,
        s,
        "remote_seat_cooler_request",
        reason,
        seat_position=1,
        seat_cooler_level=2,
    )
    await ok(api, s, "auto_conditioning_start")
    assert (await climate())["is_climate_on"] is True
    await ok(api, s, "set_temps", driver_temp=23.5, passenger_temp=22)
    await refused(api, s, "set_temps", "temperature out of range", driver_temp=40)
    for heater in (0, 1, 2, 4, 5, 6, 7):
        await ok(api, s, "remote_seat_heater_request", heater=heater, level=2)
    await ok(api, s, "remote_steering_wheel_heater_request", on=True)
    await ok(api, s, "remote_seat_cooler_request", seat_position=2, seat_cooler_level=3)
    c = await climate()
    assert c["driver_temp_setting"] == 23.5
    assert c["passenger_temp_setting"] == 22
    assert c["seat_heater_third_row_right"] == 2
    assert c["steering_wheel_heater"] is True
    assert c["seat_fan_front_right"] == 3
    assert (
        await api.command(s, "remote_seat_heater_request", heater=3, level=1)
    ).status == 400
    assert (
        await api.command(
            s, "remote_seat_cooler_request", seat_position=3, seat_cooler_level=1
        )
    ).status == 400
    await ok(api, s, "set_preconditioning_max", on=True)
    c = await climate()
    assert (c["defrost_mode"], c["is_front_defroster_on"]) == (2, True)
    await ok(api, s, "set_preconditioning_max", on=False)
    await ok(api, s, "set_climate_keeper_mode", climate_keeper_mode=2)
    assert (await climate())["climate_keeper_mode"] == "dog"
    assert (
        await api.command(s, "set_climate_keeper_mode", climate_keeper_mode=7)
    ).status == 400
    await ok(api, s, "set_cabin_overheat_protection", on=True, fan_only=True)
    assert (await climate())["cabin_overheat_protection"] == "FanOnly"
    await ok(api, s, "set_cabin_overheat_protection", on=False)
    assert (await climate())["cabin_overheat_protection"] == "Off"
    await ok(api, s, "auto_conditioning_stop")
    c = await climate()
    assert (c["is_climate_on"], c["climate_keeper_mode"], c["seat_heater_left"]) == (
        False,
        "off",
        0,
    )
    # a car without the hardware
    trinity_tokens = await sim.issue_tokens("multi@example.com")
    t_api = Api(api.session, sim, trinity_tokens["access_token"])
    trinity = car_of(sim, "multi@example.com")
    await ok(t_api, trinity, "auto_conditioning_start")
    await refused(
        t_api,
        trinity,
        "remote_seat_heater_request",
        "seat heater not available",
        heater=2,
        level=1,
    )
    await refused(
        t_api,
        trinity,
        "remote_seat_cooler_request",
        "seat cooling not available",
        seat_position=1,
        seat_cooler_level=1,
    )
    await refused(
        t_api, trinity, "sun_roof_control", "sunroof not installed", state="vent"
    )
    await refused(
        t_api, trinity, "trigger_homelink", "homelink not available", lat=0, lon=0
    )
    await ok(t_api, trinity, "actuate_trunk", which_trunk="rear")
    await refused(
        t_api, trinity, "actuate_trunk", "rear trunk is not powered", which_trunk="rear"
    )


async def test_closure_and_misc_commands(api: Api, sim: SimServer) -> None:
    s = car_of(sim, "totp@example.com")
    sim.world.rate_limits.enabled = False  # more than 30 commands a minute

    async def vstate() -> dict[str, Any]:
        data: dict[str, Any] = (
            await api.data(s, "vehicle_state;drive_state;location_data")
        ).body["response"]
        return data

    await ok(api, s, "actuate_trunk", which_trunk="front")
    await ok(api, s, "actuate_trunk", which_trunk="rear")
    v = (await vstate())["vehicle_state"]
    assert (v["ft"], v["rt"]) == (1, 1)
    await ok(api, s, "actuate_trunk", which_trunk="rear")
    assert (await vstate())["vehicle_state"]["rt"] == 0
    assert (await api.command(s, "actuate_trunk", which_trunk="side")).status == 400
    await ok(api, s, "window_control", command="vent", lat=0, lon=0)
    v = (await vstate())["vehicle_state"]
    assert [v[w] for w in ("fd_window", "fp_window", "rd_window", "rp_window")] == [
        1,
        1,
        1,
        1,
    ]
    await ok(api, s, "window_control", command="close", lat=0, lon=0)
    assert (await vstate())["vehicle_state"]["fd_window"] == 0
    assert (await api.command(s, "window_control", command="open")).status == 400
    await ok(api, s, "sun_roof_control", state="vent")
    v = (await vstate())["vehicle_state"]
    assert (v["sun_roof_state"], v["sun_roof_percent_open"]) == ("vent", 15)
    await ok(api, s, "sun_roof_control", state="close")
    assert (await api.command(s, "sun_roof_control", state="open")).status == 400
    await ok(api, s, "set_sentry_mode", on=True)
    assert (await vstate())["vehicle_state"]["sentry_mode"] is True
    assert (await api.command(s, "set_sentry_mode", on="yes")).status == 400
    await ok(api, s, "set_valet_mode", on=True, password="1234")
    await refused(api, s, "set_valet_mode", "already_set", on=True, password="1234")
    v = (await vstate())["vehicle_state"]
    assert (v["valet_mode"], v["valet_pin_needed"]) == (True, True)
    await refused(api, s, "set_valet_mode", "invalid_pin", on=False, password="9999")
    await ok(api, s, "set_valet_mode", on=False, password=1234)
    await refused(api, s, "set_valet_mode", "already_set", on=False)
    assert (await api.command(s, "set_valet_mode", on=True, password=[1])).status == 400
    await ok(api, s, "honk_horn")
    await ok(api, s, "flash_lights")
    assert (s.horn_honks, s.light_flashes) == (1, 1)
    await ok(api, s, "trigger_homelink", lat=s.latitude, lon=s.longitude)
    assert s.homelink_triggers == 1
    await refused(api, s, "trigger_homelink", "user too far from car", lat=0, lon=0)
    await ok(api, s, "remote_start_drive")
    assert (await vstate())["vehicle_state"]["remote_start"] is True
    await ok(
        api,
        s,
        "navigation_request",
        type="share_ext_content_raw",
        value={"android.intent.extra.TEXT": "1 Main St"},
        locale="en-US",
    )
    d = (await vstate())["drive_state"]
    assert d["active_route_destination"] == "1 Main St"
    assert d["active_route_miles_to_arrival"] > 0
    assert "active_route_latitude" in d
    await ok(api, s, "share", value="Airport")
    await ok(api, s, "navigation_gps_request", lat=37.5, lon=-122.0, order=1)
    assert (await vstate())["drive_state"][
        "active_route_destination"
    ] == "37.50000,-122.00000"
    assert (await api.command(s, "navigation_request", value={"x": 1})).status == 400
    # software update
    await refused(api, s, "cancel_software_update", "no_update_scheduled")
    await ok(api, s, "schedule_software_update", offset_sec=3600)
    update = (await vstate())["vehicle_state"]["software_update"]
    assert update["status"] == "scheduled"
    assert update["scheduled_time_ms"] > 0
    await ok(api, s, "cancel_software_update")
    assert (await vstate())["vehicle_state"]["software_update"]["status"] == "available"
    assert (
        await api.command(s, "schedule_software_update", offset_sec=-5)
    ).status == 400


async def test_form_encoded_command_parameters(api: Api, sim: SimServer) -> None:
    s = car_of(sim, "totp@example.com")
    reply = await api.post(
        f"/api/1/vehicles/{s.id}/command/actuate_trunk", data={"which_trunk": "front"}
    )
    assert reply.body["response"]["result"] is True
    assert s.doors["ft"] == 1
