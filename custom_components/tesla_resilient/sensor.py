"""Sensors of a Tesla vehicle: battery, charging, driving, climate, tyres, navigation.

Values are published in the units the car reports (miles, mph, °C, bar, kW); Home
Assistant converts them to the user's unit system through the device classes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
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

from .api import VehicleData, key_endpoints
from .coordinator import TeslaResilientConfigEntry, VehicleCoordinator
from .entity import (
    TeslaEntityDescription,
    TeslaVehicleEntity,
    async_add_table_entities,
    optional,
)
from .values import route_number, when_reported

PARALLEL_UPDATES = 0

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
    ``coordinator_fn`` is for sensors about the connection rather than the car;
    ``freshness`` adds where the values come from and how old they are (attributes,
    which the logbook does not list on every poll as it would a state).
    """

    value_fn: Callable[[VehicleData], SensorValue] | None = None
    minutes_until: bool = False
    coordinator_fn: Callable[[VehicleCoordinator], SensorValue] | None = None
    freshness: bool = False


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


def _measured(
    key: str,
    device_class: SensorDeviceClass,
    unit: str,
    *,
    state_class: SensorStateClass | None = SensorStateClass.MEASUREMENT,
    precision: int | None = None,
    enabled: bool = True,
    value_fn: Callable[[VehicleData], SensorValue] | None = None,
) -> TeslaSensorEntityDescription:
    """A number the car reports at ``key`` in ``unit`` (default: a measurement)."""
    return TeslaSensorEntityDescription(
        key=key,
        endpoints=key_endpoints(key),
        device_class=device_class,
        state_class=state_class,
        native_unit_of_measurement=unit,
        suggested_display_precision=precision,
        entity_registry_enabled_default=enabled,
        value_fn=value_fn,
    )


def _minutes_until(
    key: str, value_fn: Callable[[VehicleData], SensorValue]
) -> TeslaSensorEntityDescription:
    """A countdown in minutes at ``key``, shown as the moment it ends."""
    return TeslaSensorEntityDescription(
        key=key,
        endpoints=key_endpoints(key),
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=value_fn,
        minutes_until=True,
    )


def _state(
    key: str, options: list[str], value_fn: Callable[[VehicleData], SensorValue]
) -> TeslaSensorEntityDescription:
    """One of ``options`` read from the string at ``key``."""
    return TeslaSensorEntityDescription(
        key=key,
        endpoints=key_endpoints(key),
        device_class=SensorDeviceClass.ENUM,
        options=options,
        value_fn=value_fn,
    )


def _range(key: str, *, enabled: bool = True) -> TeslaSensorEntityDescription:
    """A battery range (miles, as the car reports it)."""
    return _measured(
        key,
        SensorDeviceClass.DISTANCE,
        UnitOfLength.MILES,
        precision=0,
        enabled=enabled,
    )


def _temperature(
    key: str, *, measured: bool = True, enabled: bool = True
) -> TeslaSensorEntityDescription:
    """A cabin temperature (°C): a measurement, or a setting (no statistics)."""
    return _measured(
        key,
        SensorDeviceClass.TEMPERATURE,
        UnitOfTemperature.CELSIUS,
        state_class=SensorStateClass.MEASUREMENT if measured else None,
        precision=1,
        enabled=enabled,
    )


def _tpms_last_seen(corner: str) -> TeslaSensorEntityDescription:
    key = f"vehicle_state_tpms_last_seen_pressure_time_{corner}"
    return optional(
        TeslaSensorEntityDescription(
            key=key,
            endpoints=key_endpoints(key),
            device_class=SensorDeviceClass.TIMESTAMP,
            entity_category=EntityCategory.DIAGNOSTIC,
            entity_registry_enabled_default=False,
            value_fn=_epoch(key),
        )
    )


