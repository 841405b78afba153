"""Resilience: cloud health (backoff, circuit breaker) and the last known state on disk.

:class:`CloudHealth` is pure (injected clock and jitter source) and decides when the next
request may go out while Tesla's cloud fails. :class:`LastKnownStore` keeps the latest
:class:`~.snapshot.VehicleSnapshot` of each vehicle in Home Assistant's storage, so the
entities come back with their last known values after a restart during an outage.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
import math
import random
import time
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store

from .api.errors import CloudUnavailable, RateLimited
from .const import DOMAIN, LOGGER
from .snapshot import VehicleSnapshot

DEFAULT_OUTAGE_AFTER = 3
"""Consecutive failures after which the cloud is considered down."""
BACKOFF_BASE = 10.0
"""Backoff of the first failure, in seconds (before jitter)."""
BACKOFF_FACTOR = 2.0
BACKOFF_CAP = 300.0
"""Longest backoff: an outage is probed at least every five minutes, so recovery is
noticed within that time while a long outage costs 12 unbilled probes an hour."""


class HealthState(StrEnum):
    """How Tesla's cloud is doing, as seen from this account."""

    OK = "ok"
    DEGRADED = "degraded"
    """Some consecutive failures, fewer than ``outage_after``."""
    OUTAGE = "outage"


def _iso(timestamp: float | None) -> str | None:
    """Epoch seconds as an ISO 8601 UTC string, for diagnostics."""
    return (
        None
        if timestamp is None
        else datetime.fromtimestamp(timestamp, UTC).isoformat()
    )


class CloudHealth:
    """Consecutive-failure tracking, exponential backoff and a circuit breaker.

    One per account. Report the outcome of every request to the cloud:

    * :meth:`record_success` for any answer that shows the cloud works;
    * :meth:`record_failure` for an exception. Only ``CloudUnavailable`` (5xx, 540,
      timeouts, connection errors, malformed bodies) and raw ``TimeoutError``/``OSError``
      count towards an outage. ``RateLimited`` sets a not-before time of
      ``now + retry_after`` and counts as nothing else. Other errors (``AuthFailed``,
      ``Forbidden``, ``CommandFailed``...) are answers from a working cloud and change
      nothing. ``VehicleAsleep`` (408) is not a failure: callers must not report it
      (reporting it changes nothing).

    States: no failure → ``ok``; 1 to ``outage_after - 1`` consecutive failures →
    ``degraded``; ``outage_after`` → ``outage``. Each failure draws a backoff of
    ``min(cap, base * factor ** (failures - 1))`` with *equal jitter* (uniformly in its
    upper half: never zero, so a failing cloud is never hammered, and growing with every
    failure). While in outage, :meth:`can_attempt` lets one probe out per backoff period.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        outage_after: int = DEFAULT_OUTAGE_AFTER,
        base_delay: float = BACKOFF_BASE,
        factor: float = BACKOFF_FACTOR,
        max_delay: float = BACKOFF_CAP,
    ) -> None:
        """Create a healthy tracker; ``jitter`` returns a float in [0, 1)."""
        self._clock = clock
        self._jitter = jitter
        self.outage_after = max(1, outage_after)
        self.base_delay = base_delay
        self.factor = factor
        self.max_delay = max_delay
        self.failures = 0
        """Consecutive failures counted towards an outage."""
        self.first_failure_at: float | None = None
        self.outage_since: float | None = None
        """When the failing streak that became an outage started (epoch seconds)."""
        self.last_error: str | None = None
        """Type name of the last counted failure (safe for diagnostics)."""
        self.last_success_at: float | None = None
        self.rate_limited_until: float | None = None
        self._backoff = 0.0
        self._retry_at: float | None = None
        self._probe_at: float | None = None

    @property
    def state(self) -> HealthState:
        """Current health."""
        if self.failures >= self.outage_after:
            return HealthState.OUTAGE
        if self.failures:
            return HealthState.DEGRADED
        return HealthState.OK

    @property
    def next_attempt_at(self) -> float | None:
        """Earliest epoch time of the next request; ``None`` when nothing holds it back."""
        times = [t for t in (self._retry_at, self.rate_limited_until) if t is not None]
        return max(times) if times else None

    @property
    def outage_duration(self) -> float | None:
        """Seconds since the outage started; ``None`` when not in outage."""
        if self.outage_since is None:
            return None
        return max(0.0, self._clock() - self.outage_since)

    def backoff(self, failures: int) -> float:
        """Draw the backoff after ``failures`` consecutive failures (0 for none)."""
        if failures <= 0:
            return 0.0
        exponent = min(failures - 1, 64)  # beyond that the cap applies anyway
        ceiling = min(self.max_delay, self.base_delay * self.factor**exponent)
        return ceiling / 2 + self._jitter() * ceiling / 2

    def retry_delay(self) -> float:
        """Backoff of the current failing streak in seconds (0 when healthy)."""
        return self._backoff

    def wait_time(self, now: float | None = None) -> float | None:
        """Seconds until the next request may go out; ``None`` when nothing holds it back.

        This is the ``health_delay`` for :func:`~.polling.next_poll`.
        """
        next_at = self.next_attempt_at
        if next_at is None:
            return None
        current = self._clock() if now is None else now
        return max(0.0, next_at - current)

    def can_attempt(self, now: float | None = None) -> bool:
        """Whether a request may go out now (ask before every request).

        False while rate limited. In an outage it is the circuit breaker: False before
        the backoff has passed, then True once -- that probe is reserved until its
        outcome is recorded or another backoff period has passed.
        """
        current = self._clock() if now is None else now
        if self.rate_limited_until is not None and current < self.rate_limited_until:
            return False
        if self.state is not HealthState.OUTAGE:
            return True
        if self._retry_at is not None and current < self._retry_at:
            return False
        if self._probe_at is not None and current < self._probe_at + self._backoff:
            return False
        self._probe_at = current
        return True

    def record_failure(self, error: BaseException) -> bool:
        """Record a failed request; True when this failure starts an outage."""
        now = self._clock()
        if isinstance(error, RateLimited):
            until = now + max(0.0, error.retry_after)
            self.rate_limited_until = max(until, self.rate_limited_until or until)
            return False
        if not isinstance(error, CloudUnavailable | TimeoutError | OSError):
            return False
        was_outage = self.state is HealthState.OUTAGE
        self.failures += 1
        if self.first_failure_at is None:
            self.first_failure_at = now
        self.last_error = type(error).__name__
        self._backoff = self.backoff(self.failures)
        self._retry_at = now + self._backoff
        self._probe_at = None
        if not was_outage and self.state is HealthState.OUTAGE:
            self.outage_since = self.first_failure_at
            return True
        return False

    def resume_outage(self, since: float) -> None:
        """Continue an outage that started at ``since`` (saved before a restart).

        Straight into ``outage`` (``outage_after`` failures counted), with the backoff
        of that failure count, so the next probe waits one normal backoff period. A
        ``since`` in the future (a clock set back) counts as now.
        """
        now = self._clock()
        start = min(since, now)
        self.failures = max(self.failures, self.outage_after)
        self.first_failure_at = start
        self.outage_since = start
        self._backoff = self.backoff(self.failures)
        self._retry_at = now + self._backoff
        self._probe_at = None

    def record_success(self) -> bool:
        """Record a successful request; True when this success ends an outage."""
        ended = self.state is HealthState.OUTAGE
        self.failures = 0
        self.first_failure_at = None
        self.outage_since = None
        self.last_success_at = self._clock()
        self._backoff = 0.0
        self._retry_at = None
        self._probe_at = None
        return ended

    def as_dict(self) -> dict[str, Any]:
        """Diagnostics view (no secrets)."""
        return {
            "state": self.state.value,
            "consecutive_failures": self.failures,
            "outage_after": self.outage_after,
            "last_error": self.last_error,
            "outage_since": _iso(self.outage_since),
            "outage_duration": self.outage_duration,
            "retry_delay": self._backoff,
            "next_attempt_at": _iso(self.next_attempt_at),
            "rate_limited_until": _iso(self.rate_limited_until),
            "last_success_at": _iso(self.last_success_at),
        }


STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 2
"""1: ``{"vehicles"}``; 2: adds ``outage_since`` (epoch seconds or ``None``)."""
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

        Minor 1 had no ``outage_since`` (no outage was saved); newer minor versions read
        as they are. A newer major version never gets here (Store raises
        ``UnsupportedStorageVersionError``); there is no older major version yet.
        """
        if old_major_version == STORAGE_VERSION:
            if old_minor_version < 2 and isinstance(old_data, dict):
                return {**old_data, "outage_since": None}
            return old_data
        raise IncompatibleStoreError(
            f"Unsupported storage version {old_major_version}.{old_minor_version}"
        )


