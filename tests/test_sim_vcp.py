"""The car side of the Vehicle Command Protocol: protocol.md's worked example, the verifier.

The fixed answers (keys, VIN, expected bytes) are those of Tesla's ``pkg/protocol/
protocol.md`` in the vehicle-command repository; the code under test is ours.
"""

import hashlib
import hmac

from cryptography.hazmat.primitives.serialization import load_pem_private_key
import pytest
from tesla_protocol.command.car_server_pb2 import Action, Response
from tesla_protocol.command.signatures_pb2 import (
    HMAC_Personalized_Signature_Data,
    KeyIdentity,
    SessionInfo,
    SignatureData,
)
from tesla_protocol.command.universal_message_pb2 import (
    Destination,
    Domain,
    MessageFault_E,
    OperationStatus_E,
    RoutableMessage,
    SessionInfoRequest,
)

from tesla_sim import World
from tesla_sim.vcp import BadMessage, answer, parse
from tesla_sim.vcp.sessions import INFOTAINMENT, VCSEC, Counter, DomainKeys
from tesla_sim.vcp.tags import (
    COMMAND_LABEL,
    SESSION_INFO_LABEL,
    command_metadata,
    derived_key,
    metadata,
    public_bytes,
    session_info_metadata,
    session_info_tag,
    shared_key,
    uint32,
)
from tesla_sim.vehicles import Vehicle

VEHICLE_KEY = b"""-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIDRO5bRmp88e6xK29QMx2y5exYNO9fS+/P2MvlXCUo1woAoGCCqGSM49
AwEHoUQDQgAEx6H0cThIaqRymXFJSHjTOxok45Vx90im4WxZVbPYd9OmqqDpVRZk
dK9dMsQQ9DmiI0E3rRuwhf1OiBPJWPEdlw==
-----END EC PRIVATE KEY-----
"""
VEHICLE_PUBLIC = bytes.fromhex(
    "04c7a1f47138486aa4729971494878d33b1a24e39571f748a6e16c5955b3d877d3"
    "a6aaa0e955166474af5d32c410f439a2234137ad1bb085fd4e8813c958f11d97"
)
CLIENT_PUBLIC = bytes.fromhex(
    "04b2b6bc68c2da0665ce656815594996c62394edd8bea905fe781a754fe6a845a7"
    "14330902f225e9269d466e05b349981fda9d85cc23c6fb444aa73b629105dc6e"
)
VIN = "5YJ30123456789ABC"
K = bytes.fromhex("1b2fce19967b79db696f909cff89ea9a")
SESSION_INFO_KEY = bytes.fromhex(
    "fceb679ee7bca756fcd441bf238bf2f338629b41d9eb9c67be1b32c9672ce300"
)
ROUTING_ADDRESS = bytes.fromhex("2c907bd76c640d360b3027dc7404efde")
REQUEST_UUID = bytes.fromhex("1588d5a30eabc6f8fc9a951b11f6fd11")
EPOCH = bytes.fromhex("4c463f9cc0d3d26906e982ed224adde6")
SESSION_INFO = bytes.fromhex(
    "0806124104c7a1f47138486aa4729971494878d33b1a24e39571f748a6e16c5955b3d877d3"
    "a6aaa0e955166474af5d32c410f439a2234137ad1bb085fd4e8813c958f11d971a10"
    "4c463f9cc0d3d26906e982ed224adde6255a0a0000"
)
SESSION_INFO_TAG = bytes.fromhex(
    "996c1fe38331be138f8039c194b14db2198846ed7d8251e6749284d7b32ea002"
)
SESSION_INFO_METADATA = bytes.fromhex(
    "000106021135594a333031323334353637383941424306101588d5a30eabc6f8fc9a951b11f6fd11ff"
)
HVAC_ON = bytes.fromhex("120452020801")
"""``Action{vehicleAction{hvacAutoAction{power_on: true}}}``."""
COMMAND_METADATA_GCM = bytes.fromhex(
    "000105010103021135594a333031323334353637383941424303104c463f9cc0d3d26906e982ed224adde6"
    "040400000a5f050400000007070400000002ff"
)
NOW = 1_800_000_000.0
CLOCK = 2650


def test_metadata_serialization_examples() -> None:
    """protocol.md's TLV examples: VIN "abc", COUNTER 100, and both together."""
    assert metadata([(2, b"abc")]) == bytes.fromhex("0203616263ff")
    assert metadata([(5, uint32(100))]) == bytes.fromhex("050400000064ff")
    assert metadata([(5, uint32(100)), (2, b"abc")]) == bytes.fromhex(
        "0203616263050400000064FF"
    )
    with pytest.raises(ValueError, match="too long"):
        metadata([(2, bytes(256))])


