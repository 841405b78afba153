"""A second client as a check: ``tesla-fleet-api`` (the library HA core's ``tesla_fleet`` uses)
pointed at ``tesla_sim`` over loopback (helpers of the ``test_conformance_*`` modules).

The library has Tesla's host names written in: the token URL
(``https://fleet-auth.prd.vn.cloud.tesla.com/oauth2/v3/token``) and the regional servers of
``tesla_fleet_api.const.SERVERS``. :class:`SimSession` sends what the library asks of those
hosts to the simulator instead (the NA base is the simulator's root, the others a path
prefix, as ``World.region_base_url`` says), so the library runs unchanged.

The library's errors derive from ``BaseException``: tests catch them with
``pytest.raises(<error class>)``, never with ``except Exception``.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

import aiohttp
import pytest
from tesla_fleet_api import TeslaFleetApi
from tesla_fleet_api.const import SERVERS

from tesla_sim import SimServer

TOKEN_HOST = "fleet-auth.prd.vn.cloud.tesla.com"
"""Where the library posts every token request (code, refresh, client credentials)."""

DEV_CLIENT_ID = "tesla-resilient-dev"
DEV_CLIENT_SECRET = "dev-secret"
"""The developer app the default world registers (issue 10, shared decision 1:
``tesla_sim.apps.DEV_CLIENT_ID`` / ``DEV_CLIENT_SECRET`` once that module exists)."""


def sim_gap(gap: str) -> pytest.MarkDecorator:
    """``xfail(strict=True, reason="issue 10: <gap>")``: a simulator gap another issue 10
    branch is closing. Strict, so the merge that closes it fails the test until the mark
    goes."""
    return pytest.mark.xfail(strict=True, reason=f"issue 10: {gap}")


def sim_base(sim: SimServer, region: str) -> str:
    """The simulator's Fleet API base URL of ``region``."""
    return sim.world.region_base_url(region)


@dataclass(frozen=True, slots=True)
class Sent:
    """A request the library made: method, URL (after the rewrite), form data, JSON body."""

    method: str
    url: str
    data: Any
    json: Any


class SimSession:
    """An ``aiohttp`` session whose requests to Tesla's hosts go to the simulator.

    Only the three methods the library calls (``request``, ``get``, ``post``) exist; pass it
    to the library through :meth:`as_client_session`.
    """

    def __init__(self, session: aiohttp.ClientSession, sim: SimServer) -> None:
        """Send to ``sim`` what the library addresses to Tesla."""
        self.session = session
        self.sim = sim
        self.sent: list[Sent] = []
        """Every request, after the rewrite (tests read what the library sent where)."""

    def local(self, url: str) -> str:
        """``url`` with Tesla's token or regional host replaced by the simulator's base."""
        bases = {f"https://{TOKEN_HOST}": self.sim.url} | {
            server: sim_base(self.sim, region) for region, server in SERVERS.items()
        }
        for tesla, base in bases.items():
            if url.startswith(tesla + "/"):
                return base + url[len(tesla) :]
        return url

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        """``ClientSession.request`` with the URL rewritten."""
        local = self.local(url)
        self.sent.append(Sent(method, local, kwargs.get("data"), kwargs.get("json")))
        return self.session.request(method, local, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        """``ClientSession.get`` with the URL rewritten."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        """``ClientSession.post`` with the URL rewritten."""
        return self.request("POST", url, **kwargs)

    def as_client_session(self) -> aiohttp.ClientSession:
        """This object typed as what the library's constructors want."""
        return cast("aiohttp.ClientSession", self)


@asynccontextmanager
async def sim_session(sim: SimServer) -> AsyncIterator[SimSession]:
    """A :class:`SimSession` on a fresh ``aiohttp`` session, closed on exit."""
    async with aiohttp.ClientSession() as session:
        yield SimSession(session, sim)


@pytest.fixture(name="session")
async def session_fixture(sim: SimServer) -> AsyncIterator[SimSession]:
    """Fixture ``session``: a :class:`SimSession` on the ``sim`` fixture's simulator (a
    test module imports ``session_fixture`` to use it)."""
    async with sim_session(sim) as session:
        yield session


def fleet_tokens(
    sim: SimServer, email: str, *, client_id: str = DEV_CLIENT_ID
) -> dict[str, Any]:
    """Tokens for ``email`` issued to ``client_id`` (the dev app unless told otherwise)."""
    account = sim.world.account_by_email(email)
    assert account is not None, email
    return sim.world.tokens.issue(account, client_id=client_id)


def fleet_api(
    session: SimSession, access_token: str, *, region: str = "na"
) -> TeslaFleetApi:
    """The library's Fleet API client on the simulator's ``region`` base, as HA core builds it."""
    return TeslaFleetApi(
        session=session.as_client_session(),
        access_token=access_token,
        server=sim_base(session.sim, region),
    )
