"""tesla_sim control API, meter over HTTP, and the command line."""

from collections.abc import AsyncIterator
import io
import subprocess
import sys
from typing import Any

import aiohttp
import pytest

from tesla_sim import SimServer
from tesla_sim.__main__ import banner, parse_args, serve
from tests.sim_fixtures import bearer


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def call(
    session: aiohttp.ClientSession, method: str, url: str, body: Any = None, **kw: Any
) -> tuple[int, Any]:
    async with session.request(method, url, json=body, **kw) as r:
        return r.status, await r.json()


async def test_state(sim: SimServer, session: aiohttp.ClientSession) -> None:
    status, state = await call(session, "GET", sim.url + "/__sim__/state")
    assert status == 200
    assert state["url"] == sim.url
    totp = next(a for a in state["accounts"] if a["email"] == "totp@example.com")
    assert totp["password"] == "totp-Secret1"
    assert [f["name"] for f in totp["mfa"]] == ["Pixel 8"]
    assert set(totp["mfa"][0]) == {"factor_id", "name", "secret"}
    vehicle = state["vehicles"][0]
    assert {"id", "vin", "state", "config", "activity"} <= set(vehicle)
    assert vehicle["state"] == "online"


async def test_meter_categories_and_cost(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    token = (await sim.issue_tokens("nomfa@example.com"))["access_token"]
    car = sim.world.vehicles[sim.world.accounts[next(iter(sim.world.accounts))].vins[0]]
    base = sim.url + "/api/1"
    h = bearer(token)
    await call(session, "GET", f"{base}/vehicles", headers=h)
    await call(session, "GET", f"{base}/vehicles/{car.id}", headers=h)
    await call(session, "GET", f"{base}/vehicles/{car.id}/vehicle_data", headers=h)
    await call(
        session, "POST", f"{base}/vehicles/{car.id}/command/door_lock", headers=h
    )
    await call(session, "POST", f"{base}/vehicles/{car.id}/wake_up", headers=h)
    await call(session, "GET", f"{base}/users/me", headers=h)
    await call(session, "POST", sim.url + "/oauth2/v3/token", {"grant_type": "x"})
    async with session.get(sim.url + "/nothing/here") as r:
        assert r.status == 404
    status, meter = await call(session, "GET", sim.url + "/__sim__/meter?log=3")
    assert status == 200
    assert meter["categories"] == {
        "data": 1,
        "check": 2,
        "command": 1,
        "wake": 1,
        "account": 1,
        "auth": 1,
        "other": 1,
    }
    assert meter["endpoints"]["GET /api/1/vehicles/{vehicle_id}/vehicle_data"] == 1
    assert (
        meter["endpoints"]["POST /api/1/vehicles/{vehicle_id}/command/{command}"] == 1
    )
    assert meter["usd"] == pytest.approx(0.002 * 2 + 0.002 + 0.001 + 0.02 + 0.002)
    assert meter["usd_checks_free"] == pytest.approx(0.002 + 0.001 + 0.02 + 0.002)
    per_car = meter["vehicles"][car.vin]
    assert per_car["requests"] == {"data": 1, "check": 1, "command": 1, "wake": 1}
    assert len(meter["log"]) == 3
    assert meter["log"][-1]["path"] == "(unmatched)"
    assert (await call(session, "GET", sim.url + "/__sim__/meter?log=x"))[0] == 400
    status, meter = await call(session, "POST", sim.url + "/__sim__/meter/reset")
    assert meter["total"] == 0
    assert (await call(session, "GET", sim.url + "/__sim__/meter"))[1]["total"] == 0


async def test_script_vehicles(sim: SimServer, session: aiohttp.ClientSession) -> None:
    vin = next(iter(sim.world.vehicles))
    url = f"{sim.url}/__sim__/vehicles/{vin}"
    status, view = await call(session, "POST", url, {"activity": "drive"})
    assert (status, view["activity"], view["state"]) == (200, "drive", "online")
    status, view = await call(session, "POST", url, {"activity": "sleep"})
    assert (view["state"], view["activity"]) == ("asleep", "park")
    status, view = await call(
        session,
        "POST",
        url,
        {
            "activity": "wake",
            "requires_command_signing": True,
            "in_service": True,
            "locked": False,
            "battery_level": 150,
            "latitude": 52.5,
            "longitude": 13.4,
            "outside_temp": -3,
        },
    )
    assert view["state"] == "online"
    assert view["requires_command_signing"] is True
    assert view["in_service"] is True
    assert view["locked"] is False
    assert view["battery_level"] == 100
    assert (view["latitude"], view["longitude"]) == (52.5, 13.4)
    assert sim.world.vehicles[vin].outside_temp == -3
    for bad in (
        {"activity": "fly"},
        {"locked": "yes"},
        {"battery_level": True},
        {"latitude": "north"},
    ):
        assert (await call(session, "POST", url, bad))[0] == 400
    async with session.post(url, data="[") as r:
        assert r.status == 400
    async with session.post(url) as r:
        assert r.status == 200  # empty body: nothing changes
    assert (await call(session, "POST", f"{sim.url}/__sim__/vehicles/NOPE", {}))[
        0
    ] == 404


async def test_script_accounts(sim: SimServer, session: aiohttp.ClientSession) -> None:
    url = f"{sim.url}/__sim__/accounts/totp@example.com"
    status, view = await call(
        session,
        "POST",
        url,
        {"locked": True, "captcha": True, "registered": False, "region": "eu"},
    )
    assert status == 200
    assert (view["locked"], view["captcha"], view["registered"], view["region"]) == (
        True,
        True,
        False,
        "eu",
    )
    for bad in ({"locked": 1}, {"region": "mars"}, [1]):
        assert (await call(session, "POST", url, bad))[0] == 400
    assert (await call(session, "POST", f"{sim.url}/__sim__/accounts/x@y.z", {}))[
        0
    ] == 404


async def test_clock_and_reset(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    async with SimServer(seed=1) as real:
        status, body = await call(session, "GET", real.url + "/__sim__/clock")
        assert (status, body["virtual"]) == (200, False)
        assert (
            await call(session, "POST", real.url + "/__sim__/clock", {"advance": 5})
        )[0] == 409
    async with SimServer(seed=1, virtual_clock=True, start_time=1000.0) as sim:
        url = sim.url + "/__sim__/clock"
        assert (await call(session, "POST", url, {"advance": 60}))[1]["now"] == 1060
        assert (await call(session, "POST", url, {"to": 2000}))[1]["now"] == 2000
        for bad in ({"advance": -1}, {"advance": "x"}, {"to": True}, {"to": 10}, [1]):
            assert (await call(session, "POST", url, bad))[0] == 400
        assert sim.world.now() == 2000
        vin = next(iter(sim.world.vehicles))
        await call(
            session, "POST", f"{sim.url}/__sim__/vehicles/{vin}", {"activity": "drive"}
        )
        await call(session, "POST", sim.url + "/__sim__/faults", {"kind": "outage"})
        status, state = await call(session, "POST", sim.url + "/__sim__/reset")
        assert status == 200
        assert state["vehicles"][0]["activity"] == "park"
        assert len(sim.world.faults) == 0
        assert state["now"] == 2000  # the clock keeps its time


def test_cli_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tesla_sim", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for option in (
        "--host",
        "--port",
        "--seed",
        "--virtual-clock",
        "--latency-ms",
        "--vehicles",
    ):
        assert option in result.stdout
    assert "/__sim__/faults" in result.stdout


def test_cli_arguments() -> None:
    args = parse_args(
        ["--port", "0", "--seed", "7", "--virtual-clock", "--latency-ms", "150"]
    )
    assert (args.port, args.seed, args.virtual_clock, args.latency_ms) == (
        0,
        7,
        True,
        150,
    )
    for bad in (["--vehicles", "-1"], ["--latency-ms", "-5"], ["--port", "x"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


async def test_cli_serve_prints_accounts(socket_enabled: None) -> None:
    out = io.StringIO()
    args = parse_args(
        [
            "--port",
            "0",
            "--virtual-clock",
            "--vehicles",
            "3",
            "--latency-ms",
            "1",
            "--access-log",
        ]
    )
    assert args.access_log
    server = await serve(args, out)
    try:
        text = out.getvalue()
        assert server.url in text
        assert "nomfa@example.com" in text
        secret = server.world.accounts[next(iter(server.world.accounts))]
        assert secret.email in text
        multi = server.world.account_by_email("multi@example.com")
        assert multi is not None
        for factor in multi.mfa:
            assert factor.secret in text
            assert factor.name in text
        assert "pyotp.TOTP" in text
        assert text.count("(Model 3)") == 4
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.url + "/api/1/vehicles") as r,
        ):
            assert r.status == 401
    finally:
        await server.stop()
    out = io.StringIO()
    banner(server.world, out)
    assert "virtual clock" in out.getvalue()
