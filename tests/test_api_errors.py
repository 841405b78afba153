"""The exception hierarchy of the Tesla cloud client."""

import pytest

from custom_components.tesla_resilient.api import (
    AccountLocked,
    AuthFailed,
    CaptchaRequired,
    CloudUnavailable,
    CommandFailed,
    CommandSigningRequired,
    Forbidden,
    InvalidCredentials,
    InvalidPasscode,
    LoginExpired,
    MalformedResponse,
    PasscodeReused,
    PreconditionFailed,
    RateLimited,
    SignInError,
    TeslaError,
    TooManyAttempts,
    VehicleAsleep,
    VehicleNotFound,
)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, 60.0),
        ("30", 30.0),
        ("2.5", 2.5),
        ("-5", 0.0),
        ("soon", 60.0),
        ("inf", 60.0),
        ("nan", 60.0),
    ],
)
def test_rate_limited_from_header(header: str | None, seconds: float) -> None:
    """Retry-After in seconds; absent or unusable means 60 s."""
    error = RateLimited.from_header(header)
    assert error.retry_after == seconds
    assert f"{seconds:g}" in str(error)


def test_hierarchy() -> None:
    """Callers can catch by family: outages, sign-in problems, permission problems."""
    assert issubclass(MalformedResponse, CloudUnavailable)
    assert issubclass(CommandSigningRequired, Forbidden)
    sign_in_errors: list[type[TeslaError]] = [
        AccountLocked,
        CaptchaRequired,
        InvalidCredentials,
        InvalidPasscode,
        LoginExpired,
        PasscodeReused,
        TooManyAttempts,
    ]
    for error in sign_in_errors:
        assert issubclass(error, SignInError)
    families: list[type[Exception]] = [
        AuthFailed,
        CloudUnavailable,
        CommandFailed,
        Forbidden,
        PreconditionFailed,
        RateLimited,
        SignInError,
        VehicleAsleep,
        VehicleNotFound,
    ]
    for family in families:
        assert issubclass(family, TeslaError)


def test_errors_with_data() -> None:
    """CommandFailed keeps Tesla's reason."""
    failed = CommandFailed("not_charging")
    assert failed.reason == "not_charging"
    assert "not_charging" in str(failed)
