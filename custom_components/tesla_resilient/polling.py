"""The polling policy: fresh when it matters, asleep and nearly free when it does not.

Everything here is a pure function of (snapshot, memory, now, settings): no I/O, no
Home Assistant, no clock of its own, so it runs in virtual time in tests and benchmarks.
The coordinator asks :func:`next_poll` what to do next, does it, records the outcome in
its :class:`PollMemory` (``after_vehicle_data``, ``after_sleep_check``, ``after_command``)
and asks again.

Facts the policy is built on (DESIGN.md §4, ``reference/README.md``):

* ``GET /api/1/vehicles/{id}`` (a *sleep check*) tells the sleep state without waking the
  car. Whether Tesla bills it is unclear; it costs at most one data request ($0.002).
* ``vehicle_data`` costs $0.002. On a sleeping car it answers 408 (billed) without waking
  it; on an awake car every call restarts the car's ~15-minute idle timer, so polling it
  while parked keeps the car awake and draining its battery.
* ``wake_up`` costs $0.02 (ten data requests): the policy never wakes the car. Only a
  command or the explicit wake button does (the coordinator's business).

The policy, state by state (defaults of :class:`PollingSettings`):

=====================================  ==============  ==============================
vehicle state                          next request    when
=====================================  ==============  ==============================
nothing known yet (start-up)           sleep check     now
asleep, offline or unknown             sleep check     every ``sleep_check_interval``
                                                       (600 s)
online, no data yet / just woke up     vehicle_data    now
driving (gear D/R/N or speed > 0)      vehicle_data    every ``driving_interval`` (85 s)
charging                               vehicle_data    every ``charging_interval``
                                                       (1800 s)
climate on, user present, gear not P   vehicle_data    every ``active_interval`` (85 s);
                                                       ``long_active_interval`` (300 s)
                                                       after ``long_active_after``
                                                       (1800 s) of activity
parked, within ``wake_grace`` (600 s)  vehicle_data    every ``idle_interval`` (85 s)
of a wake-up, within ``command_grace``
(600 s) of a command while unlocked,
or within ``idle_grace`` (0 s) of the
last activity
parked, idle, grace over               sleep check     ``expect_asleep_after`` (960 s)
                                                       after the last vehicle_data,
                                                       then every ``sleep_check_interval``
... still online after that            vehicle_data    once per ``awake_recheck_interval``
(something else keeps it awake)                        (1200 s) after the last one
a command was sent                     vehicle_data    ``confirm_delay`` (5 s) later, once
cloud unhealthy (``health_delay``)     same action     not before ``health_delay``
=====================================  ==============  ==============================

Why these numbers:

* ``driving_interval`` 85 s: the location of a driving car is never older than 90 s
  (85 s plus the request's own latency and timer jitter), at 42 requests per hour of
  driving instead of 60.
* ``charging_interval`` 1800 s: a charge lasts hours and the car itself stops at its
  charge limit; half-hour steps cost 2 requests an hour (a 3-hour charge: $0.012) instead
  of 12 at 300 s, which alone would cost $2.2 a month.
* ``active_interval`` 85 s: climate on or someone in the car are short episodes that
  usually end in a drive; polling them like a drive sees the drive within 90 s of its
  start, and costs no sleep (climate keeps the car awake anyway). After
  ``long_active_after`` (camp or dog mode for hours) every ``long_active_interval``.
* ``wake_grace`` 600 s and ``command_grace`` 600 s at ``idle_interval`` 85 s: a car that
  wakes up by itself (the owner opens the Tesla app, walks up with a phone key), or that
  Home Assistant unlocks or commands while it stays unlocked, has its owner at or near it
  and is usually about to be driven: polling it like a drive sees the drive within 90 s.
  A locked car after a command (the owner locked it and left) gets only the one
  confirming request.
* ``idle_grace`` 0 s: after a drive, the request that finds the car parked is the last
  one. Every later ``vehicle_data`` restarts the car's 15-minute idle timer, so the car
  falls asleep at most one ``driving_interval`` later than if nobody polled it. Raise it
  (with ``idle_interval``) to catch a walk-away lock right after parking, at the price of
  keeping the car awake that much longer.
* ``expect_asleep_after`` 960 s: the car's 15-minute idle timer plus a minute of margin;
  a sleep check earlier would only report "online". A check up to
  :data:`EARLY_TIMER_TOLERANCE` early (Home Assistant fires timers up to a second early)
  counts as on time.
* ``awake_recheck_interval`` 1200 s: a car still online when it should be asleep is kept
  awake by something else (sentry mode, the Tesla app, a drive that started after the
  grace period); fetching data then does not cost it any sleep, and without it a car in
  sentry mode would never be refreshed. It is longer than the idle timer, so a car that
  is about to fall asleep is never kept awake by it.
* ``sleep_check_interval`` 600 s: a woken car is noticed within 10 minutes (before a
  10-minute pre-conditioning ends); a night of sleep costs 6 checks an hour (free, or
  $0.012 an hour if Tesla bills them).

On the DESIGN §8 standard day (``scripts/bench day``, BENCHMARKS.md) this is about 63-69
``vehicle_data`` requests and 117-126 sleep checks: ≈ $3.8-4.2 per vehicle-month if sleep
checks are free, ≈ $10.9-11.6 if every check is billed. Under the second assumption,
raise ``sleep_check_interval`` to trade wake-up latency for cost.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Self

from .api.models import ALL_ENDPOINTS, VehicleData, VehicleState
from .snapshot import VehicleSnapshot

POLICY_ENDPOINTS: frozenset[str] = frozenset(
    {"charge_state", "climate_state", "drive_state", "vehicle_state"}
)
"""Endpoints the policy itself reads (driving, charging, climate, user present)."""

LOCATION_ENDPOINT = "location_data"
"""Asked for only when a location entity is enabled (firmware 2023.38+ needs it named)."""


class PollAction(StrEnum):
    """The request the coordinator makes next."""

    VEHICLE_DATA = "vehicle_data"
    """``GET .../vehicle_data``: full data; does not wake a sleeping car (408)."""
    SLEEP_CHECK = "sleep_check"
    """``GET /api/1/vehicles/{id}``: the sleep state only; cheapest call."""


@dataclass(frozen=True, slots=True)
class PollingSettings:
    """Tunable intervals of the policy, in seconds (see the module docstring)."""

    driving_interval: float = 85.0
    charging_interval: float = 1800.0
    active_interval: float = 85.0
    long_active_after: float = 1800.0
    long_active_interval: float = 300.0
    idle_grace: float = 0.0
    idle_interval: float = 85.0
    wake_grace: float = 600.0
    command_grace: float = 600.0
    sleep_check_interval: float = 600.0
    expect_asleep_after: float = 960.0
    awake_recheck_interval: float = 1200.0
    confirm_delay: float = 5.0

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """The defaults, with the owner's :data:`POLLING_OPTIONS` from entry options."""
        return cls(
            **{key: float(options[key]) for key in POLLING_OPTIONS if key in options}
        )


