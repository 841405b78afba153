"""Signed commands end to end: tesla-fleet-api's ``VehicleSigned`` against the simulator.

The library builds sessions and signs commands as it does against Tesla; the simulated
car (``tesla_sim.vcp``) verifies them and runs the REST command handlers. The cars of
these tests require command signing.
"""

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric import ec
import pytest
from tesla_fleet_api import TeslaFleetApi
from tesla_fleet_api.exceptions import (
    Forbidden,
    NotOnWhitelistFault,
    TeslaFleetMessageFaultBadParameter,
    TeslaFleetMessageFaultDecoding,
    TeslaFleetMessageFaultIncorrectEpoch,
    TeslaFleetMessageFaultInvalidSignature,
    TeslaFleetMessageFaultInvalidTokenOrCounter,
    TeslaFleetMessageFaultRemoteAccessDisabled,
    TeslaFleetMessageFaultTimeExpired,
    TeslaFleetMessageFaultUnknownKeyId,
)
from tesla_fleet_api.tesla.vehicle.signed import VehicleSigned
from tesla_protocol.command.universal_message_pb2 import (
    Destination,
    Domain,
    MessageFault_E,
    RoutableMessage,
    SessionInfoRequest,
)
from tesla_protocol.command.vcsec_pb2 import RKEAction_E, UnsignedMessage

from tesla_sim import SimServer, World
from tesla_sim.vcp.tags import public_bytes
from tesla_sim.vehicles import Vehicle
from tests.test_sim_fleet import car_of

pytestmark = pytest.mark.sim(rest_commands=False)

SIGNED = "POST /api/1/vehicles/{vehicle_id}/signed_command"
VCSEC = Domain.DOMAIN_VEHICLE_SECURITY
INFOTAINMENT = Domain.DOMAIN_INFOTAINMENT
OK = {"response": {"result": True, "reason": ""}}


@dataclass
class Signed:
    """A signed-command client for one car, and that car in the simulator."""

    sim: SimServer
    car: Vehicle
    http: aiohttp.ClientSession
    token: str
    vehicle: VehicleSigned[Any]

    @property
    def world(self) -> World:
        return self.sim.world

    def client(self, key: ec.EllipticCurvePrivateKey) -> VehicleSigned[Any]:
        """Another ``VehicleSigned`` for the car, signing with ``key``."""
        api = TeslaFleetApi(self.http, access_token=self.token, server=self.sim.url)
        api.private_key = key
        return VehicleSigned(api, self.car.vin)

    def requests(self) -> int:
        """``signed_command`` requests so far."""
        count: int = self.world.meter.as_dict()["endpoints"].get(SIGNED, 0)
        return count

    async def raw(self, message: RoutableMessage) -> RoutableMessage:
        """Send ``message`` and return the car's reply, unchecked."""
        encoded = base64.b64encode(message.SerializeToString()).decode()
        reply = await self.vehicle.signed_command(encoded)
        return RoutableMessage.FromString(base64.b64decode(reply["response"]))

    async def signed(self, domain: int, payload: bytes) -> RoutableMessage:
        """A command signed by the library on a ready session (not sent)."""
        session = self.vehicle._sessions[domain]
        if not session.ready:
            await self.vehicle._handshake(domain)
        return await self.vehicle._commandHmac(session, payload)

    async def send(self, message: RoutableMessage) -> RoutableMessage:
        """Send a signed message through the library's checks (faults raise)."""
        return await self.vehicle._send(message, "protobuf_message_as_bytes")


@pytest.fixture
async def signed(sim_virtual: SimServer) -> AsyncIterator[Signed]:
    """The no-MFA account's car, with a fresh app key approved on it."""
    car = car_of(sim_virtual, "nomfa@example.com")
    key = ec.generate_private_key(ec.SECP256R1())
    sim_virtual.world.approve_virtual_key(car.vin, public_bytes(key))
    tokens = await sim_virtual.issue_tokens("nomfa@example.com")
    async with aiohttp.ClientSession() as http:
        helper = Signed(sim_virtual, car, http, tokens["access_token"], None)  # type: ignore[arg-type]
        helper.vehicle = helper.client(key)
        yield helper


UNLOCK = UnsignedMessage(RKEAction=RKEAction_E.RKE_ACTION_UNLOCK).SerializeToString()


async def test_vcsec_closures_and_meter(signed: Signed) -> None:
    """Locks, trunks and the charge port through VCSEC; cold session 2 requests, warm 1."""
    car, vehicle = signed.car, signed.vehicle
    assert car.requires_command_signing
    assert await vehicle.door_unlock() == OK
    assert not car.locked
    assert signed.requests() == 2  # session info + command
    assert await vehicle.door_lock() == OK
    assert car.locked
    assert signed.requests() == 3  # warm: the command only
    await vehicle.actuate_trunk("front")
    await vehicle.actuate_trunk("rear")
    assert (car.doors["ft"], car.doors["rt"]) == (1, 1)
    await vehicle.charge_port_door_open()
    assert car.charge_port_door_open
    await vehicle.charge_port_door_close()
    assert not car.charge_port_door_open
    await vehicle.remote_start_drive()
    assert car.remote_start_until > signed.world.now()
    assert signed.requests() == 8
    # the rear trunk of this car has no powered liftgate: it does not close remotely
    assert await vehicle.actuate_trunk("rear") == {
        "response": {"result": False, "reason": "GENERICERROR_NOT_SUPPORTED"}
    }
    assert car.doors["rt"] == 1
    reply = await vehicle.auto_secure_vehicle()
    assert reply["response"]["result"] is False


