"""The request meter: counts, billing in US dollars, wakes caused and awake time caused.

Categories:

* ``data`` -- ``vehicle_data`` and every other Fleet API request (``products``,
  ``fleet_status``, a path no route serves...; billed $0.002)
* ``check`` -- sleep-state checks ``GET /api/1/vehicles`` and ``GET /api/1/vehicles/{id}``
  ($0.002 under ``usd``; free under ``usd_checks_free``)
* ``command`` -- ``POST .../command/{name}`` and ``.../signed_command`` ($0.001)
* ``wake`` -- ``POST .../wake_up`` ($0.02)
* ``account`` -- ``/api/1/users/*`` (billed like data)
* ``auth`` -- the sign-in server (never billed)
* ``other`` -- anything else (``/status``, unknown paths outside ``/api``; never billed)

Responses with a status of 500 or more (and refused connections, status 0) are not billed.
"""

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = ("data", "check", "command", "wake", "account", "auth", "other")

PRICES_USD: dict[str, float] = {
    "data": 0.002,
    "check": 0.002,
    "command": 0.001,
    "wake": 0.02,
    "account": 0.002,
    "auth": 0.0,
    "other": 0.0,
}

LOG_LIMIT = 10_000


def is_billed(status: int) -> bool:
    """Every answered response below HTTP 500 is billed."""
    return 0 < status < 500


@dataclass(slots=True)
class VehicleMeter:
    """Per-vehicle figures."""

    requests: Counter[str] = field(default_factory=Counter)
    billed: Counter[str] = field(default_factory=Counter)
    wakes_caused: int = 0
    kept_awake_s: float = 0.0

    def usd(self, *, checks_free: bool) -> float:
        """Dollar cost of this vehicle's billed requests."""
        return _cost(self.billed, checks_free=checks_free)

    def as_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "requests": {c: self.requests[c] for c in CATEGORIES if self.requests[c]},
            "billed": {c: self.billed[c] for c in CATEGORIES if self.billed[c]},
            "wakes_caused": self.wakes_caused,
            "kept_awake_s": round(self.kept_awake_s, 3),
            "usd": round(self.usd(checks_free=False), 6),
            "usd_checks_free": round(self.usd(checks_free=True), 6),
        }


def _cost(billed: Counter[str], *, checks_free: bool) -> float:
    total = 0.0
    for category, count in billed.items():
        if checks_free and category == "check":
            continue
        total += PRICES_USD.get(category, 0.0) * count
    return total


@dataclass(slots=True)
class LogEntry:
    """One metered request."""

    time: float
    method: str
    path: str
    status: int
    category: str
    vin: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "category": self.category,
            "vin": self.vin,
        }


class Meter:
    """Counts every non-control request the simulator answers."""

    def __init__(self, log_limit: int = LOG_LIMIT) -> None:
        """Create an empty meter keeping at most ``log_limit`` log entries."""
        self._log_limit = log_limit
        self.since = 0.0
        self.requests: Counter[str] = Counter()
        self.billed: Counter[str] = Counter()
        self.endpoints: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.vehicles: dict[str, VehicleMeter] = {}
        self.log: deque[LogEntry] = deque(maxlen=log_limit)

    def reset(self, now: float) -> None:
        """Forget everything counted so far."""
        self.since = now
        self.requests.clear()
        self.billed.clear()
        self.endpoints.clear()
        self.statuses.clear()
        self.vehicles.clear()
        self.log.clear()

    def vehicle(self, vin: str) -> VehicleMeter:
        """The meter of one vehicle (created on first use)."""
        meter = self.vehicles.get(vin)
        if meter is None:
            meter = self.vehicles[vin] = VehicleMeter()
        return meter

    def record(
        self,
        *,
        now: float,
        method: str,
        path: str,
        status: int,
        category: str,
        vin: str | None = None,
    ) -> None:
        """Count one answered (or refused, status 0) request."""
        self.requests[category] += 1
        self.endpoints[f"{method} {path}"] += 1
        self.statuses[status] += 1
        billed = is_billed(status)
        if billed:
            self.billed[category] += 1
        if vin is not None:
            vmeter = self.vehicle(vin)
            vmeter.requests[category] += 1
            if billed:
                vmeter.billed[category] += 1
        self.log.append(LogEntry(now, method, path, status, category, vin))

    def add_wake_caused(self, vin: str) -> None:
        """A wake_up request moved a sleeping car towards online."""
        self.vehicle(vin).wakes_caused += 1

    def add_kept_awake(self, vin: str, seconds: float) -> None:
        """The car stayed awake ``seconds`` longer because vehicle_data was polled."""
        if seconds > 0:
            self.vehicle(vin).kept_awake_s += seconds

    def usd(self, *, checks_free: bool = False) -> float:
        """Total dollar cost under one of the two billing assumptions."""
        return _cost(self.billed, checks_free=checks_free)

    @property
    def wakes_caused(self) -> int:
        """Wakes caused, all vehicles."""
        return sum(v.wakes_caused for v in self.vehicles.values())

    @property
    def kept_awake_s(self) -> float:
        """Seconds of awake time caused by polling, all vehicles."""
        return sum(v.kept_awake_s for v in self.vehicles.values())

    def as_dict(self, *, log: int = 0) -> dict[str, Any]:
        """JSON view; ``log`` > 0 adds the last ``log`` log entries."""
        result: dict[str, Any] = {
            "since": self.since,
            "total": sum(self.requests.values()),
            "categories": {c: self.requests[c] for c in CATEGORIES},
            "billed": {c: self.billed[c] for c in CATEGORIES},
            "endpoints": dict(sorted(self.endpoints.items())),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "usd": round(self.usd(checks_free=False), 6),
            "usd_checks_free": round(self.usd(checks_free=True), 6),
            "prices_usd": dict(PRICES_USD),
            "wakes_caused": self.wakes_caused,
            "kept_awake_s": round(self.kept_awake_s, 3),
            "vehicles": {vin: m.as_dict() for vin, m in sorted(self.vehicles.items())},
        }
        if log > 0:
            entries = list(self.log)[-log:]
            result["log"] = [e.as_dict() for e in entries]
        return result
