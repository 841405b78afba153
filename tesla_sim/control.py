"""The control API (``/__sim__/*``): inspect and script the world. Never faulted or metered."""

import json
import math
from typing import Any, TypeIs

from aiohttp import web

from .apps import DEV_CLIENT_ID, LEGACY_CLIENT_ID, App
from .faults import FaultError
from .keys import WORLD
from .tokens import parse_scopes
from .vcp import DOMAIN_NAMES, DOMAINS
from .virtual_keys import NoAppForDomain, approve_for_domain
from .world import REGIONS, Account, World

ACTIVITIES = ("park", "drive", "charge", "climate", "sleep", "wake", "offline")


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json(request: web.Request) -> Any:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return None


async def _object(request: web.Request) -> dict[str, Any] | web.Response:
    """The body as a JSON object, or the 400 to answer."""
    body = await _json(request)
    if not isinstance(body, dict):
        return _bad("body must be a JSON object")
    return body


async def _account_body(
    request: web.Request,
) -> tuple[Account, dict[str, Any]] | web.Response:
    """A JSON object naming an account by ``email``, and that account; or the error."""
    body = await _json(request)
    if not isinstance(body, dict) or not isinstance(body.get("email"), str):
        return _bad("email is required")
    account = request.app[WORLD].account_by_email(body["email"])
    if account is None:
        return _bad("unknown account", 404)
    return account, body


def _is_number(value: Any) -> TypeIs[int | float]:
    """An int or a float, not a bool."""
    return not isinstance(value, bool) and isinstance(value, int | float)


def _wrong_type(
    body: dict[str, Any], booleans: tuple[str, ...], numbers: tuple[str, ...] = ()
) -> web.Response | None:
    """The 400 for the first of ``booleans`` or ``numbers`` in ``body`` of another type."""
    for key in booleans:
        if key in body and not isinstance(body[key], bool):
            return _bad(f"{key} must be a boolean")
    for key in numbers:
        if key in body and not _is_number(body[key]):
            return _bad(f"{key} must be a number")
    return None


async def state(request: web.Request) -> web.Response:
    """GET /__sim__/state."""
    return web.json_response(request.app[WORLD].state())


async def meter(request: web.Request) -> web.Response:
    """GET /__sim__/meter[?log=N]."""
    world = request.app[WORLD]
    world.tick()
    try:
        log = int(request.query.get("log", "0"))
    except ValueError:
        return _bad("log must be an integer")
    return web.json_response(world.meter.as_dict(log=log))


async def meter_reset(request: web.Request) -> web.Response:
    """POST /__sim__/meter/reset."""
    world = request.app[WORLD]
    world.meter.reset(world.tick())
    return web.json_response(world.meter.as_dict())


async def faults_list(request: web.Request) -> web.Response:
    """GET /__sim__/faults."""
    world = request.app[WORLD]
    now = world.now()
    return web.json_response(
        {
            "now": now,
            "faults": [f.as_dict() | {"active": f.active(now)} for f in world.faults],
        }
    )


async def faults_add(request: web.Request) -> web.Response:
    """POST /__sim__/faults {"kind", "seconds", "paths", "status", ...}."""
    world = request.app[WORLD]
    body = await _json(request)
    try:
        fault = world.faults.parse(body, world.now())
    except FaultError as err:
        return _bad(str(err))
    revoked: list[str] = []
    if fault.kind == "revoke_token":
        for account in world.accounts.values():
            if fault.email is None or account.email == fault.email.strip().lower():
                world.tokens.revoke(account)
                revoked.append(account.email)
        if not revoked:
            return _bad("no such account", 404)
        return web.json_response({"fault": fault.as_dict(), "revoked": revoked})
    world.faults.add(fault)
    return web.json_response({"fault": fault.as_dict()})


async def faults_clear(request: web.Request) -> web.Response:
    """DELETE /__sim__/faults[?kind=...]."""
    removed = request.app[WORLD].faults.clear(request.query.get("kind"))
    return web.json_response({"removed": removed})


async def _vehicle_body(
    request: web.Request,
) -> tuple[World, str, dict[str, Any]] | web.Response:
    """The world, the path's VIN and the body's object, or the 404/400 to answer."""
    world = request.app[WORLD]
    vin = request.match_info["vin"]
    if vin not in world.vehicles:
        return _bad("unknown vehicle", 404)
    body = await _object(request)
    if isinstance(body, web.Response):
        return body
    return world, vin, body


def _vehicle_view(world: World, vin: str) -> dict[str, Any]:
    for item in world.state()["vehicles"]:
        if item["vin"] == vin:
            return dict(item)
    raise KeyError(vin)  # pragma: no cover - callers check the VIN first


