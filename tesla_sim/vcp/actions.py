"""Infotainment: car-server ``Action``s as REST commands, and the car-server ``Response``.

Each ``VehicleAction`` the simulated car carries out maps to the REST command of the same
meaning with the REST parameters (the protocol's enums become the REST numbers: seat
heater positions 0-8, cooler levels 0-3, steering wheel heat 0, 1 or 3...). The answer
is a ``CarServer.Response`` whose ``actionStatus`` carries the handler's result and
reason.
"""

from collections.abc import Callable
from typing import Any

from tesla_protocol.command.car_server_pb2 import (
    Action,
    ActionStatus,
    HvacSeatHeaterActions,
    OperationStatus_E,
    Response,
    ResultReason,
)

from ..commands import Result
from ..vehicles import Vehicle
from .calls import Call

SEATS = (
    "CAR_SEAT_FRONT_LEFT",
    "CAR_SEAT_FRONT_RIGHT",
    "CAR_SEAT_REAR_LEFT",
    "CAR_SEAT_REAR_LEFT_BACK",
    "CAR_SEAT_REAR_CENTER",
    "CAR_SEAT_REAR_RIGHT",
    "CAR_SEAT_REAR_RIGHT_BACK",
    "CAR_SEAT_THIRD_ROW_LEFT",
    "CAR_SEAT_THIRD_ROW_RIGHT",
)
"""Seat heater positions in the order of the REST ``heater`` number."""
HEATER_LEVELS = (
    "SEAT_HEATER_OFF",
    "SEAT_HEATER_LOW",
    "SEAT_HEATER_MED",
    "SEAT_HEATER_HIGH",
)
WHEEL_LEVELS = {1: 0, 2: 1, 3: 3}
"""``StwHeatLevel`` Off, Low, High -> the REST level."""
CHARGING = {
    "start": "charge_start",
    "start_standard": "charge_standard",
    "start_max_range": "charge_max_range",
    "stop": "charge_stop",
}

type Mapper = Callable[[Any, Vehicle], Call | None]


def _seat_heater(action: Any, car: Vehicle) -> Call | None:
    """The first seat of ``hvacSeatHeaterActions``."""
    if not action.hvacSeatHeaterAction:
        return None
    seat: HvacSeatHeaterActions.HvacSeatHeaterAction = action.hvacSeatHeaterAction[0]
    position = seat.WhichOneof("seat_position")
    level = seat.WhichOneof("seat_heater_level")
    if position not in SEATS or level not in HEATER_LEVELS:
        return None
    params = {"heater": SEATS.index(position), "level": HEATER_LEVELS.index(level)}
    return "remote_seat_heater_request", params


def _seat_cooler(action: Any, car: Vehicle) -> Call | None:
    """The first seat of ``hvacSeatCoolerActions`` (levels Off..High are 1..4)."""
    if not action.hvacSeatCoolerAction:
        return None
    seat = action.hvacSeatCoolerAction[0]
    params = {
        "seat_position": seat.seat_position,
        "seat_cooler_level": seat.seat_cooler_level - 1,
    }
    return "remote_seat_cooler_request", params


def _auto_seat(action: Any, car: Vehicle) -> Call | None:
    """The first seat of ``autoSeatClimateAction``."""
    if not action.carseat:
        return None
    seat = action.carseat[0]
    params = {"auto_seat_position": seat.seat_position, "auto_climate_on": seat.on}
    return "remote_auto_seat_climate_request", params


def _volume(action: Any, car: Vehicle) -> Call | None:
    """An absolute volume, or a step from the current one."""
    if action.WhichOneof("media_volume") == "volume_delta":
        volume = min(11.0, max(0.0, car.media_volume + action.volume_delta))
        return "adjust_volume", {"volume": volume}
    return "adjust_volume", {"volume": action.volume_absolute_float}


def _departure(action: Any, car: Vehicle) -> Call | None:
    """Scheduled departure; a present schedule block switches its feature on."""
    params = {
        "enable": action.enabled,
        "departure_time": action.departure_time,
        "preconditioning_enabled": action.HasField("preconditioning_times"),
        "off_peak_charging_enabled": action.HasField("off_peak_charging_times"),
        "end_off_peak_time": action.off_peak_hours_end_time,
    }
    return "set_scheduled_departure", params


def _homelink(action: Any, car: Vehicle) -> Call | None:
    """HomeLink at the user's position (when the request carries one)."""
    if not action.HasField("location"):
        return "trigger_homelink", {}
    where = action.location
    return "trigger_homelink", {"lat": where.latitude, "lon": where.longitude}


def _valet(action: Any, car: Vehicle) -> Call | None:
    """Valet mode with its PIN (when one is given)."""
    params: dict[str, Any] = {"on": action.on}
    if action.password:
        params["password"] = action.password
    return "set_valet_mode", params


