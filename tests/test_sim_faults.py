"""tesla_sim fault injection: every kind, windows on the sim clock, never on control paths."""

import asyncio
from collections.abc import AsyncIterator
import json
from typing import Any

import aiohttp
import pytest

from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID
from tests.sim_fixtures import bearer


@pytest.fixture
async def vsim(socket_enabled: None) -> AsyncIterator[SimServer]:
    async with SimServer(seed=1, virtual_clock=True) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def add_fault(
    session: aiohttp.ClientSession, sim: SimServer, **spec: Any
) -> dict[str, Any]:
    async with session.post(sim.url + "/__sim__/faults", json=spec) as r:
        assert r.status == 200, await r.text()
        body: dict[str, Any] = await r.json()
        return body


async def status_of(
    session: aiohttp.ClientSession, sim: SimServer, path: str, token: str
) -> int:
    async with session.get(sim.url + path, headers=bearer(token)) as r:
        return r.status


async def test_outage_windows_and_paths(
    vsim: SimServer, session: aiohttp.ClientSession
) -> None:
    token = (await vsim.issue_tokens("nomfa@example.com"))["access_token"]
    await add_fault(session, vsim, kind="outage", seconds=60)
    async with session.get(vsim.url + "/api/1/vehicles", headers=bearer(token)) as r:
        assert r.status == 503
        assert (await r.json())["response"] is None
    assert await status_of(session, vsim, "/oauth2/v3/authorize", token) == 503
    async with session.get(vsim.url + "/__sim__/state") as r:
        assert r.status == 200  # control paths are never faulted
    vsim.world.advance(61)
    assert await status_of(session, vsim, "/api/1/vehicles", token) == 200
    # only some paths, another status, starting later
    await add_fault(
        session, vsim, kind="outage", seconds=60, paths=["/api/1/users"], status=540
    )
    assert await status_of(session, vsim, "/api/1/users/me", token) == 540
    assert await status_of(session, vsim, "/api/1/vehicles", token) == 200
    await add_fault(session, vsim, kind="outage", seconds=10, start_in=100)
    assert await status_of(session, vsim, "/api/1/vehicles", token) == 200
    vsim.world.advance(100)
    assert await status_of(session, vsim, "/api/1/vehicles", token) == 503
    async with session.get(vsim.url + "/__sim__/faults") as r:
        listed = (await r.json())["faults"]
    # the expired /api/1/users outage is gone
    assert [(f["kind"], f["active"], f["paths"]) for f in listed] == [
        ("outage", True, [])
    ]
    async with session.delete(vsim.url + "/__sim__/faults") as r:
        assert (await r.json())["removed"] == 1
    assert await status_of(session, vsim, "/api/1/vehicles", token) == 200
    meter = vsim.world.meter
    assert meter.statuses[503] == 3
    assert meter.requests["check"] == 6
    assert meter.billed["check"] == 4  # 5xx are not billed
    async with session.post(vsim.url + "/__sim__/faults", json={"kind": "nope"}) as r:
        assert r.status == 400


async def test_hang_until_the_window_ends(
    vsim: SimServer, session: aiohttp.ClientSession
) -> None:
    token = (await vsim.issue_tokens("nomfa@example.com"))["access_token"]
    await add_fault(session, vsim, kind="hang", seconds=30)
    task = asyncio.create_task(status_of(session, vsim, "/api/1/vehicles", token))
    await asyncio.sleep(0.1)
    assert not task.done()
    vsim.world.advance(31)
    assert await asyncio.wait_for(task, 5) == 504
    # a client timeout sees nothing at all
    await add_fault(session, vsim, kind="hang")
    with pytest.raises(TimeoutError):
        async with session.get(
            vsim.url + "/api/1/vehicles",
            headers=bearer(token),
            timeout=aiohttp.ClientTimeout(total=0.2),
        ):
            pass
    # clearing the faults releases waiting requests
    task = asyncio.create_task(status_of(session, vsim, "/api/1/vehicles", token))
    await asyncio.sleep(0.1)
    async with session.delete(
        vsim.url + "/__sim__/faults", params={"kind": "hang"}
    ) as r:
        assert (await r.json())["removed"] == 1
    assert await asyncio.wait_for(task, 5) == 504
    # the real-time cap
    await add_fault(session, vsim, kind="hang", max_real_seconds=0.05)
    assert await status_of(session, vsim, "/api/1/vehicles", token) == 504


