"""Tests of CloudHealth (pure, virtual time)."""

from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.tesla_resilient.api.errors import (
    AuthFailed,
    CloudUnavailable,
    CommandFailed,
    Forbidden,
    MalformedResponse,
    RateLimited,
    VehicleAsleep,
)
from custom_components.tesla_resilient.health import (
    BACKOFF_CAP,
    CloudHealth,
    HealthState,
    max_outage_requests,
)

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
    clock.now += 119.5
    assert not health.can_attempt()  # a 429 is billed: no early timer tolerance
    assert health.rate_limit_wait() == 0.5
    clock.now -= 119.5
    assert health.record_failure(RateLimited(30)) is False  # never shortens the wait
    assert health.rate_limited_until == T0 + 120
    clock.now += 120
    assert health.can_attempt()
    assert health.wait_time() is None  # a Retry-After that has passed holds nothing
    assert health.rate_limit_wait() is None
    assert health.as_dict()["rate_limited_until"].startswith("2025-")


def test_backoff_grows_to_the_cap() -> None:
    """Base 10 s, factor 2, cap 40 s; equal jitter keeps the upper half."""
    health, _ = _health(jitter=0.0)
    delays = []
    for _ in range(8):
        health.record_failure(CloudUnavailable("503"))
        delays.append(health.retry_delay())
    assert delays == [5, 10, 20, 20, 20, 20, 20, 20]
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
    clock.now += 17.5
    assert not health.can_attempt()
    assert health.wait_time() == 2.5
    assert health.retry_after_failure() == 2.5  # what is left, not a new backoff
    clock.now += 0.5
    assert health.can_attempt()  # the probe (a timer 2 s early still probes)
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


def test_probe_interval_counts_from_the_probe_start() -> None:
    """A probe that hung until its timeout does not delay the next by the timeout."""
    health, clock = _health(jitter=0.5)
    for _ in range(3):
        health.record_failure(CloudUnavailable("503"))
    assert health.retry_delay() == 30  # cap 40, upper half
    clock.now += 30
    assert health.can_attempt()  # the probe, which hangs ...
    clock.now += 30
    health.record_failure(TimeoutError())  # ... until the client's timeout
    assert health.wait_time() is None  # its backoff ran while it hung
    assert health.can_attempt()
    clock.now += 0.1
    health.record_failure(CloudUnavailable("503"))  # an answer: 30 s after its start
    assert health.wait_time() == pytest.approx(29.9)


def test_outage_requests_are_bounded() -> None:
    """One hour of outage: at most about one probe per 18 s (20 s, timers 2 s early)."""
    assert max_outage_requests(0, 3) == 6
    assert max_outage_requests(3600, 3) == 3 + 3 + 200
