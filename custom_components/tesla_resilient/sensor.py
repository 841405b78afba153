"""Sensors of a Tesla vehicle: battery, charging, driving, climate, tyres, navigation.

Values are published in the units the car reports (miles, mph, °C, bar, kW); Home
Assistant converts them to the user's unit system through the device classes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfLength,
    UnitOfPower,
    UnitOfPressure,
    UnitOfSpeed,
    UnitOfTemperature,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .api import VehicleData
from .coordinator import TeslaResilientConfigEntry, VehicleCoordinator
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities
from .values import when_reported

PARALLEL_UPDATES = 0

CHARGE_STATE = ("charge_state",)
CLIMATE_STATE = ("climate_state",)
DRIVE_STATE = ("drive_state",)
VEHICLE_STATE = ("vehicle_state",)

CHARGING_STATES: dict[str, str] = {
    "Starting": "starting",
    "Charging": "charging",
    "Stopped": "stopped",
    "Complete": "complete",
    "Disconnected": "disconnected",
    "NoPower": "no_power",
}
"""Tesla's ``charging_state`` values and the sensor's (translated) states."""

SHIFT_STATES: dict[str, str] = {"P": "p", "D": "d", "R": "r", "N": "n"}

type SensorValue = StateType | datetime


@dataclass(frozen=True, kw_only=True)
class TeslaSensorEntityDescription(SensorEntityDescription, TeslaEntityDescription):
    """A sensor of the vehicle.

    ``value_fn`` reads the vehicle data (default: the number at ``key``);
    ``minutes_until`` turns that number of minutes, counted from when the data was
    fetched, into a timestamp (it does not move between two fetches);
    ``coordinator_fn`` is for sensors about the connection rather than the car.
    """

    value_fn: Callable[[VehicleData], SensorValue] | None = None
    minutes_until: bool = False
    coordinator_fn: Callable[[VehicleCoordinator], SensorValue] | None = None


def _enum(key: str, states: dict[str, str]) -> Callable[[VehicleData], str | None]:
    """Map Tesla's string at ``key`` to one of ``states`` (unknown values: ``None``)."""
    return lambda data: states.get(data.get_str(key) or "")


def _zero_when_null(key: str) -> Callable[[VehicleData], SensorValue]:
    """The number at ``key``; ``0`` when the car sends ``null`` (parked)."""
    return when_reported(key, lambda data: data.get_float(key) or 0.0)


def _epoch(key: str) -> Callable[[VehicleData], datetime | None]:
    """The epoch-seconds value at ``key`` as a timestamp."""

    def value(data: VehicleData) -> datetime | None:
        seconds = data.get_float(key)
        return None if seconds is None else dt_util.utc_from_timestamp(seconds)

    return value


def _positive(key: str) -> Callable[[VehicleData], float | None]:
    """The number at ``key`` when above zero (``0`` means "nothing to count down")."""

    def value(data: VehicleData) -> float | None:
        number = data.get_float(key)
        return number if number is not None and number > 0 else None

    return value


def _range(key: str, *, enabled: bool = True) -> TeslaSensorEntityDescription:
    """A battery range (miles, as the car reports it)."""
    return TeslaSensorEntityDescription(
        key=key,
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.DISTANCE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfLength.MILES,
        suggested_display_precision=0,
        entity_registry_enabled_default=enabled,
    )


def _temperature(
    key: str, *, measured: bool = True, enabled: bool = True
) -> TeslaSensorEntityDescription:
    """A cabin temperature (°C): a measurement, or a setting (no statistics)."""
    return TeslaSensorEntityDescription(
        key=key,
        endpoints=CLIMATE_STATE,
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT if measured else None,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        entity_registry_enabled_default=enabled,
    )


def _tpms_pressure(corner: str) -> TeslaSensorEntityDescription:
    return TeslaSensorEntityDescription(
        key=f"vehicle_state_tpms_pressure_{corner}",
        endpoints=VEHICLE_STATE,
        device_class=SensorDeviceClass.PRESSURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPressure.BAR,
        suggested_display_precision=2,
    )


def _tpms_last_seen(corner: str) -> TeslaSensorEntityDescription:
    key = f"vehicle_state_tpms_last_seen_pressure_time_{corner}"
    return TeslaSensorEntityDescription(
        key=key,
        endpoints=VEHICLE_STATE,
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=_epoch(key),
    )


