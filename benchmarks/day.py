"""The standard day (DESIGN.md §8) in virtual time, per polling policy.

The car's day, scripted through the simulator's control API at these times (UTC, the
simulated day starts at :data:`~benchmarks.common.DAY_START`):

=====  ==========================================================================
00:00  charging (the 22:00-01:00 session of the night before; the day is periodic)
01:00  charge done, unplugged, parked: the car falls asleep ~15 min later
07:20  the owner wakes the car (parked, awake)
07:25  HA sends ``door_unlock``
07:30  drive (45 mph) until 08:00
08:00  parked; 08:05 HA sends ``door_lock``; the car falls asleep ~08:20
17:20  climate pre-conditioning; 17:30 drive until 18:00; parked, asleep ~18:15
22:00  plugged in, charging (until the end of the day, continued at 00:00)
=====  ==========================================================================

The harness advances the simulator's virtual clock from event to event: the policy's next
poll, the next scripted change, or the next ground-truth sample (every ``sample_step``
seconds, read from the simulator's world, never metered).
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
import math
import sys
from typing import Any

from custom_components.tesla_resilient.polling import PollingSettings

from .common import (
    DAY_START,
    SECONDS_PER_MONTH_FACTOR,
    SimSession,
    bench_parser,
    dump,
    hhmm,
    sim_session,
)
from .live import car_state
from .outage import run_ha_day
from .plot import plot_timeline
from .policies import POLICIES, OursPolicy, Policy, PolicyContext
from .scenario import (
    COMMANDS,
    SCHEDULE,
    SLEEP_MODELS,
    TARGETS,
    H,
    SleepModel,
    apply_sleep_model,
)

OURS_HA = "ours_ha"
"""Our policy run through Home Assistant (coordinator + entities), no harness."""


@dataclass(slots=True)
class TruthSample:
    """What the simulated car really did at one moment."""

    time: float
    state: str  # asleep, parked, driving, charging, climate, waking, offline
    locked: bool


@dataclass(slots=True)
class DayRun:
    """One policy's day: the figures and what the timeline plot needs."""

    policy: str
    result: dict[str, Any]
    truth: list[TruthSample] = field(default_factory=list)
    requests: list[tuple[float, str, int]] = field(default_factory=list)
    """(time, category, status) of every metered request of the day."""


def _truth(sess: SimSession, vin: str) -> TruthSample:
    car = sess.sim.world.vehicle(vin)
    return TruthSample(sess.clock(), car_state(car), car.locked)


@dataclass(slots=True)
class _Ages:
    """Running staleness figures, evaluated at every event."""

    last_location: float | None = None
    last_lock: float | None = None
    awake_since_lock: float = 0.0
    max_location_age_driving: float = 0.0
    max_lock_age_awake: float = 0.0
    max_lock_age_wall: float = 0.0
    location_unknown_while_driving: bool = False
    in_drive: bool = False
    drives: list[float] = field(default_factory=list)
    """Max location age of each drive, in order."""


