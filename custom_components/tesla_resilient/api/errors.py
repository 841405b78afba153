"""Exceptions raised by the Tesla cloud client.

Every exception derives from :class:`TeslaError`. Messages are safe to log: they never
contain a token, password, passcode, cookie or VIN.
"""

import math

DEFAULT_RETRY_AFTER = 60.0
"""Seconds to wait after a 429 that carries no usable ``Retry-After`` header."""


class TeslaError(Exception):
    """Base class of everything the Tesla cloud client raises."""


class CloudUnavailable(TeslaError):
    """Tesla's cloud cannot be reached or failed: 5xx, 540, timeouts, connection errors."""


class Unanswered(CloudUnavailable):
    """A request went out but no answer came back: a timeout or a dropped connection.

    Unlike a refused connection or a failed name look-up (plain ``CloudUnavailable``),
    Tesla may have received the request.
    """


class CommandOutcomeUnknown(CloudUnavailable):
    """A command (or wake-up) was sent but its answer was lost or cut short.

    A timeout, a dropped connection or a truncated answer: the car may have carried it
    out. It is never sent again on its own.
    """


class MalformedResponse(CloudUnavailable):
    """A response body is not JSON or not the expected envelope."""


class WrongRegion(CloudUnavailable):
    """HTTP 421 that a region look-up did not cure: the account lives in another region."""


class VehicleAsleep(TeslaError):
    """HTTP 408: the vehicle is asleep or offline. Not a failure."""


class RateLimited(TeslaError):
    """HTTP 429: too many requests; wait at least ``retry_after`` seconds."""

    def __init__(self, retry_after: float = DEFAULT_RETRY_AFTER) -> None:
        """Store how long to wait before the next request."""
        super().__init__(f"Rate limited by Tesla, retry after {retry_after:g} s")
        self.retry_after = retry_after

    @classmethod
    def from_header(cls, retry_after: str | None) -> RateLimited:
        """Build from a ``Retry-After`` header in seconds (default 60 when absent or bad)."""
        try:
            seconds = (
                float(retry_after) if retry_after is not None else DEFAULT_RETRY_AFTER
            )
        except ValueError:
            seconds = DEFAULT_RETRY_AFTER
        if not math.isfinite(seconds):
            seconds = DEFAULT_RETRY_AFTER
        return cls(max(seconds, 0.0))


class AuthFailed(TeslaError):
    """The tokens are no longer accepted: 401 after a refresh, or refresh refused."""


class Forbidden(TeslaError):
    """HTTP 403: missing scope, not the owner, or a similar permission problem."""


class CommandSigningRequired(Forbidden):
    """HTTP 403: the vehicle only accepts commands signed with the vehicle command protocol.

    The message is Tesla's own error text.
    """


class KeyNotPaired(TeslaError):
    """The car does not know the app's key (no virtual key): the owner must pair it.

    The car answered a signed command or its session request with an unknown key or
    "not on whitelist"; nothing was carried out.
    """


class BillingRequired(TeslaError):
    """HTTP 402: the Tesla developer account needs payment (credit used up, payment failed)."""


class FleetAccountLocked(TeslaError):
    """HTTP 423: Tesla has locked the account for the Fleet API."""


class LegalRestriction(TeslaError):
    """HTTP 451: the request is unavailable for legal reasons (e.g. the market's rules)."""


class VehicleNotFound(TeslaError):
    """HTTP 404: no such vehicle on this account."""


class PreconditionFailed(TeslaError):
    """HTTP 412: the account or application is not registered in this region."""


class Unprocessable(TeslaError):
    """HTTP 422: Tesla could not follow the request (registration: no usable key)."""


class KeyNotReachable(TeslaError):
    """HTTP 424: Tesla could not fetch the app's public key from the domain."""


class CommandFailed(TeslaError):
    """The vehicle refused a command (HTTP 200 with ``result: false``)."""

    def __init__(self, reason: str) -> None:
        """Store Tesla's reason string, e.g. ``"already_set"`` or ``"not_charging"``."""
        super().__init__(f"Command failed: {reason}")
        self.reason = reason


class SignInError(TeslaError):
    """Base class of the errors of the password and two-factor sign-in."""


class InvalidCredentials(SignInError):
    """Wrong email address or password."""


class AccountLocked(SignInError):
    """The account is locked, usually after too many wrong passwords."""


class InvalidPasscode(SignInError):
    """The passcode is wrong (or not six digits); the same sign-in may retry."""


class PasscodeReused(SignInError):
    """The passcode was already used; wait for the next one."""


class TooManyAttempts(SignInError):
    """Too many wrong passcodes; the sign-in must start again later."""


class LoginExpired(SignInError):
    """The sign-in transaction expired or is unknown; start again."""


class CaptchaRequired(SignInError):
    """Tesla demands a captcha; use the browser sign-in instead."""


class BluetoothUnavailable(TeslaError):
    """Nothing reached the car over Bluetooth: not found, connect failed, no answer to a
    session request. Nothing was carried out, so the cloud may be tried instead.
    """


class BluetoothSlotsFull(BluetoothUnavailable):
    """The car or every adapter and proxy in reach had no free connection slot."""


class BluetoothTimeout(TeslaError):
    """A read over Bluetooth got no answer (the link was up, the car stayed silent)."""


class PairingTimedOut(TeslaError):
    """Pairing over Bluetooth: nobody tapped a key card on the console in time."""


class PairingDeclined(TeslaError):
    """Pairing over Bluetooth: the request was declined on the car's screen."""


class PairingFailed(TeslaError):
    """Pairing over Bluetooth: the car refused to add the key for another reason."""

    def __init__(self, reason: str) -> None:
        """Store the car's reason, e.g. ``"whitelist_full"``."""
        super().__init__(f"Pairing failed: {reason}")
        self.reason = reason