SENSORS: tuple[TeslaSensorEntityDescription, ...] = (
    # -- battery and range ---------------------------------------------------------------
    TeslaSensorEntityDescription(
        key="charge_state_battery_level",
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
    ),
    TeslaSensorEntityDescription(
        key="charge_state_usable_battery_level",
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
    ),
    _range("charge_state_battery_range"),
    _range("charge_state_est_battery_range", enabled=False),
    _range("charge_state_ideal_battery_range", enabled=False),
    # -- charging ------------------------------------------------------------------------
    TeslaSensorEntityDescription(
        key="charge_state_charging_state",
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.ENUM,
        options=list(CHARGING_STATES.values()),
        value_fn=_enum("charge_state_charging_state", CHARGING_STATES),
    ),
    TeslaSensorEntityDescription(
        key="charge_state_charger_power",
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
    ),
    TeslaSensorEntityDescription(
        key="charge_state_charge_rate",
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.SPEED,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfSpeed.MILES_PER_HOUR,
        suggested_display_precision=0,
    ),
    TeslaSensorEntityDescription(
        key="charge_state_charger_voltage",
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.VOLTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricPotential.VOLT,
        entity_registry_enabled_default=False,
    ),
    TeslaSensorEntityDescription(
        key="charge_state_charger_actual_current",
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.CURRENT,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        entity_registry_enabled_default=False,
    ),
    TeslaSensorEntityDescription(
        key="charge_state_charge_energy_added",
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=1,
    ),
    TeslaSensorEntityDescription(
        key="charge_state_minutes_to_full_charge",
        endpoints=CHARGE_STATE,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_positive("charge_state_minutes_to_full_charge"),
        minutes_until=True,
    ),
    # -- driving -------------------------------------------------------------------------
    TeslaSensorEntityDescription(
        key="vehicle_state_odometer",
        endpoints=VEHICLE_STATE,
        device_class=SensorDeviceClass.DISTANCE,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfLength.MILES,
        suggested_display_precision=0,
    ),
    TeslaSensorEntityDescription(
        key="drive_state_speed",
        endpoints=DRIVE_STATE,
        device_class=SensorDeviceClass.SPEED,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfSpeed.MILES_PER_HOUR,
        suggested_display_precision=0,
        value_fn=_zero_when_null("drive_state_speed"),
    ),
    TeslaSensorEntityDescription(
        key="drive_state_power",
        endpoints=DRIVE_STATE,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        entity_registry_enabled_default=False,
        value_fn=_zero_when_null("drive_state_power"),
    ),
    TeslaSensorEntityDescription(
        key="drive_state_shift_state",
        endpoints=DRIVE_STATE,
        device_class=SensorDeviceClass.ENUM,
        options=list(SHIFT_STATES.values()),
        value_fn=when_reported(
            "drive_state_shift_state",
            lambda data: SHIFT_STATES.get(data.shift_state or "P"),
        ),
    ),
    # -- climate -------------------------------------------------------------------------
    _temperature("climate_state_inside_temp"),
    _temperature("climate_state_outside_temp"),
    _temperature("climate_state_driver_temp_setting", measured=False, enabled=False),
    _temperature("climate_state_passenger_temp_setting", measured=False, enabled=False),
    # -- tyres ---------------------------------------------------------------------------
    *(_tpms_pressure(corner) for corner in ("fl", "fr", "rl", "rr")),
    *(_tpms_last_seen(corner) for corner in ("fl", "fr", "rl", "rr")),
    # -- navigation ----------------------------------------------------------------------
    TeslaSensorEntityDescription(
        key="drive_state_active_route_minutes_to_arrival",
        endpoints=DRIVE_STATE,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=when_reported(
            "drive_state_active_route_minutes_to_arrival",
            lambda data: data.get_float("drive_state_active_route_minutes_to_arrival"),
        ),
        minutes_until=True,
    ),
    TeslaSensorEntityDescription(
        key="drive_state_active_route_miles_to_arrival",
        endpoints=DRIVE_STATE,
        device_class=SensorDeviceClass.DISTANCE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfLength.MILES,
        suggested_display_precision=1,
    ),
    TeslaSensorEntityDescription(
        key="drive_state_active_route_traffic_minutes_delay",
        endpoints=DRIVE_STATE,
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        entity_registry_enabled_default=False,
    ),
    # -- the connection (our own, from the snapshot) -------------------------------------
    TeslaSensorEntityDescription(
        key="vehicle_state",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=["online", "asleep", "offline", "unknown"],
        coordinator_fn=lambda coordinator: coordinator.snapshot.state.value,
    ),
    TeslaSensorEntityDescription(
        key="data_source",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=["cloud", "cache"],
        coordinator_fn=lambda coordinator: coordinator.snapshot.source.value,
    ),
    TeslaSensorEntityDescription(
        key="last_update",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        coordinator_fn=lambda coordinator: coordinator.last_update,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of every vehicle of the entry."""

    async_add_table_entities(entry, async_add_entities, SENSORS, TeslaSensorEntity)


class TeslaSensorEntity(TeslaVehicleEntity, SensorEntity):
    """A sensor reading one value of the vehicle's snapshot."""

    entity_description: TeslaSensorEntityDescription

    @property
    def native_value(self) -> SensorValue:
        """The sensor's value, in the car's own unit."""
        description = self.entity_description
        if description.coordinator_fn is not None:
            return description.coordinator_fn(self.coordinator)
        data = self.values
        if description.value_fn is None:
            whole = data.get_int(description.key)
            return whole if whole is not None else data.get_float(description.key)
        value = description.value_fn(data)
        if description.minutes_until:
            return self._minutes_from_fetch(value)
        return value

    def _minutes_from_fetch(self, minutes: SensorValue) -> datetime | None:
        """The moment ``minutes`` after the data was fetched (stable between fetches)."""
        fetched_at = self.coordinator.snapshot.fetched_at
        if not isinstance(minutes, int | float) or fetched_at is None:
            return None
        return dt_util.utc_from_timestamp(round(fetched_at + minutes * 60))