class LastKnownStore:
    """The last known snapshot of each vehicle of one config entry, on disk.

    Stored as ``{"vehicles": {vehicle_id: VehicleSnapshot.to_dict()}, "outage_since":
    float | None}`` under the key ``tesla_resilient.<entry_id>``; ``outage_since`` is the
    start of the account's cloud outage (``None`` when the cloud was reachable), so a
    restart during an outage resumes it. Writes are delayed (:data:`SAVE_DELAY`); Home
    Assistant's ``Store`` writes a pending delayed save itself when it shuts down
    (``EVENT_HOMEASSISTANT_FINAL_WRITE``), and :meth:`async_flush` writes at once (on
    unload). A corrupt, unreadable or incompatible store is ignored with one warning.
    """

    def __init__(
        self, hass: HomeAssistant, entry_id: str, *, save_delay: float = SAVE_DELAY
    ) -> None:
        """Create the store of the config entry ``entry_id`` (nothing is read yet)."""
        self._store = _SnapshotStore(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry_id}",
            minor_version=STORAGE_MINOR_VERSION,
        )
        self._save_delay = save_delay
        self._snapshots: dict[str, VehicleSnapshot] = {}
        self._outage_since: float | None = None
        self._outage_set = False
        """``outage_since`` was set in memory before the load (memory wins)."""
        self._dirty = False
        self._loaded = False

    @property
    def key(self) -> str:
        """The storage key."""
        return self._store.key

    @property
    def snapshots(self) -> Mapping[str, VehicleSnapshot]:
        """The snapshots held, by vehicle id."""
        return self._snapshots

    @property
    def outage_since(self) -> float | None:
        """Start of the saved cloud outage (epoch seconds); ``None`` when none."""
        return self._outage_since

    def get(self, vehicle_id: str) -> VehicleSnapshot | None:
        """The snapshot held for ``vehicle_id``."""
        return self._snapshots.get(vehicle_id)

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
        if bad:
            LOGGER.warning(
                "Ignoring %d unreadable entries of the saved last known vehicle state",
                bad,
            )
        self._snapshots = {**loaded, **self._snapshots}
        if not self._outage_set:
            self._outage_since = outage_since
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

    def _data_to_save(self) -> dict[str, Any]:
        self._dirty = False
        return {
            "vehicles": {
                vehicle_id: snapshot.to_dict()
                for vehicle_id, snapshot in self._snapshots.items()
            },
            "outage_since": self._outage_since,
        }

    @callback
    def set_outage_since(self, since: float | None) -> None:
        """Remember the start of the cloud outage (``None``: over); written after a delay."""
        self._outage_set = True
        if since == self._outage_since:
            return
        self._outage_since = since
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
        self._outage_since = None
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
