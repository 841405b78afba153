"""When to talk to a car over Bluetooth: a pure policy with an injected clock.

The car takes at most three Bluetooth connections, shared with the owner's phone keys
and key fobs, and drops an idle one after about 40 s. The link (:mod:`.bluetooth`)
therefore never holds one for long: it connects for a status read, stays a short
``listen_window`` to hear the car's broadcasts (a lock change shows within seconds
while it listens), each broadcast heard keeping it ``listen_window`` longer but never
more than ``listen_cap`` after it connected (:func:`listen_delay`), and lets go.
Everything here is a pure function of (:class:`BleMemory`, now, :class:`BleSettings`):
no I/O, no Home Assistant.

=====================================  ======================================
the car                                over Bluetooth
=====================================  ======================================
out of range (no advertisement)        nothing; the cloud polls as before
in range, all its connections taken    nothing (it advertises non-connectable)
in range, awake (in use: a lock        status every ``status_interval_awake``
change should show at once)            (60 s), then ``listen_window`` (30 s)
                                       of broadcasts, longer while they keep
                                       coming (at most ``listen_cap``, 120 s)
in range, asleep (or not known)        status every ``status_interval``
                                       (300 s: vehicle security answers
                                       without waking the car), then listening
just came into range, or a command     a status read at once, then listening
a read failed                          again after ``retry_interval`` (30 s),
                                       doubling up to ``retry_cap`` (600 s)
no free connection slot (a refusal)    no read, and commands go to the cloud,
                                       for ``slots_full_for`` (300 s; in an
                                       outage Bluetooth is still tried)
=====================================  ======================================

A status read asks the car's security computer (VCSEC) only: it neither wakes the car
nor restarts its idle timer, however often it is made.

A ``vehicle_data`` the polling policy asks for is read over Bluetooth (status, charge,
climate, closures: :func:`reads_data`) only while the last data shows the car
parked: Bluetooth reads no drive state, and a car last seen driving would be seen
driving for ever -- polled every ``driving_interval`` and never let sleep. The cloud's
``vehicle_data`` then tells that it stopped.

While a status read less than ``fresh_for`` (600 s, the cloud's sleep-check
interval) old says the car sleeps, :func:`knows_asleep` holds: the cloud's sleep
checks pause (they cost money; Bluetooth does not).
"""

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Self

from .api.models import VehicleData, VehicleState
from .polling import PollAction


@dataclass(frozen=True, slots=True)
class BleSettings:
    """Intervals of the Bluetooth policy, in seconds (see the module docstring)."""

    status_interval: float = 300.0
    status_interval_awake: float = 60.0
    listen_window: float = 30.0
    listen_cap: float = 120.0
    retry_interval: float = 30.0
    retry_cap: float = 600.0
    fresh_for: float = 600.0
    slots_full_for: float = 300.0


class BleAction(StrEnum):
    """What the link does next."""

    NOTHING = "nothing"
    """Out of range, or no free connection: wait for an advertisement."""
    STATUS = "status"
    """Read the vehicle-security status (and listen for a while)."""


@dataclass(frozen=True, slots=True)
class BleDecision:
    """What to do next and after how many seconds (``None``: not until told)."""

    action: BleAction
    delay: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class BleMemory:
    """What the link knows about the car's radio and its last reads (epoch seconds).

    Immutable: the ``after_*`` methods return the memory after an event.
    """

    in_range: bool = False
    """An advertisement was seen and the address has not become unavailable since."""
    connectable: bool = False
    """The last advertisement offered a connection (a full car offers none)."""
    rssi: int | None = None
    """Signal strength of the last advertisement (dBm)."""
    last_status: float | None = None
    """Last successful status read."""
    state: VehicleState = VehicleState.UNKNOWN
    """The sleep state the last status read reported."""
    failures: int = 0
    """Consecutive failed reads (reset by a success or by coming into range)."""
    last_failure: float | None = None
    wanted: bool = False
    """A read is due at once (came into range, after a command)."""
    slots_full_at: float | None = None
    """When the car (or every proxy) last refused a connection for want of a free
    slot; forgotten after a successful read or once the car offers a connection again."""

    def after_advertisement(self, *, rssi: int, connectable: bool) -> Self:
        """Record an advertisement; coming into range asks for a read at once."""
        came = not self.in_range
        freed = connectable and not self.connectable
        return replace(
            self,
            in_range=True,
            connectable=connectable,
            rssi=rssi,
            wanted=self.wanted or came,
            failures=0 if came else self.failures,
            slots_full_at=None if came or freed else self.slots_full_at,
        )

    def after_unavailable(self) -> Self:
        """Record that the car's advertisements stopped (it left range)."""
        return replace(self, in_range=False, connectable=False, wanted=False)

    def after_status(self, state: VehicleState, now: float) -> Self:
        """Record a successful status read at ``now``."""
        return replace(
            self,
            last_status=now,
            state=state,
            failures=0,
            wanted=False,
            slots_full_at=None,
        )

    def after_failure(self, now: float) -> Self:
        """Record a read that reached nothing or got no answer."""
        return replace(self, failures=self.failures + 1, last_failure=now, wanted=False)

    def after_slots_full(self, now: float) -> Self:
        """Record a connection refused for want of a free slot (a read or a command)."""
        return replace(self, slots_full_at=now)

    def want_read(self) -> Self:
        """Ask for a status read at once (after a command)."""
        return replace(self, wanted=True)


