"""Touchscreen commands: navigation and software updates."""

from collections.abc import Mapping

from ..car import Car
from .base import OK, CommandError, Params, Registry, Result, p_number, p_value

INFOTAINMENT_COMMANDS = Registry()


@INFOTAINMENT_COMMANDS
def navigation_request(car: Car, params: Params, now: float) -> Result:
    """Share an address (type share_ext_content_raw, value {android.intent.extra.TEXT})."""
    value = p_value(params, "value")
    if isinstance(value, Mapping):
        text = value.get("android.intent.extra.TEXT")
    else:
        text = value
    if not isinstance(text, str) or not text.strip():
        raise CommandError("value must carry the destination text")
    _route_to(car, text.strip(), car.latitude + 0.05, car.longitude + 0.05)
    return OK


INFOTAINMENT_COMMANDS["share"] = (
    navigation_request  # the same request under the app's other name
)


@INFOTAINMENT_COMMANDS
def navigation_gps_request(car: Car, params: Params, now: float) -> Result:
    """Navigate to a coordinate."""
    lat = p_number(params, "lat")
    lon = p_number(params, "lon")
    _route_to(car, f"{lat:.5f},{lon:.5f}", lat, lon)
    return OK


def _route_to(car: Car, name: str, lat: float, lon: float) -> None:
    car.destination = name
    car.destination_lat, car.destination_lon = lat, lon


@INFOTAINMENT_COMMANDS
def schedule_software_update(car: Car, params: Params, now: float) -> Result:
    """Install the available update in ``offset_sec`` seconds."""
    offset = p_number(params, "offset_sec")
    if offset < 0:
        raise CommandError("offset_sec must not be negative")
    if car.update_status not in ("available", "downloaded", "scheduled"):
        return False, "no_update_available"
    car.update_status = "scheduled"
    car.update_scheduled_at = now + offset
    car.handle_events(now)
    return OK


@INFOTAINMENT_COMMANDS
def cancel_software_update(car: Car, params: Params, now: float) -> Result:
    """Cancel a scheduled update."""
    if car.update_status != "scheduled":
        return False, "no_update_scheduled"
    car.update_status = "available"
    car.update_scheduled_at = None
    return OK
