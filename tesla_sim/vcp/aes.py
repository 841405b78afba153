"""AES-GCM: personalized commands (as sent over Bluetooth) and encrypted answers.

Written from Tesla's ``pkg/protocol/protocol.md`` (vehicle-command):

* An AES-GCM-personalized command encrypts the payload ``P`` with the shared key ``K``
  (AES-GCM-128), a 12-byte nonce and the associated data ``SHA256(M)``, ``M`` being the
  command metadata (``tags.command_metadata``) with the signature type
  ``AES_GCM_PERSONALIZED`` (flags only when non-zero). The message carries the ciphertext, the nonce and the 16-byte tag.
* An answer to a request with ``FLAG_ENCRYPT_RESPONSE`` (firmware 2024.38+) is encrypted
  the same way under the response metadata: signature type ``AES_GCM_RESPONSE``, the
  answering domain, the VIN, a counter, the answer's flags (always present), the request
  hash (signature type byte + the request's tag, 17 bytes at most for VCSEC) and the
  answer's fault (four bytes).
"""

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tesla_protocol.command.signatures_pb2 import SignatureType, Tag
from tesla_protocol.command.universal_message_pb2 import Flags, RoutableMessage

from .sessions import VCSEC
from .tags import metadata, uint32

NONCE_BYTES = 12
TAG_BYTES = 16
VCSEC_REQUEST_HASH_BYTES = 17
ENCRYPT_RESPONSE = 1 << Flags.FLAG_ENCRYPT_RESPONSE


class Undecryptable(ValueError):
    """Ciphertext, nonce or tag that do not open under the key and metadata."""


def decrypt(
    shared: bytes, meta: bytes, nonce: bytes, ciphertext: bytes, tag: bytes
) -> bytes:
    """The plaintext of an AES-GCM-personalized command (``Undecryptable`` otherwise)."""
    if len(nonce) != NONCE_BYTES or len(tag) != TAG_BYTES:
        raise Undecryptable("bad nonce or tag length")
    aad = hashlib.sha256(meta).digest()
    try:
        return AESGCM(shared).decrypt(nonce, ciphertext + tag, aad)
    except InvalidTag:
        raise Undecryptable("tag mismatch") from None


def request_hash(request: RoutableMessage) -> bytes:
    """The request hash of a signed request (empty for an unsigned one)."""
    data = request.signature_data
    kind = data.WhichOneof("sig_type")
    if kind == "AES_GCM_Personalized_data":
        sig_type = SignatureType.SIGNATURE_TYPE_AES_GCM_PERSONALIZED
        tag = data.AES_GCM_Personalized_data.tag
    elif kind == "HMAC_Personalized_data":
        sig_type = SignatureType.SIGNATURE_TYPE_HMAC_PERSONALIZED
        tag = data.HMAC_Personalized_data.tag
    else:
        return b""
    hashed = bytes((sig_type,)) + tag
    if request.to_destination.domain == VCSEC:
        return hashed[:VCSEC_REQUEST_HASH_BYTES]
    return hashed


def response_metadata(
    *, domain: int, vin: str, counter: int, flags: int, hashed: bytes, fault: int
) -> bytes:
    """The metadata an encrypted answer is bound to."""
    return metadata(
        (
            (
                Tag.TAG_SIGNATURE_TYPE,
                bytes((SignatureType.SIGNATURE_TYPE_AES_GCM_RESPONSE,)),
            ),
            (Tag.TAG_DOMAIN, bytes((domain,))),
            (Tag.TAG_PERSONALIZATION, vin.encode()),
            (Tag.TAG_COUNTER, uint32(counter)),
            (Tag.TAG_FLAGS, uint32(flags)),
            (Tag.TAG_REQUEST_HASH, hashed),
            (Tag.TAG_FAULT, uint32(fault)),
        )
    )


def encrypt_answer(
    reply: RoutableMessage,
    *,
    shared: bytes,
    vin: str,
    hashed: bytes,
    counter: int = 1,
) -> RoutableMessage:
    """Encrypt ``reply``'s payload in place (``AES_GCM_Response_data``); returns it.

    ``hashed`` is the request hash of the request answered; ``counter`` rises with each
    answer to the same request.
    """
    meta = response_metadata(
        domain=reply.from_destination.domain,
        vin=vin,
        counter=counter,
        flags=reply.flags,
        hashed=hashed,
        fault=reply.signedMessageStatus.signed_message_fault,
    )
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(shared).encrypt(
        nonce, reply.protobuf_message_as_bytes, hashlib.sha256(meta).digest()
    )
    reply.protobuf_message_as_bytes = sealed[:-TAG_BYTES]
    data = reply.signature_data.AES_GCM_Response_data
    data.counter = counter
    data.nonce = nonce
    data.tag = sealed[-TAG_BYTES:]
    return reply
