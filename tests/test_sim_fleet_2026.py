"""tesla_sim Fleet API as of 2026: products, command signing, fleet_status, regions, status."""

import base64
from collections.abc import AsyncIterator
import io
from typing import Any

import aiohttp
import pytest
from tesla_protocol.command.universal_message_pb2 import (
    Domain,
    MessageFault_E,
    OperationStatus_E,
    RoutableMessage,
)

from tesla_sim import SimServer
from tesla_sim.__main__ import parse_args, serve
from tesla_sim.configs import make_config
from tesla_sim.fleet import SIGNING_ERROR
from tests import test_sim_fleet
from tests.test_sim_fleet import Api, car_of

# REST commands (cars with command_signing "allowed"); signed ones: test_api_protocol.py
pytestmark = pytest.mark.sim(rest_commands=True)

api = test_sim_fleet.api
"""The REST world of the test fixtures (``rest_commands=True``), as in test_sim_fleet."""

ITEM_KEYS = {
    "id",
    "vehicle_id",
    "vin",
    "color",
    "access_type",
    "display_name",
    "option_codes",
    "granular_access",
    "tokens",
    "state",
    "in_service",
    "id_s",
    "calendar_enabled",
    "api_version",
    "backseat_token",
    "backseat_token_updated_at",
    "ble_autopair_enrolled",
    "command_signing",
    "release_notes_supported",
}


@pytest.fixture
async def tapi(socket_enabled: None) -> AsyncIterator[Api]:
    """Tesla's default world (every car of 2021+ requires signed commands) at ``.sim``."""
    async with (
        SimServer(seed=1, virtual_clock=True) as tesla,
        aiohttp.ClientSession() as session,
    ):
        tokens = await tesla.issue_tokens("totp@example.com")
        yield Api(session, tesla, tokens["access_token"])


async def test_products_and_vehicle_items(tapi: Api) -> None:
    tesla = tapi.sim
    reply = await tapi.get("/api/1/products")
    assert reply.status == 200
    assert reply.body["count"] == 2
    items = reply.body["response"]
    stella = car_of(tesla, "totp@example.com")
    assert [item["vin"] for item in items] == [
        stella.vin,
        car_of(tesla, "totp@example.com", 1).vin,
    ]
    for item in items:
        assert set(item) == ITEM_KEYS
        assert item["tokens"] is None
        assert item["command_signing"] == "required"
        assert item["id_s"] == str(item["id"])
    listed = (await tapi.get("/api/1/vehicles")).body["response"]
    assert listed == items
    single = (await tapi.get(f"/api/1/vehicles/{stella.vin}")).body["response"]
    assert single == items[0]
    data = (await tapi.data(stella, "charge_state")).body["response"]
    assert isinstance(data["tokens"], list)  # vehicle_data as recorded
    assert data["command_signing"] == "required"


async def test_rest_commands_refused_unless_the_car_takes_them(tapi: Api) -> None:
    tesla = tapi.sim
    stella = car_of(tesla, "totp@example.com")
    reply = await tapi.command(stella, "door_lock")
    assert reply.status == 403
    assert reply.body == {
        "response": None,
        "error": SIGNING_ERROR,
        "error_description": "",
    }
    assert SIGNING_ERROR.startswith("Tesla Vehicle Command Protocol required")
    account = tesla.world.account_by_email("totp@example.com")
    assert account is not None
    old = tesla.world.add_vehicle(account, make_config("Model S 2018"), "Classic")
    assert old.command_signing == "off"
    assert old.config.as_dict()["command_signing"] == "off"
    reply = await tapi.command(old, "door_unlock")
    assert reply.body["response"] == {"result": True, "reason": ""}
    item = (await tapi.get(f"/api/1/vehicles/{old.id}")).body["response"]
    assert item["command_signing"] == "off"
    # the control API's switch: off means "allowed" on a car that can sign
    stella.requires_command_signing = False
    assert stella.command_signing == "allowed"
    assert (await tapi.command(stella, "door_lock")).status == 200
    (state,) = (v for v in tesla.world.state()["vehicles"] if v["vin"] == stella.vin)
    assert (state["command_signing"], state["requires_command_signing"]) == (
        "allowed",
        False,
    )


async def test_rest_world_allows_rest(api: Api, sim: SimServer) -> None:
    items = (await api.get("/api/1/products")).body["response"]
    assert {item["command_signing"] for item in items} == {"allowed"}


