"""The simulator's aiohttp application and ``SimServer`` (start/stop it from tests).

Every non-control request goes through one middleware that, in order: brings the world up to
the clock, adds latency, applies an active fault, runs the handler and meters the answer.
"""

import asyncio
import contextlib
from types import TracebackType
from typing import Any, Self

from aiohttp import log as aiohttp_log, web
from aiohttp.typedefs import Handler

from . import auth, control, fleet, oauth, partners, signing, virtual_keys
from .apps import DEV_CLIENT_ID
from .ble import routes as ble_routes
from .faults import ACCOUNT_FAULTS, Fault
from .keys import WORLD
from .tokens import FLEET_AUTH_PREFIX, parse_scopes
from .world import (
    DEFAULT_ACCESS_LIFETIME,
    DEFAULT_SLEEP_AFTER,
    DEFAULT_WAKE_SECONDS,
    World,
)

CONTROL_PREFIX = "/__sim__"
HANG_POLL = 0.02
LATENCY: web.AppKey[float] = web.AppKey("tesla_sim_latency", float)
CLOSING: web.AppKey[asyncio.Event] = web.AppKey("tesla_sim_closing", asyncio.Event)
OUTAGE_ERRORS = {
    500: "upstream internal error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
    540: "system booting",
}


def _unprefixed(path: str) -> str:
    for prefix in fleet.REGION_PREFIXES:
        if prefix and path.startswith(prefix + "/"):
            return path[len(prefix) :]
    return path.removeprefix(FLEET_AUTH_PREFIX)


def classify(request: web.Request) -> tuple[str, str]:
    """(path template without the region prefix, meter category).

    A Fleet API path no route serves is ``data``: Tesla bills its 404 like any answer
    below 500.
    """
    resource = request.match_info.route.resource
    if resource is None:
        unknown_api = _unprefixed(request.path).startswith("/api/")
        return "(unmatched)", "data" if unknown_api else "other"
    template = _unprefixed(resource.canonical)
    if template.startswith("/oauth2/") or template == auth.CAPTCHA:
        return template, "auth"
    if template in ("/api/1/vehicles", "/api/1/vehicles/{vehicle_id}"):
        return template, "check"
    if template.endswith("/wake_up"):
        return template, "wake"
    if "/command/" in template or template.endswith("/signed_command"):
        return template, "command"
    if template.startswith("/api/1/users/"):
        return template, "account"
    if template.startswith("/api/"):
        return template, "data"
    return template, "other"


def _vin(world: World, request: web.Request) -> str | None:
    key = request.match_info.get("vehicle_id")
    if key is None:
        return None
    for car in world.vehicles.values():
        if key in (car.vin, str(car.id)):
            return car.vin
    return None


def _fault_error(
    status: int, error: str, headers: dict[str, str] | None = None
) -> web.Response:
    return fleet.ApiError(status, error, headers=headers).response()


async def _hang(request: web.Request, fault: Fault) -> web.Response:
    """Hold the request while the fault lasts (at most ``max_real_seconds`` of real time)."""
    world = request.app[WORLD]
    closing = request.app[CLOSING]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + fault.max_real_seconds
    while (
        loop.time() < deadline
        and not closing.is_set()
        and world.faults.is_current(fault, world.now())
    ):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closing.wait(), HANG_POLL)
    return _fault_error(504, "gateway timeout")


def _refuse(request: web.Request) -> web.Response:
    """Drop the connection without an answer (the client sees a disconnect)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise asyncio.CancelledError


@web.middleware
async def sim_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Latency, faults and metering for everything but the control API."""
    if request.path.startswith(CONTROL_PREFIX):
        return await handler(request)
    world = request.app[WORLD]
    now = world.tick()
    template, category = classify(request)
    vin = _vin(world, request)
    status = 0
    try:
        delay = request.app[LATENCY] + world.faults.extra_delay(request.path, now)
        if delay > 0:
            await asyncio.sleep(delay)
        response = await _serve(request, handler)
    except web.HTTPException as err:  # no route: 404 or 405, metered like any answer
        status = err.status
        raise
    else:
        status = response.status
        return response
    finally:
        world.meter.record(
            now=world.now(),
            method=request.method,
            path=template,
            status=status,
            category=category,
            vin=vin,
        )