async def vehicle_script(request: web.Request) -> web.Response:
    """POST /__sim__/vehicles/{vin} {"activity", "requires_command_signing", "in_service",
    "battery_level", "latitude", "longitude", "locked", "outside_temp", "remote_access"}."""
    found = await _vehicle_body(request)
    if isinstance(found, web.Response):
        return found
    world, vin, body = found
    car = world.vehicle(vin)
    now = world.now()
    activity = body.get("activity")
    if activity is not None and activity not in ACTIVITIES:
        return _bad(f"activity must be one of {', '.join(ACTIVITIES)}")
    wrong = _wrong_type(
        body,
        ("requires_command_signing", "in_service", "locked", "remote_access"),
        ("battery_level", "latitude", "longitude", "outside_temp"),
    )
    if wrong is not None:
        return wrong
    if activity is not None:
        car.set_activity(activity, now)
    if "requires_command_signing" in body:
        car.requires_command_signing = body["requires_command_signing"]
    if "in_service" in body:
        car.in_service = body["in_service"]
    if "locked" in body:
        car.locked = body["locked"]
    if "remote_access" in body:
        car.remote_access = body["remote_access"]
    if "battery_level" in body:
        level = max(0.0, min(100.0, float(body["battery_level"])))
        car.energy_kwh = car.config.battery_kwh * level / 100.0
    if "latitude" in body or "longitude" in body:
        car.set_location(
            float(body.get("latitude", car.latitude)),
            float(body.get("longitude", car.longitude)),
        )
    if "outside_temp" in body:
        car.outside_temp = float(body["outside_temp"])
    return web.json_response(_vehicle_view(world, vin))


async def vehicle_reboot(request: web.Request) -> web.Response:
    """POST /__sim__/vehicles/{vin}/reboot {"domain": "vcsec" | "infotainment"}: new epochs.

    Without a domain both reboot.
    """
    found = await _vehicle_body(request)
    if isinstance(found, web.Response):
        return found
    world, vin, body = found
    name = body.get("domain")
    if name is not None and name not in DOMAIN_NAMES:
        return _bad(f"domain must be one of {', '.join(DOMAIN_NAMES)}")
    world.reboot_vehicle(vin, DOMAINS if name is None else (DOMAIN_NAMES[name],))
    return web.json_response({"rebooted": [name] if name else list(DOMAIN_NAMES)})


async def vehicle_virtual_key(request: web.Request) -> web.Response:
    """POST /__sim__/vehicles/{vin}/virtual_key {"domain"}: approve as /_ak/<domain> does."""
    found = await _vehicle_body(request)
    if isinstance(found, web.Response):
        return found
    world, vin, body = found
    if not isinstance(domain := body.get("domain"), str):
        return _bad("domain must be a string")
    try:
        keys = approve_for_domain(world, vin, domain)
    except NoAppForDomain:
        return _bad("no app registered a key for this domain", 404)
    return web.json_response({"vin": vin, "public_keys": sorted(k.hex() for k in keys)})


async def account_script(request: web.Request) -> web.Response:
    """POST /__sim__/accounts/{email} {"locked", "captcha", "region", "registered"}."""
    world = request.app[WORLD]
    account = world.account_by_email(request.match_info["email"])
    if account is None:
        return _bad("unknown account", 404)
    body = await _object(request)
    if isinstance(body, web.Response):
        return body
    wrong = _wrong_type(body, ("locked", "captcha", "registered"))
    if wrong is not None:
        return wrong
    if "region" in body and body["region"] not in REGIONS:
        return _bad(f"region must be one of {', '.join(REGIONS)}")
    if "locked" in body:
        account.locked = body["locked"]
        account.failed_logins = 0
    if "captcha" in body:
        account.captcha = body["captcha"]
    if "registered" in body:
        account.registered = body["registered"]
    if "region" in body:
        account.region = body["region"]
    return web.json_response(account.as_dict())


async def clock_get(request: web.Request) -> web.Response:
    """GET /__sim__/clock."""
    world = request.app[WORLD]
    return web.json_response({"now": world.now(), "virtual": world.clock.virtual})


async def clock_advance(request: web.Request) -> web.Response:
    """POST /__sim__/clock {"advance": seconds} or {"to": epoch} (virtual clock only)."""
    world = request.app[WORLD]
    if not world.clock.virtual:
        return _bad("the simulator runs on the real clock", 409)
    body = await _object(request)
    if isinstance(body, web.Response):
        return body
    seconds = body.get("advance")
    if "to" in body:
        if not _is_number(body["to"]):
            return _bad("to must be a number")
        seconds = body["to"] - world.now()
    if not _is_number(seconds):
        return _bad("advance must be a number")
    if seconds < 0 or not math.isfinite(seconds):
        return _bad("the clock cannot go backwards")
    now = world.advance(float(seconds))
    return web.json_response({"now": now, "virtual": True})


