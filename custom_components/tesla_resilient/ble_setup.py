"""Set-up of the Bluetooth links: one per car with a Bluetooth subentry.

The pairing flow (``flow_bluetooth.py``) adds a subentry of type ``bluetooth`` per car
(``unique_id`` the VIN, ``data`` the VIN and the car's address). At set-up each such
car's coordinator gets its :class:`~.bluetooth.BluetoothLink` before the platforms are
set up (its entities exist only then); a subentry added, changed or removed reloads the
entry. The links stop when the entry unloads and when Home Assistant stops (their
timers would otherwise read the car, and re-arm the coordinators' polls, while Home
Assistant closes its sessions). Without Home Assistant's Bluetooth integration the cars stay on the cloud, and
an entry without a paired car never imports it. While the entry is loaded (its links,
or the pairing flow's), no log line names one of its cars' VINs (:mod:`.log_redact`).
"""

from collections.abc import Mapping

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback

from .const import CONF_ADDRESS, CONF_VIN, LOGGER, SUBENTRY_BLUETOOTH
from .coordinator import TeslaResilientConfigEntry
from .log_redact import REDACTOR


def bluetooth_addresses(entry: TeslaResilientConfigEntry) -> Mapping[str, str]:
    """The Bluetooth address of each paired car, by VIN."""
    return {
        subentry.data[CONF_VIN]: subentry.data[CONF_ADDRESS]
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_BLUETOOTH
        and isinstance(subentry.data.get(CONF_VIN), str)
        and isinstance(subentry.data.get(CONF_ADDRESS), str)
    }


@callback
def async_setup_bluetooth(
    hass: HomeAssistant, entry: TeslaResilientConfigEntry
) -> None:
    """Give each paired car its link (call before the platforms are set up)."""
    addresses = bluetooth_addresses(entry)
    REDACTOR.add(entry.entry_id, (v.vin for v in entry.runtime_data.vehicles.values()))
    entry.async_on_unload(lambda: REDACTOR.remove(entry.entry_id))

    async def subentries_changed(
        hass: HomeAssistant, entry: TeslaResilientConfigEntry
    ) -> None:
        if bluetooth_addresses(entry) != addresses:
            hass.config_entries.async_schedule_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(subentries_changed))
    if not addresses:
        return
    if "bluetooth" not in hass.config.components:
        LOGGER.warning(
            "Home Assistant's Bluetooth integration is not set up; "
            "the paired cars are reached through Tesla's cloud only"
        )
        return
    # Home Assistant's Bluetooth stack is imported only for a paired car.
    from .bluetooth import BluetoothLink  # noqa: PLC0415

    links: list[BluetoothLink] = []
    for vehicle in entry.runtime_data.vehicles.values():
        if (address := addresses.get(vehicle.vin)) is None:
            continue
        link = BluetoothLink(hass, vehicle, address)
        vehicle.bluetooth = link
        link.async_start()
        links.append(link)
        entry.async_on_unload(link.async_stop)

    async def async_stop_links(_event: Event) -> None:
        for link in links:
            await link.async_stop()

    # Not ``async_listen_once``: its remover logs an error once the event has fired.
    entry.async_on_unload(
        hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, async_stop_links)
    )
