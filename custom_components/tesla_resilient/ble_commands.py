"""Commands Bluetooth-first: the car in range takes them without the cloud.

:class:`~.commands.VehicleCommands` asks here first. A command the api carries over
Bluetooth (``BLE_COMMANDS``: locks, trunks, charge port, wake and the infotainment
commands the library sends) goes to a car in range over Bluetooth, during a cloud
outage too: nothing waits for, or needs, the cloud. The cloud takes it instead only
when the Bluetooth command certainly did not reach the car (``BluetoothUnavailable``,
including ``BluetoothSlotsFull``) and the cloud is not in an outage; then the cloud
path runs as before. A car that answered over Bluetooth and refused (``CommandFailed``:
a door open, a command it does not take) would refuse it over the cloud too: its
reason is shown and nothing else is sent. A command whose
outcome is unknown (the acknowledgement was lost) is never sent again, on either path:
the owner is told it may have been carried out.

A Bluetooth command says nothing about the cloud: it is never reported to the cloud
health, and the link reads the car's status (and listens to its broadcasts) right
after it instead of a cloud ``vehicle_data``.
"""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from homeassistant.exceptions import HomeAssistantError

from .api import (
    BluetoothSlotsFull,
    BluetoothTimeout,
    BluetoothUnavailable,
    CommandOutcomeUnknown,
    KeyNotPaired,
    TeslaError,
    VehicleState,
)
from .const import LOGGER
from .errors import command_error, format_since, translated_error

if TYPE_CHECKING:
    from .coordinator import VehicleCoordinator

FALLBACK_ERRORS = (BluetoothUnavailable,)
"""Nothing reached the car over Bluetooth: the cloud may take the command instead."""


def bluetooth_takes(vehicle: VehicleCoordinator, name: str) -> bool:
    """Whether the command ``name`` goes over Bluetooth first (the car is in range)."""
    link = vehicle.bluetooth
    return link is not None and link.takes(name)


def bluetooth_error(vehicle: VehicleCoordinator, err: TeslaError) -> HomeAssistantError:
    """The translated error of a command that failed over Bluetooth."""
    since = {"since": format_since(vehicle.account.health.outage_since)}
    if isinstance(err, CommandOutcomeUnknown):
        return translated_error("bluetooth_outcome_unknown")
    if isinstance(err, BluetoothSlotsFull):
        return translated_error("bluetooth_slots_full", since)
    if isinstance(err, BluetoothUnavailable):
        return translated_error("bluetooth_unreachable", since)
    if isinstance(err, KeyNotPaired):
        return translated_error("bluetooth_key_not_paired")
    if isinstance(err, BluetoothTimeout):  # a wake the car did not finish in time
        return translated_error("vehicle_did_not_wake")
    return command_error(err, since=vehicle.account.health.outage_since)


async def async_send_bluetooth(
    vehicle: VehicleCoordinator,
    name: str,
    params: Mapping[str, Any] | None,
    optimistic: Mapping[str, Any] | None,
) -> bool:
    """Send ``name`` over Bluetooth when the car takes it there; ``True`` when sent.

    ``False``: the cloud should send it (not in range, or nothing was carried out and
    the cloud works). Raises a translated error otherwise.
    """
    link = vehicle.bluetooth
    if link is None or not link.takes(name):
        return False
    try:
        # A sleeping car's infotainment is woken over Bluetooth first (the api).
        await link.async_send(name, params)
    except FALLBACK_ERRORS as err:
        if not vehicle.account.in_outage:
            LOGGER.debug(
                "Vehicle %s: %s not sent over Bluetooth (%s); using the cloud",
                vehicle.vehicle_id,
                name,
                type(err).__name__,
            )
            return False
        raise bluetooth_error(vehicle, err) from err
    except TeslaError as err:
        raise bluetooth_error(vehicle, err) from err
    snapshot = vehicle.data
    if optimistic:
        snapshot = snapshot.with_values(optimistic)
    vehicle.async_publish(snapshot, always=True)
    link.async_want_read()
    return True


async def async_wake_bluetooth(vehicle: VehicleCoordinator) -> bool:
    """Wake the car over Bluetooth when in range; ``True`` when woken there."""
    if not await async_send_bluetooth(vehicle, "wake_up", None, None):
        return False
    now = vehicle.clock()
    vehicle.async_publish(
        vehicle.data.with_state(VehicleState.ONLINE, now), always=True
    )
    return True
