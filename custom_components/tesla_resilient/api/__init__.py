"""Tesla cloud client: sign-in, tokens and Fleet API (asyncio + aiohttp only).

Independent of Home Assistant. Typical use::

    auth = TeslaAuth(session)
    result = await auth.login(email, password)
    if isinstance(result, PendingLogin):  # two-factor authentication
        result = await auth.verify_mfa(result, result.factors[0].id, "012345")
    tokens = TokenManager(auth, result, on_new_tokens=save_tokens)
    client = TeslaFleetClient(session, tokens)
    for vehicle in await client.vehicles():
        data = await client.vehicle_data(vehicle.id)

Every error is a :class:`TeslaError`; messages never contain a secret or a VIN.
"""

from .auth import (
    DEFAULT_AUTH_BASE,
    DEFAULT_CLIENT_ID,
    DEFAULT_REDIRECT_URI,
    SCOPES,
    USER_AGENT,
    VERSION,
    PendingLogin,
    TeslaAuth,
    TokenManager,
    code_challenge,
    make_code_verifier,
)
from .client import DEFAULT_API_BASE, TeslaFleetClient
from .errors import (
    AccountLocked,
    AuthFailed,
    CaptchaRequired,
    CloudUnavailable,
    CommandFailed,
    CommandProtocolRequired,
    Forbidden,
    InvalidCredentials,
    InvalidPasscode,
    LoginExpired,
    MalformedResponse,
    MfaRequired,
    PasscodeReused,
    PreconditionFailed,
    RateLimited,
    SignInError,
    TeslaError,
    TooManyAttempts,
    VehicleAsleep,
    VehicleNotFound,
)
from .models import (
    ALL_ENDPOINTS,
    Account,
    MfaFactor,
    Region,
    Tokens,
    VehicleData,
    VehicleState,
    VehicleSummary,
)

__all__ = [
    "ALL_ENDPOINTS",
    "DEFAULT_API_BASE",
    "DEFAULT_AUTH_BASE",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_REDIRECT_URI",
    "SCOPES",
    "USER_AGENT",
    "VERSION",
    "Account",
    "AccountLocked",
    "AuthFailed",
    "CaptchaRequired",
    "CloudUnavailable",
    "CommandFailed",
    "CommandProtocolRequired",
    "Forbidden",
    "InvalidCredentials",
    "InvalidPasscode",
    "LoginExpired",
    "MalformedResponse",
    "MfaFactor",
    "MfaRequired",
    "PasscodeReused",
    "PendingLogin",
    "PreconditionFailed",
    "RateLimited",
    "Region",
    "SignInError",
    "TeslaAuth",
    "TeslaError",
    "TeslaFleetClient",
    "TokenManager",
    "Tokens",
    "TooManyAttempts",
    "VehicleAsleep",
    "VehicleData",
    "VehicleNotFound",
    "VehicleState",
    "VehicleSummary",
    "code_challenge",
    "make_code_verifier",
]