async def _serve(request: web.Request, handler: Handler) -> web.StreamResponse:
    world = request.app[WORLD]
    now = world.now()
    fault = world.faults.blocking(request.path, now)
    if fault is not None:
        if fault.kind == "refuse":
            return _refuse(request)
        if fault.kind == "outage":
            return _fault_error(fault.status, OUTAGE_ERRORS.get(fault.status, "error"))
        if fault.kind in ACCOUNT_FAULTS:
            return _fault_error(*ACCOUNT_FAULTS[fault.kind])
        if fault.kind == "hang":
            return await _hang(request, fault)
        if fault.kind == "rate_limit":
            retry = str(fault.retry_after_s(now))
            headers = {
                "Retry-After": retry,
                "RateLimit-Limit": "60",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": retry,
            }
            return _fault_error(
                429, f"rate limit exceeded: retry in {retry} seconds", headers
            )
        # malformed: a 200 whose JSON body is cut short
        return web.Response(
            status=200,
            text='{"response":{"id":1234,"vin":"',
            content_type="application/json",
        )
    try:
        partners.gate(request)
        return await handler(request)
    except fleet.ApiError as err:
        return err.response()


def create_app(world: World, *, latency: float = 0.0) -> web.Application:
    """The simulator's application: sign-in, Fleet API and control API on one port."""
    app = web.Application(middlewares=[sim_middleware])
    app[WORLD] = world
    app[LATENCY] = latency
    app[CLOSING] = asyncio.Event()
    auth.add_routes(app)
    oauth.add_routes(app)
    fleet.add_routes(app)
    signing.add_routes(app)
    partners.add_routes(app)
    virtual_keys.add_routes(app)
    control.add_routes(app)
    ble_routes.add_routes(app)
    return app


class SimServer:
    """Run the simulator on a local port: ``async with SimServer(seed=1) as sim: sim.url``."""

    def __init__(
        self,
        *,
        seed: int = 1,
        virtual_clock: bool = False,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        vehicles_per_account: int | None = None,
        start_time: float | None = None,
        sleep_after: float = DEFAULT_SLEEP_AFTER,
        wake_seconds: float = DEFAULT_WAKE_SECONDS,
        access_token_lifetime: float = DEFAULT_ACCESS_LIFETIME,
        access_log: bool = False,
        rest_commands: bool = False,
        world: World | None = None,
        legacy_sign_in: bool = False,
        partner_registered: bool = True,
    ) -> None:
        """Build the world (or use ``world``) and the application; ``start`` serves it.

        ``latency`` (seconds) is added to every non-control request; ``access_log``
        logs every request through aiohttp's access logger; ``rest_commands``: every
        car takes plain REST commands (see ``World``). ``legacy_sign_in`` and
        ``partner_registered``: see :class:`World`.
        """
        self.world = world or World(
            seed,
            virtual_clock=virtual_clock,
            start_time=start_time,
            vehicles_per_account=vehicles_per_account,
            sleep_after=sleep_after,
            wake_seconds=wake_seconds,
            access_token_lifetime=access_token_lifetime,
            rest_commands=rest_commands,
            legacy_sign_in=legacy_sign_in,
            partner_registered=partner_registered,
        )
        self.host = host
        self.port = port
        self.latency = latency
        self.access_log = access_log
        self.app = create_app(self.world, latency=latency)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:8765``."""
        return self.world.base_url

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free one)."""
        runner = web.AppRunner(
            self.app,
            handler_cancellation=True,
            shutdown_timeout=2.0,
            access_log=aiohttp_log.access_logger if self.access_log else None,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.world.base_url = f"http://{host}:{self.port}"

    async def stop(self) -> None:
        """Stop listening and end hanging requests."""
        self.app[CLOSING].set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        """Start."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        await self.stop()

    @property
    def token_url(self) -> str:
        """The token endpoint of the simulated fleet-auth host."""
        return self.world.token_url

    async def issue_tokens(
        self, email: str, scope: str | None = None, client_id: str = DEV_CLIENT_ID
    ) -> dict[str, Any]:
        """Valid tokens for ``email`` without the sign-in dance (access, refresh,
        expires_in), issued to ``client_id`` (the dev app unless told)."""
        account = self.world.account_by_email(email)
        if account is None:
            raise KeyError(email)
        return self.world.tokens.issue(
            account, scopes=parse_scopes(scope), client_id=client_id
        )

    async def authorization_code(
        self,
        email: str,
        *,
        redirect_uri: str,
        code_challenge: str | None = None,
        client_id: str = DEV_CLIENT_ID,
        scope: str | None = None,
    ) -> str:
        """An authorization code for ``email`` (as if the user signed in in a browser)."""
        account = self.world.account_by_email(email)
        if account is None:
            raise KeyError(email)
        return self.world.sso.code_for(
            account,
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            scope=scope,
        )
