"""Signed commands (api/protocol.py) against the simulator's signing-required cars.

The client's ``signed_command`` carries every message; the simulated car verifies it
(``tesla_sim.vcp``). The simulator runs on a virtual clock, so a command can expire.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ec
import pytest
from tesla_fleet_api.exceptions import (
    SignedCommandResponseReplayed,
    TeslaFleetMessageFaultInvalidSignature,
)
from tesla_protocol.command.universal_message_pb2 import Domain

from custom_components.tesla_resilient.api import (
    CloudUnavailable,
    CommandFailed,
    CommandOutcomeUnknown,
    KeyNotPaired,
    MalformedResponse,
    TeslaAuth,
    TeslaFleetClient,
    TokenManager,
    Tokens,
)
from custom_components.tesla_resilient.api.library import mapped
from custom_components.tesla_resilient.api.protocol import (
    SIGNED_COMMANDS,
    SignedVehicle,
)
from tesla_sim import SimServer, World
from tesla_sim.apps import DEV_CLIENT_ID
from tesla_sim.vehicles import Vehicle
from tests.sim_fixtures import APP_KEY
from tests.test_sim_fleet import car_of

SIGNED = "POST /api/1/vehicles/{vehicle_id}/signed_command"


@dataclass
class Signing:
    """Our client and a signed vehicle for the no-MFA account's Model 3."""

    sim: SimServer
    session: aiohttp.ClientSession
    client: TeslaFleetClient
    car: Vehicle
    vehicle: SignedVehicle

    @property
    def world(self) -> World:
        return self.sim.world

    def requests(self) -> int:
        """``signed_command`` requests so far."""
        count: int = self.world.meter.as_dict()["endpoints"].get(SIGNED, 0)
        return count

    def signer(self, key: ec.EllipticCurvePrivateKey) -> SignedVehicle:
        """Another signed vehicle for the car, with ``key``."""
        return SignedVehicle(self.client, str(self.car.id), self.car.vin, key)

    def fault(self, kind: str, **spec: Any) -> None:
        """A fault on the car's signed commands, from now on."""
        body = {"kind": kind, "paths": [f"/api/1/vehicles/{self.car.id}"], **spec}
        self.world.faults.add(self.world.faults.parse(body, self.world.now()))


@pytest.fixture
async def signing(sim_virtual: SimServer) -> AsyncIterator[Signing]:
    """A client of the no-MFA account and its car, which trusts :data:`APP_KEY`."""
    body = await sim_virtual.issue_tokens("nomfa@example.com")
    tokens = Tokens.from_token_response(body, sim_virtual.world.now())
    async with aiohttp.ClientSession() as session:

        async def persist(new: Tokens) -> None:
            """Nothing to keep."""

        manager = TokenManager(
            TeslaAuth(session, auth_base=sim_virtual.url, client_id=DEV_CLIENT_ID),
            tokens,
            on_new_tokens=persist,
            clock=sim_virtual.world.now,
        )
        client = TeslaFleetClient(session, manager, base_url=sim_virtual.url)
        car = car_of(sim_virtual, "nomfa@example.com")
        vehicle = SignedVehicle(client, str(car.id), car.vin, APP_KEY)
        yield Signing(sim_virtual, session, client, car, vehicle)


async def test_meter_cold_and_warm_sessions(signing: Signing) -> None:
    """A cold session costs 2 requests (session info + command), a warm one 1."""
    vehicle, car = signing.vehicle, signing.car
    assert car.requires_command_signing
    await vehicle.send("door_unlock")
    assert not car.locked
    assert signing.requests() == 2
    await vehicle.send("door_lock")
    assert car.locked
    assert signing.requests() == 3
    await vehicle.send("flash_lights")  # the infotainment domain: its own session
    assert signing.requests() == 5
    await vehicle.send("honk_horn")
    assert signing.requests() == 6
    assert (car.light_flashes, car.horn_honks) == (1, 1)


