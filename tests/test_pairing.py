"""The virtual key (pairing.py, repairs.py) against tesla_sim and a real Home Assistant.

The simulator's cars need signed commands here (``rest_commands=False``); the first test
lets the TOTP account's Model S ("Stella") take plain REST commands, as a car built
before 2021 does, so only its Model Y ("Yara") needs the app's key. The partner registration fetches the app's key from Home
Assistant's own HTTP server, as Tesla does.
"""

from typing import Any

import aiohttp
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from benchmarks.common import dev_app_auth
from custom_components.tesla_resilient.const import CONF_PARTNER_DOMAIN, DOMAIN
from custom_components.tesla_resilient.errors import billing_issue_id
from custom_components.tesla_resilient.keys import async_get_app_key
from custom_components.tesla_resilient.pairing import issue_id, virtual_key_url
from custom_components.tesla_resilient.repairs import async_create_fix_flow
from tesla_sim import SimServer
from tests.ha_fixtures import (
    TOTP_EMAIL,
    add_fault,
    make_config_entry,
    setup_entry,
    sim_car,
)
from tests.sim_fixtures import bearer

pytestmark = pytest.mark.sim(rest_commands=False)

FLEET_STATUS = "/api/1/vehicles/fleet_status"
FIX = "/api/repairs/issues/fix"


async def partner_entry(
    hass: HomeAssistant, sim: SimServer, domain: str = "ha.example.net"
) -> MockConfigEntry:
    """The TOTP account's entry, registered for ``domain``, set up."""
    entry = await make_config_entry(sim, TOTP_EMAIL)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_PARTNER_DOMAIN: domain}
    )
    return await setup_entry(hass, entry)


def our_issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    """This integration's virtual-key repair issues by id."""
    return {
        issue: entry
        for (domain, issue), entry in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.startswith("virtual_key_")
    }


def fleet_status_calls(sim: SimServer) -> int:
    return sum(entry.path == FLEET_STATUS for entry in sim.world.meter.log)


async def fix_flow(client: Any, issue: str) -> dict[str, Any]:
    """Open the fix flow of ``issue`` as the frontend does."""
    reply = await client.post(FIX, json={"handler": DOMAIN, "issue_id": issue})
    assert reply.status == 200
    flow: dict[str, Any] = await reply.json()
    return flow


async def submit(client: Any, flow: dict[str, Any]) -> dict[str, Any]:
    """Press Submit in the fix flow."""
    reply = await client.post(f"{FIX}/{flow['flow_id']}", json={})
    assert reply.status == 200
    result: dict[str, Any] = await reply.json()
    return result


async def test_unpaired_car_gets_a_repair_issue_until_the_owner_approves(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    sim: SimServer,
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    assert await async_setup_component(hass, DOMAIN, {})  # views before the server
    home_assistant = await hass_client_no_auth()  # HA's HTTP server on loopback
    domain = f"{home_assistant.host}:{home_assistant.port}"
    sim_car(sim, "Stella").requires_command_signing = False
    entry = await partner_entry(hass, sim, domain)
    yara = sim_car(sim, "Yara")
    assert fleet_status_calls(sim) == 1  # one call at set-up for all the cars

    # Only the car that needs signed commands gets an issue, with the pairing link.
    issue = issue_id(entry, str(yara.id))
    assert list(our_issues(hass)) == [issue]
    found = our_issues(hass)[issue]
    url = f"{sim.url}/_ak/{domain}"
    assert found.is_fixable
    assert found.translation_key == "virtual_key"
    assert found.translation_placeholders == {
        "car": "Yara",
        "account": TOTP_EMAIL,
        "url": url,
    }
    assert found.learn_more_url == url

    # "I approved it" before approving: Tesla still says no.
    client = await hass_client()
    flow = await fix_flow(client, issue)
    assert flow["step_id"] == "confirm"
    assert flow["description_placeholders"]["url"] == url
    result = await submit(client, flow)
    assert result["errors"] == {"base": "still_unpaired"}
    assert issue in our_issues(hass)

    # Tesla registers the app (fetching its key from Home Assistant over HTTP), then
    # the owner approves the key for the car.
    key = await async_get_app_key(hass)
    async with aiohttp.ClientSession() as session:
        partner = await dev_app_auth(session, sim).partner_token(sim.url)
        async with session.post(
            f"{sim.url}/api/1/partner_accounts",
            json={"domain": domain},
            headers=bearer(partner),
        ) as reply:
            assert reply.status == 200
            body = await reply.json()
            assert body["response"]["public_key"] == key.public_bytes.hex()
        async with session.post(
            f"{sim.url}/__sim__/vehicles/{yara.vin}/virtual_key",
            json={"domain": domain},
        ) as reply:
            assert reply.status == 200
    assert yara.whitelist == {key.public_bytes: "owner"}

    result = await submit(client, flow)
    assert result["type"] == "create_entry"
    assert our_issues(hass) == {}
    assert fleet_status_calls(sim) == 3  # set-up and the two re-checks, no polling


async def test_recheck_failures_and_unload(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, sim: SimServer
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    entry = await partner_entry(hass, sim)
    issue = issue_id(entry, str(sim_car(sim, "Yara").id))
    client = await hass_client()
    flow = await fix_flow(client, issue)
    add_fault(sim, "outage", paths=[FLEET_STATUS], status=503)
    result = await submit(client, flow)
    assert result["errors"] == {"base": "cannot_check"}

    # Unloading removes the issues; a flow still open says why it cannot check.
    await hass.config_entries.async_unload(entry.entry_id)
    assert our_issues(hass) == {}
    result = await submit(client, flow)
    assert (result["type"], result["reason"]) == ("abort", "not_loaded")


async def test_setup_check_failure_is_quiet(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """A check that fails leaves set-up alone; a 402 raises the billing issue."""
    add_fault(sim, "billing", paths=[FLEET_STATUS])
    entry = await partner_entry(hass, sim)
    assert entry.state is ConfigEntryState.LOADED
    assert our_issues(hass) == {}
    assert ir.async_get(hass).async_get_issue(DOMAIN, billing_issue_id(entry))


async def test_no_check_without_a_registered_domain(
    hass: HomeAssistant, sim: SimServer
) -> None:
    await setup_entry(hass, await make_config_entry(sim, TOTP_EMAIL))
    assert fleet_status_calls(sim) == 0
    assert our_issues(hass) == {}


@pytest.mark.parametrize(
    ("auth_base", "expected"),
    [
        (None, "https://tesla.com/_ak/ha.example.net"),
        ("https://auth.tesla.com", "https://tesla.com/_ak/ha.example.net"),
        ("https://auth.tesla.cn/", "https://tesla.com/_ak/ha.example.net"),
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765/_ak/ha.example.net"),
    ],
)
def test_virtual_key_url(auth_base: str | None, expected: str) -> None:
    assert virtual_key_url("ha.example.net", auth_base) == expected


async def test_fix_flow_without_its_entry_aborts(hass: HomeAssistant) -> None:
    flow = await async_create_fix_flow(hass, "virtual_key_gone", None)
    flow.hass = hass
    flow.issue_id = "virtual_key_gone"
    result = await flow.async_step_init()
    assert (result["type"], result["reason"]) == ("abort", "not_loaded")
