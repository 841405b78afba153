"""The integration over Bluetooth at run time, through Home Assistant's real stack.

tesla_sim's car is reached through the simulated proxy (``ble_scanner``): HA's
``HaBleakClientWrapper`` and ``establish_connection`` run, and tesla-fleet-api speaks the
protocol to the car side of tesla_sim. The cloud meter counts every cloud request;
Bluetooth is never counted there.
"""

from collections.abc import AsyncIterator
from datetime import timedelta
import json

from homeassistant.components.lock import LockState
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.tesla_resilient.account import OUTAGE_ISSUE_DELAY
from custom_components.tesla_resilient.api import CloudUnavailable, VehicleState
from custom_components.tesla_resilient.const import DOMAIN
from custom_components.tesla_resilient.snapshot import DataSource
from tesla_sim import SimServer
from tesla_sim.ble import address_of
from tesla_sim.ble.scanner import SimRemoteScanner
from tesla_sim.vehicles import Vehicle
from tests.ble_fixtures import async_car_in_range
from tests.bluetooth_helpers import (
    async_wait_state,
    entity_id,
    meter_total,
    vehicle_of,
    with_bluetooth,
)
from tests.ha_fixtures import (
    TOTP_EMAIL,
    add_fault,
    make_config_entry,
    setup_entry,
    sim_car,
)


@pytest.fixture
async def asleep(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner, stella: Vehicle
) -> AsyncIterator[MockConfigEntry]:
    """As ``paired``, with Stella asleep before Home Assistant starts."""
    stella.set_activity("sleep", sim.world.now())
    await async_car_in_range(hass, ble_scanner, sim.world, stella.vin)
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), stella.vin)
    await setup_entry(hass, entry)
    yield entry
    if entry.state is ConfigEntryState.LOADED:
        await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


def _lock(hass: HomeAssistant, vin: str) -> str:
    lock = entity_id(hass, "lock", vin, "vehicle_state_locked")
    assert lock is not None
    return lock


def _outage(entry: MockConfigEntry, sim: SimServer) -> None:
    """Tesla's cloud down: every request fails, and the account knows it."""
    add_fault(sim, "outage")
    account = entry.runtime_data.account
    while not account.in_outage:
        account.report_failure(CloudUnavailable("down"))


