"""The app key: the EC P-256 key pair Tesla knows this Home Assistant's app by.

Tesla registers a partner app with the public key it finds at
``https://<domain>/.well-known/appspecific/com.tesla.3p.public-key.pem``, and a car takes
signed commands only from a key its owner approved (the virtual key). One key pair is
made per Home Assistant, the first time it is needed, and kept in Home Assistant's storage
(its own private file, never the entry data, a log line or diagnostics); it survives
restarts and is replaced only by :func:`async_rotate_app_key`. Making and reading the key
run in the executor, not on the event loop.

Home Assistant serves the public key itself (:func:`async_serve_public_key`), without
authentication, on that one path, and only while it is in use: an entry of this
integration that registered a domain is loaded, or a config flow of this integration is
in progress (the partner registration fetches the key before the entry exists). Otherwise
the path answers 404.
"""

import asyncio
from dataclasses import dataclass, field
import hashlib
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import CONF_PARTNER_DOMAIN, DOMAIN, LOGGER

KEY_PATH: Final = "/.well-known/appspecific/com.tesla.3p.public-key.pem"
STORAGE_KEY: Final = f"{DOMAIN}.app_key"
STORAGE_VERSION: Final = 1
FINGERPRINT_LENGTH: Final = 16
"""Hex digits of the SHA-256 of the public point shown as the key's fingerprint."""


@dataclass(frozen=True)
class AppKey:
    """The app's key pair (the private half is never logged or shown)."""

    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    """P-256; never logged, never in entry data or diagnostics."""
    public_pem: str
    """``-----BEGIN PUBLIC KEY-----`` ... (SubjectPublicKeyInfo)."""
    public_bytes: bytes = field(repr=False)
    """The 65-byte uncompressed point (what Tesla's ``public_key`` hex encodes)."""
    fingerprint: str
    """Short hex digest of ``public_bytes``, safe to show and log."""

    @classmethod
    def from_private_key(cls, private_key: ec.EllipticCurvePrivateKey) -> AppKey:
        """The key pair of ``private_key`` (CPU work: call it in the executor)."""
        public = private_key.public_key()
        point = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        pem = public.public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        ).decode()
        return cls(
            private_key=private_key,
            public_pem=pem,
            public_bytes=point,
            fingerprint=hashlib.sha256(point).hexdigest()[:FINGERPRINT_LENGTH],
        )


@dataclass
class _KeyData:
    """The key's store, its loaded value and the lock that makes it once."""

    store: Store[dict[str, Any]]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    key: AppKey | None = None
    view_registered: bool = False


DATA: HassKey[_KeyData] = HassKey(f"{DOMAIN}_app_key")


def _data(hass: HomeAssistant) -> _KeyData:
    if (data := hass.data.get(DATA)) is None:
        data = hass.data[DATA] = _KeyData(
            Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True, atomic_writes=True)
        )
    return data


def _new_key() -> tuple[AppKey, str]:
    """A fresh key pair and its private key as PKCS #8 PEM (executor)."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    return AppKey.from_private_key(private_key), _private_pem(private_key)


def _private_pem(private_key: ec.EllipticCurvePrivateKey) -> str:
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _load_key(private_pem: str) -> AppKey:
    """The stored key pair (executor); ValueError or TypeError when unreadable."""
    private_key = serialization.load_pem_private_key(private_pem.encode(), None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise TypeError("the stored app key is not an EC P-256 key")
    return AppKey.from_private_key(private_key)


async def _async_make_key(hass: HomeAssistant, data: _KeyData) -> AppKey:
    """Make a key pair, save it and make it the app's key (hold ``data.lock``)."""
    key, private_pem = await hass.async_add_executor_job(_new_key)
    await data.store.async_save({"private_key": private_pem})
    data.key = key
    return key


async def async_get_app_key(hass: HomeAssistant) -> AppKey:
    """The app key: loaded from storage, or made (and saved) the first time."""
    data = _data(hass)
    async with data.lock:
        if data.key is not None:
            return data.key
        stored = await data.store.async_load()
        private_pem = stored.get("private_key") if stored else None
        if isinstance(private_pem, str):
            try:
                data.key = await hass.async_add_executor_job(_load_key, private_pem)
            except ValueError, TypeError:
                LOGGER.warning("The stored app key is unreadable; making a new one")
            else:
                return data.key
        key = await _async_make_key(hass, data)
        LOGGER.info("Made the app key (fingerprint %s)", key.fingerprint)
        return key


async def async_rotate_app_key(hass: HomeAssistant) -> AppKey:
    """Replace the app key by a new one; callers re-register and re-pair the cars."""
    data = _data(hass)
    async with data.lock:
        key = await _async_make_key(hass, data)
    LOGGER.warning(
        "The app key was replaced (new fingerprint %s): Tesla and the cars know the "
        "old one until the app is registered again and each car's virtual key is "
        "approved again",
        key.fingerprint,
    )
    return key


def _in_use(hass: HomeAssistant) -> bool:
    """A loaded entry registered a domain, or a config flow of ours is in progress."""
    return any(
        entry.state is ConfigEntryState.LOADED and entry.data.get(CONF_PARTNER_DOMAIN)
        for entry in hass.config_entries.async_entries(DOMAIN)
    ) or bool(hass.config_entries.flow.async_progress_by_handler(DOMAIN))


class PublicKeyView(HomeAssistantView):
    """``GET /.well-known/appspecific/com.tesla.3p.public-key.pem`` (no authentication)."""

    url = KEY_PATH
    name = f"{DOMAIN}:public_key"
    requires_auth = False

    async def get(self, request: web.Request) -> web.Response:
        """The public key in PEM while it is in use; 404 otherwise."""
        hass = request.app[KEY_HASS]
        if not _in_use(hass):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        key = await async_get_app_key(hass)
        return web.Response(text=key.public_pem, content_type="application/x-pem-file")


@callback
def async_serve_public_key(hass: HomeAssistant) -> None:
    """Register the public key's view (once; later calls do nothing)."""
    data = _data(hass)
    if not data.view_registered:
        hass.http.register_view(PublicKeyView())
        data.view_registered = True
