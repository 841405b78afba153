"""Selects of a Tesla vehicle: seat heaters and seat coolers, one per fitted seat.

Rear heaters exist only with ``rear_seat_heaters``, third-row ones only with third-row
seats, coolers only with ``has_seat_cooling``. The car changes seat climate only while
its climate runs, so a level above off starts the climate first.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import VehicleData
from .coordinator import TeslaResilientConfigEntry
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities
from .values import fitted, reported

PARALLEL_UPDATES = 1

LEVELS = ["off", "low", "medium", "high"]
"""Options, indexed by the level (0-3) the car reports and accepts."""


@dataclass(frozen=True, kw_only=True)
class TeslaSelectEntityDescription(SelectEntityDescription, TeslaEntityDescription):
    """A seat climate level: ``params_fn(level)`` are the command's parameters."""

    command: str
    params_fn: Callable[[int], Mapping[str, Any]]


def _rear(key: str) -> Callable[[VehicleData], bool]:
    rear = fitted("vehicle_config_rear_seat_heaters")
    return lambda data: rear(data) and data.get(key) is not None


def _third_row(key: str) -> Callable[[VehicleData], bool]:
    return lambda data: (
        data.get_str("vehicle_config_third_row_seats") not in (None, "None")
        and data.get(key) is not None
    )


def _cooled(key: str) -> Callable[[VehicleData], bool]:
    return lambda data: (
        data.get_bool("vehicle_config_has_seat_cooling") is True
        and data.get(key) is not None
    )


def _heater(
    seat: str,
    heater: int,
    exists: Callable[[str], Callable[[VehicleData], bool]],
    *,
    enabled: bool = True,
) -> TeslaSelectEntityDescription:
    key = f"climate_state_seat_heater_{seat}"
    return TeslaSelectEntityDescription(
        key=key,
        endpoints=("climate_state",),
        options=LEVELS,
        command="remote_seat_heater_request",
        params_fn=lambda level: {"heater": heater, "level": level},
        exists_fn=exists(key),
        entity_registry_enabled_default=enabled,
    )


def _cooler(side: str, position: int) -> TeslaSelectEntityDescription:
    key = f"climate_state_seat_fan_front_{side}"
    return TeslaSelectEntityDescription(
        key=key,
        endpoints=("climate_state",),
        options=LEVELS,
        command="remote_seat_cooler_request",
        params_fn=lambda level: {"seat_position": position, "seat_cooler_level": level},
        exists_fn=_cooled(key),
    )


SELECTS: tuple[TeslaSelectEntityDescription, ...] = (
    _heater("left", 0, reported),
    _heater("right", 1, reported),
    _heater("rear_left", 2, _rear),
    _heater("rear_center", 4, _rear),
    _heater("rear_right", 5, _rear),
    _heater("third_row_left", 6, _third_row, enabled=False),
    _heater("third_row_right", 7, _third_row, enabled=False),
    _cooler("left", 1),
    _cooler("right", 2),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the seat climate selects of every vehicle of the entry."""

    async_add_table_entities(entry, async_add_entities, SELECTS, TeslaSelectEntity)


class TeslaSelectEntity(TeslaVehicleEntity, SelectEntity):
    """A seat climate level."""

    entity_description: TeslaSelectEntityDescription

    @property
    def current_option(self) -> str | None:
        """The level the car reports."""
        level = self.values.get_int(self.entity_description.key)
        return LEVELS[level] if level is not None and 0 <= level < len(LEVELS) else None

    async def async_select_option(self, option: str) -> None:
        """Set the level, starting the climate first when it is off."""
        description = self.entity_description
        level = LEVELS.index(option)
        data = self.values
        if level and not data.is_climate_on:
            await self.async_command(
                "auto_conditioning_start",
                optimistic={"climate_state_is_climate_on": True},
            )
        await self.async_command(
            description.command,
            description.params_fn(level),
            optimistic={description.key: level},
        )
