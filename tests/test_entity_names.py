"""What an owner reads on the device page, the map and the repairs: one name per thing."""

import json
from pathlib import Path

from homeassistant.const import ATTR_FRIENDLY_NAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest

from custom_components.tesla_resilient.const import DOMAIN
from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
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
