"""The standard day through a real Home Assistant with one integration (ours or HA core's
``tesla_fleet``), in virtual time, optionally with the seed outage and restart.

The simulator (virtual clock, one seed) scripts the car as the day benchmark does; with
``outage`` it answers every Fleet API and sign-in request with HTTP 503 from 07:00 to
08:00, and with ``restart`` Home Assistant is stopped at 07:30 (its stores written as on a
real shutdown) and a new instance starts from the same configuration directory with the
same config entry. The lock and unlock of the day go through the integration's lock
entity, as a user's would. Every figure comes from the simulator (its meter and its cars)
or from Home Assistant's state machine, the same way for both integrations.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
import random
import tempfile
from typing import Any

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er
from pytest_homeassistant_custom_component.common import MockConfigEntry  # type: ignore[import-untyped]

from tesla_sim import SimServer, World
from tesla_sim.vehicles import Vehicle

from .common import ACCOUNT_EMAIL, DAY_START, hhmm
from .figures import live_result
from .ha import HaRunner, home_assistant
from .integrations import Integration
from .scenario import (
    COMMANDS,
    OUTAGE_END,
    OUTAGE_START,
    RESTART_AT,
    SCHEDULE,
    SLEEP_MODELS,
    H,
    SleepModel,
    apply_sleep_model,
)

UNAVAILABLE = "unavailable"
SAMPLE_STEP = 60.0
"""Seconds between looks at the car when Home Assistant has nothing due (awake time,
driving); every timer Home Assistant runs is a look too."""
LOCK_KEY = "vehicle_state_locked"
"""The lock entity's unique-id suffix (``{vin}-vehicle_state_locked`` in both)."""
_VEHICLE_DATA = "/vehicle_data"
Action = Callable[[HaRunner], Awaitable[None]]
"""A scripted change at a time of the day (``run_live``'s ``actions``)."""


def car_state(car: Vehicle) -> str:
    """What the car does: asleep, waking, offline, driving, charging, climate, parked."""
    if not car.is_online:
        return "waking" if car.power == "waking" else car.reported_state
    if car.driving:
        return "driving"
    if car.charging:
        return "charging"
    return "climate" if car.climate_on else "parked"


@dataclass(slots=True)
class Timeline:
    """What a run's timeline plot needs: the car's state at every look, every request."""

    truth: list[tuple[float, str, bool]] = field(default_factory=list)
    """(time, :func:`car_state`, locked)."""
    requests: list[tuple[float, str, int]] = field(default_factory=list)
    """(time, category, status) of every metered request."""


@dataclass(slots=True)
class Tally:
    """Figures accumulated while Home Assistant runs."""

    last_time: float
    vin: str
    unavailable: int = 0
    driving: bool = False
    online: bool = False
    seen_log: int = 0
    location_at: float = 0.0
    """Last answered ``vehicle_data`` (it carries the location); the set-up's at first."""
    answered_at: float | None = None
    """Last answered sleep check or ``vehicle_data`` of the car."""
    drives: list[float] = field(default_factory=list)
    awake_s: float = 0.0
    unavailable_entity_seconds: float = 0.0
    unavailable_during_outage: float = 0.0
    recovered_at: float | None = None
    max_unavailable_entities: int = 0
    commands: list[dict[str, Any]] = field(default_factory=list)
    usual_unavailable: list[str] | None = None
    """Entities unavailable just before the outage (by design, e.g. no route)."""
    timeline: Timeline | None = None

    def advance(self, when: float, outage: tuple[float, float]) -> None:
        """Charge the interval up to ``when`` with what was seen at its start."""
        dt = max(0.0, when - self.last_time)
        self.unavailable_entity_seconds += self.unavailable * dt
        if self.online:
            self.awake_s += dt
        if self.driving:
            self.drives[-1] = max(self.drives[-1], when - self.location_at)
        lo, hi = max(self.last_time, outage[0]), min(when, outage[1])
        if hi > lo:
            self.unavailable_during_outage += self.unavailable * (hi - lo)
        self.last_time = when

    def read_meter(self, world: World) -> None:
        """Note the car's answered requests logged since the last look."""
        log = world.meter.log
        for item in list(log)[self.seen_log :]:
            if item.vin != self.vin or item.status != 200:
                continue
            if item.path.endswith(_VEHICLE_DATA):
                self.location_at = item.time
            if item.category in ("check", "data"):
                self.answered_at = item.time
        self.seen_log = len(log)


