"""The library's Bluetooth vehicle, connecting briefly: :class:`Link`.

tesla-fleet-api connects through bleak-retry-connector's ``establish_connection``, which
waits 4 s and tries again, up to nine times, whenever the car or the proxy has no free
connection slot: more than half a minute before the cloud could take over. Here a
connection is tried at most :data:`CONNECT_ATTEMPTS` times, a refusal for want of a free
slot ends it at once (:class:`~.errors.BluetoothSlotsFull` once mapped), and once a
connect failed, nothing else in the same read or command connects again (pairing
excepted: the car may drop the link while the owner walks to the console).

The library's own re-sends after a WAIT or a session fault are switched off as well
(:class:`.library.OwnRetries`).
"""

from typing import Any, Final

import bleak
from bleak.exc import BleakError
from bleak_retry_connector import BleakOutOfConnectionSlotsError, establish_connection
from tesla_fleet_api.tesla.vehicle.bluetooth import (
    READ_UUID,
    SERVICE_UUID,
    VehicleBluetooth,
)

from .library import OwnRetries, TransportError, slots_full

CONNECT_ATTEMPTS: Final = 2
"""Most tries of one connection (a refusal for want of a free slot ends it at once)."""


class _NoFreeSlot(Exception):
    """A connect refused for want of a free connection slot; not tried again.

    Not a ``BleakError``: bleak-retry-connector lets it through at once instead of
    backing off 4 s and trying up to nine times.
    """


_NO_SLOT_WAIT: dict[type[Any], type[Any]] = {}


def no_slot_wait(client_class: type[Any]) -> type[Any]:
    """``client_class`` (Home Assistant's client at run time) whose refusal for want of
    a free connection slot raises :class:`_NoFreeSlot` instead of a ``BleakError``."""
    if (found := _NO_SLOT_WAIT.get(client_class)) is not None:
        return found

    async def connect(self: Any, **kwargs: Any) -> None:
        try:
            await client_class.connect(self, **kwargs)
        except (BleakError, TimeoutError) as err:
            if slots_full(err):
                raise _NoFreeSlot(str(err)) from err
            raise

    made: type[Any] = type(
        f"{client_class.__name__}NoSlotWait", (client_class,), {"connect": connect}
    )
    _NO_SLOT_WAIT[client_class] = made
    return made


class Link(OwnRetries, VehicleBluetooth[Any]):
    """The library's Bluetooth vehicle without its own re-sends, connecting briefly."""

    refused: BaseException | None = None
    """Why the operation's connect failed: the operation does not connect again."""
    reconnects: bool = False
    """Connect again after a failed connect (pairing: the car may drop the link while
    the owner walks to the console)."""

    async def connect(self, max_attempts: int = CONNECT_ATTEMPTS) -> None:
        """The library's connect, bounded: at most :data:`CONNECT_ATTEMPTS` tries, no
        wait for a free slot, and none at all after a failed connect in the operation.

        The connection is named by the car's advertised name (not its VIN) in the
        logs of bleak-retry-connector and Home Assistant.
        """
        if self.refused is not None and not self.reconnects:
            raise TransportError from self.refused
        self.refused = None
        if self.device is None:  # pragma: no cover - always given at construction
            raise TransportError
        try:
            self.client = await establish_connection(
                no_slot_wait(bleak.BleakClient),
                self.device,
                self.ble_name,
                disconnected_callback=self._on_ble_disconnected,
                max_attempts=min(max_attempts, CONNECT_ATTEMPTS),
                services=[SERVICE_UUID],
            )
            await self.client.start_notify(READ_UUID, self._on_notify)
        except _NoFreeSlot as err:
            self.refused = BleakOutOfConnectionSlotsError(str(err))
        except (BleakError, TimeoutError) as err:
            self.refused = err
        if (
            self.refused is None
            and self.client is not None
            and self.client.is_connected
        ):
            self._set_connected(True)
            return
        self.refused = self.refused or BleakError("Not connected after connecting")
        await self._drop_link("connect failed")
        raise TransportError from self.refused
