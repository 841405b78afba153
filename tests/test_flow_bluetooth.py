"""Pairing a car over Bluetooth: the config subentry flow ``bluetooth``.

Through Home Assistant's real Bluetooth stack: tesla_sim's cars advertise through a
remote scanner registered as a proxy with three connection slots, and take connections
through the simulator's bleak backend (tests/ble_fixtures.py); the client is the
integration's own (api/bluetooth.py on tesla-fleet-api). The owner's key card is the
simulator's ``tap`` (``decline`` the refusal on the screen), given while the progress
step waits for it. The cars do not know the app key unless a test says so (the ``sim``
marker). Home Assistant's bluetooth is imported where used, as in tests/ble_fixtures.py.
"""

import asyncio
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigSubentry,
    SubentryFlowResult,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient import flow_bluetooth
from custom_components.tesla_resilient.const import (
    CONF_ADDRESS,
    CONF_VIN,
    SUBENTRY_BLUETOOTH,
)
from tesla_sim import SimServer
from tesla_sim.ble import TAP_SECONDS, address_of
from tesla_sim.ble.scanner import SimRemoteScanner
from tesla_sim.vcp.tags import public_bytes
from tests.ble_fixtures import async_car_in_range
from tests.ha_fixtures import TOTP_EMAIL, make_config_entry, setup_entry, sim_car
from tests.sim_fixtures import APP_KEY

pytestmark = pytest.mark.sim(app_key_approved=False)


async def start(
    hass: HomeAssistant, entry: MockConfigEntry, **context: Any
) -> SubentryFlowResult:
    """Start the flow: a new subentry, or (``subentry_id``) a reconfiguration."""
    source = SOURCE_RECONFIGURE if "subentry_id" in context else SOURCE_USER
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, SUBENTRY_BLUETOOTH), context={"source": source, **context}
    )


async def submit(
    hass: HomeAssistant,
    result: SubentryFlowResult,
    user_input: dict[str, Any] | None = None,
) -> SubentryFlowResult:
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input
    )


async def pick(
    hass: HomeAssistant, entry: MockConfigEntry, vin: str
) -> SubentryFlowResult:
    """Start the flow and pick the car ``vin``."""
    return await submit(hass, await start(hass, entry), {CONF_VIN: vin})


async def until(condition: Callable[[], bool]) -> None:
    """Let the flow's task run until ``condition`` holds (the car got the key add)."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


def pairing(sim: SimServer, vin: str) -> Callable[[], bool]:
    """Whether the car waits for a key card (a key add is pending)."""
    return lambda: bool(sim.world.ble_state(vin)["pairing"])


def knows_app_key(sim: SimServer, vin: str) -> bool:
    return public_bytes(APP_KEY) in sim.world.vehicles[vin].whitelist


async def pair_done(
    hass: HomeAssistant, result: SubentryFlowResult
) -> SubentryFlowResult:
    """Let the pairing task end, then continue the flow."""
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await hass.async_block_till_done()
    return await submit(hass, result)


async def awaiting_tap(
    hass: HomeAssistant, sim: SimServer, result: SubentryFlowResult, vin: str
) -> SubentryFlowResult:
    """Submit the instructions; return once the car ``vin`` waits for a key card."""
    result = await submit(hass, result, {})
    await until(pairing(sim, vin))
    return result


def assert_aborted(result: SubentryFlowResult, reason: str) -> None:
    """The flow ended with ``reason`` (no subentry made or changed by this step)."""
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason


def subentries(entry: MockConfigEntry) -> list[ConfigSubentry]:
    return list(entry.get_subentries_of_type(SUBENTRY_BLUETOOTH))


@pytest.fixture(name="stella")
async def stella_fixture(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> str:
    """The Model S's VIN, the car in range of the proxy."""
    vin = sim_car(sim, "Stella").vin
    await async_car_in_range(hass, ble_scanner, sim.world, vin)
    return vin