async def test_fleet_status(tapi: Api) -> None:
    tesla = tapi.sim
    stella = car_of(tesla, "totp@example.com")
    other = car_of(tesla, "nomfa@example.com")
    reply = await tapi.post(
        "/api/1/vehicles/fleet_status", json={"vins": [stella.vin, other.vin]}
    )
    assert reply.status == 200
    assert reply.body["response"] == {
        "key_paired_vins": [],
        "unpaired_vins": [stella.vin],
        "vehicle_info": {
            stella.vin: {
                "firmware_version": stella.car_version.split()[0],
                "vehicle_command_protocol_required": True,
                "discounted_device_data": False,
                "fleet_telemetry_version": "1.0.2",
                "total_number_of_keys": 3,
                "safety_screen_streaming_toggle_enabled": False,
            }
        },
    }
    for body in ({"vins": "x"}, {"vins": [1]}, {}):
        reply = await tapi.post("/api/1/vehicles/fleet_status", json=body)
        assert (reply.status, reply.body["error"]) == (400, "invalid_field")
    assert (await tapi.get("/api/1/vehicles/fleet_status")).status == 404


async def test_signed_command_answers_unknown_key(tapi: Api) -> None:
    tesla = tapi.sim
    stella = car_of(tesla, "totp@example.com")
    path = f"/api/1/vehicles/{stella.vin}/signed_command"
    message = base64.b64encode(b"\x32\x02\x08\x02").decode()
    reply = await tapi.post(path, json={"routable_message": message})
    assert reply.status == 200
    answer = RoutableMessage.FromString(base64.b64decode(reply.body["response"]))
    # a command without a signer: the car does not know the key
    assert answer.from_destination.domain == Domain.DOMAIN_VEHICLE_SECURITY
    status = answer.signedMessageStatus
    assert status.operation_status == OperationStatus_E.OPERATIONSTATUS_ERROR
    assert (
        status.signed_message_fault == MessageFault_E.MESSAGEFAULT_ERROR_UNKNOWN_KEY_ID
    )
    not_a_message = base64.b64encode(b"\xff\xff").decode()
    for body in (
        {},
        {"routable_message": "not base64!"},
        {"routable_message": ""},
        {"routable_message": not_a_message},
    ):
        reply = await tapi.post(path, json=body)
        assert (reply.status, reply.body["error"]) == (400, "invalid_field")
    tesla.world.advance(901)
    reply = await tapi.post(path, json={"routable_message": message})
    assert reply.status == 408
    meter = tesla.world.meter.as_dict()
    assert meter["endpoints"]["POST /api/1/vehicles/{vehicle_id}/signed_command"] == 6
    assert meter["vehicles"][stella.vin]["billed"]["command"] == 6


async def test_status(sim: SimServer) -> None:
    async with aiohttp.ClientSession() as session:
        for prefix in ("", "/eu", "/cn"):
            async with session.get(f"{sim.url}{prefix}/status") as r:
                assert (r.status, await r.text()) == (200, "ok")
    assert sim.world.meter.usd() == 0


async def test_cn_region(api: Api, sim: SimServer) -> None:
    account = sim.world.account_by_email("totp@example.com")
    assert account is not None
    account.region = "cn"
    reply = await api.get("/api/1/users/region")
    assert reply.body["response"] == {
        "region": "cn",
        "fleet_api_base_url": f"{sim.url}/cn",
    }
    reply = await api.get("/api/1/vehicles")
    assert reply.status == 421
    assert reply.body["error"].endswith(f"{sim.url}/cn")
    reply = await api.get("/cn/api/1/products")
    assert (reply.status, reply.body["count"]) == (200, 2)
    assert (await api.get("/eu/api/1/vehicles")).status == 421


async def command_ok(api: Api, sim: SimServer, name: str, **params: Any) -> None:
    reply = await api.command(car_of(sim, "totp@example.com"), name, **params)
    assert reply.body["response"] == {"result": True, "reason": ""}, (name, reply.body)


