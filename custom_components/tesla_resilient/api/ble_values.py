"""The car's Bluetooth answers as the cloud's flattened ``vehicle_data`` keys.

Over Bluetooth the car answers in protobuf: VCSEC's ``VehicleStatus`` (locks, closures,
sleep, presence; answered while asleep) and infotainment's ``VehicleData`` (charge,
climate and closures states; only while awake). The integration's entities read the
cloud's keys (``vehicle_state_locked``, ``charge_state_battery_level``...), so the
values here use them with the cloud's units and value forms: doors, trunks and windows
``0``/``1``, temperatures in °C, enumerations as the cloud's strings
(``charging_state: "Charging"``, ``climate_keeper_mode: "dog"``). A field the car did
not send (an unset optional field, an ``Unknown``/``SNA`` enumeration) is left out, never
``None``: the values overlay what the cloud said before.
"""

from collections.abc import Mapping
from typing import Any, Final

from google.protobuf.message import Message
from tesla_protocol.command.vcsec_pb2 import (
    ClosureState_E,
    Gear_E,
    UserPresence_E,
    VehicleLockState_E,
    VehicleSleepStatus_E,
    VehicleStatus,
)
from tesla_protocol.command.vehicle_pb2 import (
    ChargeState,
    ClimateState,
    ClosuresState,
    VehicleData as VehicleDataMessage,
)

from .models import VehicleState

_CLOSED: Final = frozenset(
    {ClosureState_E.CLOSURESTATE_CLOSED, ClosureState_E.CLOSURESTATE_FAILED_UNLATCH}
)
"""Closure states of a closed door (a failed unlatch left it shut)."""
_OPEN: Final = frozenset(
    {
        ClosureState_E.CLOSURESTATE_OPEN,
        ClosureState_E.CLOSURESTATE_AJAR,
        ClosureState_E.CLOSURESTATE_OPENING,
        ClosureState_E.CLOSURESTATE_CLOSING,
    }
)
_CLOSURES: Final[Mapping[str, str]] = {
    "frontDriverDoor": "vehicle_state_df",
    "frontPassengerDoor": "vehicle_state_pf",
    "rearDriverDoor": "vehicle_state_dr",
    "rearPassengerDoor": "vehicle_state_pr",
    "frontTrunk": "vehicle_state_ft",
    "rearTrunk": "vehicle_state_rt",
}
"""VCSEC closure -> the cloud's key (an integer, 0 when closed)."""
_LOCKED: Final[Mapping[int, bool]] = {
    VehicleLockState_E.VEHICLELOCKSTATE_LOCKED: True,
    VehicleLockState_E.VEHICLELOCKSTATE_INTERNAL_LOCKED: True,
    VehicleLockState_E.VEHICLELOCKSTATE_UNLOCKED: False,
    VehicleLockState_E.VEHICLELOCKSTATE_SELECTIVE_UNLOCKED: False,
}
_PRESENT: Final[Mapping[int, bool]] = {
    UserPresence_E.VEHICLE_USER_PRESENCE_PRESENT: True,
    UserPresence_E.VEHICLE_USER_PRESENCE_NOT_PRESENT: False,
}
_GEARS: Final[Mapping[int, str]] = {
    Gear_E.GEAR_PARK: "P",
    Gear_E.GEAR_REVERSE: "R",
    Gear_E.GEAR_NEUTRAL: "N",
    Gear_E.GEAR_DRIVE: "D",
}
_SLEEP: Final[Mapping[int, VehicleState]] = {
    VehicleSleepStatus_E.VEHICLE_SLEEP_STATUS_AWAKE: VehicleState.ONLINE,
    VehicleSleepStatus_E.VEHICLE_SLEEP_STATUS_ASLEEP: VehicleState.ASLEEP,
}

