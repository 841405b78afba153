"""tesla_sim's Bluetooth without Home Assistant: names, framing, the control routes,
the link's refusals and the car's answers to raw messages."""

import aiohttp
import pytest
from tesla_protocol.command.universal_message_pb2 import (
    Destination,
    Domain,
    MessageFault_E,
    RoutableMessage,
)
from tesla_protocol.command.vcsec_pb2 import (
    FromVCSECMessage,
    InformationRequest,
    InformationRequestType,
    UnsignedMessage,
    VehicleLockState_E,
)

from tesla_sim import SimServer, World
from tesla_sim.ble import address_of, local_name
from tesla_sim.ble.framing import FrameTooLong, Reassembler, chunks, frame

VIN = "5YJS0000000000000"


def test_names_from_the_vin() -> None:
    """Tesla's example: local name S1a87a5a75f3df858C; the address from the same hash."""
    assert local_name(VIN) == "S1a87a5a75f3df858C"
    assert address_of(VIN) == "02:1A:87:A5:A7:5F"


def test_framing_round_trip() -> None:
    """Length prefix, 20-byte chunks, reassembly across and within chunks."""
    one, two = bytes(range(50)), b"\x01\x02"
    data = frame(one) + frame(two)
    pieces = chunks(data)
    assert all(len(piece) <= 20 for piece in pieces)
    assembler = Reassembler()
    done = [message for piece in pieces for message in assembler.feed(piece)]
    assert done == [one, two]
    with pytest.raises(FrameTooLong):
        frame(bytes(1025))
    assert assembler.feed(b"\x04\x01junk") == []  # longer than 1024: dropped
    assert assembler.feed(frame(two)) == [two]


def _status_request() -> bytes:
    request = UnsignedMessage(
        InformationRequest=InformationRequest(
            informationRequestType=InformationRequestType.INFORMATION_REQUEST_TYPE_GET_STATUS
        )
    )
    message = RoutableMessage(
        to_destination=Destination(domain=Domain.DOMAIN_VEHICLE_SECURITY),
        from_destination=Destination(routing_address=bytes(16)),
        protobuf_message_as_bytes=request.SerializeToString(),
        uuid=bytes(range(16)),
    )
    return frame(message.SerializeToString())


async def _answers(
    ws: aiohttp.ClientWebSocketResponse, count: int
) -> list[RoutableMessage]:
    assembler, found = Reassembler(), list[RoutableMessage]()
    while len(found) < count:
        message = await ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.BINARY
        assert len(message.data) <= 20
        found += [RoutableMessage.FromString(m) for m in assembler.feed(message.data)]
    return found


async def test_raw_link_and_control_routes(sim: SimServer) -> None:
    """The link refuses a car out of range (404) or full (503); an unsigned status
    request is answered to anyone; a message from an unknown key is refused; garbage
    is ignored; the control routes script the radio and report its counters."""
    world: World = sim.world
    vin = next(iter(world.vehicles))
    link = f"{sim.url}/__sim__/ble/link/{address_of(vin).lower()}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sim.url}/__sim__/ble/link/02:00:00:00:00:00") as r:
            assert r.status == 404
        async with session.get(link) as r:
            assert r.status == 404  # out of range
        async with session.post(
            f"{sim.url}/__sim__/ble/{vin}", json={"in_range": True, "other_clients": 3}
        ) as r:
            assert r.status == 200
            assert (await r.json())["connectable"] is False
        async with session.get(link) as r:
            assert r.status == 503
        async with session.get(f"{sim.url}/__sim__/ble/advertisements") as r:
            assert await r.json() == [
                {
                    "address": address_of(vin),
                    "local_name": local_name(vin),
                    "rssi": -60,
                    "connectable": False,
                }
            ]
        world.ble_set(vin, other_clients=0)
        async with session.ws_connect(link) as ws:
            for piece in chunks(_status_request()):
                await ws.send_bytes(piece)
            await ws.send_bytes(frame(b"\xff\xff\xff"))  # not a message: no answer
            unknown = RoutableMessage(
                to_destination=Destination(domain=Domain.DOMAIN_VEHICLE_SECURITY),
                from_destination=Destination(routing_address=bytes(16)),
                protobuf_message_as_bytes=b"\x00",
            )
            await ws.send_bytes(frame(unknown.SerializeToString()))
            status, refused = await _answers(ws, 2)
            vcsec = FromVCSECMessage.FromString(status.protobuf_message_as_bytes)
            assert (
                vcsec.vehicleStatus.vehicleLockState
                == VehicleLockState_E.VEHICLELOCKSTATE_LOCKED
            )
            assert (
                refused.signedMessageStatus.signed_message_fault
                == MessageFault_E.MESSAGEFAULT_ERROR_UNKNOWN_KEY_ID
            )
            async with session.post(
                f"{sim.url}/__sim__/ble/{vin}", json={"drop_link": True}
            ) as r:
                assert (await r.json())["links"] == 0
            assert (await ws.receive(timeout=5)).type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
            )
        async with session.get(f"{sim.url}/__sim__/ble/{vin}") as r:
            state = await r.json()
        assert (state["messages_in"], state["messages_out"], state["connections"]) == (
            3,
            2,
            1,
        )
        bodies: tuple[object, ...] = (
            {"rssi": "loud"},
            {"other_clients": 4},
            {"busy_next": 1},
            {"volume": 1},
            [],
        )
        for body in bodies:
            async with session.post(f"{sim.url}/__sim__/ble/{vin}", json=body) as r:
                assert r.status == 400
        async with session.post(f"{sim.url}/__sim__/ble/{vin}", data=b"{") as r:
            assert r.status == 400
        for path in ("tap", "decline"):
            async with session.post(f"{sim.url}/__sim__/ble/{vin}/{path}") as r:
                assert r.status == 409
            async with session.post(f"{sim.url}/__sim__/ble/NOPE/{path}") as r:
                assert r.status == 404
        async with session.get(f"{sim.url}/__sim__/ble/NOPE") as r:
            assert r.status == 404
        async with session.post(f"{sim.url}/__sim__/ble/NOPE", json={}) as r:
            assert r.status == 404
    assert world.meter.as_dict()["total"] == 0


def test_reset_forgets_the_radios() -> None:
    """A world reset: no car in range, counters from zero."""
    world = World(virtual_clock=True)
    vin = next(iter(world.vehicles))
    world.ble_set(vin, in_range=True, rssi=-70)
    assert world.ble_advertisements()[0]["rssi"] == -70
    world.reset()
    assert world.ble_advertisements() == []
    with pytest.raises(KeyError):
        world.ble_set("NOPE", in_range=True)
