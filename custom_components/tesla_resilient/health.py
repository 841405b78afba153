"""Cloud health: consecutive failures, backoff and the circuit breaker of one account.

:class:`CloudHealth` is pure (injected clock and jitter source, no Home Assistant) and
decides when the next request may go out while Tesla's cloud fails. It owns the start of
an outage (``outage_since``), which :class:`~.store.LastKnownStore` persists.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
import random
import time
from typing import Any

from .api.errors import CloudUnavailable, RateLimited, TeslaError
from .polling import EARLY_TIMER_TOLERANCE

DEFAULT_OUTAGE_AFTER = 3
"""Consecutive failures after which the cloud is considered down."""
BACKOFF_BASE = 10.0
"""Backoff of the first failure, in seconds (before jitter)."""
BACKOFF_FACTOR = 2.0
BACKOFF_CAP = 40.0
"""Longest backoff: an outage is probed at least every 40 s (and at most every 20 s,
jitter in the upper half), counted from one probe's start to the next, so the cloud's
return is noticed within 40 s, also while probes hang until their timeout. It costs
nothing: Tesla bills no answer of 500 and more and no request it never answers, and
one probe at a time goes out (at most 180 an hour, see :func:`max_outage_requests`).
A rate limit (429, billed) is honoured for its whole ``Retry-After`` instead."""
CLOUD_FAILURES: tuple[type[TeslaError], ...] = (CloudUnavailable, RateLimited)
"""The api errors :meth:`CloudHealth.record_failure` counts (an outage, a rate limit);
every other ``TeslaError`` is an answer from a working cloud."""


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
    failure). While in outage, :meth:`can_attempt` lets one probe out per backoff period,
    counted from the start of the previous probe (a probe that hung until its timeout
    does not delay the next one by its timeout), and a timer that fires up to
    :data:`~.polling.EARLY_TIMER_TOLERANCE` early still probes. ``Retry-After`` is
    never cut short.
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
        """Earliest epoch time of the next request; ``None`` when none was set."""
        times = [t for t in (self._retry_at, self.rate_limited_until) if t is not None]
        return max(times) if times else None

    def rate_limit_wait(self, now: float | None = None) -> float | None:
        """Seconds left of a 429's ``Retry-After``; ``None`` when not rate limited."""
        current = self._clock() if now is None else now
        until = self.rate_limited_until
        return None if until is None or until <= current else until - current

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

    def retry_after_failure(self) -> float:
        """Seconds until the next attempt (backoff, ``Retry-After``); 0 when due now.

        What is left of the wait, never a whole new backoff period: a timer that fired
        early and was held back runs again when the wait is over.
        """
        return self.wait_time() or 0.0

    def wait_time(self, now: float | None = None) -> float | None:
        """Seconds until the next request may go out; ``None`` when nothing holds it back.

        This is the ``health_delay`` for :func:`~.polling.next_poll`. A backoff or a
        ``Retry-After`` that has passed holds nothing back.
        """
        next_at = self.next_attempt_at
        current = self._clock() if now is None else now
        if next_at is None or next_at <= current:
            return None
        return next_at - current

    def can_attempt(self, now: float | None = None) -> bool:
        """Whether a request may go out now (ask before every request).

        False while rate limited. In an outage it is the circuit breaker: False before
        the backoff has passed, then True once -- that probe is reserved until its
        outcome is recorded or another backoff period has passed.
        """
        current = self._clock() if now is None else now
        if self.rate_limit_wait(current) is not None:
            return False
        if self.state is not HealthState.OUTAGE:
            return True
        if (
            self._retry_at is not None
            and current + EARLY_TIMER_TOLERANCE < self._retry_at
        ):
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
        # In an outage the next probe is one backoff after this probe's start.
        started = self._probe_at if was_outage and self._probe_at is not None else now
        self._retry_at = started + self._backoff
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


def max_outage_requests(seconds: float, pollers: int) -> int:
    """Most requests one Home Assistant run sends in ``seconds`` of outage (defaults).

    Until the health reports an outage every poller (the account and each vehicle) may
    have one request in flight and ``outage_after`` failures are needed: at most
    ``outage_after + pollers`` requests. From then on only the account probes, one per
    backoff counted from the previous probe's start, its timer up to
    :data:`~.polling.EARLY_TIMER_TOLERANCE` early; the *shortest* backoffs (jitter 0)
    give the most probes. An owner's Refresh adds its one request.
    """
    model = CloudHealth(clock=lambda: 0.0, jitter=lambda: 0.0)
    for _ in range(model.outage_after):
        model.record_failure(CloudUnavailable("down"))
    probes = 0
    elapsed = model.retry_delay() - EARLY_TIMER_TOLERANCE
    while elapsed <= seconds:
        probes += 1
        model.record_failure(CloudUnavailable("down"))
        elapsed += model.retry_delay() - EARLY_TIMER_TOLERANCE
    return model.outage_after + pollers + probes
