"""The protocol's cryptography: shared key, derived keys, metadata and HMAC tags.

Written from Tesla's ``pkg/protocol/protocol.md`` (vehicle-command): the shared key
``K = SHA1(ECDH x-coordinate)[:16]``; ``HMAC-SHA256(K, "session info")`` authenticates
session info, ``HMAC-SHA256(K, "authenticated command")`` commands. Metadata is a list of
tag-length-value items sorted by tag and closed by ``0xFF``; integers are four bytes
big-endian.
"""

from collections.abc import Iterable
import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from tesla_protocol.command.signatures_pb2 import SignatureType, Tag

SESSION_INFO_LABEL = b"session info"
COMMAND_LABEL = b"authenticated command"
END = bytes((Tag.TAG_END,))
MAX_VALUE_BYTES = 255


def public_bytes(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The 65-byte uncompressed point of ``key``'s public half."""
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def shared_key(private: ec.EllipticCurvePrivateKey, peer_public: bytes) -> bytes:
    """``K``: SHA1 of the ECDH x-coordinate, first 16 bytes (ValueError for a bad point)."""
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), peer_public)
    secret = private.exchange(ec.ECDH(), peer)
    return hashlib.sha1(secret).digest()[:16]  # noqa: S324 - the protocol's choice


def derived_key(shared: bytes, label: bytes) -> bytes:
    """``HMAC-SHA256(K, label)``: the session-info key or the command key."""
    return hmac.new(shared, label, hashlib.sha256).digest()


def uint32(value: int) -> bytes:
    """An integer metadata value: four bytes, big-endian."""
    return value.to_bytes(4, "big")


def metadata(items: Iterable[tuple[int, bytes]]) -> bytes:
    """Serialize ``(tag, value)`` items: sorted by tag, TLV each, then ``0xFF``."""
    out = bytearray()
    for tag, value in sorted(items, key=lambda item: item[0]):
        if len(value) > MAX_VALUE_BYTES:
            raise ValueError(f"metadata value of tag {tag} is too long")
        out += bytes((tag, len(value))) + value
    return bytes(out) + END


def session_info_metadata(vin: str, challenge: bytes) -> bytes:
    """What a session info tag covers before the encoded ``SessionInfo``."""
    return metadata(
        (
            (Tag.TAG_SIGNATURE_TYPE, bytes((SignatureType.SIGNATURE_TYPE_HMAC,))),
            (Tag.TAG_PERSONALIZATION, vin.encode()),
            (Tag.TAG_CHALLENGE, challenge),
        )
    )


def session_info_tag(shared: bytes, vin: str, challenge: bytes, info: bytes) -> bytes:
    """The tag of an encoded ``SessionInfo`` answering the request ``challenge`` (its uuid)."""
    key = derived_key(shared, SESSION_INFO_LABEL)
    body = session_info_metadata(vin, challenge) + info
    return hmac.new(key, body, hashlib.sha256).digest()


def command_metadata(
    *,
    domain: int,
    vin: str,
    epoch: bytes,
    expires_at: int,
    counter: int,
    flags: int,
    signature_type: int = SignatureType.SIGNATURE_TYPE_HMAC_PERSONALIZED,
) -> bytes:
    """The metadata ``M`` of a personalized command (flags only when non-zero).

    ``signature_type``: HMAC-personalized (the default) or AES-GCM-personalized.
    """
    items = [
        (Tag.TAG_SIGNATURE_TYPE, bytes((signature_type,))),
        (Tag.TAG_DOMAIN, bytes((domain,))),
        (Tag.TAG_PERSONALIZATION, vin.encode()),
        (Tag.TAG_EPOCH, epoch),
        (Tag.TAG_EXPIRES_AT, uint32(expires_at)),
        (Tag.TAG_COUNTER, uint32(counter)),
    ]
    if flags:
        items.append((Tag.TAG_FLAGS, uint32(flags)))
    return metadata(items)


def command_tag(shared: bytes, command_metadata: bytes, payload: bytes) -> bytes:
    """``HMAC-SHA256(K', M || P)`` with ``K'`` the command key."""
    key = derived_key(shared, COMMAND_LABEL)
    return hmac.new(key, command_metadata + payload, hashlib.sha256).digest()


def same_tag(expected: bytes, received: bytes) -> bool:
    """Constant-time tag comparison."""
    return hmac.compare_digest(expected, received)
