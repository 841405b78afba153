"""The car over Bluetooth LE, on tesla-fleet-api's ``VehicleBluetooth``.

Within reach of a Bluetooth adapter or proxy, the car answers without Tesla's cloud:
its security computer (VCSEC: locks, closures, sleep, presence) always, even asleep;
its infotainment computer (charge, climate, the car-server actions) only awake. The
same Vehicle Command Protocol as the Fleet API's signed commands runs over the link
(AES-GCM, encrypted answers), with the key the owner paired by tapping a key card.

:class:`BluetoothVehicle` keeps one car's sessions and makes short connections: it
connects when asked something and stays connected until :meth:`~BluetoothVehicle.disconnect`
(no keep-alive, so an idle link drops after about 40 s and a sleeping car can sleep).
The library runs with ``raise_unconfirmed=True`` and ``confirmation="ack"``, and its own
re-sends after a WAIT or a session fault are switched off: a command is written once,
and a stale session costs one new handshake and one more try (as :mod:`.protocol`).
Connections are bounded (:mod:`.ble_link`): a few tries, no wait for a free slot,
and a connect that failed ends the read or command, so the cloud can take over within
moments.
Every error is a :class:`~.errors.TeslaError` (:mod:`.library` maps the library's):

* :class:`~.errors.BluetoothUnavailable` (:class:`~.errors.BluetoothSlotsFull`):
  nothing reached the car; nothing was done, the cloud may be tried;
* :class:`~.errors.CommandOutcomeUnknown`: a command was written and its answer lost;
  the car may have done it. Never sent again, on any path;
* :class:`~.errors.CommandFailed`: the car refused, or a command proven not done;
* :class:`~.errors.KeyNotPaired`: the car does not know the key;
* :class:`~.errors.BluetoothTimeout`: a read got no answer;
* pairing: :class:`~.errors.PairingTimedOut`, :class:`~.errors.PairingDeclined`,
  :class:`~.errors.PairingFailed`.

No Home Assistant here: under Home Assistant the :class:`~bleak.backends.device.BLEDevice`
comes from its Bluetooth stack, and the library connects through
``bleak_retry_connector.establish_connection`` with ``bleak.BleakClient``, which Home
Assistant replaces with its own client (adapters, proxies, connection slots).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
import hashlib
import logging
from typing import Any, Final

from bleak.backends.device import BLEDevice
from bleak.exc import BleakError
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf.message import DecodeError, Message
from tesla_fleet_api.const import BluetoothVehicleData
from tesla_protocol.command.universal_message_pb2 import RoutableMessage
from tesla_protocol.command.vcsec_pb2 import FromVCSECMessage, VehicleStatus
from tesla_protocol.command.vehicle_pb2 import VehicleData as VehicleDataMessage

from .ble_link import Link
from .ble_values import sleep_state, status_values, vehicle_data_values
from .errors import BluetoothTimeout, BluetoothUnavailable, KeyNotPaired
from .library import Stage, library_errors, raise_for_result
from .models import VehicleData, VehicleState
from .protocol import INFOTAINMENT, SIGNED_COMMANDS, VCSEC

_LOGGER = logging.getLogger(__name__)

NAME_SUFFIXES: Final = frozenset("CDRP")
"""Last letters a car's advertised name may end in (``C`` most often)."""
WAKE_TIMEOUT: Final = 30.0
"""Seconds :meth:`BluetoothVehicle.wake` waits for the infotainment computer."""
PAIR_POLL_INTERVAL: Final = 2.0
"""Seconds between checks whether a pending key was approved (its answer may be lost)."""
AWAKE_READS: Final = (
    BluetoothVehicleData.CHARGE_STATE,
    BluetoothVehicleData.CLIMATE_STATE,
    BluetoothVehicleData.CLOSURES_STATE,
)
"""What :meth:`BluetoothVehicle.read_awake` asks infotainment for, one per request
(several in one answer can exceed the car's answer size)."""

