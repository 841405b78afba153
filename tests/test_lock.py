"""Locks against the simulator: doors and charge port latch."""

from homeassistant.components.lock import SERVICE_LOCK, SERVICE_UNLOCK, LockState
from homeassistant.const import EVENT_STATE_CHANGED, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.tesla_resilient.const import ProtectedAction
from custom_components.tesla_resilient.lock import CODE_FORMAT
from tesla_sim import SimServer
from tests.ha_fixtures import TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    call_service,
    commands_sent,
    coordinator_of,
    each_account,
    entity_id,
    otp_code,
    otp_options,
    refresh,
    setup_account,
    setup_and_snapshot,
    start_outage,
    state_of,
)

DOORS = "vehicle_state_locked"
LATCH = "charge_state_charge_port_latch"
FRUNK = "frunk_latch"
TRUNK = "trunk_latch"


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """Every car has a door lock and the latches of its charge port, frunk and trunk."""
    entry, entries = await setup_and_snapshot(hass, sim, email, Platform.LOCK, snapshot)
    assert len(entries) == 4 * len(entry.runtime_data.vehicles)


async def test_doors(hass: HomeAssistant, sim: SimServer) -> None:
    """Unlock and lock change the car; the lock shows unlocking/locking meanwhile."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    lock = entity_id(hass, Platform.LOCK, car, DOORS)
    assert state_of(hass, lock).state == LockState.LOCKED
    assert "code_format" not in state_of(hass, lock).attributes
    seen: list[str] = []

    @callback
    def record(event: Event) -> None:
        if event.data["entity_id"] == lock and event.data["new_state"] is not None:
            seen.append(event.data["new_state"].state)

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)

    await call_service(hass, SERVICE_UNLOCK, lock)
    assert sim_car(sim, "Stella").locked is False
    assert state_of(hass, lock).state == LockState.UNLOCKED
    assert seen[0] == LockState.UNLOCKING

    seen.clear()
    await call_service(hass, SERVICE_LOCK, lock)
    assert sim_car(sim, "Stella").locked is True
    assert state_of(hass, lock).state == LockState.LOCKED
    assert seen[0] == LockState.LOCKING

    # The confirming refresh agrees with the optimistic state.
    await refresh(hass, entry)
    assert state_of(hass, lock).state == LockState.LOCKED


async def test_freshness_attributes(hass: HomeAssistant, sim: SimServer) -> None:
    """Both locks tell where their state comes from and how old it is."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    locks = [entity_id(hass, Platform.LOCK, car, key) for key in (DOORS, LATCH)]
    as_of = coordinator_of(entry, car).last_update
    assert as_of is not None
    for lock in locks:
        attributes = state_of(hass, lock).attributes
        assert attributes["data_source"] == "cloud"
        assert attributes["data_as_of"] == as_of.isoformat()
    await start_outage(hass, sim, entry)
    for lock in locks:
        attributes = state_of(hass, lock).attributes
        assert attributes["data_source"] == "cache"
        assert attributes["data_as_of"] == as_of.isoformat()
        assert state_of(hass, lock).state == LockState.LOCKED


