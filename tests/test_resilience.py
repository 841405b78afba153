"""Tests of CloudHealth (pure, virtual time) and LastKnownStore (a real Home Assistant)."""

from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
from hypothesis import given, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.tesla_resilient.api.errors import (
    AuthFailed,
    CloudUnavailable,
    CommandFailed,
    Forbidden,
    MalformedResponse,
    RateLimited,
    VehicleAsleep,
)
from custom_components.tesla_resilient.api.models import VehicleData, VehicleState
from custom_components.tesla_resilient.resilience import (
    BACKOFF_CAP,
    SAVE_DELAY,
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
    CloudHealth,
    HealthState,
    LastKnownStore,
)
from custom_components.tesla_resilient.snapshot import DataSource, VehicleSnapshot

T0 = 1_750_000_000.0


class VirtualClock:
    """A settable clock."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _health(jitter: float = 0.5, **kwargs: Any) -> tuple[CloudHealth, VirtualClock]:
    clock = VirtualClock()
    return CloudHealth(clock=clock, jitter=lambda: jitter, **kwargs), clock


def _state(health: CloudHealth) -> HealthState:
    """The state, read through a call (keeps mypy from narrowing the property)."""
    return health.state


# --- CloudHealth -----------------------------------------------------------------------


def test_state_machine_ok_degraded_outage_recovery() -> None:
    """1 failure degrades, 3 start an outage (once), a success ends it."""
    health, clock = _health()
    assert _state(health) is HealthState.OK
    assert health.wait_time() is None
    assert health.record_failure(CloudUnavailable("503")) is False
    assert _state(health) is HealthState.DEGRADED
    clock.now += 20
    assert health.record_failure(MalformedResponse("bad body")) is False
    clock.now += 30
    assert health.record_failure(TimeoutError()) is True
    assert _state(health) is HealthState.OUTAGE
    assert health.outage_since == T0  # the failing streak's start
    assert health.last_error == "TimeoutError"
    clock.now += 60
    assert health.record_failure(CloudUnavailable("503")) is False  # already in outage
    assert health.outage_duration == 110
    assert health.record_success() is True
    assert _state(health) is HealthState.OK
    assert health.as_dict()["outage_since"] is None
    assert health.as_dict()["outage_duration"] is None
    assert health.retry_delay() == 0
    assert health.next_attempt_at is None
    assert health.record_success() is False


def test_resume_outage_after_a_restart() -> None:
    """resume_outage: straight into outage with the saved start and a normal backoff."""
    health, clock = _health(jitter=0.0)
    health.record_failure(CloudUnavailable("503"))  # the set-up's failed request
    health.resume_outage(T0 - 1800)
    assert _state(health) is HealthState.OUTAGE
    assert health.outage_since == T0 - 1800
    assert health.outage_duration == 1800
    assert health.failures == health.outage_after
    # The backoff after outage_after failures (jitter 0: its lower half's bound).
    assert health.retry_delay() == health.backoff(health.outage_after) == 20
    assert health.can_attempt() is False
    clock.now += 20
    assert health.can_attempt() is True  # one probe per backoff period
    assert health.can_attempt() is False
    assert health.record_failure(CloudUnavailable("503")) is False  # still the same
    assert health.outage_since == T0 - 1800
    assert health.record_success() is True
    assert health.outage_since is None


def test_resume_outage_from_the_future_starts_now() -> None:
    """A saved start later than now (clock set back) counts as now."""
    health, _ = _health()
    health.resume_outage(T0 + 3600)
    assert health.outage_since == T0
    assert health.outage_duration == 0


def test_degraded_success_does_not_report_recovery() -> None:
    """A success after fewer than outage_after failures ends no outage."""
    health, _ = _health(outage_after=2)
    health.record_failure(OSError("unreachable"))
    assert health.record_success() is False
    assert _state(health) is HealthState.OK


@pytest.mark.parametrize(
    "error",
    [
        VehicleAsleep(),
        AuthFailed(),
        Forbidden(),
        CommandFailed("busy"),
        ValueError("x"),
    ],
)
def test_answers_from_a_working_cloud_change_nothing(error: BaseException) -> None:
    """Asleep (callers must not report it), auth and other answers are no failures."""
    health, _ = _health()
    health.record_failure(CloudUnavailable("503"))
    before = health.as_dict()
    assert health.record_failure(error) is False
    assert health.as_dict() == before
    assert _state(health) is HealthState.DEGRADED


def test_rate_limit_sets_not_before_and_is_no_outage() -> None:
    """429: wait retry_after; never an outage, however many."""
    health, clock = _health()
    for _ in range(5):
        assert health.record_failure(RateLimited(120)) is False
    assert _state(health) is HealthState.OK
    assert health.next_attempt_at == T0 + 120
    assert health.wait_time() == 120
    assert not health.can_attempt()
    assert health.record_failure(RateLimited(30)) is False  # never shortens the wait
    assert health.rate_limited_until == T0 + 120
    clock.now += 120
    assert health.can_attempt()
    assert health.wait_time() == 0
    assert health.as_dict()["rate_limited_until"].startswith("2025-")


def test_backoff_grows_to_the_cap() -> None:
    """Base 10 s, factor 2, cap 300 s; equal jitter keeps the upper half."""
    health, _ = _health(jitter=0.0)
    delays = []
    for _ in range(8):
        health.record_failure(CloudUnavailable("503"))
        delays.append(health.retry_delay())
    assert delays == [5, 10, 20, 40, 80, 150, 150, 150]
    top, _ = _health(jitter=0.999999)
    top.record_failure(CloudUnavailable("503"))
    assert 9.99 < top.retry_delay() < 10
    assert top.backoff(0) == 0
    assert top.backoff(10_000) <= BACKOFF_CAP


@pytest.mark.parametrize("outcome", ["failure", "success", "silence"])
def test_circuit_breaker(outcome: str) -> None:
    """Backoff, then one probe; its outcome (or another backoff period) frees the next."""
    health, clock = _health(jitter=0.0)
    for _ in range(3):
        health.record_failure(CloudUnavailable("503"))
    assert health.retry_delay() == 20
    assert not health.can_attempt()
    clock.now += 19
    assert not health.can_attempt()
    assert health.wait_time() == 1
    clock.now += 1
    assert health.can_attempt()  # the probe
    assert not health.can_attempt()  # only one
    clock.now += 10
    assert not health.can_attempt(clock.now)
    if outcome == "failure":
        health.record_failure(CloudUnavailable("503"))
        assert not health.can_attempt()
        clock.now += health.retry_delay()
        assert health.can_attempt()
    elif outcome == "success":
        health.record_success()
        assert health.can_attempt()
        assert health.can_attempt()
    else:
        clock.now += 10  # the probe never reported: a new one after a backoff period
        assert health.can_attempt()
        assert not health.can_attempt()


def test_as_dict_for_diagnostics() -> None:
    """Diagnostics show the state, counts and ISO times."""
    health, clock = _health(jitter=0.0)
    for _ in range(3):
        health.record_failure(CloudUnavailable("503"))
    clock.now += 5
    info = health.as_dict()
    assert info["state"] == "outage"
    assert info["consecutive_failures"] == 3
    assert info["last_error"] == "CloudUnavailable"
    assert info["outage_since"] == "2025-06-15T15:06:40+00:00"
    assert info["outage_duration"] == 5
    assert info["retry_delay"] == 20
    assert info["rate_limited_until"] is None
    health.record_success()
    assert health.as_dict()["last_success_at"] == "2025-06-15T15:06:45+00:00"


def test_default_clock_and_jitter() -> None:
    """Without injection it uses the wall clock and random jitter within bounds."""
    health = CloudHealth()
    health.record_failure(CloudUnavailable("503"))
    assert 5 <= health.retry_delay() < 10
    assert 0 <= (health.wait_time() or 0) <= 10
    assert health.can_attempt()


@given(
    jitters=st.lists(
        st.floats(min_value=0, max_value=1, exclude_max=True), min_size=1, max_size=40
    ),
    base=st.floats(min_value=0.1, max_value=60),
    factor=st.floats(min_value=1, max_value=4),
    cap=st.floats(min_value=1, max_value=3600),
)
def test_backoff_property(
    jitters: list[float], base: float, factor: float, cap: float
) -> None:
    """Every delay is within [0, cap]; its expectation never decreases with failures."""
    values = iter(jitters)
    health = CloudHealth(
        clock=lambda: T0,
        jitter=lambda: next(values),
        base_delay=base,
        factor=factor,
        max_delay=cap,
    )
    for _ in jitters:
        health.record_failure(CloudUnavailable("503"))
        assert 0 <= health.retry_delay() <= cap
    expected = [min(cap, base * factor ** (n - 1)) * 0.75 for n in range(1, 41)]
    assert expected == sorted(expected)


# --- LastKnownStore ----------------------------------------------------------------------

ENTRY_ID = "entry1"
KEY = f"tesla_resilient.{ENTRY_ID}"


def _snapshot(vehicle_id: str = "111", level: int = 80) -> VehicleSnapshot:
    data = VehicleData.from_api(
        {
            "state": "online",
            "charge_state": {"battery_level": level},
            "vehicle_state": {"locked": True},
        }
    )
    return VehicleSnapshot.initial(vehicle_id, "VIN" + vehicle_id, "Car").with_data(
        data, T0
    )


async def test_load_empty(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    """Nothing saved: an empty dict, no warning."""
    store = LastKnownStore(hass, ENTRY_ID)
    assert store.key == KEY
    assert await store.async_load() == {}
    assert store.get("111") is None


async def test_update_saves_after_a_delay_and_restores_as_cache(
    hass: HomeAssistant, hass_storage: dict[str, Any], freezer: FrozenDateTimeFactory
) -> None:
    """update() writes once after SAVE_DELAY, not per call; load marks it as cache."""
    store = LastKnownStore(hass, ENTRY_ID)
    await store.async_load()
    store.update(_snapshot(level=80))
    store.update(_snapshot(level=81))
    await hass.async_block_till_done()
    assert KEY not in hass_storage
    freezer.tick(timedelta(seconds=SAVE_DELAY + 1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    saved = hass_storage[KEY]
    assert saved["version"] == STORAGE_VERSION
    assert saved["data"]["vehicles"]["111"]["data"]["charge_state_battery_level"] == 81

    restored = await LastKnownStore(hass, ENTRY_ID).async_load()
    assert list(restored) == ["111"]
    assert restored["111"].source is DataSource.CACHE
    assert restored["111"].data is not None
    assert restored["111"].data.locked is True
    assert restored["111"] == _snapshot(level=81).as_cache()


async def test_flush_writes_now_and_only_when_changed(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """async_flush writes pending changes immediately; nothing pending, nothing written."""
    store = LastKnownStore(hass, ENTRY_ID)
    await store.async_flush()
    assert KEY not in hass_storage
    store.update(_snapshot())
    await store.async_flush()
    assert "111" in hass_storage[KEY]["data"]["vehicles"]
    hass_storage[KEY]["data"]["vehicles"]["marker"] = {}
    await store.async_flush()  # nothing changed since: no rewrite
    assert "marker" in hass_storage[KEY]["data"]["vehicles"]


async def test_final_write_saves_pending_changes(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Home Assistant's Store writes a pending delayed save when HA shuts down."""
    store = LastKnownStore(hass, ENTRY_ID)
    await store.async_load()
    store.update(_snapshot())
    hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
    await hass.async_block_till_done()
    assert "111" in hass_storage[KEY]["data"]["vehicles"]


