"""tesla_sim: account faults (402, 423, 451, 500), the daily vehicle_data cap, sleeping cars
that report offline, and what the meter bills for unknown routes."""

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tesla_sim import SimServer, World
from tests.test_sim_fleet import Api, car_of

DAY = 86400.0


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def serve(world: World) -> AsyncIterator[SimServer]:
    async with SimServer(world=world) as server:
        yield server


async def api_for(
    server: SimServer, session: aiohttp.ClientSession, email: str = "totp@example.com"
) -> Api:
    tokens = await server.issue_tokens(email)
    return Api(session, server, tokens["access_token"])


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("billing", 402, "payment required: the developer account has no credit left"),
        ("account_locked", 423, "account locked"),
        ("legal", 451, "unavailable for legal reasons"),
    ],
)
async def test_account_faults(
    sim: SimServer,
    session: aiohttp.ClientSession,
    kind: str,
    status: int,
    error: str,
) -> None:
    api = await api_for(sim, session)
    async with session.post(
        sim.url + "/__sim__/faults", json={"kind": kind, "paths": ["/api/1/vehicles"]}
    ) as r:
        assert r.status == 200, await r.text()
    reply = await api.get("/api/1/vehicles")
    assert (reply.status, reply.body["error"]) == (status, error)
    assert (await api.get("/api/1/users/me")).status == 200
    assert sim.world.meter.billed["check"] == 1  # below 500: billed


async def test_outage_500_is_upstream_internal_error(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    api = await api_for(sim, session)
    sim.world.faults.add(
        sim.world.faults.parse({"kind": "outage", "status": 500}, sim.world.now())
    )
    reply = await api.get("/api/1/vehicles")
    assert (reply.status, reply.body["error"]) == (500, "upstream internal error")
    assert sim.world.meter.billed["check"] == 0


async def test_daily_vehicle_data_cap(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    world = World(
        1, virtual_clock=True, start_time=DAY * 20000 + 3600, vehicle_data_daily_cap=2
    )
    async for server in serve(world):
        api = await api_for(server, session)
        stella = car_of(server, "totp@example.com")
        yara = car_of(server, "totp@example.com", 1)
        assert (await api.data(stella)).status == 200
        assert (await api.data(stella)).status == 200
        reply = await api.data(stella)
        assert reply.status == 429
        assert reply.headers["Retry-After"] == str(int(DAY - 3600))
        assert reply.body["error"].startswith("daily vehicle_data limit reached")
        assert (await api.data(yara)).status == 200  # per car
        world.advance(DAY - 3600)  # the next UTC day
        stella.force_online(world.now())
        api = await api_for(server, session)  # the old token has expired
        assert (await api.data(stella)).status == 200
        world.rate_limits.clear()
        assert (await api.data(stella)).status == 200


async def test_default_world_has_no_daily_cap(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    api = await api_for(sim, session)
    stella = car_of(sim, "totp@example.com")
    for _ in range(5):
        assert (await api.data(stella)).status == 200
    assert sim.world.rate_limits.hit_daily(stella.vin, sim.world.now()) == 0


async def test_asleep_reports_offline(
    socket_enabled: None, session: aiohttp.ClientSession
) -> None:
    world = World(1, virtual_clock=True, asleep_reports_offline=True)
    async for server in serve(world):
        api = await api_for(server, session)
        stella = car_of(server, "totp@example.com")
        assert (await api.get(f"/api/1/vehicles/{stella.id}")).body["response"][
            "state"
        ] == "online"
        world.advance(901)
        item = (await api.get(f"/api/1/vehicles/{stella.id}")).body["response"]
        assert item["state"] == "offline"
        assert (await api.data(stella)).status == 408
        woken = (await api.post(f"/api/1/vehicles/{stella.id}/wake_up")).body
        assert woken["response"]["state"] == "offline"  # still waking
        world.advance(10)
        assert (await api.data(stella)).status == 200


async def test_default_world_reports_asleep(sim_virtual: SimServer) -> None:
    stella = car_of(sim_virtual, "totp@example.com")
    sim_virtual.world.advance(901)
    assert stella.reported_state == "asleep"


async def meter_of(session: aiohttp.ClientSession, sim: SimServer) -> dict[str, Any]:
    async with session.get(sim.url + "/__sim__/meter?log=5") as r:
        body: dict[str, Any] = await r.json()
        return body


async def test_unknown_routes_are_billed(
    sim: SimServer, session: aiohttp.ClientSession
) -> None:
    api = await api_for(sim, session)
    assert (await api.get("/api/1/no_such_thing")).status == 404
    assert (await api.get("/eu/api/1/vehicles/1/nope")).status == 404
    assert (await api.post("/api/1/products")).status == 405
    async with session.get(sim.url + "/nothing") as r:
        assert r.status == 404
    meter = await meter_of(session, sim)
    assert [(e["path"], e["status"], e["category"]) for e in meter["log"]] == [
        ("(unmatched)", 404, "data"),
        ("(unmatched)", 404, "data"),
        ("(unmatched)", 405, "data"),
        ("(unmatched)", 404, "other"),
    ]
    assert meter["billed"]["data"] == 3
    assert meter["usd"] == pytest.approx(3 * 0.002)
