"""Tesla's account answers through the integration: 402 (a repair issue), 423 and 451."""

from homeassistant.components.lock import SERVICE_UNLOCK
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.const import DOMAIN
from custom_components.tesla_resilient.errors import BILLING_URL, billing_issue_id
from tesla_sim import SimServer
from tests.ha_fixtures import TOTP_EMAIL, add_fault, sim_car
from tests.platform_helpers import call_service, entity_id, setup_account

DOORS = "vehicle_state_locked"


async def test_billing_repair_follows_the_account(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """402 on the vehicle list raises the repair; the next answer removes it."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    account = entry.runtime_data.account
    issues = ir.async_get(hass)
    issue_id = billing_issue_id(entry)
    assert issues.async_get_issue(DOMAIN, issue_id) is None
    add_fault(sim, "billing")
    await account.async_refresh()
    issue = issues.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "billing_required"
    assert issue.translation_placeholders == {"account": entry.title}
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.learn_more_url == BILLING_URL
    assert not account.in_outage  # Tesla answers: not an outage
    sim.world.faults.clear()
    await account.async_refresh()
    assert issues.async_get_issue(DOMAIN, issue_id) is None


@pytest.mark.parametrize(
    ("kind", "key", "repair"),
    [
        ("billing", "billing_required", True),
        ("account_locked", "fleet_account_locked", False),
        ("legal", "legal_restriction", False),
    ],
)
async def test_command_refused_by_the_account(
    hass: HomeAssistant, sim: SimServer, kind: str, key: str, repair: bool
) -> None:
    """A command refused with 402, 423 or 451 fails with a translated message."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    lock = entity_id(hass, Platform.LOCK, sim_car(sim, "Stella"), DOORS)
    add_fault(sim, kind, paths=["/api/1/vehicles/"])
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_UNLOCK, lock)
    assert err.value.translation_key == key
    issue = ir.async_get(hass).async_get_issue(DOMAIN, billing_issue_id(entry))
    assert (issue is not None) is repair
    assert sim_car(sim, "Stella").locked is True


async def test_billing_repair_from_a_poll(hass: HomeAssistant, sim: SimServer) -> None:
    """402 on a car's vehicle_data raises the repair at once (not only on the list)."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    vehicle = next(v for v in entry.runtime_data.vehicles.values() if v.vin == car.vin)
    add_fault(sim, "billing", paths=["/api/1/vehicles/"])
    await vehicle.async_refresh()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, billing_issue_id(entry))
    assert issue is not None
    assert vehicle.snapshot.data is not None  # the values stay


async def test_billing_repair_at_set_up(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """402 at set-up: not ready, and the repair says why."""
    add_fault(sim, "billing")
    config_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(DOMAIN, billing_issue_id(config_entry))
    assert issue is not None
