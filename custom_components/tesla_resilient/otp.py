"""Authenticator codes (TOTP) guarding sensitive vehicle actions.

Pure policy: no Home Assistant imports, no I/O; time comes from an injected clock.
The secret and the codes are never logged and never put into an exception message.
What the guard must remember across a reload or a restart (its lock-out, the failures
counted towards it and the time steps whose code was used) is a :class:`GuardState`
without secret or code, which :class:`~.store.LastKnownStore` keeps on disk.
"""

from dataclasses import dataclass
import hashlib
import math
import re
import time
from typing import TYPE_CHECKING, Any, Final, Self

import pyotp

from .const import CONF_OTP_ACTIONS, CONF_OTP_SECRET, ProtectedAction

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

ISSUER: Final = "Tesla Resilient"
INTERVAL: Final = 30
"""Seconds per TOTP step (the authenticator apps' default)."""
VALID_WINDOW: Final = 1
"""Steps accepted before and after the current one (clock drift, slow typing)."""
MAX_FAILURES: Final = 5
"""Wrong codes in a row (whatever the action) after which every code is refused."""
LOCKOUT_SECONDS: Final = 300.0

CODE_PATTERN: Final = re.compile(r"[0-9]{6}")
DEFAULT_PROTECTED_ACTIONS: Final = (
    ProtectedAction.UNLOCK,
    ProtectedAction.OPEN_FRUNK,
    ProtectedAction.OPEN_TRUNK,
    ProtectedAction.REMOTE_START,
)


def _subject(action: ProtectedAction | None) -> str:
    """Name what a code was given for, in an error message."""
    return "the protection settings" if action is None else str(action)


class OtpError(Exception):
    """An action was refused because of its authenticator code.

    ``translation_key`` and ``translation_placeholders`` name the translated message
    (``exceptions`` in strings.json) to show the user.
    """

    translation_key: str = "otp_code_invalid"

    def __init__(self, action: ProtectedAction | None, message: str) -> None:
        """Remember which action was refused (``None``: a change of the protection)."""
        super().__init__(message)
        self.action = action

    @property
    def translation_placeholders(self) -> dict[str, str]:
        """Values for the placeholders of the translated message."""
        return {}


class OtpCodeRequired(OtpError):
    """The action is protected and no code was given."""

    translation_key = "otp_code_required"

    def __init__(self, action: ProtectedAction | None) -> None:
        """Build the error for ``action``."""
        super().__init__(
            action, f"An authenticator code is required for {_subject(action)}"
        )


class OtpCodeInvalid(OtpError):
    """The code is not six digits or not the authenticator's current code."""

    translation_key = "otp_code_invalid"

    def __init__(self, action: ProtectedAction | None) -> None:
        """Build the error for ``action``."""
        super().__init__(action, f"Wrong authenticator code for {_subject(action)}")


class OtpCodeReused(OtpError):
    """The code was already used; the next one must be awaited."""

    translation_key = "otp_code_reused"

    def __init__(self, action: ProtectedAction | None) -> None:
        """Build the error for ``action``."""
        super().__init__(
            action, f"Authenticator code already used ({_subject(action)})"
        )


class OtpLockedOut(OtpError):
    """Too many wrong codes: every code is refused until ``until`` (epoch seconds)."""

    translation_key = "otp_locked_out"

    def __init__(
        self, action: ProtectedAction | None, until: float, now: float
    ) -> None:
        """Build the error for ``action``, refused until ``until``."""
        super().__init__(
            action, f"Too many wrong authenticator codes ({_subject(action)})"
        )
        self.until = until
        self.minutes = max(1, math.ceil((until - now) / 60))

    @property
    def translation_placeholders(self) -> dict[str, str]:
        """Values for the placeholders of the translated message."""
        return {"minutes": str(self.minutes)}


