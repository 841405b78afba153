"""Clients of the running processes: the simulator's control API and Home Assistant.

:class:`HomeAssistant` talks REST like the frontend does: onboarding and login, states
and services, and the config and options flows posted exactly as the frontend posts
them; :meth:`HomeAssistant.websocket` opens its websocket API (:mod:`e2e.websocket`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import json
import time
from typing import Any, Literal

import aiohttp

from .harness import E2EError
from .websocket import Websocket

type Flow = Literal["config", "options"]
FLOW_PATHS: dict[Flow, str] = {
    "config": "/api/config/config_entries/flow",
    "options": "/api/config/config_entries/options/flow",
}
"""Where a data entry flow of each kind starts; its steps are below, by flow id."""


class Simulator:
    """The simulator's control API."""

    def __init__(self, url: str, session: aiohttp.ClientSession):
        """Talk to the simulator at ``url``."""
        self.url = url
        self.session = session

    async def _json(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, f"{self.url}{path}", json=body) as resp:
            data = await resp.json(content_type=None)
            if resp.status >= 400:
                raise E2EError(f"simulator {method} {path}: {resp.status} {data}")
            return data

    async def state(self) -> dict[str, Any]:
        """GET /__sim__/state."""
        return dict(await self._json("GET", "/__sim__/state"))

    async def meter(self) -> dict[str, Any]:
        """GET /__sim__/meter."""
        return dict(await self._json("GET", "/__sim__/meter"))

    async def add_fault(self, kind: str, seconds: float, **extra: Any) -> Any:
        """POST /__sim__/faults."""
        return await self._json(
            "POST", "/__sim__/faults", {"kind": kind, "seconds": seconds, **extra}
        )

    async def get(self, path: str) -> Any:
        """GET ``path`` of the control API (``/__sim__/...``)."""
        return await self._json("GET", path)

    async def post(self, path: str, body: Any) -> Any:
        """POST ``path`` of the control API (``/__sim__/...``) with a JSON body."""
        return await self._json("POST", path, body)

    async def clear_faults(self) -> Any:
        """DELETE /__sim__/faults."""
        return await self._json("DELETE", "/__sim__/faults")

    async def account(self, email: str) -> dict[str, Any]:
        """One account of GET /__sim__/state."""
        for account in (await self.state())["accounts"]:
            if account["email"] == email:
                return dict(account)
        raise E2EError(f"the simulator has no account {email}")

    async def vehicle(self, vin: str) -> dict[str, Any]:
        """One vehicle of GET /__sim__/state."""
        for car in (await self.state())["vehicles"]:
            if car["vin"] == vin:
                return dict(car)
        raise E2EError("the simulator does not know that vehicle")


# ------------------------------------------------------------------ Home Assistant


