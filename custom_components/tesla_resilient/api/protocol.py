"""Signed commands: the Vehicle Command Protocol over the Fleet API, on tesla-fleet-api.

A car built since 2021 takes only commands signed with a key it trusts (the app's key,
approved by the owner as a virtual key). The protocol (Tesla's ``vehicle-command``
repository, ``pkg/protocol/protocol.md``) keeps one session per car and domain: VCSEC
(vehicle security) for the locks and closures, infotainment for the rest. A session
starts with a session-info request (one request); every command after it is one
request: a ``RoutableMessage`` tagged with HMAC-SHA256 over the session's epoch, a
rising counter and an expiry on the car's clock.

tesla-fleet-api does the protocol: sessions, keys, tags and the car's answers (its
``Commands``, the base of its ``VehicleSigned``). Its ``VehicleSigned`` sends through the
library's own HTTP client (``TeslaFleetApi._request``: its own token and HTTP error
mapping), so :class:`SignedVehicle` takes ``Commands`` with a transport of ours instead:
each message goes through :meth:`.client.TeslaFleetClient.signed_command` (our token
manager, our one HTTP error mapping). The library's errors derive from
``BaseException``; :mod:`.library` catches them (for Bluetooth too) and they become
:mod:`.errors`:

* the car does not know our key (``UNKNOWN_KEY_ID``, "not on whitelist") ->
  :class:`~.errors.KeyNotPaired`;
* the session is stale (``TIME_EXPIRED``, ``INCORRECT_EPOCH``, ``INVALID_TOKEN_OR_COUNTER``):
  the car carried nothing out; one new handshake and one retry, never more (the
  library's own re-sends are switched off, :class:`.library.OwnRetries`);
* any other refusal (remote access disabled, a bad signature...) ->
  :class:`~.errors.CommandFailed` with the car's reason;
* an answer lost after sending -> :class:`~.errors.CommandOutcomeUnknown` (from the
  client, or a reply that is no message): never sent again.
"""

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf.message import DecodeError
from tesla_protocol.command.universal_message_pb2 import Domain, RoutableMessage

from .client import TeslaFleetClient
from .errors import CommandOutcomeUnknown, MalformedResponse
from .library import OwnRetries, Stage, raise_for_result

VCSEC = Domain.DOMAIN_VEHICLE_SECURITY
INFOTAINMENT = Domain.DOMAIN_INFOTAINMENT

type Arguments = Callable[[Mapping[str, Any]], dict[str, Any]]


def _same(params: Mapping[str, Any]) -> dict[str, Any]:
    """The REST parameters are the method's arguments."""
    return dict(params)


def _renamed(**names: str) -> Arguments:
    """REST parameter -> argument name, for the parameters named otherwise."""
    return lambda params: {names.get(key, key): value for key, value in params.items()}


def _with(**defaults: Any) -> Arguments:
    """The REST parameters plus the arguments the REST command does without."""
    return lambda params: defaults | dict(params)


def _shared_text(params: Mapping[str, Any]) -> dict[str, Any]:
    """``navigation_request``: the shared text (an address) is the destination."""
    value = params.get("value")
    text = (
        value.get("android.intent.extra.TEXT") if isinstance(value, Mapping) else value
    )
    return {"value": str(text)}


@dataclass(frozen=True, slots=True)
class SignedCommand:
    """How one REST command is sent signed: the library's method, domain and arguments."""

    method: str
    domain: Domain
    arguments: Arguments = _same


def _vcsec(method: str) -> SignedCommand:
    return SignedCommand(method, VCSEC)


def _infotainment(method: str, arguments: Arguments = _same) -> SignedCommand:
    return SignedCommand(method, INFOTAINMENT, arguments)


