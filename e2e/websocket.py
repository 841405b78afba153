"""Home Assistant's websocket API, as the frontend uses it."""

from __future__ import annotations

from collections.abc import Mapping
import time
from typing import Any, Self

import aiohttp

from .harness import E2EError


class Websocket:
    """Home Assistant's websocket API: auth, then numbered commands."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str):
        """Connect to ``url``/api/websocket with ``token`` on enter."""
        self._session = session
        self._url = url.replace("http://", "ws://") + "/api/websocket"
        self._token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1
        self.ha_version: str | None = None

    async def __aenter__(self) -> Self:
        """Connect and authenticate."""
        self._ws = await self._session.ws_connect(self._url, max_msg_size=0)
        hello = await self._ws.receive_json(timeout=30)
        if hello.get("type") != "auth_required":
            raise E2EError(f"websocket: expected auth_required, got {hello}")
        await self._ws.send_json({"type": "auth", "access_token": self._token})
        reply = await self._ws.receive_json(timeout=30)
        if reply.get("type") != "auth_ok":
            raise E2EError(f"websocket auth failed: {reply.get('type')}")
        self.ha_version = reply.get("ha_version")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the connection."""
        if self._ws is not None:
            await self._ws.close()

    async def send(self, message: Mapping[str, Any]) -> int:
        """Send a command; return its id."""
        if self._ws is None:
            raise E2EError("websocket not connected")
        msg_id = self._next_id
        self._next_id += 1
        await self._ws.send_json({"id": msg_id, **message})
        return msg_id

    async def receive(self, within: float = 30) -> dict[str, Any]:
        """The next message (raise when none comes ``within`` seconds)."""
        if self._ws is None:
            raise E2EError("websocket not connected")
        return dict(await self._ws.receive_json(timeout=within))

    async def command(self, message: Mapping[str, Any], within: float = 30) -> Any:
        """Send a command and return its result (raise on an error result)."""
        msg_id = await self.send(message)
        deadline = time.monotonic() + within
        while True:
            reply = await self.receive(max(0.1, deadline - time.monotonic()))
            if reply.get("id") != msg_id or reply.get("type") != "result":
                continue
            if not reply.get("success"):
                raise E2EError(f"websocket {message.get('type')}: {reply.get('error')}")
            return reply.get("result")