def secret_fingerprint(secret: str) -> str:
    """A SHA-256 fingerprint of ``secret``: which secret a saved state belongs to.

    Not the secret: 160 random bits cannot be recovered from their hash.
    """
    return hashlib.sha256(f"{ISSUER} TOTP {secret}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class GuardState:
    """What a :class:`TotpGuard` remembers between two checks; no secret, no code.

    ``used_steps`` are the TOTP time steps whose code was accepted (a step names its
    code without revealing it).
    """

    fingerprint: str
    """:func:`secret_fingerprint` of the guard's secret."""
    used_steps: frozenset[int] = frozenset()
    failures: int = 0
    locked_until: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict, the inverse of :meth:`from_dict`."""
        return {
            "fingerprint": self.fingerprint,
            "used_steps": sorted(self.used_steps),
            "failures": self.failures,
            "locked_until": self.locked_until,
        }

    @classmethod
    def from_dict(cls, raw: Any) -> Self | None:
        """Read a saved state; ``None`` when it is not one (never raises)."""
        if not isinstance(raw, dict):
            return None
        fingerprint, steps = raw.get("fingerprint"), raw.get("used_steps")
        failures, until = raw.get("failures"), raw.get("locked_until")
        if (
            not isinstance(fingerprint, str)
            or not isinstance(steps, list)
            or not all(_is_int(step) for step in steps)
            or not isinstance(failures, int)
            or isinstance(failures, bool)
        ):
            return None
        if until is not None and not (_is_number(until) and math.isfinite(until)):
            return None
        return cls(
            fingerprint,
            frozenset(steps),
            max(0, failures),
            None if until is None else float(until),
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def new_secret() -> str:
    """Return a new random base32 TOTP secret (160 bits)."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str) -> str:
    """Return the ``otpauth://`` URI an authenticator app scans for ``secret``."""
    return pyotp.TOTP(secret, interval=INTERVAL).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


def normalize_code(code: str | None) -> str | None:
    """Return the code without spaces, or ``None`` when nothing was entered."""
    if code is None:
        return None
    cleaned = "".join(code.split())
    return cleaned or None


def _matching_step(totp: pyotp.TOTP, code: str, now: float) -> int | None:
    """Return the time step within the window whose code is ``code``, else ``None``."""
    if not CODE_PATTERN.fullmatch(code):
        return None
    current = int(now // INTERVAL)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        step = current + offset
        if step >= 0 and pyotp.utils.strings_equal(code, totp.generate_otp(step)):
            return step
    return None


def code_is_valid(secret: str, code: str | None, now: float) -> bool:
    """Whether ``code`` is the code of ``secret`` at ``now`` (±1 step)."""
    cleaned = normalize_code(code)
    if cleaned is None:
        return False
    return (
        _matching_step(pyotp.TOTP(secret, interval=INTERVAL), cleaned, now) is not None
    )


class TotpGuard:
    """Check authenticator codes for the protected actions of one config entry.

    A code is accepted within ±1 time step; a code, once accepted, is refused again
    for as long as it could still be valid; ``MAX_FAILURES`` wrong codes in a row, for
    any mix of actions, lock every action out for ``LOCKOUT_SECONDS`` (one counter:
    more protected actions do not give more guesses). ``on_change`` is called with the
    new :attr:`state` whenever a check changed it (to keep it on disk).
    """

    def __init__(
        self,
        secret: str,
        actions: Collection[ProtectedAction],
        clock: Callable[[], float] = time.time,
        *,
        on_change: Callable[[GuardState], None] | None = None,
    ) -> None:
        """Protect ``actions`` with the TOTP ``secret``; read the time from ``clock``."""
        self._totp = pyotp.TOTP(secret, interval=INTERVAL)
        self._fingerprint = secret_fingerprint(secret)
        self._actions = frozenset(ProtectedAction(action) for action in actions)
        self._clock = clock
        self._on_change = on_change
        self._used_steps: set[int] = set()
        self._failures = 0
        self._locked_until: float | None = None

    def __repr__(self) -> str:
        """Describe the guard without its secret."""
        actions = ", ".join(sorted(self._actions))
        return f"TotpGuard(actions=[{actions}])"

    @property
    def actions(self) -> frozenset[ProtectedAction]:
        """The protected actions."""
        return self._actions

    @property
    def state(self) -> GuardState:
        """The lock-out, the failures and the used steps (no secret, no code)."""
        return GuardState(
            self._fingerprint,
            frozenset(self._used_steps),
            self._failures,
            self._locked_until,
        )

    def restore(self, state: GuardState | None) -> None:
        """Continue from ``state`` (saved before a restart) if it is this secret's."""
        if state is None or state.fingerprint != self._fingerprint:
            return
        self._used_steps = set(state.used_steps)
        self._failures = state.failures
        self._locked_until = state.locked_until

    def is_protected(self, action: ProtectedAction) -> bool:
        """Whether ``action`` needs a code."""
        return action in self._actions

    def locked_until(self) -> float | None:
        """Epoch seconds until which every code is refused, if they are now."""
        until = self._locked_until
        if until is None or until <= self._clock():
            return None
        return until

    def verify(self, action: ProtectedAction, code: str | None) -> None:
        """Return when ``action`` may run with ``code``; raise an OtpError otherwise."""
        if action in self._actions:
            self._check(action, code)

    def verify_settings_code(self, code: str | None) -> None:
        """Check the code that changes or turns off the protection itself.

        It shares the lock-out and the replay check of the actions' codes.
        """
        self._check(None, code)

    def _check(self, action: ProtectedAction | None, code: str | None) -> None:
        before = self.state
        try:
            self._check_code(action, code)
        finally:
            if self._on_change is not None and self.state != before:
                self._on_change(self.state)

    def _check_code(self, action: ProtectedAction | None, code: str | None) -> None:
        now = self._clock()
        if (until := self.locked_until()) is not None:
            raise OtpLockedOut(action, until, now)
        self._locked_until = None
        cleaned = normalize_code(code)
        if cleaned is None:
            raise OtpCodeRequired(action)
        step = _matching_step(self._totp, cleaned, now)
        if step is None:
            self._failures += 1
            if self._failures >= MAX_FAILURES:
                self._failures = 0
                self._locked_until = now + LOCKOUT_SECONDS
            raise OtpCodeInvalid(action)
        current = int(now // INTERVAL)
        # Steps older than the window can never match again: forget them.
        self._used_steps = {s for s in self._used_steps if s >= current - VALID_WINDOW}
        if step in self._used_steps:
            raise OtpCodeReused(action)
        self._used_steps.add(step)
        self._failures = 0

    @classmethod
    def from_options(
        cls,
        options: Mapping[str, Any],
        clock: Callable[[], float] = time.time,
        previous: TotpGuard | None = None,
        *,
        saved: GuardState | None = None,
        on_change: Callable[[GuardState], None] | None = None,
    ) -> TotpGuard | None:
        """Build the guard from config entry options; ``None`` when protection is off.

        With the same secret as ``previous``, the new guard keeps its used codes and
        its lock-out: changing the protected actions must not clear either. Without
        ``previous`` (set-up) it continues from ``saved``, if that is its secret's.
        ``on_change`` (default: ``previous``'s) hears of every change of its state.
        """
        secret = options.get(CONF_OTP_SECRET)
        raw_actions = options.get(CONF_OTP_ACTIONS) or ()
        if not isinstance(secret, str) or not secret:
            return None
        actions = [ProtectedAction(a) for a in raw_actions if a in ProtectedAction]
        if not actions:
            return None
        if on_change is None and previous is not None:
            on_change = previous._on_change
        guard = cls(secret, actions, clock, on_change=on_change)
        guard.restore(saved if previous is None else previous.state)
        return guard
