"""The cars' radios: range, signal, connection slots, links, pairing and broadcasts.

``world.ble`` (a :class:`Radios`) holds per car a :class:`Radio` and the open
:class:`Link`s. A car takes at most three connections (other clients' included); one
out of range takes none. Nothing runs in the background: ``sync(now)`` (called by
``world.tick`` and after every request) drops links idle for 40 s, times out a pending
key add after 30 s and broadcasts a changed ``VehicleStatus`` to every open link.

Faults: ``busy_next`` answers the next signed command ``OPERATIONSTATUS_WAIT`` (not
carried out); ``drop_ack_next`` carries out the next signed command but loses its answer
and drops the link.
"""

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from google.protobuf.message import DecodeError
from tesla_protocol.command.universal_message_pb2 import RoutableMessage
from tesla_protocol.command.vcsec_pb2 import UnsignedMessage

from . import (
    IDLE_SECONDS,
    MAX_CONNECTIONS,
    TAP_SECONDS,
    address_of,
    answers,
    local_name,
)
from .answers import WhitelistInfo
from .framing import Reassembler, chunks, frame

if TYPE_CHECKING:
    from ..world import World

SETTABLE = ("in_range", "rssi", "other_clients", "busy_next", "drop_ack_next")


class OutOfRange(LookupError):
    """The car is not in range (or there is no such car)."""


class NoFreeSlot(Exception):
    """All the car's connections are taken."""


@dataclass(slots=True)
class Link:
    """One open GATT connection to a car (one WebSocket)."""

    vin: str
    last_activity: float
    outbox: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    reassembler: Reassembler = field(default_factory=Reassembler)
    closed: bool = False

    def send(self, message: RoutableMessage) -> None:
        """Queue ``message`` as notifications (length prefix, chunks)."""
        if self.closed:
            return
        for chunk in chunks(frame(message.SerializeToString())):
            self.outbox.put_nowait(chunk)

    def close(self) -> None:
        """Drop the link (the car disconnects)."""
        if not self.closed:
            self.closed = True
            self.outbox.put_nowait(None)


@dataclass(slots=True)
class Pending:
    """A key add waiting for the owner's key card."""

    request: RoutableMessage
    key: bytes
    role: str
    deadline: float
    link: Link


@dataclass(slots=True)
class Radio:
    """One car's radio: range, signal, others' connections, faults, counters."""

    in_range: bool = False
    rssi: int = -60
    other_clients: int = 0
    busy_next: bool = False
    drop_ack_next: bool = False
    messages_in: int = 0
    messages_out: int = 0
    broadcasts: int = 0
    connections: int = 0
    pending: Pending | None = None
    status: bytes | None = None

    def as_dict(self, links: int) -> dict[str, Any]:
        """Control-API view."""
        return {
            "in_range": self.in_range,
            "rssi": self.rssi,
            "other_clients": self.other_clients,
            "busy_next": self.busy_next,
            "drop_ack_next": self.drop_ack_next,
            "links": links,
            "connectable": self.other_clients + links < MAX_CONNECTIONS,
            "pairing": self.pending is not None,
            "messages_in": self.messages_in,
            "messages_out": self.messages_out,
            "broadcasts": self.broadcasts,
            "connections": self.connections,
        }


