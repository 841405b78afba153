"""The seed outage: the standard day with Tesla's cloud down 07:00-08:00 and a Home
Assistant restart at 07:30, run through the real integration in a real Home Assistant.

The simulator (virtual clock) scripts the car exactly as the day benchmark does and
answers every Fleet API and sign-in request with HTTP 503 from 07:00 to 08:00. Home
Assistant is stopped at 07:30 (its stores written as on a real shutdown) and a new
instance starts from the same configuration directory with the same config entry.

A run's seed seeds the simulator and Python's ``random`` (the cloud health's backoff
jitter); ``--runs N`` repeats the day with N seeds and reports every run's recovery and
the worst against :data:`RECOVERY_TARGET`.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
import random
import sys
import tempfile
from typing import Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry  # type: ignore[import-untyped]

from custom_components.tesla_resilient.const import DOMAIN
from custom_components.tesla_resilient.health import max_outage_requests
from custom_components.tesla_resilient.snapshot import DataSource
from tesla_sim import SimServer

from .common import (
    ACCOUNT_EMAIL,
    DAY_START,
    SECONDS_PER_MONTH_FACTOR,
    bench_parser,
    dump,
    hhmm,
)
from .entries import integration_entry, make_config_entry
from .ha import HaRunner, home_assistant, integration_clock
from .scenario import COMMANDS, SCHEDULE, H, M

OUTAGE_START = 7 * H
OUTAGE_END = 8 * H
RESTART_AT = 7 * H + 30 * M
UNAVAILABLE = "unavailable"
RECOVERY_TARGET = 60.0
"""Seconds after the cloud's return by which every vehicle must be fresh again."""

Setup = Callable[[HaRunner, MockConfigEntry], Awaitable[None]]
"""Run in every Home Assistant instance before the entry is set up (``run_ha_day``)."""
Action = Callable[[HaRunner], Awaitable[None]]
"""A scripted change at a time of the day (``run_ha_day``'s ``actions``)."""


@dataclass(slots=True)
class _Tally:
    """Figures accumulated while Home Assistant runs."""

    last_time: float
    vin: str
    unavailable: int = 0
    driving: bool = False
    fetched_at: float | None = None
    max_location_age_driving: float = 0.0
    unavailable_entity_seconds: float = 0.0
    unavailable_during_outage: float = 0.0
    recovered_at: float | None = None
    max_unavailable_entities: int = 0
    commands: list[dict[str, Any]] = field(default_factory=list)

    def advance(self, when: float, outage: tuple[float, float]) -> None:
        """Charge the interval up to ``when`` with the current unavailable count."""
        dt = max(0.0, when - self.last_time)
        self.unavailable_entity_seconds += self.unavailable * dt
        if self.driving and self.fetched_at is not None:
            self.max_location_age_driving = max(
                self.max_location_age_driving, when - self.fetched_at
            )
        lo, hi = max(self.last_time, outage[0]), min(when, outage[1])
        if hi > lo:
            self.unavailable_during_outage += self.unavailable * (hi - lo)
        self.last_time = when


def _recovered(runner: HaRunner, entry: MockConfigEntry, since: float) -> bool:
    """Cloud connection back and every vehicle's state learned from the cloud again."""
    data = getattr(entry, "runtime_data", None)
    if data is None or data.account.in_outage:
        return False
    return all(
        vehicle.data.source is DataSource.CLOUD
        and (vehicle.data.state_checked_at or 0.0) >= since
        for vehicle in data.vehicles.values()
    )


def _entity_by_key(runner: HaRunner, domain: str, key: str) -> str | None:
    registry = er.async_get(runner.hass)
    for entity in registry.entities.values():
        if (
            entity.platform == DOMAIN
            and entity.domain == domain
            and entity.unique_id.endswith(f"-{key}")
        ):
            return entity.entity_id
    return None


async def run_outage(*, hours: float = 24.0, seed: int = 1) -> dict[str, Any]:
    """Run the seed scenario (its first ``hours``) with ``seed``; return the figures."""
    return await run_ha_day(hours=hours, outage=True, restart=True, seed=seed)


async def run_outages(*, hours: float = 24.0, seeds: Sequence[int]) -> dict[str, Any]:
    """Run the seed scenario once per seed; every run's recovery and the worst."""
    runs = [await run_outage(hours=hours, seed=seed) for seed in seeds]
    recoveries = [run["recovery_seconds"] for run in runs]
    worst = None if None in recoveries else max(recoveries)
    return {
        "benchmark": "outage",
        "hours": hours,
        "runs": [
            {
                "seed": run["seed"],
                "recovery_seconds": run["recovery_seconds"],
                "requests_during_outage": run["requests_during_outage"],
                "requests_during_outage_by_status": run[
                    "requests_during_outage_by_status"
                ],
                "restored_after_restart": run["restored_after_restart"],
                "commands": [c["result"] for c in run["commands"]],
            }
            for run in runs
        ],
        "worst_recovery_seconds": worst,
        "recovery_target_seconds": RECOVERY_TARGET,
        "recovery_target_met": worst is not None and worst <= RECOVERY_TARGET,
        "max_requests_during_outage": max(r["requests_during_outage"] for r in runs),
        "requests_during_outage_bound": runs[0]["requests_during_outage_bound"],
    }


