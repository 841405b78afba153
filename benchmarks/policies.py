"""Polling policies run by the benchmarks: ours (the integration's own code) and others'.

``OursPolicy`` drives :func:`custom_components.tesla_resilient.polling.next_poll` and the
real :class:`~custom_components.tesla_resilient.api.TeslaFleetClient` the way
``VehicleCoordinator`` does (ask the policy, do the request, record the outcome in
:class:`PollMemory`, ask again). The other policies model the published behaviour of other
integrations in the same harness, with the same client.
"""

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import ClassVar

from custom_components.tesla_resilient.api import (
    ALL_ENDPOINTS,
    TeslaFleetClient,
    VehicleAsleep,
    VehicleData,
    VehicleState,
)
from custom_components.tesla_resilient.polling import (
    MIN_INTERVAL,
    PollAction,
    PollingSettings,
    PollMemory,
    endpoints_for,
    next_poll,
)
from custom_components.tesla_resilient.snapshot import VehicleSnapshot

WAKE_CHECK_INTERVAL = 3.0
"""Seconds between sleep-state checks while waiting for a woken car (as the coordinator)."""
WAKE_TIMEOUT = 30.0
"""Longest wait for a woken car (as the coordinator)."""


@dataclass(slots=True)
class Observations:
    """What a policy learned, and when (virtual epoch seconds)."""

    locations: list[float] = field(default_factory=list)
    """Times a ``vehicle_data`` answer carried the car's location."""
    locks: list[float] = field(default_factory=list)
    """Times a ``vehicle_data`` answer carried the lock state."""
    polls: list[tuple[float, str]] = field(default_factory=list)
    """Every poll: (time, what the policy did)."""

    def record_data(self, data: VehicleData, now: float) -> None:
        """Note what a successful ``vehicle_data`` told."""
        if data.latitude is not None and data.longitude is not None:
            self.locations.append(now)
        if data.locked is not None:
            self.locks.append(now)


@dataclass(slots=True)
class PolicyContext:
    """Everything a policy needs to poll one vehicle."""

    client: TeslaFleetClient
    vehicle_id: str
    vin: str
    display_name: str | None
    clock: Callable[[], float]
    sleep: Callable[[float], Awaitable[None]]
    """Let virtual time pass (waiting for a woken car)."""
    observations: Observations = field(default_factory=Observations)


class Policy(ABC):
    """A polling policy for one vehicle, stepped by the benchmark harness."""

    name: ClassVar[str]
    description: ClassVar[str]

    def __init__(self, ctx: PolicyContext) -> None:
        """Start polling at once."""
        self.ctx = ctx
        self.next_at = ctx.clock()

    @abstractmethod
    async def poll(self, now: float) -> None:
        """Do what is due at ``now`` and set ``next_at``."""

    async def command(self, name: str, now: float) -> None:
        """Send a command from Home Assistant; wake the car first when it sleeps."""
        try:
            await self.ctx.client.command(self.ctx.vehicle_id, name)
        except VehicleAsleep:
            await self._wake()
            await self.ctx.client.command(self.ctx.vehicle_id, name)

    async def _wake(self) -> None:
        client, vid = self.ctx.client, self.ctx.vehicle_id
        summary = await client.wake_up(vid)
        waited = 0.0
        while summary.state is not VehicleState.ONLINE and waited < WAKE_TIMEOUT:
            await self.ctx.sleep(WAKE_CHECK_INTERVAL)
            waited += WAKE_CHECK_INTERVAL
            summary = await client.vehicle(vid)

    async def _vehicle_data(
        self, now: float, endpoints: Iterable[str] = ALL_ENDPOINTS
    ) -> VehicleData | None:
        """``vehicle_data``; ``None`` when the car sleeps (408)."""
        try:
            data = await self.ctx.client.vehicle_data(self.ctx.vehicle_id, endpoints)
        except VehicleAsleep:
            self.ctx.observations.polls.append((now, "vehicle_data_408"))
            return None
        self.ctx.observations.polls.append((now, "vehicle_data"))
        self.ctx.observations.record_data(data, now)
        return data

    async def _sleep_check(self, now: float) -> VehicleState:
        self.ctx.observations.polls.append((now, "sleep_check"))
        return (await self.ctx.client.vehicle(self.ctx.vehicle_id)).state


class OursPolicy(Policy):
    """Tesla Resilient: ``polling.next_poll`` decides every request."""

    name = "ours"
    description = (
        "Tesla Resilient's polling.next_poll (sleep checks while asleep or idle, "
        "vehicle_data while in use, one confirming refresh after a command)"
    )

    def __init__(
        self,
        ctx: PolicyContext,
        settings: PollingSettings | None = None,
        endpoints: Iterable[str] = ALL_ENDPOINTS,
    ) -> None:
        """Start from an empty snapshot, as the integration does on its first set-up."""
        super().__init__(ctx)
        self.settings = settings or PollingSettings()
        self.endpoints = endpoints_for(endpoints)
        self.snapshot = VehicleSnapshot.initial(
            ctx.vehicle_id, ctx.vin, ctx.display_name
        )
        self.memory = PollMemory()

    async def poll(self, now: float) -> None:
        """One coordinator update: ask the policy, do it, record it, ask again."""
        decision = next_poll(self.snapshot, self.memory, now, self.settings)
        if decision.action is PollAction.SLEEP_CHECK:
            await self._check(now)
            decision = next_poll(self.snapshot, self.memory, now, self.settings)
            if self.snapshot.state is VehicleState.ONLINE and (
                decision.action is PollAction.VEHICLE_DATA
                and decision.delay <= MIN_INTERVAL
            ):
                await self._fetch(now)
        else:
            await self._fetch(now)
        self._schedule(now)

    async def command(self, name: str, now: float) -> None:
        """As ``VehicleCoordinator.async_command``: send, wake only on 408, confirm."""
        previous = self.snapshot.state
        try:
            await self.ctx.client.command(self.ctx.vehicle_id, name)
        except VehicleAsleep:
            await self._wake()
            self.memory = replace(self.memory, last_sleep_check=self.ctx.clock())
            await self.ctx.client.command(self.ctx.vehicle_id, name)
        else:
            if previous is not VehicleState.ONLINE:
                # online without our wake_up: the owner woke it
                self.memory = self.memory.after_sleep_check(
                    VehicleState.ONLINE, self.ctx.clock(), previous=previous
                )
        sent = self.ctx.clock()
        self.snapshot = self.snapshot.with_state(VehicleState.ONLINE, sent)
        self.memory = self.memory.after_command(sent)
        self._schedule(sent)

    async def _check(self, now: float) -> None:
        previous = self.snapshot.state
        state = await self._sleep_check(now)
        self.memory = self.memory.after_sleep_check(state, now, previous=previous)
        self.snapshot = self.snapshot.with_state(state, now)

    async def _fetch(self, now: float) -> None:
        data = await self._vehicle_data(now, self.endpoints)
        if data is None:
            previous = self.snapshot.state
            self.memory = self.memory.after_sleep_check(
                VehicleState.ASLEEP, now, previous=previous
            )
            self.snapshot = self.snapshot.with_state(VehicleState.ASLEEP, now)
            return
        self.memory = self.memory.after_vehicle_data(data, now)
        self.snapshot = self.snapshot.with_data(data, now)

    def _schedule(self, now: float) -> None:
        decision = next_poll(self.snapshot, self.memory, now, self.settings)
        self.next_at = now + max(MIN_INTERVAL, decision.delay)


class Fixed60Policy(Policy):
    """``vehicle_data`` every 60 s whatever the car does (a sleeping car answers 408)."""

    name = "fixed_60s"
    description = "vehicle_data every 60 s, whatever the car does"
    interval = 60.0

    async def poll(self, now: float) -> None:
        """Fetch, come back in a minute."""
        await self._vehicle_data(now)
        self.next_at = now + self.interval


class List60Data660Policy(Policy):
    """The vehicle list every 60 s; ``vehicle_data`` every 660 s while it says online."""

    name = "list60_data660"
    description = "vehicle list every 60 s; vehicle_data every 660 s while online"
    list_interval = 60.0
    data_interval = 660.0

    def __init__(self, ctx: PolicyContext) -> None:
        """Nothing fetched yet."""
        super().__init__(ctx)
        self.last_data: float | None = None

    async def poll(self, now: float) -> None:
        """List; fetch data when online and due."""
        self.ctx.observations.polls.append((now, "sleep_check"))
        summaries = await self.ctx.client.vehicles()
        state = next(
            (s.state for s in summaries if s.id == self.ctx.vehicle_id),
            VehicleState.UNKNOWN,
        )
        if state is VehicleState.ONLINE and (
            self.last_data is None or now - self.last_data >= self.data_interval
        ):
            if await self._vehicle_data(now) is not None:
                self.last_data = now
        self.next_at = now + self.list_interval


class SleepCheck600Policy(Policy):
    """Every 10 minutes: the sleep state, then ``vehicle_data`` when online."""

    name = "sleepcheck_600"
    description = "sleep-state check every 10 min; vehicle_data when online"
    interval = 600.0

    async def poll(self, now: float) -> None:
        """Check, fetch when online."""
        if await self._sleep_check(now) is VehicleState.ONLINE:
            await self._vehicle_data(now)
        self.next_at = now + self.interval


POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (OursPolicy, Fixed60Policy, List60Data660Policy, SleepCheck600Policy)
}