async def test_infotainment_commands(signed: Signed) -> None:
    """Every command the integration sends, through infotainment, changes the car."""
    car, vehicle, world = signed.car, signed.vehicle, signed.world
    car.config = replace(car.config, homelink=True, sunroof=True)
    car.set_activity("charge", world.now())
    car.charge_limit = 90
    await vehicle.charge_stop()
    assert car.charging_state == "Stopped"
    assert signed.requests() == 2
    await vehicle.charge_start()
    assert car.charging_state == "Charging"
    await vehicle.set_charge_limit(85)
    await vehicle.set_charging_amps(12)
    assert (car.charge_limit, car.charge_current_request) == (85, 12)
    await vehicle.auto_conditioning_start()
    assert car.climate_on
    await vehicle.set_temps(22.5, 21.0)
    assert (car.driver_temp, car.passenger_temp) == (22.5, 21.0)
    await vehicle.remote_seat_heater_request(1, 3)
    assert car.seat_heaters[1] == 3
    await vehicle.remote_steering_wheel_heat_level_request(1)
    assert car.steering_wheel_heat_level == 1
    await vehicle.remote_steering_wheel_heater_request(True)
    assert car.steering_wheel_heat_level == 3
    await vehicle.set_sentry_mode(True)
    assert car.sentry_mode
    await vehicle.set_valet_mode(True, "1234")
    assert (car.valet_mode, car.valet_pin) == (True, "1234")
    await vehicle.window_control("vent")
    assert set(car.windows.values()) == {1}
    await vehicle.sun_roof_control("vent")
    assert car.sun_roof_state == "vent"
    await vehicle.honk_horn()
    await vehicle.flash_lights()
    assert (car.horn_honks, car.light_flashes) == (1, 1)
    await vehicle.trigger_homelink(lat=car.latitude, lon=car.longitude)
    assert car.homelink_triggers == 1
    await vehicle.schedule_software_update(60)
    assert car.update_status == "scheduled"
    await vehicle.navigation_request("1 Infinite Loop")
    assert car.destination == "1 Infinite Loop"
    await vehicle.media_toggle_playback()
    assert car.media_playing
    await vehicle.remote_boombox(0)
    assert car.boombox_sounds == 1
    await vehicle.auto_conditioning_stop()
    assert not car.climate_on
    assert signed.requests() == 22


async def test_results_carry_the_reason(signed: Signed) -> None:
    """A refused action answers the handler's reason; an unknown one ``unsupported``."""
    vehicle = signed.vehicle
    assert await vehicle.charge_start() == {
        "response": {"result": False, "reason": "disconnected"}
    }
    reply = await vehicle.set_vehicle_name("Sparkly")
    assert reply["response"] == {"result": False, "reason": "unsupported"}
    reply = await vehicle.remote_steering_wheel_heater_request(True)
    assert reply["response"]["reason"] == "cabin comfort remote settings not enabled"


