"""The seed scenario of issue 5: Tesla's cloud down for an hour, HA restarted mid-outage.

Runs in virtual time: ``freezer`` moves Home Assistant's clock, the event loop's clock and
the simulator's (real) clock together; ``async_fire_time_changed`` runs what is due.

Timeline (minutes after the outage starts):

* before 0: the entry is set up and polls normally for five minutes;
* 0-20: every Fleet API and sign-in request answers 503;
* 20-40: every request hangs (the client gives up after its 30 s timeout);
* 40-60: every connection is refused;
* 30: Home Assistant "restarts": the entry is unloaded (which flushes the last known
  state and the outage's start to disk) and set up again from the store, while
  requests hang; the new instance resumes the outage (``cloud_connection`` off, the
  repair issue with the original start) right after set-up;
* 60: the cloud is back.

The restart is an unload followed by a fresh set-up of the same entry (new client, new
CloudHealth, the store re-read from Home Assistant's storage), not ``async_reload``, so
the time between the two can be ticked while the set-up's first request hangs.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
import logging
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, STATE_OFF, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.tesla_resilient.account import OUTAGE_ISSUE_ID
from custom_components.tesla_resilient.const import DOMAIN
from custom_components.tesla_resilient.errors import format_since
from custom_components.tesla_resilient.health import HealthState, max_outage_requests
from custom_components.tesla_resilient.snapshot import DataSource
from tesla_sim import SimServer
from tests.ha_fixtures import add_fault, setup_entry

LOGGER_NAME = "custom_components.tesla_resilient"
OUTAGE_START_LOG = "Tesla cloud unreachable since"
OUTAGE_END_LOG = "Tesla cloud reachable again"
STEP = 30.0
"""Seconds of virtual time per tick."""
MINUTE = 60.0
EXPECTED_VEHICLES = 2
"""The TOTP account's Model S and Model Y."""
RECOVERY_TARGET = 60.0
"""Seconds after the cloud's return within which every vehicle is fresh again."""
VOLATILE_KEYS = frozenset({"data_source", "cloud_connection"})
"""Entities that exist to say the cloud is gone; every other one keeps its value."""


def meter_total(sim: SimServer) -> int:
    """Every Fleet API and sign-in request the simulator counted."""
    return sum(sim.world.meter.requests.values())


