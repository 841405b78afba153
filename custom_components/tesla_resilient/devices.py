"""Device- and entity-registry work: the devices, location entities and dropped entities."""

from collections.abc import Collection

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .const import DOMAIN, DROPPED_ENTITIES, LOCATION_ENTITIES
from .snapshot import VehicleSnapshot


def on_account(device: dr.DeviceEntry, vins: Collection[str]) -> bool:
    """Whether ``device`` is the device of one of the vehicles ``vins``."""
    return any(
        domain == DOMAIN and identifier in vins
        for domain, identifier in device.identifiers
    )


@callback
def async_remove_stale_devices(
    hass: HomeAssistant, entry: ConfigEntry, vins: Collection[str]
) -> None:
    """Remove the entry's devices of vehicles that are not among ``vins``."""
    registry = dr.async_get(hass)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not on_account(device, vins):
            registry.async_remove_device(device.id)


@callback
def async_remove_dropped_entities(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remove the entry's registry entries of entities earlier versions had (orphans)."""
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if any(
            entity.domain == platform and entity.unique_id.endswith(f"-{key}")
            for platform, key in DROPPED_ENTITIES
        ):
            registry.async_remove(entity.entity_id)


@callback
def async_update_device(
    hass: HomeAssistant,
    entry: ConfigEntry,
    previous: VehicleSnapshot,
    snapshot: VehicleSnapshot,
) -> None:
    """Keep the vehicle's device name and software version up to date."""
    version = _software_version(snapshot)
    name = snapshot.display_name
    if name == previous.display_name and version == _software_version(previous):
        return
    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier(
        (DOMAIN, snapshot.vin), entry.entry_id
    )
    if device is None:
        return
    if version is not None and version != device.sw_version:
        registry.async_update_device(device.id, sw_version=version)
    if name and name != device.name:
        registry.async_update_device(device.id, name=name)


def _software_version(snapshot: VehicleSnapshot) -> str | None:
    return None if snapshot.data is None else snapshot.data.software_version


@callback
def location_entity_enabled(hass: HomeAssistant, vin: str) -> bool:
    """Whether an entity of the vehicle ``vin`` that needs the location is enabled.

    Before the first set-up no entity is registered yet: the trackers are enabled by
    default, so the answer is yes.
    """
    registry = er.async_get(hass)
    registered = [
        entry
        for platform, key in LOCATION_ENTITIES
        if (entity_id := registry.async_get_entity_id(platform, DOMAIN, f"{vin}-{key}"))
        and (entry := registry.async_get(entity_id)) is not None
    ]
    return not registered or any(not entry.disabled for entry in registered)
