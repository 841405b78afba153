"""Actions where an entity does not fit, and entity actions that carry a code.

``navigation_request``, the schedules, ``wake_up`` and ``refresh`` target a vehicle
device of this integration (``device_id``) and go through the vehicle's coordinator, so
they wake a sleeping car, fail fast during a cloud outage and answer with translated
errors like the entities' commands.

``open_with_code``, ``press_with_code`` and ``turn_off_with_code`` are entity actions for
the covers, buttons and switches of this integration: Home Assistant's own
``cover.open_cover``, ``button.press`` and ``switch.turn_off`` carry no code, so an action
protected by an authenticator code (options) can only be run through them. The entity
checks the code before anything is sent to the car.
"""

from datetime import time as dt_time
import time
from typing import Any

from homeassistant.components.cover import CoverDeviceClass, CoverEntityFeature
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CODE, ATTR_DEVICE_ID, Platform
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    service,
)
from homeassistant.helpers.typing import VolDictType
import probatio as vol

from .api import navigation_request
from .const import DOMAIN
from .coordinator import TeslaResilientConfigEntry, VehicleCoordinator

SERVICE_NAVIGATION_REQUEST = "navigation_request"
SERVICE_SET_SCHEDULED_CHARGING = "set_scheduled_charging"
SERVICE_SET_SCHEDULED_DEPARTURE = "set_scheduled_departure"
SERVICE_WAKE_UP = "wake_up"
SERVICE_REFRESH = "refresh"
SERVICE_OPEN_WITH_CODE = "open_with_code"
SERVICE_PRESS_WITH_CODE = "press_with_code"
SERVICE_TURN_OFF_WITH_CODE = "turn_off_with_code"

ATTR_DESTINATION = "destination"
ATTR_ENABLE = "enable"
ATTR_TIME = "time"
ATTR_DEPARTURE_TIME = "departure_time"
ATTR_PRECONDITIONING = "preconditioning_enabled"
ATTR_PRECONDITIONING_WEEKDAYS = "preconditioning_weekdays_only"
ATTR_OFF_PEAK = "off_peak_charging_enabled"
ATTR_OFF_PEAK_WEEKDAYS = "off_peak_charging_weekdays_only"
ATTR_END_OFF_PEAK = "end_off_peak_time"

DEVICE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
NAVIGATION_SCHEMA = DEVICE_SCHEMA.extend(
    {vol.Required(ATTR_DESTINATION): vol.All(cv.string, vol.Strip, vol.Length(1, 500))}
)
SCHEDULED_CHARGING_SCHEMA = DEVICE_SCHEMA.extend(
    {vol.Required(ATTR_ENABLE): cv.boolean, vol.Optional(ATTR_TIME): cv.time}
)
SCHEDULED_DEPARTURE_SCHEMA = DEVICE_SCHEMA.extend(
    {
        vol.Required(ATTR_ENABLE): cv.boolean,
        vol.Optional(ATTR_DEPARTURE_TIME): cv.time,
        vol.Optional(ATTR_PRECONDITIONING): cv.boolean,
        vol.Optional(ATTR_PRECONDITIONING_WEEKDAYS): cv.boolean,
        vol.Optional(ATTR_OFF_PEAK): cv.boolean,
        vol.Optional(ATTR_OFF_PEAK_WEEKDAYS): cv.boolean,
        vol.Optional(ATTR_END_OFF_PEAK): cv.time,
    }
)

CODE_SCHEMA: VolDictType = {
    # Any text: the authenticator check answers a malformed code with its translated
    # "wrong code" error (and counts it, like a wrong code typed at a lock).
    vol.Required(ATTR_CODE): vol.All(cv.string, vol.Strip, vol.Length(min=1)),
}


def _minutes(value: dt_time) -> int:
    """Minutes after midnight, the unit Tesla's schedules use."""
    return value.hour * 60 + value.minute