_CHARGE_FIELDS: Final = (
    "battery_level",
    "usable_battery_level",
    "battery_range",
    "est_battery_range",
    "ideal_battery_range",
    "charge_limit_soc",
    "charge_limit_soc_min",
    "charge_limit_soc_max",
    "charge_limit_soc_std",
    "charge_energy_added",
    "charger_voltage",
    "charger_actual_current",
    "charger_pilot_current",
    "charger_power",
    "charger_phases",
    "minutes_to_full_charge",
    "charge_port_door_open",
    "charge_current_request",
    "charge_current_request_max",
    "charge_enable_request",
    "scheduled_charging_pending",
    "scheduled_charging_start_time_app",
    "scheduled_departure_time_minutes",
    "off_peak_hours_end_time",
    "preconditioning_enabled",
    "fast_charger_present",
    "trip_charging",
)
"""``ChargeState`` fields named and valued as the cloud's ``charge_state``."""
_CLIMATE_FIELDS: Final = (
    "driver_temp_setting",
    "passenger_temp_setting",
    "is_front_defroster_on",
    "is_rear_defroster_on",
    "fan_status",
    "is_climate_on",
    "is_auto_conditioning_on",
    "is_preconditioning",
    "battery_heater",
    "battery_heater_no_power",
    "steering_wheel_heater",
    "side_mirror_heaters",
    "wiper_blade_heater",
    "remote_heater_control_enabled",
    "auto_seat_climate_left",
    "auto_seat_climate_right",
    "seat_heater_left",
    "seat_heater_right",
    "seat_heater_rear_left",
    "seat_heater_rear_right",
    "seat_heater_rear_center",
    "seat_heater_third_row_left",
    "seat_heater_third_row_right",
    "seat_fan_front_left",
    "seat_fan_front_right",
)
"""``ClimateState`` fields named and valued as the cloud's ``climate_state``."""
_CLIMATE_CELSIUS: Final[Mapping[str, str]] = {
    "inside_temp_celsius": "inside_temp",
    "outside_temp_celsius": "outside_temp",
    "min_avail_temp_celsius": "min_avail_temp",
    "max_avail_temp_celsius": "max_avail_temp",
}
_KEEPER_MODES: Final[Mapping[str, str]] = {
    "Off": "off",
    "On": "keep",
    "Dog": "dog",
    "Party": "camp",
}
"""``ClimateKeeperMode`` -> the cloud's ``climate_keeper_mode``."""
_DEFROST_MODES: Final[Mapping[str, int]] = {"Off": 0, "Normal": 1, "Max": 2}
_DOORS: Final[Mapping[str, str]] = {
    "door_open_driver_front": "df",
    "door_open_driver_rear": "dr",
    "door_open_passenger_front": "pf",
    "door_open_passenger_rear": "pr",
    "door_open_trunk_front": "ft",
    "door_open_trunk_rear": "rt",
    "window_open_driver_front": "fd_window",
    "window_open_passenger_front": "fp_window",
    "window_open_driver_rear": "rd_window",
    "window_open_passenger_rear": "rp_window",
}
"""``ClosuresState`` booleans -> the cloud's ``vehicle_state`` integers."""
_CLOSURES_FIELDS: Final = (
    "locked",
    "is_user_present",
    "remote_start",
    "valet_mode",
    "valet_pin_needed",
    "sentry_mode_available",
    "sun_roof_percent_open",
)


def status_values(status: VehicleStatus) -> dict[str, Any]:
    """VCSEC's ``VehicleStatus`` as the cloud's keys (locks, closures, presence)."""
    values: dict[str, Any] = {}
    if status.HasField("closureStatuses"):
        closures = status.closureStatuses
        for name, key in _CLOSURES.items():
            state = getattr(closures, name)
            if state in _CLOSED:
                values[key] = 0
            elif state in _OPEN:
                values[key] = 1
        port = closures.chargePort
        if port in _CLOSED or port in _OPEN:
            values["charge_state_charge_port_door_open"] = port in _OPEN
    if (locked := _LOCKED.get(status.vehicleLockState)) is not None:
        values["vehicle_state_locked"] = locked
    if (present := _PRESENT.get(status.userPresence)) is not None:
        values["vehicle_state_is_user_present"] = present
    if (gear := _GEARS.get(status.gear)) is not None:
        values["drive_state_shift_state"] = gear
    return values


