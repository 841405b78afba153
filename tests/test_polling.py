"""Tests of the polling policy, in virtual time (pure functions, no I/O)."""

from collections import Counter
from dataclasses import dataclass, field, replace
from itertools import pairwise

import pytest

from custom_components.tesla_resilient.api.models import VehicleData, VehicleState
from custom_components.tesla_resilient.polling import (
    EARLY_TIMER_TOLERANCE,
    PollAction,
    PollDecision,
    PollingSettings,
    PollMemory,
    endpoints_for,
    is_active,
    next_poll,
)
from custom_components.tesla_resilient.snapshot import VehicleSnapshot

VD = PollAction.VEHICLE_DATA
CHECK = PollAction.SLEEP_CHECK
SETTINGS = PollingSettings()
H = 3600.0
T0 = 1_750_000_000.0


def _data(activity: str | None = None, *, locked: bool = True) -> VehicleData:
    """vehicle_data of a parked car, or one driving / charging / with climate on."""
    return VehicleData.from_api(
        {
            "state": "online",
            "drive_state": {
                "shift_state": {"drive": "D", "reverse": "R"}.get(activity or ""),
                "speed": 30 if activity == "drive" else None,
            },
            "charge_state": {
                "charging_state": "Charging" if activity == "charge" else "Disconnected"
            },
            "climate_state": {"is_climate_on": activity == "climate"},
            "vehicle_state": {
                "is_user_present": activity == "present",
                "locked": locked,
            },
        }
    )


def _online(data: VehicleData, at: float) -> VehicleSnapshot:
    return VehicleSnapshot.initial("1", "VIN", None).with_data(data, at)


# --- single decisions ------------------------------------------------------------------

D = SETTINGS.driving_interval  # also active_interval and idle_interval by default


def _mem(**times: float) -> PollMemory:
    """A memory with the given times relative to T0 (``last_vehicle_data`` 0 unless set)."""
    values: dict[str, float | None] = {"last_vehicle_data": 0.0}
    values.update(times)
    return PollMemory(**{k: None if v is None else T0 + v for k, v in values.items()})


ONLINE_CASES: list[
    tuple[str, str | None, bool, PollMemory, float, PollAction, float]
] = [
    # (name, activity, locked, memory (times relative to T0), now - T0, action, delay)
    ("driving", "drive", True, _mem(last_active=0), 10, VD, D - 10),
    ("driving overdue", "drive", True, _mem(last_active=0), 500, VD, 0),
    ("reverse", "reverse", True, _mem(last_active=0), 0, VD, D),
    ("charging", "charge", True, _mem(last_active=0), 0, VD, 1800),
    ("climate", "climate", True, _mem(last_active=0, active_since=0), 10, VD, D - 10),
    (
        "climate for long",
        "climate",
        True,
        _mem(last_vehicle_data=2000, last_active=2000, active_since=200),
        2000,
        VD,
        300,
    ),
    (
        "climate not yet long",
        "climate",
        True,
        _mem(last_vehicle_data=2000, last_active=2000, active_since=201),
        2000,
        VD,
        D,
    ),
    ("user present", "present", True, _mem(last_active=0), 0, VD, D),
    ("parked after drive", None, True, _mem(last_active=-60), 0, CHECK, 960),
    ("parked, never active", None, True, _mem(), 30, CHECK, 930),
    ("woke, wake grace", None, True, _mem(last_sleep_check=-10, woke_at=-10), 0, VD, D),
    (
        "woke, data missing",
        None,
        True,
        _mem(last_vehicle_data=-50, last_sleep_check=-10, woke_at=-10),
        0,
        VD,
        0,
    ),
    ("command, unlocked", None, False, _mem(last_command=-5), 0, VD, D),
    (
        "command, unlocked, grace over",
        None,
        False,
        _mem(last_command=-560),
        0,
        CHECK,
        960,
    ),
    ("command, locked", None, True, _mem(last_command=-5), 0, CHECK, 960),
    ("unlocked, no command", None, False, _mem(), 0, CHECK, 960),
    ("checked online early", None, True, _mem(last_sleep_check=500), 500, CHECK, 600),
    ("checked online late", None, True, _mem(last_sleep_check=960), 960, VD, 240),
    (
        "checked online, timer 2 s early",
        None,
        True,
        _mem(last_sleep_check=958),
        958,
        VD,
        242,
    ),
    (
        "checked online, 3 s early",
        None,
        True,
        _mem(last_sleep_check=957),
        957,
        CHECK,
        600,
    ),
    ("checked before data", None, True, _mem(last_sleep_check=-5), 0, CHECK, 960),
    ("still awake: recheck", None, True, _mem(last_sleep_check=1000), 1000, VD, 200),
]


