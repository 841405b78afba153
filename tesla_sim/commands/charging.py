"""Charging commands: the charge port, charging, the limit, the current, the schedule.

Exactly the commands the ``vehicle_charging_cmds`` scope allows.
"""

from ..car import CHARGING, STOPPED, Car
from .base import OK, Params, Registry, Result, p_bool, p_int, p_minutes

CHARGING_COMMANDS = Registry()


@CHARGING_COMMANDS
def charge_port_door_open(car: Car, params: Params, now: float) -> Result:
    """Open the charge port door (releases the latch when a cable is in)."""
    if car.charging:
        return False, "is_charging"
    car.charge_port_door_open = True
    if car.plugged:
        car.charge_port_latch = "Disengaged"
    return OK


@CHARGING_COMMANDS
def charge_port_door_close(car: Car, params: Params, now: float) -> Result:
    """Close the charge port door."""
    if car.plugged:
        return False, "cable_connected"
    car.charge_port_door_open = False
    return OK


@CHARGING_COMMANDS
def charge_start(car: Car, params: Params, now: float) -> Result:
    """Start charging."""
    if not car.plugged:
        return False, "disconnected"
    if car.charging:
        return False, "is_charging"
    if car.battery_level >= car.charge_limit - 0.5:
        return False, "complete"
    car.charging_state = CHARGING
    return OK


@CHARGING_COMMANDS
def charge_stop(car: Car, params: Params, now: float) -> Result:
    """Stop charging."""
    if not car.charging:
        return False, "not_charging"
    car.charging_state = STOPPED
    return OK


def _set_limit(car: Car, percent: int) -> Result:
    if not 50 <= percent <= 100:
        return False, "invalid_charge_limit"
    if percent == car.charge_limit:
        return False, "already_set"
    car.charge_limit = percent
    if car.charging:
        car.handle_events(car.updated_at)
    return OK


@CHARGING_COMMANDS
def set_charge_limit(car: Car, params: Params, now: float) -> Result:
    """Set the charge limit (percent, 50-100)."""
    return _set_limit(car, p_int(params, "percent"))


@CHARGING_COMMANDS
def charge_max_range(car: Car, params: Params, now: float) -> Result:
    """Charge limit 100 %."""
    return _set_limit(car, 100)


@CHARGING_COMMANDS
def charge_standard(car: Car, params: Params, now: float) -> Result:
    """Charge limit 80 %."""
    return _set_limit(car, 80)


@CHARGING_COMMANDS
def set_charging_amps(car: Car, params: Params, now: float) -> Result:
    """Set the requested charging current (clamped to what the car accepts)."""
    amps = p_int(params, "charging_amps")
    car.charge_current_request = max(0, min(amps, car.config.max_amps))
    return OK


@CHARGING_COMMANDS
def set_scheduled_charging(car: Car, params: Params, now: float) -> Result:
    """Scheduled charging on/off at ``time`` (minutes after midnight)."""
    enable = p_bool(params, "enable")
    car.scheduled_charging_time = p_minutes(params, "time", car.scheduled_charging_time)
    car.scheduled_charging_enabled = enable
    if enable:
        car.scheduled_departure_enabled = False
    return OK