async def test_key_not_on_whitelist(signed: Signed) -> None:
    """An unpaired key: VCSEC says KEY_NOT_ON_WHITELIST, infotainment UNKNOWN_KEY_ID."""
    stranger = signed.client(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(NotOnWhitelistFault):
        await stranger.door_unlock()
    with pytest.raises(TeslaFleetMessageFaultUnknownKeyId):
        await stranger.charge_start()
    # a key removed after its handshake: its commands are refused
    message = await signed.signed(VCSEC, UNLOCK)
    signed.car.whitelist.clear()
    with pytest.raises(TeslaFleetMessageFaultUnknownKeyId):
        await signed.send(message)
    assert signed.car.locked


async def test_flipped_tag_byte(signed: Signed) -> None:
    message = await signed.signed(VCSEC, UNLOCK)
    tag = bytearray(message.signature_data.HMAC_Personalized_data.tag)
    tag[5] ^= 0x01
    message.signature_data.HMAC_Personalized_data.tag = bytes(tag)
    with pytest.raises(TeslaFleetMessageFaultInvalidSignature):
        await signed.send(message)
    assert signed.car.locked


async def test_expired(signed: Signed) -> None:
    """A command behind the car's clock is refused; the piggy-backed info resyncs."""
    await signed.vehicle.handshakeVehicleSecurity()
    signed.world.advance(60)
    with pytest.raises(TeslaFleetMessageFaultTimeExpired):
        await signed.vehicle.door_unlock()
    assert signed.car.locked
    before = signed.requests()
    assert await signed.vehicle.door_unlock() == OK
    assert signed.requests() == before + 1


async def test_replayed_counter(signed: Signed) -> None:
    """A counter used before is refused (INVALID_TOKEN_OR_COUNTER), in both domains."""
    first = await signed.signed(VCSEC, UNLOCK)
    await signed.send(first)
    signed.car.locked = True
    with pytest.raises(TeslaFleetMessageFaultInvalidTokenOrCounter):
        await signed.send(first)
    assert signed.car.locked
    # VCSEC takes counters in order only; infotainment accepts a late one once
    older, newer = [await signed.signed(VCSEC, UNLOCK) for _ in range(2)]
    older_info, newer_info = [
        await signed.signed(INFOTAINMENT, bytes.fromhex("120452020801"))
        for _ in range(2)
    ]
    await signed.send(newer)
    with pytest.raises(TeslaFleetMessageFaultInvalidTokenOrCounter):
        await signed.send(older)
    await signed.send(newer_info)
    signed.car.climate_on = False
    await signed.send(older_info)
    assert signed.car.climate_on
    with pytest.raises(TeslaFleetMessageFaultInvalidTokenOrCounter):
        await signed.send(older_info)


async def test_old_epoch_after_reboot(signed: Signed) -> None:
    """After a reboot the old epoch is refused; the library resyncs and retries once."""
    message = await signed.signed(VCSEC, UNLOCK)
    signed.world.reboot_vehicle(signed.car.vin)
    with pytest.raises(TeslaFleetMessageFaultIncorrectEpoch):
        await signed.send(message)
    assert signed.car.locked
    signed.world.reboot_vehicle(signed.car.vin)
    before = signed.requests()
    assert await signed.vehicle.door_unlock() == OK
    assert signed.requests() == before + 2  # INCORRECT_EPOCH with session info, retry
    assert not signed.car.locked


async def test_remote_access_disabled(signed: Signed) -> None:
    signed.car.remote_access = False
    with pytest.raises(TeslaFleetMessageFaultRemoteAccessDisabled):
        await signed.vehicle.door_unlock()
    assert signed.car.locked


async def test_other_refusals(signed: Signed) -> None:
    """Another domain, a bad key point, a payload that does not parse, AES-GCM."""
    request = RoutableMessage(
        to_destination=Destination(domain=Domain.DOMAIN_AUTOPILOT),
        session_info_request=SessionInfoRequest(public_key=b"\x04" + bytes(64)),
    )
    reply = await signed.raw(request)
    assert reply.signedMessageStatus.signed_message_fault == (
        MessageFault_E.MESSAGEFAULT_ERROR_INVALID_DOMAINS
    )
    request.to_destination.domain = VCSEC
    reply = await signed.raw(request)
    assert reply.signedMessageStatus.signed_message_fault == (
        MessageFault_E.MESSAGEFAULT_ERROR_BAD_PARAMETER
    )
    with pytest.raises(TeslaFleetMessageFaultDecoding):
        await signed.send(await signed.signed(VCSEC, b"\xff\xff"))
    signed.vehicle._auth_method = "aes"  # type: ignore[misc]
    with pytest.raises(TeslaFleetMessageFaultBadParameter):
        await signed.vehicle.door_unlock()
    assert signed.car.locked


async def test_scopes(signed: Signed) -> None:
    """A charging-only token may charge but not unlock (the Fleet API answers 403)."""
    tokens = await signed.sim.issue_tokens(
        "nomfa@example.com", scope="openid vehicle_charging_cmds"
    )
    signed.token = tokens["access_token"]
    key = signed.vehicle.private_key
    assert key is not None
    charging_only = signed.client(key)
    with pytest.raises(Forbidden):
        await charging_only.door_unlock()
    assert signed.car.locked
    assert await charging_only.charge_port_door_open() == OK
    assert signed.car.charge_port_door_open


async def test_control_reboot_and_remote_access(signed: Signed) -> None:
    """``POST /__sim__/vehicles/{vin}/reboot`` and the ``remote_access`` switch."""
    world, vin = signed.world, signed.car.vin
    keys = world.vcp_keys(signed.car)
    epochs = {d: k.epoch for d, k in keys.domains.items()}
    base = f"{signed.sim.url}/__sim__/vehicles"
    async with signed.http.post(f"{base}/{vin}/reboot", json={"domain": "vcsec"}) as r:
        assert (r.status, await r.json()) == (200, {"rebooted": ["vcsec"]})
    assert keys.domains[VCSEC].epoch != epochs[VCSEC]
    assert keys.domains[INFOTAINMENT].epoch == epochs[INFOTAINMENT]
    async with signed.http.post(f"{base}/{vin}/reboot") as r:
        assert (await r.json())["rebooted"] == ["vcsec", "infotainment"]
    assert keys.domains[INFOTAINMENT].epoch != epochs[INFOTAINMENT]
    async with signed.http.post(f"{base}/{vin}/reboot", json={"domain": "x"}) as r:
        assert r.status == 400
    async with signed.http.post(f"{base}/{vin}/reboot", json=[]) as r:
        assert r.status == 400
    async with signed.http.post(f"{base}/NOPE/reboot") as r:
        assert r.status == 404
    async with signed.http.post(f"{base}/{vin}", json={"remote_access": False}) as r:
        assert r.status == 200
    assert not signed.car.remote_access
