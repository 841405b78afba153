"""Partner accounts: the Fleet API's gate for apps, and ``/api/1/partner_accounts``.

Every ``/api/1/...`` request with a valid bearer token passes :func:`gate` first
(``app.py`` calls it before the handler):

* the token's app (``azp``) is not a registered app -> 403 ``unauthorized_client``
  (``ownerapi`` included, unless the server runs with ``legacy_sign_in``, where it counts
  as registered and partner-registered everywhere);
* the app is not a partner in the region of the URL -> 412
  ``Account <client_id> must be registered in the current region <base url>``
  (the partner-account endpoints themselves excepted).

An app registers with a partner token (``client_credentials``):
``POST /api/1/partner_accounts {"domain"}`` fetches
``<domain>/.well-known/appspecific/com.tesla.3p.public-key.pem`` over real HTTP (https;
plain http only for 127.0.0.1 / localhost / ::1, which the simulator allows and Tesla
does not), checks it is an EC P-256 public key and answers with what it found
(``public_key``: hex of the uncompressed point). An unreachable domain answers 424, a
file that is not such a key 422. ``GET /api/1/partner_accounts/public_key?domain=`` reads
the key back.
"""

from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .apps import LEGACY_CLIENT_ID, Registration, is_registered
from .fleet import REGION_PREFIXES, ApiError, envelope
from .keys import WORLD
from .tokens import AccessInfo, TokenError

PARTNER_ACCOUNTS = "/api/1/partner_accounts"
PUBLIC_KEY = PARTNER_ACCOUNTS + "/public_key"
KEY_PATH = "/.well-known/appspecific/com.tesla.3p.public-key.pem"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
FETCH_TIMEOUT = 5.0
MAX_PEM_BYTES = 16384


def _fleet_path(path: str) -> tuple[str, str] | None:
    """(region, path without the region prefix) of a Fleet API path, else None."""
    for prefix in sorted(REGION_PREFIXES, key=len, reverse=True):
        if path.startswith(prefix + "/api/1/"):
            return REGION_PREFIXES[prefix], path[len(prefix) :]
    return None


def _access(request: web.Request) -> AccessInfo | None:
    """What the request's bearer token grants; None without a valid one (the handler
    answers 401 then)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return request.app[WORLD].tokens.lookup_access(token.strip())
    except TokenError:
        return None


def gate(request: web.Request) -> None:
    """Raise the 403 or 412 a Fleet API request of an unregistered app gets."""
    found = _fleet_path(request.path)
    access = _access(request) if found is not None else None
    if found is None or access is None:
        return
    region, path = found
    world = request.app[WORLD]
    if not is_registered(world, access.client_id):
        raise ApiError(
            403,
            "unauthorized_client",
            f"client_id {access.client_id} is not a registered Fleet API application",
        )
    # Registration itself is the one call an unregistered app can make.
    if path == PARTNER_ACCOUNTS or access.client_id == LEGACY_CLIENT_ID:
        return
    if world.partners.get(access.client_id, region) is None:
        raise ApiError(
            412,
            f"Account {access.client_id} must be registered in the current region "
            f"{world.region_base_url(region)}",
        )


def _partner(request: web.Request) -> tuple[AccessInfo, str]:
    """The partner token of the request and the region of its URL (401/403 otherwise)."""
    access = _access(request)
    if access is None:
        raise ApiError(
            401, "invalid bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    if not access.partner:
        raise ApiError(403, "unauthorized", "a partner token is required")
    region, _ = _fleet_path(request.path) or ("na", "")
    return access, region


def key_url(domain: str) -> str | None:
    """Where Tesla looks for the app's public key, or None for a domain it refuses."""
    host = urlsplit(f"//{domain}").hostname if domain else None
    if not host or "/" in domain or "@" in domain:
        return None
    scheme = "http" if host in LOOPBACK else "https"
    return f"{scheme}://{domain}{KEY_PATH}"


def public_key_hex(pem: bytes) -> str:
    """Hex of the uncompressed point of an EC P-256 public key in PEM; ValueError else."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ValueError("not an EC P-256 public key")
    raw = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return raw.hex()


async def _fetch(url: str) -> bytes:
    """The key file at ``url``; ApiError 424 when it cannot be fetched."""
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, allow_redirects=False) as resp,
        ):
            if resp.status != 200:
                raise ApiError(
                    424, "domain unreachable", f"{url} answered HTTP {resp.status}"
                )
            return await resp.content.read(MAX_PEM_BYTES)
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        raise ApiError(
            424, "domain unreachable", f"{url}: {type(err).__name__}"
        ) from err


async def register(request: web.Request) -> web.Response:
    """POST /api/1/partner_accounts {"domain"} with a partner token."""
    access, region = _partner(request)
    try:
        body: Any = await request.json()
    except ValueError:
        body = None
    domain = body.get("domain") if isinstance(body, dict) else None
    url = key_url(domain.strip().lower()) if isinstance(domain, str) else None
    if url is None or not isinstance(domain, str):
        raise ApiError(400, "invalid_request", "domain must be a host name")
    pem = await _fetch(url)
    try:
        public_key = public_key_hex(pem)
    except ValueError as err:
        raise ApiError(
            422,
            "The request was well-formed but was unable to be followed due to "
            f"semantic errors: {err}",
        ) from err
    world = request.app[WORLD]
    registration = Registration(
        access.client_id, region, domain.strip().lower(), public_key, world.now()
    )
    world.partners.register(registration)
    return envelope(registration.as_dict())


async def public_key(request: web.Request) -> web.Response:
    """GET /api/1/partner_accounts/public_key?domain=..."""
    access, region = _partner(request)
    world = request.app[WORLD]
    domain = request.query.get("domain", "").strip().lower()
    found = world.partners.get(access.client_id, region)
    if found is None or found.domain != domain or found.public_key is None:
        raise ApiError(404, "not_found", "no public key registered for this domain")
    return envelope({"public_key": found.public_key})


def add_routes(app: web.Application) -> None:
    """Register the partner-account endpoints under every region's base."""
    for prefix in REGION_PREFIXES:
        app.router.add_post(prefix + PARTNER_ACCOUNTS, register)
        app.router.add_get(prefix + PUBLIC_KEY, public_key)