async def test_in_range_entities_and_status(
    hass: HomeAssistant, sim: SimServer, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """A paired car in range: connectivity on, signal in dBm, values from Bluetooth."""
    in_range = entity_id(hass, "binary_sensor", stella.vin, "bluetooth_in_range")
    signal = entity_id(hass, "sensor", stella.vin, "bluetooth_signal")
    assert in_range is not None
    assert signal is not None
    assert hass.states.get(in_range).state == STATE_ON
    registry = er.async_get(hass)
    assert (
        registry.async_get(signal).disabled_by is er.RegistryEntryDisabler.INTEGRATION
    )
    vehicle = vehicle_of(paired, stella.vin)
    assert vehicle.bluetooth is not None
    assert vehicle.bluetooth.rssi == -55
    assert vehicle.snapshot.source_of("vehicle_state_locked") is DataSource.BLE
    assert sim.world.ble_state(stella.vin)["messages_in"] > 0
    # The other car has no Bluetooth subentry: no Bluetooth entities.
    yara = sim_car(sim, "Yara")
    assert entity_id(hass, "binary_sensor", yara.vin, "bluetooth_in_range") is None
    assert entity_id(hass, "sensor", yara.vin, "bluetooth_signal") is None


async def test_status_while_asleep_without_waking_and_no_cloud_sleep_checks(
    hass: HomeAssistant, asleep: MockConfigEntry, sim: SimServer, stella: Vehicle
) -> None:
    """A sleeping car is read over Bluetooth; it stays asleep and the cloud is spared."""
    entry = asleep
    vehicle = vehicle_of(entry, stella.vin)
    assert vehicle.snapshot.state is VehicleState.ASLEEP
    assert vehicle.snapshot.source_of("vehicle_state_locked") is DataSource.BLE
    assert vehicle.data_source is DataSource.BLE
    assert hass.states.get(_lock(hass, stella.vin)).state == LockState.LOCKED
    source = entity_id(hass, "sensor", stella.vin, "data_source")
    assert source is not None
    assert hass.states.get(source).state == "ble"
    # The cloud's next sleep check goes over Bluetooth: no cloud request, no wake.
    link = vehicle.bluetooth
    assert link is not None
    before = meter_total(sim)
    await vehicle.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert meter_total(sim) == before
    assert link.reads >= 2
    assert sim.world.vehicle(stella.vin).power == "asleep"
    assert vehicle.snapshot.state is VehicleState.ASLEEP
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_broadcast_updates_the_lock_within_seconds(
    hass: HomeAssistant, sim: SimServer, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """While the link listens, a lock change made elsewhere shows at once."""
    lock = _lock(hass, stella.vin)
    assert hass.states.get(lock).state == LockState.LOCKED
    vehicle = vehicle_of(paired, stella.vin)
    assert vehicle.bluetooth is not None
    assert vehicle.bluetooth.listening
    before = meter_total(sim)
    # The owner unlocks with a phone key: the car broadcasts its new status.
    stella.locked = False
    sim.world.tick()
    await async_wait_state(hass, lock, LockState.UNLOCKED)
    assert meter_total(sim) == before


async def test_unlock_over_bluetooth_during_a_cloud_outage(
    hass: HomeAssistant, sim: SimServer, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """The seed morning: the cloud is down, the car in range unlocks with 0 cloud requests."""
    _outage(paired, sim)
    before = meter_total(sim)
    lock = _lock(hass, stella.vin)
    await hass.services.async_call("lock", "unlock", {"entity_id": lock}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sim.world.vehicle(stella.vin).locked is False
    assert hass.states.get(lock).state == LockState.UNLOCKED
    assert meter_total(sim) == before
    vehicle = vehicle_of(paired, stella.vin)
    assert vehicle.data_source is DataSource.BLE
    account = paired.runtime_data.account
    assert account.in_outage
    # The repair issue, once due, says Bluetooth covers Stella.
    async_fire_time_changed(
        hass, dt_util.utcnow() + timedelta(seconds=OUTAGE_ISSUE_DELAY + 1)
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, account.issue_id)
    assert issue is not None
    assert issue.translation_key == "cloud_outage_bluetooth"
    assert issue.translation_placeholders["cars"] == "Stella"


async def test_cloud_fallback_when_out_of_range(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner, stella: Vehicle
) -> None:
    """A paired car out of range: its commands go through the cloud as before."""
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), stella.vin)
    await setup_entry(hass, entry)
    in_range = entity_id(hass, "binary_sensor", stella.vin, "bluetooth_in_range")
    assert in_range is not None
    assert hass.states.get(in_range).state == STATE_OFF
    before = sim.world.meter.vehicle(stella.vin).requests["command"]
    await hass.services.async_call(
        "lock", "unlock", {"entity_id": _lock(hass, stella.vin)}, blocking=True
    )
    assert sim.world.vehicle(stella.vin).locked is False
    assert sim.world.meter.vehicle(stella.vin).requests["command"] > before
    assert sim.world.ble_state(stella.vin)["connections"] == 0
    # Its polls go to the cloud too.
    vehicle = vehicle_of(entry, stella.vin)
    before = meter_total(sim)
    await vehicle.async_refresh()
    assert meter_total(sim) > before
    # During an outage it is refused at once, as without Bluetooth.
    _outage(entry, sim)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "lock", "lock", {"entity_id": _lock(hass, stella.vin)}, blocking=True
        )
    assert err.value.translation_key == "cloud_unreachable"
    await hass.config_entries.async_unload(entry.entry_id)


async def test_no_replay_after_a_dropped_ack(
    hass: HomeAssistant, sim: SimServer, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """The car unlocked but its answer was lost: "possibly carried out", never re-sent."""
    sim.world.ble_set(stella.vin, drop_ack_next=True)
    before = meter_total(sim)
    lock = _lock(hass, stella.vin)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "lock", "unlock", {"entity_id": lock}, blocking=True
        )
    assert err.value.translation_key == "bluetooth_outcome_unknown"
    assert sim.world.vehicle(stella.vin).locked is False
    # The owner locks it by hand; a replayed unlock would open it again.
    stella.locked = True
    sim.world.tick()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sim.world.vehicle(stella.vin).locked is True
    assert meter_total(sim) == before


async def test_a_refusal_over_bluetooth_is_not_sent_over_the_cloud(
    hass: HomeAssistant, sim: SimServer, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """The car answered over Bluetooth and said no: its reason, and no cloud command."""
    car = sim.world.vehicle(stella.vin)
    assert car.charging_state != "Charging"
    before = sim.world.meter.vehicle(stella.vin).requests["command"]
    received = sim.world.ble_state(stella.vin)["messages_in"]
    with pytest.raises(HomeAssistantError) as err:
        await vehicle_of(paired, stella.vin).async_command("charge_stop")
    assert err.value.translation_key == "command_failed"
    assert err.value.translation_placeholders["reason"] == "not_charging"
    assert sim.world.ble_state(stella.vin)["messages_in"] > received
    assert sim.world.meter.vehicle(stella.vin).requests["command"] == before


async def test_a_scheduled_read_lets_an_awake_car_sleep(
    hass: HomeAssistant, sim: SimServer, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """The link's own reads ask vehicle security only: no infotainment read keeps the
    parked car awake (only the polling policy's ``vehicle_data`` may)."""
    car = sim.world.vehicle(stella.vin)
    link = vehicle_of(paired, stella.vin).bluetooth
    assert link is not None
    car.idle_ref = sim.world.now() - 120
    reads = link.reads
    link._cancel_timer()  # its timer fires now
    link._on_timer(dt_util.utcnow())
    await hass.async_block_till_done(wait_background_tasks=True)
    assert link.reads == reads + 1
    assert car.idle_ref < sim.world.now() - 100  # its idle timer runs on


async def test_three_other_clients_hold_the_slots(
    hass: HomeAssistant,
    sim: SimServer,
    ble_scanner: SimRemoteScanner,
    paired: MockConfigEntry,
    stella: Vehicle,
) -> None:
    """All the car's connections taken: the cloud takes over, and the next commands go
    straight to it for a while; in an outage Bluetooth is tried, with a clear error."""
    # Our listening link is dropped and three phones take every slot.
    sim.world.ble_set(stella.vin, drop_link=True, other_clients=3)
    await ble_scanner.async_poll_once()
    await hass.async_block_till_done(wait_background_tasks=True)
    lock = _lock(hass, stella.vin)
    address = address_of(stella.vin)
    before = sim.world.meter.vehicle(stella.vin).requests["command"]
    await hass.services.async_call("lock", "unlock", {"entity_id": lock}, blocking=True)
    assert sim.world.vehicle(stella.vin).locked is False
    assert sim.world.meter.vehicle(stella.vin).requests["command"] > before
    refused = ble_scanner.connection_failures(address)
    assert refused >= 1
    # The refusal is remembered: the next command goes to the cloud at once.
    before = sim.world.meter.vehicle(stella.vin).requests["command"]
    await hass.services.async_call("lock", "lock", {"entity_id": lock}, blocking=True)
    assert sim.world.vehicle(stella.vin).locked is True
    assert sim.world.meter.vehicle(stella.vin).requests["command"] > before
    assert ble_scanner.connection_failures(address) == refused
    await hass.services.async_call("lock", "unlock", {"entity_id": lock}, blocking=True)
    _outage(paired, sim)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "lock", "lock", {"entity_id": lock}, blocking=True
        )
    assert err.value.translation_key == "bluetooth_slots_full"
    assert ble_scanner.connection_failures(address) == refused + 1
    assert sim.world.vehicle(stella.vin).locked is False


async def test_diagnostics_name_each_values_path(
    hass: HomeAssistant,
    hass_client: object,
    sim: SimServer,
    paired: MockConfigEntry,
    stella: Vehicle,
) -> None:
    """Diagnostics: the path of every value and the link's state; no address or VIN."""
    from pytest_homeassistant_custom_component.components.diagnostics import (
        get_diagnostics_for_config_entry,
    )

    result = await get_diagnostics_for_config_entry(hass, hass_client, paired)
    vehicle = next(v for v in result["vehicles"] if v["bluetooth"] is not None)
    sources = vehicle["snapshot"]["sources"]
    assert sources["vehicle_state_locked"] == "ble"
    assert sources["vehicle_state_odometer"] == "cloud"
    assert vehicle["bluetooth"]["memory"]["in_range"] is True
    assert vehicle["bluetooth"]["memory"]["rssi"] == -55
    dump = json.dumps(result)
    assert stella.vin not in dump
    assert address_of(stella.vin) not in dump
    assert address_of(stella.vin).lower() not in dump


async def test_wake_over_bluetooth(
    hass: HomeAssistant, asleep: MockConfigEntry, sim: SimServer, stella: Vehicle
) -> None:
    """The wake button wakes a sleeping car in range over Bluetooth, cloud untouched."""
    entry = asleep
    _outage(entry, sim)
    before = meter_total(sim)
    wake = entity_id(hass, "button", stella.vin, "wake")
    assert wake is not None
    await hass.services.async_call(
        "button", "press", {"entity_id": wake}, blocking=True
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sim.world.vehicle(stella.vin).power == "online"
    assert vehicle_of(entry, stella.vin).snapshot.state is VehicleState.ONLINE
    assert meter_total(sim) == before
    await hass.config_entries.async_unload(entry.entry_id)


async def test_leaving_range(
    hass: HomeAssistant, sim: SimServer, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """Out of range: the entity turns off and the cloud looks once (it may be driving)."""
    from homeassistant.components import bluetooth

    vehicle = vehicle_of(paired, stella.vin)
    link = vehicle.bluetooth
    assert link is not None
    info = bluetooth.async_last_service_info(hass, address_of(stella.vin), False)
    assert info is not None
    before = sim.world.meter.vehicle(stella.vin).requests["data"]
    sim.world.ble_set(stella.vin, in_range=False)
    link._on_unavailable(info)  # what HA's unavailable tracking calls
    await hass.async_block_till_done(wait_background_tasks=True)
    in_range = entity_id(hass, "binary_sensor", stella.vin, "bluetooth_in_range")
    assert in_range is not None
    assert hass.states.get(in_range).state == STATE_OFF
    assert link.rssi is None
    assert sim.world.meter.vehicle(stella.vin).requests["data"] == before + 1
    # Back in range, during an outage: shown as Bluetooth again; gone: last known.
    _outage(paired, sim)
    link._on_advertisement(info, bluetooth.BluetoothChange.ADVERTISEMENT)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert vehicle.data_source is DataSource.BLE
    link._on_unavailable(info)
    assert vehicle.data_source is DataSource.CACHE


async def test_subentry_removed_reloads_without_bluetooth(
    hass: HomeAssistant, sim: SimServer, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """Removing the car's Bluetooth subentry reloads the entry: the car is cloud-only,
    and its Bluetooth entities leave the registry (no orphans)."""
    subentry_id = next(iter(paired.subentries))
    registry = er.async_get(hass)
    bluetooth_entities = [
        entity_id(hass, "binary_sensor", stella.vin, "bluetooth_in_range"),
        entity_id(hass, "sensor", stella.vin, "bluetooth_signal"),
    ]
    for bluetooth_entity in bluetooth_entities:
        assert bluetooth_entity is not None
        assert registry.async_get(bluetooth_entity) is not None
    hass.config_entries.async_remove_subentry(paired, subentry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert paired.state is ConfigEntryState.LOADED
    assert vehicle_of(paired, stella.vin).bluetooth is None
    for bluetooth_entity in bluetooth_entities:
        assert registry.async_get(bluetooth_entity or "") is None
    assert registry.async_get(_lock(hass, stella.vin)) is not None


async def test_without_home_assistants_bluetooth(
    hass: HomeAssistant,
    sim: SimServer,
    stella: Vehicle,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A paired car where Home Assistant has no Bluetooth: cloud only, said once."""
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), stella.vin)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert vehicle_of(entry, stella.vin).bluetooth is None
    assert "Bluetooth integration is not set up" in caplog.text
    assert entity_id(hass, "binary_sensor", stella.vin, "bluetooth_in_range") is None
    await hass.config_entries.async_unload(entry.entry_id)


async def test_bluetooth_errors_are_translated(
    hass: HomeAssistant, sim: SimServer, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """Each Bluetooth failure has its own message; none blames Tesla's cloud."""
    from custom_components.tesla_resilient.api import (
        BluetoothSlotsFull,
        BluetoothTimeout,
        BluetoothUnavailable,
        CommandFailed,
        CommandOutcomeUnknown,
        KeyNotPaired,
    )
    from custom_components.tesla_resilient.ble_commands import bluetooth_error

    vehicle = vehicle_of(paired, stella.vin)
    keys = {
        CommandOutcomeUnknown("lost"): "bluetooth_outcome_unknown",
        BluetoothSlotsFull("full"): "bluetooth_slots_full",
        BluetoothUnavailable("gone"): "bluetooth_unreachable",
        KeyNotPaired("who"): "bluetooth_key_not_paired",
        BluetoothTimeout("slow"): "vehicle_did_not_wake",
        CommandFailed("already_set"): "command_failed",
    }
    for err, key in keys.items():
        assert bluetooth_error(vehicle, err).translation_key == key


async def test_a_failed_read_keeps_cloud_sleep_checks_paused(
    hass: HomeAssistant, asleep: MockConfigEntry, sim: SimServer, stella: Vehicle
) -> None:
    """A read that reaches nothing: a fresh "asleep" still spares the cloud's check."""
    entry = asleep
    vehicle = vehicle_of(entry, stella.vin)
    link = vehicle.bluetooth
    assert link is not None
    await link._async_end_window()  # the listen window is over
    # The car's radio goes silent before Home Assistant notices it left.
    sim.world.ble_set(stella.vin, in_range=False)
    before = meter_total(sim)
    await vehicle.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert link.memory.failures == 1
    assert meter_total(sim) == before
    assert vehicle.snapshot.state is VehicleState.ASLEEP
    await hass.config_entries.async_unload(entry.entry_id)