async def test_media_and_comfort_commands(api: Api, sim: SimServer) -> None:
    stella = car_of(sim, "totp@example.com")
    sim.world.rate_limits.enabled = False

    async def state(section: str) -> dict[str, Any]:
        body = (await api.data(stella, section)).body["response"]
        result: dict[str, Any] = body[section]
        return result

    media = (await state("vehicle_state"))["media_info"]
    assert (media["audio_volume"], media["media_playback_status"]) == (3.0, "Stopped")
    await command_ok(api, sim, "media_toggle_playback")
    await command_ok(api, sim, "media_next_track")
    await command_ok(api, sim, "media_next_track")
    await command_ok(api, sim, "media_prev_track")
    await command_ok(api, sim, "adjust_volume", volume=7.5)
    media = (await state("vehicle_state"))["media_info"]
    assert media["audio_volume"] == 7.5
    assert media["media_playback_status"] == "Playing"
    assert media["now_playing_title"] == "Track 2"
    await command_ok(api, sim, "media_prev_track")
    await command_ok(api, sim, "media_prev_track")
    assert stella.media_track == 0
    await command_ok(api, sim, "remote_boombox", sound=2000)
    await command_ok(api, sim, "remote_boombox", sound=0)
    assert stella.boombox_sounds == 2
    await command_ok(api, sim, "set_cop_temp", cop_temp=0)
    assert (await state("climate_state"))["cop_activation_temperature"] == "Low"
    comfort_off = {
        "result": False,
        "reason": "cabin comfort remote settings not enabled",
    }
    for name, params in (
        ("remote_steering_wheel_heat_level_request", {"level": 2}),
        ("remote_auto_steering_wheel_heat_climate_request", {"on": True}),
        (
            "remote_auto_seat_climate_request",
            {"auto_seat_position": 1, "auto_climate_on": False},
        ),
    ):
        reply = await api.command(stella, name, **params)
        assert reply.body["response"] == comfort_off, name
    await command_ok(api, sim, "auto_conditioning_start")
    await command_ok(api, sim, "remote_steering_wheel_heat_level_request", level=2)
    await command_ok(
        api, sim, "remote_auto_steering_wheel_heat_climate_request", on=True
    )
    await command_ok(
        api,
        sim,
        "remote_auto_seat_climate_request",
        auto_seat_position=1,
        auto_climate_on=False,
    )
    climate = await state("climate_state")
    assert climate["steering_wheel_heat_level"] == 2
    assert climate["steering_wheel_heater"] is True
    assert climate["auto_steering_wheel_heat"] is True
    assert climate["auto_seat_climate_left"] is False
    assert climate["auto_seat_climate_right"] is True
    await command_ok(api, sim, "remote_steering_wheel_heater_request", on=False)
    assert (await state("climate_state"))["steering_wheel_heat_level"] == 0
    await command_ok(api, sim, "remote_steering_wheel_heat_level_request", level=3)
    await command_ok(api, sim, "auto_conditioning_stop")
    climate = await state("climate_state")
    assert (climate["steering_wheel_heat_level"], climate["steering_wheel_heater"]) == (
        0,
        False,
    )
    for name, params in (
        ("adjust_volume", {"volume": 12}),
        ("adjust_volume", {}),
        ("remote_boombox", {"sound": 1}),
        ("set_cop_temp", {"cop_temp": 3}),
        ("remote_steering_wheel_heat_level_request", {"level": 4}),
        (
            "remote_auto_seat_climate_request",
            {"auto_seat_position": 3, "auto_climate_on": True},
        ),
    ):
        assert (await api.command(stella, name, **params)).status == 400, name


async def test_cli_rest_commands(socket_enabled: None) -> None:
    """``python -m tesla_sim --rest-commands`` (e2e and the demo) builds the REST world."""
    assert parse_args([]).rest_commands is False
    server = await serve(parse_args(["--port", "0", "--rest-commands"]), io.StringIO())
    try:
        signing = {car.command_signing for car in server.world.vehicles.values()}
        assert signing == {"allowed"}
    finally:
        await server.stop()


async def test_users_me_needs_the_user_data_scope(sim: SimServer) -> None:
    """``users/me`` answers 403 to a token without ``user_data`` (REAL_CLOUD.md)."""
    scopes = "openid offline_access vehicle_device_data"
    without = await sim.issue_tokens("totp@example.com", scope=scopes)
    with_it = await sim.issue_tokens("totp@example.com", scope=scopes + " user_data")
    async with aiohttp.ClientSession() as session:
        for body, status in ((without, 403), (with_it, 200)):
            headers = {"Authorization": f"Bearer {body['access_token']}"}
            async with session.get(
                f"{sim.url}/api/1/users/me", headers=headers
            ) as resp:
                assert resp.status == status
