"""Tesla Fleet API client: vehicles, sleep state, vehicle data, wake-up and commands."""

from collections.abc import Awaitable, Callable, Iterable, Mapping
import json
import logging
import re
from typing import Any
from urllib.parse import quote

import aiohttp

from .errors import (
    AuthFailed,
    CloudUnavailable,
    CommandFailed,
    CommandProtocolRequired,
    Forbidden,
    MalformedResponse,
    PreconditionFailed,
    RateLimited,
    TeslaError,
    VehicleAsleep,
    VehicleNotFound,
)
from .models import ALL_ENDPOINTS, Account, Region, VehicleData, VehicleSummary
from .oauth import USER_AGENT, TokenManager

_LOGGER = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://fleet-api.prd.na.vn.cloud.tesla.com"
_REGION_PATH = "/api/1/users/region"
_COMMAND_NAME = re.compile(r"[a-z0-9_]+")


def _vehicle_path(vehicle_id: str, suffix: str = "") -> str:
    return f"/api/1/vehicles/{quote(vehicle_id, safe='')}{suffix}"


class TeslaFleetClient:
    """Call the Fleet API for one account.

    Status mapping: 401 refreshes the token once and retries once (a second 401 raises
    AuthFailed); 403 Forbidden or CommandProtocolRequired; 404 VehicleNotFound;
    408 VehicleAsleep; 412 PreconditionFailed; 421 looks up the account's region,
    switches ``base_url`` and retries once; 429 RateLimited; 5xx and 540, timeouts and
    connection errors CloudUnavailable; a body that is not the ``{"response": ...}``
    envelope MalformedResponse.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: TokenManager,
        *,
        base_url: str = DEFAULT_API_BASE,
        timeout: float = 30,
        on_base_url_change: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        """Use ``session`` (which may be shared) and ``tokens`` for every call."""
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._tokens = tokens
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._on_base_url_change = on_base_url_change

    async def region(self) -> Region:
        """Return the account's region and Fleet API base URL."""
        return Region.from_api(await self._call("GET", _REGION_PATH))

    async def me(self) -> Account:
        """Return the signed-in account (its email and name)."""
        return Account.from_api(await self._call("GET", "/api/1/users/me"))

    async def vehicles(self) -> list[VehicleSummary]:
        """List the account's vehicles with their sleep state (does not wake them)."""
        return VehicleSummary.list_from_api(await self._call("GET", "/api/1/vehicles"))

    async def vehicle(self, vehicle_id: str) -> VehicleSummary:
        """Return one vehicle with its sleep state (does not wake it)."""
        return VehicleSummary.from_api(
            await self._call("GET", _vehicle_path(vehicle_id))
        )

    async def vehicle_data(
        self, vehicle_id: str, endpoints: Iterable[str] = ALL_ENDPOINTS
    ) -> VehicleData:
        """Fetch the selected ``endpoints`` of an awake vehicle (408 VehicleAsleep otherwise)."""
        selection = ";".join(sorted(set(endpoints)))
        payload = await self._call(
            "GET",
            _vehicle_path(vehicle_id, "/vehicle_data"),
            params={"endpoints": selection},
        )
        return VehicleData.from_api(payload)

    async def wake_up(self, vehicle_id: str) -> VehicleSummary:
        """Ask a vehicle to wake up; returns at once with its current state."""
        return VehicleSummary.from_api(
            await self._call("POST", _vehicle_path(vehicle_id, "/wake_up"))
        )

    async def command(
        self, vehicle_id: str, name: str, params: Mapping[str, Any] | None = None
    ) -> None:
        """Send command ``name`` (e.g. ``door_lock``) with its JSON ``params``.

        Raise CommandFailed with Tesla's reason when the car refuses (or does not
        confirm with ``result: true``), ValueError for a malformed command name.
        """
        if not _COMMAND_NAME.fullmatch(name):
            raise ValueError("Invalid command name")
        result = await self._call(
            "POST",
            _vehicle_path(vehicle_id, f"/command/{name}"),
            json=dict(params or {}),
        )
        if not isinstance(result, Mapping) or result.get("result") is not True:
            reason = result.get("reason") if isinstance(result, Mapping) else None
            raise CommandFailed(
                reason if isinstance(reason, str) and reason else "unknown"
            )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send a request and return the ``response`` member of the envelope."""
        token = await self._tokens.access_token()
        refreshed = relocated = False
        while True:
            status, text, retry_after = await self._send(
                method, path, token, params, json
            )
            if status == 401 and not refreshed:
                refreshed = True
                token = await self._tokens.force_refresh(token)
                continue
            if status == 421 and not relocated and path != _REGION_PATH:
                relocated = True
                await self._relocate()
                continue
            return _unwrap(status, text, retry_after)

    async def _relocate(self) -> None:
        """Switch to the account's regional base URL after a 421."""
        region = await self.region()
        if region.fleet_api_base_url != self.base_url:
            _LOGGER.info("Tesla account is served by region %s", region.region)
            self.base_url = region.fleet_api_base_url
            if self._on_base_url_change is not None:
                await self._on_base_url_change(self.base_url)

    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: Mapping[str, str] | None,
        json: Mapping[str, Any] | None,
    ) -> tuple[int, str, str | None]:
        try:
            async with self._session.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                text = await resp.text(errors="replace")
                _LOGGER.debug("%s %s -> %s", method, path, resp.status)
                return resp.status, text, resp.headers.get("Retry-After")
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            _LOGGER.debug("%s %s failed: %s", method, path, type(err).__name__)
            raise CloudUnavailable(f"Tesla unreachable ({type(err).__name__})") from err


def _unwrap(status: int, text: str, retry_after: str | None) -> Any:
    """Map an HTTP answer to the ``response`` member or the matching exception."""
    if 200 <= status < 300:
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if not isinstance(body, dict) or "response" not in body:
            raise MalformedResponse(f"Tesla answered HTTP {status} without a response")
        return body["response"]
    if status == 401:
        raise AuthFailed("Tesla rejected the access token after a refresh")
    if status == 403:
        if "vehicle command protocol" in text.lower():
            raise CommandProtocolRequired("The vehicle requires signed commands")
        raise Forbidden("Tesla refused access (HTTP 403)")
    if status == 404:
        raise VehicleNotFound("Vehicle not found on this account")
    if status == 408:
        raise VehicleAsleep("The vehicle is asleep or offline")
    if status == 412:
        raise PreconditionFailed("The account is not registered in this region")
    if status == 429:
        raise RateLimited.from_header(retry_after)
    if status >= 500 or status == 421:
        raise CloudUnavailable(f"Tesla answered HTTP {status}")
    raise TeslaError(f"Tesla answered HTTP {status}")