@pytest.mark.parametrize(
    ("car", "memory", "offset", "action", "delay"),
    [((case[1], case[2]), *case[3:]) for case in ONLINE_CASES],
    ids=[case[0] for case in ONLINE_CASES],
)
def test_online_decisions(
    car: tuple[str | None, bool],
    memory: PollMemory,
    offset: float,
    action: PollAction,
    delay: float,
) -> None:
    """Each online state gets its request at its interval (memory relative to T0)."""
    activity, locked = car
    assert memory.last_vehicle_data is not None
    snapshot = _online(_data(activity, locked=locked), memory.last_vehicle_data)
    decision = next_poll(snapshot, memory, T0 + offset, SETTINGS)
    assert (decision.action, decision.delay) == (action, delay)
    assert decision.reason


def test_early_timer_tolerance() -> None:
    """A sleep check up to EARLY_TIMER_TOLERANCE before the cut-off counts as on time."""
    expected = T0 + SETTINGS.expect_asleep_after
    snapshot = _online(_data(), T0)
    on_time = PollMemory(T0, expected - EARLY_TIMER_TOLERANCE)
    assert next_poll(snapshot, on_time, on_time.last_sleep_check or 0, SETTINGS) == (
        PollDecision(
            VD,
            SETTINGS.awake_recheck_interval
            - SETTINGS.expect_asleep_after
            + EARLY_TIMER_TOLERANCE,
            "awake without us, recheck",
        )
    )
    early = PollMemory(T0, expected - EARLY_TIMER_TOLERANCE - 0.5)
    decision = next_poll(snapshot, early, early.last_sleep_check or 0, SETTINGS)
    assert decision.action is CHECK


def test_recheck_waits_for_an_earlier_sleep_check() -> None:
    """With a long recheck interval, the next sleep check comes first."""
    settings = replace(SETTINGS, awake_recheck_interval=5000)
    memory = PollMemory(T0, T0 + 1000)
    decision = next_poll(_online(_data(), T0), memory, T0 + 1000, settings)
    assert decision == PollDecision(CHECK, 600, "parked, letting it sleep")


@pytest.mark.parametrize(
    "state", [VehicleState.ASLEEP, VehicleState.OFFLINE, VehicleState.UNKNOWN]
)
def test_not_online_gets_sleep_checks_only(state: VehicleState) -> None:
    """Asleep, offline or unknown: a sleep check per sleep_check_interval."""
    snapshot = _online(_data("drive"), T0).with_state(state, T0 + 10)
    memory = PollMemory(T0, T0 + 10, T0)
    decision = next_poll(snapshot, memory, T0 + 20, SETTINGS)
    assert decision.action is CHECK
    assert decision.delay == 590
    assert state.value in decision.reason


def test_unknown_vehicle_gets_a_sleep_check_now() -> None:
    """No snapshot, or nothing learned since start-up (a cached one): check now."""
    assert next_poll(None, PollMemory(), T0, SETTINGS) == PollDecision(
        CHECK, 0.0, "state unknown"
    )
    cached = _online(_data("drive"), T0 - 3 * H).as_cache()
    assert next_poll(cached, PollMemory(), T0, SETTINGS).action is CHECK
    # A cached snapshot with a sleep state that was never checked in this run.
    memory = PollMemory(last_vehicle_data=T0 - 5)
    unchecked = VehicleSnapshot.initial("1", "", None)
    assert next_poll(unchecked, memory, T0, SETTINGS) == PollDecision(
        CHECK, 0.0, "vehicle unknown"
    )