def test_worked_example_keys_and_session_info_tag() -> None:
    """K, the session-info key, the metadata and the session info tag of protocol.md."""
    vehicle = load_pem_private_key(VEHICLE_KEY, None)
    assert public_bytes(vehicle) == VEHICLE_PUBLIC  # type: ignore[arg-type]
    assert shared_key(vehicle, CLIENT_PUBLIC) == K  # type: ignore[arg-type]
    assert derived_key(K, SESSION_INFO_LABEL) == SESSION_INFO_KEY
    assert session_info_metadata(VIN, REQUEST_UUID) == SESSION_INFO_METADATA
    assert session_info_tag(K, VIN, REQUEST_UUID, SESSION_INFO) == SESSION_INFO_TAG
    info = SessionInfo.FromString(SESSION_INFO)
    assert (info.counter, info.publicKey, info.epoch, info.clock_time) == (
        6,
        VEHICLE_PUBLIC,
        EPOCH,
        CLOCK,
    )


def test_worked_example_command_metadata() -> None:
    """The "turn HVAC on" metadata: the GCM table's bytes, and ours for HMAC."""
    items = [
        (0, bytes((5,))),
        (1, bytes((Domain.DOMAIN_INFOTAINMENT,))),
        (2, VIN.encode()),
        (3, EPOCH),
        (4, uint32(2655)),
        (5, uint32(7)),
        (7, uint32(2)),
    ]
    assert metadata(reversed(items)) == COMMAND_METADATA_GCM
    hmac_metadata = command_metadata(
        domain=Domain.DOMAIN_INFOTAINMENT,
        vin=VIN,
        epoch=EPOCH,
        expires_at=2655,
        counter=7,
        flags=2,
    )
    # the same bytes but the signature type: HMAC_PERSONALIZED (8) instead of 5
    assert (
        hmac_metadata == COMMAND_METADATA_GCM[:2] + b"\x08" + COMMAND_METADATA_GCM[3:]
    )
    assert Action.FromString(HVAC_ON).vehicleAction.hvacAutoAction.power_on


@pytest.fixture
def example() -> tuple[World, Vehicle]:
    """A world whose first car is protocol.md's: its VIN, key, epoch, clock and counter."""
    world = World(virtual_clock=True, start_time=NOW)
    car = world.vehicles[next(iter(world.vehicles))]
    car.vin = VIN
    car.whitelist[CLIENT_PUBLIC] = "owner"
    vehicle = load_pem_private_key(VEHICLE_KEY, None)
    domain = DomainKeys(
        domain=INFOTAINMENT,
        private_key=vehicle,  # type: ignore[arg-type]
        epoch=EPOCH,
        started_at=NOW - CLOCK,
    )
    domain.counter(CLIENT_PUBLIC).highest = 6
    world.vcp_keys(car).domains[INFOTAINMENT] = domain
    return world, car


def _handshake_request() -> RoutableMessage:
    return RoutableMessage(
        to_destination=Destination(domain=Domain.DOMAIN_INFOTAINMENT),
        from_destination=Destination(routing_address=ROUTING_ADDRESS),
        session_info_request=SessionInfoRequest(public_key=CLIENT_PUBLIC),
        uuid=REQUEST_UUID,
    )


def test_worked_example_handshake(example: tuple[World, Vehicle]) -> None:
    """The car answers protocol.md's handshake request with its exact response."""
    world, car = example
    raw = _handshake_request().SerializeToString()
    reply = answer(world.vcp_keys(car), car, parse(raw), world.now(), ())
    assert reply.to_destination.routing_address == ROUTING_ADDRESS
    assert reply.from_destination.domain == Domain.DOMAIN_INFOTAINMENT
    assert reply.session_info == SESSION_INFO
    assert reply.signature_data.session_info_tag.tag == SESSION_INFO_TAG
    assert reply.request_uuid == REQUEST_UUID


def _hvac_on(
    counter: int = 7, expires_at: int = 2655, tag: bytes = b""
) -> RoutableMessage:
    """protocol.md's "turn HVAC on", HMAC-signed with its K (flags 2, as the example)."""
    meta = command_metadata(
        domain=Domain.DOMAIN_INFOTAINMENT,
        vin=VIN,
        epoch=EPOCH,
        expires_at=expires_at,
        counter=counter,
        flags=2,
    )
    key = derived_key(K, COMMAND_LABEL)
    return RoutableMessage(
        to_destination=Destination(domain=Domain.DOMAIN_INFOTAINMENT),
        from_destination=Destination(routing_address=ROUTING_ADDRESS),
        protobuf_message_as_bytes=HVAC_ON,
        signature_data=SignatureData(
            signer_identity=KeyIdentity(public_key=CLIENT_PUBLIC),
            HMAC_Personalized_data=HMAC_Personalized_Signature_Data(
                epoch=EPOCH,
                counter=counter,
                expires_at=expires_at,
                tag=tag or hmac.new(key, meta + HVAC_ON, hashlib.sha256).digest(),
            ),
        ),
        flags=2,
        uuid=bytes.fromhex("58406580528b6a5301391800b4fe9b99"),
    )