class HomeAssistant:
    """A REST + websocket client for one Home Assistant, like the frontend's."""

    def __init__(self, url: str, session: aiohttp.ClientSession):
        """Talk to Home Assistant at ``url`` (log in with :meth:`onboard` or :meth:`login`)."""
        self.url = url
        self.session = session
        self.client_id = f"{url}/"
        self.redirect_uri = f"{url}/?auth_callback=1"
        self.access_token: str | None = None
        self.refresh_token: str | None = None

    # ---- authentication

    async def onboarded(self) -> bool:
        """Whether the user step of onboarding is done."""
        async with self.session.get(f"{self.url}/api/onboarding") as resp:
            if resp.status == 404:  # onboarding finished: the view is gone
                return True
            steps = await resp.json()
        return any(s["step"] == "user" and s["done"] for s in steps)

    async def _token(self, code: str) -> None:
        async with self.session.post(
            f"{self.url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise E2EError(f"/auth/token: {resp.status} {body}")
        self.access_token = body["access_token"]
        self.refresh_token = body.get("refresh_token")

    async def onboard(self, name: str, username: str, password: str) -> None:
        """Do every onboarding step over REST, as the onboarding pages do."""
        async with self.session.post(
            f"{self.url}/api/onboarding/users",
            json={
                "name": name,
                "username": username,
                "password": password,
                "client_id": self.client_id,
                "language": "en",
            },
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise E2EError(f"onboarding user step: {resp.status} {body}")
        await self._token(body["auth_code"])
        await self.post("/api/onboarding/core_config", {})
        await self.post("/api/onboarding/analytics", {})
        await self.post(
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": self.redirect_uri},
        )

    async def login(self, username: str, password: str) -> None:
        """Log in through the login flow, as the login page does."""
        async with self.session.post(
            f"{self.url}/auth/login_flow",
            json={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.redirect_uri,
            },
        ) as resp:
            flow = await resp.json()
        async with self.session.post(
            f"{self.url}/auth/login_flow/{flow['flow_id']}",
            json={
                "username": username,
                "password": password,
                "client_id": self.client_id,
            },
        ) as resp:
            result = await resp.json()
        if result.get("type") != "create_entry":
            raise E2EError(f"login failed: {result.get('errors')}")
        await self._token(result["result"])

    async def onboard_or_login(self, name: str, username: str, password: str) -> bool:
        """Onboard a fresh instance or log in to an onboarded one; True when onboarded now."""
        if await self.onboarded():
            await self.login(username, password)
            return False
        await self.onboard(name, username, password)
        return True

    async def remove_entries(self, domains: set[str], *, wait: float = 15) -> list[str]:
        """Delete the config entries of ``domains`` (waiting up to ``wait`` s for them).

        Onboarding adds Met.no and Radio Browser, which fetch from the internet.
        """
        deadline = time.monotonic() + wait
        while True:
            entries = await self.get("/api/config/config_entries/entry")
            found = [e for e in entries if e["domain"] in domains]
            if {e["domain"] for e in found} >= domains or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        for entry in found:
            await self.request(
                "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
            )
        return [e["domain"] for e in found]

    # ---- REST

    def _headers(self) -> dict[str, str]:
        if self.access_token is None:
            raise E2EError("not logged in")
        return {"Authorization": f"Bearer {self.access_token}"}

    async def request(
        self, method: str, path: str, body: Any = None, *, expect: int | None = 200
    ) -> tuple[int, Any]:
        """One authenticated REST call; returns (status, JSON or text)."""
        async with self.session.request(
            method, f"{self.url}{path}", json=body, headers=self._headers()
        ) as resp:
            text = await resp.text()
            try:
                data: Any = json.loads(text) if text else None
            except ValueError:
                data = text
            if expect is not None and resp.status != expect:
                raise E2EError(f"{method} {path}: {resp.status} {text[:500]}")
            return resp.status, data

    async def get(self, path: str) -> Any:
        """GET ``path``, expecting 200."""
        return (await self.request("GET", path))[1]

    async def post(self, path: str, body: Any = None) -> Any:
        """POST ``path``, expecting 200."""
        return (await self.request("POST", path, body))[1]

    async def states(self) -> list[dict[str, Any]]:
        """GET /api/states."""
        return list(await self.get("/api/states"))

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """GET /api/states/{entity_id}, None when it does not exist."""
        status, data = await self.request(
            "GET", f"/api/states/{entity_id}", expect=None
        )
        if status == 404:
            return None
        if status != 200:
            raise E2EError(f"GET /api/states/{entity_id}: {status} {data}")
        return dict(data)

    async def call_service(
        self, domain: str, service: str, data: Mapping[str, Any]
    ) -> tuple[int, Any]:
        """POST /api/services/{domain}/{service}; (status, body) without raising."""
        return await self.request(
            "POST", f"/api/services/{domain}/{service}", dict(data), expect=None
        )

    async def core_running(self) -> bool:
        """Whether Home Assistant has finished starting."""
        config = await self.get("/api/config")
        return bool(config.get("state") == "RUNNING")

    # ---- data entry flows (config and options), as the frontend drives them

    async def flow_start(
        self, handler: str, *, flow: Flow = "config"
    ) -> dict[str, Any]:
        """POST /api/config/config_entries/flow (or options/flow).

        ``handler``: the integration's domain for a config flow, the entry id for an
        options flow.
        """
        return dict(
            await self.post(
                FLOW_PATHS[flow], {"handler": handler, "show_advanced_options": True}
            )
        )

    async def flow_step(
        self, flow_id: str, user_input: Mapping[str, Any], *, flow: Flow = "config"
    ) -> dict[str, Any]:
        """POST /api/config/config_entries/flow/{flow_id} (or options/flow/...)."""
        return dict(await self.post(f"{FLOW_PATHS[flow]}/{flow_id}", dict(user_input)))

    # ---- websocket

    def websocket(self) -> Websocket:
        """A websocket connection (use ``async with``)."""
        if self.access_token is None:
            raise E2EError("not logged in")
        return Websocket(self.session, self.url, self.access_token)