POLLING_OPTIONS = ("sleep_check_interval", "driving_interval", "charging_interval")
"""The intervals an owner may change in the options flow (option key = field name)."""


MIN_INTERVAL = 1.0
"""Shortest delay between two updates of a vehicle (seconds)."""

EARLY_TIMER_TOLERANCE = 2.0
"""Seconds a timer may fire early (Home Assistant truncates its loop time) and still
count as on time where the policy compares a request's time with a cut-off (and where
the cloud health lets an outage probe out, :meth:`.health.CloudHealth.can_attempt`)."""


def is_active(data: VehicleData) -> bool:
    """Whether the data shows the car in use: driving, charging, climate, someone in it."""
    shift = data.shift_state
    return (
        data.is_driving
        or data.is_charging
        or data.is_climate_on
        or data.is_user_present
        or (shift is not None and shift != "P")
    )


@dataclass(frozen=True, slots=True)
class PollMemory:
    """What the coordinator remembers between polls (epoch seconds, ``None`` = never).

    Immutable: the ``after_*`` methods return the memory after an outcome.
    """

    last_vehicle_data: float | None = None
    """Last successful ``vehicle_data``."""
    last_sleep_check: float | None = None
    """Last time the sleep state was learned (a sleep check, or a 408 on vehicle_data)."""
    last_active: float | None = None
    """Last ``vehicle_data`` that showed the car in use (:func:`is_active`)."""
    woke_at: float | None = None
    """When a sleep check saw the car online after it was asleep or offline."""
    last_command: float | None = None
    """Last command sent."""
    pending_confirm: bool = False
    """A command awaits its confirming ``vehicle_data``."""
    active_since: float | None = None
    """First ``vehicle_data`` of the current run of active ones (``None``: not active)."""
    fetched: frozenset[str] = frozenset()
    """The ``vehicle_data`` endpoints fetched at least once since set-up."""
    force_data: bool = False
    """The next update fetches ``vehicle_data`` whatever the policy says (refresh,
    recovery, an entity that needs an endpoint not fetched yet)."""
    skip_sleep_check: bool = False
    """The vehicle list reported the sleep state a moment ago (set-up): the next sleep
    check the policy asks for is spared."""

    def after_vehicle_data(self, data: VehicleData, now: float) -> Self:
        """Record a successful ``vehicle_data``; it also confirms any pending command."""
        active = is_active(data)
        still_active = (
            self.active_since is not None
            and self.last_active is not None
            and self.last_active == self.last_vehicle_data
        )
        return replace(
            self,
            last_vehicle_data=now,
            last_active=now if active else self.last_active,
            active_since=(self.active_since if still_active else now)
            if active
            else None,
            pending_confirm=False,
        )

    def after_sleep_check(
        self, state: VehicleState, now: float, *, previous: VehicleState
    ) -> Self:
        """Record a sleep state learned at ``now``; ``previous`` is the one known before.

        Also for a ``vehicle_data`` answered with 408 (``state`` asleep). A car found
        asleep or offline needs no confirming ``vehicle_data``. Do not record a wake-up
        the coordinator caused for a command here as a wake (use :meth:`after_command`):
        the confirming request covers it.
        """
        woke = state is VehicleState.ONLINE and previous in {
            VehicleState.ASLEEP,
            VehicleState.OFFLINE,
        }
        return replace(
            self,
            last_sleep_check=now,
            woke_at=now if woke else self.woke_at,
            pending_confirm=self.pending_confirm and state is VehicleState.ONLINE,
        )

    def after_command(self, now: float) -> Self:
        """Record a command sent at ``now``: one confirming ``vehicle_data`` follows.

        A command from Home Assistant is the owner's activity: while the confirming
        data shows the car unlocked, ``command_grace`` polling follows (the owner is
        probably at the car and about to drive).
        """
        return replace(self, last_command=now, pending_confirm=True)


