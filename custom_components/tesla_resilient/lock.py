"""Locks of a Tesla vehicle: the doors and the latches of the charge port, frunk and trunk.

A lock shows ``locking``/``unlocking`` while its command runs, the commanded state at
once when the car accepts it (optimistic), and the car's own state after the
confirming refresh. When the user protects unlocking (or opening the frunk, the trunk
or the charge port) with an authenticator code (options), the locked lock asks for a
six-digit code in its dialog; an unlocked one asks for none: locking never needs one.
The latches are how a dashboard opens a protected frunk, trunk or charge port, whose
covers' *Open* carries no code; unlocking a latch opens it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityDescription
from homeassistant.const import ATTR_CODE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import VehicleData
from .const import DOMAIN, ProtectedAction
from .coordinator import TeslaResilientConfigEntry
from .cover import FRUNK, TRUNK, TeslaCoverEntityDescription
from .entity import (
    TeslaEntityDescription,
    TeslaVehicleEntity,
    VehicleCommand,
    async_add_table_entities,
)

PARALLEL_UPDATES = 1

CODE_FORMAT = r"^(\d{6})?$"
"""Six digits, or nothing: Home Assistant checks the same pattern for lock and unlock,
so an empty code must pass it for locking to work without one; unlocking without a
code is then refused by the authenticator check."""


@dataclass(frozen=True, kw_only=True)
class TeslaLockEntityDescription(LockEntityDescription, TeslaEntityDescription):
    """A lock of the vehicle and the commands that lock and unlock it."""

    is_locked_fn: Callable[[VehicleData], bool | None]
    lock_command: VehicleCommand | None
    """``None``: the car cannot lock it (the frunk closes by hand)."""
    lock_fn: Callable[[VehicleData], bool] = lambda _: True
    """Whether the car can lock it (a trunk without a powered liftgate cannot)."""
    unlock_command: VehicleCommand
    toggles: bool = False
    """The commands toggle (``actuate_trunk``): never send one towards the current state."""


def _latch_engaged(data: VehicleData) -> bool | None:
    latch = data.get_str("charge_state_charge_port_latch")
    return None if latch is None else latch == "Engaged"


def _latch(key: str, cover: TeslaCoverEntityDescription) -> TeslaLockEntityDescription:
    """The latch of the frunk or the trunk: locked while ``cover`` is shut."""
    return TeslaLockEntityDescription(
        key=key,
        endpoints=cover.endpoints,
        is_locked_fn=cover.is_closed_fn,
        lock_command=cover.close_command,
        lock_fn=cover.close_fn,
        unlock_command=cover.open_command,
        toggles=cover.toggles,
        exists_fn=cover.exists_fn,
    )


LOCKS: tuple[TeslaLockEntityDescription, ...] = (
    TeslaLockEntityDescription(
        key="vehicle_state_locked",
        endpoints=("vehicle_state",),
        is_locked_fn=lambda data: data.locked,
        lock_command=VehicleCommand(
            name="door_lock", optimistic={"vehicle_state_locked": True}
        ),
        unlock_command=VehicleCommand(
            name="door_unlock",
            optimistic={"vehicle_state_locked": False},
            protected=ProtectedAction.UNLOCK,
        ),
    ),
    TeslaLockEntityDescription(
        key="charge_state_charge_port_latch",
        endpoints=("charge_state",),
        is_locked_fn=_latch_engaged,
        lock_command=VehicleCommand(
            name="charge_port_door_close",
            optimistic={"charge_state_charge_port_door_open": False},
        ),
        unlock_command=VehicleCommand(
            name="charge_port_door_open",
            optimistic={
                "charge_state_charge_port_latch": "Disengaged",
                "charge_state_charge_port_door_open": True,
            },
            protected=ProtectedAction.OPEN_CHARGE_PORT,
        ),
        exists_fn=lambda data: (
            data.get_bool("vehicle_config_motorized_charge_port") is not False
        ),
    ),
    _latch("frunk_latch", FRUNK),
    _latch("trunk_latch", TRUNK),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the locks of every vehicle of the entry."""

    async_add_table_entities(entry, async_add_entities, LOCKS, TeslaLockEntity)


class TeslaLockEntity(TeslaVehicleEntity, LockEntity):
    """A lock of the vehicle."""

    entity_description: TeslaLockEntityDescription
    _code_field = True

    @property
    def code_format(self) -> str | None:
        """Ask for a code only where the next action is a protected unlock.

        The frontend's lock dialog asks for a code for lock and unlock alike whenever
        ``code_format`` is set; an unlocked lock can only be locked, which never needs
        one, so it sets none and locking asks nothing.
        """
        guard = self.coordinator.config_entry.runtime_data.guard
        protected = self.entity_description.unlock_command.protected
        if (
            guard is None
            or protected is None
            or not guard.is_protected(protected)
            or self.is_locked is False
        ):
            return None
        return CODE_FORMAT

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """Where the lock state comes from and how old it is (cloud or last known)."""
        return self.freshness_attributes()

    @property
    def is_locked(self) -> bool | None:
        """Whether the car reports this lock locked."""
        return self.entity_description.is_locked_fn(self.values)

    async def async_lock(self, **kwargs: Any) -> None:
        """Lock (never needs a code)."""
        description = self.entity_description
        if description.toggles and self.is_locked:
            return
        command = description.lock_command
        if command is None or not description.lock_fn(self.values):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="closes_by_hand"
            )
        self._attr_is_locking = True
        self.async_write_ha_state()
        try:
            await self.async_send(command)
        finally:
            self._attr_is_locking = False
            self.async_write_ha_state()

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock, with the authenticator code when unlocking is protected.

        The code is checked before the lock shows ``unlocking``: a refused unlock
        changes no state and leaves nothing in the logbook.
        """
        description = self.entity_description
        if description.toggles and self.is_locked is False:
            return
        command = description.unlock_command
        self.check_code(command.protected, kwargs.get(ATTR_CODE))
        self._attr_is_unlocking = True
        self.async_write_ha_state()
        try:
            await self.async_send(command)
        finally:
            self._attr_is_unlocking = False
            self.async_write_ha_state()