def test_online_without_data_fetches_now() -> None:
    """A sleep check that sees an online car with no data: vehicle_data at once."""
    snapshot = VehicleSnapshot.initial("1", "", None).with_state(
        VehicleState.ONLINE, T0
    )
    memory = PollMemory().after_sleep_check(
        VehicleState.ONLINE, T0, previous=VehicleState.UNKNOWN
    )
    assert memory.woke_at is None
    assert next_poll(snapshot, memory, T0, SETTINGS) == PollDecision(
        VD, 0.0, "online, no data yet"
    )


def test_command_gets_one_confirmation() -> None:
    """After a command: one vehicle_data confirm_delay later, then the regular policy."""
    snapshot = _online(_data(), T0)
    memory = PollMemory(T0, T0 + 2000, None).after_command(T0 + 2000)
    decision = next_poll(snapshot, memory, T0 + 2001, SETTINGS)
    assert decision == PollDecision(VD, 4.0, "confirm command")
    # Even a driving car whose regular request is due sooner waits for the car to act.
    driving = _online(_data("drive"), T0 + 1990)
    memory = PollMemory(T0 + 1990).after_command(T0 + 2000)
    assert next_poll(driving, memory, T0 + 2000, SETTINGS).delay == 5.0
    # The confirming vehicle_data clears it.
    confirmed = memory.after_vehicle_data(_data(), T0 + 2005)
    assert not confirmed.pending_confirm
    assert confirmed.last_command == T0 + 2000
    # A car found asleep needs no confirmation; online keeps it pending.
    assert not memory.after_sleep_check(
        VehicleState.ASLEEP, T0, previous=VehicleState.ONLINE
    ).pending_confirm
    assert memory.after_sleep_check(
        VehicleState.ONLINE, T0, previous=VehicleState.ONLINE
    ).pending_confirm


@pytest.mark.parametrize(
    ("health_delay", "delay", "suffix"),
    [(None, 75.0, False), (10.0, 75.0, False), (240.0, 240.0, True)],
)
def test_unhealthy_cloud_stretches_the_delay(
    health_delay: float | None, delay: float, suffix: bool
) -> None:
    """The delay is at least the health delay; the action stays."""
    decision = next_poll(
        _online(_data("drive"), T0),
        PollMemory(T0, None, T0),
        T0 + 10,
        SETTINGS,
        health_delay,
    )
    assert decision.action is VD
    assert decision.delay == delay
    assert decision.reason.endswith("cloud backoff") is suffix


def test_memory_transitions() -> None:
    """Activity and wake-ups are remembered; idle data does not move last_active."""
    memory = PollMemory().after_vehicle_data(_data("charge"), T0)
    assert (memory.last_vehicle_data, memory.last_active) == (T0, T0)
    memory = memory.after_vehicle_data(_data(), T0 + 60)
    assert (memory.last_vehicle_data, memory.last_active) == (T0 + 60, T0)
    memory = memory.after_sleep_check(
        VehicleState.ASLEEP, T0 + 99, previous=VehicleState.ONLINE
    )
    assert memory.woke_at is None
    memory = memory.after_sleep_check(
        VehicleState.ONLINE, T0 + 700, previous=VehicleState.ASLEEP
    )
    assert memory.woke_at == T0 + 700
    memory = memory.after_sleep_check(
        VehicleState.ONLINE, T0 + 800, previous=VehicleState.OFFLINE
    )
    assert (memory.woke_at, memory.last_sleep_check) == (T0 + 800, T0 + 800)


def test_active_since_tracks_a_run_of_activity() -> None:
    """active_since: the first active vehicle_data of an unbroken run of them."""
    memory = PollMemory().after_vehicle_data(_data(), T0)
    assert memory.active_since is None
    memory = memory.after_vehicle_data(_data("climate"), T0 + 100)
    assert memory.active_since == T0 + 100
    memory = memory.after_vehicle_data(_data("drive"), T0 + 200)
    assert memory.active_since == T0 + 100
    memory = memory.after_vehicle_data(_data(), T0 + 300)
    assert memory.active_since is None
    memory = memory.after_vehicle_data(_data("climate"), T0 + 400)
    assert memory.active_since == T0 + 400


@pytest.mark.parametrize(
    ("activity", "active"),
    [
        (None, False),
        ("drive", True),
        ("charge", True),
        ("climate", True),
        ("present", True),
    ],
)
def test_is_active(activity: str | None, active: bool) -> None:
    """Driving, charging, climate or someone inside count as activity."""
    assert is_active(_data(activity)) is active


