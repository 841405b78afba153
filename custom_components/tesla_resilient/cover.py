"""Covers of a Tesla vehicle: frunk, trunk, charge port door, windows and sunroof.

Opening the frunk, the trunk or the charge port can be protected by an authenticator
code (options). ``cover.open_cover`` carries no code, so a protected opening is refused
with a translated error unless the caller passes ``code``, as the integration's action
``tesla_resilient.open_with_code`` does (for automations); on a dashboard, the frunk,
trunk and charge port latches of :mod:`.lock` take the code in the lock's dialog.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.cover import (
    CoverDeviceClass,
    CoverEntity,
    CoverEntityDescription,
    CoverEntityFeature,
)
from homeassistant.const import ATTR_CODE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Trunk, VehicleData, actuate_trunk
from .const import ProtectedAction
from .coordinator import TeslaResilientConfigEntry, VehicleCoordinator
from .entity import (
    TeslaEntityDescription,
    TeslaVehicleEntity,
    VehicleCommand,
    async_add_table_entities,
)
from .values import EMPTY_DATA, fitted, is_closed, position_params

PARALLEL_UPDATES = 1

WINDOWS = tuple(f"vehicle_state_{w}_window" for w in ("fd", "fp", "rd", "rp"))


@dataclass(frozen=True, kw_only=True)
class TeslaCoverEntityDescription(CoverEntityDescription, TeslaEntityDescription):
    """A cover of the vehicle: how to read it, open it and (maybe) close it."""

    is_closed_fn: Callable[[VehicleData], bool | None]
    open_command: VehicleCommand
    close_command: VehicleCommand | None = None
    close_fn: Callable[[VehicleData], bool] = lambda _: True
    """Whether the car can close this cover (a manual trunk cannot)."""
    toggles: bool = False
    """The command toggles (``actuate_trunk``): never send it towards the current state."""


def _windows_closed(data: VehicleData) -> bool | None:
    states = [data.get_int(key) for key in WINDOWS]
    return None if None in states else not any(states)


def _port_closed(data: VehicleData) -> bool | None:
    is_open = data.get_bool("charge_state_charge_port_door_open")
    return None if is_open is None else not is_open


def _sunroof_closed(data: VehicleData) -> bool | None:
    state = data.get_str("vehicle_state_sun_roof_state")
    return None if state is None else state == "closed"


def _position(command: str) -> Callable[[VehicleData], Mapping[str, Any]]:
    """Window commands carry the car's position (the API wants the user nearby)."""

    def params(data: VehicleData) -> Mapping[str, Any]:
        return {"command": command, **(position_params(data) or {})}

    return params


def _trunk(
    key: str,
    which: Trunk,
    protected: ProtectedAction,
    *,
    close_fn: Callable[[VehicleData], bool] | None = None,
) -> TeslaCoverEntityDescription:
    """The frunk or the trunk: ``actuate_trunk`` toggles it; ``close_fn`` if it closes."""

    def command(position: int, guard: ProtectedAction | None = None) -> VehicleCommand:
        return VehicleCommand(
            name="actuate_trunk",
            params_fn=lambda _: actuate_trunk(which),
            optimistic={key: position},
            protected=guard,
        )

    description = TeslaCoverEntityDescription(
        key=key,
        endpoints=("vehicle_state",),
        device_class=CoverDeviceClass.DOOR,
        is_closed_fn=is_closed(key),
        open_command=command(1, protected),
        toggles=True,
        exists_fn=lambda data: (
            data.get_bool("vehicle_config_can_actuate_trunks") is not False
        ),
    )
    if close_fn is None:
        return description
    return replace(description, close_command=command(0), close_fn=close_fn)


FRUNK = _trunk("vehicle_state_ft", Trunk.FRONT, ProtectedAction.OPEN_FRUNK)
TRUNK = _trunk(
    "vehicle_state_rt",
    Trunk.REAR,
    ProtectedAction.OPEN_TRUNK,
    close_fn=lambda data: data.get_bool("vehicle_config_plg") is True,
)
"""The frunk and the trunk (also the latches of :mod:`.lock`, which take a code)."""

COVERS: tuple[TeslaCoverEntityDescription, ...] = (
    FRUNK,
    TRUNK,
    TeslaCoverEntityDescription(
        key="charge_state_charge_port_door_open",
        endpoints=("charge_state",),
        device_class=CoverDeviceClass.DOOR,
        is_closed_fn=_port_closed,
        open_command=VehicleCommand(
            name="charge_port_door_open",
            optimistic={"charge_state_charge_port_door_open": True},
            protected=ProtectedAction.OPEN_CHARGE_PORT,
        ),
        close_command=VehicleCommand(
            name="charge_port_door_close",
            optimistic={"charge_state_charge_port_door_open": False},
        ),
        exists_fn=lambda data: (
            data.get_bool("vehicle_config_motorized_charge_port") is not False
        ),
    ),
    TeslaCoverEntityDescription(
        key="windows",
        endpoints=("vehicle_state", "drive_state", "location_data"),
        device_class=CoverDeviceClass.WINDOW,
        is_closed_fn=_windows_closed,
        open_command=VehicleCommand(
            name="window_control",
            params_fn=_position("vent"),
            optimistic=dict.fromkeys(WINDOWS, 1),
        ),
        close_command=VehicleCommand(
            name="window_control",
            params_fn=_position("close"),
            optimistic=dict.fromkeys(WINDOWS, 0),
        ),
    ),
    TeslaCoverEntityDescription(
        key="vehicle_state_sun_roof_state",
        endpoints=("vehicle_state",),
        device_class=CoverDeviceClass.WINDOW,
        is_closed_fn=_sunroof_closed,
        open_command=VehicleCommand(
            name="sun_roof_control",
            params_fn=lambda _: {"state": "vent"},
            optimistic={"vehicle_state_sun_roof_state": "vent"},
        ),
        close_command=VehicleCommand(
            name="sun_roof_control",
            params_fn=lambda _: {"state": "close"},
            optimistic={"vehicle_state_sun_roof_state": "closed"},
        ),
        exists_fn=fitted("vehicle_config_sun_roof_installed"),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the covers of every vehicle of the entry."""

    async_add_table_entities(entry, async_add_entities, COVERS, TeslaCoverEntity)


class TeslaCoverEntity(TeslaVehicleEntity, CoverEntity):
    """A cover of the vehicle."""

    entity_description: TeslaCoverEntityDescription

    def __init__(
        self,
        coordinator: VehicleCoordinator,
        description: TeslaCoverEntityDescription,
    ) -> None:
        """Create the cover ``description`` of ``coordinator``'s vehicle."""
        super().__init__(coordinator, description)
        data = coordinator.snapshot.data or EMPTY_DATA
        features = CoverEntityFeature.OPEN
        if description.close_command is not None and description.close_fn(data):
            features |= CoverEntityFeature.CLOSE
        self._attr_supported_features = features

    @property
    def is_closed(self) -> bool | None:
        """Whether the car reports the cover closed."""
        return self.entity_description.is_closed_fn(self.values)

    async def async_open_cover(self, **kwargs: Any) -> None:
        """Open (vent) the cover."""
        description = self.entity_description
        if not (description.toggles and self.is_closed is False):
            await self.async_run(description.open_command, kwargs.get(ATTR_CODE))

    async def async_close_cover(self, **kwargs: Any) -> None:
        """Close the cover."""
        description = self.entity_description
        command = description.close_command
        if command is not None and not (description.toggles and self.is_closed):
            await self.async_run(command, kwargs.get(ATTR_CODE))
