"""Binary sensors of a Tesla vehicle: doors, windows, charging, presence, warnings.

``cloud_connection`` is about the integration rather than the car: it turns off while
Tesla's cloud is in an outage, when every other entity shows its last known value.
"""

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import VehicleData
from .const import SOFTWARE_UPDATE_OFFERED
from .coordinator import TeslaResilientConfigEntry, VehicleCoordinator
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities
from .values import charging, flag, is_open, when_reported

PARALLEL_UPDATES = 0

CHARGE_STATE = ("charge_state",)
CLIMATE_STATE = ("climate_state",)
VEHICLE_STATE = ("vehicle_state",)


@dataclass(frozen=True, kw_only=True)
class TeslaBinarySensorEntityDescription(
    BinarySensorEntityDescription, TeslaEntityDescription
):
    """A binary sensor of the vehicle (``coordinator_fn`` for the connection)."""

    value_fn: Callable[[VehicleData], bool | None] = lambda _: None
    coordinator_fn: Callable[[VehicleCoordinator], bool] | None = None


_cable = when_reported(
    "charge_state_conn_charge_cable",
    # "<invalid>" (stored as None) when no cable is plugged in
    lambda data: data.get_str("charge_state_conn_charge_cable") is not None,
)


def _dashcam(data: VehicleData) -> bool | None:
    state = data.get_str("vehicle_state_dashcam_state")
    return None if state is None else state == "Recording"


_update_available = when_reported(
    "vehicle_state_software_update_status",
    lambda data: (
        data.get_str("vehicle_state_software_update_status") in SOFTWARE_UPDATE_OFFERED
    ),
)


def _opening(
    key: str, device_class: BinarySensorDeviceClass
) -> TeslaBinarySensorEntityDescription:
    """A door or window: the car reports 0 when closed."""
    return TeslaBinarySensorEntityDescription(
        key=key,
        endpoints=VEHICLE_STATE,
        device_class=device_class,
        value_fn=is_open(key),
    )


def _tpms_warning(key: str) -> TeslaBinarySensorEntityDescription:
    return TeslaBinarySensorEntityDescription(
        key=key,
        endpoints=VEHICLE_STATE,
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=flag(key),
    )


BINARY_SENSORS: tuple[TeslaBinarySensorEntityDescription, ...] = (
    TeslaBinarySensorEntityDescription(
        key="cloud_connection",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        coordinator_fn=lambda coordinator: coordinator.cloud_connected,
    ),
    # -- charging ------------------------------------------------------------------------
    TeslaBinarySensorEntityDescription(
        key="charge_state_conn_charge_cable",
        endpoints=CHARGE_STATE,
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=_cable,
    ),
    TeslaBinarySensorEntityDescription(
        key="charge_state_charging_state",
        endpoints=CHARGE_STATE,
        device_class=BinarySensorDeviceClass.BATTERY_CHARGING,
        value_fn=charging,
    ),
    TeslaBinarySensorEntityDescription(
        key="charge_state_scheduled_charging_pending",
        endpoints=CHARGE_STATE,
        value_fn=flag("charge_state_scheduled_charging_pending"),
    ),
    # -- closures ------------------------------------------------------------------------
    *(
        _opening(f"vehicle_state_{door}", BinarySensorDeviceClass.DOOR)
        for door in ("df", "dr", "pf", "pr")
    ),
    *(
        _opening(f"vehicle_state_{window}_window", BinarySensorDeviceClass.WINDOW)
        for window in ("fd", "fp", "rd", "rp")
    ),
    TeslaBinarySensorEntityDescription(
        key="vehicle_state_ft",
        endpoints=VEHICLE_STATE,
        device_class=BinarySensorDeviceClass.OPENING,
        value_fn=is_open("vehicle_state_ft"),
    ),
    TeslaBinarySensorEntityDescription(
        key="vehicle_state_rt",
        endpoints=VEHICLE_STATE,
        device_class=BinarySensorDeviceClass.OPENING,
        value_fn=is_open("vehicle_state_rt"),
    ),
    # -- people and guarding -------------------------------------------------------------
    TeslaBinarySensorEntityDescription(
        key="vehicle_state_is_user_present",
        endpoints=VEHICLE_STATE,
        device_class=BinarySensorDeviceClass.OCCUPANCY,
        value_fn=flag("vehicle_state_is_user_present"),
    ),
    TeslaBinarySensorEntityDescription(
        key="vehicle_state_sentry_mode",
        endpoints=VEHICLE_STATE,
        value_fn=flag("vehicle_state_sentry_mode"),
        exists_fn=lambda data: (
            data.get_bool("vehicle_state_sentry_mode_available") is not False
        ),
    ),
    TeslaBinarySensorEntityDescription(
        key="vehicle_state_dashcam_state",
        endpoints=VEHICLE_STATE,
        device_class=BinarySensorDeviceClass.RUNNING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_dashcam,
    ),
    # -- climate and battery -------------------------------------------------------------
    TeslaBinarySensorEntityDescription(
        key="climate_state_is_preconditioning",
        endpoints=CLIMATE_STATE,
        device_class=BinarySensorDeviceClass.RUNNING,
        value_fn=flag("climate_state_is_preconditioning"),
    ),
    TeslaBinarySensorEntityDescription(
        key="climate_state_battery_heater",
        endpoints=CLIMATE_STATE,
        device_class=BinarySensorDeviceClass.HEAT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=flag("climate_state_battery_heater"),
    ),
    # -- software and tyres --------------------------------------------------------------
    TeslaBinarySensorEntityDescription(
        key="vehicle_state_software_update_status",
        endpoints=VEHICLE_STATE,
        device_class=BinarySensorDeviceClass.UPDATE,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_update_available,
    ),
    *(
        _tpms_warning(f"vehicle_state_tpms_{level}_warning_{corner}")
        for level in ("soft", "hard")
        for corner in ("fl", "fr", "rl", "rr")
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every vehicle of the entry."""

    async_add_table_entities(
        entry, async_add_entities, BINARY_SENSORS, TeslaBinarySensorEntity
    )


class TeslaBinarySensorEntity(TeslaVehicleEntity, BinarySensorEntity):
    """A binary sensor reading the vehicle's snapshot."""

    entity_description: TeslaBinarySensorEntityDescription

    @property
    def is_on(self) -> bool | None:
        """The sensor's state."""
        description = self.entity_description
        if description.coordinator_fn is not None:
            return description.coordinator_fn(self.coordinator)
        return description.value_fn(self.values)