def test_neutral_gear_is_active() -> None:
    """Gear N with no speed counts as driving; an unknown gear string does not."""
    assert is_active(VehicleData({"drive_state_shift_state": "N"}))
    assert not is_active(VehicleData({"drive_state_shift_state": "X"}))


def test_endpoints_for() -> None:
    """Policy endpoints always; location only when asked; unknown names dropped."""
    base = ("charge_state", "climate_state", "drive_state", "vehicle_state")
    assert endpoints_for([]) == base
    assert endpoints_for(["vehicle_state", "closures_state", "bogus"]) == (
        "charge_state",
        "climate_state",
        "closures_state",
        "drive_state",
        "vehicle_state",
    )
    assert "location_data" not in endpoints_for(["drive_state", "gui_settings"])
    assert "location_data" in endpoints_for(iter(["location_data"]))
    assert set(endpoints_for(["location_data"])) == {*base, "location_data"}


# --- virtual days ----------------------------------------------------------------------


@dataclass
class VirtualCar:
    """A car in virtual time: activities, self-wakes and the 15-minute idle timer."""

    activities: list[tuple[float, float, str]] = field(default_factory=list)
    wakes: list[float] = field(default_factory=list)
    last_data: float = -1e12
    woken_by_us: int = 0
    unlocked: list[tuple[float, float]] = field(default_factory=list)
    """Periods the doors are unlocked."""

    def locked(self, t: float) -> bool:
        return not any(s <= t < e for s, e in self.unlocked)

    def activity(self, t: float) -> str | None:
        return next((kind for s, e, kind in self.activities if s <= t < e), None)

    def awake(self, t: float) -> bool:
        if self.activity(t):
            return True
        ends = [e for _, e, _ in self.activities if e <= t]
        ends += [w for w in self.wakes if w <= t]
        return t < max([*ends, self.last_data]) + 900


@dataclass
class Run:
    """The outcome of replaying the policy against a virtual car."""

    requests: Counter[str] = field(default_factory=Counter)
    times: list[tuple[float, PollAction]] = field(default_factory=list)
    driving_staleness: float = 0.0
    keeps_awake_until: float = 0.0


def replay(
    car: VirtualCar,
    start: float,
    end: float,
    settings: PollingSettings = SETTINGS,
    *,
    commands: tuple[float, ...] = (),
    health_delay: float | None = None,
    measure_from: float | None = None,
) -> Run:
    """Drive the policy like the coordinator does, against ``car``, from start to end."""
    snapshot = VehicleSnapshot.initial("1", "VIN", None)
    memory = PollMemory()
    pending = sorted(commands)
    run = Run()
    now = start
    last_fetch = None
    measure_from = start if measure_from is None else measure_from
    while now < end:
        decision = next_poll(snapshot, memory, now, settings, health_delay)
        due = now + decision.delay
        if pending and pending[0] <= due:
            now = pending.pop(0)
            if not car.awake(now):
                car.woken_by_us += 1  # 408 on the command: the coordinator wakes it
            elif snapshot.state is not VehicleState.ONLINE:
                # accepted without a wake: the owner woke it (as the coordinator does)
                memory = memory.after_sleep_check(
                    VehicleState.ONLINE, now, previous=snapshot.state
                )
            car.last_data = max(car.last_data, now)
            snapshot = snapshot.with_state(VehicleState.ONLINE, now)
            memory = memory.after_command(now)
            continue
        probe = now
        while probe < due:  # staleness of the location while the car drives
            if car.activity(probe) == "drive" and probe >= measure_from:
                age = probe - (last_fetch if last_fetch is not None else -1e12)
                run.driving_staleness = max(run.driving_staleness, age)
            probe += 5
        now = due
        if now >= end:
            break
        if now >= measure_from:
            run.times.append((now, decision.action))
        previous = snapshot.state
        if decision.action is VD and car.awake(now):
            if now >= measure_from:
                run.requests["vehicle_data"] += 1
            data = _data(car.activity(now), locked=car.locked(now))
            snapshot = snapshot.with_data(data, now)
            memory = memory.after_vehicle_data(data, now)
            car.last_data = last_fetch = now
            run.keeps_awake_until = now + 900
            continue
        if now >= measure_from:
            run.requests["408" if decision.action is VD else "sleep_check"] += 1
        state = VehicleState.ONLINE if car.awake(now) else VehicleState.ASLEEP
        snapshot = snapshot.with_state(state, now)
        memory = memory.after_sleep_check(state, now, previous=previous)
    return run


