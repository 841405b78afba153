"""The app key: the EC P-256 key pair this Home Assistant signs car commands with.

One key pair per Home Assistant, made the first time it is needed and kept in Home
Assistant's storage (its own private file; never the entry data, a log line or
diagnostics). Making and reading it run in the executor, not on the event loop. A car
takes signed commands only from a key its owner approved (the virtual key).
"""

import asyncio
from dataclasses import dataclass, field
import hashlib
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER

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


DATA: HassKey[_KeyData] = HassKey(f"{DOMAIN}_app_key")


def _new_key() -> tuple[AppKey, str]:
    """A fresh key pair and its private key as PKCS #8 PEM (executor)."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return AppKey.from_private_key(private_key), private_pem


def _load_key(private_pem: str) -> AppKey:
    """The stored key pair (executor); ValueError or TypeError when unreadable."""
    private_key = serialization.load_pem_private_key(private_pem.encode(), None)
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise TypeError("the stored app key is not an EC P-256 key")
    return AppKey.from_private_key(private_key)


async def async_get_app_key(hass: HomeAssistant) -> AppKey:
    """The app key: loaded from storage, or made (and saved) the first time."""
    if (data := hass.data.get(DATA)) is None:
        data = hass.data[DATA] = _KeyData(
            Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True, atomic_writes=True)
        )
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
        key, private_pem = await hass.async_add_executor_job(_new_key)
        await data.store.async_save({"private_key": private_pem})
        data.key = key
        LOGGER.info("Made the app key (fingerprint %s)", key.fingerprint)
        return key