async def test_parameters_follow_the_table(signing: Signing) -> None:
    """REST parameters become the library's arguments (renamed, completed, unwrapped)."""
    vehicle, car = signing.vehicle, signing.car
    car.config = replace(car.config, rear_seat_heaters=True)
    await vehicle.send("auto_conditioning_start")  # seat heat wants the climate on
    await vehicle.send("remote_seat_heater_request", {"heater": 2, "level": 3})
    assert car.seat_heaters[2] == 3
    await vehicle.send("set_preconditioning_max", {"on": True})
    assert car.defrost
    await vehicle.send("set_scheduled_charging", {"enable": False})
    assert (car.scheduled_charging_enabled, car.scheduled_charging_time) == (False, 0)
    await vehicle.send(
        "navigation_request",
        {
            "type": "share_ext_content_raw",
            "value": {"android.intent.extra.TEXT": "Home"},
        },
    )
    assert car.destination == "Home"
    await vehicle.send("actuate_trunk", {"which_trunk": "front"})
    assert car.doors["ft"] == 1
    with pytest.raises(ValueError, match="No signed form"):
        await vehicle.send("erase_user_data")
    assert {"door_unlock", "set_temps", "window_control"} <= set(SIGNED_COMMANDS)


async def test_refusal_carries_the_reason(signing: Signing) -> None:
    """The car's refusal: CommandFailed with its reason (VCSEC's generic error named)."""
    with pytest.raises(CommandFailed) as err:
        await signing.vehicle.send("charge_start")
    assert err.value.reason == "disconnected"
    await signing.vehicle.send("actuate_trunk", {"which_trunk": "rear"})
    with pytest.raises(CommandFailed) as err:  # no powered liftgate: it stays open
        await signing.vehicle.send("actuate_trunk", {"which_trunk": "rear"})
    assert err.value.reason == "not_supported"
    signing.car.remote_access = False
    with pytest.raises(CommandFailed) as err:
        await signing.vehicle.send("door_unlock")
    assert err.value.reason == "The vehicle owner has disabled Mobile access"
    assert signing.car.locked


