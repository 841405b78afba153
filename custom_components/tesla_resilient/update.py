"""The software update of a Tesla vehicle.

Installed version: ``car_version`` without its build hash. Latest version: the offered
update while it is available, scheduled, downloading or installing and newer than the
installed version (:func:`.values.offered_update`, the rule of the update binary sensor
too). Installing schedules the update to start at once; progress comes from
``install_perc``.
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

from .const import SOFTWARE_UPDATE_INSTALLABLE
from .coordinator import TeslaResilientConfigEntry
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities
from .values import SOFTWARE_UPDATE_STATUS, offered_update

PARALLEL_UPDATES = 1

INSTALLING = "installing"


@dataclass(frozen=True, kw_only=True)
class TeslaUpdateEntityDescription(UpdateEntityDescription, TeslaEntityDescription):
    """The vehicle's software update."""


SOFTWARE_UPDATE = TeslaUpdateEntityDescription(
    key=SOFTWARE_UPDATE_STATUS, endpoints=("vehicle_state",)
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
        return self.values.get_str(SOFTWARE_UPDATE_STATUS)

    @property
    def supported_features(self) -> UpdateEntityFeature:
        """Installable only while the car offers an update not yet scheduled."""
        if self._status in SOFTWARE_UPDATE_INSTALLABLE and offered_update(self.values):
            return UpdateEntityFeature.INSTALL | UpdateEntityFeature.PROGRESS
        return UpdateEntityFeature.PROGRESS

    @property
    def installed_version(self) -> str | None:
        """The firmware the car runs (without the build hash)."""
        return self.values.software_version

    @property
    def latest_version(self) -> str | None:
        """The offered update (:func:`.values.offered_update`), else the installed version."""
        return offered_update(self.values) or self.installed_version

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
            optimistic={SOFTWARE_UPDATE_STATUS: INSTALLING},
        )
