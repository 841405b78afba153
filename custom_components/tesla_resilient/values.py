"""Readers of :class:`VehicleData` shared by the platforms.

Small pure functions (no Home Assistant imports) so that every platform reads a field
the same way: a door is open the same way for the binary sensor and the cover, the car
is defrosting the same way for the switch and the climate preset.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from .api import VehicleData, key_endpoints
from .const import SOFTWARE_UPDATE_OFFERED

EMPTY_DATA: Final = VehicleData(MappingProxyType({}))
"""What entities read before the vehicle has any data (every field unknown)."""

DEFROST_MODE: Final = "climate_state_defrost_mode"
FRONT_DEFROSTER: Final = "climate_state_is_front_defroster_on"
DEFROST_COMMAND: Final = "set_preconditioning_max"
"""Turns defrost (max preconditioning) on or off: ``{"on": bool}``."""
DEFROST_ON_OPTIMISTIC: Final[Mapping[str, Any]] = MappingProxyType(
    {DEFROST_MODE: 2, FRONT_DEFROSTER: True, "climate_state_is_climate_on": True}
)
"""What the car shows once defrost is on (it starts the climate)."""
DEFROST_OFF_OPTIMISTIC: Final[Mapping[str, Any]] = MappingProxyType(
    {DEFROST_MODE: 0, FRONT_DEFROSTER: False}
)
"""What the car shows once defrost is off."""


def is_defrosting(data: VehicleData) -> bool | None:
    """Whether defrost (max preconditioning) runs; ``None`` when unknown.

    ``defrost_mode`` is what :data:`DEFROST_COMMAND` sets; cars that do not report it
    fall back to the front defroster.
    """
    mode = data.get_int(DEFROST_MODE)
    if mode is not None:
        return mode != 0
    return data.get_bool(FRONT_DEFROSTER)


def flag(key: str) -> Callable[[VehicleData], bool | None]:
    """A boolean field."""
    return lambda data: data.get_bool(key)


def reported(key: str) -> Callable[[VehicleData], bool]:
    """Whether the car reports ``key`` with a value (the feature exists)."""
    return lambda data: data.get(key) is not None


def fitted(key: str) -> Callable[[VehicleData], bool]:
    """Optional hardware in ``vehicle_config``: ``true`` or a non-zero number.

    Older Model S/X send numbers (``sun_roof_installed: 2``, ``rear_seat_heaters: 1``).
    """
    return lambda data: data.get_bool(key) is True or bool(data.get_float(key))


def sent(key: str) -> Callable[[VehicleData], bool]:
    """Whether the car sends ``key`` at all (``null`` counts as sent).

    For hardware some cars lack without saying so in ``vehicle_config``: tyre pressure
    sensors on an older Model S, sentry mode and the dashcam on a 2015 Model S; those
    cars never send the key. Judged only when the data holds the key's section (a full
    ``vehicle_data`` of its endpoint, as the first fetch is): without it, yes.
    """
    prefix = next((f"{endpoint}_" for endpoint in key_endpoints(key)), None)

    def value(data: VehicleData) -> bool:
        values = data.values
        if key in values or prefix is None:
            return True
        return not any(name.startswith(prefix) for name in values)

    return value


SENTRY_MODE: Final = "vehicle_state_sentry_mode"


def has_sentry(data: VehicleData) -> bool:
    """Whether the car has sentry mode (the switch)."""
    return data.get_bool(f"{SENTRY_MODE}_available") is not False and sent(SENTRY_MODE)(
        data
    )


ROUTE_DESTINATION: Final = "drive_state_active_route_destination"


def on_route(data: VehicleData) -> bool:
    """Whether navigation has an active route: a destination.

    Without one the car may still send ``active_route_minutes_to_arrival: 0``.
    """
    return data.get_str(ROUTE_DESTINATION) is not None


def route_number(key: str) -> Callable[[VehicleData], float | None]:
    """A number of the active route at ``key``; ``None`` without a route."""
    return lambda data: data.get_float(key) if on_route(data) else None


SOFTWARE_UPDATE_STATUS: Final = "vehicle_state_software_update_status"
SOFTWARE_UPDATE_VERSION: Final = "vehicle_state_software_update_version"


def _version(text: str) -> tuple[int, ...] | None:
    """``"2024.14.9"`` as numbers (trailing zeros dropped); ``None`` if not numeric."""
    parts = text.split(".")
    if not all(part.isdigit() for part in parts):
        return None
    numbers = [int(part) for part in parts]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


def offered_update(data: VehicleData) -> str | None:
    """The version the car offers, when it is an update; else ``None``.

    The update entity's rule: the status says a version is on its way, and it is newer
    than the installed one (an offered version older than or equal to the installed one
    is not an update). Versions that are not numeric cannot be compared: the status
    decides.
    """
    if data.get_str(SOFTWARE_UPDATE_STATUS) not in SOFTWARE_UPDATE_OFFERED:
        return None
    offered = (data.get_str(SOFTWARE_UPDATE_VERSION) or "").split()
    if not offered:
        return None
    installed = data.software_version
    newer, older = _version(offered[0]), _version(installed or "")
    if newer is not None and older is not None and newer <= older:
        return None
    return offered[0]


def when_reported[T](
    key: str, value_fn: Callable[[VehicleData], T]
) -> Callable[[VehicleData], T | None]:
    """``value_fn`` when the car reported ``key`` (``null`` included), else ``None``."""
    return lambda data: value_fn(data) if key in data.values else None


def is_open(key: str) -> Callable[[VehicleData], bool | None]:
    """A door, trunk or window: an integer, 0 when closed."""

    def value(data: VehicleData) -> bool | None:
        number = data.get_int(key)
        return None if number is None else number != 0

    return value


def is_closed(key: str) -> Callable[[VehicleData], bool | None]:
    """A door, trunk or window closed: the opposite of :func:`is_open`."""
    opened = is_open(key)

    def value(data: VehicleData) -> bool | None:
        state = opened(data)
        return None if state is None else not state

    return value


def charging(data: VehicleData) -> bool | None:
    """Whether the car charges (or starts to); ``None`` when unknown."""
    return None if data.charging_state is None else data.is_charging


def position_params(data: VehicleData) -> dict[str, float] | None:
    """The car's position as command parameters (``lat``/``lon``), if known."""
    latitude, longitude = data.latitude, data.longitude
    if latitude is None or longitude is None:
        return None
    return {"lat": latitude, "lon": longitude}