async def reset(request: web.Request) -> web.Response:
    """POST /__sim__/reset: back to the seeded initial world."""
    world = request.app[WORLD]
    world.reset()
    return web.json_response(world.state())


async def oauth_code(request: web.Request) -> web.Response:
    """POST /__sim__/oauth/code {"email", "code_challenge", "redirect_uri", "state",
    "client_id", "scope"} -> {"code", "state"}: a code without the sign-in pages."""
    found = await _account_body(request)
    if isinstance(found, web.Response):
        return found
    account, body = found
    redirect_uri = body.get("redirect_uri")
    if not isinstance(redirect_uri, str) or not redirect_uri:
        return _bad("redirect_uri is required")
    challenge = body.get("code_challenge")
    code = request.app[WORLD].sso.code_for(
        account,
        client_id=str(body.get("client_id") or DEV_CLIENT_ID),
        redirect_uri=redirect_uri,
        code_challenge=challenge if isinstance(challenge, str) and challenge else None,
        scope=body.get("scope") if isinstance(body.get("scope"), str) else None,
    )
    return web.json_response({"code": code, "state": body.get("state")})


async def oauth_tokens(request: web.Request) -> web.Response:
    """POST /__sim__/oauth/tokens {"email", "scope", "client_id"}: a token response
    without sign-in (for the dev app unless ``client_id`` names another)."""
    found = await _account_body(request)
    if isinstance(found, web.Response):
        return found
    account, body = found
    scope = body.get("scope")
    client_id = body.get("client_id")
    return web.json_response(
        request.app[WORLD].tokens.issue(
            account,
            scopes=parse_scopes(scope if isinstance(scope, str) else None),
            client_id=client_id if isinstance(client_id, str) else DEV_CLIENT_ID,
        )
    )


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


async def apps_list(request: web.Request) -> web.Response:
    """GET /__sim__/apps."""
    world = request.app[WORLD]
    return web.json_response({"apps": [a.as_dict() for a in world.apps.values()]})


async def apps_create(request: web.Request) -> web.Response:
    """POST /__sim__/apps {client_id?, client_secret?, name?, allowed_origins,
    redirect_uris, partner_registered?}: the app (id and secret generated when absent)."""
    world = request.app[WORLD]
    body = await _object(request)
    if isinstance(body, web.Response):
        return body
    origins = _strings(body.get("allowed_origins", []))
    uris = _strings(body.get("redirect_uris"))
    if origins is None or not uris:
        return _bad("redirect_uris (and allowed_origins) must be lists of strings")
    texts = {k: body.get(k) for k in ("client_id", "client_secret", "name")}
    if any(v is not None and not isinstance(v, str) for v in texts.values()):
        return _bad("client_id, client_secret and name must be strings")
    client_id = texts["client_id"] or world.uuid()
    if client_id in world.apps or client_id == LEGACY_CLIENT_ID:
        return _bad("client_id already exists", 409)
    app = App(
        client_id,
        texts["client_secret"] or f"ta-secret.{world.token_hex(16)}",
        texts["name"] or "My app",
        origins,
        uris,
    )
    world.apps[client_id] = app
    if body.get("partner_registered") is True:
        world.partners.register_everywhere(client_id, world.now())
    return web.json_response(app.as_dict())


async def apps_unregister(request: web.Request) -> web.Response:
    """POST /__sim__/apps/{client_id}/unregister: the app loses every partner registration."""
    world = request.app[WORLD]
    client_id = request.match_info["client_id"]
    if client_id not in world.apps:
        return _bad("unknown app", 404)
    removed = world.partners.unregister(client_id)
    return web.json_response({"client_id": client_id, "removed_regions": removed})


def add_routes(app: web.Application) -> None:
    """Register the control API."""
    r = app.router
    r.add_get("/__sim__/state", state)
    r.add_get("/__sim__/meter", meter)
    r.add_post("/__sim__/meter/reset", meter_reset)
    r.add_get("/__sim__/faults", faults_list)
    r.add_post("/__sim__/faults", faults_add)
    r.add_delete("/__sim__/faults", faults_clear)
    r.add_post("/__sim__/vehicles/{vin}", vehicle_script)
    r.add_post("/__sim__/vehicles/{vin}/reboot", vehicle_reboot)
    r.add_post("/__sim__/vehicles/{vin}/virtual_key", vehicle_virtual_key)
    r.add_post("/__sim__/accounts/{email}", account_script)
    r.add_get("/__sim__/clock", clock_get)
    r.add_post("/__sim__/clock", clock_advance)
    r.add_post("/__sim__/reset", reset)
    r.add_post("/__sim__/oauth/code", oauth_code)
    r.add_post("/__sim__/oauth/tokens", oauth_tokens)
    r.add_get("/__sim__/apps", apps_list)
    r.add_post("/__sim__/apps", apps_create)
    r.add_post("/__sim__/apps/{client_id}/unregister", apps_unregister)