def retry_delay(failures: int, settings: BleSettings) -> float:
    """Seconds to wait after ``failures`` consecutive failures (0 for none)."""
    if failures <= 0:
        return 0.0
    return min(
        settings.retry_cap, settings.retry_interval * 2.0 ** min(failures - 1, 16)
    )


def next_read(memory: BleMemory, now: float, settings: BleSettings) -> BleDecision:
    """Return the link's next step (see the table in the module docstring)."""
    if not memory.in_range:
        return BleDecision(BleAction.NOTHING, None, "out of range")
    if not memory.connectable:
        return BleDecision(BleAction.NOTHING, None, "no free connection")
    if slots_full(memory, now, settings):
        left = settings.slots_full_for - (now - (memory.slots_full_at or now))
        return BleDecision(BleAction.STATUS, left, "no free slot")
    if memory.failures and memory.last_failure is not None:
        when = memory.last_failure + retry_delay(memory.failures, settings)
        return BleDecision(BleAction.STATUS, max(0.0, when - now), "retry")
    if memory.wanted or memory.last_status is None:
        return BleDecision(BleAction.STATUS, 0.0, "came into range or asked")
    if memory.state is VehicleState.ONLINE:
        when = memory.last_status + settings.status_interval_awake
        return BleDecision(BleAction.STATUS, max(0.0, when - now), "awake: listening")
    when = memory.last_status + settings.status_interval
    return BleDecision(BleAction.STATUS, max(0.0, when - now), "status interval")


def listen_delay(connected: float, now: float, settings: BleSettings) -> float:
    """Seconds the link keeps listening after a read or a broadcast at ``now``:
    ``listen_window``, but not beyond ``listen_cap`` after it began listening (at
    ``connected``)."""
    end = min(now + settings.listen_window, connected + settings.listen_cap)
    return max(0.0, end - now)


def is_fresh(memory: BleMemory, now: float, settings: BleSettings) -> bool:
    """Whether the last status read is recent enough to show as live."""
    return (
        memory.in_range
        and memory.last_status is not None
        and now - memory.last_status < settings.fresh_for
    )


def knows_asleep(memory: BleMemory, now: float, settings: BleSettings) -> bool:
    """Whether Bluetooth knows the car asleep now: the cloud's sleep checks pause."""
    return is_fresh(memory, now, settings) and memory.state is VehicleState.ASLEEP


def slots_full(memory: BleMemory, now: float, settings: BleSettings) -> bool:
    """Whether a refusal for want of a free slot is recent: no Bluetooth read, and
    commands go straight to the cloud (unless it is in an outage)."""
    return (
        memory.slots_full_at is not None
        and now - memory.slots_full_at < settings.slots_full_for
    )


def reads_data(action: PollAction, data: VehicleData | None) -> bool:
    """Whether the coordinator's poll ``action`` reads charge and climate over Bluetooth
    (awake): for a ``vehicle_data`` while the last data (its drive state) shows the car
    parked. Otherwise only the status: the cloud's ``vehicle_data`` follows."""
    return (
        action is PollAction.VEHICLE_DATA and data is not None and not data.is_driving
    )