BLE_COMMANDS: Final[frozenset[str]] = frozenset(
    {
        "door_lock",
        "door_unlock",
        "actuate_trunk",
        "charge_port_door_open",
        "charge_port_door_close",
        "wake_up",
    }
    | {name for name, sent in SIGNED_COMMANDS.items() if sent.domain == INFOTAINMENT}
)
"""REST command names :meth:`BluetoothVehicle.send` carries (VCSEC and infotainment).

``remote_start_drive`` stays with the cloud.
"""


def ble_local_name(vin: str) -> str:
    """The name the car ``vin`` advertises: ``"S" + sha1(vin)[:16] + "C"``."""
    return (
        "S" + hashlib.sha1(vin.encode(), usedforsecurity=False).hexdigest()[:16] + "C"
    )


def is_vehicle_name(name: str | None, vin: str) -> bool:
    """Whether an advertised ``name`` is the car ``vin``'s (any last letter C, D, R, P)."""
    if not name:
        return False
    expected = ble_local_name(vin)
    return name[:-1] == expected[:-1] and name[-1:] in NAME_SUFFIXES


@dataclass(frozen=True, slots=True)
class BleStatus:
    """What the car's security computer (VCSEC) says, asleep or awake."""

    values: VehicleData
    """As the cloud's keys: ``vehicle_state_locked``, ``vehicle_state_df`` / ``dr`` /
    ``pf`` / ``pr`` / ``ft`` / ``rt`` (0 closed, 1 open),
    ``charge_state_charge_port_door_open``, ``vehicle_state_is_user_present`` and
    ``drive_state_shift_state``; a value VCSEC does not know is left out."""
    state: VehicleState
    """``ASLEEP`` or ``ONLINE`` (``UNKNOWN`` when VCSEC does not say)."""

    @classmethod
    def from_message(cls, status: VehicleStatus) -> BleStatus:
        """Build from VCSEC's ``VehicleStatus``."""
        return cls(VehicleData(status_values(status)), sleep_state(status))


def answer_of[M: Message](reply: Any, kind: type[M]) -> M:
    """The ``kind`` message a read asked for; raise CommandFailed on a refusal and
    BluetoothTimeout on any other answer."""
    if isinstance(reply, kind):
        return reply
    if isinstance(reply, Mapping):
        raise_for_result({"response": reply})
    raise BluetoothTimeout("The car answered without what was asked")


