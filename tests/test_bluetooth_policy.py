"""Tests of the Bluetooth read policy (pure, virtual time) and the snapshot's per-key sources."""

import json

from custom_components.tesla_resilient.api.models import VehicleData, VehicleState
from custom_components.tesla_resilient.ble_policy import (
    BleAction,
    BleMemory,
    BleSettings,
    is_fresh,
    knows_asleep,
    listen_delay,
    next_read,
    reads_data,
    retry_delay,
    slots_full,
)
from custom_components.tesla_resilient.polling import PollAction
from custom_components.tesla_resilient.snapshot import DataSource, VehicleSnapshot

SETTINGS = BleSettings()
T0 = 1_700_000_000.0


def _in_range(connectable: bool = True) -> BleMemory:
    return BleMemory().after_advertisement(rssi=-60, connectable=connectable)


def test_out_of_range_or_full_nothing_to_do() -> None:
    """No advertisement, or no free connection: the link waits for one."""
    assert next_read(BleMemory(), T0, SETTINGS).action is BleAction.NOTHING
    full = next_read(_in_range(connectable=False), T0, SETTINGS)
    assert full.action is BleAction.NOTHING
    assert full.delay is None


def test_no_free_slot_remembered_for_a_while() -> None:
    """A refusal for want of a free slot: no read (and commands go to the cloud) for
    ``slots_full_for``; a successful read, the car offering a connection again, or
    coming back into range forget it."""
    memory = _in_range().after_status(VehicleState.ONLINE, T0)
    assert not slots_full(memory, T0, SETTINGS)
    full = memory.after_slots_full(T0 + 10).after_failure(T0 + 10)
    assert slots_full(full, T0 + 10, SETTINGS)
    assert slots_full(full, T0 + 10 + SETTINGS.slots_full_for - 1, SETTINGS)
    assert not slots_full(full, T0 + 10 + SETTINGS.slots_full_for, SETTINGS)
    decision = next_read(full, T0 + 20, SETTINGS)
    assert decision.action is BleAction.STATUS
    assert decision.delay == SETTINGS.slots_full_for - 10
    assert decision.reason == "no free slot"
    later = T0 + 10 + SETTINGS.slots_full_for
    assert next_read(full, later, SETTINGS).delay == 0.0  # the retry is overdue
    # heard again, still connectable: still full
    heard = full.after_advertisement(rssi=-61, connectable=True)
    assert slots_full(heard, T0 + 20, SETTINGS)
    freed = full.after_advertisement(rssi=-61, connectable=False).after_advertisement(
        rssi=-61, connectable=True
    )
    assert not slots_full(freed, T0 + 20, SETTINGS)
    back = full.after_unavailable().after_advertisement(rssi=-61, connectable=True)
    assert not slots_full(back, T0 + 20, SETTINGS)
    read = full.after_status(VehicleState.ONLINE, T0 + 20)
    assert not slots_full(read, T0 + 20, SETTINGS)


def test_coming_into_range_reads_at_once_then_on_the_interval() -> None:
    """A car that comes into range is read now; then every status_interval."""
    memory = _in_range()
    assert next_read(memory, T0, SETTINGS) == next_read(memory, T0, SETTINGS)
    assert next_read(memory, T0, SETTINGS).delay == 0.0
    memory = memory.after_status(VehicleState.ASLEEP, T0)
    decision = next_read(memory, T0 + 10, SETTINGS)
    assert decision.action is BleAction.STATUS
    assert decision.delay == SETTINGS.status_interval - 10
    # Further advertisements do not ask for another read.
    again = memory.after_advertisement(rssi=-70, connectable=True)
    assert next_read(again, T0 + 10, SETTINGS).delay == SETTINGS.status_interval - 10
    assert again.rssi == -70
    # A command asks for one now.
    assert next_read(again.want_read(), T0 + 10, SETTINGS).delay == 0.0


def test_failures_back_off_and_coming_back_resets_them() -> None:
    """Failed reads wait 30 s, 60 s, ... up to the cap; a new arrival starts over."""
    memory = _in_range().after_failure(T0)
    assert next_read(memory, T0, SETTINGS).delay == SETTINGS.retry_interval
    memory = memory.after_failure(T0 + 30)
    assert next_read(memory, T0 + 30, SETTINGS).delay == 2 * SETTINGS.retry_interval
    assert retry_delay(0, SETTINGS) == 0.0
    assert retry_delay(50, SETTINGS) == SETTINGS.retry_cap
    back = memory.after_unavailable().after_advertisement(rssi=-50, connectable=True)
    assert back.failures == 0
    assert next_read(back, T0 + 40, SETTINGS).delay == 0.0
    assert next_read(memory, T0 + 1000, SETTINGS).delay == 0.0


def test_knows_asleep_only_from_a_fresh_status_in_range() -> None:
    """The cloud's sleep checks pause only while a recent status says asleep."""
    memory = _in_range().after_status(VehicleState.ASLEEP, T0)
    assert knows_asleep(memory, T0 + 10, SETTINGS)
    assert not knows_asleep(memory, T0 + SETTINGS.fresh_for, SETTINGS)
    assert not knows_asleep(memory.after_unavailable(), T0 + 10, SETTINGS)
    awake = memory.after_status(VehicleState.ONLINE, T0 + 20)
    assert is_fresh(awake, T0 + 30, SETTINGS)
    assert not knows_asleep(awake, T0 + 30, SETTINGS)
    assert not is_fresh(BleMemory(), T0, SETTINGS)


def _cloud_snapshot() -> VehicleSnapshot:
    data = VehicleData.from_api(
        {
            "state": "online",
            "vehicle_state": {"locked": True, "df": 0, "odometer": 1000.5},
            "charge_state": {"battery_level": 80},
        }
    )
    return VehicleSnapshot.initial("1", "VIN", "Red").with_data(data, T0)


