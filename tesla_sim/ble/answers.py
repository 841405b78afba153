"""What a car answers over Bluetooth, on top of the command protocol of ``tesla_sim.vcp``.

* Signed messages (session info requests, HMAC- or AES-GCM-personalized commands) go
  through ``vcp.answer`` with a ``local`` hook: VCSEC answers ``InformationRequest
  GET_STATUS`` with its ``VehicleStatus`` and wakes the car on ``RKE_ACTION_WAKE_VEHICLE``;
  infotainment answers ``getVehicleData``; everything else runs the REST handlers.
* Unsigned VCSEC messages: ``GET_STATUS`` is answered to anyone in range; a
  ``WhitelistOperation`` that adds a key waits for the owner's key card (``pairing``);
  others are commands from an unknown key.
* Infotainment is silent while the car sleeps (no answer at all).
"""

from collections.abc import Callable
import random

from google.protobuf.message import DecodeError
from tesla_protocol.command.car_server_pb2 import Action, Response
from tesla_protocol.command.keys_pb2 import Role
from tesla_protocol.command.universal_message_pb2 import (
    Destination,
    Domain,
    OperationStatus_E,
    RoutableMessage,
)
from tesla_protocol.command.vcsec_pb2 import (
    CommandStatus,
    FromVCSECMessage,
    InformationRequestType,
    OperationStatus_E as VcsecStatus,
    RKEAction_E,
    UnsignedMessage,
    WhitelistOperation_information_E,
    WhitelistOperation_status,
)

from ..vcp import CarKeys, answer as vcp_answer
from ..vcp.replies import reply_to
from ..vcp.sessions import INFOTAINMENT, VCSEC
from ..vehicles import Vehicle
from .status import asleep, vehicle_data, vehicle_status

GET_STATUS = InformationRequestType.INFORMATION_REQUEST_TYPE_GET_STATUS
WhitelistInfo = WhitelistOperation_information_E
ROLES = {Role.ROLE_OWNER: "owner", Role.ROLE_DRIVER: "driver"}


def encoded(message: FromVCSECMessage | Response) -> bytes:
    """The bytes of an application message."""
    data: bytes = message.SerializeToString()
    return data


def status_message(car: Vehicle) -> bytes:
    """An encoded ``FromVCSECMessage`` carrying the car's ``VehicleStatus``."""
    return encoded(FromVCSECMessage(vehicleStatus=vehicle_status(car)))


def broadcast(car: Vehicle) -> RoutableMessage:
    """The unsolicited VCSEC status every open link gets when the status changes."""
    return RoutableMessage(
        to_destination=Destination(domain=Domain.DOMAIN_BROADCAST),
        from_destination=Destination(domain=VCSEC),
        protobuf_message_as_bytes=status_message(car),
    )


def whitelist_reply(request: RoutableMessage, info: int) -> RoutableMessage:
    """VCSEC's terminal answer to a whitelist operation (``info`` NONE: done)."""
    ok = info == WhitelistInfo.WHITELISTOPERATION_INFORMATION_NONE
    status = VcsecStatus.OPERATIONSTATUS_OK if ok else VcsecStatus.OPERATIONSTATUS_ERROR
    message = FromVCSECMessage(
        commandStatus=CommandStatus(
            operationStatus=status,
            whitelistOperationStatus=WhitelistOperation_status(
                whitelistOperationInformation=info,  # type: ignore[arg-type]
                operationStatus=status,
            ),
        )
    )
    reply = reply_to(request, VCSEC)
    reply.protobuf_message_as_bytes = encoded(message)
    return reply


def wait_reply(request: RoutableMessage) -> RoutableMessage:
    """``OPERATIONSTATUS_WAIT``: busy with something else, try again shortly."""
    domain = request.to_destination.domain
    reply = reply_to(request, domain)
    if domain == VCSEC:
        status = CommandStatus(operationStatus=VcsecStatus.OPERATIONSTATUS_WAIT)
        reply.protobuf_message_as_bytes = encoded(
            FromVCSECMessage(commandStatus=status)
        )
    else:
        reply.signedMessageStatus.operation_status = (
            OperationStatus_E.OPERATIONSTATUS_WAIT
        )
    return reply


def is_command(request: RoutableMessage) -> bool:
    """A signed command (not a handshake, not an unsigned VCSEC message)."""
    return request.HasField("signature_data") and not request.HasField(
        "session_info_request"
    )


def unsigned_vcsec(request: RoutableMessage) -> UnsignedMessage | None:
    """The unsigned VCSEC message of ``request`` (None: signed, or not one)."""
    if (
        request.to_destination.domain != VCSEC
        or request.HasField("signature_data")
        or request.HasField("session_info_request")
    ):
        return None
    try:
        message: UnsignedMessage = UnsignedMessage.FromString(
            request.protobuf_message_as_bytes
        )
    except DecodeError:
        return None
    return message


def is_status_request(message: UnsignedMessage) -> bool:
    """An ``InformationRequest`` for the ``VehicleStatus``."""
    return (
        message.WhichOneof("sub_message") == "InformationRequest"
        and message.InformationRequest.informationRequestType == GET_STATUS
    )


def status_reply(request: RoutableMessage, car: Vehicle) -> RoutableMessage:
    """VCSEC's ``VehicleStatus`` answering ``request`` (in plain text)."""
    reply = reply_to(request, VCSEC)
    reply.protobuf_message_as_bytes = status_message(car)
    return reply


def pairing_key(message: UnsignedMessage) -> tuple[bytes, str] | None:
    """(public key, role) of a whitelist operation adding a key (None: not one)."""
    if message.WhichOneof("sub_message") != "WhitelistOperation":
        return None
    operation = message.WhitelistOperation
    if not operation.HasField("addKeyToWhitelistAndAddPermissions"):
        return None
    change = operation.addKeyToWhitelistAndAddPermissions
    return change.key.PublicKeyRaw, ROLES.get(change.keyRole, "driver")


def local(
    car: Vehicle, now: float, rng: random.Random
) -> Callable[[int, bytes], bytes | None]:
    """The ``vcp.answer`` hook of ``car``: Bluetooth's own answers to verified payloads."""

    def answer(domain: int, data: bytes) -> bytes | None:
        if domain == VCSEC:
            message = UnsignedMessage.FromString(data)
            if is_status_request(message):
                return status_message(car)
            if message.WhichOneof("sub_message") == "RKEAction" and (
                message.RKEAction == RKEAction_E.RKE_ACTION_WAKE_VEHICLE
            ):
                car.wake_up(now, rng)
                car.touch_user(now)
                ok = CommandStatus(operationStatus=VcsecStatus.OPERATIONSTATUS_OK)
                return encoded(FromVCSECMessage(commandStatus=ok))
            return None
        action = Action.FromString(data).vehicleAction
        if action.HasField("getVehicleData"):
            car.touch_data(now)
            found = vehicle_data(car, action.getVehicleData, now)
            return encoded(Response(vehicleData=found))
        return None

    return answer


def signed(
    keys: CarKeys,
    car: Vehicle,
    request: RoutableMessage,
    now: float,
    rng: random.Random,
) -> RoutableMessage | None:
    """The car's answer to a signed message or handshake (None: silence)."""
    if request.to_destination.domain == INFOTAINMENT and asleep(car):
        return None
    return vcp_answer(keys, car, request, now, (), local=local(car, now, rng))