def test_night_asleep_only_sleep_checks() -> None:
    """A sleeping car gets only sleep checks, at the configured rate, and never a wake."""
    car = VirtualCar()
    run = replay(car, T0, T0 + 8 * H)
    assert run.requests == Counter({"sleep_check": 8 * 6})
    assert {action for _, action in run.times} == {CHECK}
    gaps = {b - a for (a, _), (b, _) in pairwise(run.times)}
    assert gaps == {600.0}
    assert car.woken_by_us == 0
    slow = replay(
        VirtualCar(), T0, T0 + 8 * H, replace(SETTINGS, sleep_check_interval=900)
    )
    assert slow.requests == Counter({"sleep_check": 32})


def test_drive_polls_every_driving_interval() -> None:
    """While driving, vehicle_data every driving_interval: the location stays fresh."""
    car = VirtualCar([(T0, T0 + H, "drive")])
    run = replay(car, T0 - 60, T0 + H, measure_from=T0 + 600)
    data_times = [t for t, action in run.times if action is VD]
    gaps = {b - a for a, b in pairwise(data_times)}
    assert gaps == {SETTINGS.driving_interval}
    assert run.requests["sleep_check"] == 0
    assert run.driving_staleness <= 90


def test_parked_after_drive_falls_asleep() -> None:
    """After parking: the poll that sees the car parked, then sleep checks only."""
    drive_end = T0 + 1800
    car = VirtualCar([(T0, drive_end, "drive")])
    run = replay(car, T0, T0 + 4 * H)
    after = [t for t, action in run.times if action is VD and t >= drive_end]
    assert len(after) == 1
    assert after[0] < drive_end + SETTINGS.driving_interval
    # The car sleeps 15 minutes after that one request: at most one interval late.
    assert run.keeps_awake_until <= drive_end + SETTINGS.driving_interval + 900
    assert not car.awake(drive_end + SETTINGS.driving_interval + 900)
    assert all(action is CHECK for t, action in run.times if t > max(after))


def test_idle_grace_polls_after_parking() -> None:
    """With an idle grace, vehicle_data every idle_interval within it after parking."""
    settings = replace(SETTINGS, idle_grace=300, idle_interval=120)
    drive_end = T0 + 1800
    run = replay(VirtualCar([(T0, drive_end, "drive")]), T0, T0 + 4 * H, settings)
    after = [t for t, action in run.times if action is VD and t >= drive_end]
    assert 2 <= len(after) <= 3
    assert max(after) < drive_end + 300 + SETTINGS.driving_interval


def test_unlock_before_drive_catches_the_drive() -> None:
    """The owner wakes the car, unlocks it from HA and drives off 5 minutes later.

    The car was believed asleep: the command goes through without a wake, counts as
    the owner's activity, and polling at the driving interval sees the drive at once.
    """
    wake, unlock, drive = T0 + 2 * H, T0 + 2 * H + 300, T0 + 2 * H + 600
    car = VirtualCar(
        [(drive, drive + 1800, "drive")], wakes=[wake], unlocked=[(unlock, drive)]
    )
    # A phase of sleep checks that misses the wake-up until after the command.
    run = replay(car, T0 + 400, T0 + 4 * H, commands=(unlock,))
    assert car.woken_by_us == 0
    assert run.driving_staleness <= SETTINGS.driving_interval
    grace = [t for t, action in run.times if unlock < t < drive and action is VD]
    assert len(grace) >= 3


def test_lock_after_parking_lets_the_car_sleep() -> None:
    """A lock command on a parked car: one confirmation, no grace, the car sleeps."""
    drive_end = T0 + 1800
    lock = drive_end + 300
    car = VirtualCar([(T0, drive_end, "drive")], unlocked=[(T0, lock)])
    run = replay(car, T0, T0 + 4 * H, commands=(lock,))
    after = [t for t, action in run.times if action is VD and t > lock]
    assert after == [lock + SETTINGS.confirm_delay]
    assert run.keeps_awake_until == lock + SETTINGS.confirm_delay + 900
    assert car.woken_by_us == 0