@dataclass(frozen=True, slots=True)
class PollDecision:
    """What to do next and after how many seconds."""

    action: PollAction
    delay: float
    reason: str


def _at(action: PollAction, when: float, now: float, reason: str) -> PollDecision:
    """A decision due at epoch ``when`` (now when overdue)."""
    return PollDecision(action, max(0.0, when - now), reason)


def next_poll(
    snapshot: VehicleSnapshot | None,
    memory: PollMemory,
    now: float,
    settings: PollingSettings,
    health_delay: float | None = None,
) -> PollDecision:
    """Return the next request for one vehicle (see the table in the module docstring).

    ``health_delay``: seconds the cloud health asks to wait (backoff or ``Retry-After``);
    the decision's delay is then at least that long.
    """
    decision = _decide(snapshot, memory, now, settings)
    if health_delay is not None and health_delay > decision.delay:
        return PollDecision(
            decision.action, health_delay, f"{decision.reason}; cloud backoff"
        )
    return decision


def _decide(
    snapshot: VehicleSnapshot | None,
    memory: PollMemory,
    now: float,
    settings: PollingSettings,
) -> PollDecision:
    if snapshot is None or (
        memory.last_sleep_check is None and memory.last_vehicle_data is None
    ):
        # Nothing learned since start: a cached "online" may be hours old.
        return PollDecision(PollAction.SLEEP_CHECK, 0.0, "state unknown")
    if memory.pending_confirm and memory.last_command is not None:
        # Also when a regular vehicle_data is due earlier: the car needs a few seconds
        # to apply the command, and this request serves both.
        return _at(
            PollAction.VEHICLE_DATA,
            memory.last_command + settings.confirm_delay,
            now,
            "confirm command",
        )
    return _regular(snapshot, memory, now, settings)


