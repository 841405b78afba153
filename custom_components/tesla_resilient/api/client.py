"""Tesla Fleet API client: region, vehicles, sleep state, vehicle data, wake-up, commands."""

from collections.abc import Awaitable, Callable, Iterable, Mapping
import json
import logging
import re
from typing import Any
from urllib.parse import quote

import aiohttp

from .errors import (
    AuthFailed,
    BillingRequired,
    CloudUnavailable,
    CommandFailed,
    CommandOutcomeUnknown,
    CommandSigningRequired,
    FleetAccountLocked,
    Forbidden,
    KeyNotReachable,
    LegalRestriction,
    MalformedResponse,
    PreconditionFailed,
    RateLimited,
    TeslaError,
    Unanswered,
    Unprocessable,
    VehicleAsleep,
    VehicleNotFound,
    WrongRegion,
)
from .models import ALL_ENDPOINTS, Account, Region, VehicleData, VehicleSummary, as_str
from .oauth import USER_AGENT, AccessTokens
from .signing import FleetStatus
from .tokens import JwtClaims

_LOGGER = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://fleet-api.prd.na.vn.cloud.tesla.com"
REGION_BASES: Mapping[str, str] = {
    "na": DEFAULT_API_BASE,
    "eu": "https://fleet-api.prd.eu.vn.cloud.tesla.com",
    "cn": "https://fleet-api.prd.cn.vn.cloud.tesla.cn",
}
"""Tesla's Fleet API base URL of each region."""
_STATUS_ERRORS: Mapping[int, tuple[type[TeslaError], str]] = {
    402: (BillingRequired, "Tesla asks for payment of the developer account"),
    404: (VehicleNotFound, "Vehicle not found on this account"),
    408: (VehicleAsleep, "The vehicle is asleep or offline"),
    412: (PreconditionFailed, "The app is not registered in this region"),
    421: (WrongRegion, "The account is served by another region"),
    422: (Unprocessable, "Tesla could not follow the request"),
    423: (FleetAccountLocked, "Tesla has locked the account"),
    424: (KeyNotReachable, "Tesla could not fetch the app's public key"),
    451: (LegalRestriction, "Unavailable for legal reasons"),
}
_NOT_SENT: tuple[type[Exception], ...] = (
    aiohttp.ClientConnectorError,  # refused, DNS, TLS, proxy: nothing reached Tesla
    aiohttp.ConnectionTimeoutError,
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
)
"""Transport errors raised before the request left: Tesla cannot have received it."""
_REGION_PATH = "/api/1/users/region"
_COMMAND_NAME = re.compile(r"[a-z0-9_]+")


def _vehicle_path(vehicle_id: str, suffix: str = "") -> str:
    return f"/api/1/vehicles/{quote(vehicle_id, safe='')}{suffix}"


