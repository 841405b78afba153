"""Binary sensors of a Tesla vehicle: doors, windows, charging, presence, warnings.

``cloud_connection`` is about the integration rather than the car: it turns off while
Tesla's cloud is in an outage, when every other entity shows its last known value.
``bluetooth_in_range`` (cars paired over Bluetooth) is on while the car's
advertisements are heard: its state is then read locally and it takes commands
without the cloud.
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

from .api import VehicleData, key_endpoints
from .coordinator import TeslaResilientConfigEntry, VehicleCoordinator
from .entity import (
    TeslaEntityDescription,
    TeslaVehicleEntity,
    async_add_table_entities,
    optional,
)
from .values import flag, is_open, when_reported

PARALLEL_UPDATES = 0


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


def _binary(
    key: str,
    device_class: BinarySensorDeviceClass | None = None,
    *,
    value_fn: Callable[[VehicleData], bool | None] | None = None,
    diagnostic: bool = False,
    enabled: bool = True,
) -> TeslaBinarySensorEntityDescription:
    """A state the car reports at ``key`` (default: the boolean there)."""
    return TeslaBinarySensorEntityDescription(
        key=key,
        endpoints=key_endpoints(key),
        device_class=device_class,
        entity_category=EntityCategory.DIAGNOSTIC if diagnostic else None,
        entity_registry_enabled_default=enabled,
        value_fn=flag(key) if value_fn is None else value_fn,
    )


def _opening(
    key: str, device_class: BinarySensorDeviceClass
) -> TeslaBinarySensorEntityDescription:
    """A door, trunk or window: the car reports 0 when closed."""
    return _binary(key, device_class, value_fn=is_open(key))


BINARY_SENSORS: tuple[TeslaBinarySensorEntityDescription, ...] = (
    TeslaBinarySensorEntityDescription(
        key="cloud_connection",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        coordinator_fn=lambda coordinator: coordinator.cloud_connected,
        needs_data=False,
    ),
    TeslaBinarySensorEntityDescription(
        key="bluetooth_in_range",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        coordinator_fn=lambda coordinator: (
            coordinator.bluetooth is not None and coordinator.bluetooth.in_range
        ),
        needs_data=False,
        bluetooth=True,
    ),
    # -- charging ------------------------------------------------------------------------
    _binary(
        "charge_state_conn_charge_cable", BinarySensorDeviceClass.PLUG, value_fn=_cable
    ),
    _binary("charge_state_scheduled_charging_pending"),
    # -- closures ------------------------------------------------------------------------
    *(
        _opening(f"vehicle_state_{door}", BinarySensorDeviceClass.DOOR)
        for door in ("df", "dr", "pf", "pr")
    ),
    *(
        _opening(f"vehicle_state_{window}_window", BinarySensorDeviceClass.WINDOW)
        for window in ("fd", "fp", "rd", "rp")
    ),
    # -- people and guarding -------------------------------------------------------------
    _binary("vehicle_state_is_user_present"),
    optional(
        _binary(
            "vehicle_state_dashcam_state",
            BinarySensorDeviceClass.RUNNING,
            value_fn=_dashcam,
            diagnostic=True,
        )
    ),
    # -- climate and battery -------------------------------------------------------------
    _binary("climate_state_is_preconditioning", BinarySensorDeviceClass.RUNNING),
    _binary("climate_state_battery_heater", diagnostic=True),
    # -- software and tyres --------------------------------------------------------------
    *(
        optional(
            _binary(
                f"vehicle_state_tpms_{level}_warning_{corner}",
                BinarySensorDeviceClass.PROBLEM,
                diagnostic=True,
                enabled=False,
            )
        )
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