def _regular(
    snapshot: VehicleSnapshot,
    memory: PollMemory,
    now: float,
    settings: PollingSettings,
) -> PollDecision:
    state = snapshot.state
    if state is not VehicleState.ONLINE:
        last_check = memory.last_sleep_check
        when = now if last_check is None else last_check + settings.sleep_check_interval
        return _at(PollAction.SLEEP_CHECK, when, now, f"vehicle {state.value}")

    last_data = memory.last_vehicle_data
    data = snapshot.data
    if last_data is None or data is None:
        return PollDecision(PollAction.VEHICLE_DATA, 0.0, "online, no data yet")
    if memory.woke_at is not None and memory.woke_at > last_data:
        return PollDecision(PollAction.VEHICLE_DATA, 0.0, "woke up")

    if data.is_driving:
        return _at(
            PollAction.VEHICLE_DATA,
            last_data + settings.driving_interval,
            now,
            "driving",
        )
    if data.is_charging:
        return _at(
            PollAction.VEHICLE_DATA,
            last_data + settings.charging_interval,
            now,
            "charging",
        )
    if is_active(data):
        since = memory.active_since
        if since is not None and last_data - since >= settings.long_active_after:
            return _at(
                PollAction.VEHICLE_DATA,
                last_data + settings.long_active_interval,
                now,
                "climate on or in use for long",
            )
        return _at(
            PollAction.VEHICLE_DATA,
            last_data + settings.active_interval,
            now,
            "climate on or in use",
        )

    # Parked and idle.
    graces = [
        (memory.last_active, settings.idle_grace),
        (memory.woke_at, settings.wake_grace),
    ]
    if data.locked is not True:
        # After a command, an unlocked car: the owner is probably at it.
        graces.append((memory.last_command, settings.command_grace))
    grace_end = max(
        (t + grace for t, grace in graces if t is not None),
        default=None,
    )
    next_data = last_data + settings.idle_interval
    if grace_end is not None and next_data < grace_end:
        return _at(PollAction.VEHICLE_DATA, next_data, now, "parked, grace period")

    # Let it sleep: only sleep checks, the first when the car should be asleep.
    asleep_expected = last_data + settings.expect_asleep_after
    last_check = memory.last_sleep_check
    checked_since_data = last_check is not None and last_check >= last_data
    check_at = (
        max(asleep_expected, last_check + settings.sleep_check_interval)
        if last_check is not None and checked_since_data
        else asleep_expected
    )
    if last_check is not None and last_check >= asleep_expected - EARLY_TIMER_TOLERANCE:
        # Still online when it should be asleep: something else keeps it awake.
        recheck_at = last_data + settings.awake_recheck_interval
        if recheck_at <= check_at:
            return _at(
                PollAction.VEHICLE_DATA, recheck_at, now, "awake without us, recheck"
            )
    return _at(PollAction.SLEEP_CHECK, check_at, now, "parked, letting it sleep")


def endpoints_for(enabled: Iterable[str]) -> tuple[str, ...]:
    """Return the ``vehicle_data`` endpoints to request, in a stable order.

    ``enabled``: the endpoints the enabled entities declare. The policy's own endpoints
    are always included; ``location_data`` only when an enabled entity asks for it;
    names Tesla does not know are dropped.
    """
    wanted = POLICY_ENDPOINTS | set(enabled)
    return tuple(endpoint for endpoint in ALL_ENDPOINTS if endpoint in wanted)