class TeslaFleetClient:
    """Call the Fleet API for one account.

    Status mapping: 401 refreshes the token once and retries once (a second 401 raises
    AuthFailed); 402 BillingRequired; 403 Forbidden or CommandSigningRequired; 404
    VehicleNotFound; 408 VehicleAsleep; 412 PreconditionFailed; 421 looks up the
    account's region, switches ``base_url`` and retries once (then WrongRegion); 423
    FleetAccountLocked; 429 RateLimited; 451 LegalRestriction; 5xx and 540 and
    connection errors CloudUnavailable; a timeout or a dropped connection after the
    request went out Unanswered; a body that is not the ``{"response": ...}`` envelope
    MalformedResponse. A command or wake-up whose answer is lost that way (or cut
    short) raises CommandOutcomeUnknown instead: the car may have carried it out.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        tokens: AccessTokens,
        *,
        base_url: str = DEFAULT_API_BASE,
        timeout: float = 30,
        on_base_url_change: Callable[[str], Awaitable[None]] | None = None,
        region_bases: Mapping[str, str] = REGION_BASES,
    ) -> None:
        """Use ``session`` (which may be shared) and ``tokens`` for every call.

        ``region_bases``: the Fleet API base URL of each region (Tesla's; a simulator
        passes its own) for :meth:`discover_region`.
        """
        self.base_url = base_url.rstrip("/")
        self._region_bases = {r: url.rstrip("/") for r, url in region_bases.items()}
        self._session = session
        self._tokens = tokens
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._on_base_url_change = on_base_url_change

    async def region(self) -> Region:
        """Return the account's region and Fleet API base URL (``GET users/region``)."""
        return Region.from_api(await self._call("GET", _REGION_PATH))

    async def discover_region(self) -> Region:
        """Find the account's region and switch ``base_url`` to it.

        The access token names the region (its ``ou_code`` claim): on one of the
        ``region_bases`` that settles it without a request. Otherwise ``users/region``
        is asked at the current base and, when that answers 412 (the app is not
        registered there) or 421, at the other regions' bases in turn; the last
        error is raised when none answers. A server that is not one of
        ``region_bases`` (a proxy) is only asked itself.
        """
        claimed = JwtClaims.decode(await self._tokens.access_token()).region
        bases = self._region_bases
        if self.base_url in bases.values() and claimed in bases:
            region = Region(claimed, bases[claimed])
        else:
            region = await self._ask_regions()
        await self._use_base(region.fleet_api_base_url)
        return region

    async def _ask_regions(self) -> Region:
        """``users/region`` at the current base, then at the other regions' bases."""
        others = [url for url in self._region_bases.values() if url != self.base_url]
        if len(others) == len(self._region_bases):  # not a Tesla base: ask it alone
            others = []
        bases = (self.base_url, *others)
        for base in bases[:-1]:
            try:
                return Region.from_api(await self._call("GET", _REGION_PATH, base))
            except PreconditionFailed, WrongRegion:
                _LOGGER.debug("users/region refused there; asking the next region")
        return Region.from_api(await self._call("GET", _REGION_PATH, bases[-1]))

    async def products(self) -> list[VehicleSummary]:
        """List the account's vehicles from ``GET /api/1/products`` (energy sites left out)."""
        payload = await self._call("GET", "/api/1/products")
        if not isinstance(payload, list):
            raise MalformedResponse("Product list is not a JSON array")
        return VehicleSummary.list_from_api(
            [item for item in payload if isinstance(item, Mapping) and "vin" in item]
        )

    async def fleet_status(self, vins: Iterable[str]) -> FleetStatus:
        """Which of the cars ``vins`` trust the app's key (``POST vehicles/fleet_status``)."""
        return FleetStatus.from_api(
            await self._call(
                "POST", "/api/1/vehicles/fleet_status", json={"vins": list(vins)}
            )
        )

    async def register_partner(self, domain: str) -> str | None:
        """Register the app for ``domain`` in this base's region (with a partner token).

        Tesla fetches the app's public key from the domain and answers with the hex of
        the key it found (``None`` when the answer names none): compare it with yours.
        Raise KeyNotReachable (424) when the domain did not serve it, Unprocessable
        (422) when the file is no EC P-256 key.
        """
        payload = await self._call(
            "POST", "/api/1/partner_accounts", json={"domain": domain}
        )
        return (
            as_str(payload.get("public_key")) if isinstance(payload, Mapping) else None
        )

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
            await self._call("POST", _vehicle_path(vehicle_id, "/wake_up"), acts=True)
        )

    async def command(
        self, vehicle_id: str, name: str, params: Mapping[str, Any] | None = None
    ) -> None:
        """Send command ``name`` (e.g. ``door_lock``) with its JSON ``params``.

        Raise CommandFailed with Tesla's reason when the car refuses (or does not
        confirm with ``result: true``), CommandOutcomeUnknown when the answer was lost
        after sending, ValueError for a malformed command name.
        """
        if not _COMMAND_NAME.fullmatch(name):
            raise ValueError("Invalid command name")
        result = await self._call(
            "POST",
            _vehicle_path(vehicle_id, f"/command/{name}"),
            json=dict(params or {}),
            acts=True,
        )
        if not isinstance(result, Mapping) or result.get("result") is not True:
            reason = result.get("reason") if isinstance(result, Mapping) else None
            raise CommandFailed(
                reason if isinstance(reason, str) and reason else "unknown"
            )

    async def signed_command(
        self, vehicle_id: str, routable_message: str, *, acts: bool = True
    ) -> str:
        """Send a signed message (base64 ``RoutableMessage``); return the car's answer.

        ``POST /api/1/vehicles/{id}/signed_command``; the answer is the car's base64
        ``RoutableMessage`` (its faults are the protocol's to read). ``acts``: the
        message acts on the car (a command, not a session request): when its answer is
        lost after sending (a timeout, a dropped connection, a cut-off body) raise
        CommandOutcomeUnknown, the car may have carried it out.
        """
        answer = await self._call(
            "POST",
            _vehicle_path(vehicle_id, "/signed_command"),
            json={"routable_message": routable_message},
            acts=acts,
        )
        if not isinstance(answer, str):
            lost = CommandOutcomeUnknown if acts else MalformedResponse
            raise lost("Signed command answer is not a string")
        return answer

    async def _call(
        self,
        method: str,
        path: str,
        base: str | None = None,
        *,
        params: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        acts: bool = False,
    ) -> Any:
        """Send a request and return the ``response`` member of the envelope.

        ``base``: the base URL (default ``base_url``). ``acts``: the request acts on the
        car (a command, a wake-up): an answer lost or cut short after sending raises
        CommandOutcomeUnknown. A 401 or 421 answer said it was not carried out.
        """
        token = await self._tokens.access_token()
        refreshed = relocated = False
        while True:
            status, text, retry_after = await self._send(
                method, path, token, params, json, base=base or self.base_url, acts=acts
            )
            if status == 401 and not refreshed:
                refreshed = True
                token = await self._tokens.force_refresh(token)
                continue
            if status == 421 and not relocated and path != _REGION_PATH:
                relocated = True
                await self._relocate()
                continue
            return _unwrap(status, text, retry_after, acts=acts)

    async def _relocate(self) -> None:
        """Switch to the account's regional base URL after a 421."""
        region = await self.region()
        if region.fleet_api_base_url != self.base_url:
            _LOGGER.info("Tesla account is served by region %s", region.region)
        await self._use_base(region.fleet_api_base_url)

    async def _use_base(self, base_url: str) -> None:
        """Send every later request to ``base_url`` (and tell the owner when it changed)."""
        if base_url != self.base_url:
            self.base_url = base_url
            if self._on_base_url_change is not None:
                await self._on_base_url_change(base_url)

    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        params: Mapping[str, str] | None,
        json: Mapping[str, Any] | None,
        *,
        base: str,
        acts: bool,
    ) -> tuple[int, str, str | None]:
        try:
            async with self._session.request(
                method,
                f"{base}{path}",
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
            if isinstance(err, _NOT_SENT):
                raise CloudUnavailable(
                    f"Tesla unreachable ({type(err).__name__})"
                ) from err
            lost = CommandOutcomeUnknown if acts else Unanswered
            raise lost(f"Tesla did not answer ({type(err).__name__})") from err


def _unwrap(
    status: int, text: str, retry_after: str | None, *, acts: bool = False
) -> Any:
    """Map an HTTP answer to the ``response`` member or the matching exception.

    ``acts``: a cut-off answer to a command leaves its outcome unknown.
    """
    if 200 <= status < 300:
        body = _json(text)
        if not isinstance(body, dict) or "response" not in body:
            lost = CommandOutcomeUnknown if acts else MalformedResponse
            raise lost(f"Tesla answered HTTP {status} without a response")
        return body["response"]
    if status == 401:
        raise AuthFailed("Tesla rejected the access token after a refresh")
    if status == 403:
        error = _error_text(text)
        if error is not None and "vehicle command protocol" in error.lower():
            raise CommandSigningRequired(error)
        raise Forbidden("Tesla refused access (HTTP 403)")
    if status in _STATUS_ERRORS:
        error_type, message = _STATUS_ERRORS[status]
        raise error_type(message)
    if status == 429:
        raise RateLimited.from_header(retry_after)
    if status >= 500:
        raise CloudUnavailable(f"Tesla answered HTTP {status}")
    raise TeslaError(f"Tesla answered HTTP {status}")


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _error_text(text: str) -> str | None:
    """The ``error`` member of an error body, if any."""
    body = _json(text)
    return as_str(body.get("error")) if isinstance(body, dict) else None
