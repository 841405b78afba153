"""A car answering one ``RoutableMessage``: handshakes, signed commands, faults.

* A ``session_info_request`` from a key on the car's whitelist is answered with the
  domain's ``SessionInfo`` (its public key, epoch, clock and the key's counter) tagged
  with the session-info key. VCSEC answers an unknown key with the session info status
  ``KEY_NOT_ON_WHITELIST``; infotainment with the fault ``UNKNOWN_KEY_ID``.
* A signed command is checked by ``verifier.verify``; a refused one is answered with its
  fault (and session info to resync where the fault is a synchronisation fault). An
  accepted one runs the REST command handler it stands for -- unless the owner has
  switched off remote access (``REMOTE_ACCESS_DISABLED``) -- and the answer carries the
  handler's result.
* A message to another domain is answered ``INVALID_DOMAINS``; one without a signer is
  a command from an unknown key.

The Fleet API sees HMAC-signed commands in plain text, so it refuses (``MissingScope``,
HTTP 403) a command the token's scopes do not allow before the car is asked. Over
Bluetooth (``answer(..., local=...)``) there is no token: commands may be AES-GCM
encrypted, and answers are encrypted when the request sets ``FLAG_ENCRYPT_RESPONSE``.
"""

from collections.abc import Callable, Collection

from google.protobuf.message import DecodeError
from tesla_protocol.command.signatures_pb2 import Session_Info_Status
from tesla_protocol.command.universal_message_pb2 import MessageFault_E, RoutableMessage

from ..vehicles import Vehicle
from . import actions, vcsec
from .aes import ENCRYPT_RESPONSE, encrypt_answer, request_hash
from .calls import Call, needs_vehicle_cmds, run
from .replies import add_session_info, fault, payload, reply_to
from .sessions import DOMAINS, VCSEC, CarKeys, DomainKeys
from .tags import shared_key
from .verifier import Fault, signer, verify

type Local = Callable[[int, bytes], bytes | None]
"""Bluetooth's own answers: (domain, verified plain payload) -> the encoded answer, or
None for a payload the REST handlers carry out (``DecodeError`` when it does not parse)."""


class BadMessage(ValueError):
    """Bytes that are not a ``RoutableMessage`` (the Fleet API answers HTTP 400)."""


class MissingScope(Exception):
    """A command the token may not send (the Fleet API answers HTTP 403)."""


def parse(raw: bytes) -> RoutableMessage:
    """The ``RoutableMessage`` in ``raw`` (``BadMessage`` otherwise)."""
    try:
        message: RoutableMessage = RoutableMessage.FromString(raw)
    except DecodeError as err:
        raise BadMessage(str(err)) from None
    return message


def _decode(domain: int, data: bytes, car: Vehicle) -> Call | None:
    """The command a payload asks for (``DecodeError`` when it does not parse)."""
    to_call = vcsec.to_call if domain == VCSEC else actions.to_call
    return to_call(data, car)


def _session_info(
    keys: DomainKeys, car: Vehicle, request: RoutableMessage, now: float
) -> RoutableMessage:
    reply = reply_to(request, keys.domain)
    client = request.session_info_request.public_key
    known = client in car.whitelist
    if not known and keys.domain != VCSEC:
        return fault(reply, MessageFault_E.MESSAGEFAULT_ERROR_UNKNOWN_KEY_ID)
    try:
        status = (
            Session_Info_Status.SESSION_INFO_STATUS_OK
            if known
            else Session_Info_Status.SESSION_INFO_STATUS_KEY_NOT_ON_WHITELIST
        )
        return add_session_info(
            reply,
            keys,
            car.vin,
            client=client,
            challenge=request.uuid,
            now=now,
            status=status,
        )
    except ValueError:  # not a P-256 point
        return fault(reply, MessageFault_E.MESSAGEFAULT_ERROR_BAD_PARAMETER)


def _decoded(domain: int, data: bytes, car: Vehicle) -> tuple[Call | None, bool]:
    """(the command ``data`` asks for, whether it parsed)."""
    try:
        return _decode(domain, data, car), True
    except DecodeError:
        return None, False


def _command(
    keys: DomainKeys,
    car: Vehicle,
    request: RoutableMessage,
    now: float,
    scopes: Collection[str],
    *,
    local: Local | None,
) -> RoutableMessage:
    reply = reply_to(request, keys.domain)
    if local is None:  # the Fleet API reads the plain text before the car does
        call, decoded = _decoded(keys.domain, request.protobuf_message_as_bytes, car)
        if needs_vehicle_cmds(call) and "vehicle_cmds" not in scopes:
            raise MissingScope("vehicle_cmds")
    try:
        data = verify(keys, car.whitelist, car.vin, request, now, aes=local is not None)
    except Fault as refused:
        if refused.resync:
            add_session_info(
                reply,
                keys,
                car.vin,
                client=signer(request),
                challenge=request.uuid,
                now=now,
            )
        return fault(reply, refused.code)
    if local is not None:
        return _local(keys, car, request, now, local=local, data=data)
    if not decoded:
        return fault(reply, MessageFault_E.MESSAGEFAULT_ERROR_DECODING)
    if not car.remote_access:
        return fault(reply, MessageFault_E.MESSAGEFAULT_ERROR_REMOTE_ACCESS_DISABLED)
    result = run(car, call, now)
    answer = vcsec.answer if keys.domain == VCSEC else actions.answer
    return payload(reply, answer(result))


def _local(
    keys: DomainKeys,
    car: Vehicle,
    request: RoutableMessage,
    now: float,
    *,
    local: Local,
    data: bytes,
) -> RoutableMessage:
    """A verified command over Bluetooth: ``local`` first, then the REST handlers;
    the answer encrypted when the request asks for it."""
    reply = reply_to(request, keys.domain)
    try:
        answered = local(keys.domain, data)
        if answered is None:
            result = run(car, _decode(keys.domain, data, car), now)
            answered = (vcsec.answer if keys.domain == VCSEC else actions.answer)(
                result
            )
    except DecodeError:
        return fault(reply, MessageFault_E.MESSAGEFAULT_ERROR_DECODING)
    payload(reply, answered)
    if request.flags & ENCRYPT_RESPONSE:
        encrypt_answer(
            reply,
            shared=shared_key(keys.private_key, signer(request)),
            vin=car.vin,
            hashed=request_hash(request),
        )
    return reply


def answer(
    keys: CarKeys,
    car: Vehicle,
    request: RoutableMessage,
    now: float,
    scopes: Collection[str],
    *,
    local: Local | None = None,
) -> RoutableMessage:
    """The car's answer to ``request`` (sent with a token holding ``scopes``).

    ``local``: the request came over Bluetooth (no token, AES-GCM accepted, answers
    encrypted on request, remote access not needed); it answers the payloads the REST
    handlers do not (status, vehicle data), None for the others.
    """
    domain = request.to_destination.domain
    if domain not in DOMAINS:
        reply = reply_to(request, domain)
        return fault(reply, MessageFault_E.MESSAGEFAULT_ERROR_INVALID_DOMAINS)
    domain_keys = keys.domains[domain]
    if request.HasField("session_info_request"):
        return _session_info(domain_keys, car, request, now)
    return _command(domain_keys, car, request, now, scopes, local=local)