class BluetoothVehicle:
    """One car over Bluetooth: its two sessions, its link, its broadcasts."""

    def __init__(
        self, vin: str, key: ec.EllipticCurvePrivateKey, device: BLEDevice
    ) -> None:
        """Talk to the car ``vin`` at ``device``, signing with ``key``."""
        self._link = Link(
            None,
            vin,
            key,
            device,
            confirmation="ack",
            keepalive_interval=None,
            raise_unconfirmed=True,
        )
        self._listeners: list[Callable[[BleStatus], None]] = []
        self._link.listen_broadcast(VCSEC, self._on_broadcast)

    def set_device(self, device: BLEDevice) -> None:
        """Use ``device`` for the next connection (another adapter or proxy)."""
        self._link.set_device(device)

    async def status(self) -> BleStatus:
        """VCSEC's status (locks, closures, sleep, presence); works while asleep.

        Raises BluetoothUnavailable, BluetoothTimeout, KeyNotPaired or CommandFailed.
        """
        self._begin()
        reply = await self._link.retry_stale(
            Stage.READ, VCSEC, self._link.vehicle_state
        )
        return BleStatus.from_message(answer_of(reply, VehicleStatus))

    async def read_awake(self) -> VehicleData | None:
        """The status and the charge, climate and closures states, as the cloud's keys.

        ``None`` when VCSEC says the car sleeps: it is never woken for this. The values
        overlay older ones (no section is replaced). Raises as :meth:`status`.
        """
        status = await self.status()
        if status.state is VehicleState.ASLEEP:
            return None
        values = dict(status.values.values)
        for endpoint in AWAKE_READS:
            reply = await self._link.retry_stale(
                Stage.READ, INFOTAINMENT, partial(self._link.vehicle_data, [endpoint])
            )
            values |= vehicle_data_values(answer_of(reply, VehicleDataMessage))
        return VehicleData(values)

    async def send(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        """Send the REST-named command ``name`` (one of :data:`BLE_COMMANDS`).

        A sleeping car is woken over Bluetooth for an infotainment command. Raises
        BluetoothUnavailable (nothing sent), CommandOutcomeUnknown, CommandFailed or
        KeyNotPaired; ValueError for a command not carried over Bluetooth.
        """
        if name not in BLE_COMMANDS:
            raise ValueError("No Bluetooth form of this command")
        self._begin()
        if name == "wake_up":
            reply = await self._link.retry_stale(
                Stage.COMMAND, VCSEC, self._link.wake_up
            )
        else:
            command = SIGNED_COMMANDS[name]
            if command.domain == INFOTAINMENT:
                await self._awake_for_command()
            method = getattr(self._link, command.method)
            arguments = command.arguments(params or {})
            reply = await self._link.retry_stale(
                Stage.COMMAND, command.domain, lambda: method(**arguments)
            )
        raise_for_result(reply)

    async def wake(self) -> None:
        """Wake the car and wait until its infotainment computer answers.

        Raises BluetoothTimeout when it did not within :data:`WAKE_TIMEOUT` seconds,
        BluetoothUnavailable or KeyNotPaired.
        """
        self._begin()
        with library_errors(Stage.READ):
            await self._link.wake_up(wait=True, timeout=WAKE_TIMEOUT)

    async def pair(self, timeout: float = 60) -> None:  # noqa: ASYNC109
        """Ask the car to add the key; return once the owner tapped a key card.

        The request is written once (a second one would prompt again); a key the car
        already knows is success. Raises PairingTimedOut (no tap within ``timeout``
        seconds), PairingDeclined, PairingFailed or BluetoothUnavailable.
        """
        self._begin()
        self._link.reconnects = True
        try:
            with library_errors(Stage.PAIR):
                await self._link.pair(timeout=timeout, poll_interval=PAIR_POLL_INTERVAL)
        finally:
            self._link.reconnects = False

    async def is_paired(self) -> bool:
        """Whether the car knows the key: a VCSEC session can start.

        Raises BluetoothUnavailable or BluetoothTimeout when the car cannot tell.
        """
        self._begin()
        try:
            with library_errors(Stage.READ):
                return await self._link._handshake(VCSEC)
        except KeyNotPaired:
            return False

    def listen_status(
        self, callback: Callable[[BleStatus], None]
    ) -> Callable[[], None]:
        """Call ``callback`` with each status the car broadcasts while connected.

        Returns the function that stops it.
        """
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    async def disconnect(self) -> None:
        """Close the link (if any); the sessions are kept for the next connection."""
        try:
            await self._link.disconnect()
        except (BleakError, TimeoutError) as err:
            _LOGGER.debug("Bluetooth disconnect failed: %s", type(err).__name__)

    def _begin(self) -> None:
        """A new read or command: it may connect (once)."""
        self._link.refused = None

    async def _awake_for_command(self) -> None:
        """Wake a sleeping car before an infotainment command (asleep, it is silent).

        Nothing of the command is sent yet: a car that does not answer is unavailable.
        """
        try:
            if (await self.status()).state is VehicleState.ASLEEP:
                _LOGGER.debug("Waking the car over Bluetooth for a command")
                await self.wake()
        except BluetoothTimeout as err:
            raise BluetoothUnavailable("The car did not answer over Bluetooth") from err

    def _on_broadcast(self, message: RoutableMessage) -> None:
        """Hand a VCSEC status broadcast to the listeners."""
        try:
            vcsec = FromVCSECMessage.FromString(message.protobuf_message_as_bytes)
        except DecodeError:
            return
        if not vcsec.HasField("vehicleStatus"):
            return
        status = BleStatus.from_message(vcsec.vehicleStatus)
        for callback in list(self._listeners):
            callback(status)
