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

from .client import DEFAULT_API_BASE, REGION_BASES, TeslaFleetClient
from .commands import Trunk, actuate_trunk, navigation_request
from .errors import (
    AccountLocked,
    AuthFailed,
    BillingRequired,
    CaptchaRequired,
    CloudUnavailable,
    CommandFailed,
    CommandOutcomeUnknown,
    CommandSigningRequired,
    FleetAccountLocked,
    Forbidden,
    InvalidCredentials,
    InvalidPasscode,
    KeyNotPaired,
    KeyNotReachable,
    LegalRestriction,
    LoginExpired,
    MalformedResponse,
    PasscodeReused,
    PreconditionFailed,
    RateLimited,
    SignInError,
    TeslaError,
    TooManyAttempts,
    Unanswered,
    Unprocessable,
    VehicleAsleep,
    VehicleNotFound,
    WrongRegion,
)
from .models import (
    ALL_ENDPOINTS,
    Account,
    CommandSigning,
    MfaFactor,
    Region,
    VehicleData,
    VehicleState,
    VehicleSummary,
    key_endpoints,
)
from .oauth import (
    DEFAULT_AUTH_BASE,
    DEFAULT_CLIENT_ID,
    DEFAULT_REDIRECT_URI,
    DEFAULT_TOKEN_URL,
    PARTNER_SCOPES,
    SCOPES,
    USER_AGENT,
    VERSION,
    AccessTokens,
    PartnerToken,
    TeslaOAuth,
    TokenManager,
    authorize_endpoint,
    authorize_params,
    code_challenge,
    default_token_url,
    make_code_verifier,
    token_endpoint,
)
from .signing import FleetStatus, FleetVehicleInfo
from .sso import PendingLogin, TeslaAuth
from .tokens import JwtClaims, Tokens

__all__ = [
    "ALL_ENDPOINTS",
    "DEFAULT_API_BASE",
    "DEFAULT_AUTH_BASE",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_REDIRECT_URI",
    "DEFAULT_TOKEN_URL",
    "PARTNER_SCOPES",
    "REGION_BASES",
    "SCOPES",
    "USER_AGENT",
    "VERSION",
    "AccessTokens",
    "Account",
    "AccountLocked",
    "AuthFailed",
    "BillingRequired",
    "CaptchaRequired",
    "CloudUnavailable",
    "CommandFailed",
    "CommandOutcomeUnknown",
    "CommandSigning",
    "CommandSigningRequired",
    "FleetAccountLocked",
    "FleetStatus",
    "FleetVehicleInfo",
    "Forbidden",
    "InvalidCredentials",
    "InvalidPasscode",
    "JwtClaims",
    "KeyNotPaired",
    "KeyNotReachable",
    "LegalRestriction",
    "LoginExpired",
    "MalformedResponse",
    "MfaFactor",
    "PartnerToken",
    "PasscodeReused",
    "PendingLogin",
    "PreconditionFailed",
    "RateLimited",
    "Region",
    "SignInError",
    "TeslaAuth",
    "TeslaError",
    "TeslaFleetClient",
    "TeslaOAuth",
    "TokenManager",
    "Tokens",
    "TooManyAttempts",
    "Trunk",
    "Unanswered",
    "Unprocessable",
    "VehicleAsleep",
    "VehicleData",
    "VehicleNotFound",
    "VehicleState",
    "VehicleSummary",
    "WrongRegion",
    "actuate_trunk",
    "authorize_endpoint",
    "authorize_params",
    "code_challenge",
    "default_token_url",
    "key_endpoints",
    "make_code_verifier",
    "navigation_request",
    "token_endpoint",
]
