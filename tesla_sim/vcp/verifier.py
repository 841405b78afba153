"""The car's verifier: which signed commands it accepts, and the fault it answers otherwise.

Checks in the order Tesla's car-side verifier uses: the signer must be on the whitelist
(``UNKNOWN_KEY_ID``), the message must carry HMAC-personalized signature data (the
Fleet API passes no other kind: ``BAD_PARAMETER``), its epoch must be the domain's
(``INCORRECT_EPOCH``), its ``expires_at`` not behind the domain's clock
(``TIME_EXPIRED``), its tag right (``INVALID_SIGNATURE``) and its counter fresh
(``INVALID_TOKEN_OR_COUNTER``). The last four are synchronisation faults: the answer
carries the session info the client needs to resync.

Over Bluetooth (``aes=True``) the car takes AES-GCM-personalized commands as well: the
same checks, the tag being that of the AES-GCM encryption (``aes.decrypt``).
"""

from collections.abc import Mapping

from tesla_protocol.command.signatures_pb2 import (
    AES_GCM_Personalized_Signature_Data,
    HMAC_Personalized_Signature_Data,
    SignatureType,
)
from tesla_protocol.command.universal_message_pb2 import MessageFault_E, RoutableMessage

from .aes import Undecryptable, decrypt
from .sessions import DomainKeys
from .tags import command_metadata, command_tag, same_tag, shared_key


class Fault(Exception):
    """A message the car refuses: a ``MessageFault_E`` code."""

    def __init__(self, code: int, *, resync: bool = False) -> None:
        """``resync``: the answer carries fresh session info for the signer."""
        super().__init__(MessageFault_E.Name(code))
        self.code = code
        self.resync = resync


def signer(message: RoutableMessage) -> bytes:
    """The public key the message claims to be signed with (empty when none)."""
    return message.signature_data.signer_identity.public_key


def verify(
    keys: DomainKeys,
    whitelist: Mapping[bytes, str],
    vin: str,
    message: RoutableMessage,
    now: float,
    *,
    aes: bool = False,
) -> bytes:
    """The (plain) payload of a command ``keys``' domain accepts; ``Fault`` otherwise.

    ``aes``: AES-GCM-personalized commands are accepted too (Bluetooth). An accepted
    command uses up its counter.
    """
    client = signer(message)
    if client not in whitelist:
        raise Fault(MessageFault_E.MESSAGEFAULT_ERROR_UNKNOWN_KEY_ID)
    kind = message.signature_data.WhichOneof("sig_type")
    if aes and kind == "AES_GCM_Personalized_data":
        return _verify_gcm(keys, client, vin, message, now)
    if kind != "HMAC_Personalized_data":
        raise Fault(MessageFault_E.MESSAGEFAULT_ERROR_BAD_PARAMETER)
    data = message.signature_data.HMAC_Personalized_data
    meta = _checked_metadata(keys, vin, message, data, now)
    payload = message.protobuf_message_as_bytes
    expected = command_tag(shared_key(keys.private_key, client), meta, payload)
    if not same_tag(expected, data.tag):
        raise Fault(MessageFault_E.MESSAGEFAULT_ERROR_INVALID_SIGNATURE, resync=True)
    _use_counter(keys, client, data.counter)
    return payload


def _check_time(keys: DomainKeys, epoch: bytes, expires_at: int, now: float) -> None:
    """The epoch (when given) must be the domain's, ``expires_at`` not behind its clock."""
    if epoch and epoch != keys.epoch:
        raise Fault(MessageFault_E.MESSAGEFAULT_ERROR_INCORRECT_EPOCH, resync=True)
    if expires_at < keys.clock(now):
        raise Fault(MessageFault_E.MESSAGEFAULT_ERROR_TIME_EXPIRED, resync=True)


def _checked_metadata(
    keys: DomainKeys,
    vin: str,
    message: RoutableMessage,
    data: HMAC_Personalized_Signature_Data | AES_GCM_Personalized_Signature_Data,
    now: float,
) -> bytes:
    """Check ``data``'s epoch and time (``_check_time``); the metadata its tag covers."""
    _check_time(keys, data.epoch, data.expires_at, now)
    signature_type = (
        SignatureType.SIGNATURE_TYPE_AES_GCM_PERSONALIZED
        if isinstance(data, AES_GCM_Personalized_Signature_Data)
        else SignatureType.SIGNATURE_TYPE_HMAC_PERSONALIZED
    )
    return command_metadata(
        domain=message.to_destination.domain,
        vin=vin,
        epoch=keys.epoch,
        expires_at=data.expires_at,
        counter=data.counter,
        flags=message.flags,
        signature_type=signature_type,
    )


def _use_counter(keys: DomainKeys, client: bytes, counter: int) -> None:
    """Accept ``counter`` once (VCSEC: rising only; infotainment: in the window)."""
    window = not keys.strictly_rising
    if not keys.counter(client).accept(counter, window=window):
        raise Fault(
            MessageFault_E.MESSAGEFAULT_ERROR_INVALID_TOKEN_OR_COUNTER, resync=True
        )


def _verify_gcm(
    keys: DomainKeys, client: bytes, vin: str, message: RoutableMessage, now: float
) -> bytes:
    """The plaintext of an AES-GCM-personalized command (``Fault`` otherwise)."""
    data = message.signature_data.AES_GCM_Personalized_data
    meta = _checked_metadata(keys, vin, message, data, now)
    try:
        plaintext = decrypt(
            shared_key(keys.private_key, client),
            meta,
            data.nonce,
            message.protobuf_message_as_bytes,
            data.tag,
        )
    except Undecryptable:
        raise Fault(
            MessageFault_E.MESSAGEFAULT_ERROR_INVALID_SIGNATURE, resync=True
        ) from None
    _use_counter(keys, client, data.counter)
    return plaintext
