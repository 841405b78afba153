"""Small helpers shared by the runtime: the clock, authenticator checks, error translation."""

import time

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .api import (
    CloudUnavailable,
    CommandFailed,
    CommandProtocolRequired,
    Forbidden,
    RateLimited,
    TeslaError,
    VehicleAsleep,
    VehicleNotFound,
)
from .const import DOMAIN, ProtectedAction
from .otp import OtpError, TotpGuard


def wall_clock() -> float:
    """Return the current epoch time; the runtime's default injected clock.

    ``time.time`` is looked up on every call (not bound once as a default argument), so
    tests that freeze or move time move this clock too.
    """
    return time.time()


def format_since(timestamp: float | None) -> str:
    """Return an epoch timestamp as local ``YYYY-MM-DD HH:MM`` for a message."""
    if timestamp is None:
        return "-"
    moment = dt_util.as_local(dt_util.utc_from_timestamp(timestamp))
    return moment.strftime("%Y-%m-%d %H:%M")


def check_code(
    guard: TotpGuard | None, action: ProtectedAction | None, code: str | None
) -> None:
    """Raise ServiceValidationError unless ``action`` may run with ``code``.

    Actions that are not protected (or no guard configured) always pass.
    """
    if guard is None or action is None:
        return
    try:
        guard.verify(action, code)
    except OtpError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders=err.translation_placeholders,
        ) from err


def translated_error(
    key: str, placeholders: dict[str, str] | None = None
) -> HomeAssistantError:
    """Return a HomeAssistantError with the integration's translated message ``key``."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def command_error(err: TeslaError, *, since: float | None) -> HomeAssistantError:
    """Map an api error raised while sending a command to a translated error.

    ``since`` is when the cloud was first seen unreachable (for ``cloud_unreachable``).
    """
    if isinstance(err, CommandFailed):
        return translated_error("command_failed", {"reason": err.reason})
    if isinstance(err, CommandProtocolRequired):
        return translated_error("command_signing_required")
    if isinstance(err, Forbidden):
        return translated_error("command_forbidden")
    if isinstance(err, RateLimited):
        return translated_error(
            "rate_limited", {"seconds": str(max(1, round(err.retry_after)))}
        )
    if isinstance(err, VehicleAsleep):
        return translated_error("vehicle_did_not_wake")
    if isinstance(err, VehicleNotFound):
        return translated_error("vehicle_not_found")
    if isinstance(err, CloudUnavailable):
        return translated_error("cloud_unreachable", {"since": format_since(since)})
    return translated_error("command_error", {"error": type(err).__name__})