async def run_day(
    policy_name: str,
    *,
    settings: PollingSettings | None = None,
    hours: float = 24.0,
    sample_step: float = 10.0,
    label: str | None = None,
    sleep_model: SleepModel = SLEEP_MODELS["awake"],
) -> DayRun:
    """Run the standard day (its first ``hours``) for one policy on a fresh simulator
    whose car follows ``sleep_model``."""
    async with sim_session(virtual_clock=True, start_time=DAY_START) as sess:
        apply_sleep_model(sess.sim.world, sleep_model)
        summary = sess.vehicles[0]
        vin = summary.vin

        async def sleep(seconds: float) -> None:
            await sess.advance_to(sess.clock() + seconds)

        ctx = PolicyContext(
            client=sess.client,
            vehicle_id=summary.id,
            vin=vin,
            display_name=summary.display_name,
            clock=sess.clock,
            sleep=sleep,
        )
        policy: Policy
        if policy_name == OursPolicy.name:
            policy = OursPolicy(ctx, settings)
        else:
            policy = POLICIES[policy_name](ctx)
        start = sess.clock()
        end = start + hours * H
        # Scripted changes and commands, in time order (a change before a command).
        events: list[tuple[float, int, str]] = [
            (start + t, 0, a) for t, a in SCHEDULE if t < hours * H
        ] + [(start + t, 1, c) for t, c in COMMANDS if t < hours * H]
        events.sort()
        await sess.reset_meter()
        truth: list[TruthSample] = []
        ages = _Ages()
        obs = ctx.observations
        next_sample = start
        seen_locations = seen_locks = 0
        previous = _truth(sess, vin)
        while True:
            now = sess.clock()
            due = min(
                policy.next_at,
                events[0][0] if events else math.inf,
                next_sample,
                end,
            )
            if (
                due == next_sample
                and due < min(policy.next_at, end)
                and (not events or due < events[0][0])
            ):
                # a ground-truth sample only: move the clock in-process (cheaper)
                now = sess.sim.world.advance(max(0.0, due - now))
            else:
                now = await sess.advance_to(due)
            sample = _truth(sess, vin)
            _account(ages, previous, sample)
            previous = sample
            if now >= end:
                break
            while events and events[0][0] <= now:
                _, kind, what = events.pop(0)
                if kind == 0:
                    await sess.script(vin, what)
                else:
                    await policy.command(what, now)
            if now >= next_sample:
                truth.append(_truth(sess, vin))
                next_sample += sample_step
            if policy.next_at <= now:
                await policy.poll(now)
            # what this event taught the policy (after the staleness was measured)
            if len(obs.locations) > seen_locations:
                ages.last_location = obs.locations[-1]
                seen_locations = len(obs.locations)
            if len(obs.locks) > seen_locks:
                ages.last_lock = obs.locks[-1]
                ages.awake_since_lock = 0.0
                seen_locks = len(obs.locks)
            previous = _truth(sess, vin)
        meter = await sess.control("GET", "meter?log=100000")
        result = _result(meter, ages, hours)
        requests = [
            (entry["time"], entry["category"], entry["status"])
            for entry in meter.get("log", [])
        ]
        return DayRun(label or policy_name, result, truth, requests)


def _account(ages: _Ages, before: TruthSample, after: TruthSample) -> None:
    """Update the staleness figures for the interval from ``before`` to ``after``."""
    dt = after.time - before.time
    if before.state not in {"asleep", "offline", "waking"}:
        ages.awake_since_lock += dt
    ages.max_lock_age_awake = max(ages.max_lock_age_awake, ages.awake_since_lock)
    if (
        after.state not in {"asleep", "offline", "waking"}
        and ages.last_lock is not None
    ):
        ages.max_lock_age_wall = max(
            ages.max_lock_age_wall, after.time - ages.last_lock
        )
    if after.state == "driving" or before.state == "driving":
        if not ages.in_drive:
            ages.drives.append(0.0)
            ages.in_drive = True
        if ages.last_location is None:
            ages.location_unknown_while_driving = True
        else:
            age = after.time - ages.last_location
            ages.max_location_age_driving = max(ages.max_location_age_driving, age)
            ages.drives[-1] = max(ages.drives[-1], age)
    if after.state != "driving":
        ages.in_drive = False


def _result(meter: dict[str, Any], ages: _Ages, hours: float) -> dict[str, Any]:
    scale = 24.0 / hours * SECONDS_PER_MONTH_FACTOR
    categories = meter["categories"]
    return {
        "requests": {
            k: categories.get(k, 0)
            for k in ("data", "check", "command", "wake", "auth")
        },
        "requests_total": sum(categories.values()),
        "usd_per_day": round(meter["usd"] * 24.0 / hours, 4),
        "usd_per_month": round(meter["usd"] * scale, 2),
        "usd_per_month_checks_free": round(meter["usd_checks_free"] * scale, 2),
        "wakes_caused": meter["wakes_caused"],
        "awake_minutes_caused": round(meter["kept_awake_s"] / 60.0, 1),
        "max_location_age_driving_s": (
            None
            if ages.location_unknown_while_driving
            else round(ages.max_location_age_driving, 1)
        ),
        "max_location_age_by_drive_s": [round(a, 1) for a in ages.drives],
        "max_lock_age_s": round(ages.max_lock_age_awake, 1),
        "max_lock_age_wall_s": round(ages.max_lock_age_wall, 1),
    }