async def run_ha_day(
    *,
    hours: float = 24.0,
    outage: bool = True,
    restart: bool = True,
    seed: int = 1,
    setup: Setup | None = None,
    actions: Sequence[tuple[float, Action]] = (),
) -> dict[str, Any]:
    """Run the standard day through Home Assistant, with or without outage and restart.

    The outage figures refer to the 07:00-08:00 window even when no fault is injected.
    ``seed`` seeds the simulator and ``random`` (the backoff's jitter). ``setup`` runs in
    each Home Assistant instance before the entry is set up; ``actions``: (time of day,
    action) run after the schedule's change and command of the same time.
    """
    start = DAY_START
    end = start + hours * H
    window = (start + OUTAGE_START, start + OUTAGE_END)
    random.seed(seed)
    async with SimServer(
        seed=seed, virtual_clock=True, start_time=start, rest_commands=True
    ) as sim:
        world = sim.world
        vin = next(iter(world.vehicles))
        if outage:
            world.faults.add(
                world.faults.parse(
                    {
                        "kind": "outage",
                        "start_at": window[0],
                        "seconds": window[1] - window[0],
                    },
                    world.now(),
                )
            )
        events: list[tuple[float, int, str]] = sorted(
            [(start + t, 0, a) for t, a in SCHEDULE if t < hours * H]
            + [(start + t, 1, c) for t, c in COMMANDS if t < hours * H]
            + (
                [(start + RESTART_AT, 2, "restart")]
                if restart and hours * H > RESTART_AT
                else []
            )
            + [
                (start + t, 3, str(i))
                for i, (t, _) in enumerate(actions)
                if t < hours * H
            ]
        )
        outage_window = window
        tally = _Tally(last_time=start, vin=vin)
        restored: dict[str, Any] = {}
        entry = await make_config_entry(sim, ACCOUNT_EMAIL)
        with integration_clock(world.now), tempfile.TemporaryDirectory() as config_dir:
            instance = 0
            while True:
                instance += 1
                async with home_assistant(config_dir) as hass:
                    runner = HaRunner(hass, sim)
                    if setup is not None:
                        await setup(runner, entry)
                    loaded = await runner.add_entry(entry)
                    if not loaded:
                        raise RuntimeError(f"config entry did not load: {entry.state}")
                    if instance > 1:
                        post = runner.states()
                        restored["after"] = post
                    _observe(runner, entry, tally, outage_window)
                    restart = False

                    def on_step(
                        when: float, runner: HaRunner = runner, entry: Any = entry
                    ) -> None:
                        # what Home Assistant shows now, held until ``when``
                        _observe(runner, entry, tally, outage_window)
                        tally.advance(when, outage_window)

                    while events:
                        when, kind, what = events[0]
                        await runner.run_until(when, on_step)
                        _observe(runner, entry, tally, outage_window)
                        events.pop(0)
                        if kind == 0:
                            world.vehicle(vin).set_activity(what, world.now())
                        elif kind == 1:
                            metered = sum(world.meter.requests.values())
                            result = await _command(runner, what)
                            tally.commands.append(
                                {
                                    "at": hhmm(when - start),
                                    "command": what,
                                    "result": result,
                                    "cloud_requests": sum(world.meter.requests.values())
                                    - metered,
                                }
                            )
                        elif kind == 3:
                            await actions[int(what)][1](runner)
                        else:
                            restored["before"] = runner.states()
                            restart = True
                            break
                        await runner.idle()
                        _observe(runner, entry, tally, outage_window)
                    if not restart:
                        await runner.run_until(end, on_step)
                        _observe(runner, entry, tally, outage_window)
                        break
                    # carry the entry (its tokens may have rotated) to the next instance
                    entry = integration_entry(
                        entry.title,
                        entry.unique_id,
                        entry.data,
                        options=entry.options,
                        entry_id=entry.entry_id,
                    )
                    tally.unavailable = 0
        result = _result(
            world=world,
            tally=tally,
            restored=restored,
            outage=outage_window,
            start=start,
            hours=hours,
        )
        # Two Home Assistant runs (the restart), each polling the account and its cars.
        pollers = 1 + len(world.vehicles)
        result["requests_during_outage_bound"] = 2 * max_outage_requests(
            window[1] - window[0], pollers
        )
        return {"seed": seed, **result}


