"""Body commands: doors, trunks, windows, sunroof, sentry, valet, horn, lights, HomeLink."""

from ..car import Car, distance_miles
from .base import OK, CommandError, Params, Registry, Result, p_bool, p_choice, p_number

REMOTE_START_SECONDS = 120.0

BODY_COMMANDS = Registry()


@BODY_COMMANDS
def door_lock(car: Car, params: Params, now: float) -> Result:
    """Lock the doors."""
    car.locked = True
    return OK


@BODY_COMMANDS
def door_unlock(car: Car, params: Params, now: float) -> Result:
    """Unlock the doors."""
    car.locked = False
    return OK


@BODY_COMMANDS
def actuate_trunk(car: Car, params: Params, now: float) -> Result:
    """Open the frunk, or open/close the rear trunk (closing needs a powered liftgate)."""
    if p_choice(params, "which_trunk", ("front", "rear")) == "front":
        car.doors["ft"] = 1
        return OK
    if car.doors["rt"]:
        if not car.config.powered_liftgate:
            return False, "rear trunk is not powered"
        car.doors["rt"] = 0
    else:
        car.doors["rt"] = 1
    return OK


@BODY_COMMANDS
def window_control(car: Car, params: Params, now: float) -> Result:
    """Vent or close all windows."""
    value = 1 if p_choice(params, "command", ("vent", "close")) == "vent" else 0
    car.windows = dict.fromkeys(car.windows, value)
    return OK


@BODY_COMMANDS
def sun_roof_control(car: Car, params: Params, now: float) -> Result:
    """Vent or close the sunroof; ``stop`` halts it (it moves at once here: no change)."""
    state = p_choice(params, "state", ("vent", "close", "stop"))
    if not car.config.sunroof:
        return False, "sunroof not installed"
    if state == "stop":
        return OK
    car.sun_roof_state = "vent" if state == "vent" else "closed"
    car.sun_roof_percent_open = 15 if state == "vent" else 0
    return OK


@BODY_COMMANDS
def set_sentry_mode(car: Car, params: Params, now: float) -> Result:
    """Sentry mode on or off."""
    car.sentry_mode = p_bool(params, "on")
    return OK


@BODY_COMMANDS
def set_valet_mode(car: Car, params: Params, now: float) -> Result:
    """Valet mode on (with a 4-digit PIN) or off (the same PIN when one was set)."""
    on = p_bool(params, "on")
    password = params.get("password")
    if password is not None and not isinstance(password, str | int):
        raise CommandError("password must be a string")
    pin = None if password is None else str(password)
    if on:
        if car.valet_mode:
            return False, "already_set"
        car.valet_mode, car.valet_pin = True, pin
        return OK
    if not car.valet_mode:
        return False, "already_set"
    if car.valet_pin is not None and pin != car.valet_pin:
        return False, "invalid_pin"
    car.valet_mode, car.valet_pin = False, None
    return OK


@BODY_COMMANDS
def honk_horn(car: Car, params: Params, now: float) -> Result:
    """Honk."""
    car.horn_honks += 1
    return OK


@BODY_COMMANDS
def flash_lights(car: Car, params: Params, now: float) -> Result:
    """Flash the lights."""
    car.light_flashes += 1
    return OK


@BODY_COMMANDS
def trigger_homelink(car: Car, params: Params, now: float) -> Result:
    """Trigger HomeLink; lat/lon (the user's position) must be near the car."""
    lat = p_number(params, "lat")
    lon = p_number(params, "lon")
    if not car.config.homelink:
        return False, "homelink not available"
    if distance_miles(lat, lon, car.latitude, car.longitude) > 0.6:
        return False, "user too far from car"
    if not car.homelink_nearby():
        return False, "no homelink device nearby"
    car.homelink_triggers += 1
    return OK


@BODY_COMMANDS
def remote_start_drive(car: Car, params: Params, now: float) -> Result:
    """Keyless driving for two minutes."""
    car.remote_start_until = now + REMOTE_START_SECONDS
    return OK
