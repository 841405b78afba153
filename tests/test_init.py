"""Set-up and unload of a config entry against the simulator.

Covers the normal set-up (devices, runtime data, the store written on unload), set-up
from the last known state during an outage, ``ConfigEntryNotReady`` without stored data,
reauthentication, token rotation, stale and new vehicles, and options changes.
"""

from datetime import timedelta
import json
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pyotp
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.tesla_resilient import async_remove_config_entry_device
from custom_components.tesla_resilient.api import VehicleState
from custom_components.tesla_resilient.const import (
    CONF_OTP_ACTIONS,
    CONF_OTP_SECRET,
    CONF_TOKEN,
    DOMAIN,
    ProtectedAction,
)
from custom_components.tesla_resilient.errors import format_since
from custom_components.tesla_resilient.health import HealthState
from custom_components.tesla_resilient.lock import CODE_FORMAT
from custom_components.tesla_resilient.otp import (
    MAX_FAILURES,
    OtpCodeReused,
    OtpError,
    OtpLockedOut,
)
from custom_components.tesla_resilient.snapshot import DataSource
from custom_components.tesla_resilient.store import LastKnownStore
from tesla_sim import SimServer
from tesla_sim.vehicles import make_config
from tests.ha_fixtures import TOTP_EMAIL, add_fault, setup_entry, sim_car
from tests.platform_helpers import OTP_SECRET, otp_code, otp_options, setup_account


def entity_states(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """State of every entity of ``entry``, by unique id."""
    registry = er.async_get(hass)
    states = {}
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        state = hass.states.get(entity.entity_id)
        if state is not None:
            states[entity.unique_id] = state.state
    return states


def reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    """Reauth flows in progress for ``entry``."""
    return list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


async def test_setup_and_unload(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
    hass_storage: dict[str, Any],
) -> None:
    """Both cars get a device and fresh data; unloading writes the last known state."""
    entry = setup_integration
    data = entry.runtime_data
    stella, yara = sim_car(sim, "Stella"), sim_car(sim, "Yara")
    assert {v.vin for v in data.vehicles.values()} == {stella.vin, yara.vin}
    for vehicle in data.vehicles.values():
        assert vehicle.snapshot.data is not None
        assert vehicle.data_source is DataSource.CLOUD
        assert vehicle.cloud_connected
        assert vehicle.last_update is not None
        assert vehicle.update_interval is not None

    devices = {
        device.serial_number: device
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
    }
    assert devices[stella.vin].model == "Model S"
    assert devices[stella.vin].name == "Stella"
    assert devices[yara.vin].model == "Model Y"
    assert devices[yara.vin].manufacturer == "Tesla"
    assert devices[yara.vin].sw_version == yara.car_version.split()[0]
    assert devices[yara.vin].identifiers == {(DOMAIN, yara.vin)}
    states = entity_states(hass, entry)
    assert states
    assert STATE_UNAVAILABLE not in states.values()

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]["vehicles"]
    assert set(stored) == set(data.vehicles)


