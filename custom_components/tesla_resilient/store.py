"""The last known state on disk: the latest snapshot of each vehicle, and the outage.

:class:`LastKnownStore` keeps the latest :class:`~.snapshot.VehicleSnapshot` of each
vehicle in Home Assistant's storage, so the entities come back with their last known
values after a restart during an outage; it also keeps the start of that outage, read
from the account's :class:`~.health.CloudHealth`, so the outage resumes with it, and the
authenticator guard's :class:`~.otp.GuardState` (lock-out, failures, used time steps; no
secret, no code), so a reload or a restart resets neither the brute-force limit nor the
replay protection.
"""

from collections.abc import Mapping
import math
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .const import DOMAIN, LOGGER
from .health import CloudHealth
from .otp import GuardState
from .snapshot import VehicleSnapshot

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 3
"""1: ``{"vehicles"}``; 2: adds ``outage_since`` (epoch seconds or ``None``); 3: adds
``otp`` (:meth:`.otp.GuardState.as_dict` or ``None``)."""
SAVE_DELAY = 60.0
"""Seconds a changed snapshot waits before it is written: at most one write a minute,
however often the vehicles are polled."""


class IncompatibleStoreError(HomeAssistantError):
    """The saved last known state has a layout this version cannot read."""


class _SnapshotStore(Store[dict[str, Any]]):
    """The Store with this integration's migrations."""

    async def _async_migrate_func(
        self,
        old_major_version: int,
        old_minor_version: int,
        old_data: dict[str, Any],
    ) -> dict[str, Any]:
        """Migrate saved data; minor versions only ever add keys.

        Minor 1 had no ``outage_since`` (no outage was saved), minor 2 no ``otp`` (no
        guard state was saved); newer minor versions read as they are. A newer major
        version never gets here (Store raises ``UnsupportedStorageVersionError``); there
        is no older major version yet.
        """
        if old_major_version == STORAGE_VERSION:
            if old_minor_version < 3 and isinstance(old_data, dict):
                return {"outage_since": None, **old_data, "otp": None}
            return old_data
        raise IncompatibleStoreError(
            f"Unsupported storage version {old_major_version}.{old_minor_version}"
        )