def _observe(
    runner: HaRunner,
    integration: Integration,
    entry: MockConfigEntry,
    tally: Tally,
    outage: tuple[float, float],
) -> None:
    """Charge the time since the last look, then look: unavailable entities, the car,
    the meter, the recovery."""
    world = runner.sim.world
    now = world.now()
    tally.advance(now, outage)
    tally.read_meter(world)
    states = runner.states()
    if tally.usual_unavailable is None and now >= outage[0]:
        tally.usual_unavailable = sorted(
            e for e, s in states.items() if s == UNAVAILABLE
        )
    tally.unavailable = sum(1 for s in states.values() if s == UNAVAILABLE)
    tally.max_unavailable_entities = max(
        tally.max_unavailable_entities, tally.unavailable
    )
    car = world.vehicle(tally.vin)
    if car.driving and not tally.driving:
        tally.drives.append(0.0)
    tally.driving, tally.online = car.driving, car.is_online
    if tally.timeline is not None:
        tally.timeline.truth.append((now, car_state(car), car.locked))
    if (
        tally.recovered_at is None
        and now >= outage[1]
        and (tally.answered_at or 0.0) >= outage[1]
        and integration.healthy(entry, outage[1])
    ):
        tally.recovered_at = now


def _lock_entity(runner: HaRunner) -> str | None:
    registry = er.async_get(runner.hass)
    for entity in registry.entities.values():
        if (
            entity.platform == runner.platform
            and entity.domain == "lock"
            and entity.unique_id.endswith(f"-{LOCK_KEY}")
        ):
            return entity.entity_id
    return None


async def _command(runner: HaRunner, vin: str, command: str) -> dict[str, Any]:
    """Lock or unlock through the lock entity, as a user would: what Home Assistant
    answered, what reached the simulator meanwhile, and the car's lock afterwards."""
    world = runner.sim.world
    before = len(world.meter.log)
    entity_id = _lock_entity(runner)
    service = "lock" if command == "door_lock" else "unlock"
    answer = "ok"
    if entity_id is None:
        answer = "no lock entity"
    else:
        try:
            await runner.hass.services.async_call(
                "lock", service, {"entity_id": entity_id}, blocking=True
            )
        except HomeAssistantError as err:
            answer = f"refused: {err}"
    sent = [
        f"{item.category} {item.status}"
        for item in list(world.meter.log)[before:]
        if item.category in ("command", "wake")
    ]
    locked = world.vehicle(vin).locked
    return {
        "result": answer,
        "sent": sent,
        "car_locked_after": locked,
        "done": locked == (command == "door_lock"),
    }