async def _command(runner: HaRunner, command: str) -> str:
    """Lock or unlock through Home Assistant's lock entity, as a user would."""
    entity_id = _entity_by_key(runner, "lock", "vehicle_state_locked")
    if entity_id is None:
        return "no lock entity"
    service = "lock" if command == "door_lock" else "unlock"
    try:
        await runner.hass.services.async_call(
            "lock", service, {"entity_id": entity_id}, blocking=True
        )
    except HomeAssistantError as err:
        return f"refused: {err}"
    return "ok"


def _observe(
    runner: HaRunner, entry: MockConfigEntry, tally: _Tally, outage: tuple[float, float]
) -> None:
    """Count the unavailable entities now; note the recovery."""
    now = runner.sim.world.now()
    tally.advance(now, outage)
    states = runner.states()
    tally.unavailable = sum(1 for s in states.values() if s == UNAVAILABLE)
    tally.driving = runner.sim.world.vehicle(tally.vin).driving
    data = getattr(entry, "runtime_data", None)
    if data is not None:
        fetched = [
            v.data.fetched_at
            for v in data.vehicles.values()
            if v.data.data is not None and v.data.data.latitude is not None
        ]
        tally.fetched_at = max((f for f in fetched if f is not None), default=None)
    tally.max_unavailable_entities = max(
        tally.max_unavailable_entities, tally.unavailable
    )
    if (
        tally.recovered_at is None
        and now >= outage[1]
        and _recovered(runner, entry, outage[1])
    ):
        tally.recovered_at = now


def day_figures(meter: Any, hours: float, max_location_age: float) -> dict[str, Any]:
    """The day benchmark's figures for a run through Home Assistant (meter totals)."""
    scale = 24.0 / hours * SECONDS_PER_MONTH_FACTOR
    usd = meter.usd(checks_free=False)
    return {
        "requests": {
            k: meter.requests[k] for k in ("data", "check", "command", "wake", "auth")
        },
        "requests_total": sum(meter.requests.values()),
        "usd_per_day": round(usd * 24.0 / hours, 4),
        "usd_per_month": round(usd * scale, 2),
        "usd_per_month_checks_free": round(meter.usd(checks_free=True) * scale, 2),
        "wakes_caused": meter.wakes_caused,
        "awake_minutes_caused": round(meter.kept_awake_s / 60.0, 1),
        "max_location_age_driving_s": round(max_location_age, 1),
        "max_location_age_by_drive_s": None,
        "max_lock_age_s": None,
        "max_lock_age_wall_s": None,
    }


def _result(
    *,
    world: Any,
    tally: _Tally,
    restored: dict[str, Any],
    outage: tuple[float, float],
    start: float,
    hours: float,
) -> dict[str, Any]:
    during: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for entry in world.meter.log:
        if outage[0] <= entry.time < outage[1]:
            during[entry.category] = during.get(entry.category, 0) + 1
            statuses[str(entry.status)] = statuses.get(str(entry.status), 0) + 1
    before = restored.get("before", {})
    after = restored.get("after", {})
    differing = sorted(e for e, v in before.items() if after.get(e) != v)
    return {
        "benchmark": "outage",
        "hours": hours,
        "outage": {"from": hhmm(outage[0] - start), "to": hhmm(outage[1] - start)},
        "restart_at": hhmm(RESTART_AT),
        "unavailable_entity_seconds": round(tally.unavailable_entity_seconds, 1),
        "unavailable_entity_seconds_during_outage": round(
            tally.unavailable_during_outage, 1
        ),
        "max_unavailable_entities": tally.max_unavailable_entities,
        "requests_during_outage": sum(during.values()),
        "requests_during_outage_by_category": during,
        "requests_during_outage_by_status": statuses,
        "recovery_seconds": (
            None
            if tally.recovered_at is None
            else round(tally.recovered_at - outage[1], 1)
        ),
        "restored_after_restart": bool(before) and not differing,
        "entities_compared": len(before),
        "entities_not_restored": differing,
        "commands": tally.commands,
        "day": day_figures(world.meter, hours, tally.max_location_age_driving),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/bench outage [--json] [--hours H] [--runs N] [--seed S]``."""
    parser = bench_parser("outage", __doc__, hours=True, seeds=True)
    args = parser.parse_args(argv)
    if args.runs > 1:
        seeds = range(args.seed, args.seed + args.runs)
        result = asyncio.run(run_outages(hours=args.hours, seeds=seeds))
    else:
        result = asyncio.run(run_outage(hours=args.hours, seed=args.seed))
    if args.json:
        print(dump(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