def sleep_state(status: VehicleStatus) -> VehicleState:
    """The car's sleep state from VCSEC: ``ASLEEP``, ``ONLINE`` or ``UNKNOWN``."""
    return _SLEEP.get(status.vehicleSleepStatus, VehicleState.UNKNOWN)


def _value(value: Any) -> Any:
    """A field's value; a 32-bit float as its shortest decimal (12.34, not 12.3400001)."""
    return float(f"{value:.7g}") if isinstance(value, float) else value


def _optional(message: Message, names: tuple[str, ...], prefix: str) -> dict[str, Any]:
    """The optional scalar fields ``names`` the car set, keyed ``prefix + name``."""
    return {
        f"{prefix}{name}": _value(getattr(message, name))
        for name in names
        if message.HasField(name)
    }


def _choice(message: Message, name: str) -> str | None:
    """The set member of a one-of enumeration message (``charging_state``...)."""
    if not message.HasField(name):
        return None
    inner = getattr(message, name)
    member = inner.WhichOneof("type")
    return str(member) if member is not None else None


def charge_values(charge: ChargeState) -> dict[str, Any]:
    """Infotainment's ``ChargeState`` as the cloud's ``charge_state_*`` keys."""
    values = _optional(charge, _CHARGE_FIELDS, "charge_state_")
    if charge.HasField("charge_rate_mph_float"):
        values["charge_state_charge_rate"] = _value(charge.charge_rate_mph_float)
    elif charge.HasField("charge_rate_mph"):
        values["charge_state_charge_rate"] = charge.charge_rate_mph
    for name in ("charging_state", "conn_charge_cable", "charge_port_latch"):
        member = _choice(charge, name)
        if member in {None, "Unknown", "SNA"}:
            continue
        values[f"charge_state_{name}"] = member
    return values


def climate_values(climate: ClimateState) -> dict[str, Any]:
    """Infotainment's ``ClimateState`` as the cloud's ``climate_state_*`` keys."""
    values = _optional(climate, _CLIMATE_FIELDS, "climate_state_")
    for name, key in _CLIMATE_CELSIUS.items():
        if climate.HasField(name):
            values[f"climate_state_{key}"] = round(getattr(climate, name), 1)
    if (
        keeper := _KEEPER_MODES.get(_choice(climate, "climate_keeper_mode") or "")
    ) is not None:
        values["climate_state_climate_keeper_mode"] = keeper
    if (
        defrost := _DEFROST_MODES.get(_choice(climate, "defrost_mode") or "")
    ) is not None:
        values["climate_state_defrost_mode"] = defrost
    return values


def closures_values(closures: ClosuresState) -> dict[str, Any]:
    """Infotainment's ``ClosuresState`` as the cloud's ``vehicle_state_*`` keys."""
    values = _optional(closures, _CLOSURES_FIELDS, "vehicle_state_")
    for name, key in _DOORS.items():
        if closures.HasField(name):
            values[f"vehicle_state_{key}"] = int(getattr(closures, name))
    sun_roof = _choice(closures, "sun_roof_state")
    if sun_roof not in {None, "Unknown"}:
        values["vehicle_state_sun_roof_state"] = str(sun_roof).lower()
    if (sentry := _choice(closures, "sentry_mode_state")) is not None:
        values["vehicle_state_sentry_mode"] = sentry != "Off"
    return values


def vehicle_data_values(data: VehicleDataMessage) -> dict[str, Any]:
    """The charge, climate and closures states of ``data`` as the cloud's keys."""
    values: dict[str, Any] = {}
    if data.HasField("charge_state"):
        values |= charge_values(data.charge_state)
    if data.HasField("climate_state"):
        values |= climate_values(data.climate_state)
    if data.HasField("closures_state"):
        values |= closures_values(data.closures_state)
    return values
