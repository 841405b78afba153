"""The app key: one EC P-256 key pair per Home Assistant, its public half served over HTTP.

Tesla fetches the app's public key from
``https://<domain>/.well-known/appspecific/com.tesla.3p.public-key.pem`` when the app
registers as a partner, and a car trusts commands signed with the private key once the
owner adds it as a virtual key. The key is made once, kept in Home Assistant's storage
(never in entry data, a log line or diagnostics) and served by Home Assistant itself.

A minimal version written for the config flow's onboarding; the app-key work of issue 11
replaces it (same interface).
"""

import asyncio
from dataclasses import dataclass, field
import hashlib
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN

KEY_PATH = "/.well-known/appspecific/com.tesla.3p.public-key.pem"
STORAGE_VERSION = 1
_DATA: HassKey[AppKey] = HassKey(f"{DOMAIN}_app_key")
_LOCK: HassKey[asyncio.Lock] = HassKey(f"{DOMAIN}_app_key_lock")
_SERVED: HassKey[bool] = HassKey(f"{DOMAIN}_app_key_served")


@dataclass(frozen=True)
class AppKey:
    """The app's key pair; only the public half and its fingerprint may be shown."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    public_pem: str
    public_bytes: bytes
    """The 65-byte uncompressed point (what Tesla's ``public_key`` hex encodes)."""
    fingerprint: str
    """A short hex digest of ``public_bytes``, safe to show and log."""

    @classmethod
    def of(cls, private_key: ec.EllipticCurvePrivateKey) -> AppKey:
        """Describe ``private_key``'s public half."""
        public = private_key.public_key()
        raw = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        pem = public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")
        return cls(private_key, pem, raw, hashlib.sha256(raw).hexdigest()[:16])


def _store(hass: HomeAssistant) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.app_key", private=True)


def _new_private_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def _load(pem: str) -> AppKey:
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("The stored app key is not an EC key")
    return AppKey.of(key)


async def _async_make(hass: HomeAssistant) -> AppKey:
    """Make a new key off the event loop, save it, remember it."""
    pem = await hass.async_add_executor_job(_new_private_pem)
    await _store(hass).async_save({"private_key": pem})
    key = hass.data[_DATA] = await hass.async_add_executor_job(_load, pem)
    return key


async def async_get_app_key(hass: HomeAssistant) -> AppKey:
    """Return this Home Assistant's app key; made and saved on first use."""
    async with hass.data.setdefault(_LOCK, asyncio.Lock()):
        if (key := hass.data.get(_DATA)) is not None:
            return key
        stored = await _store(hass).async_load()
        if stored is None:
            return await _async_make(hass)
        key = hass.data[_DATA] = await hass.async_add_executor_job(
            _load, stored["private_key"]
        )
        return key


async def async_rotate_app_key(hass: HomeAssistant) -> AppKey:
    """Replace the app key; the caller registers and pairs the new one again."""
    async with hass.data.setdefault(_LOCK, asyncio.Lock()):
        return await _async_make(hass)


def _in_use(hass: HomeAssistant) -> bool:
    """Does a loaded entry, or a set-up in progress, use the app key?"""
    return any(
        entry.state is ConfigEntryState.LOADED
        for entry in hass.config_entries.async_entries(DOMAIN)
    ) or bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN))


class PublicKeyView(HomeAssistantView):
    """The app's public key for Tesla, without authentication (404 while unused)."""

    url = KEY_PATH
    name = f"api:{DOMAIN}:public_key"
    requires_auth = False

    async def get(self, request: web.Request) -> web.Response:
        """Answer with the PEM of the app key."""
        hass = request.app[KEY_HASS]
        if not _in_use(hass):
            return web.Response(status=404)
        key = await async_get_app_key(hass)
        return web.Response(text=key.public_pem, content_type="application/x-pem-file")


@callback
def async_serve_public_key(hass: HomeAssistant) -> None:
    """Serve the public key at :data:`KEY_PATH` (once per Home Assistant)."""
    if not hass.data.get(_SERVED):
        hass.data[_SERVED] = True
        hass.http.register_view(PublicKeyView())
