"""Where a Tesla vehicle is, and where its navigation is taking it.

The speed and the distance to arrival attributes are in the owner's unit system (km/h
and km, or mph and mi). Location needs the ``location_data`` endpoint (firmware 2023.38+ leaves coordinates out
unless it is asked for); the coordinator requests it only while a tracker is enabled.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.device_tracker.entity import (
    TrackerEntity,
    TrackerEntityDescription,
)
from homeassistant.const import EntityCategory, UnitOfLength, UnitOfSpeed
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.unit_conversion import SpeedConverter
from homeassistant.util.unit_system import UnitSystem

from .api import VehicleData
from .coordinator import TeslaResilientConfigEntry, VehicleCoordinator
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities
from .values import ROUTE_DESTINATION, on_route

PARALLEL_UPDATES = 0

LOCATION_ENDPOINTS = ("drive_state", "location_data")


@dataclass(frozen=True, kw_only=True)
class TeslaTrackerEntityDescription(TrackerEntityDescription, TeslaEntityDescription):
    """A position of the vehicle: ``position_fn`` gives (latitude, longitude)."""

    position_fn: Callable[[VehicleData], tuple[float | None, float | None]]
    attributes_fn: Callable[[VehicleData, UnitSystem], dict[str, Any]]


def _location(data: VehicleData) -> tuple[float | None, float | None]:
    return data.latitude, data.longitude


def _location_attributes(data: VehicleData, units: UnitSystem) -> dict[str, Any]:
    metric = units.length_unit == UnitOfLength.KILOMETERS
    speed_unit = (
        UnitOfSpeed.KILOMETERS_PER_HOUR if metric else UnitOfSpeed.MILES_PER_HOUR
    )
    speed = SpeedConverter.convert(
        data.speed or 0.0, UnitOfSpeed.MILES_PER_HOUR, speed_unit
    )
    return {"heading": data.get_float("drive_state_heading"), "speed": round(speed, 1)}


def _route(data: VehicleData) -> tuple[float | None, float | None]:
    """The destination, only while a route is active."""
    if not on_route(data):
        return None, None
    return (
        data.get_float("drive_state_active_route_latitude"),
        data.get_float("drive_state_active_route_longitude"),
    )


def _route_attributes(data: VehicleData, units: UnitSystem) -> dict[str, Any]:
    miles = data.get_float("drive_state_active_route_miles_to_arrival")
    return {
        "destination": data.get_str(ROUTE_DESTINATION),
        "distance_to_arrival": (
            None if miles is None else round(units.length(miles, UnitOfLength.MILES), 1)
        ),
        "minutes_to_arrival": data.get_float(
            "drive_state_active_route_minutes_to_arrival"
        ),
    }


TRACKERS: tuple[TeslaTrackerEntityDescription, ...] = (
    TeslaTrackerEntityDescription(
        key="location",
        name=None,
        endpoints=LOCATION_ENDPOINTS,
        position_fn=_location,
        attributes_fn=_location_attributes,
    ),
    TeslaTrackerEntityDescription(
        key="route",
        entity_category=EntityCategory.DIAGNOSTIC,
        endpoints=LOCATION_ENDPOINTS,
        position_fn=_route,
        attributes_fn=_route_attributes,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the trackers of every vehicle of the entry."""

    async_add_table_entities(entry, async_add_entities, TRACKERS, TeslaTrackerEntity)


class TeslaTrackerEntity(TeslaVehicleEntity, TrackerEntity):
    """A GPS position of the vehicle."""

    entity_description: TeslaTrackerEntityDescription

    def __init__(
        self,
        coordinator: VehicleCoordinator,
        description: TeslaTrackerEntityDescription,
    ) -> None:
        """Create the tracker ``description`` of ``coordinator``'s vehicle.

        Named ``None``, the tracker is the car itself: it takes the device's name,
        which the map shows.
        """
        super().__init__(coordinator, description)
        if description.name is None:
            self._attr_name = None

    @property
    def entity_category(self) -> EntityCategory | None:
        """The description's category: the car's own position is a main feature.

        Home Assistant files every tracker under Diagnostic by default.
        """
        return self.entity_description.entity_category

    @property
    def _position(self) -> tuple[float | None, float | None]:
        return self.entity_description.position_fn(self.values)

    @property
    def latitude(self) -> float | None:
        """Latitude of the position."""
        return self._position[0]

    @property
    def longitude(self) -> float | None:
        """Longitude of the position."""
        return self._position[1]

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Heading and speed (or the route), and how fresh the position is."""
        units = self.hass.config.units
        attributes = self.entity_description.attributes_fn(self.values, units)
        return {**attributes, **self.freshness_attributes()}
