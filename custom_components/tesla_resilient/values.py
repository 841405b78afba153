"""Readers of :class:`VehicleData` shared by the platforms.

Small pure functions (no Home Assistant imports) so that every platform reads a field
the same way: a door is open the same way for the binary sensor and the cover, the car
is defrosting the same way for the switch and the climate preset.
"""

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from .api import VehicleData

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
