"""VCSEC: remote keyless entry actions and closure moves, and the answers VCSEC gives.

A request is a ``VCSEC.UnsignedMessage``: an ``RKEAction`` (lock, unlock, open the trunk
or frunk, the charge port, remote drive) or a ``closureMoveRequest`` (move, open or close
the trunks and the charge port). The answer is a ``FromVCSECMessage``: a command status
``OK`` on success, a ``nominalError`` (a ``GenericError_E``, VCSEC has no free text)
otherwise.
"""

from tesla_protocol.command.errors_pb2 import GenericError_E, NominalError
from tesla_protocol.command.vcsec_pb2 import (
    ClosureMoveRequest,
    ClosureMoveType_E,
    CommandStatus,
    FromVCSECMessage,
    OperationStatus_E,
    RKEAction_E,
    UnsignedMessage,
)

from ..commands import Result
from ..vehicles import Vehicle
from .calls import NO_CHANGE, UNSUPPORTED, Call

FRUNK: Call = ("actuate_trunk", {"which_trunk": "front"})
TRUNK: Call = ("actuate_trunk", {"which_trunk": "rear"})
PORT_OPEN: Call = ("charge_port_door_open", {})
PORT_CLOSE: Call = ("charge_port_door_close", {})
RKE_CALLS: dict[int, Call] = {
    RKEAction_E.RKE_ACTION_LOCK: ("door_lock", {}),
    RKEAction_E.RKE_ACTION_UNLOCK: ("door_unlock", {}),
    RKEAction_E.RKE_ACTION_OPEN_FRUNK: FRUNK,
    RKEAction_E.RKE_ACTION_OPEN_CHARGE_PORT: PORT_OPEN,
    RKEAction_E.RKE_ACTION_CLOSE_CHARGE_PORT: PORT_CLOSE,
    RKEAction_E.RKE_ACTION_REMOTE_DRIVE: ("remote_start_drive", {}),
    RKEAction_E.RKE_ACTION_WAKE_VEHICLE: NO_CHANGE,
}
ERRORS = {
    UNSUPPORTED: GenericError_E.GENERICERROR_NOT_SUPPORTED,
    "rear trunk is not powered": GenericError_E.GENERICERROR_NOT_SUPPORTED,
}
"""The generic error for a handler's reason (others: ``GENERICERROR_UNKNOWN``)."""


def _move(
    move: int, is_open: bool, opening: Call | None, closing: Call | None
) -> Call | None:
    """A closure move: ``MOVE`` toggles, ``OPEN``/``CLOSE`` go (or stay) one way."""
    if move == ClosureMoveType_E.CLOSURE_MOVE_TYPE_MOVE:
        return closing if is_open else opening
    if move == ClosureMoveType_E.CLOSURE_MOVE_TYPE_OPEN:
        return NO_CHANGE if is_open else opening
    if move == ClosureMoveType_E.CLOSURE_MOVE_TYPE_CLOSE:
        return closing if is_open else NO_CHANGE
    return None


def _closure(request: ClosureMoveRequest, car: Vehicle) -> Call | None:
    """The first closure the request moves (the frunk does not close remotely)."""
    if request.frontTrunk:
        return _move(request.frontTrunk, bool(car.doors["ft"]), FRUNK, None)
    if request.rearTrunk:
        return _move(request.rearTrunk, bool(car.doors["rt"]), TRUNK, TRUNK)
    if request.chargePort == ClosureMoveType_E.CLOSURE_MOVE_TYPE_OPEN:
        # Open, or on an open port release the cable's latch (as the phone app does).
        return PORT_OPEN
    if request.chargePort:
        return _move(
            request.chargePort, car.charge_port_door_open, PORT_OPEN, PORT_CLOSE
        )
    return None


def to_call(payload: bytes, car: Vehicle) -> Call | None:
    """The command an ``UnsignedMessage`` asks for (None: not one the car carries out).

    Raises ``google.protobuf.message.DecodeError`` for a payload that does not parse.
    """
    message = UnsignedMessage.FromString(payload)
    kind = message.WhichOneof("sub_message")
    if kind == "RKEAction":
        if message.RKEAction == RKEAction_E.RKE_ACTION_OPEN_TRUNK:
            return _move(
                ClosureMoveType_E.CLOSURE_MOVE_TYPE_OPEN,
                bool(car.doors["rt"]),
                TRUNK,
                TRUNK,
            )
        return RKE_CALLS.get(message.RKEAction)
    if kind == "closureMoveRequest":
        return _closure(message.closureMoveRequest, car)
    return None


def answer(result: Result) -> bytes:
    """The encoded ``FromVCSECMessage`` for a handler's (result, reason)."""
    ok, reason = result
    if ok:
        status = CommandStatus(operationStatus=OperationStatus_E.OPERATIONSTATUS_OK)
        message = FromVCSECMessage(commandStatus=status)
    else:
        error = ERRORS.get(reason, GenericError_E.GENERICERROR_UNKNOWN)
        message = FromVCSECMessage(nominalError=NominalError(genericError=error))
    encoded: bytes = message.SerializeToString()
    return encoded