class LastKnownStore:
    """The last known snapshot of each vehicle of one config entry, on disk.

    Stored as ``{"vehicles": {vehicle_id: VehicleSnapshot.to_dict()}, "outage_since":
    float | None, "otp": dict | None}`` under the key ``tesla_resilient.<entry_id>``;
    ``outage_since`` is the start of the account's cloud outage (``None`` when the cloud
    was reachable), so a restart during an outage resumes it; ``otp`` the authenticator
    guard's state (:meth:`async_guard_changed`). Writes are delayed (:data:`SAVE_DELAY`); Home
    Assistant's ``Store`` writes a pending delayed save itself when it shuts down
    (``EVENT_HOMEASSISTANT_FINAL_WRITE``), and :meth:`async_flush` writes at once (on
    unload). A corrupt, unreadable or incompatible store is ignored with one warning.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        health: CloudHealth | None = None,
        *,
        save_delay: float = SAVE_DELAY,
    ) -> None:
        """Create the store of the config entry ``entry_id`` (nothing is read yet).

        ``health`` is the account's cloud health whose ``outage_since`` is saved; without
        one (removing an entry's file) no outage is saved.
        """
        self._store = _SnapshotStore(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry_id}",
            minor_version=STORAGE_MINOR_VERSION,
        )
        self._health = health
        self._save_delay = save_delay
        self._snapshots: dict[str, VehicleSnapshot] = {}
        self._saved_outage_since: float | None = None
        """``outage_since`` as last read from or written to disk."""
        self._guard_state: GuardState | None = None
        self._dirty = False
        self._loaded = False

    @property
    def saved_outage_since(self) -> float | None:
        """Start of the saved cloud outage (epoch seconds); ``None`` when none."""
        return self._saved_outage_since

    @property
    def saved_guard(self) -> GuardState | None:
        """The authenticator guard's state as loaded (or changed since)."""
        return self._guard_state

    async def async_load(self) -> dict[str, VehicleSnapshot]:
        """Read the saved snapshots, marked as coming from the cache; never raises.

        Snapshots already updated in memory win over saved ones. Delayed saves start
        only after the load (a pending save would hide the file from the load).
        """
        try:
            raw = await self._store.async_load()
        except (
            HomeAssistantError,  # unsupported newer version, failed migration, I/O
            OSError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
        ) as err:
            LOGGER.warning(
                "Ignoring the saved last known vehicle state (%s); starting empty",
                type(err).__name__,
            )
            self._loaded_now()
            return dict(self._snapshots)
        loaded, outage_since, bad = self._parse(raw)
        if isinstance(raw, Mapping) and self._guard_state is None:
            self._guard_state = GuardState.from_dict(raw.get("otp"))
        if bad:
            LOGGER.warning(
                "Ignoring %d unreadable entries of the saved last known vehicle state",
                bad,
            )
        self._snapshots = {**loaded, **self._snapshots}
        self._saved_outage_since = outage_since
        self._loaded_now()
        return dict(self._snapshots)

    def _loaded_now(self) -> None:
        self._loaded = True
        if self._dirty:
            self._schedule_save()

    @staticmethod
    def _parse(raw: Any) -> tuple[dict[str, VehicleSnapshot], float | None, int]:
        """Parse the stored payload: (snapshots, outage start, entries ignored)."""
        if raw is None:
            return {}, None, 0
        vehicles = raw.get("vehicles") if isinstance(raw, Mapping) else None
        if not isinstance(vehicles, Mapping):
            return {}, None, 1
        outage_since = raw.get("outage_since")
        bad = 0
        if outage_since is not None and not _valid_time(outage_since):
            outage_since = None
            bad += 1
        loaded: dict[str, VehicleSnapshot] = {}
        for vehicle_id, item in vehicles.items():
            snapshot = VehicleSnapshot.from_dict(item)
            if snapshot is None or snapshot.vehicle_id != vehicle_id:
                bad += 1
                continue
            loaded[vehicle_id] = snapshot.as_cache()
        return loaded, (None if outage_since is None else float(outage_since)), bad

    def _outage_since(self) -> float | None:
        return None if self._health is None else self._health.outage_since

    def _data_to_save(self) -> dict[str, Any]:
        self._dirty = False
        self._saved_outage_since = self._outage_since()
        return {
            "vehicles": {
                vehicle_id: snapshot.to_dict()
                for vehicle_id, snapshot in self._snapshots.items()
            },
            "outage_since": self._saved_outage_since,
            "otp": None if self._guard_state is None else self._guard_state.as_dict(),
        }

    @callback
    def async_guard_changed(self, state: GuardState) -> None:
        """The authenticator guard's state changed (a code checked): save it.

        Delayed like every write; a reload or a stop writes it first.
        """
        self._guard_state = state
        self._schedule_save()

    @callback
    def async_outage_changed(self) -> None:
        """The cloud health's outage started or ended: save its start after a delay.

        Nothing is written when the saved start is already the current one.
        """
        if self._outage_since() != self._saved_outage_since:
            self._schedule_save()

    @callback
    def update(self, snapshot: VehicleSnapshot) -> None:
        """Keep ``snapshot`` as its vehicle's last known state; written after a delay."""
        self._snapshots[snapshot.vehicle_id] = snapshot
        self._schedule_save()

    @callback
    def remove(self, vehicle_id: str) -> None:
        """Forget a vehicle (removed from the account)."""
        if self._snapshots.pop(vehicle_id, None) is not None:
            self._schedule_save()

    @callback
    def _schedule_save(self) -> None:
        self._dirty = True
        if self._loaded:
            self._store.async_delay_save(self._data_to_save, self._save_delay)

    async def async_flush(self) -> None:
        """Write pending changes now (on unload); nothing to do when none are pending."""
        if self._dirty:
            await self._store.async_save(self._data_to_save())

    async def async_remove(self) -> None:
        """Delete the saved state (the config entry is removed)."""
        self._snapshots.clear()
        self._saved_outage_since = None
        self._guard_state = None
        self._dirty = False
        await self._store.async_remove()


def _valid_time(value: Any) -> bool:
    """Whether ``value`` is a plausible epoch time (a finite, positive number)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )
