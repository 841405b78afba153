"""Buttons of a Tesla vehicle: wake, refresh, flash lights, honk, HomeLink, remote start.

``wake`` and ``refresh`` act on the connection (the only ways this integration wakes a
car or fetches its data outside the polling policy); the others are commands. Remote
start can be protected by an authenticator code (options); a button press carries no
code, so the integration's action ``tesla_resilient.press_with_code`` passes it to
:meth:`TeslaButtonEntity.async_press_with_code`.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import VehicleData
from .const import ProtectedAction
from .coordinator import TeslaResilientConfigEntry, VehicleCoordinator
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities
from .values import position_params

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class TeslaButtonEntityDescription(ButtonEntityDescription, TeslaEntityDescription):
    """A button: a ``command`` (with ``params_fn``) or a ``coordinator_fn``."""

    command: str = ""
    params_fn: Callable[[VehicleData], Mapping[str, Any] | None] = lambda _: None
    protected: ProtectedAction | None = None
    coordinator_fn: Callable[[VehicleCoordinator], Awaitable[None]] | None = None


def _has_homelink(data: VehicleData) -> bool:
    return bool(data.get_int("vehicle_state_homelink_device_count")) or (
        data.get_bool("vehicle_state_homelink_nearby") is not None
    )


BUTTONS: tuple[TeslaButtonEntityDescription, ...] = (
    TeslaButtonEntityDescription(
        key="wake",
        entity_category=EntityCategory.DIAGNOSTIC,
        coordinator_fn=lambda coordinator: coordinator.async_wake(),
        needs_data=False,
    ),
    TeslaButtonEntityDescription(
        key="refresh",
        entity_category=EntityCategory.DIAGNOSTIC,
        coordinator_fn=lambda coordinator: coordinator.async_refresh_now(),
        needs_data=False,
    ),
    TeslaButtonEntityDescription(key="flash_lights", command="flash_lights"),
    TeslaButtonEntityDescription(key="honk_horn", command="honk_horn"),
    TeslaButtonEntityDescription(
        key="homelink",
        endpoints=("vehicle_state", "drive_state", "location_data"),
        command="trigger_homelink",
        # HomeLink wants the user's position: the car's own is the best we know.
        params_fn=position_params,
        exists_fn=_has_homelink,
    ),
    TeslaButtonEntityDescription(
        key="remote_start",
        command="remote_start_drive",
        protected=ProtectedAction.REMOTE_START,
        exists_fn=lambda data: (
            data.get_bool("vehicle_state_remote_start_supported") is not False
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of every vehicle of the entry."""

    async_add_table_entities(entry, async_add_entities, BUTTONS, TeslaButtonEntity)


class TeslaButtonEntity(TeslaVehicleEntity, ButtonEntity):
    """A button of the vehicle."""

    entity_description: TeslaButtonEntityDescription

    async def async_press(self) -> None:
        """Press the button (a protected action then needs a code: refused)."""
        await self.async_press_with_code(None)

    async def async_press_with_code(self, code: str | None) -> None:
        """Press the button with an authenticator code for a protected action."""
        description = self.entity_description
        if description.coordinator_fn is not None:
            await description.coordinator_fn(self.coordinator)
        else:
            await self.async_command(
                description.command,
                description.params_fn(self.values),
                protected=description.protected,
                code=code,
            )
