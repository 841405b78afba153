"""Tests of the authenticator-code guard (pure, virtual time)."""

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest

from custom_components.tesla_resilient.const import (
    CONF_OTP_ACTIONS,
    CONF_OTP_SECRET,
    ProtectedAction,
)
from custom_components.tesla_resilient.otp import (
    DEFAULT_PROTECTED_ACTIONS,
    LOCKOUT_SECONDS,
    MAX_FAILURES,
    GuardState,
    OtpCodeInvalid,
    OtpCodeRequired,
    OtpCodeReused,
    OtpError,
    OtpLockedOut,
    TotpGuard,
    code_is_valid,
    new_secret,
    normalize_code,
    provisioning_uri,
    secret_fingerprint,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
START = 1_800_000_000.0  # a multiple of 30: the start of a time step


class FakeClock:
    """Virtual epoch seconds."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def code_at(when: float) -> str:
    return pyotp.TOTP(SECRET).at(int(when))


def wrong_code(when: float) -> str:
    """A six-digit code that matches no step of the ±1 window at ``when``."""
    valid = {code_at(when + offset * 30) for offset in (-1, 0, 1)}
    return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in valid)


def lock_out(guard: TotpGuard) -> None:
    """Give ``guard`` wrong codes for unlocking until it locks every action out."""
    for _ in range(MAX_FAILURES):
        with pytest.raises(OtpCodeInvalid):
            guard.verify(ProtectedAction.UNLOCK, wrong_code(START))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def guard(clock: FakeClock) -> TotpGuard:
    return TotpGuard(
        SECRET, [ProtectedAction.UNLOCK, ProtectedAction.OPEN_TRUNK], clock
    )


def test_unprotected_action_needs_no_code(guard: TotpGuard) -> None:
    assert not guard.is_protected(ProtectedAction.OPEN_FRUNK)
    guard.verify(ProtectedAction.OPEN_FRUNK, None)
    guard.verify(ProtectedAction.OPEN_FRUNK, "not a code")


def test_missing_code_is_refused(guard: TotpGuard) -> None:
    assert guard.is_protected(ProtectedAction.UNLOCK)
    for missing in (None, "", "   "):
        with pytest.raises(OtpCodeRequired) as err:
            guard.verify(ProtectedAction.UNLOCK, missing)
        assert err.value.translation_key == "otp_code_required"
        assert err.value.translation_placeholders == {}
        assert err.value.action is ProtectedAction.UNLOCK


def test_current_code_accepted_and_spaces_ignored(guard: TotpGuard) -> None:
    code = code_at(START)
    guard.verify(ProtectedAction.UNLOCK, f" {code[:3]} {code[3:]} ")


@pytest.mark.parametrize("offset", [-30, 30])
def test_neighbouring_steps_accepted(
    guard: TotpGuard, clock: FakeClock, offset: int
) -> None:
    guard.verify(ProtectedAction.UNLOCK, code_at(START + offset))


@pytest.mark.parametrize("offset", [-60, 60])
def test_codes_outside_the_window_refused(
    guard: TotpGuard, clock: FakeClock, offset: int
) -> None:
    code = code_at(START + offset)
    assert code not in {code_at(START - 30), code_at(START), code_at(START + 30)}
    with pytest.raises(OtpCodeInvalid) as err:
        guard.verify(ProtectedAction.UNLOCK, code)
    assert err.value.translation_key == "otp_code_invalid"


def test_leading_zero_code_kept_as_string(clock: FakeClock) -> None:
    totp = pyotp.TOTP(SECRET)
    step = next(s for s in range(10_000) if totp.generate_otp(s).startswith("0"))
    clock.now = step * 30.0
    guard = TotpGuard(SECRET, [ProtectedAction.UNLOCK], clock)
    code = totp.generate_otp(step)
    with pytest.raises(OtpCodeInvalid):
        guard.verify(ProtectedAction.UNLOCK, str(int(code)))  # zero dropped: wrong
    guard.verify(ProtectedAction.UNLOCK, code)


@pytest.mark.parametrize("bad", ["12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_refused(guard: TotpGuard, bad: str) -> None:
    with pytest.raises(OtpCodeInvalid):
        guard.verify(ProtectedAction.UNLOCK, bad)


def test_code_cannot_be_replayed_within_its_window(
    guard: TotpGuard, clock: FakeClock
) -> None:
    code = code_at(START)
    guard.verify(ProtectedAction.UNLOCK, code)
    with pytest.raises(OtpCodeReused) as err:
        guard.verify(ProtectedAction.UNLOCK, code)
    assert err.value.translation_key == "otp_code_reused"
    # Nor for another protected action, nor a step later while still in the window.
    clock.now = START + 30
    with pytest.raises(OtpCodeReused):
        guard.verify(ProtectedAction.OPEN_TRUNK, code)
    # The next code works.
    guard.verify(ProtectedAction.OPEN_TRUNK, code_at(START + 30))
    # Once outside the window, the old code is simply wrong.
    clock.now = START + 90
    with pytest.raises(OtpCodeInvalid):
        guard.verify(ProtectedAction.UNLOCK, code)


def test_lockout_after_five_wrong_codes(guard: TotpGuard, clock: FakeClock) -> None:
    assert MAX_FAILURES == 5
    assert LOCKOUT_SECONDS == 300
    bad = wrong_code(START)
    for _ in range(MAX_FAILURES):
        with pytest.raises(OtpCodeInvalid):
            guard.verify(ProtectedAction.UNLOCK, bad)
    assert guard.locked_until() == START + 300
    # Even the right code is refused while locked out, for every action.
    with pytest.raises(OtpLockedOut) as err:
        guard.verify(ProtectedAction.UNLOCK, code_at(START))
    assert err.value.translation_key == "otp_locked_out"
    assert err.value.until == START + 300
    assert err.value.translation_placeholders == {"minutes": "5"}
    with pytest.raises(OtpLockedOut):
        guard.verify(ProtectedAction.OPEN_TRUNK, code_at(START))
    with pytest.raises(OtpLockedOut):
        guard.verify_settings_code(code_at(START))
    # An unprotected action still needs no code.
    guard.verify(ProtectedAction.OPEN_FRUNK, None)
    # A missing code is refused as locked out too, with the remaining minutes.
    clock.now = START + 241
    with pytest.raises(OtpLockedOut) as err:
        guard.verify(ProtectedAction.UNLOCK, None)
    assert err.value.translation_placeholders == {"minutes": "1"}
    # After five minutes the actions work again with a fresh code.
    clock.now = START + 300
    assert guard.locked_until() is None
    guard.verify(ProtectedAction.UNLOCK, code_at(clock.now))


def test_failures_count_across_actions(guard: TotpGuard, clock: FakeClock) -> None:
    """More protected actions do not give more guesses: one counter for all."""
    bad = wrong_code(START)
    actions = [ProtectedAction.UNLOCK, ProtectedAction.OPEN_TRUNK]
    for attempt in range(MAX_FAILURES - 1):
        with pytest.raises(OtpCodeInvalid):
            guard.verify(actions[attempt % 2], bad)
    assert guard.locked_until() is None
    with pytest.raises(OtpCodeInvalid):
        guard.verify_settings_code(bad)  # the settings' code counts as well
    assert guard.locked_until() == START + LOCKOUT_SECONDS
    for action in actions:
        with pytest.raises(OtpLockedOut) as err:
            guard.verify(action, code_at(START))
        assert err.value.action is action


def test_settings_code(guard: TotpGuard) -> None:
    """The code that changes the protection is checked like an action's code."""
    with pytest.raises(OtpCodeRequired) as required:
        guard.verify_settings_code(" ")
    assert required.value.action is None
    assert "protection settings" in str(required.value)
    code = code_at(START)
    guard.verify_settings_code(code)
    with pytest.raises(OtpCodeReused) as reused:
        guard.verify_settings_code(code)
    assert code not in str(reused.value)
    with pytest.raises(OtpCodeReused):  # replay across actions and settings
        guard.verify(ProtectedAction.UNLOCK, code)
    with pytest.raises(OtpCodeInvalid) as invalid:
        guard.verify_settings_code("12345")
    assert invalid.value.action is None


def test_success_resets_the_failure_count(guard: TotpGuard, clock: FakeClock) -> None:
    bad = wrong_code(START)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(OtpCodeInvalid):
            guard.verify(ProtectedAction.UNLOCK, bad)
    guard.verify(ProtectedAction.OPEN_TRUNK, code_at(START))
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(OtpCodeInvalid):
            guard.verify(ProtectedAction.UNLOCK, bad)
    assert guard.locked_until() is None


def test_missing_code_does_not_count_as_failure(guard: TotpGuard) -> None:
    for _ in range(MAX_FAILURES + 2):
        with pytest.raises(OtpCodeRequired):
            guard.verify(ProtectedAction.UNLOCK, None)
    assert guard.locked_until() is None


def test_errors_share_a_base_and_hide_the_code(guard: TotpGuard) -> None:
    code = code_at(START)
    guard.verify(ProtectedAction.UNLOCK, code)
    with pytest.raises(OtpError) as err:
        guard.verify(ProtectedAction.UNLOCK, code)
    assert code not in str(err.value)
    assert SECRET not in repr(guard)
    assert repr(guard) == "TotpGuard(actions=[open_trunk, unlock])"


def test_from_options() -> None:
    clock = FakeClock()
    assert TotpGuard.from_options({}) is None
    assert (
        TotpGuard.from_options({CONF_OTP_SECRET: "", CONF_OTP_ACTIONS: ["unlock"]})
        is None
    )
    assert (
        TotpGuard.from_options({CONF_OTP_SECRET: SECRET, CONF_OTP_ACTIONS: []}) is None
    )
    assert (
        TotpGuard.from_options(
            {CONF_OTP_SECRET: SECRET, CONF_OTP_ACTIONS: ["nonsense"]}
        )
        is None
    )
    guard = TotpGuard.from_options(
        {
            CONF_OTP_SECRET: SECRET,
            CONF_OTP_ACTIONS: ["unlock", "nonsense", "open_frunk"],
        },
        clock,
    )
    assert guard is not None
    assert guard.actions == {ProtectedAction.UNLOCK, ProtectedAction.OPEN_FRUNK}
    with pytest.raises(OtpCodeRequired):
        guard.verify(ProtectedAction.OPEN_FRUNK, None)
    guard.verify(ProtectedAction.OPEN_FRUNK, code_at(START))  # uses the injected clock


def test_secret_uri_and_code_check() -> None:
    secret = new_secret()
    assert len(secret) == 32
    assert secret != new_secret()
    uri = provisioning_uri(secret, "owner@example.com")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    query = parse_qs(parts.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Tesla Resilient"]
    assert "owner%40example.com" in parts.path or "owner@example.com" in parts.path
    now = START
    code = pyotp.TOTP(secret).at(int(now))
    assert code_is_valid(secret, code, now)
    assert code_is_valid(secret, code, now + 30)
    assert not code_is_valid(secret, code, now + 90)
    assert not code_is_valid(secret, None, now)
    assert not code_is_valid(secret, "12345", now)
    assert normalize_code(" 12 34 56 ") == "123456"
    assert normalize_code(None) is None


def test_default_protected_actions() -> None:
    assert set(DEFAULT_PROTECTED_ACTIONS) == {
        ProtectedAction.UNLOCK,
        ProtectedAction.OPEN_FRUNK,
        ProtectedAction.OPEN_TRUNK,
        ProtectedAction.REMOTE_START,
    }


def test_changed_options_keep_lockout_and_used_codes(clock: FakeClock) -> None:
    """A new guard for the same secret inherits lock-out and used codes; a new secret not."""
    options = {CONF_OTP_SECRET: SECRET, CONF_OTP_ACTIONS: ["unlock"]}
    more = {CONF_OTP_SECRET: SECRET, CONF_OTP_ACTIONS: ["unlock", "open_frunk"]}

    used = code_at(START)
    first = TotpGuard.from_options(options, clock)
    assert first is not None
    first.verify(ProtectedAction.UNLOCK, used)
    after_use = TotpGuard.from_options(more, clock, previous=first)
    assert after_use is not None
    with pytest.raises(OtpCodeReused):
        after_use.verify(ProtectedAction.UNLOCK, used)

    lock_out(after_use)
    locked = TotpGuard.from_options(options, clock, previous=after_use)
    assert locked is not None
    assert locked.locked_until() == START + LOCKOUT_SECONDS
    with pytest.raises(OtpLockedOut):
        locked.verify(ProtectedAction.UNLOCK, code_at(START + 30))

    other = {
        CONF_OTP_SECRET: "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA",
        CONF_OTP_ACTIONS: ["unlock"],
    }
    fresh = TotpGuard.from_options(other, clock, previous=locked)
    assert fresh is not None
    assert fresh.locked_until() is None


def test_state_is_saved_without_secret_or_code(clock: FakeClock) -> None:
    """Every change reaches ``on_change``; the saved form holds no secret, no code."""
    changes: list[GuardState] = []
    guard = TotpGuard(SECRET, [ProtectedAction.UNLOCK], clock, on_change=changes.append)
    used = code_at(START)
    guard.verify(ProtectedAction.UNLOCK, used)
    assert changes[-1].used_steps == {START // 30}
    with pytest.raises(OtpCodeRequired):  # changes nothing: not reported
        guard.verify(ProtectedAction.UNLOCK, None)
    assert len(changes) == 1
    lock_out(guard)
    assert len(changes) == 1 + MAX_FAILURES
    saved = changes[-1].as_dict()
    assert saved["locked_until"] == START + LOCKOUT_SECONDS
    text = json.dumps(saved)
    assert SECRET not in text
    for code in (used, wrong_code(START)):  # as a value, not digits of a step
        assert f'"{code}"' not in text
    assert saved["fingerprint"] == secret_fingerprint(SECRET) != SECRET
    assert GuardState.from_dict(saved) == guard.state


def test_restored_guard_keeps_lockout_and_used_codes(clock: FakeClock) -> None:
    """A guard built after a restart continues from the saved state of its secret."""
    options = {CONF_OTP_SECRET: SECRET, CONF_OTP_ACTIONS: ["unlock"]}
    before = TotpGuard.from_options(options, clock)
    assert before is not None
    used = code_at(START)
    before.verify(ProtectedAction.UNLOCK, used)
    changes: list[GuardState] = []
    after = TotpGuard.from_options(
        options, clock, saved=before.state, on_change=changes.append
    )
    assert after is not None
    with pytest.raises(OtpCodeReused):
        after.verify(ProtectedAction.UNLOCK, used)
    lock_out(after)
    again = TotpGuard.from_options(options, clock, saved=after.state)
    assert again is not None
    assert again.locked_until() == START + LOCKOUT_SECONDS
    # Options changed later: the new guard keeps reporting to the same place.
    changed = TotpGuard.from_options(options, clock, previous=after)
    assert changed is not None
    clock.now += LOCKOUT_SECONDS + 30
    changed.verify(ProtectedAction.UNLOCK, code_at(clock.now))
    assert changes[-1] == changed.state
    # Another secret's state is not this guard's.
    other = {**options, CONF_OTP_SECRET: "KRUGKIDROVUWG2ZAMJZG653OEBTG66BA"}
    fresh = TotpGuard.from_options(other, clock, saved=after.state)
    assert fresh is not None
    assert fresh.state == GuardState(secret_fingerprint(other[CONF_OTP_SECRET]))


@pytest.mark.parametrize(
    "raw",
    [
        None,
        [],
        {},
        {"fingerprint": 1, "used_steps": [], "failures": 0, "locked_until": None},
        {"fingerprint": "f", "used_steps": ["1"], "failures": 0, "locked_until": None},
        {"fingerprint": "f", "used_steps": [], "failures": True, "locked_until": None},
        {"fingerprint": "f", "used_steps": [], "failures": 0, "locked_until": "soon"},
        {"fingerprint": "f", "used_steps": [], "failures": 0, "locked_until": 1e999},
    ],
)
def test_bad_saved_state_is_ignored(raw: Any) -> None:
    """Anything that is not a saved state reads as none."""
    assert GuardState.from_dict(raw) is None


def test_saved_state_read_tolerantly() -> None:
    """Integers for times, negative counts clamped."""
    state = GuardState.from_dict(
        {"fingerprint": "f", "used_steps": [3, 4], "failures": -2, "locked_until": 5}
    )
    assert state == GuardState("f", frozenset({3, 4}), 0, 5.0)