async def test_remove_vehicle_and_entry(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """remove() forgets a vehicle; async_remove() deletes the file."""
    store = LastKnownStore(hass, ENTRY_ID)
    store.update(_snapshot("111"))
    store.update(_snapshot("222"))
    store.remove("111")
    store.remove("333")  # unknown: nothing happens
    await store.async_flush()
    assert list(hass_storage[KEY]["data"]["vehicles"]) == ["222"]
    assert list(store.snapshots) == ["222"]
    await store.async_remove()
    assert KEY not in hass_storage
    assert store.snapshots == {}
    await store.async_flush()
    assert KEY not in hass_storage


async def test_memory_wins_over_disk(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """A snapshot updated before the load is not replaced by an older saved one."""
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": 1,
        "data": {
            "vehicles": {
                "111": _snapshot(level=50).to_dict(),
                "222": _snapshot("222").to_dict(),
            }
        },
    }
    store = LastKnownStore(hass, ENTRY_ID)
    store.update(_snapshot(level=90))
    loaded = await store.async_load()
    assert loaded["111"].data is not None
    assert loaded["111"].data.get("charge_state_battery_level") == 90
    assert loaded["222"].source is DataSource.CACHE
    # The save scheduled after the load keeps both vehicles.
    await store.async_flush()
    assert set(hass_storage[KEY]["data"]["vehicles"]) == {"111", "222"}


async def test_older_minor_version_is_migrated(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Minor versions read as they are (newer ones too: they only add keys)."""
    for minor in (0, 7):
        hass_storage[KEY] = {
            "version": 1,
            "minor_version": minor,
            "data": {"vehicles": {"111": {**_snapshot().to_dict(), "future": 1}}},
        }
        store = LastKnownStore(hass, ENTRY_ID)
        loaded = await store.async_load()
        assert loaded["111"].data is not None
        assert store.outage_since is None
        assert hass_storage[KEY]["minor_version"] == STORAGE_MINOR_VERSION


async def test_minor_version_1_gains_outage_since(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The old shape (no outage_since) is migrated and written in the new one."""
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": 1,
        "data": {"vehicles": {"111": _snapshot().to_dict()}},
    }
    store = LastKnownStore(hass, ENTRY_ID)
    assert list(await store.async_load()) == ["111"]
    assert store.outage_since is None
    assert hass_storage[KEY]["minor_version"] == STORAGE_MINOR_VERSION == 2
    assert hass_storage[KEY]["data"]["outage_since"] is None
    assert "111" in hass_storage[KEY]["data"]["vehicles"]


async def test_outage_since_round_trip(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """outage_since is saved with the snapshots, read back, and cleared."""
    store = LastKnownStore(hass, ENTRY_ID)
    assert await store.async_load() == {}
    assert store.outage_since is None
    store.update(_snapshot())
    store.set_outage_since(T0)
    await store.async_flush()
    assert hass_storage[KEY]["minor_version"] == STORAGE_MINOR_VERSION
    assert hass_storage[KEY]["data"]["outage_since"] == T0

    again = LastKnownStore(hass, ENTRY_ID)
    assert list(await again.async_load()) == ["111"]
    assert again.outage_since == T0
    again.set_outage_since(T0)  # unchanged: nothing to write
    hass_storage[KEY]["data"]["marker"] = 1
    await again.async_flush()
    assert "marker" in hass_storage[KEY]["data"]
    again.set_outage_since(None)
    await again.async_flush()
    assert hass_storage[KEY]["data"]["outage_since"] is None
    assert "111" in hass_storage[KEY]["data"]["vehicles"]
    assert (
        await LastKnownStore(hass, ENTRY_ID).async_load()
    ).keys() == again.snapshots.keys()
    await again.async_remove()
    assert again.outage_since is None


async def test_outage_since_in_memory_wins_over_disk(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """An outage start set (or cleared) before the load is not replaced by the saved one."""
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": STORAGE_MINOR_VERSION,
        "data": {"vehicles": {}, "outage_since": T0},
    }
    store = LastKnownStore(hass, ENTRY_ID)
    store.set_outage_since(None)
    await store.async_load()
    assert store.outage_since is None


@pytest.mark.parametrize(
    "value", ["yesterday", True, -5.0, 0, float("nan"), float("inf"), [T0], {"t": T0}]
)
async def test_bad_outage_since_is_ignored(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    value: Any,
) -> None:
    """An odd outage_since is ignored (one warning); the snapshots still load."""
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": STORAGE_MINOR_VERSION,
        "data": {"vehicles": {"111": _snapshot().to_dict()}, "outage_since": value},
    }
    store = LastKnownStore(hass, ENTRY_ID)
    assert list(await store.async_load()) == ["111"]
    assert store.outage_since is None
    assert "Ignoring 1 unreadable" in caplog.text


async def test_integer_outage_since_is_read_as_float(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """An integer epoch time (hand-edited file) is fine."""
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": STORAGE_MINOR_VERSION,
        "data": {"vehicles": {}, "outage_since": 1_750_000_000},
    }
    store = LastKnownStore(hass, ENTRY_ID)
    await store.async_load()
    assert store.outage_since == T0
    assert isinstance(store.outage_since, float)


BAD_STORES: list[tuple[str, Any]] = [
    ("newer major version", {"version": 2, "data": {"vehicles": {}}}),
    ("older major version", {"version": 0, "data": {"vehicles": {}}}),
    ("no version", {"data": {"vehicles": {}}}),
    ("data not a mapping", {"version": 1, "data": ["x"]}),
    ("vehicles not a mapping", {"version": 1, "data": {"vehicles": "x"}}),
    (
        "garbage entries",
        {"version": 1, "data": {"vehicles": {"1": 5, "2": {"vehicle_id": "3"}}}},
    ),
]


@pytest.mark.parametrize(
    "stored", [case[1] for case in BAD_STORES], ids=[c[0] for c in BAD_STORES]
)
async def test_bad_store_one_warning_start_empty(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    stored: Any,
) -> None:
    """Corrupt, unknown-version or garbage stores: one warning, empty, no exception."""
    hass_storage[KEY] = stored
    caplog.set_level(logging.WARNING, logger="custom_components.tesla_resilient")
    store = LastKnownStore(hass, ENTRY_ID)
    assert await store.async_load() == {}
    ours = [
        r
        for r in caplog.records
        if r.name.startswith("custom_components.tesla_resilient")
    ]
    assert len(ours) == 1
    assert ours[0].levelno == logging.WARNING
    # The store keeps working afterwards.
    store.update(_snapshot())
    await store.async_flush()
    assert hass_storage[KEY]["version"] == 1
    assert "111" in hass_storage[KEY]["data"]["vehicles"]


async def test_good_entries_survive_bad_neighbours(
    hass: HomeAssistant, hass_storage: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """One unreadable vehicle does not cost the others their last known state."""
    hass_storage[KEY] = {
        "version": 1,
        "data": {"vehicles": {"111": _snapshot().to_dict(), "bad": {"vehicle_id": 1}}},
    }
    loaded = await LastKnownStore(hass, ENTRY_ID).async_load()
    assert list(loaded) == ["111"]
    assert "Ignoring 1 unreadable" in caplog.text
    assert VehicleState.ONLINE is loaded["111"].state
