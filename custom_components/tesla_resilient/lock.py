"""Locks of a Tesla vehicle: the doors and the charge port latch.

A lock shows ``locking``/``unlocking`` while its command runs, the commanded state at
once when the car accepts it (optimistic), and the car's own state after the
confirming refresh. When the user protects unlocking with an authenticator code
(options), the locked lock asks for a six-digit code; an unlocked one asks for none:
locking never needs one.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from homeassistant.components.lock import LockEntity, LockEntityDescription
from homeassistant.const import ATTR_CODE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import VehicleData
from .const import ProtectedAction
from .coordinator import TeslaResilientConfigEntry
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities

PARALLEL_UPDATES = 1

CODE_FORMAT = r"^(\d{6})?$"
"""Six digits, or nothing: Home Assistant checks the same pattern for lock and unlock,
so an empty code must pass it for locking to work without one; unlocking without a
code is then refused by the authenticator check."""


@dataclass(frozen=True, kw_only=True)
class TeslaLockEntityDescription(LockEntityDescription, TeslaEntityDescription):
    """A lock of the vehicle and the commands that lock and unlock it."""

    is_locked_fn: Callable[[VehicleData], bool | None]
    lock_command: str
    lock_optimistic: Mapping[str, Any] = field(default_factory=dict)
    unlock_command: str
    unlock_optimistic: Mapping[str, Any] = field(default_factory=dict)
    unlock_protected: ProtectedAction


def _latch_engaged(data: VehicleData) -> bool | None:
    latch = data.get_str("charge_state_charge_port_latch")
    return None if latch is None else latch == "Engaged"


LOCKS: tuple[TeslaLockEntityDescription, ...] = (
    TeslaLockEntityDescription(
        key="vehicle_state_locked",
        endpoints=("vehicle_state",),
        is_locked_fn=lambda data: data.locked,
        lock_command="door_lock",
        lock_optimistic={"vehicle_state_locked": True},
        unlock_command="door_unlock",
        unlock_optimistic={"vehicle_state_locked": False},
        unlock_protected=ProtectedAction.UNLOCK,
    ),
    TeslaLockEntityDescription(
        key="charge_state_charge_port_latch",
        endpoints=("charge_state",),
        is_locked_fn=_latch_engaged,
        lock_command="charge_port_door_close",
        lock_optimistic={"charge_state_charge_port_door_open": False},
        unlock_command="charge_port_door_open",
        unlock_optimistic={
            "charge_state_charge_port_latch": "Disengaged",
            "charge_state_charge_port_door_open": True,
        },
        unlock_protected=ProtectedAction.OPEN_CHARGE_PORT,
        exists_fn=lambda data: (
            data.get_bool("vehicle_config_motorized_charge_port") is not False
        ),
    ),
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

    @property
    def code_format(self) -> str | None:
        """Ask for a code only where the next action is a protected unlock.

        The frontend's lock dialog asks for a code for lock and unlock alike whenever
        ``code_format`` is set; an unlocked lock can only be locked, which never needs
        one, so it sets none and locking asks nothing.
        """
        guard = self.coordinator.config_entry.runtime_data.guard
        if (
            guard is None
            or not guard.is_protected(self.entity_description.unlock_protected)
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
        self._attr_is_locking = True
        self.async_write_ha_state()
        try:
            await self.async_command(
                description.lock_command, optimistic=description.lock_optimistic
            )
        finally:
            self._attr_is_locking = False
            self.async_write_ha_state()

    async def async_unlock(self, **kwargs: Any) -> None:
        """Unlock, with the authenticator code when unlocking is protected.

        The code is checked before the lock shows ``unlocking``: a refused unlock
        changes no state and leaves nothing in the logbook.
        """
        description = self.entity_description
        self.check_code(description.unlock_protected, kwargs.get(ATTR_CODE))
        self._attr_is_unlocking = True
        self.async_write_ha_state()
        try:
            await self.async_command(
                description.unlock_command, optimistic=description.unlock_optimistic
            )
        finally:
            self._attr_is_unlocking = False
            self.async_write_ha_state()