async def run_all(
    policies: Sequence[str] = tuple(POLICIES),
    *,
    hours: float = 24.0,
    with_ha: bool = False,
    sleep_model: SleepModel = SLEEP_MODELS["awake"],
) -> list[DayRun]:
    """Run the day for every policy (one fresh simulator each, ``sleep_model``).

    ``with_ha`` adds ``ours_ha``: the same day through the real integration in a real
    Home Assistant (the cross-check that the harness polls as the coordinator does).
    """
    runs = [
        await run_day(name, hours=hours, sleep_model=sleep_model) for name in policies
    ]
    if with_ha:
        doc = await run_ha_day(
            hours=hours, outage=False, restart=False, sleep_model=sleep_model
        )
        runs.append(DayRun(OURS_HA, doc["day"]))
    return runs


def report(
    runs: Sequence[DayRun],
    hours: float = 24.0,
    sleep_model: SleepModel = SLEEP_MODELS["awake"],
) -> dict[str, Any]:
    """The JSON document ``scripts/bench day --json`` prints."""
    ours = next((r for r in runs if r.policy == OursPolicy.name), None)
    doc: dict[str, Any] = {
        "benchmark": "day",
        "hours": hours,
        "sleep_model": {"name": sleep_model.name, "means": sleep_model.description},
        "schedule": [
            {"at": hhmm(t), "activity": a} for t, a in SCHEDULE if t < hours * H
        ],
        "commands": [
            {"at": hhmm(t), "command": c} for t, c in COMMANDS if t < hours * H
        ],
        "billing": {
            "usd_per_month": "every response below HTTP 500 billed (sleep checks too), x30 days",
            "usd_per_month_checks_free": "sleep-state checks free, everything else billed",
            "prices_usd": {
                "data": 0.002,
                "check": 0.002,
                "command": 0.001,
                "wake": 0.02,
            },
        },
        "policies": {r.policy: r.result for r in runs},
    }
    if ours is not None:
        doc["targets"] = {
            key: {
                "target": target,
                "ours": ours.result[key],
                "met": ours.result[key] is not None and ours.result[key] <= target,
            }
            for key, target in TARGETS.items()
        }
    return doc


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/bench day [--json] [--hours H] [--policy NAME]... [--plot PATH]``."""
    parser = bench_parser("day", __doc__, hours=True)
    parser.add_argument(
        "--policy",
        action="append",
        choices=sorted(POLICIES),
        help="only these policies",
    )
    parser.add_argument(
        "--plot", metavar="PNG", help="also draw the timeline to this file"
    )
    parser.add_argument(
        "--no-ha",
        action="store_true",
        help="skip ours_ha (the same day through a real Home Assistant)",
    )
    parser.add_argument(
        "--sleep-model",
        choices=sorted(SLEEP_MODELS),
        default="awake",
        help="how the simulated car falls asleep (scenario.SLEEP_MODELS)",
    )
    args = parser.parse_args(argv)
    model = SLEEP_MODELS[args.sleep_model]
    runs = asyncio.run(
        run_all(
            args.policy or tuple(POLICIES),
            hours=args.hours,
            with_ha=not args.no_ha,
            sleep_model=model,
        )
    )
    doc = report(runs, args.hours, model)
    if args.plot:
        plot_timeline([r for r in runs if r.truth], args.plot, hours=args.hours)
    if args.json:
        print(dump(doc))
    else:
        print(_table(doc))
    return 0


def _table(doc: dict[str, Any]) -> str:
    cols = (
        "usd_per_month",
        "usd_per_month_checks_free",
        "wakes_caused",
        "awake_minutes_caused",
        "max_location_age_driving_s",
        "max_lock_age_s",
    )
    lines = [
        "policy".ljust(16) + "".join(c[:14].rjust(16) for c in cols) + "  requests"
    ]
    for name, res in doc["policies"].items():
        lines.append(
            name.ljust(16)
            + "".join(str(res[c]).rjust(16) for c in cols)
            + f"  {res['requests']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
