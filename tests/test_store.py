"""Tests of LastKnownStore against a real Home Assistant's storage."""

from datetime import timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.tesla_resilient.api.errors import CloudUnavailable
from custom_components.tesla_resilient.api.models import VehicleData, VehicleState
from custom_components.tesla_resilient.health import CloudHealth
from custom_components.tesla_resilient.otp import GuardState
from custom_components.tesla_resilient.snapshot import DataSource, VehicleSnapshot
from custom_components.tesla_resilient.store import (
    SAVE_DELAY,
    STORAGE_MINOR_VERSION,
    STORAGE_VERSION,
    LastKnownStore,
)

T0 = 1_750_000_000.0

ENTRY_ID = "entry1"


def _health() -> CloudHealth:
    return CloudHealth(clock=lambda: T0 + 60, jitter=lambda: 0.5)


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
    assert await store.async_load() == {}
    assert KEY not in hass_storage


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
    assert list(await LastKnownStore(hass, ENTRY_ID).async_load()) == ["222"]
    await store.async_remove()
    assert KEY not in hass_storage
    assert await store.async_load() == {}
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
        assert store.saved_outage_since is None
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
    assert store.saved_outage_since is None
    assert hass_storage[KEY]["minor_version"] == STORAGE_MINOR_VERSION == 3
    assert hass_storage[KEY]["data"]["outage_since"] is None
    assert "111" in hass_storage[KEY]["data"]["vehicles"]


async def test_outage_since_round_trip(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """outage_since is saved with the snapshots, read back, and cleared."""
    health = _health()
    store = LastKnownStore(hass, ENTRY_ID, health)
    assert await store.async_load() == {}
    assert store.saved_outage_since is None
    store.update(_snapshot())
    health.resume_outage(T0)
    store.async_outage_changed()
    await store.async_flush()
    assert hass_storage[KEY]["minor_version"] == STORAGE_MINOR_VERSION
    assert hass_storage[KEY]["data"]["outage_since"] == T0

    health = _health()
    again = LastKnownStore(hass, ENTRY_ID, health)
    assert list(await again.async_load()) == ["111"]
    assert again.saved_outage_since == T0
    health.resume_outage(T0)
    again.async_outage_changed()  # unchanged: nothing to write
    hass_storage[KEY]["data"]["marker"] = 1
    await again.async_flush()
    assert "marker" in hass_storage[KEY]["data"]
    health.record_success()
    again.async_outage_changed()
    await again.async_flush()
    assert hass_storage[KEY]["data"]["outage_since"] is None
    assert "111" in hass_storage[KEY]["data"]["vehicles"]
    assert list(await LastKnownStore(hass, ENTRY_ID).async_load()) == ["111"]
    await again.async_remove()
    assert again.saved_outage_since is None


async def test_outage_since_in_memory_wins_over_disk(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The cloud health's outage start is what is written, not the saved one."""
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": STORAGE_MINOR_VERSION,
        "data": {"vehicles": {}, "outage_since": T0},
    }
    health = _health()
    health.record_failure(CloudUnavailable())
    store = LastKnownStore(hass, ENTRY_ID, health)
    await store.async_load()
    assert store.saved_outage_since == T0
    store.async_outage_changed()
    await store.async_flush()
    assert store.saved_outage_since is None
    assert hass_storage[KEY]["data"]["outage_since"] is None


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
    assert store.saved_outage_since is None
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
    assert store.saved_outage_since == T0
    assert isinstance(store.saved_outage_since, float)


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


async def test_guard_state_round_trip(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """The authenticator guard's state is saved (delayed, flushed) and read back."""
    store = LastKnownStore(hass, ENTRY_ID)
    await store.async_load()
    assert store.saved_guard is None
    state = GuardState("fingerprint", frozenset({60_000_000}), 5, T0 + 300)
    store.async_guard_changed(state)
    assert KEY not in hass_storage  # delayed
    await store.async_flush()
    assert hass_storage[KEY]["data"]["otp"] == state.as_dict()
    again = LastKnownStore(hass, ENTRY_ID)
    await again.async_load()
    assert again.saved_guard == state
    await again.async_remove()
    assert again.saved_guard is None


async def test_minor_version_2_gains_no_guard_state(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Saved before guard states were: the outage is kept, no guard state."""
    hass_storage[KEY] = {
        "version": 1,
        "minor_version": 2,
        "data": {"vehicles": {}, "outage_since": T0},
    }
    store = LastKnownStore(hass, ENTRY_ID)
    await store.async_load()
    assert store.saved_outage_since == T0
    assert store.saved_guard is None
