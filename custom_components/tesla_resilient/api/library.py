"""The one place where tesla-fleet-api's errors are caught and become :mod:`.errors`.

The library's errors derive from ``BaseException`` (not ``Exception``), so a plain
``except Exception`` misses them. :func:`library_errors` wraps every call into the
library (signed commands over the Fleet API in :mod:`.protocol`, the Bluetooth link in
:mod:`.bluetooth`) and raises only :class:`~.errors.TeslaError` subclasses; what an
error means depends on what was asked (:class:`Stage`):

* the car does not know our key -> :class:`~.errors.KeyNotPaired`;
* the session is stale (expired, an old epoch, a bad counter): the car carried nothing
  out -> :class:`StaleSession` (a :class:`~.errors.CommandFailed`), which the caller may
  cure with one new handshake;
* an answer lost or garbled after a command was sent (``BluetoothUnconfirmedCommand``,
  a replayed or undecryptable answer) -> :class:`~.errors.CommandOutcomeUnknown`: never
  sent again;
* Bluetooth that reached nothing (``BluetoothTransportError``, or a session request
  that got no answer before a command went out) -> :class:`~.errors.BluetoothUnavailable`
  (:class:`~.errors.BluetoothSlotsFull` when no connection slot was free);
* a command proven not carried out (``BluetoothCommandFailed``) or any other refusal ->
  :class:`~.errors.CommandFailed` with the car's reason;
* a read that got no answer -> :class:`~.errors.BluetoothTimeout`;
* pairing: no tap -> :class:`~.errors.PairingTimedOut`, denied on the screen ->
  :class:`~.errors.PairingDeclined`, any other whitelist refusal ->
  :class:`~.errors.PairingFailed`.

:class:`OwnRetries` is the base of both the Fleet API's signed vehicle and the Bluetooth
link: the library's own re-sends switched off, a stale session cured here (one new
handshake and one more try, :meth:`OwnRetries.retry_stale`).
"""

from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
import logging
import re
from typing import Any, Final

from bleak_retry_connector import BleakOutOfConnectionSlotsError
from cryptography.exceptions import InvalidTag
from google.protobuf.message import DecodeError
from tesla_fleet_api.exceptions import (
    BluetoothCommandFailed,
    BluetoothTimeout as LibraryBluetoothTimeout,
    BluetoothTransportError,
    BluetoothUnconfirmedCommand,
    NotOnWhitelistFault,
    SignedCommandResponseReplayed,
    SignedMessageInformationFaultIncorrectEpoch,
    SignedMessageInformationFaultNotOnWhitelist,
    SignedMessageInformationFaultTimeExpired,
    SignedMessageInformationFaultTokenAndCounterInvalid,
    TeslaFleetError,
    TeslaFleetMessageFaultIncorrectEpoch,
    TeslaFleetMessageFaultInvalidTokenOrCounter,
    TeslaFleetMessageFaultTimeExpired,
    TeslaFleetMessageFaultUnknownKeyId,
    WhitelistOperationAttemptingToAddExistingKey,
    WhitelistOperationLocalEntityAuthFailedCancelled,
    WhitelistOperationLocalEntityAuthFailedTimedOutWaitingForTap,
    WhitelistOperationLocalEntityAuthFailedTimedOutWaitingForUIAck,
    WhitelistOperationLocalEntityAuthFailedUIDenied,
    WhitelistOperationStatus,
)
from tesla_fleet_api.tesla.vehicle.commands import Commands
from tesla_protocol.command.universal_message_pb2 import Domain
from tesla_protocol.command.vcsec_pb2 import VehicleStatus

from .errors import (
    BluetoothSlotsFull,
    BluetoothTimeout,
    BluetoothUnavailable,
    CommandFailed,
    CommandOutcomeUnknown,
    KeyNotPaired,
    PairingDeclined,
    PairingFailed,
    PairingTimedOut,
    TeslaError,
)

_LOGGER = logging.getLogger(__name__)

NO_LIBRARY_RETRY: Final = 3
"""The library re-sends a command after an epoch or counter fault (or a WAIT) while its
``attempt`` is at most 3: starting every command there leaves it no re-send."""

TransportError = BluetoothTransportError
"""The library's error of a link that reached nothing (raised by :mod:`.ble_link`)."""


class Stage(StrEnum):
    """What the wrapped call asked of the car; it decides what a lost answer means."""

    COMMAND = "command"
    """A command that acts on the car: a lost answer leaves its outcome unknown."""
    READ = "read"
    """A read (status, vehicle data, a handshake): a lost answer is a timeout."""
    PAIR = "pair"
    """The whitelist add of a new key: waits for the owner's tap."""


class StaleSession(CommandFailed):
    """The car refused the session (expired, old epoch, bad counter): nothing was done.

    One new handshake and one more try may cure it; raised again, it is a refusal.
    """


KEY_UNKNOWN: tuple[type[TeslaFleetError], ...] = (
    NotOnWhitelistFault,
    TeslaFleetMessageFaultUnknownKeyId,
    SignedMessageInformationFaultNotOnWhitelist,
)
"""Faults of a car that does not know the key (no virtual key, never paired)."""

STALE_SESSION: tuple[type[TeslaFleetError], ...] = (
    TeslaFleetMessageFaultTimeExpired,
    TeslaFleetMessageFaultIncorrectEpoch,
    TeslaFleetMessageFaultInvalidTokenOrCounter,
    SignedMessageInformationFaultTimeExpired,
    SignedMessageInformationFaultIncorrectEpoch,
    SignedMessageInformationFaultTokenAndCounterInvalid,
)
"""Faults of a session the car no longer accepts: the command was not carried out."""