def _vehicle(hass: HomeAssistant, call: ServiceCall) -> VehicleCoordinator:
    """Return the coordinator of the vehicle device the call targets."""
    device_id: str = call.data[ATTR_DEVICE_ID]
    device = dr.async_get(hass).async_get(device_id)
    entry: TeslaResilientConfigEntry | None = (
        hass.config_entries.async_get_entry(device.config_entry_id)
        if device is not None
        else None
    )
    if device is not None and entry is not None and entry.domain == DOMAIN:
        if entry.state is not ConfigEntryState.LOADED:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="entry_not_loaded",
                translation_placeholders={"entry": entry.title},
            )
        for vehicle in entry.runtime_data.vehicles.values():
            if (DOMAIN, vehicle.vin) in device.identifiers:
                return vehicle
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="invalid_device",
        translation_placeholders={"device_id": device_id},
    )


async def _navigation_request(call: ServiceCall) -> None:
    vehicle = _vehicle(call.hass, call)
    destination: str = call.data[ATTR_DESTINATION]
    await vehicle.async_command(
        "navigation_request",
        navigation_request(
            destination, locale=call.hass.config.language, now=time.time()
        ),
    )


async def _send_schedule(
    call: ServiceCall, command: str, times: dict[str, str], params: dict[str, Any]
) -> None:
    """Send a schedule command with its times (minutes after midnight).

    ``times``: parameter -> the flattened value the car reports it as. A signed
    command carries every time: one the owner left out is sent as the car has it;
    each is shown at once (optimistic).
    """
    vehicle = _vehicle(call.hass, call)
    data = vehicle.data.data
    for param, key in times.items():
        if (given := call.data.get(param)) is not None:
            params[param] = _minutes(given)
        elif data is not None and (current := data.get_int(key)) is not None:
            params[param] = current
    optimistic = {key: params[p] for p, key in times.items() if p in params}
    await vehicle.async_command(command, params, optimistic=optimistic)


async def _set_scheduled_charging(call: ServiceCall) -> None:
    await _send_schedule(
        call,
        "set_scheduled_charging",
        {ATTR_TIME: "charge_state_scheduled_charging_start_time_app"},
        {"enable": call.data[ATTR_ENABLE]},
    )


async def _set_scheduled_departure(call: ServiceCall) -> None:
    params: dict[str, Any] = {"enable": call.data[ATTR_ENABLE]}
    for key in (
        ATTR_PRECONDITIONING,
        ATTR_PRECONDITIONING_WEEKDAYS,
        ATTR_OFF_PEAK,
        ATTR_OFF_PEAK_WEEKDAYS,
    ):
        if key in call.data:
            params[key] = call.data[key]
    await _send_schedule(
        call,
        "set_scheduled_departure",
        {
            ATTR_DEPARTURE_TIME: "charge_state_scheduled_departure_time_minutes",
            ATTR_END_OFF_PEAK: "charge_state_off_peak_hours_end_time",
        },
        params,
    )


async def _wake_up(call: ServiceCall) -> None:
    await _vehicle(call.hass, call).async_wake()


async def _refresh(call: ServiceCall) -> None:
    await _vehicle(call.hass, call).async_refresh_now()


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN, SERVICE_NAVIGATION_REQUEST, _navigation_request, NAVIGATION_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_SCHEDULED_CHARGING,
        _set_scheduled_charging,
        SCHEDULED_CHARGING_SCHEMA,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_SET_SCHEDULED_DEPARTURE,
        _set_scheduled_departure,
        SCHEDULED_DEPARTURE_SCHEMA,
    )
    hass.services.async_register(DOMAIN, SERVICE_WAKE_UP, _wake_up, DEVICE_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_REFRESH, _refresh, DEVICE_SCHEMA)
    # Entity actions carrying the authenticator code (the entities check it).
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_OPEN_WITH_CODE,
        entity_domain=Platform.COVER,
        # The frunk, the trunk and the charge port door (windows need no code).
        entity_device_classes=(CoverDeviceClass.DOOR,),
        required_features=(CoverEntityFeature.OPEN,),
        func="async_open_cover",
        schema=CODE_SCHEMA,
    )
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_PRESS_WITH_CODE,
        entity_domain=Platform.BUTTON,
        func="async_press_with_code",
        schema=CODE_SCHEMA,
    )
    service.async_register_platform_entity_service(
        hass,
        DOMAIN,
        SERVICE_TURN_OFF_WITH_CODE,
        entity_domain=Platform.SWITCH,
        func="async_turn_off",
        schema=CODE_SCHEMA,
    )
