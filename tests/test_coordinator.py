"""The vehicle coordinator against the simulator: polling decisions and commands."""

import asyncio
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pyotp
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.tesla_resilient import (
    binary_sensor,
    button,
    climate,
    cover,
    device_tracker,
    lock,
    number,
    select,
    sensor,
    switch,
    update,
)
from custom_components.tesla_resilient.account import ACCOUNT_REFRESH_INTERVAL
from custom_components.tesla_resilient.api import VehicleAsleep, VehicleState
from custom_components.tesla_resilient.const import (
    CONF_OTP_ACTIONS,
    CONF_OTP_SECRET,
    DOMAIN,
    LOCATION_ENTITIES,
    ProtectedAction,
)
from custom_components.tesla_resilient.coordinator import VehicleCoordinator
from custom_components.tesla_resilient.entity import model_name
from custom_components.tesla_resilient.errors import command_error, format_since
from custom_components.tesla_resilient.health import HealthState
from custom_components.tesla_resilient.snapshot import DataSource
from tesla_sim import SimServer
from tesla_sim.vehicles import Vehicle
from tests.ha_fixtures import (
    TOTP_EMAIL,
    add_fault,
    disable_location_entities,
    make_config_entry,
    setup_entry,
    sim_car,
)


def coordinator(entry: MockConfigEntry, car: Vehicle) -> VehicleCoordinator:
    """The coordinator of the simulator car ``car``."""
    return next(v for v in entry.runtime_data.vehicles.values() if v.vin == car.vin)


def requests(sim: SimServer, car: Vehicle, category: str) -> int:
    """Requests of ``category`` the simulator counted for ``car``."""
    return sim.world.meter.vehicle(car.vin).requests[category]


def command_path(car: Vehicle) -> str:
    """Path of the car's signed commands (its cars take only signed ones)."""
    return f"/api/1/vehicles/{car.id}/signed_command"


async def enter_outage(
    hass: HomeAssistant, entry: MockConfigEntry, sim: SimServer
) -> None:
    """Take the cloud down until the account's health reports an outage."""
    add_fault(sim, "outage", 3600)
    account = entry.runtime_data.account
    while account.health.state is not HealthState.OUTAGE:
        await account.async_refresh()
    await hass.async_block_till_done()


