"""The software update of a Tesla vehicle.

Installed version: ``car_version`` without its build hash. Latest version: the offered
update while it is available, scheduled, downloading or installing. Installing
schedules the update to start at once; progress comes from ``install_perc``.
"""

from dataclasses import dataclass
from typing import Any

from homeassistant.components.update import (
    UpdateEntity,
    UpdateEntityDescription,
    UpdateEntityFeature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import SOFTWARE_UPDATE_INSTALLABLE, SOFTWARE_UPDATE_OFFERED
from .coordinator import TeslaResilientConfigEntry
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities

PARALLEL_UPDATES = 1

STATUS_KEY = "vehicle_state_software_update_status"
INSTALLING = "installing"


@dataclass(frozen=True, kw_only=True)
class TeslaUpdateEntityDescription(UpdateEntityDescription, TeslaEntityDescription):
    """The vehicle's software update."""


SOFTWARE_UPDATE = TeslaUpdateEntityDescription(
    key=STATUS_KEY, endpoints=("vehicle_state",)
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the software update of every vehicle of the entry."""

    async_add_table_entities(
        entry, async_add_entities, (SOFTWARE_UPDATE,), TeslaUpdateEntity
    )


class TeslaUpdateEntity(TeslaVehicleEntity, UpdateEntity):
    """The software update of the vehicle."""

    entity_description: TeslaUpdateEntityDescription

    @property
    def _status(self) -> str | None:
        return self.values.get_str(STATUS_KEY)

    @property
    def supported_features(self) -> UpdateEntityFeature:
        """Installable only while the car offers an update not yet scheduled."""
        if self._status in SOFTWARE_UPDATE_INSTALLABLE:
            return UpdateEntityFeature.INSTALL | UpdateEntityFeature.PROGRESS
        return UpdateEntityFeature.PROGRESS

    @property
    def installed_version(self) -> str | None:
        """The firmware the car runs (without the build hash)."""
        return self.values.software_version

    @property
    def latest_version(self) -> str | None:
        """The offered firmware, or the installed one when none is offered."""
        offered = (
            self.values.get_str("vehicle_state_software_update_version") or ""
        ).strip()
        if self._status in SOFTWARE_UPDATE_OFFERED and offered:
            return offered
        return self.installed_version

    @property
    def in_progress(self) -> bool:
        """Whether the update is installing."""
        return self._status == INSTALLING

    @property
    def update_percentage(self) -> int | None:
        """Installation progress in percent."""
        percent = self.values.get_int("vehicle_state_software_update_install_perc")
        return percent if self.in_progress else None

    async def async_install(
        self, version: str | None, backup: bool, **kwargs: Any
    ) -> None:
        """Start installing the offered update now."""
        await self.async_command(
            "schedule_software_update",
            {"offset_sec": 0},
            optimistic={STATUS_KEY: INSTALLING},
        )
