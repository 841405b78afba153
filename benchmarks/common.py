"""Shared plumbing: a simulator, a signed-in API client, virtual time, the command line."""

import argparse
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
import json
from typing import Any

import aiohttp

from custom_components.tesla_resilient.api import (
    TeslaAuth,
    TeslaFleetClient,
    TokenManager,
    Tokens,
    VehicleSummary,
    code_challenge,
    make_code_verifier,
)
from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID, DEV_CLIENT_SECRET, DEV_REDIRECT_URIS

DAY_START = datetime(2025, 6, 2, tzinfo=UTC).timestamp()
"""Midnight (UTC) of the simulated day: a fixed date keeps runs reproducible."""
ACCOUNT_EMAIL = "nomfa@example.com"
"""The simulator's account without MFA (one Model 3, or N with ``vehicles_per_account``)."""
SECONDS_PER_MONTH_FACTOR = 30
"""A month is 30 standard days."""


@dataclass(slots=True)
class SimSession:
    """A running simulator with a signed-in Fleet API client on one account."""

    sim: SimServer
    session: aiohttp.ClientSession
    client: TeslaFleetClient
    tokens: TokenManager
    vehicles: list[VehicleSummary]

    @property
    def clock(self) -> Callable[[], float]:
        """The simulator's clock (virtual or real)."""
        return self.sim.world.now

    async def control(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> Any:
        """Call the simulator's control API (``/__sim__/...``) and return its JSON."""
        async with self.session.request(
            method, f"{self.sim.url}/__sim__/{path}", json=body
        ) as resp:
            resp.raise_for_status()
            return await resp.json()

    async def advance_to(self, when: float) -> float:
        """Move the virtual clock forward to ``when`` (never backwards)."""
        now = self.clock()
        if when > now:
            return float(
                (await self.control("POST", "clock", {"advance": when - now}))["now"]
            )
        return now

    async def script(self, vin: str, activity: str) -> None:
        """Script what the car does (``park``, ``drive``, ``charge``, ``climate``...)."""
        await self.control("POST", f"vehicles/{vin}", {"activity": activity})

    async def meter(self) -> dict[str, Any]:
        """The simulator's meter (``GET /__sim__/meter``)."""
        result: dict[str, Any] = await self.control("GET", "meter")
        return result

    async def reset_meter(self) -> None:
        """Forget what the meter counted so far (sign-in, set-up)."""
        await self.control("POST", "meter/reset")


async def _no_persist(_tokens: Tokens) -> None:
    """Benchmarks keep tokens in memory only."""


def dev_app_auth(
    session: aiohttp.ClientSession, sim: SimServer, *, secret: bool = True
) -> TeslaAuth:
    """The real client as the simulator's dev app: the simulator's sign-in server and
    fleet-auth token URL, the app's client id (and secret), the simulator's clock."""
    return TeslaAuth(
        session,
        auth_base=sim.url,
        token_url=sim.token_url,
        client_id=DEV_CLIENT_ID,
        client_secret=DEV_CLIENT_SECRET if secret else None,
        clock=sim.world.now,
    )


@asynccontextmanager
async def sim_session(
    *,
    virtual_clock: bool = True,
    start_time: float | None = DAY_START,
    latency: float = 0.0,
    **world_options: Any,
) -> AsyncIterator[SimSession]:
    """Start a simulator, sign in to its no-MFA account with the real client.

    The sign-in is the browser's: an authorization code of the simulator's dev app
    (as if the owner signed in on Tesla's page), exchanged with the app's secret at the
    fleet-auth token URL.
    """
    if virtual_clock and start_time is not None:
        world_options["start_time"] = start_time
    async with (
        SimServer(
            seed=1,
            virtual_clock=virtual_clock,
            latency=latency,
            rest_commands=True,
            **world_options,
        ) as sim,
        aiohttp.ClientSession() as session,
    ):
        auth = dev_app_auth(session, sim)
        verifier = make_code_verifier()
        redirect_uri = DEV_REDIRECT_URIS[0]
        code = await sim.authorization_code(
            ACCOUNT_EMAIL,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge(verifier),
        )
        tokens = await auth.exchange_code(code, verifier, redirect_uri)
        manager = TokenManager(
            auth, tokens, on_new_tokens=_no_persist, clock=sim.world.now
        )
        client = TeslaFleetClient(session, manager, base_url=sim.url)
        vehicles = await client.vehicles()
        yield SimSession(sim, session, client, manager, vehicles)


def hhmm(seconds: float) -> str:
    """``HH:MM`` of a time of day given in seconds since midnight."""
    minutes = round(seconds / 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def dump(result: Any) -> str:
    """Stable, readable JSON."""
    return json.dumps(result, indent=2, sort_keys=False)


def print_result(result: dict[str, Any], *, as_json: bool) -> int:
    """Print ``result``: as JSON, or a line per top-level key; the exit status (0)."""
    if as_json:
        print(dump(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


def bench_parser(
    name: str, doc: str, *, hours: bool = False, seeds: bool = False
) -> argparse.ArgumentParser:
    """The command line of ``bench NAME`` (described by ``doc``'s first line), ``--json``.

    ``hours``: also ``--hours H``, to run only the first hours of the day. ``seeds``:
    also ``--runs N`` and ``--seed S``, N runs with the seeds S, S+1, ... (the
    simulator's and the integration's random draws).
    """
    parser = argparse.ArgumentParser(
        prog=f"bench {name}", description=doc.split("\n", maxsplit=1)[0]
    )
    parser.add_argument("--json", action="store_true", help="print the JSON result")
    if hours:
        parser.add_argument(
            "--hours", type=float, default=24.0, help="run only the first hours"
        )
    if seeds:
        parser.add_argument(
            "--runs", type=int, default=1, help="runs, each with its own seed"
        )
        parser.add_argument("--seed", type=int, default=1, help="seed of the first run")
    return parser