async def test_hang_ends_when_the_server_stops(socket_enabled: None) -> None:
    sim = SimServer(seed=1)
    await sim.start()
    token = (await sim.issue_tokens("nomfa@example.com"))["access_token"]
    async with aiohttp.ClientSession() as session:
        await add_fault(session, sim, kind="hang")
        task = asyncio.create_task(status_of(session, sim, "/api/1/vehicles", token))
        await asyncio.sleep(0.1)
        await sim.stop()
        result = await asyncio.gather(task, return_exceptions=True)
    assert result[0] == 504 or isinstance(result[0], aiohttp.ClientError)
    await sim.stop()  # stopping twice is harmless


async def test_slow_rate_limit_malformed_refuse(
    vsim: SimServer, session: aiohttp.ClientSession
) -> None:
    token = (await vsim.issue_tokens("nomfa@example.com"))["access_token"]
    await add_fault(session, vsim, kind="slow", seconds=60, delay=0.01)
    assert await status_of(session, vsim, "/api/1/vehicles", token) == 200
    async with session.delete(vsim.url + "/__sim__/faults") as r:
        assert r.status == 200
    await add_fault(session, vsim, kind="rate_limit", seconds=45)
    async with session.get(vsim.url + "/api/1/vehicles", headers=bearer(token)) as r:
        assert r.status == 429
        assert r.headers["Retry-After"] == "45"
        assert r.headers["RateLimit-Remaining"] == "0"
    vsim.world.advance(45)
    await add_fault(session, vsim, kind="malformed", seconds=10)
    async with session.get(vsim.url + "/api/1/vehicles", headers=bearer(token)) as r:
        assert r.status == 200
        text = await r.text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    vsim.world.advance(10)
    await add_fault(session, vsim, kind="refuse", seconds=10)
    with pytest.raises(aiohttp.ClientConnectionError):
        async with session.get(vsim.url + "/api/1/vehicles", headers=bearer(token)):
            pass
    assert vsim.world.meter.statuses[0] >= 1
    vsim.world.advance(10)
    assert await status_of(session, vsim, "/api/1/vehicles", token) == 200


async def test_revoke_token(vsim: SimServer, session: aiohttp.ClientSession) -> None:
    nomfa = await vsim.issue_tokens("nomfa@example.com")
    totp = await vsim.issue_tokens("totp@example.com")
    body = await add_fault(
        session, vsim, kind="revoke_token", email="NoMFA@example.com"
    )
    assert body["revoked"] == ["nomfa@example.com"]
    assert (
        await status_of(session, vsim, "/api/1/vehicles", nomfa["access_token"]) == 401
    )
    assert (
        await status_of(session, vsim, "/api/1/vehicles", totp["access_token"]) == 200
    )
    async with session.post(
        vsim.url + "/oauth2/v3/token",
        data={
            "grant_type": "refresh_token",
            "client_id": DEV_CLIENT_ID,
            "refresh_token": nomfa["refresh_token"],
        },
    ) as r:
        assert r.status == 401
        assert (await r.json())["error"] == "invalid_grant"
    fresh = await vsim.issue_tokens("nomfa@example.com")
    assert (
        await status_of(session, vsim, "/api/1/vehicles", fresh["access_token"]) == 200
    )
    body = await add_fault(session, vsim, kind="revoke_token")
    assert len(body["revoked"]) == 4
    assert (
        await status_of(session, vsim, "/api/1/vehicles", totp["access_token"]) == 401
    )
    async with session.post(
        vsim.url + "/__sim__/faults", json={"kind": "revoke_token", "email": "x@y.z"}
    ) as r:
        assert r.status == 404
