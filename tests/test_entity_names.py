"""What an owner reads on the device page, the map and the repairs: one name per thing."""

import json
from pathlib import Path

from homeassistant.const import ATTR_FRIENDLY_NAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.const import DOMAIN, DROPPED_ENTITIES
from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, setup_entry, sim_car
from tests.platform_helpers import entity_id, setup_account, state_of


@pytest.mark.parametrize("email", [TOTP_EMAIL, NO_MFA_EMAIL])
async def test_one_name_per_thing(
    hass: HomeAssistant, sim: SimServer, email: str
) -> None:
    """No two entities of a car share a name, whatever their platform."""
    entry = await setup_account(hass, sim, email)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert devices
    for device in devices:
        names = [e.original_name for e in entities if e.device_id == device.id]
        repeated = [n for n in set(names) if names.count(n) > 1]
        assert repeated == [], device.name


async def test_location_is_the_car(hass: HomeAssistant, sim: SimServer) -> None:
    """The car's position is a main entity named as the car: the map shows its name."""
    await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    registry = er.async_get(hass)
    location = entity_id(hass, Platform.DEVICE_TRACKER, car, "location")
    route = entity_id(hass, Platform.DEVICE_TRACKER, car, "route")
    entry = registry.async_get(location)
    assert entry is not None
    assert entry.entity_category is None
    assert entry.platform == DOMAIN
    assert state_of(hass, location).attributes[ATTR_FRIENDLY_NAME] == "Stella"
    route_entry = registry.async_get(route)
    assert route_entry is not None
    assert route_entry.entity_category == "diagnostic"


def test_one_wording_for_the_last_known_state() -> None:
    """The outage repair and the README name the data source as the entity shows it."""
    root = Path(__file__).parent.parent
    strings = json.loads(
        (root / "custom_components" / DOMAIN / "strings.json").read_text("utf-8")
    )
    shown = strings["entity"]["sensor"]["data_source"]["state"]["cache"]
    repair = strings["issues"]["cloud_outage"]["description"]
    assert f'"{shown}"' in repair
    assert "cache" not in repair
    readme = (root / "README.md").read_text("utf-8")
    assert f"shows *{shown}*" in readme
    assert "*cache*" not in readme


async def test_dropped_entities_leave_the_registry(
    hass: HomeAssistant, sim: SimServer, config_entry: MockConfigEntry
) -> None:
    """An install from before keeps no orphan of the entities dropped since; the
    entities of other platforms with the same key stay."""
    config_entry.add_to_hass(hass)
    vin = sim_car(sim, "Stella").vin
    registry = er.async_get(hass)

    def register(platform: str, key: str) -> str:
        return registry.async_get_or_create(
            platform, DOMAIN, f"{vin}-{key}", config_entry=config_entry
        ).entity_id

    dropped = [register(platform, key) for platform, key in DROPPED_ENTITIES]
    kept = [
        register(Platform.SENSOR, "charge_state_charging_state"),
        register(Platform.SWITCH, "vehicle_state_sentry_mode"),
    ]
    await setup_entry(hass, config_entry)
    assert [e for e in dropped if registry.async_get(e) is not None] == []
    assert all(registry.async_get(e) is not None for e in kept)
    assert state_of(hass, kept[0]).state == "disconnected"


async def test_names_fit_the_device_page(hass: HomeAssistant, sim: SimServer) -> None:
    """The device page shows a name beside the state or controls: a cover's two buttons
    leave room for 12 characters, another entity's state for 25 (then "…" cuts it)."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    registry = er.async_get(hass)
    too_long = [
        entity.original_name
        for entity in er.async_entries_for_config_entry(registry, entry.entry_id)
        if entity.entity_category is None
        and not entity.disabled
        and len(entity.original_name or "")
        > (12 if entity.domain == Platform.COVER else 25)
    ]
    assert too_long == []