SENSORS: tuple[TeslaSensorEntityDescription, ...] = (
    # -- battery and range ---------------------------------------------------------------
    *(
        _measured(key, SensorDeviceClass.BATTERY, PERCENTAGE)
        for key in ("charge_state_battery_level", "charge_state_usable_battery_level")
    ),
    _range("charge_state_battery_range"),
    _range("charge_state_est_battery_range", enabled=False),
    _range("charge_state_ideal_battery_range", enabled=False),
    # -- charging ------------------------------------------------------------------------
    _state(
        "charge_state_charging_state",
        list(CHARGING_STATES.values()),
        _enum("charge_state_charging_state", CHARGING_STATES),
    ),
    _measured(
        "charge_state_charger_power", SensorDeviceClass.POWER, UnitOfPower.KILO_WATT
    ),
    _measured(
        "charge_state_charge_rate",
        SensorDeviceClass.SPEED,
        UnitOfSpeed.MILES_PER_HOUR,
        precision=0,
    ),
    _measured(
        "charge_state_charger_voltage",
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        enabled=False,
    ),
    _measured(
        "charge_state_charger_actual_current",
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        enabled=False,
    ),
    _measured(
        "charge_state_charge_energy_added",
        SensorDeviceClass.ENERGY,
        UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        precision=1,
    ),
    _minutes_until(
        "charge_state_minutes_to_full_charge",
        _positive("charge_state_minutes_to_full_charge"),
    ),
    # -- driving -------------------------------------------------------------------------
    _measured(
        "vehicle_state_odometer",
        SensorDeviceClass.DISTANCE,
        UnitOfLength.MILES,
        state_class=SensorStateClass.TOTAL_INCREASING,
        precision=0,
    ),
    _measured(
        "drive_state_speed",
        SensorDeviceClass.SPEED,
        UnitOfSpeed.MILES_PER_HOUR,
        precision=0,
        value_fn=_zero_when_null("drive_state_speed"),
    ),
    _measured(
        "drive_state_power",
        SensorDeviceClass.POWER,
        UnitOfPower.KILO_WATT,
        enabled=False,
        value_fn=_zero_when_null("drive_state_power"),
    ),
    _state(
        "drive_state_shift_state",
        list(SHIFT_STATES.values()),
        when_reported(
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
    *(
        optional(
            _measured(
                f"vehicle_state_tpms_pressure_{corner}",
                SensorDeviceClass.PRESSURE,
                UnitOfPressure.BAR,
                precision=2,
            )
        )
        for corner in ("fl", "fr", "rl", "rr")
    ),
    *(_tpms_last_seen(corner) for corner in ("fl", "fr", "rl", "rr")),
    # -- navigation (unknown without an active route) ------------------------------------
    _minutes_until(
        "drive_state_active_route_minutes_to_arrival",
        route_number("drive_state_active_route_minutes_to_arrival"),
    ),
    _measured(
        "drive_state_active_route_miles_to_arrival",
        SensorDeviceClass.DISTANCE,
        UnitOfLength.MILES,
        precision=1,
        value_fn=route_number("drive_state_active_route_miles_to_arrival"),
    ),
    _measured(
        "drive_state_active_route_traffic_minutes_delay",
        SensorDeviceClass.DURATION,
        UnitOfTime.MINUTES,
        enabled=False,
        value_fn=route_number("drive_state_active_route_traffic_minutes_delay"),
    ),
    # -- the connection (our own, from the snapshot) -------------------------------------
    TeslaSensorEntityDescription(
        key="vehicle_state",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=["online", "asleep", "offline", "unknown"],
        coordinator_fn=lambda coordinator: coordinator.snapshot.state.value,
        needs_data=False,
    ),
    TeslaSensorEntityDescription(
        key="data_source",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=["cloud", "cache", "ble"],
        # No values yet, so they come from nowhere: unknown.
        coordinator_fn=lambda coordinator: (
            None if coordinator.snapshot.data is None else coordinator.data_source.value
        ),
        freshness=True,
        needs_data=False,
    ),
    TeslaSensorEntityDescription(
        key="bluetooth_signal",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        coordinator_fn=lambda coordinator: (
            None if coordinator.bluetooth is None else coordinator.bluetooth.rssi
        ),
        needs_data=False,
        bluetooth=True,
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

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """When the values were last fetched (``data_as_of``), where asked for."""
        return (
            self.freshness_attributes() if self.entity_description.freshness else None
        )

    def _minutes_from_fetch(self, minutes: SensorValue) -> datetime | None:
        """The moment ``minutes`` after the data was fetched (stable between fetches)."""
        fetched_at = self.coordinator.snapshot.fetched_at
        if not isinstance(minutes, int | float) or fetched_at is None:
            return None
        return dt_util.utc_from_timestamp(round(fetched_at + minutes * 60))
