"""What a car tells over Bluetooth: VCSEC's ``VehicleStatus``, infotainment's data.

VCSEC is always awake: its ``VehicleStatus`` (closures, lock, sleep status, user
presence) is answered and broadcast whether the car sleeps or not. Infotainment's
``VehicleData`` carries the same values as the REST ``vehicle_data`` (``payloads``),
copied field by field where the protobuf has a field of the REST name (temperatures
get their ``_celsius`` suffix, the charging state its oneof member).
"""

from collections.abc import Mapping
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from tesla_protocol.command.car_server_pb2 import GetVehicleData
from tesla_protocol.command.vcsec_pb2 import (
    ClosureState_E,
    ClosureStatuses,
    UserPresence_E,
    VehicleLockState_E,
    VehicleSleepStatus_E,
    VehicleStatus,
)
from tesla_protocol.command.vehicle_pb2 import (
    ChargeState,
    ClimateState,
    ClosuresState,
    VehicleData,
)

from .. import payloads
from ..car import POWER_ASLEEP, POWER_WAKING
from ..vehicles import Vehicle

CLOSURES = {
    "frontDriverDoor": "df",
    "frontPassengerDoor": "pf",
    "rearDriverDoor": "dr",
    "rearPassengerDoor": "pr",
    "frontTrunk": "ft",
    "rearTrunk": "rt",
}
"""VCSEC's closure -> the car's door key."""
RENAMED = {
    "inside_temp_celsius": "inside_temp",
    "outside_temp_celsius": "outside_temp",
    "min_avail_temp_celsius": "min_avail_temp",
    "max_avail_temp_celsius": "max_avail_temp",
}
"""Protobuf field -> REST key where the names differ."""
CLOSURE_KEYS = {
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
SCALARS = {
    FieldDescriptor.TYPE_BOOL: bool,
    FieldDescriptor.TYPE_INT32: int,
    FieldDescriptor.TYPE_UINT32: int,
    FieldDescriptor.TYPE_INT64: int,
    FieldDescriptor.TYPE_UINT64: int,
    FieldDescriptor.TYPE_FLOAT: float,
    FieldDescriptor.TYPE_DOUBLE: float,
    FieldDescriptor.TYPE_STRING: str,
}


def asleep(car: Vehicle) -> bool:
    """Is infotainment asleep (silent over Bluetooth)?"""
    return car.power in (POWER_ASLEEP, POWER_WAKING)


def _closure(is_open: bool) -> int:
    return (
        ClosureState_E.CLOSURESTATE_OPEN
        if is_open
        else ClosureState_E.CLOSURESTATE_CLOSED
    )


def vehicle_status(car: Vehicle) -> VehicleStatus:
    """VCSEC's ``VehicleStatus`` of ``car`` (brought up to date by the caller)."""
    closures = ClosureStatuses(
        chargePort=_closure(car.charge_port_door_open),  # type: ignore[arg-type]
        **{name: _closure(bool(car.doors[key])) for name, key in CLOSURES.items()},  # type: ignore[arg-type]
    )
    return VehicleStatus(
        closureStatuses=closures,
        vehicleLockState=(
            VehicleLockState_E.VEHICLELOCKSTATE_LOCKED
            if car.locked
            else VehicleLockState_E.VEHICLELOCKSTATE_UNLOCKED
        ),
        vehicleSleepStatus=(
            VehicleSleepStatus_E.VEHICLE_SLEEP_STATUS_ASLEEP
            if asleep(car)
            else VehicleSleepStatus_E.VEHICLE_SLEEP_STATUS_AWAKE
        ),
        userPresence=(
            UserPresence_E.VEHICLE_USER_PRESENCE_PRESENT
            if car.user_present
            else UserPresence_E.VEHICLE_USER_PRESENCE_NOT_PRESENT
        ),
    )


def _copy[M: Message](target: M, values: Mapping[str, Any]) -> M:
    """Set every scalar field of ``target`` whose REST value is present and fits."""
    for field in target.DESCRIPTOR.fields:
        value = values.get(RENAMED.get(field.name, field.name))
        kind = SCALARS.get(field.type)
        if kind is None or value is None or isinstance(value, dict | list):
            continue
        if kind is str and not isinstance(value, str):
            continue
        if kind is not str and isinstance(value, str):
            continue
        setattr(target, field.name, kind(value))
    return target


def charge_state(car: Vehicle, now: float, ts: int) -> ChargeState:
    """Infotainment's ``ChargeState``."""
    rest = payloads.charge_state(car, now, ts)
    state = _copy(ChargeState(), rest)
    member = rest["charging_state"]
    if member in ChargeState.ChargingState.DESCRIPTOR.fields_by_name:
        getattr(state.charging_state, member).SetInParent()
    return state


def climate_state(car: Vehicle, ts: int) -> ClimateState:
    """Infotainment's ``ClimateState``."""
    return _copy(ClimateState(), payloads.climate_state(car, ts))


def closures_state(car: Vehicle, now: float) -> ClosuresState:
    """Infotainment's ``ClosuresState`` (doors, windows, lock, user present)."""
    rest = payloads.vehicle_state(car, now, int(now * 1000))
    state = _copy(ClosuresState(), rest)
    for name, key in CLOSURE_KEYS.items():
        setattr(state, name, bool(car.doors.get(key) or car.windows.get(key)))
    return state


def vehicle_data(car: Vehicle, request: GetVehicleData, now: float) -> VehicleData:
    """The parts of ``VehicleData`` that ``request`` asks for (and the car has)."""
    ts = int(now * 1000)
    data = VehicleData()
    if request.HasField("getChargeState"):
        data.charge_state.CopyFrom(charge_state(car, now, ts))
    if request.HasField("getClimateState"):
        data.climate_state.CopyFrom(climate_state(car, ts))
    if request.HasField("getClosuresState"):
        data.closures_state.CopyFrom(closures_state(car, now))
    return data
