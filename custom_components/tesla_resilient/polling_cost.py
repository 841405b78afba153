"""What the polling policy costs on the standard day, estimated in virtual time.

The options flow shows it for the intervals the owner picks. Pure: no I/O, no Home
Assistant. The car is a small model of the simulator's (``tesla_sim``): awake while it
drives, charges or runs its climate, asleep :data:`SLEEP_AFTER` seconds after the last
activity, command or ``vehicle_data``; a ``vehicle_data`` on a sleeping car answers 408
(billed). The policy runs as the coordinator runs it (``polling.next_poll``), so the
estimate follows ``scripts/bench day`` (BENCHMARKS.md) within a few requests.
"""

from dataclasses import dataclass

from .api.models import VehicleData, VehicleState
from .polling import MIN_INTERVAL, PollAction, PollingSettings, PollMemory, next_poll
from .snapshot import VehicleSnapshot

H = 3600.0
M = 60.0
DAY = 24 * H
SCHEDULE: tuple[tuple[float, str], ...] = (
    (0.0, "charge"),
    (1 * H, "park"),
    (7 * H + 20 * M, "park"),
    (7 * H + 30 * M, "drive"),
    (8 * H, "park"),
    (17 * H + 20 * M, "climate"),
    (17 * H + 30 * M, "drive"),
    (18 * H, "park"),
    (22 * H, "charge"),
)
"""The standard day (DESIGN.md §8): (seconds after midnight, activity); ``park`` on a
sleeping car wakes it (the owner)."""
COMMANDS: tuple[tuple[float, str], ...] = (
    (7 * H + 25 * M, "door_unlock"),
    (8 * H + 5 * M, "door_lock"),
)
"""(seconds after midnight, command) sent from Home Assistant on the standard day."""
SLEEP_AFTER = 900.0
"""Seconds of idleness (no activity, command or ``vehicle_data``) before a car sleeps."""
DATA_PRICE = 0.002
COMMAND_PRICE = 0.001
DAYS_PER_MONTH = 30
_ACTIVITY: dict[str, dict[str, object]] = {
    "charge": {
        "drive_state_shift_state": "P",
        "charge_state_charging_state": "Charging",
    },
    "park": {},
    "drive": {"drive_state_shift_state": "D", "drive_state_speed": 45.0},
    "climate": {"climate_state_is_climate_on": True},
}
"""The flattened values each activity shows (on top of a parked, idle car)."""


@dataclass(frozen=True, slots=True)
class DayCost:
    """The requests of one standard day and what a month of them costs (USD)."""

    vehicle_data: int
    sleep_checks: int
    commands: int

    @property
    def usd_per_month(self) -> float:
        """Every answer billed, sleep checks too."""
        return self.usd_per_month_checks_free + round(
            self.sleep_checks * DATA_PRICE * DAYS_PER_MONTH, 2
        )

    @property
    def usd_per_month_checks_free(self) -> float:
        """Sleep-state checks free, everything else billed."""
        day = self.vehicle_data * DATA_PRICE + self.commands * COMMAND_PRICE
        return round(day * DAYS_PER_MONTH, 2)


class _Car:
    """The car of the standard day: what it does, whether it is awake."""

    def __init__(self) -> None:
        self.activity = "park"
        self.locked = True
        self.awake = True
        self.idle_since = 0.0

    def at(self, now: float) -> None:
        """Fall asleep when idle long enough."""
        if self.awake and self.activity == "park":
            self.awake = now < self.idle_since + SLEEP_AFTER

    def touch(self, now: float) -> None:
        """An activity, a command or a ``vehicle_data``: awake, idle timer restarted."""
        self.awake = True
        self.idle_since = now

    def data(self) -> VehicleData:
        values: dict[str, object] = {
            "drive_state_shift_state": "P",
            "drive_state_speed": 0.0,
            "charge_state_charging_state": "Disconnected",
            "climate_state_is_climate_on": False,
            "vehicle_state_is_user_present": False,
            "vehicle_state_locked": self.locked,
        }
        return VehicleData({**values, **_ACTIVITY[self.activity]})


def standard_day_cost(settings: PollingSettings) -> DayCost:
    """Run the policy with ``settings`` through the standard day; count its requests."""
    car = _Car()
    snapshot = VehicleSnapshot.initial("1", "VIN", None)
    memory = PollMemory()
    counts = {"data": 0, "check": 0}
    events = sorted([(t, 0, a) for t, a in SCHEDULE] + [(t, 1, c) for t, c in COMMANDS])
    next_at = 0.0
    while True:
        asleep_at = (
            car.idle_since + SLEEP_AFTER
            if car.awake and car.activity == "park"
            else DAY
        )
        now = min(next_at, events[0][0] if events else DAY, asleep_at, DAY)
        car.at(now)
        if now >= DAY:
            return DayCost(counts["data"], counts["check"], len(COMMANDS))
        while events and events[0][0] <= now:
            _, kind, what = events.pop(0)
            if kind == 0:
                car.activity = what
                car.touch(now)
            else:
                car.locked = what == "door_lock"
                car.touch(now)
                if snapshot.state is not VehicleState.ONLINE:
                    memory = memory.after_sleep_check(
                        VehicleState.ONLINE, now, previous=snapshot.state
                    )
                snapshot = snapshot.with_state(VehicleState.ONLINE, now)
                memory = memory.after_command(now)
                next_at = now + max(
                    MIN_INTERVAL, _delay(snapshot, memory, now, settings)
                )
        if next_at > now:
            continue
        decision = next_poll(snapshot, memory, now, settings)
        if decision.action is PollAction.SLEEP_CHECK:
            counts["check"] += 1
            state = VehicleState.ONLINE if car.awake else VehicleState.ASLEEP
            memory = memory.after_sleep_check(state, now, previous=snapshot.state)
            snapshot = snapshot.with_state(state, now)
            decision = next_poll(snapshot, memory, now, settings)
            fetch = state is VehicleState.ONLINE and (
                decision.action is PollAction.VEHICLE_DATA
                and decision.delay <= MIN_INTERVAL
            )
        else:
            fetch = True
        if fetch:
            counts["data"] += 1
            if car.awake:
                car.touch(now)
                data = car.data()
                memory = memory.after_vehicle_data(data, now)
                snapshot = snapshot.with_data(data, now)
            else:  # 408, billed
                memory = memory.after_sleep_check(
                    VehicleState.ASLEEP, now, previous=snapshot.state
                )
                snapshot = snapshot.with_state(VehicleState.ASLEEP, now)
        next_at = now + max(MIN_INTERVAL, _delay(snapshot, memory, now, settings))


def _delay(
    snapshot: VehicleSnapshot,
    memory: PollMemory,
    now: float,
    settings: PollingSettings,
) -> float:
    return next_poll(snapshot, memory, now, settings).delay
