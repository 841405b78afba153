"""Switches of a Tesla vehicle: sentry mode, charging, valet mode, heaters, defrost.

Turning sentry mode off can be protected by an authenticator code (options);
``switch.turn_off`` carries no code, so the integration's action
``tesla_resilient.turn_off_with_code`` passes it as ``code``.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import ATTR_CODE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import VehicleData, key_endpoints
from .const import ProtectedAction
from .coordinator import TeslaResilientConfigEntry
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities
from .values import (
    DEFROST_COMMAND,
    DEFROST_MODE,
    DEFROST_OFF_OPTIMISTIC,
    DEFROST_ON_OPTIMISTIC,
    charging,
    flag,
    has_sentry,
    is_defrosting,
    reported,
)

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class SwitchCommand:
    """A command that turns a switch on or off, and what the car shows after it."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    optimistic: Mapping[str, Any] = field(default_factory=dict)
    protected: ProtectedAction | None = None


@dataclass(frozen=True, kw_only=True)
class TeslaSwitchEntityDescription(SwitchEntityDescription, TeslaEntityDescription):
    """A switch of the vehicle."""

    is_on_fn: Callable[[VehicleData], bool | None]
    on_command: SwitchCommand
    off_command: SwitchCommand


def _on_off(
    key: str,
    command: str,
    *,
    protected: ProtectedAction | None = None,
    exists_fn: Callable[[VehicleData], bool] | None = None,
) -> TeslaSwitchEntityDescription:
    """A flag the car reports at ``key`` and ``command`` sets with ``{"on": bool}``.

    ``protected`` guards turning it off; ``exists_fn`` tells whether the car has it.
    """
    description = TeslaSwitchEntityDescription(
        key=key,
        endpoints=key_endpoints(key),
        is_on_fn=flag(key),
        on_command=SwitchCommand(
            name=command, params={"on": True}, optimistic={key: True}
        ),
        off_command=SwitchCommand(
            name=command,
            params={"on": False},
            optimistic={key: False},
            protected=protected,
        ),
    )
    return (
        description if exists_fn is None else replace(description, exists_fn=exists_fn)
    )


SWITCHES: tuple[TeslaSwitchEntityDescription, ...] = (
    _on_off(
        "vehicle_state_sentry_mode",
        "set_sentry_mode",
        protected=ProtectedAction.DISABLE_SENTRY,
        exists_fn=has_sentry,
    ),
    TeslaSwitchEntityDescription(
        key="charge_state_charge_enable_request",
        endpoints=("charge_state",),
        is_on_fn=charging,
        on_command=SwitchCommand(
            name="charge_start",
            optimistic={"charge_state_charging_state": "Starting"},
        ),
        off_command=SwitchCommand(
            name="charge_stop",
            optimistic={"charge_state_charging_state": "Stopped"},
        ),
    ),
    _on_off("vehicle_state_valet_mode", "set_valet_mode"),
    _on_off(
        "climate_state_steering_wheel_heater",
        "remote_steering_wheel_heater_request",
        exists_fn=reported("climate_state_steering_wheel_heater"),
    ),
    TeslaSwitchEntityDescription(
        key=DEFROST_MODE,
        endpoints=("climate_state",),
        is_on_fn=is_defrosting,
        on_command=SwitchCommand(
            name=DEFROST_COMMAND, params={"on": True}, optimistic=DEFROST_ON_OPTIMISTIC
        ),
        off_command=SwitchCommand(
            name=DEFROST_COMMAND,
            params={"on": False},
            optimistic=DEFROST_OFF_OPTIMISTIC,
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of every vehicle of the entry."""

    async_add_table_entities(entry, async_add_entities, SWITCHES, TeslaSwitchEntity)


class TeslaSwitchEntity(TeslaVehicleEntity, SwitchEntity):
    """A switch of the vehicle."""

    entity_description: TeslaSwitchEntityDescription

    @property
    def is_on(self) -> bool | None:
        """Whether the car reports the switch on."""
        return self.entity_description.is_on_fn(self.values)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn on."""
        await self._run(self.entity_description.on_command, kwargs.get(ATTR_CODE))

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn off (with the authenticator code when that is protected)."""
        await self._run(self.entity_description.off_command, kwargs.get(ATTR_CODE))

    async def _run(self, command: SwitchCommand, code: str | None) -> None:
        await self.async_command(
            command.name,
            command.params,
            optimistic=command.optimistic,
            protected=command.protected,
            code=code,
        )
