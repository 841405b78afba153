"""Run the real integration in a real Home Assistant, in-process, in virtual time.

Home Assistant comes from ``pytest_homeassistant_custom_component``'s
``async_test_home_assistant`` (the instance the integration's own tests use), with a real
configuration directory on disk so the last-known-state store survives a restart.

Virtual time: the simulator runs on its virtual clock, and the integration's injected
clocks (coordinators, cloud health, tokens) are pointed at it. :meth:`HaRunner.run_until`
moves time forward timer by timer: it takes Home Assistant's earliest scheduled timer
(a coordinator refresh, a confirming refresh, a delayed store write...), advances the
simulator's clock to its due time, runs it, waits until Home Assistant is idle, and
repeats. Timers of aiohttp (connection keep-alive) are left to real time.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
import sys
from types import ModuleType
from typing import Any

from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import DOMAIN as HA_DOMAIN, HomeAssistant
from homeassistant.helpers import entity_registry as er, frame, translation
from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
    MockConfigEntry,
    async_test_home_assistant,
    get_scheduled_timer_handles,
)

from custom_components.tesla_resilient import (
    account as account_module,
    const as const_module,
    coordinator as coordinator_module,
)
from custom_components.tesla_resilient.api import TeslaAuth
from custom_components.tesla_resilient.api.oauth import TokenManager
from custom_components.tesla_resilient.const import DOMAIN
from custom_components.tesla_resilient.health import CloudHealth
from tesla_sim import SimServer

PACKAGE = "custom_components.tesla_resilient"
_CLOCKED: tuple[Callable[..., Any], ...] = (
    TeslaAuth.__init__,
    TokenManager.__init__,
    CloudHealth.__init__,
    account_module.AccountCoordinator.__init__,
    coordinator_module.VehicleCoordinator.__init__,
)


@contextmanager
def integration_clock(clock: Callable[[], float]) -> Iterator[None]:
    """Make ``clock`` the integration's injected clock (instead of the wall clock).

    Replaces the runtime's default clock (``const.wall_clock``, wherever a module of the
    integration imported it) and the ``clock`` default argument of its classes.
    """
    saved_defaults: list[tuple[Callable[..., Any], Any]] = []
    saved_names: list[tuple[ModuleType, Any]] = []
    original = getattr(const_module, "wall_clock", None)
    if original is not None:
        for name, module in list(sys.modules.items()):
            if (
                module is not None
                and name.startswith(PACKAGE)
                and getattr(module, "wall_clock", None) is original
            ):
                saved_names.append((module, original))
                setattr(module, "wall_clock", clock)  # noqa: B010
    for func in _CLOCKED:
        defaults = func.__kwdefaults__
        if defaults is not None and "clock" in defaults:
            saved_defaults.append((func, defaults["clock"]))
            defaults["clock"] = clock
    try:
        yield
    finally:
        for func, value in saved_defaults:
            kwdefaults = func.__kwdefaults__
            if kwdefaults is not None:
                kwdefaults["clock"] = value
        for module, value in saved_names:
            setattr(module, "wall_clock", value)  # noqa: B010


_BACKGROUND_MODULES = ("aiohttp", "zeroconf")
_BACKGROUND_NAMES = ("DeviceTracker.async_update_stale", "_weakref_handle", "86400")


def _background(handle: asyncio.TimerHandle) -> bool:
    """Timers left to real time: connection keep-alive, caches, legacy housekeeping."""
    callback = getattr(handle, "_callback", None)
    module = getattr(callback, "__module__", "") or ""
    if module.startswith(_BACKGROUND_MODULES):
        return True
    text = repr(callback)
    return any(name in text for name in _BACKGROUND_NAMES)


class HaRunner:
    """One Home Assistant instance with the integration, stepped in virtual time."""

    def __init__(
        self, hass: HomeAssistant, sim: SimServer, platform: str = DOMAIN
    ) -> None:
        """Wrap a started ``hass`` next to ``sim``; ``platform``: the integration whose
        entities :meth:`entity_ids` and :meth:`states` list (ours by default)."""
        self.hass = hass
        self.sim = sim
        self.platform = platform
        self._due: dict[int, tuple[asyncio.TimerHandle, float]] = {}

    @property
    def virtual(self) -> bool:
        """Whether the simulator (and so the integration) runs on virtual time."""
        return self.sim.world.clock.virtual

    async def add_entry(self, entry: MockConfigEntry) -> bool:
        """Add and set up ``entry``; True when it loaded."""
        if self.hass.config_entries.async_get_entry(entry.entry_id) is None:
            entry.add_to_hass(self.hass)
        await self.hass.config_entries.async_setup(entry.entry_id)
        await self.idle()
        return entry.state is ConfigEntryState.LOADED

    async def idle(self) -> None:
        """Wait until Home Assistant has nothing left to do now."""
        while True:
            await self.hass.async_block_till_done(wait_background_tasks=True)
            # config entries' background tasks (coordinator refreshes) are not awaited
            # by async_block_till_done
            pending = [
                task
                for entry in self.hass.config_entries.async_entries()
                for task in getattr(entry, "_background_tasks", ())
                if not task.done()
            ]
            if not pending:
                return
            await asyncio.wait(pending)

    def _next_timer(self) -> tuple[asyncio.TimerHandle, float] | None:
        """Home Assistant's earliest pending timer and its virtual due time.

        A timer's virtual due time is fixed when it is first seen (all timers are seen
        right after they were scheduled, since nothing runs between two looks but Home
        Assistant's own work): the virtual time then plus its remaining loop time.
        """
        now, loop_now = self.sim.world.now(), self.hass.loop.time()
        pending: dict[int, tuple[asyncio.TimerHandle, float]] = {}
        best: tuple[asyncio.TimerHandle, float] | None = None
        for handle in get_scheduled_timer_handles(self.hass.loop):
            if not isinstance(handle, asyncio.TimerHandle) or handle.cancelled():
                continue
            if _background(handle):
                continue
            known = self._due.get(id(handle))
            if known is not None and known[0] is handle:
                due = known[1]
            else:
                due = now + max(0.0, handle.when() - loop_now)
            pending[id(handle)] = (handle, due)
            if best is None or due < best[1]:
                best = (handle, due)
        self._due = pending
        return best

    def next_due(self) -> float | None:
        """Virtual time at which Home Assistant's next timer is due (None: no timer)."""
        found = self._next_timer()
        return None if found is None else found[1]

    async def run_until(
        self, target: float, on_step: Callable[[float], None] | None = None
    ) -> None:
        """Run every timer due up to virtual time ``target``, then set the clock to it."""
        world = self.sim.world
        await self.idle()
        while True:
            found = self._next_timer()
            if found is None or found[1] > target:
                break
            handle, due = found
            if due > world.now():
                if on_step is not None:
                    on_step(due)
                world.advance(due - world.now())
            owner = getattr(getattr(handle, "_callback", None), "__self__", None)
            if owner is not None and hasattr(owner, "_next_write_time"):
                # a Store's delayed write compares with the real loop time: it is due now
                owner._next_write_time = self.hass.loop.time()
            self._due.pop(id(handle), None)
            handle._run()
            handle.cancel()
            await self.idle()
        if target > world.now():
            if on_step is not None:
                on_step(target)
            world.advance(target - world.now())

    def write_unavailable_states(self) -> None:
        """What Home Assistant's start does: every enabled registered entity of the
        integration without a state is shown ``unavailable`` (restored) until its
        platform adds it (the test instance is already running, so its start did not)."""
        registry = er.async_get(self.hass)
        for entity in registry.entities.values():
            if (
                entity.platform == self.platform
                and not entity.disabled
                and self.hass.states.get(entity.entity_id) is None
            ):
                entity.write_unavailable_state(self.hass)

    def entity_ids(self) -> list[str]:
        """Entity ids of the integration (registry)."""
        return integration_entity_ids(self.hass, self.platform)

    def states(self) -> dict[str, str]:
        """Current state of every entity of the integration that has a state."""
        result: dict[str, str] = {}
        for entity_id in self.entity_ids():
            state = self.hass.states.get(entity_id)
            if state is not None:
                result[entity_id] = state.state
        return result


def integration_entity_ids(hass: HomeAssistant, platform: str = DOMAIN) -> list[str]:
    """Entity ids of an integration (ours by default) in the entity registry (enabled
    or not)."""
    registry = er.async_get(hass)
    return sorted(
        e.entity_id for e in registry.entities.values() if e.platform == platform
    )


@asynccontextmanager
async def home_assistant(config_dir: str) -> AsyncIterator[HomeAssistant]:
    """A started Home Assistant with custom integrations enabled, stopped on exit."""
    async with async_test_home_assistant(config_dir=config_dir) as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        frame.async_setup(hass)
        await translation.async_load_integrations(hass, {HA_DOMAIN})
        try:
            yield hass
        finally:
            if hass.state.value != "not_running":
                await hass.async_stop(force=True)
