"""The command router through Home Assistant: signed, REST, learned, refused, lost.

The simulator's cars take only signed commands and trust the test HA's app key unless a
test says otherwise; the door lock is the entity under test.
"""

from typing import Any

import aiohttp
from homeassistant.components.lock import SERVICE_LOCK, SERVICE_UNLOCK, LockState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.dispatcher import async_dispatcher_connect
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from tesla_protocol.command.universal_message_pb2 import Domain

from custom_components.tesla_resilient.api import CommandSigning
from custom_components.tesla_resilient.keys import async_get_app_key
from custom_components.tesla_resilient.router import (
    CommandRouter,
    signal_key_not_paired,
)
from tesla_sim import SimServer
from tesla_sim.configs import make_config
from tesla_sim.vehicles import Vehicle
from tests.ha_fixtures import TOTP_EMAIL, add_fault, sim_car
from tests.platform_helpers import (
    call_service,
    coordinator_of,
    entity_id,
    setup_account,
    state_of,
)
from tests.sim_fixtures import APP_KEY, approve_app_key
from tests.test_pairing import fleet_status_calls, partner_entry

DOORS = "vehicle_state_locked"


def sent(sim: SimServer) -> tuple[int, int]:
    """(signed, REST) command requests the simulator counted (one car commands)."""
    endpoints: dict[str, int] = sim.world.meter.as_dict()["endpoints"]
    signed = sum(n for path, n in endpoints.items() if path.endswith("/signed_command"))
    rest = sum(n for path, n in endpoints.items() if "/command/" in path)
    return signed, rest


def router_of(entry: MockConfigEntry, car: Vehicle) -> CommandRouter:
    """The command router of ``car``."""
    return coordinator_of(entry, car).commands.router


async def lock_and_unlock(hass: HomeAssistant, sim: SimServer, car: Vehicle) -> None:
    """Unlock, then lock the car's doors through the lock entity."""
    lock = entity_id(hass, Platform.LOCK, car, DOORS)
    await call_service(hass, SERVICE_UNLOCK, lock)
    assert sim_car(sim, car.display_name).locked is False
    await call_service(hass, SERVICE_LOCK, lock)
    assert sim_car(sim, car.display_name).locked is True


async def test_signed_cold_then_warm(hass: HomeAssistant, sim: SimServer) -> None:
    """A signing-required car: 2 requests on a cold session, 1 on the warm one."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    assert router_of(entry, car).mode is CommandSigning.REQUIRED
    assert (await async_get_app_key(hass)).public_bytes in car.whitelist
    lock = entity_id(hass, Platform.LOCK, car, DOORS)
    await call_service(hass, SERVICE_UNLOCK, lock)
    assert sent(sim) == (2, 0)
    await call_service(hass, SERVICE_LOCK, lock)
    assert sent(sim) == (3, 0)
    assert sim_car(sim, "Stella").locked


async def test_legacy_rest_car(hass: HomeAssistant, sim: SimServer) -> None:
    """A Model S built before 2021 (``command_signing`` off) gets plain REST."""
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    classic = sim.world.add_vehicle(account, make_config("Model S 2018"), "Classic")
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    assert router_of(entry, classic).mode is CommandSigning.OFF
    await lock_and_unlock(hass, sim, classic)
    assert sent(sim) == (0, 2)


async def test_protocol_required_is_learned_once(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """A car listed as REST-only answers 403 "protocol required": signed from then on."""
    account = sim.world.account_by_email(TOTP_EMAIL)
    assert account is not None
    classic = sim.world.add_vehicle(account, make_config("Model S 2018"), "Classic")
    approve_app_key(sim.world)
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    sim.world.vehicles[classic.vin].command_signing = "required"
    await lock_and_unlock(hass, sim, classic)
    # REST refused once; the session, the unlock; the lock on the warm session
    assert sent(sim) == (3, 1)
    router = router_of(entry, classic)
    assert router.signing_learned
    assert router.mode is CommandSigning.REQUIRED


@pytest.mark.sim(rest_commands=True)
async def test_allowed_car_signs_with_a_paired_key(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """A car that takes both, and knows our key: signed."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    assert router_of(entry, car).mode is CommandSigning.ALLOWED
    await lock_and_unlock(hass, sim, car)
    assert sent(sim) == (3, 0)