async def test_unknown_key(signing: Signing) -> None:
    """A key the car does not trust: KeyNotPaired from either domain, nothing done."""
    stranger = signing.signer(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(KeyNotPaired):
        await stranger.send("door_unlock")
    with pytest.raises(KeyNotPaired):
        await stranger.send("flash_lights")
    # Removed after the handshake: the car no longer knows the key id.
    await signing.vehicle.send("honk_horn")
    signing.car.whitelist.clear()
    with pytest.raises(KeyNotPaired):
        await signing.vehicle.send("door_unlock")
    with pytest.raises(KeyNotPaired):
        await signing.vehicle.send("flash_lights")
    assert signing.car.locked
    assert signing.car.light_flashes == 0


async def test_expired_session_one_handshake_one_retry(signing: Signing) -> None:
    """Behind the car's clock: refused, a new handshake, sent once more."""
    await signing.vehicle.send("honk_horn")
    signing.world.advance(60)
    before = signing.requests()
    await signing.vehicle.send("flash_lights")
    assert signing.car.light_flashes == 1
    assert signing.requests() == before + 3  # refused, handshake, the command again


async def test_old_epoch_after_reboot(signing: Signing) -> None:
    """A reboot changes the epoch: refused once, then sent on the new session."""
    await signing.vehicle.send("door_lock")
    signing.world.reboot_vehicle(signing.car.vin)
    before = signing.requests()
    await signing.vehicle.send("door_unlock")
    assert not signing.car.locked
    assert signing.requests() == before + 3


async def test_never_more_than_one_retry(
    signing: Signing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session refused again after the new handshake: failed, nothing sent again.

    The library would re-send after an epoch fault by itself; it does not here.
    """
    vehicle, world, vin = signing.vehicle, signing.world, signing.car.vin
    await vehicle.send("door_lock")
    handshake = vehicle._handshake

    async def handshake_then_reboot(domain: Domain) -> bool:
        ready = await handshake(domain)
        world.reboot_vehicle(vin)
        return ready

    monkeypatch.setattr(vehicle, "_handshake", handshake_then_reboot)
    world.reboot_vehicle(vin)
    before = signing.requests()
    with pytest.raises(CommandFailed) as err:
        await vehicle.send("door_unlock")
    assert "session" in err.value.reason.lower()
    assert signing.requests() == before + 3
    assert signing.car.locked


async def test_replayed_counter_refused(signing: Signing) -> None:
    """A counter the car has seen: refused, then accepted on a new session."""
    vehicle = signing.vehicle
    await vehicle.send("door_lock")
    vehicle._sessions[Domain.DOMAIN_VEHICLE_SECURITY].counter -= 1
    before = signing.requests()
    await vehicle.send("door_unlock")
    assert not signing.car.locked
    assert signing.requests() == before + 3


async def test_lost_answer_is_an_unknown_outcome(signing: Signing) -> None:
    """No answer after a command was sent: CommandOutcomeUnknown; a session: unavailable."""
    signing.client._timeout = aiohttp.ClientTimeout(total=0.2)
    signing.fault("hang", max_real_seconds=1)
    with pytest.raises(CloudUnavailable) as err:  # the session request
        await signing.vehicle.send("door_unlock")
    assert not isinstance(err.value, CommandOutcomeUnknown)
    signing.world.faults.clear()
    await signing.vehicle.send("door_lock")
    signing.fault("hang", max_real_seconds=1)
    with pytest.raises(CommandOutcomeUnknown):
        await signing.vehicle.send("door_unlock")


async def test_garbled_answers(
    signing: Signing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer that is no message: a command's outcome is unknown, a session's bad."""
    answers = iter(["not base64!", '"a string"'])

    async def garbled(vehicle_id: str, message: str, *, acts: bool = True) -> str:
        return next(answers)

    monkeypatch.setattr(signing.client, "signed_command", garbled)
    with pytest.raises(MalformedResponse):
        await signing.vehicle.send("door_unlock")
    signing.vehicle._sessions[Domain.DOMAIN_VEHICLE_SECURITY].epoch = b"e"
    signing.vehicle._sessions[Domain.DOMAIN_VEHICLE_SECURITY].hmac = b"k"
    signing.vehicle._sessions[Domain.DOMAIN_VEHICLE_SECURITY].delta = 0
    with pytest.raises(CommandOutcomeUnknown):
        await signing.vehicle.send("door_unlock")


async def test_client_signed_command_failures(
    signing: Signing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client: a refused connection is no unknown outcome; a cut-off answer is."""
    client = signing.client
    signing.fault("malformed")
    with pytest.raises(CommandOutcomeUnknown):
        await client.signed_command(str(signing.car.id), "AAAA")
    with pytest.raises(MalformedResponse):
        await client.signed_command(str(signing.car.id), "AAAA", acts=False)
    signing.world.faults.clear()

    async def not_a_string(*args: Any, **kwargs: Any) -> Any:
        return {"result": True}

    monkeypatch.setattr(client, "_call", not_a_string)
    with pytest.raises(CommandOutcomeUnknown):
        await client.signed_command(str(signing.car.id), "AAAA")
    monkeypatch.undo()
    client.base_url = "http://127.0.0.1:1"
    with pytest.raises(CloudUnavailable) as err:
        await client.signed_command(str(signing.car.id), "AAAA")
    assert not isinstance(err.value, CommandOutcomeUnknown)


def test_library_errorsmapped() -> None:
    """A replayed answer leaves the outcome unknown; other refusals fail the command."""
    assert isinstance(mapped(SignedCommandResponseReplayed()), CommandOutcomeUnknown)
    failed = mapped(TeslaFleetMessageFaultInvalidSignature())
    assert isinstance(failed, CommandFailed)
    assert "signature" in failed.reason.lower()
