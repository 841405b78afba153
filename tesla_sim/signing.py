"""Command signing on the Fleet API: ``fleet_status`` and ``signed_command``.

A car whose ``command_signing`` is ``required`` refuses plain REST commands with 403 (see
``fleet.command``); ``World(rest_commands=True)`` builds every car with ``allowed``
instead. ``fleet_status`` tells the cars whose whitelist holds the app's registered key
(the virtual key) from the others. ``signed_command`` hands the base64 ``RoutableMessage``
to the car's side of the Vehicle Command Protocol (the ``vcp`` package) and answers its
reply in base64: HTTP 200 whatever the car says, faults included. Bytes that are no
``RoutableMessage`` are a 400; a command the token's scopes do not allow a 403 (the Fleet
API reads HMAC-signed commands in plain text).
"""

import base64
import contextlib
from typing import Any

from aiohttp import web

from .fleet import (
    ApiError,
    accept_command,
    add_regional_routes,
    authenticate,
    envelope,
    find_car,
    json_body,
)
from .keys import WORLD
from .vcp import BadMessage, MissingScope, answer, parse
from .vehicles import Vehicle

FLEET_TELEMETRY_VERSION = "1.0.2"
KEYS_ON_CAR = 3  # the owner's phone and two key cards


def _vehicle_info(car: Vehicle) -> dict[str, Any]:
    return {
        "firmware_version": car.car_version.split()[0],
        "vehicle_command_protocol_required": car.requires_command_signing,
        "discounted_device_data": False,
        "fleet_telemetry_version": FLEET_TELEMETRY_VERSION,
        "total_number_of_keys": KEYS_ON_CAR,
        "safety_screen_streaming_toggle_enabled": False,
    }


async def fleet_status(request: web.Request) -> web.Response:
    """POST /api/1/vehicles/fleet_status {"vins": [...]}: which cars know the app's key.

    A car is paired when its whitelist holds a public key the requesting app registered
    (in any region; ``virtual_keys.py`` approves them). VINs not on the account are left
    out of the answer.
    """
    world = request.app[WORLD]
    account, record = authenticate(request)
    vins = (await json_body(request)).get("vins")
    if not isinstance(vins, list) or not all(isinstance(v, str) for v in vins):
        raise ApiError(400, "invalid_field", "vins must be a list of VINs")
    cars = [car for car in world.vehicles_of(account) if car.vin in vins]
    app_keys = world.partners.public_keys(client_id=record.client_id)
    paired = {car.vin for car in cars if not app_keys.isdisjoint(car.whitelist)}
    return envelope(
        {
            "key_paired_vins": [car.vin for car in cars if car.vin in paired],
            "unpaired_vins": [car.vin for car in cars if car.vin not in paired],
            "vehicle_info": {car.vin: _vehicle_info(car) for car in cars},
        }
    )


def _decode(body: dict[str, Any]) -> bytes:
    """The ``routable_message`` of a ``signed_command`` request (400 unless base64)."""
    message = body.get("routable_message")
    decoded = b""
    if isinstance(message, str):
        with contextlib.suppress(ValueError):  # binascii.Error too
            decoded = base64.b64decode(message, validate=True)
    if not decoded:
        raise ApiError(400, "invalid_field", "routable_message must be base64")
    return decoded


async def signed_command(request: web.Request) -> web.Response:
    """POST /api/1/vehicles/{vin}/signed_command {"routable_message": "<base64>"}."""
    world = request.app[WORLD]
    account, record = authenticate(request)
    car = find_car(request, account)
    params, headers = await accept_command(
        request, car, record, "vehicle_cmds", "vehicle_charging_cmds"
    )
    try:
        message = parse(_decode(params))
        reply = answer(world.vcp_keys(car), car, message, world.now(), record.scopes)
    except BadMessage:
        raise ApiError(
            400, "invalid_field", "routable_message is not a message"
        ) from None
    except MissingScope as err:
        raise ApiError(403, "Unauthorized missing scopes", str(err)) from None
    return envelope(base64.b64encode(reply.SerializeToString()).decode(), headers)


def add_routes(app: web.Application) -> None:
    """Register the signing routes under every region prefix."""
    add_regional_routes(
        app,
        (
            ("POST", "/api/1/vehicles/fleet_status", fleet_status),
            ("POST", "/api/1/vehicles/{vehicle_id}/signed_command", signed_command),
        ),
    )
