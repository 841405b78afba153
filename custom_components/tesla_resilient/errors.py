"""The one place where an api error (``TeslaError``) becomes a Home Assistant error.

Set-up, both coordinators, commands, the entities' authenticator check and the config
flow all translate here:

* :func:`reauth_on_auth_failure`: an ``AuthFailed`` becomes ``ConfigEntryAuthFailed``
  (Home Assistant starts reauth), wherever a coordinator or set-up talks to the cloud;
* :func:`setup_error`: what set-up cannot start with becomes ``ConfigEntryNotReady``;
* :func:`command_errors`: a command's or wake's error becomes a translated
  ``HomeAssistantError`` (reauth started on ``AuthFailed``, the billing repair issue
  raised on ``BillingRequired``);
* :func:`async_billing_required` / :func:`async_billing_settled`: the repair issue
  "your Tesla developer account needs payment" (HTTP 402);
* :func:`check_code`: a refused authenticator code becomes ``ServiceValidationError``;
* :func:`flow_error_key`: a sign-in error becomes the flow form's error key (and
  :func:`flow_error_placeholders` its placeholders).

Every message is translated (``exceptions`` in strings.json) and carries no secret.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
import math

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    ConfigEntryNotReady,
    HomeAssistantError,
    ServiceValidationError,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .api import (
    AccountLocked,
    AuthFailed,
    BillingRequired,
    CloudUnavailable,
    CommandFailed,
    CommandOutcomeUnknown,
    CommandSigningRequired,
    FleetAccountLocked,
    Forbidden,
    InvalidCredentials,
    InvalidPasscode,
    KeyNotPaired,
    LegalRestriction,
    LoginExpired,
    PasscodeReused,
    PreconditionFailed,
    RateLimited,
    TeslaError,
    TooManyAttempts,
    VehicleAsleep,
    VehicleNotFound,
)
from .const import DOMAIN, LOGGER, ProtectedAction
from .health import CLOUD_FAILURES
from .otp import OtpCodeRequired, OtpError, TotpGuard

BILLING_ISSUE_ID = "billing_required"
BILLING_URL = "https://developer.tesla.com/dashboard"
_COMMAND_ERROR_KEYS: tuple[tuple[type[TeslaError], str], ...] = (
    (CommandOutcomeUnknown, "command_outcome_unknown"),
    (KeyNotPaired, "key_not_paired"),
    (CommandSigningRequired, "command_signing_required"),
    (Forbidden, "command_forbidden"),
    (BillingRequired, "billing_required"),
    (FleetAccountLocked, "fleet_account_locked"),
    (LegalRestriction, "legal_restriction"),
    (VehicleAsleep, "vehicle_did_not_wake"),
    (VehicleNotFound, "vehicle_not_found"),
)
"""Errors whose message needs no placeholder, most specific first."""


def format_since(timestamp: float | None) -> str:
    """Return an epoch timestamp as local ``YYYY-MM-DD HH:MM`` for a message."""
    if timestamp is None:
        return "-"
    moment = dt_util.as_local(dt_util.utc_from_timestamp(timestamp))
    return moment.strftime("%Y-%m-%d %H:%M")


def translated_error(
    key: str, placeholders: dict[str, str] | None = None
) -> HomeAssistantError:
    """Return a HomeAssistantError with the integration's translated message ``key``."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def cloud_unreachable(since: float | None) -> HomeAssistantError:
    """The error of a command refused during an outage that started at ``since``."""
    return translated_error("cloud_unreachable", {"since": format_since(since)})


def rate_limited(seconds: float) -> HomeAssistantError:
    """The error of a request held back or refused by Tesla's rate limit."""
    return translated_error("rate_limited", _wait(seconds))


def _wait(seconds: float) -> dict[str, str]:
    """The ``seconds`` placeholder of a rate limit's message (whole seconds, ≥ 1)."""
    return {"seconds": str(max(1, math.ceil(seconds)))}


def reauth_required() -> ConfigEntryAuthFailed:
    """The entry's tokens no longer work: Home Assistant starts reauth."""
    return ConfigEntryAuthFailed(
        translation_domain=DOMAIN, translation_key="auth_failed"
    )


@contextmanager
def reauth_on_auth_failure() -> Iterator[None]:
    """Turn ``AuthFailed`` into ``ConfigEntryAuthFailed`` (Home Assistant reauths)."""
    try:
        yield
    except AuthFailed as err:
        raise reauth_required() from err