async def test_polling_first_data_includes_location(
    setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """The first fetch covers the car's configuration; location once a tracker asks."""
    vehicle = coordinator(setup_integration, sim_car(sim, "Stella"))
    data = vehicle.snapshot.data
    assert data is not None
    assert data.model == "models"
    assert data.latitude is not None
    assert "location_data" in vehicle.endpoints
    assert vehicle.snapshot.state is VehicleState.ONLINE


async def test_disabled_trackers_get_no_location(
    hass: HomeAssistant, config_entry: MockConfigEntry, sim: SimServer
) -> None:
    """With every entity that needs the location disabled, nothing asks for it."""
    cars = [sim_car(sim, name) for name in ("Stella", "Yara")]
    disable_location_entities(hass, *cars)
    await setup_entry(hass, config_entry)
    for car in cars:
        vehicle = coordinator(config_entry, car)
        assert vehicle.snapshot.data is not None
        assert vehicle.snapshot.data.latitude is None
        assert "location_data" not in vehicle.endpoints


def test_location_entities_match_the_tables() -> None:
    """LOCATION_ENTITIES names exactly the descriptions that ask for location_data."""
    tables = {
        "device_tracker": device_tracker.TRACKERS,
        "cover": cover.COVERS,
        "button": button.BUTTONS,
        "sensor": sensor.SENSORS,
        "binary_sensor": binary_sensor.BINARY_SENSORS,
        "switch": switch.SWITCHES,
        "select": select.SELECTS,
        "number": number.NUMBERS,
        "lock": lock.LOCKS,
        "climate": (climate.CLIMATE,),
        "update": (update.SOFTWARE_UPDATE,),
    }
    wanted = {
        (platform, description.key)
        for platform, table in tables.items()
        for description in table
        if "location_data" in description.endpoints
    }
    assert wanted == set(LOCATION_ENTITIES)


async def test_sleeping_car_is_not_polled_for_data(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A car found asleep keeps its values and is only sleep-checked afterwards."""
    car = sim_car(sim, "Yara")
    vehicle = coordinator(setup_integration, car)
    before = vehicle.snapshot.data
    car.set_activity("sleep", sim.world.now())

    await vehicle.async_refresh_now()  # vehicle_data answers 408: not woken
    assert vehicle.snapshot.state is VehicleState.ASLEEP
    assert vehicle.snapshot.data == before
    assert vehicle.data_source is DataSource.CLOUD
    assert sim_car(sim, "Yara").power == "asleep"

    data_requests = requests(sim, car, "data")
    checks = requests(sim, car, "check")
    await vehicle.async_refresh()
    assert requests(sim, car, "data") == data_requests
    assert requests(sim, car, "check") == checks + 1
    assert vehicle.update_interval is not None
    assert vehicle.update_interval.total_seconds() == pytest.approx(
        vehicle.settings.sleep_check_interval, abs=5
    )
    assert sim.world.meter.wakes_caused == 0


async def test_command_optimistic_then_confirmed(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
) -> None:
    """The new value shows at once; one vehicle_data confirms it confirm_delay later."""
    car = sim_car(sim, "Stella")
    vehicle = coordinator(setup_integration, car)
    assert car.locked
    fetched_at = vehicle.snapshot.fetched_at

    await vehicle.async_command(
        "door_unlock", optimistic={"vehicle_state_locked": False}
    )
    assert vehicle.snapshot.data is not None
    assert vehicle.snapshot.data.locked is False
    assert not sim_car(sim, "Stella").locked
    assert vehicle.memory.pending_confirm
    assert vehicle.update_interval == timedelta(seconds=vehicle.settings.confirm_delay)
    data_requests = requests(sim, car, "data")

    freezer.tick(timedelta(seconds=vehicle.settings.confirm_delay + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert requests(sim, car, "data") == data_requests + 1
    assert not vehicle.memory.pending_confirm
    assert vehicle.snapshot.fetched_at != fetched_at
    assert vehicle.snapshot.data.locked is False
    # the VCSEC session, then the command
    assert sim.world.meter.vehicle(car.vin).requests["command"] == 2


async def test_command_wakes_sleeping_car(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A sleeping car refuses the command (408): wake it, wait until online, resend."""
    car = sim_car(sim, "Yara")
    car.wake_seconds = 0.3
    vehicle = coordinator(setup_integration, car)
    vehicle.wake_check_interval = 0.2
    car.set_activity("sleep", sim.world.now())
    await vehicle.async_refresh_now()
    assert vehicle.snapshot.state is VehicleState.ASLEEP

    await vehicle.async_command("door_unlock")
    assert not sim_car(sim, "Yara").locked
    assert vehicle.snapshot.state is VehicleState.ONLINE
    assert sim.world.meter.vehicle(car.vin).wakes_caused == 1
    assert requests(sim, car, "wake") == 1
    # The first session request was refused with 408; then the session and the command.
    assert requests(sim, car, "command") == 3
    # Our own wake-up is not the owner's: no wake grace.
    assert vehicle.memory.woke_at is None


async def test_concurrent_commands_wake_sleeping_car_once(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Two commands at once to a sleeping car: one wake_up, then both are executed."""
    car = sim_car(sim, "Yara")
    car.wake_seconds = 0.3
    vehicle = coordinator(setup_integration, car)
    vehicle.wake_check_interval = 0.2
    car.set_activity("sleep", sim.world.now())
    await vehicle.async_refresh_now()
    assert vehicle.snapshot.state is VehicleState.ASLEEP

    await asyncio.gather(
        vehicle.async_command("door_unlock"), vehicle.async_command("flash_lights")
    )
    assert not sim_car(sim, "Yara").locked
    assert sim.world.meter.vehicle(car.vin).wakes_caused == 1
    assert requests(sim, car, "wake") == 1
    # The first command's session request was refused (408), then its session and
    # command; the second went to a woken car (its own domain's session, its command).
    assert requests(sim, car, "command") == 5


async def test_command_to_car_the_owner_woke(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Last seen asleep, woken by the owner since: the command goes without wake_up.

    The coordinator learns the car is online and treats it as woken by the owner.
    """
    car = sim_car(sim, "Yara")
    vehicle = coordinator(setup_integration, car)
    car.set_activity("sleep", sim.world.now())
    await vehicle.async_refresh_now()
    assert vehicle.snapshot.state is VehicleState.ASLEEP
    car.set_activity("wake", sim.world.now())

    await vehicle.async_command("door_unlock")
    assert not sim_car(sim, "Yara").locked
    assert requests(sim, car, "wake") == 0
    assert requests(sim, car, "command") == 2  # the session, then the command
    assert sim.world.meter.vehicle(car.vin).wakes_caused == 0
    assert vehicle.snapshot.state is VehicleState.ONLINE
    assert vehicle.memory.woke_at is not None
    assert vehicle.memory.woke_at == vehicle.memory.last_command
    assert vehicle.memory.pending_confirm


async def test_command_to_car_that_fell_asleep(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """The car fell asleep since the last poll (408 on the command): wake, send once."""
    car = sim_car(sim, "Yara")
    car.wake_seconds = 0.2
    vehicle = coordinator(setup_integration, car)
    vehicle.wake_check_interval = 0.2
    assert vehicle.snapshot.state is VehicleState.ONLINE
    car.set_activity("sleep", sim.world.now())

    await vehicle.async_command("flash_lights")
    assert sim.world.meter.vehicle(car.vin).wakes_caused == 1
    # The first session request was refused with 408; then the session and the command.
    assert requests(sim, car, "command") == 3
    assert sim.world.meter.vehicle(car.vin).billed["command"] == 3


async def test_car_does_not_wake(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Bounded wait: a car that stays asleep gives a clear error, no command sent."""
    car = sim_car(sim, "Yara")
    car.wake_seconds = 3600
    vehicle = coordinator(setup_integration, car)
    vehicle.wake_timeout = 0.4
    vehicle.wake_check_interval = 0.2
    car.set_activity("sleep", sim.world.now())
    await vehicle.async_refresh_now()

    with pytest.raises(HomeAssistantError) as err:
        await vehicle.async_command("door_unlock")
    assert err.value.translation_key == "vehicle_did_not_wake"
    # Only the first attempt, refused with 408; nothing executed.
    assert requests(sim, car, "command") == 1
    assert sim_car(sim, "Yara").locked


@pytest.mark.parametrize(
    "case",
    [
        (lambda car: None, "charge_stop", "command_failed", {"reason": "not_charging"}),
        (lambda car: car.whitelist.clear(), "door_lock", "key_not_paired", None),
    ],
)
async def test_command_errors_translated(
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
    case: tuple[Any, str, str, dict[str, str] | None],
) -> None:
    """Refusals by the car or by Tesla become translated errors."""
    setup, name, key, placeholders = case
    car = sim_car(sim, "Stella")
    setup(car)
    with pytest.raises(HomeAssistantError) as err:
        await coordinator(setup_integration, car).async_command(name)
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    assert err.value.translation_placeholders == placeholders


async def test_command_rate_limited(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """429 on a command: the user is told when to try again; no reauth."""
    car = sim_car(sim, "Stella")
    add_fault(sim, "rate_limit", 60, paths=[command_path(car)], retry_after=42)
    with pytest.raises(HomeAssistantError) as err:
        await coordinator(setup_integration, car).async_command("honk_horn")
    assert err.value.translation_key == "rate_limited"
    assert err.value.translation_placeholders == {"seconds": "42"}
    assert not list(setup_integration.async_get_active_flows(hass, {SOURCE_REAUTH}))


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(  # REST (an allowed car without our key): 400
            "command_error",
            marks=pytest.mark.sim(rest_commands=True, app_key_approved=False),
            id="rest",
        ),
        pytest.param("command_failed", id="signed"),  # the car's reason
    ],
)
async def test_command_bad_request(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer, key: str
) -> None:
    """A command Tesla rejects as invalid gives a translated error."""
    vehicle = coordinator(setup_integration, sim_car(sim, "Stella"))
    with pytest.raises(HomeAssistantError) as err:
        await vehicle.async_command("navigation_request", {"value": ""})
    assert err.value.translation_key == key


async def test_command_cloud_failure_not_retried(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A command lost to a cloud error is reported, counted, and never re-sent."""
    car = sim_car(sim, "Stella")
    vehicle = coordinator(setup_integration, car)
    add_fault(sim, "outage", 60, paths=[command_path(car)])
    with pytest.raises(HomeAssistantError) as err:
        await vehicle.async_command("door_unlock")
    assert err.value.translation_key == "cloud_unreachable"
    assert setup_integration.runtime_data.health.failures == 1
    assert requests(sim, car, "command") == 1
    sim.world.faults.clear()
    await vehicle.async_refresh_now()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert requests(sim, car, "command") == 1
    assert sim_car(sim, "Stella").locked


@pytest.mark.parametrize("kind", ["refuse", "malformed"])
async def test_command_outcome_unknown_not_retried(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer, kind: str
) -> None:
    """A command whose answer was lost may have been carried out: said so, never re-sent.

    A dropped connection or a cut-off answer after sending: the message asks to check
    the car (it does not claim the command was not sent); nothing sends it again.
    """
    car = sim_car(sim, "Stella")
    vehicle = coordinator(setup_integration, car)
    await vehicle.async_command("door_lock")  # a warm session: the command is sent
    sent = requests(sim, car, "command")
    add_fault(sim, kind, 60, paths=[command_path(car)])
    with pytest.raises(HomeAssistantError) as err:
        await vehicle.async_command("door_unlock")
    assert err.value.translation_key == "command_outcome_unknown"
    assert setup_integration.runtime_data.health.failures == 1
    sim.world.faults.clear()
    await vehicle.async_refresh_now()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert requests(sim, car, "command") == sent + 1


async def test_commands_fail_fast_during_outage(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
) -> None:
    """During an outage no command is sent, nothing queued; the error says since when.

    The owner's Refresh is the exception: it sends its one request, and says so.
    """
    entry = setup_integration
    car = sim_car(sim, "Stella")
    vehicle = coordinator(entry, car)
    await enter_outage(hass, entry, sim)
    assert not vehicle.cloud_connected
    assert vehicle.data_source is DataSource.CACHE
    sent = sim.world.meter.requests.copy()

    for call in (vehicle.async_command("door_unlock"), vehicle.async_wake()):
        with pytest.raises(HomeAssistantError) as err:
            await call
        assert err.value.translation_key == "cloud_unreachable"
        assert set(err.value.translation_placeholders or {}) == {"since"}
    # A scheduled poll during the outage sends nothing either.
    await vehicle.async_refresh()
    assert vehicle.update_interval is None
    assert sim.world.meter.requests == sent
    data_before = requests(sim, car, "data")
    with pytest.raises(HomeAssistantError) as err:
        await vehicle.async_refresh_now()
    assert err.value.translation_key == "refresh_unreachable"
    assert err.value.translation_placeholders == {
        "since": format_since(entry.runtime_data.health.outage_since)
    }
    assert requests(sim, car, "data") == data_before + 1
    assert vehicle.update_interval is None  # still the account's probes alone

    sim.world.faults.clear()
    account = entry.runtime_data.account
    # The circuit breaker holds the probe back until the backoff has passed.
    await account.async_refresh()
    assert not vehicle.cloud_connected
    freezer.tick(timedelta(seconds=account.health.retry_delay() + 1))
    await account.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert vehicle.cloud_connected
    assert vehicle.data_source is DataSource.CLOUD
    assert entry.runtime_data.account.update_interval == ACCOUNT_REFRESH_INTERVAL
    assert requests(sim, car, "command") == 0
    assert sim_car(sim, "Stella").locked


async def test_degraded_then_recovered(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """One failed poll: values stay, marked cache, retried after the backoff."""
    car = sim_car(sim, "Stella")
    vehicle = coordinator(setup_integration, car)
    data = vehicle.snapshot.data
    add_fault(sim, "outage", 60)
    with pytest.raises(HomeAssistantError, match="did not answer the refresh"):
        await vehicle.async_refresh_now()
    health = setup_integration.runtime_data.health
    assert health.state is HealthState.DEGRADED
    assert vehicle.snapshot.data == data
    assert vehicle.data_source is DataSource.CACHE
    assert not vehicle.cloud_connected  # the failure seen: degraded at once
    assert vehicle.update_interval is not None
    # Counted from the failure on the real clock: what is left of the backoff when the
    # interval was set (a loaded machine takes a little time in between).
    assert vehicle.update_interval.total_seconds() >= health.retry_delay() - 0.5
    sim.world.faults.clear()
    await vehicle.async_refresh_now()
    assert health.state is HealthState.OK
    assert vehicle.data_source is DataSource.CLOUD


async def test_cloud_connection_follows_outage_without_extra_poll(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    setup_integration: MockConfigEntry,
    sim: SimServer,
) -> None:
    """A failed poll turns the sensor off at once (degraded); the outage keeps it off.

    And on again as soon as the cloud answers, before the vehicles' own refreshes.
    """
    entry = setup_integration
    car = sim_car(sim, "Stella")
    vehicle = coordinator(entry, car)
    sensor = er.async_get(hass).async_get_entity_id(
        "binary_sensor", DOMAIN, f"{car.vin}-cloud_connection"
    )
    assert sensor is not None
    assert hass.states.get(sensor).state == "on"  # type: ignore[union-attr]
    # A failed poll: degraded, the snapshot is marked as cached, not connected.
    add_fault(sim, "outage", 3600)
    await vehicle.async_refresh()
    await hass.async_block_till_done()
    assert vehicle.data_source is DataSource.CACHE
    assert hass.states.get(sensor).state == "off"  # type: ignore[union-attr]
    # The account's probes recognise the outage; no vehicle polls in between.
    account = entry.runtime_data.account
    while not account.in_outage:
        await account.async_refresh()
    polled = requests(sim, car, "data") + requests(sim, car, "check")
    await hass.async_block_till_done()
    assert hass.states.get(sensor).state == "off"  # type: ignore[union-attr]
    assert requests(sim, car, "data") + requests(sim, car, "check") == polled

    # Recovery: the account's probe succeeds; the sensor is on before any refresh.
    sim.world.faults.clear()
    freezer.tick(timedelta(seconds=account.health.retry_delay() + 1))
    states: list[str] = []
    hass.bus.async_listen(
        "state_changed",
        lambda event: (
            states.append(event.data["new_state"].state)
            if event.data["entity_id"] == sensor
            else None
        ),
    )
    await account.async_refresh()
    assert hass.states.get(sensor).state == "on"  # type: ignore[union-attr]
    assert states == ["on"]
    await hass.async_block_till_done(wait_background_tasks=True)
    assert vehicle.data_source is DataSource.CLOUD


async def test_rate_limited_poll_waits(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A 429 on a poll holds every request back for Retry-After."""
    car = sim_car(sim, "Stella")
    vehicle = coordinator(setup_integration, car)
    add_fault(sim, "rate_limit", 120, retry_after=120)
    with pytest.raises(HomeAssistantError) as err:
        await vehicle.async_refresh_now()
    assert err.value.translation_key == "rate_limited"
    assert err.value.translation_placeholders == {"seconds": "120"}
    assert vehicle.update_interval is not None
    assert vehicle.update_interval.total_seconds() >= 100
    sent = sim.world.meter.requests.copy()
    # Held back: no request until Retry-After has passed, not even the owner's.
    with pytest.raises(HomeAssistantError) as err:
        await vehicle.async_refresh_now()
    assert err.value.translation_key == "rate_limited"
    await vehicle.async_refresh()
    await setup_integration.runtime_data.account.async_refresh()
    assert sim.world.meter.requests == sent
    assert vehicle.snapshot.data is not None


async def test_auth_failure_while_polling_starts_reauth(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Tokens revoked while running: reauth; entities keep their last known state."""
    entry = setup_integration
    vehicle = coordinator(entry, sim_car(sim, "Stella"))
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    sim.world.tokens.revoke(account)
    await vehicle.async_refresh_now()
    await hass.async_block_till_done()
    assert list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))
    assert vehicle.snapshot.data is not None
    with pytest.raises(HomeAssistantError) as err:
        await vehicle.async_command("honk_horn")
    assert err.value.translation_key == "auth_failed"


async def test_account_auth_failure_starts_reauth(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """The vehicle list refused with revoked tokens: reauth."""
    entry = setup_integration
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    sim.world.tokens.revoke(account)
    await entry.runtime_data.account.async_refresh()
    await hass.async_block_till_done()
    assert list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


async def test_wake_auth_failure(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Waking with revoked tokens: translated error and reauth."""
    entry = setup_integration
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    sim.world.tokens.revoke(account)
    with pytest.raises(HomeAssistantError) as err:
        await coordinator(entry, sim_car(sim, "Stella")).async_wake()
    assert err.value.translation_key == "auth_failed"
    assert list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


async def test_wake_cloud_failure(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """wake_up lost to the cloud: translated error, health counts the failure."""
    car = sim_car(sim, "Stella")
    add_fault(sim, "outage", 60, paths=[f"/api/1/vehicles/{car.id}/wake_up"])
    with pytest.raises(HomeAssistantError) as err:
        await coordinator(setup_integration, car).async_wake()
    assert err.value.translation_key == "cloud_unreachable"
    assert setup_integration.runtime_data.health.failures == 1


async def test_other_api_errors_keep_values(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """An error that is neither an outage nor auth (412): values kept, retried later."""
    entry = setup_integration
    vehicle = coordinator(entry, sim_car(sim, "Stella"))
    data = vehicle.snapshot.data
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    account.registered = False
    await vehicle.async_refresh_now()
    await entry.runtime_data.account.async_refresh()
    assert vehicle.snapshot.data == data
    assert entry.runtime_data.health.state is HealthState.OK
    assert vehicle.update_interval == timedelta(seconds=vehicle.settings.idle_interval)


async def test_vehicle_gone_from_account(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A 404 for a car triggers a vehicle list refresh that removes it."""
    entry = setup_integration
    car = sim_car(sim, "Yara")
    vehicle = coordinator(entry, car)
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    account.vins.remove(car.vin)
    await vehicle.async_refresh_now()
    await hass.async_block_till_done(wait_background_tasks=True)
    assert vehicle.vehicle_id not in entry.runtime_data.vehicles
    assert (
        dr.async_get(hass).async_get_device_by_identifier(
            (DOMAIN, car.vin), entry.entry_id
        )
        is None
    )


async def test_software_update_updates_device(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A new firmware version shows on the device after the next fetch."""
    entry = setup_integration
    car = sim_car(sim, "Stella")
    car.car_version = "2025.2.6 abcdef"
    car.display_name = "Stella Nova"
    await coordinator(entry, car).async_refresh_now()
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, car.vin), entry.entry_id
    )
    assert device is not None
    assert device.sw_version == "2025.2.6"
    assert device.name == "Stella Nova"
    assert coordinator(entry, car).snapshot.display_name == "Stella Nova"


async def test_sleep_check_notices_wake(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A sleeping car woken by its owner is noticed by a sleep check and fetched."""
    car = sim_car(sim, "Yara")
    vehicle = coordinator(setup_integration, car)
    car.set_activity("sleep", sim.world.now())
    await vehicle.async_refresh_now()
    fetched_at = vehicle.snapshot.fetched_at
    car.set_activity("drive", sim.world.now())
    data_requests = requests(sim, car, "data")
    await vehicle.async_refresh()
    assert vehicle.snapshot.state is VehicleState.ONLINE
    assert requests(sim, car, "data") == data_requests + 1
    assert vehicle.snapshot.fetched_at != fetched_at
    assert vehicle.snapshot.data is not None
    assert vehicle.snapshot.data.is_driving
    assert vehicle.update_interval is not None
    assert vehicle.update_interval.total_seconds() == pytest.approx(
        vehicle.settings.driving_interval, abs=5
    )


async def test_protected_unlock_needs_code(hass: HomeAssistant, sim: SimServer) -> None:
    """With authenticator protection, unlocking needs the current code."""
    secret = pyotp.random_base32()
    await setup_entry(
        hass,
        await make_config_entry(
            sim,
            TOTP_EMAIL,
            options={
                CONF_OTP_SECRET: secret,
                CONF_OTP_ACTIONS: [ProtectedAction.UNLOCK.value],
            },
        ),
    )
    car = sim_car(sim, "Stella")
    lock_id = er.async_get(hass).async_get_entity_id(
        "lock", DOMAIN, f"{car.vin}-vehicle_state_locked"
    )
    assert lock_id is not None
    for code, key in ((None, "enter_code_unlock"), ("000000", "otp_code_invalid")):
        data = {"entity_id": lock_id} | ({"code": code} if code else {})
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call("lock", "unlock", data, blocking=True)
        assert err.value.translation_key == key
        assert sim_car(sim, "Stella").locked
    assert requests(sim, car, "command") == 0
    await hass.services.async_call(
        "lock",
        "unlock",
        {"entity_id": lock_id, "code": pyotp.TOTP(secret).now()},
        blocking=True,
    )
    assert not sim_car(sim, "Stella").locked
    # Locking is never protected.
    await hass.services.async_call(
        "lock", "lock", {"entity_id": lock_id}, blocking=True
    )
    assert sim_car(sim, "Stella").locked


async def test_command_without_scope(hass: HomeAssistant, sim: SimServer) -> None:
    """Tokens without the command scope: Tesla answers 403, a translated error."""
    entry = await setup_entry(
        hass,
        await make_config_entry(
            sim,
            TOTP_EMAIL,
            scope="openid email offline_access vehicle_device_data vehicle_location",
        ),
    )
    with pytest.raises(HomeAssistantError) as err:
        await coordinator(entry, sim_car(sim, "Stella")).async_command("honk_horn")
    assert err.value.translation_key == "command_forbidden"


async def test_command_to_removed_car(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A command to a car that left the account (404): a translated error."""
    car = sim_car(sim, "Yara")
    vehicle = coordinator(setup_integration, car)
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    account.vins.remove(car.vin)
    with pytest.raises(HomeAssistantError) as err:
        await vehicle.async_command("honk_horn")
    assert err.value.translation_key == "vehicle_not_found"


def test_model_names_and_times() -> None:
    """Model codes map to names (unknown ones pass through); no time reads as '-'."""
    assert model_name("models2") == "Model S"
    assert model_name("cybertruck") == "Cybertruck"
    assert model_name("roadster") == "roadster"
    assert model_name(None) is None
    assert format_since(None) == "-"
    assert format_since(0.0) != "-"
    # Still asleep after waking: the command was not delivered.
    assert command_error(VehicleAsleep(), since=None).translation_key == (
        "vehicle_did_not_wake"
    )
