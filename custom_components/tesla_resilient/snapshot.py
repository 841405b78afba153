"""The vehicle snapshot: everything the entities show about one vehicle.

A :class:`VehicleSnapshot` is immutable. The coordinator replaces it after every poll
(:meth:`VehicleSnapshot.with_data`, :meth:`VehicleSnapshot.with_state`) and the
:class:`~.resilience.LastKnownStore` saves it (:meth:`VehicleSnapshot.to_dict`) so that a
restart during a cloud outage still shows the last known values, marked as coming from the
cache (:meth:`VehicleSnapshot.as_cache`).

No Home Assistant imports here: the snapshot is plain data, testable in virtual time.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
import math
from typing import Any, Self

from .api.models import VehicleData, VehicleState


class DataSource(StrEnum):
    """Where the values of a snapshot come from."""

    CLOUD = "cloud"
    """Fetched from Tesla's cloud since Home Assistant started."""
    CACHE = "cache"
    """Restored from the last known state saved on disk."""
    BLE = "ble"
    """Read from the car over Bluetooth since Home Assistant started."""


def _optional_time(value: Any) -> tuple[bool, float | None]:
    """Validate an optional epoch time: ``(ok, value)``."""
    if value is None:
        return True, None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False, None
    result = float(value)
    return (True, result) if math.isfinite(result) else (False, None)


