"""Climate commands: conditioning, temperatures, defrost, keeper modes, seats, departure."""

from ..car import Car
from ..configs import SEAT_HEATERS
from .base import (
    OK,
    CommandError,
    Params,
    Registry,
    Result,
    p_bool,
    p_int,
    p_level,
    p_minutes,
    p_number,
)

KEEPER_MODES = ("off", "keep", "dog", "camp")
COP_TEMPS = ("Low", "Medium", "High")
"""``cop_activation_temperature`` by ``set_cop_temp``'s ``cop_temp`` (30, 35, 40 °C)."""
COMFORT_OFF: Result = (False, "cabin comfort remote settings not enabled")
"""The answer to a seat or steering wheel heating request while the climate is off."""

CLIMATE_COMMANDS = Registry()


@CLIMATE_COMMANDS
def auto_conditioning_start(car: Car, params: Params, now: float) -> Result:
    """Climate on."""
    car.set_climate(True)
    return OK


@CLIMATE_COMMANDS
def auto_conditioning_stop(car: Car, params: Params, now: float) -> Result:
    """Climate off."""
    car.set_climate(False)
    return OK


@CLIMATE_COMMANDS
def set_temps(car: Car, params: Params, now: float) -> Result:
    """Set the driver (and passenger) temperature in °C."""
    driver = p_number(params, "driver_temp")
    passenger = p_number(params, "passenger_temp", driver)
    if not (15.0 <= driver <= 28.0 and 15.0 <= passenger <= 28.0):
        return False, "temperature out of range"
    car.driver_temp, car.passenger_temp = driver, passenger
    return OK


@CLIMATE_COMMANDS
def set_preconditioning_max(car: Car, params: Params, now: float) -> Result:
    """Defrost (max preconditioning) on or off."""
    on = p_bool(params, "on")
    if on:
        car.set_climate(True)
    car.defrost = on
    return OK


@CLIMATE_COMMANDS
def set_climate_keeper_mode(car: Car, params: Params, now: float) -> Result:
    """0 off, 1 keep, 2 dog, 3 camp."""
    mode = p_level(params, "climate_keeper_mode", len(KEEPER_MODES) - 1)
    if mode:
        car.set_climate(True)
    car.keeper_mode = KEEPER_MODES[mode]
    return OK


@CLIMATE_COMMANDS
def set_cabin_overheat_protection(car: Car, params: Params, now: float) -> Result:
    """Cabin overheat protection on, off or fan only."""
    on = p_bool(params, "on")
    fan_only = p_bool(params, "fan_only", False)
    car.cabin_overheat_protection = ("FanOnly" if fan_only else "On") if on else "Off"
    return OK


@CLIMATE_COMMANDS
def remote_steering_wheel_heater_request(
    car: Car, params: Params, now: float
) -> Result:
    """Steering wheel heater on (high) or off (needs climate on)."""
    return _wheel_level(car, 3 if p_bool(params, "on") else 0)


@CLIMATE_COMMANDS
def remote_steering_wheel_heat_level_request(
    car: Car, params: Params, now: float
) -> Result:
    """Steering wheel heat level 0-3 (needs climate on)."""
    return _wheel_level(car, p_level(params, "level", 3))


def _wheel_level(car: Car, level: int) -> Result:
    """Set the steering wheel heat level (needs climate on)."""
    if not car.climate_on:
        return COMFORT_OFF
    car.steering_wheel_heat_level = level
    car.steering_wheel_heater = level > 0
    return OK


@CLIMATE_COMMANDS
def remote_auto_steering_wheel_heat_climate_request(
    car: Car, params: Params, now: float
) -> Result:
    """Automatic steering wheel heating on or off (needs climate on)."""
    on = p_bool(params, "on")
    if not car.climate_on:
        return COMFORT_OFF
    car.auto_steering_wheel_heat = on
    return OK


@CLIMATE_COMMANDS
def remote_auto_seat_climate_request(car: Car, params: Params, now: float) -> Result:
    """Automatic seat climate of a front seat (1 left, 2 right) on or off."""
    position = p_int(params, "auto_seat_position")
    on = p_bool(params, "auto_climate_on")
    if position not in car.auto_seat_climate:
        raise CommandError("auto_seat_position must be 1 or 2")
    if not car.climate_on:
        return COMFORT_OFF
    car.auto_seat_climate[position] = on
    return OK


@CLIMATE_COMMANDS
def set_cop_temp(car: Car, params: Params, now: float) -> Result:
    """Cabin overheat protection temperature: 0 low, 1 medium, 2 high."""
    car.cop_temp = p_level(params, "cop_temp", len(COP_TEMPS) - 1)
    return OK


@CLIMATE_COMMANDS
def remote_seat_heater_request(car: Car, params: Params, now: float) -> Result:
    """Seat heater level 0-3 for a fitted seat (needs climate on)."""
    heater = p_int(params, "heater")
    level = p_int(params, "level")
    if heater not in SEAT_HEATERS or not 0 <= level <= 3:
        raise CommandError("invalid heater or level")
    if heater not in car.config.heated_seats():
        return False, "seat heater not available"
    return _seat_level(car, car.seat_heaters, heater, level)


@CLIMATE_COMMANDS
def remote_seat_cooler_request(car: Car, params: Params, now: float) -> Result:
    """Seat cooling (ventilation) level 0-3, seat_position 1 left / 2 right."""
    position = p_int(params, "seat_position")
    level = p_int(params, "seat_cooler_level")
    if position not in (1, 2) or not 0 <= level <= 3:
        raise CommandError("invalid seat_position or seat_cooler_level")
    if not car.config.seat_cooling:
        return False, "seat cooling not available"
    return _seat_level(car, car.seat_coolers, position, level)


def _seat_level(car: Car, levels: dict[int, int], seat: int, level: int) -> Result:
    """Set a seat's heating or cooling level (needs climate on)."""
    if not car.climate_on:
        return COMFORT_OFF
    levels[seat] = level
    return OK


@CLIMATE_COMMANDS
def set_scheduled_departure(car: Car, params: Params, now: float) -> Result:
    """Scheduled departure on/off (departure_time in minutes after midnight)."""
    enable = p_bool(params, "enable")
    car.scheduled_departure_minutes = p_minutes(
        params, "departure_time", car.scheduled_departure_minutes
    )
    car.scheduled_departure_enabled = enable
    car.preconditioning_enabled = p_bool(
        params, "preconditioning_enabled", car.preconditioning_enabled
    )
    car.off_peak_charging_enabled = p_bool(
        params, "off_peak_charging_enabled", car.off_peak_charging_enabled
    )
    car.off_peak_hours_end_time = p_int(
        params, "end_off_peak_time", car.off_peak_hours_end_time
    )
    if enable:
        car.scheduled_charging_enabled = False
    return OK
