"""Fault injection: time windows (on the simulator clock) during which requests misbehave."""

from dataclasses import dataclass
import math
from typing import Any

ACCOUNT_FAULTS: dict[str, tuple[int, str]] = {
    "billing": (402, "payment required: the developer account has no credit left"),
    "account_locked": (423, "account locked"),
    "legal": (451, "unavailable for legal reasons"),
}
"""Answers about the account rather than the cloud: kind -> (status, error)."""
FAULT_KINDS = (
    "outage",
    "hang",
    "slow",
    "rate_limit",
    "revoke_token",
    "malformed",
    "refuse",
    *ACCOUNT_FAULTS,
)
# Which active fault wins when several match one request (``slow`` combines with any).
PRECEDENCE = ("refuse", "outage", *ACCOUNT_FAULTS, "hang", "rate_limit", "malformed")
OUTAGE_STATUSES = (500, 502, 503, 504, 540)


class FaultError(ValueError):
    """A fault request that makes no sense."""


@dataclass(slots=True)
class Fault:
    """One injected fault."""

    id: int
    kind: str
    start: float
    end: float  # math.inf = until cleared
    paths: tuple[str, ...] = ()  # path prefixes; empty = every non-control path
    status: int = 503  # outage
    delay: float = 2.0  # slow: real seconds added
    retry_after: float | None = (
        None  # rate_limit: Retry-After (default: rest of the window)
    )
    max_real_seconds: float = 60.0  # hang: longest real wait
    email: str | None = None  # revoke_token: one account (None = all)

    def active(self, now: float) -> bool:
        """Is the window open at ``now``?"""
        return self.start <= now < self.end

    def matches(self, path: str) -> bool:
        """Does the fault apply to ``path``?"""
        return not self.paths or any(path.startswith(p) for p in self.paths)

    def remaining(self, now: float) -> float:
        """Seconds until the window closes (inf when open-ended)."""
        return self.end - now

    def retry_after_s(self, now: float) -> int:
        """Retry-After header value for a rate-limit fault."""
        if self.retry_after is not None:
            return max(1, math.ceil(self.retry_after))
        remaining = self.remaining(now)
        if math.isinf(remaining):
            return 60
        return max(1, math.ceil(remaining))

    def as_dict(self) -> dict[str, Any]:
        """JSON view."""
        return {
            "id": self.id,
            "kind": self.kind,
            "start": self.start,
            "end": None if math.isinf(self.end) else self.end,
            "paths": list(self.paths),
            "status": self.status,
            "delay": self.delay,
            "retry_after": self.retry_after,
            "max_real_seconds": self.max_real_seconds,
            "email": self.email,
        }


def _number(spec: dict[str, Any], key: str, default: float | None) -> float | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultError(f"{key} must be a non-negative number")
    return float(value)


class Faults:
    """The set of injected faults."""

    def __init__(self) -> None:
        """No faults."""
        self._faults: list[Fault] = []
        self._next_id = 1
        self.generation = 0  # bumped on every change (hanging requests watch it)

    def __iter__(self) -> Any:
        """Iterate over all faults (active or not)."""
        return iter(list(self._faults))

    def __len__(self) -> int:
        """Number of faults, active or not."""
        return len(self._faults)

    def parse(self, spec: Any, now: float) -> Fault:
        """Build a fault from a control-API request body (validated)."""
        if not isinstance(spec, dict):
            raise FaultError("body must be a JSON object")
        kind = spec.get("kind")
        if kind not in FAULT_KINDS:
            raise FaultError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        seconds = _number(spec, "seconds", None)
        start_at = _number(spec, "start_at", None)
        start_in = _number(spec, "start_in", 0.0)
        start = start_at if start_at is not None else now + (start_in or 0.0)
        end = math.inf if seconds is None else start + seconds
        paths = spec.get("paths") or []
        if not isinstance(paths, list) or not all(
            isinstance(p, str) and p.startswith("/") for p in paths
        ):
            raise FaultError("paths must be a list of path prefixes starting with /")
        status = spec.get("status", 503)
        if status not in OUTAGE_STATUSES:
            raise FaultError(f"status must be one of {OUTAGE_STATUSES}")
        email = spec.get("email")
        if email is not None and not isinstance(email, str):
            raise FaultError("email must be a string")
        fault = Fault(
            id=self._next_id,
            kind=kind,
            start=start,
            end=end,
            paths=tuple(paths),
            status=int(status),
            delay=_number(spec, "delay", 2.0) or 0.0,
            retry_after=_number(spec, "retry_after", None),
            max_real_seconds=_number(spec, "max_real_seconds", 60.0) or 0.0,
            email=email,
        )
        self._next_id += 1
        return fault

    def add(self, fault: Fault) -> Fault:
        """Register a fault."""
        self._faults.append(fault)
        self.generation += 1
        return fault

    def clear(self, kind: str | None = None) -> int:
        """Remove all faults (or all of one kind); return how many were removed."""
        before = len(self._faults)
        self._faults = [f for f in self._faults if kind is not None and f.kind != kind]
        self.generation += 1
        return before - len(self._faults)

    def prune(self, now: float) -> None:
        """Forget faults whose window has closed."""
        self._faults = [f for f in self._faults if f.end > now]

    def active(self, path: str, now: float) -> list[Fault]:
        """Faults that apply to ``path`` at ``now``."""
        return [f for f in self._faults if f.active(now) and f.matches(path)]

    def blocking(self, path: str, now: float) -> Fault | None:
        """The one fault that decides the response (by precedence), if any."""
        active = self.active(path, now)
        for kind in PRECEDENCE:
            for fault in active:
                if fault.kind == kind:
                    return fault
        return None

    def extra_delay(self, path: str, now: float) -> float:
        """Real seconds that ``slow`` faults add to a request on ``path``."""
        return sum(f.delay for f in self.active(path, now) if f.kind == "slow")

    def is_current(self, fault: Fault, now: float) -> bool:
        """Is ``fault`` still registered and inside its window?"""
        return fault in self._faults and fault.active(now)