@dataclass(frozen=True, slots=True)
class VehicleSnapshot:
    """What is known about one vehicle, and how fresh it is."""

    vehicle_id: str
    vin: str = field(repr=False)
    display_name: str | None
    data: VehicleData | None
    """The last ``vehicle_data`` (partial selections merged); ``None`` before the first."""
    fetched_at: float | None
    """Epoch seconds of the last successful ``vehicle_data``."""
    state: VehicleState
    """Last known sleep state."""
    state_checked_at: float | None
    """Epoch seconds at which the sleep state was last learned."""
    source: DataSource
    key_sources: Mapping[str, DataSource] = field(default_factory=dict)
    """Keys whose latest value came another way than from the cloud (Bluetooth);
    every other key of ``data`` came from the cloud (see :meth:`source_of`)."""
    ble_read_at: float | None = None
    """Epoch seconds of the last Bluetooth read (status or values)."""

    @classmethod
    def initial(
        cls, vehicle_id: str, vin: str, display_name: str | None
    ) -> VehicleSnapshot:
        """Return the snapshot of a vehicle nothing is known about yet."""
        return cls(
            vehicle_id=vehicle_id,
            vin=vin,
            display_name=display_name,
            data=None,
            fetched_at=None,
            state=VehicleState.UNKNOWN,
            state_checked_at=None,
            source=DataSource.CLOUD,
        )

    def with_data(self, data: VehicleData, now: float) -> Self:
        """Return the snapshot after a successful ``vehicle_data`` at ``now``.

        Keys absent from ``data`` (a partial endpoint selection) keep their older values.
        A car that answers ``vehicle_data`` is online, whatever the payload says.
        """
        merged = data if self.data is None else data.merged_onto(self.data)
        return replace(
            self,
            data=merged,
            fetched_at=now,
            state=VehicleState.ONLINE,
            state_checked_at=now,
            source=DataSource.CLOUD,
            key_sources={
                key: source
                for key, source in self.key_sources.items()
                if key not in data.values and key in merged.values
            },
        )

    def with_ble(
        self, values: Mapping[str, Any], state: VehicleState | None, now: float
    ) -> Self:
        """Return the snapshot after reading ``values`` over Bluetooth at ``now``.

        The flattened ``values`` replace those keys only (a Bluetooth read carries a
        few keys of a section, never a whole one); ``state`` is the sleep state read
        with them (``None``: not read). ``fetched_at`` moves too: the values shown are
        that fresh.
        """
        older = {} if self.data is None else dict(self.data.values)
        sections = frozenset() if self.data is None else self.data.sections
        return replace(
            self,
            data=VehicleData({**older, **values}, sections),
            fetched_at=now,
            state=self.state if state is None else state,
            state_checked_at=self.state_checked_at if state is None else now,
            source=DataSource.BLE,
            key_sources={**self.key_sources, **dict.fromkeys(values, DataSource.BLE)},
            ble_read_at=now,
        )

    def source_of(self, key: str) -> DataSource:
        """Which path the value of ``key`` came by (cloud or Bluetooth)."""
        return self.key_sources.get(key, DataSource.CLOUD)

    def with_state(self, state: VehicleState, now: float) -> Self:
        """Return the snapshot after learning the sleep state at ``now``.

        Used for sleep checks and for a ``vehicle_data`` answered with 408 (asleep).
        The values and their source are unchanged: a sleep check carries no data.
        """
        return replace(self, state=state, state_checked_at=now)

    def with_values(self, values: Mapping[str, Any]) -> Self:
        """Return the snapshot with the flattened ``values`` shown on top of its data
        (what a command accepted by the car changes, before the car confirms it)."""
        update = VehicleData(dict(values))
        data = update if self.data is None else update.merged_onto(self.data)
        return replace(self, data=data)

    def with_display_name(self, display_name: str | None) -> Self:
        """Return the snapshot with a new display name (renamed in the Tesla app)."""
        return replace(self, display_name=display_name)

    def as_cache(self) -> Self:
        """Return the snapshot marked as restored from the last known state."""
        return replace(self, source=DataSource.CACHE)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict, the inverse of :meth:`from_dict`."""
        return {
            "vehicle_id": self.vehicle_id,
            "vin": self.vin,
            "display_name": self.display_name,
            "data": None if self.data is None else dict(self.data.values),
            "fetched_at": self.fetched_at,
            "state": self.state.value,
            "state_checked_at": self.state_checked_at,
            "source": self.source.value,
            "key_sources": {key: str(value) for key, value in self.key_sources.items()},
            "ble_read_at": self.ble_read_at,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> VehicleSnapshot | None:
        """Rebuild a snapshot saved with :meth:`to_dict`; ``None`` for anything invalid.

        Never raises. Missing optional keys take their defaults and unknown keys are
        ignored (a newer minor version of the store may add some); a value of the wrong
        type makes the whole entry invalid. An unknown sleep state reads as ``unknown``
        and an unknown source as ``cache``.
        """
        if not isinstance(raw, Mapping):
            return None
        vehicle_id = raw.get("vehicle_id")
        vin = raw.get("vin", "")
        display_name = raw.get("display_name")
        values = raw.get("data")
        if (
            not isinstance(vehicle_id, str)
            or not vehicle_id
            or not isinstance(vin, str)
            or not (display_name is None or isinstance(display_name, str))
            or not (
                values is None
                or (
                    isinstance(values, Mapping)
                    and all(isinstance(key, str) for key in values)
                )
            )
        ):
            return None
        fetched_ok, fetched_at = _optional_time(raw.get("fetched_at"))
        checked_ok, state_checked_at = _optional_time(raw.get("state_checked_at"))
        if not (fetched_ok and checked_ok):
            return None
        source = raw.get("source")
        ble_ok, ble_read_at = _optional_time(raw.get("ble_read_at"))
        return cls(
            vehicle_id=vehicle_id,
            vin=vin,
            display_name=display_name,
            data=None if values is None else VehicleData(dict(values)),
            fetched_at=fetched_at,
            state=VehicleState.parse(raw.get("state")),
            state_checked_at=state_checked_at,
            source=(
                DataSource(source)
                if isinstance(source, str) and source in DataSource
                else DataSource.CACHE
            ),
            key_sources=_key_sources(raw.get("key_sources")),
            ble_read_at=ble_read_at if ble_ok else None,
        )


def _key_sources(raw: Any) -> dict[str, DataSource]:
    """The saved per-key sources (absent in stores written before Bluetooth: none)."""
    if not isinstance(raw, Mapping):
        return {}
    return {
        key: DataSource(value)
        for key, value in raw.items()
        if isinstance(key, str) and isinstance(value, str) and value in DataSource
    }