def setup_error(err: TeslaError) -> ConfigEntryNotReady:
    """Set-up cannot start because of ``err``: Home Assistant retries later."""
    if isinstance(err, RateLimited):
        return ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="setup_rate_limited",
            translation_placeholders=_wait(err.retry_after),
        )
    if isinstance(err, CLOUD_FAILURES):
        return ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="setup_cloud_unreachable"
        )
    return ConfigEntryNotReady(
        translation_domain=DOMAIN,
        translation_key="setup_failed",
        translation_placeholders={"error": type(err).__name__},
    )


def command_error(err: TeslaError, *, since: float | None) -> HomeAssistantError:
    """Map an api error raised while sending a command to a translated error.

    ``since`` is when the cloud was first seen unreachable (for ``cloud_unreachable``).
    """
    if isinstance(err, CommandFailed):
        return translated_error("command_failed", {"reason": err.reason})
    for error_type, key in _COMMAND_ERROR_KEYS:
        if isinstance(err, error_type):
            return translated_error(key)
    if isinstance(err, RateLimited):
        return rate_limited(err.retry_after)
    if isinstance(err, CloudUnavailable):
        return cloud_unreachable(since)
    return translated_error("command_error", {"error": type(err).__name__})


@contextmanager
def command_errors(
    hass: HomeAssistant,
    entry: ConfigEntry,
    *,
    on_cloud_failure: Callable[[TeslaError], None],
    since: Callable[[], float],
) -> Iterator[None]:
    """Translate a command's or wake's api errors into Home Assistant errors.

    ``AuthFailed`` starts reauth; an outage or rate limit is first reported through
    ``on_cloud_failure`` (the cloud health); ``since`` then gives when the cloud was
    first seen unreachable, for the message.
    """
    try:
        yield
    except AuthFailed as err:
        entry.async_start_reauth(hass)
        raise translated_error("auth_failed") from err
    except TeslaError as err:
        if isinstance(err, CLOUD_FAILURES):
            on_cloud_failure(err)
        async_owner_action_needed(hass, entry, err)
        raise command_error(err, since=since()) from err


@callback
def async_owner_action_needed(
    hass: HomeAssistant, entry: ConfigEntry, err: TeslaError
) -> None:
    """Raise the repair issue an answer asks the owner to act on (402: payment)."""
    if isinstance(err, BillingRequired):
        async_billing_required(hass, entry)


def billing_issue_id(entry: ConfigEntry) -> str:
    """Id of ``entry``'s billing repair issue."""
    return f"{BILLING_ISSUE_ID}_{entry.entry_id}"


@callback
def async_billing_required(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Tesla asks for payment (HTTP 402): raise the repair issue (kept until settled)."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        billing_issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=BILLING_ISSUE_ID,
        translation_placeholders={"account": entry.title},
        learn_more_url=BILLING_URL,
    )


@callback
def async_billing_settled(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Tesla answered: remove the billing repair issue, if any."""
    ir.async_delete_issue(hass, DOMAIN, billing_issue_id(entry))


def check_code(
    guard: TotpGuard | None,
    action: ProtectedAction | None,
    code: str | None,
    *,
    code_field: bool = False,
) -> None:
    """Raise ServiceValidationError unless ``action`` may run with ``code``.

    Actions that are not protected (or no guard configured) always pass. A missing code
    gets a short message of its own per action: "enter your code" where the entity's
    dialog has a code field (``code_field``: a lock), else where to give it.
    """
    if guard is None or action is None:
        return
    try:
        guard.verify(action, code)
    except OtpCodeRequired as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=f"{'enter_code' if code_field else 'code_required'}_{action}",
        ) from err
    except OtpError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.translation_key,
            translation_placeholders=err.translation_placeholders,
        ) from err


def flow_error_key(err: TeslaError) -> str:
    """Map a sign-in or API error to the config flow's translated error key.

    A rate limit's message takes :func:`flow_error_placeholders`.
    """
    match err:
        case InvalidCredentials() | AuthFailed():
            return "invalid_auth"
        case AccountLocked():
            return "account_locked"
        case InvalidPasscode():
            return "invalid_code"
        case PasscodeReused():
            return "code_reused"
        case TooManyAttempts():
            return "too_many_attempts"
        case LoginExpired():
            return "login_expired"
        case RateLimited():
            return "rate_limited"
        case CloudUnavailable():
            return "cannot_connect"
        case PreconditionFailed():
            return "not_registered"
    LOGGER.exception(
        "Unexpected error while signing in to Tesla: %s", type(err).__name__
    )
    return "unknown"


def flow_error_placeholders(err: TeslaError) -> dict[str, str]:
    """The placeholders of :func:`flow_error_key`'s message (a rate limit's seconds)."""
    return _wait(err.retry_after) if isinstance(err, RateLimited) else {}
