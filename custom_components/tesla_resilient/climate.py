"""Climate control of a Tesla vehicle: on/off, target temperature and keeper presets.

Presets: ``normal``, ``defrost`` (max preconditioning) and the climate keeper modes
``keep``, ``dog`` and ``camp``. Remote start is not climate: it is a button.
"""

from dataclasses import dataclass
from typing import Any

from homeassistant.components.climate import ClimateEntity, ClimateEntityDescription
from homeassistant.components.climate.const import ClimateEntityFeature, HVACMode
from homeassistant.const import ATTR_TEMPERATURE, PRECISION_HALVES, UnitOfTemperature
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import TeslaResilientConfigEntry
from .entity import TeslaEntityDescription, TeslaVehicleEntity, async_add_table_entities
from .values import (
    DEFROST_COMMAND,
    DEFROST_OFF_OPTIMISTIC,
    DEFROST_ON_OPTIMISTIC,
    is_defrosting,
)

PARALLEL_UPDATES = 1

DEFAULT_MIN_TEMP = 15.0
DEFAULT_MAX_TEMP = 28.0

PRESET_NORMAL = "normal"
PRESET_DEFROST = "defrost"
KEEPER_MODES: tuple[str, ...] = ("off", "keep", "dog", "camp")
"""``climate_keeper_mode`` values, indexed as ``set_climate_keeper_mode`` expects."""
HVAC_MODES = [HVACMode.OFF, HVACMode.HEAT_COOL]
PRESETS = [PRESET_NORMAL, PRESET_DEFROST, "keep", "dog", "camp"]


@dataclass(frozen=True, kw_only=True)
class TeslaClimateEntityDescription(ClimateEntityDescription, TeslaEntityDescription):
    """The vehicle's climate control."""


CLIMATE = TeslaClimateEntityDescription(key="climate", endpoints=("climate_state",))


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the climate control of every vehicle of the entry."""

    async_add_table_entities(entry, async_add_entities, (CLIMATE,), TeslaClimateEntity)


class TeslaClimateEntity(TeslaVehicleEntity, ClimateEntity):
    """The cabin climate of the vehicle (temperatures in °C, as the car reports)."""

    entity_description: TeslaClimateEntityDescription
    _attr_hvac_modes = HVAC_MODES
    _attr_preset_modes = PRESETS
    _attr_precision = PRECISION_HALVES
    _attr_target_temperature_step = 0.5
    _attr_temperature_unit = UnitOfTemperature.CELSIUS
    _attr_supported_features = (
        ClimateEntityFeature.TARGET_TEMPERATURE
        | ClimateEntityFeature.PRESET_MODE
        | ClimateEntityFeature.TURN_ON
        | ClimateEntityFeature.TURN_OFF
    )

    @property
    def hvac_mode(self) -> HVACMode | None:
        """Heat/cool while the climate runs, else off."""
        on = self.values.get_bool("climate_state_is_climate_on")
        return None if on is None else (HVACMode.HEAT_COOL if on else HVACMode.OFF)

    @property
    def current_temperature(self) -> float | None:
        """Cabin temperature."""
        return self.values.get_float("climate_state_inside_temp")

    @property
    def target_temperature(self) -> float | None:
        """The driver's temperature setting."""
        return self.values.get_float("climate_state_driver_temp_setting")

    @property
    def min_temp(self) -> float:
        """The lowest setting the car accepts."""
        value = self.values.get_float("climate_state_min_avail_temp")
        return DEFAULT_MIN_TEMP if value is None else value

    @property
    def max_temp(self) -> float:
        """The highest setting the car accepts."""
        value = self.values.get_float("climate_state_max_avail_temp")
        return DEFAULT_MAX_TEMP if value is None else value

    @property
    def preset_mode(self) -> str | None:
        """Defrost, a keeper mode, or normal."""
        data = self.values
        if is_defrosting(data):
            return PRESET_DEFROST
        keeper = data.get_str("climate_state_climate_keeper_mode")
        if keeper in KEEPER_MODES[1:]:
            return keeper
        return PRESET_NORMAL

    async def async_turn_on(self) -> None:
        """Start the climate."""
        await self.async_command(
            "auto_conditioning_start",
            optimistic={"climate_state_is_climate_on": True},
        )

    async def async_turn_off(self) -> None:
        """Stop the climate (the car ends defrost and keeper modes with it)."""
        await self.async_command(
            "auto_conditioning_stop",
            optimistic={
                "climate_state_is_climate_on": False,
                **DEFROST_OFF_OPTIMISTIC,
                "climate_state_climate_keeper_mode": "off",
            },
        )

    async def async_set_hvac_mode(self, hvac_mode: HVACMode) -> None:
        """Turn the climate on (heat/cool) or off."""
        if hvac_mode is HVACMode.OFF:
            await self.async_turn_off()
        else:
            await self.async_turn_on()

    async def async_set_temperature(self, **kwargs: Any) -> None:
        """Set the driver's and passenger's temperature, and the mode if given."""
        temperature = kwargs[ATTR_TEMPERATURE]  # the only target this entity has
        await self.async_command(
            "set_temps",
            {"driver_temp": temperature, "passenger_temp": temperature},
            optimistic={
                "climate_state_driver_temp_setting": temperature,
                "climate_state_passenger_temp_setting": temperature,
            },
        )
        if (hvac_mode := kwargs.get("hvac_mode")) is not None:
            await self.async_set_hvac_mode(hvac_mode)

    async def async_set_preset_mode(self, preset_mode: str) -> None:
        """Switch defrost and the keeper mode to match ``preset_mode``."""
        data = self.values
        defrosting = is_defrosting(data) is True
        if preset_mode != PRESET_DEFROST and defrosting:
            await self.async_command(
                DEFROST_COMMAND, {"on": False}, optimistic=DEFROST_OFF_OPTIMISTIC
            )
        keeper = preset_mode if preset_mode in KEEPER_MODES else "off"
        if keeper != (data.get_str("climate_state_climate_keeper_mode") or "off"):
            await self.async_command(
                "set_climate_keeper_mode",
                {"climate_keeper_mode": KEEPER_MODES.index(keeper)},
                optimistic={
                    "climate_state_climate_keeper_mode": keeper,
                    **(
                        {"climate_state_is_climate_on": True} if keeper != "off" else {}
                    ),
                },
            )
        if preset_mode == PRESET_DEFROST and not defrosting:
            await self.async_command(
                DEFROST_COMMAND, {"on": True}, optimistic=DEFROST_ON_OPTIMISTIC
            )