def test_bluetooth_values_keep_the_other_keys_and_say_where_they_came_from() -> None:
    """A Bluetooth status overlays its keys only; each key knows its path."""
    snapshot = _cloud_snapshot().with_ble(
        {"vehicle_state_locked": False}, VehicleState.ASLEEP, T0 + 60
    )
    assert snapshot.source is DataSource.BLE
    assert snapshot.state is VehicleState.ASLEEP
    assert snapshot.state_checked_at == T0 + 60
    assert snapshot.ble_read_at == T0 + 60
    assert snapshot.data is not None
    assert snapshot.data.locked is False
    assert snapshot.data.get("vehicle_state_odometer") == 1000.5
    assert snapshot.source_of("vehicle_state_locked") is DataSource.BLE
    assert snapshot.source_of("vehicle_state_odometer") is DataSource.CLOUD
    # No state read with the values: the known one stays.
    same = snapshot.with_ble({"charge_state_battery_level": 79}, None, T0 + 70)
    assert same.state is VehicleState.ASLEEP
    assert same.state_checked_at == T0 + 60
    # The cloud's next answer takes its keys back.
    cloud = same.with_data(
        VehicleData.from_api({"vehicle_state": {"locked": True}}), T0 + 100
    )
    assert cloud.source_of("vehicle_state_locked") is DataSource.CLOUD
    assert cloud.source_of("charge_state_battery_level") is DataSource.BLE
    assert cloud.source is DataSource.CLOUD


def test_bluetooth_first_values_on_an_empty_snapshot() -> None:
    """A car known only from Bluetooth gets data from it."""
    snapshot = VehicleSnapshot.initial("1", "VIN", None).with_ble(
        {"vehicle_state_locked": True}, VehicleState.ASLEEP, T0
    )
    assert snapshot.data is not None
    assert snapshot.data.locked is True


def test_store_format_round_trip_and_older_stores() -> None:
    """The per-key sources survive the store; a store written before them still loads."""
    snapshot = _cloud_snapshot().with_ble(
        {"vehicle_state_locked": False}, VehicleState.ASLEEP, T0 + 60
    )
    raw = json.loads(json.dumps(snapshot.to_dict()))
    assert raw["source"] == "ble"
    assert raw["key_sources"] == {"vehicle_state_locked": "ble"}
    assert VehicleSnapshot.from_dict(raw) == snapshot
    older = {
        key: value
        for key, value in raw.items()
        if key not in {"key_sources", "ble_read_at"}
    }
    restored = VehicleSnapshot.from_dict(older)
    assert restored is not None
    assert restored.key_sources == {}
    assert restored.ble_read_at is None
    odd = {**raw, "key_sources": {"a": "radio", "b": 3, "c": "ble"}, "ble_read_at": "x"}
    restored = VehicleSnapshot.from_dict(odd)
    assert restored is not None
    assert restored.key_sources == {"c": DataSource.BLE}
    assert restored.ble_read_at is None
    assert VehicleSnapshot.from_dict({**raw, "key_sources": []}) is not None


def test_bluetooth_stands_in_for_vehicle_data_only_for_a_parked_car() -> None:
    """Bluetooth reads no drive state: a car last seen driving is read by the cloud
    (or the policy would see it driving, and poll it awake, for ever)."""
    parked = VehicleData({"drive_state_shift_state": "P", "drive_state_speed": None})
    unknown = VehicleData({"drive_state_shift_state": None})
    driving = VehicleData({"drive_state_shift_state": "D", "drive_state_speed": 30})
    assert reads_data(PollAction.VEHICLE_DATA, parked)
    assert reads_data(PollAction.VEHICLE_DATA, unknown)
    assert not reads_data(PollAction.VEHICLE_DATA, driving)
    assert not reads_data(PollAction.VEHICLE_DATA, None)  # the first: all of it
    assert not reads_data(PollAction.SLEEP_CHECK, parked)  # the status only


def test_an_awake_car_is_read_every_minute_an_asleep_one_every_five() -> None:
    """Awake (in use: a lock change should show at once) every status_interval_awake
    (60 s), asleep or unknown every status_interval (300 s); a status read asks
    vehicle security only, which keeps no car awake."""
    assert SETTINGS.status_interval_awake == 60.0
    assert SETTINGS.status_interval == 300.0
    awake = _in_range().after_status(VehicleState.ONLINE, T0)
    decision = next_read(awake, T0 + 10, SETTINGS)
    assert decision.action is BleAction.STATUS
    assert decision.delay == 50.0
    asleep = awake.after_status(VehicleState.ASLEEP, T0 + 60)
    assert next_read(asleep, T0 + 70, SETTINGS).delay == 290.0
    unknown = awake.after_status(VehicleState.UNKNOWN, T0 + 60)
    assert next_read(unknown, T0 + 60, SETTINGS).delay == 300.0


def test_listening_goes_on_while_broadcasts_come_within_a_cap() -> None:
    """listen_window (30 s) after a read or a broadcast, never beyond listen_cap
    (120 s) after the link began listening: connections stay short."""
    assert SETTINGS.listen_window == 30.0
    assert SETTINGS.listen_cap == 120.0
    assert listen_delay(T0, T0, SETTINGS) == 30.0  # the read
    assert listen_delay(T0, T0 + 25, SETTINGS) == 30.0  # a broadcast: 30 s more
    assert listen_delay(T0, T0 + 100, SETTINGS) == 20.0  # capped at T0 + 120
    assert listen_delay(T0, T0 + 130, SETTINGS) == 0.0  # past the cap: let go now
