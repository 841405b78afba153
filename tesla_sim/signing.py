"""Command signing on the Fleet API: ``fleet_status`` and the ``signed_command`` placeholder.

A car whose ``command_signing`` is ``required`` refuses plain REST commands with 403 (see
``fleet.command``); ``World(rest_commands=True)`` builds every car with ``allowed``
instead. ``fleet_status`` tells the cars whose whitelist holds the app's registered key
(the virtual key) from the others; ``signed_command`` answers what a car answers a key
it does not know, a ``RoutableMessage`` whose ``signedMessageStatus`` is
``OPERATIONSTATUS_ERROR`` with ``MESSAGEFAULT_ERROR_UNKNOWN_KEY_ID`` (protobuf field 12
{1: 2, 2: 3}, written out by hand).
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
from .vehicles import Vehicle

UNKNOWN_KEY_MESSAGE = bytes((0x62, 0x04, 0x08, 0x02, 0x10, 0x03))
"""``RoutableMessage{signedMessageStatus{operation_status: ERROR, fault: UNKNOWN_KEY_ID}}``."""
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
    account, record = authenticate(request)
    car = find_car(request, account)
    params, headers = await accept_command(
        request, car, record, "vehicle_cmds", "vehicle_charging_cmds"
    )
    _decode(params)
    return envelope(base64.b64encode(UNKNOWN_KEY_MESSAGE).decode(), headers)


def add_routes(app: web.Application) -> None:
    """Register the signing routes under every region prefix."""
    add_regional_routes(
        app,
        (
            ("POST", "/api/1/vehicles/fleet_status", fleet_status),
            ("POST", "/api/1/vehicles/{vehicle_id}/signed_command", signed_command),
        ),
    )
