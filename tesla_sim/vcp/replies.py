"""The car's answers: session info with its tag, faults, application payloads.

An answer swaps the request's addresses (to the client's routing address, from the
domain) and echoes its uuid as ``request_uuid`` -- except VCSEC's, which leave it empty
for lack of memory, as protocol.md says. Over the Fleet API the simulated firmware
ignores ``FLAG_ENCRYPT_RESPONSE`` (payloads go back in plain text); over Bluetooth it
encrypts them (``aes.encrypt_answer``).
"""

from tesla_protocol.command.signatures_pb2 import Session_Info_Status, SessionInfo
from tesla_protocol.command.universal_message_pb2 import (
    Destination,
    OperationStatus_E,
    RoutableMessage,
)

from .sessions import VCSEC, DomainKeys
from .tags import session_info_tag, shared_key


def reply_to(request: RoutableMessage, domain: int) -> RoutableMessage:
    """An empty answer from ``domain`` to ``request``'s sender."""
    return RoutableMessage(
        to_destination=Destination(
            routing_address=request.from_destination.routing_address
        ),
        from_destination=Destination(domain=domain),  # type: ignore[arg-type]
        request_uuid=b"" if domain == VCSEC else request.uuid,
    )


def add_session_info(
    reply: RoutableMessage,
    keys: DomainKeys,
    vin: str,
    *,
    client: bytes,
    challenge: bytes,
    now: float,
    status: int = Session_Info_Status.SESSION_INFO_STATUS_OK,
) -> RoutableMessage:
    """Put the domain's session info for ``client`` and its tag into ``reply``.

    ``challenge`` is the uuid of the request answered; ``client`` must be a valid point.
    """
    counter = keys.counters.get(client)
    info: bytes = SessionInfo(
        counter=0 if counter is None else counter.highest,
        publicKey=keys.public_key,
        epoch=keys.epoch,
        clock_time=keys.clock(now),
        status=status,  # type: ignore[arg-type]
    ).SerializeToString()
    tag = session_info_tag(shared_key(keys.private_key, client), vin, challenge, info)
    reply.session_info = info
    reply.signature_data.session_info_tag.tag = tag
    return reply


def fault(reply: RoutableMessage, code: int) -> RoutableMessage:
    """Mark ``reply`` as refused with ``code`` (a ``MessageFault_E``)."""
    reply.signedMessageStatus.operation_status = OperationStatus_E.OPERATIONSTATUS_ERROR
    reply.signedMessageStatus.signed_message_fault = code  # type: ignore[assignment]
    return reply


def payload(reply: RoutableMessage, data: bytes) -> RoutableMessage:
    """Carry the application's answer (a car_server ``Response`` or a VCSEC message)."""
    reply.protobuf_message_as_bytes = data
    return reply