class Scenario:
    """Drives virtual time and watches every entity of the entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: MockConfigEntry,
        freezer: FrozenDateTimeFactory,
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.freezer = freezer
        self.restarting = False
        self.hang_window: tuple[float, float] | None = None
        """Epoch times between which requests may hang (no waiting for them)."""
        self.unavailable: list[str] = []
        self.issue_seen_at: list[float] = []
        self.entity_ids = {
            e.entity_id
            for e in er.async_entries_for_config_entry(
                er.async_get(hass), entry.entry_id
            )
            if not e.disabled
        }
        hass.bus.async_listen(EVENT_STATE_CHANGED, self._on_state)

    @callback
    def _on_state(self, event: Event[Any]) -> None:
        new = event.data.get("new_state")
        if (
            not self.restarting
            and event.data["entity_id"] in self.entity_ids
            and (new is None or new.state == STATE_UNAVAILABLE)
        ):
            self.unavailable.append(event.data["entity_id"])

    def states(self) -> dict[str, str]:
        """State of every enabled entity, by unique id."""
        registry = er.async_get(self.hass)
        out = {}
        for entity_id in self.entity_ids:
            entity = registry.async_get(entity_id)
            state = self.hass.states.get(entity_id)
            assert entity is not None
            assert state is not None, entity_id
            out[entity.unique_id] = state.state
        return out

    def assert_available(self) -> None:
        """No entity of the entry is unavailable (checked after every tick)."""
        assert not self.unavailable
        for entity_id in self.entity_ids:
            state = self.hass.states.get(entity_id)
            assert state is not None, entity_id
            assert state.state != STATE_UNAVAILABLE, entity_id

    @property
    def issue_present(self) -> bool:
        """Whether the outage repair issue is shown."""
        return self._issue() is not None

    @property
    def issue_since(self) -> str | None:
        """The outage start the repair issue shows."""
        issue = self._issue()
        if issue is None or issue.translation_placeholders is None:
            return None
        return issue.translation_placeholders["since"]

    def _issue(self) -> ir.IssueEntry | None:
        return ir.async_get(self.hass).async_get_issue(
            DOMAIN, f"{OUTAGE_ISSUE_ID}_{self.entry.entry_id}"
        )

    async def settle(self, *, background: bool) -> None:
        """Let requests over loopback finish.

        With ``background`` every refresh task is awaited; while requests hang that
        would wait forever (their timeouts need virtual time), so then the loop only
        gets a few real milliseconds to process I/O.
        """
        if background:
            await self.hass.async_block_till_done(wait_background_tasks=True)
            return
        for _ in range(3):
            await self.hass.async_block_till_done()
            await self.hass.async_add_executor_job(time.sleep, 0.01)
        await self.hass.async_block_till_done()

    def may_hang(self) -> bool:
        """Whether a request sent now (or still open) may hang."""
        now = time.time()
        return self.hang_window is not None and (
            self.hang_window[0] <= now <= self.hang_window[1]
        )

    async def tick(self, seconds: float = STEP) -> None:
        """Advance virtual time by ``seconds``, run what is due, settle, check."""
        self.freezer.tick(timedelta(seconds=seconds))
        async_fire_time_changed(self.hass)
        await self.settle(background=not self.may_hang())
        if not self.restarting:
            self.assert_available()
            if self.issue_present:
                self.issue_seen_at.append(time.time())

    async def run(
        self,
        seconds: float,
        *,
        until: Callable[[], bool] | None = None,
        step: float = STEP,
    ) -> None:
        """Tick for ``seconds`` (or until ``until()`` holds), ``step`` at a time."""
        end = time.time() + seconds
        while time.time() < end - 1e-6:
            if until is not None and until():
                return
            await self.tick(min(step, end - time.time()))

    async def run_while(self, awaitable: Awaitable[Any], *, step: float = 10.0) -> Any:
        """Await ``awaitable`` while ticking (its requests may hang until timeouts)."""
        task = asyncio.ensure_future(awaitable)
        for _ in range(200):
            await self.settle(background=False)
            if task.done():
                break
            await self.tick(step)
        return task.result()


async def test_seed_outage(
    freezer: FrozenDateTimeFactory,
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    sim: SimServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One hour of outage with a restart in the middle: nothing goes unavailable."""
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    entry = await setup_entry(hass, config_entry)
    assert entry.state is ConfigEntryState.LOADED
    assert len(entry.runtime_data.vehicles) == EXPECTED_VEHICLES
    scenario = Scenario(hass, entry, freezer)
    scenario.assert_available()

    # Normal operation for five minutes, every vehicle fresh from the cloud.
    await scenario.run(5 * MINUTE)
    for vehicle in entry.runtime_data.vehicles.values():
        assert vehicle.data_source is DataSource.CLOUD
    before = scenario.states()
    lock_before = {
        uid: state
        for uid, state in before.items()
        if uid.endswith("-vehicle_state_locked")
    }
    assert lock_before
    assert set(lock_before.values()) == {"locked"}

    # The outage: 5xx, then hangs, then refused connections, 20 minutes each.
    outage_start = time.time()
    requests_at_start = meter_total(sim)
    add_fault(sim, "outage", 20 * MINUTE, status=503)
    add_fault(sim, "hang", 20 * MINUTE, start_in=20 * MINUTE)
    add_fault(sim, "refuse", 20 * MINUTE, start_in=40 * MINUTE)
    # A request sent while hangs are injected ends with the client's timeout (30 s)
    # at the latest; the margin covers the tick that runs it.
    scenario.hang_window = (outage_start + 20 * MINUTE, outage_start + 41 * MINUTE)
    log_mark = len(caplog.records)

    # 0-20: 5xx. The outage is detected, entities keep their values.
    await scenario.run(20 * MINUTE)
    health = entry.runtime_data.health
    assert health.state is HealthState.OUTAGE
    for vehicle in entry.runtime_data.vehicles.values():
        assert not vehicle.cloud_connected
        assert vehicle.data_source is DataSource.CACHE
    during = scenario.states()
    assert {
        k: v for k, v in during.items() if k.rsplit("-", 1)[1] not in VOLATILE_KEYS
    } == {k: v for k, v in before.items() if k.rsplit("-", 1)[1] not in VOLATILE_KEYS}

    # 20-30: hangs.
    await scenario.run(10 * MINUTE)
    lock_ids = [
        e.entity_id
        for e in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if e.unique_id.endswith("-vehicle_state_locked")
    ]
    lock_state = hass.states.get(lock_ids[0])
    assert lock_state is not None
    assert lock_state.state == "locked"
    start_logs_first_run = [
        r
        for r in caplog.records[log_mark:]
        if r.getMessage().startswith(OUTAGE_START_LOG)
    ]
    assert len(start_logs_first_run) == 1
    # Parked, idle cars are not polled often: the outage was noticed at the next poll,
    # and the repair issue follows ten minutes after that.
    assert scenario.issue_present

    first_since = health.outage_since
    assert first_since is not None
    assert scenario.issue_since == format_since(first_since)

    # Minute 30: Home Assistant restarts while every request hangs.
    scenario.restarting = True
    assert await hass.config_entries.async_unload(entry.entry_id)
    restart_mark = len(caplog.records)
    assert await scenario.run_while(hass.config_entries.async_setup(entry.entry_id))
    await scenario.settle(background=False)
    scenario.restarting = False
    assert entry.state is ConfigEntryState.LOADED
    assert len(entry.runtime_data.vehicles) == EXPECTED_VEHICLES
    after_restart = scenario.states()
    assert set(after_restart) == set(before)
    for uid, value in before.items():
        key = uid.rsplit("-", 1)[1]
        if key == "data_source":
            assert after_restart[uid] == DataSource.CACHE.value
        elif key == "cloud_connection":
            # The saved outage is resumed: off right after set-up, not "on" until
            # the new instance has counted three failures of its own.
            assert after_restart[uid] == STATE_OFF, uid
        else:
            assert after_restart[uid] == value, uid
    assert entry.runtime_data.health.state is HealthState.OUTAGE
    assert entry.runtime_data.health.outage_since == first_since
    assert scenario.issue_since == format_since(first_since)
    scenario.assert_available()

    # Until 40: still hanging; 40-60: connections refused.
    await scenario.run(outage_start + 60 * MINUTE - STEP - time.time())
    assert entry.runtime_data.health.state is HealthState.OUTAGE
    assert scenario.issue_present
    requests_during_outage = meter_total(sim) - requests_at_start
    pollers = EXPECTED_VEHICLES + 1
    bound = 2 * max_outage_requests(60 * MINUTE, pollers)
    # Bound: two Home Assistant runs, each at most outage_after + pollers requests
    # before the outage is recognised plus one probe per (minimum) backoff. For the
    # defaults (3 failures, backoff 10 s doubling to a 40 s cap with jitter in the
    # upper half, timers up to 2 s early, 3 pollers) this is 2 * (3 + 3 + 200) = 412,
    # none of them billed (5xx, hangs, refused connections).
    assert 0 < requests_during_outage <= bound, (requests_during_outage, bound)

    # The cloud is back: within one probe interval (the backoff cap) every vehicle
    # is fresh from the cloud again, the repair issue is gone.
    await scenario.run(STEP)
    outage_end = outage_start + 60 * MINUTE
    assert time.time() >= outage_end
    await scenario.run(
        RECOVERY_TARGET + STEP,
        step=5.0,
        until=lambda: (
            entry.runtime_data.health.state is HealthState.OK
            and all(
                v.data_source is DataSource.CLOUD
                and (v.snapshot.state_checked_at or 0) >= outage_end
                for v in entry.runtime_data.vehicles.values()
            )
        ),
    )
    recovered_at = time.time()
    assert recovered_at - outage_end <= RECOVERY_TARGET
    assert entry.runtime_data.health.state is HealthState.OK
    for vehicle in entry.runtime_data.vehicles.values():
        assert vehicle.cloud_connected
        assert vehicle.data_source is DataSource.CLOUD
        assert (vehicle.snapshot.state_checked_at or 0) >= outage_end
    assert not scenario.issue_present
    assert scenario.issue_seen_at
    scenario.assert_available()

    second_run = [r.getMessage() for r in caplog.records[restart_mark:]]
    assert sum(m.startswith(OUTAGE_START_LOG) for m in second_run) == 1
    assert sum(m.startswith(OUTAGE_END_LOG) for m in second_run) == 1
    assert not [
        r
        for r in caplog.records[log_mark:]
        if r.name.startswith(LOGGER_NAME) and r.levelno >= logging.WARNING
    ]
    print(
        f"requests during outage: {requests_during_outage} (bound {bound}); "
        f"recovered {recovered_at - outage_end:.0f} s after the cloud came back; "
        f"lock at minute 30: {lock_state.state} {dict(lock_state.attributes)}"
    )
    assert await hass.config_entries.async_unload(entry.entry_id)