async def test_charge_port_latch(hass: HomeAssistant, sim: SimServer) -> None:
    """Unlocking the latch opens the port and releases a plugged cable."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Yara")
    car.plugged = True
    car.charging_state = "Stopped"
    car.charge_port_door_open = True
    await refresh(hass, entry)
    latch = entity_id(hass, Platform.LOCK, car, LATCH)
    assert state_of(hass, latch).state == LockState.LOCKED

    await call_service(hass, SERVICE_UNLOCK, latch)
    assert sim_car(sim, "Yara").charge_port_latch == "Disengaged"
    assert state_of(hass, latch).state == LockState.UNLOCKED

    # The car refuses to close the port over a cable: the reason reaches the user and
    # the lock leaves its transitional state.
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_LOCK, latch)
    assert err.value.translation_key == "command_failed"
    # VCSEC answers a generic error
    assert err.value.translation_placeholders == {"reason": "unknown"}
    assert state_of(hass, latch).state == LockState.UNLOCKED

    car = sim_car(sim, "Yara")
    car.plugged = False
    car.charge_port_latch = "Engaged"
    await call_service(hass, SERVICE_LOCK, latch)
    assert sim_car(sim, "Yara").charge_port_door_open is False


async def test_unlock_protected(hass: HomeAssistant, sim: SimServer) -> None:
    """With unlocking protected, unlock needs the authenticator code; lock does not."""
    entry = await setup_account(
        hass, sim, TOTP_EMAIL, options=otp_options(ProtectedAction.UNLOCK)
    )
    car = sim_car(sim, "Stella")
    lock = entity_id(hass, Platform.LOCK, car, DOORS)
    latch = entity_id(hass, Platform.LOCK, car, LATCH)
    assert state_of(hass, lock).attributes["code_format"] == CODE_FORMAT
    assert "code_format" not in state_of(hass, latch).attributes

    changes: list[Event] = []
    hass.bus.async_listen(EVENT_STATE_CHANGED, changes.append)

    sent = commands_sent(sim)
    with pytest.raises(ServiceValidationError) as err:
        await call_service(hass, SERVICE_UNLOCK, lock)
    assert err.value.translation_key == "enter_code_unlock"
    assert str(err.value) == "Enter your authenticator code to unlock"
    with pytest.raises(ServiceValidationError) as err:
        await call_service(hass, SERVICE_UNLOCK, lock, code="000000")
    assert err.value.translation_key in {"otp_code_invalid", "otp_code_reused"}
    assert commands_sent(sim) == sent
    assert sim_car(sim, "Stella").locked is True
    assert state_of(hass, lock).state == LockState.LOCKED
    # Refused before any transitional state: the lock never showed "unlocking".
    assert [e for e in changes if e.data["entity_id"] == lock] == []

    await call_service(hass, SERVICE_UNLOCK, lock, code=otp_code())
    assert sim_car(sim, "Stella").locked is False
    # Unlocked, the lock can only be locked: the dashboard asks for no code.
    assert "code_format" not in state_of(hass, lock).attributes
    await call_service(hass, SERVICE_LOCK, lock)
    assert state_of(hass, lock).attributes["code_format"] == CODE_FORMAT
    assert sim_car(sim, "Stella").locked is True
    assert commands_sent(sim) == sent + 3  # the VCSEC session, then two commands
    assert entry.runtime_data.guard is not None


async def test_frunk_and_trunk_latches(hass: HomeAssistant, sim: SimServer) -> None:
    """A dashboard opens a protected frunk or trunk with the code in the lock dialog.

    Unlocking a latch opens it (never toggling it shut); the powered trunk's latch
    locks it shut; the frunk closes by hand.
    """
    await setup_account(
        hass,
        sim,
        TOTP_EMAIL,
        options=otp_options(ProtectedAction.OPEN_FRUNK, ProtectedAction.OPEN_TRUNK),
    )
    car = sim_car(sim, "Stella")
    frunk = entity_id(hass, Platform.LOCK, car, FRUNK)
    trunk = entity_id(hass, Platform.LOCK, car, TRUNK)
    for latch in (frunk, trunk):
        assert state_of(hass, latch).state == LockState.LOCKED
        assert state_of(hass, latch).attributes["code_format"] == CODE_FORMAT
    sent = commands_sent(sim)
    with pytest.raises(ServiceValidationError) as err:
        await call_service(hass, SERVICE_UNLOCK, frunk)
    assert err.value.translation_key == "enter_code_open_frunk"
    assert str(err.value) == "Enter your authenticator code to open the frunk"
    assert commands_sent(sim) == sent

    await call_service(hass, SERVICE_UNLOCK, frunk, code=otp_code())
    assert sim_car(sim, "Stella").doors["ft"] == 1
    assert state_of(hass, frunk).state == LockState.UNLOCKED
    assert "code_format" not in state_of(hass, frunk).attributes
    sent = commands_sent(sim)
    await call_service(hass, SERVICE_UNLOCK, frunk)  # already open: nothing toggled
    with pytest.raises(ServiceValidationError) as err:
        await call_service(hass, SERVICE_LOCK, frunk)
    assert err.value.translation_key == "closes_by_hand"
    assert commands_sent(sim) == sent
    assert sim_car(sim, "Stella").doors["ft"] == 1

    await call_service(hass, SERVICE_LOCK, trunk)  # already shut: nothing toggled
    assert commands_sent(sim) == sent
    await call_service(hass, SERVICE_UNLOCK, trunk, code=otp_code(step=1))
    assert sim_car(sim, "Stella").doors["rt"] == 1
    await call_service(hass, SERVICE_LOCK, trunk)
    assert sim_car(sim, "Stella").doors["rt"] == 0
    assert state_of(hass, trunk).state == LockState.LOCKED