def _fields(name: str, **params: str) -> Mapper:
    """An action whose REST parameters are fields of its message (parameter=field)."""
    return lambda action, car: (
        name,
        {param: getattr(action, field) for param, field in params.items()},
    )


def _choice(name: str, param: str, oneof: str) -> Mapper:
    """An action whose REST parameter is the name of the member set in a oneof."""
    return lambda action, car: (name, {param: action.WhichOneof(oneof) or ""})


MAPPERS: dict[str, Mapper] = {
    "chargingStartStopAction": lambda a, car: (
        (CHARGING[kind], {})
        if (kind := a.WhichOneof("charging_action")) in CHARGING
        else None
    ),
    "chargingSetLimitAction": _fields("set_charge_limit", percent="percent"),
    "setChargingAmpsAction": _fields(
        "set_charging_amps", charging_amps="charging_amps"
    ),
    "chargePortDoorOpen": _fields("charge_port_door_open"),
    "chargePortDoorClose": _fields("charge_port_door_close"),
    "scheduledChargingAction": _fields(
        "set_scheduled_charging", enable="enabled", time="charging_time"
    ),
    "scheduledDepartureAction": _departure,
    "hvacAutoAction": lambda a, car: (
        "auto_conditioning_start" if a.power_on else "auto_conditioning_stop",
        {},
    ),
    "hvacTemperatureAdjustmentAction": _fields(
        "set_temps",
        driver_temp="driver_temp_celsius",
        passenger_temp="passenger_temp_celsius",
    ),
    "hvacSetPreconditioningMaxAction": _fields("set_preconditioning_max", on="on"),
    "hvacClimateKeeperAction": _fields(
        "set_climate_keeper_mode", climate_keeper_mode="ClimateKeeperAction"
    ),
    "setCabinOverheatProtectionAction": _fields(
        "set_cabin_overheat_protection", on="on", fan_only="fan_only"
    ),
    "setCopTempAction": lambda a, car: (
        "set_cop_temp",
        {"cop_temp": a.copActivationTemp - 1},
    ),
    "hvacSeatHeaterActions": _seat_heater,
    "hvacSeatCoolerActions": _seat_cooler,
    "autoSeatClimateAction": _auto_seat,
    "hvacSteeringWheelHeaterAction": _fields(
        "remote_steering_wheel_heater_request", on="power_on"
    ),
    "stwHeatLevelAction": lambda a, car: (
        "remote_steering_wheel_heat_level_request",
        {"level": WHEEL_LEVELS.get(a.stw_heat_level, -1)},
    ),
    "autoStwHeatAction": _fields(
        "remote_auto_steering_wheel_heat_climate_request", on="on"
    ),
    "vehicleControlSetSentryModeAction": _fields("set_sentry_mode", on="on"),
    "vehicleControlSetValetModeAction": _valet,
    "vehicleControlWindowAction": _choice("window_control", "command", "action"),
    "vehicleControlSunroofOpenCloseAction": _choice(
        "sun_roof_control", "state", "action"
    ),
    "vehicleControlHonkHornAction": _fields("honk_horn"),
    "vehicleControlFlashLightsAction": _fields("flash_lights"),
    "vehicleControlTriggerHomelinkAction": _homelink,
    "remoteStartDrive": _fields("remote_start_drive"),
    "vehicleControlScheduleSoftwareUpdateAction": _fields(
        "schedule_software_update", offset_sec="offset_sec"
    ),
    "vehicleControlCancelSoftwareUpdateAction": _fields("cancel_software_update"),
    "navigationRequest": _fields("navigation_request", value="destination"),
    "navigationGpsRequest": _fields("navigation_gps_request", lat="lat", lon="lon"),
    "mediaPlayAction": _fields("media_toggle_playback"),
    "mediaNextTrack": _fields("media_next_track"),
    "mediaPreviousTrack": _fields("media_prev_track"),
    "mediaUpdateVolume": _volume,
    "boomboxAction": _fields("remote_boombox", sound="sound"),
}


def to_call(payload: bytes, car: Vehicle) -> Call | None:
    """The command a car-server ``Action`` asks for (None: not one the car carries out).

    Raises ``google.protobuf.message.DecodeError`` for a payload that does not parse.
    """
    vehicle_action = Action.FromString(payload).vehicleAction
    kind = vehicle_action.WhichOneof("vehicle_action_msg")
    mapper = MAPPERS.get(kind or "")
    return None if mapper is None else mapper(getattr(vehicle_action, kind or ""), car)


def answer(result: Result) -> bytes:
    """The encoded car-server ``Response`` for a handler's (result, reason)."""
    ok, reason = result
    status = ActionStatus(
        result=(
            OperationStatus_E.OPERATIONSTATUS_OK
            if ok
            else OperationStatus_E.OPERATIONSTATUS_ERROR
        )
    )
    if reason:
        status.result_reason.CopyFrom(ResultReason(plain_text=reason))
    encoded: bytes = Response(actionStatus=status).SerializeToString()
    return encoded