SIGNED_COMMANDS: Mapping[str, SignedCommand] = {
    # VCSEC: locks and closures (and the keyless drive, which VCSEC authorises)
    "door_lock": _vcsec("door_lock"),
    "door_unlock": _vcsec("door_unlock"),
    "actuate_trunk": _vcsec("actuate_trunk"),
    "charge_port_door_open": _vcsec("charge_port_door_open"),
    "charge_port_door_close": _vcsec("charge_port_door_close"),
    "remote_start_drive": _vcsec("remote_start_drive"),
    # infotainment: car-server actions
    **{
        name: _infotainment(name)
        for name in (
            "auto_conditioning_start",
            "auto_conditioning_stop",
            "charge_start",
            "charge_stop",
            "flash_lights",
            "honk_horn",
            "remote_seat_cooler_request",
            "remote_steering_wheel_heater_request",
            "schedule_software_update",
            "set_charge_limit",
            "set_charging_amps",
            "set_climate_keeper_mode",
            "set_scheduled_departure",
            "set_sentry_mode",
            "set_temps",
            "set_valet_mode",
            "sun_roof_control",
            "trigger_homelink",
            "window_control",
        )
    },
    "remote_seat_heater_request": _infotainment(
        "remote_seat_heater_request",
        _renamed(heater="seat_position", level="seat_heater_level"),
    ),
    "set_preconditioning_max": _infotainment(
        "set_preconditioning_max", _with(manual_override=False)
    ),
    "set_scheduled_charging": _infotainment("set_scheduled_charging", _with(time=0)),
    "navigation_request": _infotainment("navigation_request", _shared_text),
}
"""Every REST command the integration sends, as the library's signed method."""


class SignedVehicle(OwnRetries):
    """One car's signed commands: its two sessions, kept and reused while it lives.

    ``send`` runs one REST-named command (:data:`SIGNED_COMMANDS`) and raises only
    :class:`~.errors.TeslaError` subclasses.
    """

    _auth_method: ClassVar[Literal["hmac", "aes"]] = "hmac"
    _transport_name: ClassVar[str] = "fleet"

    def __init__(
        self,
        client: TeslaFleetClient,
        vehicle_id: str,
        vin: str,
        key: ec.EllipticCurvePrivateKey,
    ) -> None:
        """Sign for the car ``vin`` with ``key``, sending through ``client``.

        The messages go to ``vehicle_id`` (no VIN in a URL); the VIN personalises them.
        """
        super().__init__(None, vin, private_key=key)
        self._client = client
        self._vehicle_id = vehicle_id

    async def send(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        """Send the command ``name`` with its REST ``params``, signed.

        A stale session is renewed (one handshake) and the command sent once more;
        the car's refusal raises CommandFailed, KeyNotPaired or (lost answers)
        CommandOutcomeUnknown; the client's errors pass unchanged.
        """
        command = SIGNED_COMMANDS.get(name)
        if command is None:
            raise ValueError("No signed form of this command")
        call = getattr(self, command.method)
        arguments = command.arguments(params or {})
        reply = await self.retry_stale(
            Stage.COMMAND, command.domain, lambda: call(**arguments)
        )
        raise_for_result(reply)

    async def _send(
        self,
        msg: RoutableMessage,
        requires: str,
        expects_data: bool = True,
        *,
        confirm_broadcast: Callable[[Any], bool] | None = None,
    ) -> RoutableMessage:
        """Send ``msg`` through our client's ``signed_command``; return the car's reply.

        The reply is checked by the library (session info authenticated, faults
        raised). A session-info request does not act on the car: its lost answer is
        only the cloud failing.
        """
        acts = not msg.HasField("session_info_request")
        async with self._sessions[msg.to_destination.domain].lock:
            answer = await self._client.signed_command(
                self._vehicle_id,
                base64.b64encode(msg.SerializeToString()).decode(),
                acts=acts,
            )
            try:
                reply: RoutableMessage = RoutableMessage.FromString(
                    base64.b64decode(answer, validate=True)
                )
            except (binascii.Error, DecodeError) as err:
                lost = CommandOutcomeUnknown if acts else MalformedResponse
                raise lost("The car's answer is not a message") from err
            self.validate_msg(reply, msg.uuid)
            return reply
