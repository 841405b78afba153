"""How a vehicle follows its account's cloud health: what it shows and when it refreshes.

The account tells every vehicle of each change of its
:class:`~.health.CloudHealth` (:meth:`.account.AccountCoordinator.async_listen_health`).
The entities never claim more than the integration knows:

* the first failure the integration sees (a poll, a command, a refresh, the account's
  probe) makes the health ``degraded``: every vehicle shows its values as the last known
  state (data source ``cache``) and ``cloud_connection`` off at once, without a request
  and without moving its next poll;
* an outage stops the vehicles' polling (the account probes alone);
* the next success makes it ``ok`` again: after a short failing streak the values the
  cloud gave in this run are shown as coming from the cloud again (no request), those
  last read over Bluetooth as Bluetooth's while that link is live; after an outage every
  vehicle refreshes once (a sleeping car answers 408 and is not woken).
"""

from dataclasses import replace
from typing import TYPE_CHECKING

from homeassistant.core import callback

from .const import DOMAIN
from .health import HealthState
from .snapshot import DataSource, VehicleSnapshot

if TYPE_CHECKING:
    from .coordinator import VehicleCoordinator


def answered_again(
    vehicle: VehicleCoordinator, snapshot: VehicleSnapshot
) -> VehicleSnapshot:
    """The snapshot to show when the cloud answers again after a short failing streak.

    Values last read over Bluetooth stay Bluetooth's while the link is live (no longer
    live: they stay the last known state); any other values are the cloud's.
    """
    ble_read_at, fetched_at = snapshot.ble_read_at, snapshot.fetched_at
    if ble_read_at is None or (fetched_at is not None and ble_read_at < fetched_at):
        return vehicle.as_cloud(snapshot)
    link = vehicle.bluetooth
    if link is not None and link.shown_source(DataSource.CACHE) is DataSource.BLE:
        return replace(snapshot, source=DataSource.BLE)
    return snapshot


@callback
def async_follow_health(
    vehicle: VehicleCoordinator, previous: HealthState, current: HealthState
) -> None:
    """Show and poll as the account's health, which went from ``previous`` to ``current``.

    A vehicle whose own request caused the change is left alone while it runs: its
    update returns the right snapshot itself.
    """
    snapshot = vehicle.data
    if current is HealthState.OUTAGE:
        # Always notified, also when a failed poll already marked the values as
        # cached: cloud_connection turns off at once.
        vehicle.update_interval = None
        vehicle.async_publish(snapshot.as_cache(), always=True)
    elif current is HealthState.DEGRADED:
        if not vehicle.updating:
            vehicle.data = snapshot.as_cache()
        vehicle.async_update_listeners()
    elif previous is HealthState.OUTAGE:
        # The entities learn at once that the cloud is back; the values stay marked
        # as cached until this vehicle's refresh (already under way when its own
        # request ended the outage).
        vehicle.async_update_listeners()
        if vehicle.updating or vehicle.commands.busy:
            return
        vehicle.memory = replace(vehicle.memory, force_data=True)
        vehicle.config_entry.async_create_background_task(
            vehicle.hass, vehicle.async_refresh(), name=f"{DOMAIN} refresh after outage"
        )
    else:
        memory = vehicle.memory
        learned = (
            memory.last_sleep_check is not None or memory.last_vehicle_data is not None
        )
        if learned and not vehicle.updating:
            # The values came in this run (cloud or Bluetooth), and the cloud answers.
            vehicle.data = answered_again(vehicle, snapshot)
        vehicle.async_update_listeners()