def test_climate_then_drive_is_seen_at_once() -> None:
    """Pre-conditioning polls at the active interval: the drive after it is seen soon."""
    climate, drive = T0 + 2 * H, T0 + 2 * H + 600
    car = VirtualCar([(climate, drive, "climate"), (drive, drive + 1800, "drive")])
    run = replay(car, T0, T0 + 4 * H)
    assert run.driving_staleness <= max(
        SETTINGS.active_interval, SETTINGS.driving_interval
    )
    assert car.woken_by_us == 0


def test_long_climate_slows_down() -> None:
    """Climate on for hours (camp mode): the long interval after long_active_after."""
    start = T0 + 600
    car = VirtualCar([(start, start + 4 * H, "climate")])
    run = replay(car, T0, T0 + 4 * H, measure_from=start + H)
    gaps = {
        b - a
        for (a, x), (b, y) in pairwise(run.times)
        if x is VD and y is VD and a > start + H
    }
    assert gaps == {SETTINGS.long_active_interval}


def test_car_kept_awake_by_something_else_is_rechecked() -> None:
    """Sentry mode: the car never sleeps; data is refreshed every recheck interval only."""
    car = VirtualCar([(T0, T0 + 600, "drive")], wakes=[T0 + k * 600 for k in range(60)])
    run = replay(car, T0, T0 + 8 * H, measure_from=T0 + 2 * H)
    assert 6 * 3 - 1 <= run.requests["vehicle_data"] <= 6 * 3 + 1
    assert run.requests["vehicle_data"] < 6 * 60 / 5  # far below idle polling


def test_command_on_sleeping_car_gets_one_confirmation() -> None:
    """A command wakes the car (the coordinator); the policy adds one confirmation."""
    car = VirtualCar()
    run = replay(car, T0, T0 + 2 * H, commands=(T0 + H,))
    assert car.woken_by_us == 1
    data_times = [t for t, action in run.times if action is VD]
    assert data_times[0] == T0 + H + SETTINGS.confirm_delay
    assert run.requests["vehicle_data"] == 1


def test_unhealthy_cloud_stretches_all_delays() -> None:
    """With a health delay of 900 s, no two requests are closer than that."""
    car = VirtualCar([(T0, T0 + H, "drive")])
    run = replay(car, T0, T0 + 3 * H, health_delay=900)
    gaps = [b - a for (a, _), (b, _) in pairwise(run.times)]
    assert min(gaps) >= 900


def standard_day(settings: PollingSettings = SETTINGS) -> tuple[Run, VirtualCar]:
    """DESIGN §8: replay two days, measure the second."""
    activities: list[tuple[float, float, str]] = []
    wakes: list[float] = []
    for day in range(3):
        base = T0 + day * 24 * H
        activities += [
            (base + 7.5 * H, base + 8 * H, "drive"),
            (base + 17 * H + 1200, base + 17.5 * H, "climate"),
            (base + 17.5 * H, base + 18 * H, "drive"),
            (base + 22 * H, base + 25 * H, "charge"),
        ]
        wakes.append(base + 7 * H + 1200)
    car = VirtualCar(activities, wakes)
    commands = (T0 + 24 * H + 12 * H, T0 + 24 * H + 17 * H + 1500)
    run = replay(
        car, T0, T0 + 48 * H, settings, commands=commands, measure_from=T0 + 24 * H
    )
    return run, car


def test_standard_day_cost() -> None:
    """The standard day stays within $4 per month when sleep checks are free."""
    run, car = standard_day()
    data_requests = run.requests["vehicle_data"] + run.requests["408"]
    usd_month_checks_free = data_requests * 0.002 * 30.44
    usd_month_all_billed = (data_requests + run.requests["sleep_check"]) * 0.002 * 30.44
    assert usd_month_checks_free <= 4.0
    assert usd_month_all_billed <= 12.0
    assert car.woken_by_us == 1  # the lock command at noon