async def run_live(
    integration: Integration,
    *,
    hours: float = 24.0,
    outage: bool = True,
    restart: bool = True,
    seed: int = 1,
    sleep_model: SleepModel = SLEEP_MODELS["awake"],
    signed: bool = False,
    timeline: Timeline | None = None,
    actions: Sequence[tuple[float, Action]] = (),
) -> dict[str, Any]:
    """Run the standard day (its first ``hours``) through Home Assistant.

    ``actions``: (seconds after midnight, action) run after the schedule's change, the
    command and the look at the car of the same moment (``bench home``'s range).

    ``signed``: the car requires signed commands (else it also takes plain REST); the
    integration's key is on its whitelist either way. The outage figures refer to the
    07:00-08:00 window even when no fault is injected. ``seed`` seeds the simulator
    and ``random`` (back-off and retry jitter). ``timeline`` is filled for a plot.
    """
    start = DAY_START
    end = start + hours * H
    window = (start + OUTAGE_START, start + OUTAGE_END)
    random.seed(seed)
    async with SimServer(
        seed=seed, virtual_clock=True, start_time=start, rest_commands=not signed
    ) as sim:
        world = sim.world
        apply_sleep_model(world, sleep_model)
        account = world.account_by_email(ACCOUNT_EMAIL)
        if account is None:  # pragma: no cover - the default world has it
            raise KeyError(ACCOUNT_EMAIL)
        vin = account.vins[0]
        if outage:
            world.faults.add(
                world.faults.parse(
                    {"kind": "outage", "start_at": window[0], "seconds": H}, start
                )
            )
        events = _events(start, hours, restart)
        events += [(start + t, 4, str(i)) for i, (t, _) in enumerate(actions)]
        events.sort()
        tally = Tally(last_time=start, vin=vin, location_at=start, timeline=timeline)
        restored: dict[str, dict[str, str]] = {}
        entry = await integration.entry(sim, ACCOUNT_EMAIL)
        with (
            integration.context(sim),
            tempfile.TemporaryDirectory() as config_dir,
        ):
            instance = 0
            while True:
                instance += 1
                async with home_assistant(config_dir) as hass:
                    runner = HaRunner(hass, sim, integration.domain)
                    await integration.prepare(hass)
                    if instance == 1:
                        # the owner approves the integration's key in the Tesla app
                        key = await integration.signing_key(hass, config_dir)
                        world.approve_virtual_key(vin, key)
                    loaded = await runner.add_entry(entry)
                    if instance == 1 and not loaded:
                        raise RuntimeError(f"config entry did not load: {entry.state}")
                    runner.write_unavailable_states()
                    if instance > 1:
                        restored["after"] = runner.states()
                    _observe(runner, integration, entry, tally, window)
                    stopped = False

                    def on_step(
                        when: float, runner: HaRunner = runner, entry: Any = entry
                    ) -> None:
                        # what Home Assistant shows now, held until ``when``
                        _observe(runner, integration, entry, tally, window)
                        tally.advance(when, window)

                    while events:
                        when, kind, what = events[0]
                        await runner.run_until(when, on_step)
                        _observe(runner, integration, entry, tally, window)
                        events.pop(0)
                        if kind == 0:
                            world.vehicle(vin).set_activity(what, world.now())
                        elif kind == 1:
                            done = await _command(runner, vin, what)
                            tally.commands.append(
                                {"at": hhmm(when - start), "command": what, **done}
                            )
                        elif kind == 2:
                            restored["before"] = runner.states()
                            stopped = True
                            break
                        elif kind == 4:
                            await actions[int(what)][1](runner)
                        await runner.idle()
                        _observe(runner, integration, entry, tally, window)
                    if not stopped:
                        await runner.run_until(end, on_step)
                        _observe(runner, integration, entry, tally, window)
                        break
                # the next instance gets the entry as it is now (tokens may have rotated)
                entry = MockConfigEntry(
                    domain=entry.domain,
                    title=entry.title,
                    unique_id=entry.unique_id,
                    entry_id=entry.entry_id,
                    data=dict(entry.data),
                    options=dict(entry.options),
                    subentries_data=[s.as_dict() for s in entry.subentries.values()],
                )
                tally.unavailable = 0
        if timeline is not None:
            timeline.requests = [
                (item.time, item.category, item.status) for item in world.meter.log
            ]
        return {
            "seed": seed,
            "sleep_model": sleep_model.name,
            "car_requires_signed_commands": signed,
            **live_result(world, tally, restored, window, start, hours),
        }


def _events(start: float, hours: float, restart: bool) -> list[tuple[float, int, str]]:
    """Scripted changes (0), commands (1), the restart (2) and looks at the car (3), in
    time order (at one moment in that order)."""
    span = hours * H
    events = [(start + t, 0, a) for t, a in SCHEDULE if t < span]
    events += [(start + t, 1, c) for t, c in COMMANDS if t < span]
    if restart and span > RESTART_AT:
        events.append((start + RESTART_AT, 2, "restart"))
    events += [(start + k * SAMPLE_STEP, 3, "") for k in range(int(span / SAMPLE_STEP))]
    return sorted(events)
