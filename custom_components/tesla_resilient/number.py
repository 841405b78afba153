"""Numbers of a Tesla vehicle: the charge limit and the charging current.

Their ranges come from the car (``charge_limit_soc_min``/``max``,
``charge_current_request_max``) and fall back to safe defaults before it reports them.
"""

from dataclasses import dataclass
import math

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, UnitOfElectricCurrent
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import TeslaResilientConfigEntry
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class TeslaNumberEntityDescription(NumberEntityDescription, TeslaEntityDescription):
    """A setting of the vehicle sent with ``command`` as ``{param: value}``."""

    command: str
    param: str
    min_key: str | None = None
    max_key: str | None = None


NUMBERS: tuple[TeslaNumberEntityDescription, ...] = (
    TeslaNumberEntityDescription(
        key="charge_state_charge_limit_soc",
        endpoints=("charge_state",),
        command="set_charge_limit",
        param="percent",
        device_class=NumberDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        native_min_value=50,
        native_max_value=100,
        native_step=1,
        min_key="charge_state_charge_limit_soc_min",
        max_key="charge_state_charge_limit_soc_max",
        mode=NumberMode.SLIDER,
    ),
    TeslaNumberEntityDescription(
        key="charge_state_charge_current_request",
        endpoints=("charge_state",),
        command="set_charging_amps",
        param="charging_amps",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=0,
        native_max_value=32,
        native_step=1,
        max_key="charge_state_charge_current_request_max",
        mode=NumberMode.BOX,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the numbers of every vehicle of the entry."""

    async_add_table_entities(entry, async_add_entities, NUMBERS, TeslaNumberEntity)


class TeslaNumberEntity(TeslaVehicleEntity, NumberEntity):
    """A numeric setting of the vehicle."""

    entity_description: TeslaNumberEntityDescription

    def _limit(self, key: str | None, default: float) -> float:
        if key is None:
            return default
        value = self.values.get_float(key)
        return default if value is None else value

    @property
    def native_value(self) -> float | None:
        """The car's current setting."""
        return self.values.get_float(self.entity_description.key)

    @property
    def native_min_value(self) -> float:
        """The lowest value the car accepts."""
        description = self.entity_description
        return self._limit(description.min_key, description.native_min_value or 0)

    @property
    def native_max_value(self) -> float:
        """The highest value the car accepts."""
        description = self.entity_description
        return self._limit(description.max_key, description.native_max_value or 100)

    async def async_set_native_value(self, value: float) -> None:
        """Send the new setting (a whole number); refuse what is not a number."""
        if not math.isfinite(value):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_number",
                translation_placeholders={
                    "value": str(value),
                    "min": f"{self.native_min_value:g}",
                    "max": f"{self.native_max_value:g}",
                },
            )
        number = round(value)
        description = self.entity_description
        await self.async_command(
            description.command,
            {description.param: number},
            optimistic={description.key: number},
        )