def test_worked_example_command(example: tuple[World, Vehicle]) -> None:
    """The HVAC command signed with protocol.md's K turns the climate on, once."""
    world, car = example
    keys = world.vcp_keys(car)
    tampered = _hvac_on(tag=bytes(32))
    reply = answer(keys, car, tampered, world.now(), ("vehicle_cmds",))
    fault = MessageFault_E.MESSAGEFAULT_ERROR_INVALID_SIGNATURE
    assert reply.signedMessageStatus.signed_message_fault == fault
    assert SessionInfo.FromString(reply.session_info).counter == 6
    assert not car.climate_on
    reply = answer(keys, car, _hvac_on(), world.now(), ("vehicle_cmds",))
    assert reply.signedMessageStatus.signed_message_fault == 0
    status = Response.FromString(reply.protobuf_message_as_bytes).actionStatus
    assert status.result == OperationStatus_E.OPERATIONSTATUS_OK
    assert car.climate_on
    replayed = answer(keys, car, _hvac_on(), world.now(), ("vehicle_cmds",))
    fault = MessageFault_E.MESSAGEFAULT_ERROR_INVALID_TOKEN_OR_COUNTER
    assert replayed.signedMessageStatus.signed_message_fault == fault
    assert SessionInfo.FromString(replayed.session_info).counter == 7
    world.advance(10)  # the car's clock passes 2655
    expired = answer(keys, car, _hvac_on(counter=8), world.now(), ("vehicle_cmds",))
    fault = MessageFault_E.MESSAGEFAULT_ERROR_TIME_EXPIRED
    assert expired.signedMessageStatus.signed_message_fault == fault
    assert SessionInfo.FromString(expired.session_info).clock_time == CLOCK + 10


def test_parse_refuses_garbage() -> None:
    with pytest.raises(BadMessage):
        parse(b"\xff\xff")


def test_counters_rising_and_window() -> None:
    """VCSEC takes counters in order; infotainment a 64-wide window, each once."""
    rising = Counter()
    assert not rising.accept(0, window=False)
    assert rising.accept(1, window=False)
    assert not rising.accept(1, window=False)
    assert rising.accept(5, window=False)
    assert not rising.accept(4, window=False)
    window = Counter()
    assert window.accept(10, window=True)
    assert window.accept(8, window=True)
    assert not window.accept(8, window=True)
    assert window.accept(9, window=True)
    assert not window.accept(10, window=True)
    assert window.accept(100, window=True)
    assert not window.accept(35, window=True)  # 65 back: beyond the window
    assert window.accept(36, window=True)  # 64 back: the window's edge
    assert not window.accept(36, window=True)


def test_keys_are_seeded_and_reboot_changes_epochs() -> None:
    """Same seed, same car keys; a reboot draws new epochs and clears the counters."""
    first, second = World(seed=3), World(seed=3)
    vin = next(iter(first.vehicles))
    keys = first.vcp_keys(first.vehicles[vin])
    again = second.vcp_keys(second.vehicles[vin])
    assert keys.domains[VCSEC].public_key == again.domains[VCSEC].public_key
    assert keys.domains[VCSEC].epoch == again.domains[VCSEC].epoch
    assert keys.domains[VCSEC].public_key != keys.domains[INFOTAINMENT].public_key
    keys.domains[VCSEC].counter(CLIENT_PUBLIC).accept(3, window=False)
    epochs = {d: k.epoch for d, k in keys.domains.items()}
    first.reboot_vehicle(vin, (INFOTAINMENT,))
    assert keys.domains[VCSEC].epoch == epochs[VCSEC]
    assert keys.domains[INFOTAINMENT].epoch != epochs[INFOTAINMENT]
    first.reboot_vehicle(vin)
    assert keys.domains[VCSEC].epoch != epochs[VCSEC]
    assert keys.domains[VCSEC].counters == {}
    first.reset()
    assert first.vcp_keys(first.vehicles[vin]).domains[VCSEC].epoch == epochs[VCSEC]


def test_approve_virtual_key() -> None:
    world = World()
    vin = next(iter(world.vehicles))
    world.approve_virtual_key(vin, CLIENT_PUBLIC)
    assert world.vehicles[vin].whitelist == {CLIENT_PUBLIC: "owner"}
