"""Tests of the vehicle snapshot (pure data, no Home Assistant)."""

import json
import math
from typing import Any

import pytest

from custom_components.tesla_resilient.api.models import VehicleData, VehicleState
from custom_components.tesla_resilient.snapshot import DataSource, VehicleSnapshot

PAYLOAD = {
    "id_s": "1492931337",
    "state": "online",
    "charge_state": {"battery_level": 80, "charge_port_color": "<invalid>"},
    "drive_state": {"shift_state": None, "latitude": 52.5, "longitude": 13.4},
    "vehicle_state": {"locked": True, "timestamp": 1_700_000_000_000},
}


def _snapshot() -> VehicleSnapshot:
    return VehicleSnapshot.initial("1492931337", "5YJ3E1EA7KF000000", "Red").with_data(
        VehicleData.from_api(PAYLOAD), 1_700_000_100.0
    )


def test_initial_snapshot_knows_nothing() -> None:
    """A new vehicle has no data and an unknown sleep state."""
    snapshot = VehicleSnapshot.initial("1", "VIN1", None)
    assert snapshot.data is None
    assert snapshot.fetched_at is None
    assert snapshot.state is VehicleState.UNKNOWN
    assert snapshot.state_checked_at is None
    assert snapshot.source is DataSource.CLOUD


def test_with_data_merges_partial_selections() -> None:
    """Keys missing from a partial vehicle_data keep their older values."""
    first = _snapshot()
    partial = VehicleData.from_api(
        {"state": "online", "charge_state": {"battery_level": 79}}
    )
    second = first.as_cache().with_data(partial, 1_700_000_200.0)
    assert second.data is not None
    assert second.data.get("charge_state_battery_level") == 79
    assert second.data.get("vehicle_state_locked") is True
    assert second.fetched_at == 1_700_000_200.0
    assert second.state_checked_at == 1_700_000_200.0
    assert second.state is VehicleState.ONLINE
    assert second.source is DataSource.CLOUD


def test_with_state_keeps_values_and_source() -> None:
    """A sleep check changes the state only."""
    cached = _snapshot().as_cache()
    asleep = cached.with_state(VehicleState.ASLEEP, 1_700_000_300.0)
    assert asleep.state is VehicleState.ASLEEP
    assert asleep.state_checked_at == 1_700_000_300.0
    assert asleep.data == cached.data
    assert asleep.fetched_at == cached.fetched_at
    assert asleep.source is DataSource.CACHE
    assert asleep.with_display_name("Blue").display_name == "Blue"


def test_vin_not_in_repr() -> None:
    """The VIN never shows up in a log line that prints a snapshot."""
    assert "5YJ3E1EA7KF000000" not in repr(_snapshot())


def test_round_trip_through_json() -> None:
    """to_dict is JSON-serialisable and from_dict restores an equal snapshot."""
    snapshot = _snapshot()
    restored = VehicleSnapshot.from_dict(json.loads(json.dumps(snapshot.to_dict())))
    assert restored == snapshot
    assert restored is not None
    assert restored.data is not None
    assert restored.data.get("charge_state_charge_port_color") is None
    assert restored.data.locked is True


def test_round_trip_without_data() -> None:
    """A vehicle that was never fetched round-trips too."""
    snapshot = VehicleSnapshot.initial("7", "", None).with_state(
        VehicleState.ASLEEP, 5.0
    )
    assert VehicleSnapshot.from_dict(snapshot.to_dict()) == snapshot


def test_from_dict_defaults_and_unknown_values() -> None:
    """Missing optional keys take defaults; unknown enums degrade gracefully."""
    restored = VehicleSnapshot.from_dict(
        {"vehicle_id": "9", "state": "parked", "source": "ble-later", "extra": 1}
    )
    assert restored is not None
    assert restored.vin == ""
    assert restored.data is None
    assert restored.state is VehicleState.UNKNOWN
    assert restored.source is DataSource.CACHE
    assert restored.fetched_at is None
    integral = VehicleSnapshot.from_dict({"vehicle_id": "9", "fetched_at": 12})
    assert integral is not None
    assert integral.fetched_at == 12.0


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "garbage",
        42,
        [],
        {},
        {"vehicle_id": ""},
        {"vehicle_id": 12},
        {"vehicle_id": "1", "vin": 5},
        {"vehicle_id": "1", "display_name": ["x"]},
        {"vehicle_id": "1", "data": "values"},
        {"vehicle_id": "1", "data": {1: "non-string key"}},
        {"vehicle_id": "1", "fetched_at": "yesterday"},
        {"vehicle_id": "1", "fetched_at": True},
        {"vehicle_id": "1", "fetched_at": math.inf},
        {"vehicle_id": "1", "state_checked_at": math.nan},
        {"vehicle_id": "1", "state": ["online"], "source": {"x": 1}, "vin": None},
    ],
)
def test_from_dict_rejects_garbage(raw: Any) -> None:
    """Anything malformed gives None instead of raising."""
    assert VehicleSnapshot.from_dict(raw) is None


def test_from_dict_tolerates_unhashable_enums() -> None:
    """Unhashable state or source values do not raise."""
    restored = VehicleSnapshot.from_dict(
        {"vehicle_id": "1", "state": ["online"], "source": {"x": 1}}
    )
    assert restored is not None
    assert restored.state is VehicleState.UNKNOWN
    assert restored.source is DataSource.CACHE