async def test_setup_needs_no_sleep_check(
    freezer: FrozenDateTimeFactory, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Set-up costs one request per online car: its vehicle_data, location included.

    The vehicle list gives each car's state (no sleep check), and the first fetch already
    asks for the location the enabled trackers need (no second fetch when they register).
    The clock is frozen so that a slow machine cannot make a poll fall due during set-up.
    """
    for name in ("Stella", "Yara"):
        car = sim_car(sim, name)
        requests = sim.world.meter.vehicle(car.vin).requests
        assert requests["check"] == 0
        assert requests["data"] == 1
    for vehicle in setup_integration.runtime_data.vehicles.values():
        assert vehicle.snapshot.state is VehicleState.ONLINE
        assert vehicle.snapshot.data is not None


async def test_not_ready_without_stored_state(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """Cloud down at the first start and nothing stored: Home Assistant retries later."""
    add_fault(sim, "outage", 3600)
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert not reauth_flows(hass, config_entry)


async def test_rate_limited_setup_says_so(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """A 429 at the first start is a rate limit with its wait, not "unreachable"."""
    add_fault(sim, "rate_limit", 3600, retry_after=90)
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert config_entry.error_reason_translation_key == "setup_rate_limited"
    assert config_entry.error_reason_translation_placeholders == {"seconds": "90"}


async def test_setup_from_store_during_outage(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Restart during an outage: every entity back with its last known value."""
    entry = setup_integration
    before = entity_states(hass, entry)
    vehicle_ids = set(entry.runtime_data.vehicles)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    add_fault(sim, "outage", 3600)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert set(entry.runtime_data.vehicles) == vehicle_ids
    for vehicle in entry.runtime_data.vehicles.values():
        assert vehicle.data_source is DataSource.CACHE
        assert vehicle.snapshot.data is not None
    after = entity_states(hass, entry)
    assert set(after) == set(before)
    changed = {key for key in after if after[key] != before[key]}
    # Only the data source and the connection say the cloud failed at set-up.
    assert {key.rsplit("-", 1)[1] for key in changed} <= {
        "data_source",
        "cloud_connection",
    }
    assert {after[key] for key in changed} <= {DataSource.CACHE.value, STATE_OFF}
    assert not reauth_flows(hass, entry)


async def test_setup_failed_not_ready(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """An account the Fleet API does not know in its region (412): retried later."""
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    account.registered = False
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_revoked_tokens_start_reauth(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """Tokens Tesla no longer accepts (401, then invalid grant): reauthentication."""
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    sim.world.tokens.revoke(account)
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert reauth_flows(hass, config_entry)


async def test_unreadable_tokens_start_reauth(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """An entry whose token dict is broken asks for a new sign-in."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, data={**config_entry.data, CONF_TOKEN: {"access_token": "x"}}
    )
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert reauth_flows(hass, config_entry)


async def test_token_rotation_persisted(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """An access token about to expire is refreshed and the new tokens are saved."""
    old = dict(config_entry.data[CONF_TOKEN])
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        data={**config_entry.data, CONF_TOKEN: {**old, "expires_at": time.time() + 10}},
    )
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    saved = config_entry.data[CONF_TOKEN]
    assert saved["refresh_token"] != old["refresh_token"]
    assert saved["access_token"] != old["access_token"]
    assert saved["expires_at"] > time.time() + 3600
    assert (
        config_entry.runtime_data.tokens.tokens.refresh_token == saved["refresh_token"]
    )


async def test_expired_token_during_outage_no_reauth(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """An expired access token cannot be refreshed in an outage: retry, no reauth."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry,
        data={
            **config_entry.data,
            CONF_TOKEN: {**config_entry.data[CONF_TOKEN], "expires_at": 1000.0},
        },
    )
    add_fault(sim, "outage", 3600)
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert not reauth_flows(hass, config_entry)


async def test_stale_device_removed_at_setup(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """A device of a vehicle that left the account before a restart is removed."""
    config_entry.add_to_hass(hass)
    registry = dr.async_get(hass)
    gone = registry.async_get_or_create(
        config_entry_id=config_entry.entry_id,
        identifiers={(DOMAIN, "5YJSA7E20GF000000")},
        name="Sold car",
    )
    await setup_entry(hass, config_entry)
    assert registry.async_get(gone.id) is None


async def test_vehicle_removed_and_added_without_reload(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
    hass_storage: dict[str, Any],
) -> None:
    """A car sold and another bought: devices follow the account, no reload."""
    entry = setup_integration
    data = entry.runtime_data
    registry = dr.async_get(hass)
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    yara = sim_car(sim, "Yara")
    yara_device = registry.async_get_device_by_identifier(
        (DOMAIN, yara.vin), entry.entry_id
    )
    assert yara_device is not None
    yara_entities = er.async_entries_for_device(er.async_get(hass), yara_device.id)
    assert yara_entities
    stella_device = registry.async_get_device_by_identifier(
        (DOMAIN, sim_car(sim, "Stella").vin), entry.entry_id
    )
    assert stella_device is not None
    # A car on the account cannot be removed by the user.
    assert not await async_remove_config_entry_device(hass, entry, stella_device)

    account.vins.remove(yara.vin)
    new_car = sim.world.add_vehicle(account, make_config("Model 3"), "Newbie")
    await data.account.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is data
    assert registry.async_get(yara_device.id) is None
    assert hass.states.get(yara_entities[0].entity_id) is None
    assert yara.vin not in {v.vin for v in data.vehicles.values()}
    await data.store.async_flush()
    saved = await LastKnownStore(hass, entry.entry_id).async_load()
    assert all(s.vin != yara.vin for s in saved.values())

    new_device = registry.async_get_device_by_identifier(
        (DOMAIN, new_car.vin), entry.entry_id
    )
    assert new_device is not None
    assert new_device.model == "Model 3"
    assert new_device.name == "Newbie"
    new_entities = er.async_entries_for_device(er.async_get(hass), new_device.id)
    assert new_entities
    assert all(
        hass.states.get(e.entity_id).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
        for e in new_entities
        if not e.disabled
    )
    # A device of a car no longer on the account may be removed by the user.
    orphan = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, yara.vin)},
    )
    assert await async_remove_config_entry_device(hass, entry, orphan)


async def test_new_asleep_vehicle_added_when_data_arrives(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A new car that sleeps gets its device and connection entities at once, the
    others once it has data."""
    entry = setup_integration
    data = entry.runtime_data
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    car = sim.world.add_vehicle(account, make_config("Model 3"), "Sleepy")
    car.set_activity("sleep", sim.world.now())
    await data.account.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    registry = dr.async_get(hass)
    device = registry.async_get_device_by_identifier((DOMAIN, car.vin), entry.entry_id)
    assert device is not None
    assert device.name == "Sleepy"
    assert device.model is None
    assert len(er.async_entries_for_device(er.async_get(hass), device.id)) == 6
    vehicle = next(v for v in data.vehicles.values() if v.vin == car.vin)
    assert vehicle.snapshot.state is VehicleState.ASLEEP
    assert vehicle.snapshot.data is None
    # Its state came with the vehicle list: no sleep check, no vehicle_data yet.
    assert sim.world.meter.vehicle(car.vin).requests["check"] == 0
    assert sim.world.meter.vehicle(car.vin).requests["data"] == 0

    car.set_activity("wake", sim.world.now())
    await vehicle.async_refresh()
    await hass.async_block_till_done()
    device = registry.async_get_device_by_identifier((DOMAIN, car.vin), entry.entry_id)
    assert device is not None
    assert device.model == "Model 3"
    assert len(er.async_entries_for_device(er.async_get(hass), device.id)) > 6


async def test_options_change_updates_guard(
    hass: HomeAssistant, setup_integration: MockConfigEntry
) -> None:
    """Turning on authenticator protection takes effect without a reload."""
    entry = setup_integration
    assert entry.runtime_data.guard is None
    assert all(
        "code_format" not in state.attributes for state in hass.states.async_all("lock")
    )
    hass.config_entries.async_update_entry(
        entry,
        options={
            CONF_OTP_SECRET: "JBSWY3DPEHPK3PXP",
            CONF_OTP_ACTIONS: [ProtectedAction.UNLOCK.value],
        },
    )
    await hass.async_block_till_done()
    guard = entry.runtime_data.guard
    assert guard is not None
    assert guard.is_protected(ProtectedAction.UNLOCK)
    # The door locks ask for the code at once, without waiting for a poll.
    registry = er.async_get(hass)
    for vehicle in entry.runtime_data.vehicles.values():
        lock = registry.async_get_entity_id(
            "lock", DOMAIN, f"{vehicle.vin}-vehicle_state_locked"
        )
        assert lock is not None
        state = hass.states.get(lock)
        assert state is not None
        assert state.attributes["code_format"] == CODE_FORMAT
    # A data-only update (token rotation) keeps the same guard.
    hass.config_entries.async_update_entry(entry, data={**entry.data})
    hass.config_entries.async_update_entry(entry, data={**entry.data, "region": "eu"})
    await hass.async_block_till_done()
    assert entry.runtime_data.guard is guard
    assert entry.state is ConfigEntryState.LOADED


async def test_reload_and_restart_keep_the_authenticator_lockout(
    hass: HomeAssistant, hass_storage: dict[str, Any], sim: SimServer
) -> None:
    """A reload or a restart resets neither the lock-out nor the replay protection.

    On disk: the guard's state without its secret or any code.
    """
    secret = OTP_SECRET
    entry = await setup_account(
        hass, sim, TOTP_EMAIL, options=otp_options(ProtectedAction.UNLOCK)
    )
    used = otp_code()
    guard = entry.runtime_data.guard
    assert guard is not None
    guard.verify(ProtectedAction.UNLOCK, used)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    guard = entry.runtime_data.guard
    assert guard is not None
    with pytest.raises(OtpCodeReused):
        guard.verify(ProtectedAction.UNLOCK, used)
    valid = {pyotp.TOTP(secret).at(time.time() + 30 * step) for step in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
    for _ in range(MAX_FAILURES):
        with pytest.raises(OtpError):
            guard.verify(ProtectedAction.UNLOCK, wrong)
    locked_until = guard.locked_until()
    assert locked_until is not None

    # A restart: unloaded (its store written), set up again from disk.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    saved = json.dumps(hass_storage[f"{DOMAIN}.{entry.entry_id}"])
    assert secret not in saved
    assert f'"{used}"' not in saved
    await setup_entry(hass, entry)
    guard = entry.runtime_data.guard
    assert guard is not None
    assert guard.locked_until() == locked_until
    with pytest.raises(OtpLockedOut):
        guard.verify(ProtectedAction.UNLOCK, pyotp.TOTP(secret).now())


async def test_region_change_persisted(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """421 (account in another region): the new API base URL is saved."""
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    account.region = "eu"
    await setup_entry(hass, config_entry)
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.data["api_base_url"] == sim.world.region_base_url("eu")
    assert len(config_entry.runtime_data.vehicles) == 2


async def test_store_forgets_car_removed_while_stopped(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
    hass_storage: dict[str, Any],
) -> None:
    """A car sold while Home Assistant was stopped: its stored state is dropped."""
    entry = setup_integration
    yara = sim_car(sim, "Yara")
    assert await hass.config_entries.async_unload(entry.entry_id)
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    account.vins.remove(yara.vin)
    await setup_entry(hass, entry)
    assert [v.vin for v in entry.runtime_data.vehicles.values()] == [
        sim_car(sim, "Stella").vin
    ]
    await entry.runtime_data.store.async_flush()
    saved = await LastKnownStore(hass, entry.entry_id).async_load()
    assert all(s.vin != yara.vin for s in saved.values())
    assert await hass.config_entries.async_unload(entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]["vehicles"]
    assert len(stored) == 1


async def test_removing_entry_deletes_store(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Deleting the account also deletes its saved last known state."""
    entry = setup_integration
    key = f"{DOMAIN}.{entry.entry_id}"
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert key in hass_storage
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


def cloud_connection_states(hass: HomeAssistant, entry: MockConfigEntry) -> set[str]:
    """States of the entry's ``binary_sensor.*_cloud_connection`` entities."""
    registry = er.async_get(hass)
    states = set()
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if entity.unique_id.endswith("-cloud_connection"):
            assert entity.entity_id.startswith("binary_sensor.")
            state = hass.states.get(entity.entity_id)
            assert state is not None
            states.add(state.state)
    return states


async def test_restart_mid_outage_resumes_it(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The outage's start is saved with the last known state and resumed at set-up."""
    entry = setup_integration
    key = f"{DOMAIN}.{entry.entry_id}"
    add_fault(sim, "outage", 3600)
    account = entry.runtime_data.account
    for _ in range(3):  # outage_after failed vehicle-list requests
        await account.async_refresh()
    health = entry.runtime_data.health
    assert health.state is HealthState.OUTAGE
    since = health.outage_since
    assert since is not None
    await entry.runtime_data.store.async_flush()
    assert entry.runtime_data.store.saved_outage_since == since
    assert cloud_connection_states(hass, entry) == {STATE_OFF}

    freezer.tick(timedelta(minutes=15))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, account.issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {
        "since": format_since(since),
        "account": entry.title,
    }
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass_storage[key]["data"]["outage_since"] == since

    # The new instance: the outage (and its start) right after set-up.
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    health = entry.runtime_data.health
    assert health is not account.health
    assert health.state is HealthState.OUTAGE
    assert health.outage_since == since
    assert cloud_connection_states(hass, entry) == {STATE_OFF}
    for vehicle in entry.runtime_data.vehicles.values():
        assert not vehicle.cloud_connected
        assert vehicle.data_source is DataSource.CACHE
        assert vehicle.update_interval is None  # only the account probes
    account = entry.runtime_data.account
    issue = ir.async_get(hass).async_get_issue(DOMAIN, account.issue_id)
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["since"] == format_since(since)

    # The cloud is back: everything clears as before, the saved outage too.
    sim.world.faults.clear()
    freezer.tick(timedelta(seconds=health.max_delay + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not account.in_outage
    assert health.failures == 0
    assert cloud_connection_states(hass, entry) == {STATE_ON}
    assert ir.async_get(hass).async_get_issue(DOMAIN, account.issue_id) is None
    for vehicle in entry.runtime_data.vehicles.values():
        assert vehicle.data_source is DataSource.CLOUD
    await entry.runtime_data.store.async_flush()
    assert entry.runtime_data.store.saved_outage_since is None
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass_storage[key]["data"]["outage_since"] is None


async def test_restart_without_saved_outage_keeps_counting(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Cloud down at a restart but no outage saved: the cloud health counts afresh."""
    entry = setup_integration
    assert entry.runtime_data.store.saved_outage_since is None
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    add_fault(sim, "outage", 3600)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.health.state is HealthState.DEGRADED
    # The failure seen at set-up: not connected, though no outage yet.
    assert cloud_connection_states(hass, entry) == {STATE_OFF}