class Radios:
    """Every car's radio and links (``world.ble``)."""

    def __init__(self, world: World) -> None:
        """Radios of ``world``'s cars, made on first use."""
        self.world = world
        self.radios: dict[str, Radio] = {}
        self.links: dict[str, list[Link]] = {}

    def clear(self) -> None:
        """Drop every link and forget every radio (a world reset)."""
        for links in self.links.values():
            for link in links:
                link.close()
        self.radios.clear()
        self.links.clear()

    def radio(self, vin: str) -> Radio:
        """The radio of ``vin`` (KeyError for an unknown car)."""
        if vin not in self.world.vehicles:
            raise KeyError(vin)
        return self.radios.setdefault(vin, Radio())

    def vin_of(self, address: str) -> str | None:
        """The car at a Bluetooth address."""
        wanted = address.upper()
        for vin in self.world.vehicles:
            if address_of(vin) == wanted:
                return vin
        return None

    def open_links(self, vin: str) -> list[Link]:
        """The car's open links."""
        return [link for link in self.links.get(vin, []) if not link.closed]

    def connectable(self, vin: str) -> bool:
        """Does the car have a free connection?"""
        radio = self.radio(vin)
        return radio.other_clients + len(self.open_links(vin)) < MAX_CONNECTIONS

    def state(self, vin: str) -> dict[str, Any]:
        """Control-API view of one car's radio."""
        return {
            "vin": vin,
            "address": address_of(vin),
            "local_name": local_name(vin),
            **self.radio(vin).as_dict(len(self.open_links(vin))),
        }

    def advertisements(self) -> list[dict[str, Any]]:
        """What the cars in range advertise."""
        return [
            {
                "address": address_of(vin),
                "local_name": local_name(vin),
                "rssi": radio.rssi,
                "connectable": self.connectable(vin),
            }
            for vin, radio in self.radios.items()
            if radio.in_range
        ]

    # -- control --------------------------------------------------------------------------

    def set(self, vin: str, now: float, **changes: Any) -> dict[str, Any]:
        """Change the radio of ``vin`` (``SETTABLE`` fields; ``drop_link`` closes its
        links now). Out of range drops every link. ValueError for a bad value."""
        radio = self.radio(vin)
        for name, value in changes.items():
            if name == "drop_link":
                if value:
                    self.drop(vin)
                continue
            if name not in SETTABLE:
                raise ValueError(f"unknown radio setting {name}")
            if name in ("rssi", "other_clients"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError(f"{name} must be an integer")
                if name == "other_clients" and not 0 <= value <= MAX_CONNECTIONS:
                    raise ValueError("other_clients must be 0 to 3")
            elif not isinstance(value, bool):
                raise ValueError(f"{name} must be true or false")
            setattr(radio, name, value)
        if not radio.in_range:
            self.drop(vin)
        self.sync(now)
        return self.state(vin)

    def drop(self, vin: str) -> None:
        """Close every link of ``vin``."""
        for link in self.open_links(vin):
            link.close()

    def tap(self, vin: str, now: float) -> bool:
        """The owner taps a key card: the pending key add is approved (False: none)."""
        pending = self._take_pending(vin, now)
        if pending is None:
            return False
        self.world.vehicles[vin].whitelist[pending.key] = pending.role
        self._answer_pending(pending, WhitelistInfo.WHITELISTOPERATION_INFORMATION_NONE)
        return True

    def decline(self, vin: str, now: float) -> bool:
        """The owner denies the key add on the screen (False: none pending)."""
        pending = self._take_pending(vin, now)
        if pending is None:
            return False
        self._answer_pending(
            pending,
            WhitelistInfo.WHITELISTOPERATION_INFORMATION_LOCAL_ENTITY_AUTH_FAILED_UI_DENIED,
        )
        return True

    def _take_pending(self, vin: str, now: float) -> Pending | None:
        self.sync(now)
        radio = self.radio(vin)
        pending, radio.pending = radio.pending, None
        return pending

    def _answer_pending(self, pending: Pending, info: int) -> None:
        self._send(pending.link, answers.whitelist_reply(pending.request, info))

    # -- links ----------------------------------------------------------------------------

    def connect(self, vin: str, now: float) -> Link:
        """Open a link (``OutOfRange`` / ``NoFreeSlot`` when the car takes none)."""
        radio = self.radio(vin)
        if not radio.in_range:
            raise OutOfRange(vin)
        if not self.connectable(vin):
            raise NoFreeSlot(vin)
        self.sync(now)
        link = Link(vin=vin, last_activity=now)
        self.links[vin] = [*self.open_links(vin), link]
        radio.connections += 1
        if radio.status is None:
            radio.status = answers.status_message(self.world.vehicle(vin))
        return link

    def disconnect(self, link: Link) -> None:
        """The client went away."""
        link.close()
        self.links[link.vin] = self.open_links(link.vin)
        if not self.links[link.vin]:
            self.radio(link.vin).status = None

    def _send(self, link: Link, message: RoutableMessage) -> None:
        if not link.closed:
            self.radio(link.vin).messages_out += 1
            link.send(message)

    def receive(self, link: Link, raw: bytes, now: float) -> None:
        """One message from the client: the car answers (or stays silent)."""
        radio = self.radio(link.vin)
        radio.messages_in += 1
        link.last_activity = now
        try:
            request = RoutableMessage.FromString(raw)
        except DecodeError:
            return
        car = self.world.vehicle(link.vin)
        unsigned = answers.unsigned_vcsec(request)
        if unsigned is not None and self._unsigned(link, request, unsigned, now):
            return
        command = answers.is_command(request)
        if command and radio.busy_next:
            radio.busy_next = False
            self._send(link, answers.wait_reply(request))
            return
        keys = self.world.vcp_keys(car)
        reply = answers.signed(keys, car, request, now, self.world.rng)
        if command and radio.drop_ack_next:
            radio.drop_ack_next = False
            link.close()
        elif reply is not None:
            self._send(link, reply)
        self.sync(now)

    def _unsigned(
        self,
        link: Link,
        request: RoutableMessage,
        message: UnsignedMessage,
        now: float,
    ) -> bool:
        """Answer an unsigned VCSEC message the car takes (False: not one of them)."""
        if answers.is_status_request(message):
            car = self.world.vehicle(link.vin)
            self._send(link, answers.status_reply(request, car))
            return True
        added = answers.pairing_key(message)
        if added is None:
            return False
        key, role = added
        if key in self.world.vehicles[link.vin].whitelist:
            info = WhitelistInfo.WHITELISTOPERATION_INFORMATION_ATTEMPTING_TO_ADD_KEY_THAT_IS_ALREADY_ON_THE_WHITELIST
            self._send(link, answers.whitelist_reply(request, info))
            return True
        self.radio(link.vin).pending = Pending(
            request=request, key=key, role=role, deadline=now + TAP_SECONDS, link=link
        )
        return True

    # -- time -----------------------------------------------------------------------------

    def sync(self, now: float) -> None:
        """Idle drops, pairing time-outs and status broadcasts up to ``now``."""
        for vin, radio in list(self.radios.items()):
            if radio.pending is not None and now >= radio.pending.deadline:
                pending, radio.pending = radio.pending, None
                self._answer_pending(
                    pending,
                    WhitelistInfo.WHITELISTOPERATION_INFORMATION_LOCAL_ENTITY_AUTH_FAILED_TIMED_OUT_WAITING_FOR_TAP,
                )
            for link in self.open_links(vin):
                if now - link.last_activity >= IDLE_SECONDS:
                    link.close()
            links = self.open_links(vin)
            if not links:
                continue
            car = self.world.vehicles[vin]
            car.update(now)
            status = answers.status_message(car)
            if status != radio.status:
                radio.status = status
                radio.broadcasts += 1
                message = answers.broadcast(car)
                for link in links:
                    self._send(link, message)