_NO_TAP: tuple[type[TeslaFleetError], ...] = (
    WhitelistOperationLocalEntityAuthFailedTimedOutWaitingForTap,
    WhitelistOperationLocalEntityAuthFailedTimedOutWaitingForUIAck,
)
_DECLINED: tuple[type[TeslaFleetError], ...] = (
    WhitelistOperationLocalEntityAuthFailedUIDenied,
    WhitelistOperationLocalEntityAuthFailedCancelled,
)
_SLOTS_TEXT = ("connection slot", "available connection")
"""How Bluetooth stacks word a missing free connection slot (bleak-retry-connector's)."""


def is_existing_key(err: BaseException) -> bool:
    """Whether a whitelist add failed only because the key is already on the car."""
    return isinstance(err, WhitelistOperationAttemptingToAddExistingKey)


def _reason(err: TeslaFleetError) -> str:
    """A short snake_case reason from the library's error class name."""
    name = type(err).__name__.removeprefix("WhitelistOperation")
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def slots_full(err: BaseException) -> bool:
    """Whether the cause of a failed connect was that no connection slot was free."""
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, BleakOutOfConnectionSlotsError):
            return True
        if any(text in str(cause) for text in _SLOTS_TEXT):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _pairing(err: TeslaFleetError) -> TeslaError:
    """The api error of a failed whitelist add."""
    if isinstance(err, (*_NO_TAP, LibraryBluetoothTimeout)):
        return PairingTimedOut("No key card was tapped on the console")
    if isinstance(err, _DECLINED):
        return PairingDeclined("The car's screen declined the new key")
    return PairingFailed(_reason(err))


def mapped(err: TeslaFleetError, stage: Stage = Stage.COMMAND) -> TeslaError:
    """The api error for the library's ``err`` raised during ``stage``."""
    if isinstance(err, BluetoothTransportError):
        if slots_full(err):
            return BluetoothSlotsFull("No free Bluetooth connection slot")
        return BluetoothUnavailable("The car could not be reached over Bluetooth")
    if stage is Stage.PAIR and isinstance(
        err, (WhitelistOperationStatus, LibraryBluetoothTimeout)
    ):
        return _pairing(err)
    if isinstance(err, BluetoothUnconfirmedCommand):
        return CommandOutcomeUnknown("The car's answer over Bluetooth was lost")
    if isinstance(err, LibraryBluetoothTimeout):
        if stage is Stage.COMMAND:
            # with raise_unconfirmed, a command's lost answer is unconfirmed: a plain
            # timeout is its session request (or wake-up) unanswered, nothing was sent
            return BluetoothUnavailable("The car did not answer over Bluetooth")
        return BluetoothTimeout("The car did not answer over Bluetooth")
    if isinstance(err, BluetoothCommandFailed):
        return CommandFailed("not_applied")
    if isinstance(err, KEY_UNKNOWN):
        return KeyNotPaired("The car does not know the app's key")
    if isinstance(err, STALE_SESSION):
        return StaleSession(err.message)
    if isinstance(err, SignedCommandResponseReplayed):
        return CommandOutcomeUnknown("The car's answer was a replay")
    return CommandFailed(err.message)


@contextmanager
def library_errors(stage: Stage = Stage.COMMAND) -> Iterator[None]:
    """Raise the library's errors (and its undecodable answers) as :mod:`.errors`.

    Pairing a key the car already knows is no error: it is swallowed.
    """
    try:
        yield
    except TeslaFleetError as err:
        if stage is Stage.PAIR and is_existing_key(err):
            return
        raise mapped(err, stage) from None
    except (InvalidTag, DecodeError) as err:
        # an answer that fails to decrypt or parse: a command may have been done
        if stage is Stage.COMMAND:
            raise CommandOutcomeUnknown("The car's answer is unreadable") from err
        raise BluetoothTimeout("The car's answer is unreadable") from err


def raise_for_result(reply: Any) -> None:
    """Raise CommandFailed unless the library's command ``reply`` says it was done.

    The reason is Tesla's, in snake case (VCSEC's ``GENERICERROR_CLOSURES_OPEN`` is
    ``closures_open``); a car that stayed busy (``OPERATIONSTATUS_WAIT``, never sent
    again here) is ``busy``.
    """
    result = reply.get("response") if isinstance(reply, Mapping) else None
    if isinstance(result, Mapping) and result.get("result") is True:
        return
    reason = result.get("reason") if isinstance(result, Mapping) else None
    if reason == "Too many retries":
        reason = "busy"
    raise CommandFailed(str(reason or "unknown").removeprefix("GENERICERROR_").lower())


class OwnRetries(Commands[Any]):
    """The library's commands without its own re-sends (a WAIT fails them as ``busy``).

    Only :meth:`retry_stale` sends again: after a stale session, once.
    """

    async def _command(
        self,
        domain: Domain,
        command: bytes,
        attempt: int = 0,
        expects_data: bool = True,
        confirm_broadcast: Callable[[VehicleStatus], bool] | None = None,
    ) -> dict[str, Any]:
        """The library's command, with no re-send."""
        return await super()._command(
            domain,
            command,
            NO_LIBRARY_RETRY,
            expects_data=expects_data,
            confirm_broadcast=confirm_broadcast,
        )

    async def retry_stale[T](
        self, stage: Stage, domain: Domain, call: Callable[[], Awaitable[T]]
    ) -> T:
        """Run ``call`` (errors as :mod:`.errors`); on a stale session of ``domain``
        one new handshake and one more try, never more."""
        try:
            with library_errors(stage):
                return await call()
        except StaleSession as err:
            _LOGGER.debug("Session refused (%s); new handshake", err.reason)
            with library_errors(stage):
                await self._handshake(domain)
                return await call()
