"""Bluetooth on the simulator's server: the link, advertisements and control routes.

* ``GET /__sim__/ble/link/{address}`` -- a WebSocket that is one GATT connection to the
  car at ``address``: client -> car binary frames are writes to ``...0212``, car ->
  client binary frames notifications on ``...0213`` (chunks of length-prefixed messages).
  Refused with 404 when the car is not in range, 503 when its three connections are
  taken. Closing it disconnects; the car closing it is the car dropping the link.
* ``GET /__sim__/ble/advertisements`` -- ``[{address, local_name, rssi, connectable}]``
* ``GET|POST /__sim__/ble/{vin}`` -- the car's radio (``in_range``, ``rssi``,
  ``other_clients``, ``busy_next``, ``drop_ack_next``, ``drop_link``) and its counters
* ``POST /__sim__/ble/{vin}/tap`` / ``.../decline`` -- the owner approves (key card) or
  denies a pending key add (409 when none is pending)

The middleware brings the radios up to date after every request (a command over the
cloud or the control API that changes a car's status is broadcast to its links).
"""

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.typedefs import Handler

from ..keys import WORLD
from ..world import World
from . import LINK_PATH
from .radio import Link, NoFreeSlot, OutOfRange

POLL_SECONDS = 1.0
"""How often an open link brings the world up to the clock while the client is quiet."""


@web.middleware
async def ble_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """After every request: idle drops, pairing time-outs, status broadcasts."""
    try:
        return await handler(request)
    finally:
        world = request.app[WORLD]
        world.ble.sync(world.now())


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _write(ws: web.WebSocketResponse, link: Link) -> None:
    """Send the car's notifications until the link closes; then close the socket."""
    while (chunk := await link.outbox.get()) is not None:
        await ws.send_bytes(chunk)
    await ws.close()


async def link(request: web.Request) -> web.StreamResponse:
    """``GET /__sim__/ble/link/{address}``: one GATT connection."""
    world: World = request.app[WORLD]
    vin = world.ble.vin_of(request.match_info["address"])
    if vin is None:
        return _bad("no car at that address", 404)
    try:
        opened = world.ble.connect(vin, world.tick())
    except OutOfRange:
        return _bad("the car is out of range", 404)
    except NoFreeSlot:
        return _bad("the car has no free connection", 503)
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    writer = asyncio.create_task(_write(ws, opened))
    try:
        while not opened.closed:
            try:
                message = await ws.receive(timeout=POLL_SECONDS)
            except TimeoutError:
                world.tick()
                continue
            if message.type != WSMsgType.BINARY:
                break
            for raw in opened.reassembler.feed(message.data):
                world.ble.receive(opened, raw, world.tick())
    finally:
        world.ble.disconnect(opened)
        with contextlib.suppress(ConnectionError):
            await writer
        await ws.close()
    return ws


async def advertisements(request: web.Request) -> web.Response:
    """``GET /__sim__/ble/advertisements``."""
    return web.json_response(request.app[WORLD].ble_advertisements())


def _known(world: World, vin: str) -> web.Response | None:
    if vin not in world.vehicles:
        return _bad("unknown vehicle", 404)
    return None


async def radio_get(request: web.Request) -> web.Response:
    """``GET /__sim__/ble/{vin}``."""
    world: World = request.app[WORLD]
    vin = request.match_info["vin"]
    return _known(world, vin) or web.json_response(world.ble_state(vin))


async def radio_set(request: web.Request) -> web.Response:
    """``POST /__sim__/ble/{vin}``."""
    world: World = request.app[WORLD]
    vin = request.match_info["vin"]
    if (unknown := _known(world, vin)) is not None:
        return unknown
    try:
        body: Any = json.loads(await request.read() or b"{}")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return _bad("body must be a JSON object")
    try:
        return web.json_response(world.ble_set(vin, **body))
    except ValueError as err:
        return _bad(str(err))


async def tap(request: web.Request) -> web.Response:
    """``POST /__sim__/ble/{vin}/tap``."""
    return _pairing(request, approve=True)


async def decline(request: web.Request) -> web.Response:
    """``POST /__sim__/ble/{vin}/decline``."""
    return _pairing(request, approve=False)


def _pairing(request: web.Request, *, approve: bool) -> web.Response:
    world: World = request.app[WORLD]
    vin = request.match_info["vin"]
    if (unknown := _known(world, vin)) is not None:
        return unknown
    done = world.ble_tap(vin) if approve else world.ble_decline(vin)
    if not done:
        return _bad("no key add is waiting", 409)
    return web.json_response({"vin": vin, "approved": approve})


def add_routes(app: web.Application) -> None:
    """Register the Bluetooth routes and the middleware."""
    app.middlewares.append(ble_middleware)
    r = app.router
    r.add_get(LINK_PATH, link)
    r.add_get("/__sim__/ble/advertisements", advertisements)
    r.add_get("/__sim__/ble/{vin}", radio_get)
    r.add_post("/__sim__/ble/{vin}", radio_set)
    r.add_post("/__sim__/ble/{vin}/tap", tap)
    r.add_post("/__sim__/ble/{vin}/decline", decline)
