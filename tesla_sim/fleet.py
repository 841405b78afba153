"""The simulated Fleet API (``/api/1/*``), with the real envelope and status codes.

Served at the root (region ``na``) and under ``/eu`` and ``/cn`` (regions ``eu``, ``cn``); an
account whose region differs from the base it is called on gets 421 (``GET /api/1/users/region``
tells the right base). Command signing (``fleet_status``, ``signed_command`` and the refusal of
REST commands) lives in ``signing``.
"""

from collections.abc import Iterable, Mapping
import json
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from .commands import CHARGING_COMMANDS, CommandError
from .keys import WORLD
from .payloads import parse_endpoints, summary, vehicle_data
from .tokens import TokenError, TokenRecord
from .vehicles import Vehicle
from .world import Account, World

ASLEEP_ERROR = "vehicle unavailable: vehicle is offline or asleep"
SIGNING_ERROR = (
    "Tesla Vehicle Command Protocol required, please refer to the documentation here: "
    "https://developer.tesla.com/docs/fleet-api/endpoints/vehicle-commands"
)
PRECONDITION_ERROR = (
    "Account or app not registered in this region; register the partner account first"
)
REGION_PREFIXES = {"": "na", "/eu": "eu", "/cn": "cn"}


class ApiError(Exception):
    """An error answer in the Fleet API envelope."""

    def __init__(
        self,
        status: int,
        error: str,
        description: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``error`` goes to the body's ``error`` field."""
        super().__init__(error)
        self.status = status
        self.error = error
        self.description = description
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        """The JSON error response."""
        return web.json_response(
            {
                "response": None,
                "error": self.error,
                "error_description": self.description,
            },
            status=self.status,
            headers=self.headers,
        )


def envelope(
    response: Any, headers: Mapping[str, str] | None = None, **extra: Any
) -> web.Response:
    """``{"response": ...}`` (with ``headers``, e.g. the rate limit's)."""
    return web.json_response({"response": response, **extra}, headers=headers)


def served_region(request: web.Request) -> str:
    """Region of the base URL the request came in on."""
    for prefix, region in REGION_PREFIXES.items():
        if prefix and request.path.startswith(prefix + "/"):
            return region
    return "na"


def authenticate(
    request: web.Request, *, region_check: bool = True
) -> tuple[Account, TokenRecord]:
    """Bearer token -> account (401/412/421 otherwise)."""
    world = request.app[WORLD]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    try:
        record = world.tokens.check_access(token.strip())
    except TokenError as err:
        message = (
            "token expired (401)"
            if err.reason == "token expired"
            else "invalid bearer token"
        )
        raise ApiError(
            401,
            message,
            err.reason,
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    account = world.accounts[record.account_id]
    if not account.registered:
        raise ApiError(412, PRECONDITION_ERROR)
    if region_check and account.region != served_region(request):
        raise ApiError(
            421,
            f"user out of region, use base URL: {world.region_base_url(account.region)}",
        )
    return account, record


def find_car(request: web.Request, account: Account) -> Vehicle:
    """The account's car named in the path (404 otherwise)."""
    world = request.app[WORLD]
    car = world.find_vehicle(account, request.match_info["vehicle_id"])
    if car is None:
        raise ApiError(404, "not_found", "vehicle not found")
    return car


def rate_limit(world: World, car: Vehicle, category: str) -> dict[str, str]:
    """Count a request against the car's per-minute limit: its headers, or 429."""
    limit, remaining, retry = world.rate_limits.hit(car.vin, category, world.now())
    headers = {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(retry or 60),
    }
    if retry:
        headers["Retry-After"] = str(retry)
        raise ApiError(
            429, f"rate limit exceeded: retry in {retry} seconds", headers=headers
        )
    return headers


def require_scope(record: TokenRecord, *scopes: str) -> None:
    """403 unless the token has one of ``scopes``."""
    if not any(s in record.scopes for s in scopes):
        raise ApiError(403, "Unauthorized missing scopes", " ".join(scopes))


def require_online(car: Vehicle) -> None:
    """408 unless the car is online."""
    if not car.is_online:
        raise ApiError(408, ASLEEP_ERROR)


async def users_region(request: web.Request) -> web.Response:
    """GET /api/1/users/region."""
    world = request.app[WORLD]
    account, _ = authenticate(request, region_check=False)
    return envelope(
        {
            "region": account.region,
            "fleet_api_base_url": world.region_base_url(account.region),
        }
    )


async def users_me(request: web.Request) -> web.Response:
    """GET /api/1/users/me (needs the ``user_data`` scope, as on Tesla's Fleet API)."""
    account, record = authenticate(request)
    require_scope(record, "user_data")
    return envelope(
        {
            "email": account.email,
            "full_name": account.full_name,
            "profile_image_url": None,
            "vault_uuid": account.id,
        }
    )


async def vehicles(request: web.Request) -> web.Response:
    """GET /api/1/vehicles (sleep-state check; never wakes a car)."""
    world = request.app[WORLD]
    account, _ = authenticate(request)
    cars = [summary(car) for car in world.vehicles_of(account)]
    pagination = {
        "previous": None,
        "next": None,
        "current": 1,
        "per_page": max(len(cars), 1),
        "count": len(cars),
        "pages": 1,
    }
    return envelope(cars, pagination=pagination, count=len(cars))


async def products(request: web.Request) -> web.Response:
    """GET /api/1/products: the account's vehicles (the simulator has no energy sites)."""
    world = request.app[WORLD]
    account, _ = authenticate(request)
    items = [summary(car) for car in world.vehicles_of(account)]
    return envelope(items, count=len(items))


async def status(request: web.Request) -> web.Response:
    """GET /status: the API is up."""
    return web.Response(text="ok")


async def vehicle(request: web.Request) -> web.Response:
    """GET /api/1/vehicles/{id} (sleep-state check; never wakes the car)."""
    account, _ = authenticate(request)
    return envelope(summary(find_car(request, account)))


async def get_vehicle_data(request: web.Request) -> web.Response:
    """GET /api/1/vehicles/{id}/vehicle_data?endpoints=a;b (408 when not online)."""
    world = request.app[WORLD]
    account, record = authenticate(request)
    car = find_car(request, account)
    require_scope(record, "vehicle_device_data")
    headers = rate_limit(world, car, "data")
    retry = world.rate_limits.hit_daily(car.vin, world.now())
    if retry:
        raise ApiError(
            429,
            f"daily vehicle_data limit reached: retry in {retry} seconds",
            headers={"Retry-After": str(retry), "RateLimit-Reset": str(retry)},
        )
    require_online(car)
    now = world.now()
    car.touch_data(now)
    data = vehicle_data(
        car,
        now,
        parse_endpoints(request.query.get("endpoints")),
        location_allowed="vehicle_location" in record.scopes,
    )
    return envelope(data, headers)


async def wake_up(request: web.Request) -> web.Response:
    """POST /api/1/vehicles/{id}/wake_up: the car comes online a few seconds later."""
    world = request.app[WORLD]
    account, _ = authenticate(request)
    car = find_car(request, account)
    headers = rate_limit(world, car, "wake")
    car.wake_up(world.now(), world.rng)
    return envelope(summary(car), headers)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's parameters: a JSON object or a form (empty body: none); 400 otherwise."""
    raw = await request.read()
    if not raw.strip():
        return {}
    if request.content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        params = json.loads(raw)
    except ValueError:
        raise ApiError(400, "invalid_json", "the body is not JSON") from None
    if not isinstance(params, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    return params


async def accept_command(
    request: web.Request, car: Vehicle, record: TokenRecord, *scopes: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """A command for ``car``: one of ``scopes``, its body, the rate limit, the car online.

    Returns the body's parameters and the rate limit's headers.
    """
    require_scope(record, *scopes)
    params = await json_body(request)
    headers = rate_limit(request.app[WORLD], car, "command")
    require_online(car)
    return params, headers


async def command(request: web.Request) -> web.Response:
    """POST /api/1/vehicles/{id}/command/{name}."""
    world = request.app[WORLD]
    account, record = authenticate(request)
    car = find_car(request, account)
    name = request.match_info["command"]
    if car.requires_command_signing:  # unless World(rest_commands=True)
        raise ApiError(403, SIGNING_ERROR)
    scopes = ("vehicle_cmds", "vehicle_charging_cmds")
    params, headers = await accept_command(
        request, car, record, *(scopes if name in CHARGING_COMMANDS else scopes[:1])
    )
    try:
        result, reason = car.command(name, params, world.now())
    except CommandError as err:
        raise ApiError(400, "invalid_command", str(err)) from None
    return envelope({"result": result, "reason": reason}, headers)


type Route = tuple[str, str, Handler]
"""(method, path below a region's base URL, handler)."""

ROUTES: tuple[Route, ...] = (
    ("GET", "/status", status),
    ("GET", "/api/1/users/region", users_region),
    ("GET", "/api/1/users/me", users_me),
    ("GET", "/api/1/products", products),
    ("GET", "/api/1/vehicles", vehicles),
    ("GET", "/api/1/vehicles/{vehicle_id}", vehicle),
    ("GET", "/api/1/vehicles/{vehicle_id}/vehicle_data", get_vehicle_data),
    ("POST", "/api/1/vehicles/{vehicle_id}/wake_up", wake_up),
    ("POST", "/api/1/vehicles/{vehicle_id}/command/{command}", command),
)


def add_regional_routes(app: web.Application, routes: Iterable[Route]) -> None:
    """Serve ``routes`` under every region's base URL."""
    for prefix in REGION_PREFIXES:
        for method, path, handler in routes:
            app.router.add_route(method, prefix + path, handler)


def add_routes(app: web.Application) -> None:
    """Register the Fleet API under every region prefix."""
    add_regional_routes(app, ROUTES)