async def test_pairs_with_a_key_card_tap(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    stella: str,
) -> None:
    entry = setup_integration
    result = await start(hass, entry)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    selector = result["data_schema"].schema[CONF_VIN].config
    assert {o["label"] for o in selector["options"]} == {"Stella", "Yara"}
    result = await submit(hass, result, {CONF_VIN: stella})
    assert result["step_id"] == "instructions"
    assert result["description_placeholders"] == {"car": "Stella"}
    assert not result["errors"]
    result = await submit(hass, result, {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "pair"
    await until(pairing(sim, stella))
    assert not knows_app_key(sim, stella)
    assert sim.world.ble_tap(stella)
    result = await pair_done(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Stella"
    assert result["data"] == {CONF_VIN: stella, CONF_ADDRESS: address_of(stella)}
    assert knows_app_key(sim, stella)
    (subentry,) = subentries(entry)
    assert subentry.unique_id == stella
    assert subentry.title == "Stella"
    # The link is closed: the car keeps its slots for others.
    await until(lambda: sim.world.ble_state(stella)["links"] == 0)
    # The next flow offers the other car only (once a reload for the subentry ended).
    await hass.async_block_till_done()
    result = await start(hass, entry)
    selector = result["data_schema"].schema[CONF_VIN].config
    assert [o["label"] for o in selector["options"]] == ["Yara"]


@pytest.mark.sim  # the cars know the app key (added on Tesla's page)
async def test_a_car_that_knows_the_key_is_added_at_once(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    ble_scanner: SimRemoteScanner,
) -> None:
    entry = setup_integration
    for name in ("Stella", "Yara"):
        vin = sim_car(sim, name).vin
        await async_car_in_range(hass, ble_scanner, sim.world, vin)
        result = await pick(hass, entry, vin)
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["title"] == name
        assert not sim.world.ble_state(vin)["pairing"]
        await hass.async_block_till_done()  # a reload for the subentry
    assert len(subentries(entry)) == 2
    result = await start(hass, entry)
    assert_aborted(result, "all_paired")


async def test_no_tap_then_a_tap(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    stella: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nobody taps the card before Home Assistant stops waiting: the instructions
    again, then a tap."""
    monkeypatch.setattr(flow_bluetooth, "PAIR_TIMEOUT", 0.5)
    result = await pick(hass, setup_integration, stella)
    result = await submit(hass, result, {})
    result = await pair_done(hass, result)
    assert result["step_id"] == "instructions"
    assert result["errors"] == {"base": "no_tap"}
    assert not knows_app_key(sim, stella)
    monkeypatch.setattr(flow_bluetooth, "PAIR_TIMEOUT", 60.0)
    result = await submit(hass, result, {})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await until(pairing(sim, stella))
    assert sim.world.ble_tap(stella)
    result = await pair_done(hass, result)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert knows_app_key(sim, stella)


async def test_the_car_stops_waiting_for_the_tap(
    hass: HomeAssistant,
    sim_virtual: SimServer,
    ble_scanner_virtual: SimRemoteScanner,
) -> None:
    """The car gives up after its own 30 s (on the simulator's virtual clock)."""
    entry = await setup_entry(hass, await make_config_entry(sim_virtual, TOTP_EMAIL))
    world = sim_virtual.world
    stella = sim_car(sim_virtual, "Stella").vin
    await async_car_in_range(hass, ble_scanner_virtual, world, stella)
    result = await pick(hass, entry, stella)
    result = await awaiting_tap(hass, sim_virtual, result, stella)
    world.advance(TAP_SECONDS)
    assert not world.ble_state(stella)["pairing"]  # it answered: timed out
    result = await pair_done(hass, result)
    assert result["step_id"] == "instructions"
    assert result["errors"] == {"base": "no_tap"}
    assert not knows_app_key(sim_virtual, stella)


async def test_declined_on_the_screen(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    stella: str,
) -> None:
    result = await pick(hass, setup_integration, stella)
    result = await awaiting_tap(hass, sim, result, stella)
    assert sim.world.ble_decline(stella)
    result = await pair_done(hass, result)
    assert result["step_id"] == "instructions"
    assert result["errors"] == {"base": "declined"}
    assert not knows_app_key(sim, stella)
    assert not subentries(setup_integration)


async def test_car_not_found_then_found(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    ble_scanner: SimRemoteScanner,
) -> None:
    yara = sim_car(sim, "Yara").vin
    result = await pick(hass, setup_integration, yara)
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "car_not_found"}
    await async_car_in_range(hass, ble_scanner, sim.world, yara)
    result = await submit(hass, result, {CONF_VIN: yara})
    assert result["step_id"] == "instructions"


async def test_weak_signal(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    ble_scanner: SimRemoteScanner,
) -> None:
    yara = sim_car(sim, "Yara").vin
    await async_car_in_range(hass, ble_scanner, sim.world, yara, rssi=-90)
    result = await pick(hass, setup_integration, yara)
    assert result["errors"] == {"base": "weak_signal"}
    assert sim.world.ble_state(yara)["connections"] == 0  # not even tried
    await async_car_in_range(hass, ble_scanner, sim.world, yara, rssi=-70)
    result = await submit(hass, result, {CONF_VIN: yara})
    assert result["step_id"] == "instructions"


async def test_no_free_connection(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    stella: str,
) -> None:
    """Three phones hold the car's three connections."""
    sim.world.ble_set(stella, other_clients=3)
    result = await pick(hass, setup_integration, stella)
    assert result["step_id"] == "user"
    assert result["errors"] == {"base": "no_slot"}
    sim.world.ble_set(stella, other_clients=2)
    result = await submit(hass, result, {CONF_VIN: stella})
    assert result["step_id"] == "instructions"


async def test_car_gone_before_the_pairing(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    stella: str,
) -> None:
    """Home Assistant no longer hears the car when the owner submits the instructions."""
    result = await pick(hass, setup_integration, stella)
    assert result["step_id"] == "instructions"
    from homeassistant.components import bluetooth

    sim.world.ble_set(stella, in_range=False)
    # As when the car's advertisements expired.
    bluetooth.async_clear_advertisement_history(hass, address_of(stella))
    result = await submit(hass, result, {})
    assert result["step_id"] == "instructions"
    assert result["errors"] == {"base": "car_not_found"}


async def test_closing_the_flow_stops_the_pairing(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    stella: str,
) -> None:
    result = await pick(hass, setup_integration, stella)
    result = await awaiting_tap(hass, sim, result, stella)
    hass.config_entries.subentries.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    await until(lambda: sim.world.ble_state(stella)["links"] == 0)
    assert not subentries(setup_integration)


async def test_no_bluetooth(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Home Assistant's Bluetooth integration is not set up."""
    result = await start(hass, setup_integration)
    assert_aborted(result, "no_scanner")


@pytest.mark.usefixtures("enable_bluetooth")
async def test_no_scanner_that_connects(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Bluetooth is set up, but without an adapter (its entry unloaded) or a proxy."""
    from homeassistant.components import bluetooth

    (adapter,) = hass.config_entries.async_entries("bluetooth")
    assert await hass.config_entries.async_unload(adapter.entry_id)
    assert "bluetooth" in hass.config.components
    assert bluetooth.async_scanner_count(hass, connectable=True) == 0
    result = await start(hass, setup_integration)
    assert_aborted(result, "no_scanner")


@pytest.mark.usefixtures("ble_scanner")
async def test_account_not_loaded(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    await hass.config_entries.async_unload(setup_integration.entry_id)
    result = await start(hass, setup_integration)
    assert_aborted(result, "entry_not_loaded")


def add_subentry(
    hass: HomeAssistant, entry: MockConfigEntry, vin: str, address: str
) -> ConfigSubentry:
    """A Bluetooth subentry of an earlier pairing."""
    subentry = ConfigSubentry(
        data=MappingProxyType({CONF_VIN: vin, CONF_ADDRESS: address}),
        subentry_type=SUBENTRY_BLUETOOTH,
        title="Stella",
        unique_id=vin,
    )
    hass.config_entries.async_add_subentry(entry, subentry)
    return subentry


@pytest.mark.sim  # the cars know the app key
async def test_reconfigure_finds_the_car_again(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    ble_scanner: SimRemoteScanner,
) -> None:
    entry = setup_integration
    vin = sim_car(sim, "Stella").vin
    subentry = add_subentry(hass, entry, vin, "02:00:00:00:00:00")
    result = await start(hass, entry, subentry_id=subentry.subentry_id)
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"car": "Stella"}
    result = await submit(hass, result, {})
    assert result["errors"] == {"base": "car_not_found"}
    await async_car_in_range(hass, ble_scanner, sim.world, vin)
    result = await submit(hass, result, {})
    assert_aborted(result, "reconfigure_successful")
    assert dict(entry.subentries[subentry.subentry_id].data) == {
        CONF_VIN: vin,
        CONF_ADDRESS: address_of(vin),
    }
    assert not sim.world.ble_state(vin)["pairing"]  # the key stayed


async def test_reconfigure_pairs_a_car_that_lost_the_key(
    hass: HomeAssistant,
    sim: SimServer,
    setup_integration: MockConfigEntry,
    stella: str,
) -> None:
    entry = setup_integration
    subentry = add_subentry(hass, entry, stella, address_of(stella))
    result = await start(hass, entry, subentry_id=subentry.subentry_id)
    result = await submit(hass, result, {})
    assert result["step_id"] == "instructions"
    result = await awaiting_tap(hass, sim, result, stella)
    assert sim.world.ble_tap(stella)
    result = await pair_done(hass, result)
    assert_aborted(result, "reconfigure_successful")
    assert knows_app_key(sim, stella)
    assert len(subentries(entry)) == 1


async def test_reconfigure_without_bluetooth(
    hass: HomeAssistant, sim: SimServer, setup_integration: MockConfigEntry
) -> None:
    vin = sim_car(sim, "Stella").vin
    subentry = add_subentry(hass, setup_integration, vin, address_of(vin))
    result = await start(hass, setup_integration, subentry_id=subentry.subentry_id)
    assert_aborted(result, "no_scanner")