@pytest.mark.sim(rest_commands=True, app_key_approved=False)
async def test_allowed_car_without_our_key_takes_rest(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """A car that takes both but not our key: refused once (nothing done), then REST."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    await lock_and_unlock(hass, sim, car)
    assert sent(sim) == (1, 2)  # the refused session request, two REST commands
    router = router_of(entry, car)
    assert router.key_refused
    assert not router.signs()


@pytest.mark.sim(app_key_approved=False)
async def test_unpaired_car(hass: HomeAssistant, sim: SimServer) -> None:
    """The car does not know our key: the translated "pair the virtual key" error."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    told: list[str] = []

    @callback
    def tell(vehicle_id: str) -> None:
        told.append(vehicle_id)

    async_dispatcher_connect(hass, signal_key_not_paired(entry.entry_id), tell)
    lock = entity_id(hass, Platform.LOCK, car, DOORS)
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_UNLOCK, lock)
    assert err.value.translation_key == "key_not_paired"
    assert "Pair the virtual key" in str(err.value)
    assert told == [str(car.id)]
    assert sim_car(sim, "Stella").locked
    assert state_of(hass, lock).state == LockState.LOCKED
    # The owner approves the key: the next command goes.
    approve_app_key(sim.world, APP_KEY)
    await call_service(hass, SERVICE_UNLOCK, lock)
    assert not sim_car(sim, "Stella").locked
    assert not router_of(entry, car).key_refused


async def test_reboot_is_retried_once(hass: HomeAssistant, sim: SimServer) -> None:
    """After a reboot the old epoch is refused; one handshake, the command goes."""
    await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    lock = entity_id(hass, Platform.LOCK, car, DOORS)
    await call_service(hass, SERVICE_UNLOCK, lock)
    sim.world.reboot_vehicle(car.vin)
    await call_service(hass, SERVICE_LOCK, lock)
    assert sim_car(sim, "Stella").locked
    assert sent(sim) == (5, 0)  # session, unlock; refused, session, lock


async def _refused(hass: HomeAssistant, sim: SimServer, car: Vehicle) -> Any:
    """Unlock the car's doors, expecting a translated error; nothing may change."""
    lock = entity_id(hass, Platform.LOCK, car, DOORS)
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_UNLOCK, lock)
    assert sim_car(sim, car.display_name).locked
    assert state_of(hass, lock).state == LockState.LOCKED
    return err.value


async def test_tampering_refused(
    hass: HomeAssistant, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flipped tag byte, an epoch refused after the new handshake too: refused."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    vehicle = await router_of(entry, car)._signed_vehicle()
    sign = vehicle._commandHmac

    async def flipped(session: Any, command: bytes, attempt: int = 1) -> Any:
        message = await sign(session, command)
        tag = bytearray(message.signature_data.HMAC_Personalized_data.tag)
        tag[5] ^= 0x01
        message.signature_data.HMAC_Personalized_data.tag = bytes(tag)
        return message

    monkeypatch.setattr(vehicle, "_commandHmac", flipped)
    error = await _refused(hass, sim, car)
    assert error.translation_key == "command_failed"
    assert "signature" in error.translation_placeholders["reason"].lower()
    monkeypatch.undo()

    handshake = vehicle._handshake

    async def handshake_then_reboot(domain: Domain) -> bool:
        ready = await handshake(domain)
        sim.world.reboot_vehicle(car.vin)
        return ready

    monkeypatch.setattr(vehicle, "_handshake", handshake_then_reboot)
    before = sent(sim)
    sim.world.reboot_vehicle(car.vin)
    error = await _refused(hass, sim, car)
    assert error.translation_key == "command_failed"
    assert sent(sim)[0] == before[0] + 3  # refused, handshake, refused: no more


async def test_lost_answer_never_sent_again(
    hass: HomeAssistant, sim: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No answer after sending: "may have been carried out", and not sent again."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    lock = entity_id(hass, Platform.LOCK, car, DOORS)
    await call_service(hass, SERVICE_UNLOCK, lock)
    client = entry.runtime_data.client
    client._timeout = aiohttp.ClientTimeout(total=0.3)
    calls: list[bool] = []
    send = client.signed_command

    async def counted(vehicle_id: str, message: str, *, acts: bool = True) -> str:
        calls.append(acts)
        return await send(vehicle_id, message, acts=acts)

    monkeypatch.setattr(client, "signed_command", counted)
    add_fault(
        sim, "hang", 60, paths=[f"/api/1/vehicles/{car.id}/signed_command"]
    ).max_real_seconds = 1
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_LOCK, lock)
    assert err.value.translation_key == "command_outcome_unknown"
    assert "may have been carried out" in str(err.value)
    assert calls == [True]  # the command, once
    assert sent(sim)[1] == 0  # and not as REST either


async def test_refused_key_checks_the_pairing(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """An entry with a registered domain asks Tesla again when a car refuses our key."""
    await partner_entry(hass, sim)
    await hass.async_block_till_done(wait_background_tasks=True)
    checks = fleet_status_calls(sim)
    car = sim_car(sim, "Stella")
    car.whitelist.clear()
    error = await _refused(hass, sim, car)
    assert error.translation_key == "key_not_paired"
    await hass.async_block_till_done(wait_background_tasks=True)
    assert fleet_status_calls(sim) == checks + 1
