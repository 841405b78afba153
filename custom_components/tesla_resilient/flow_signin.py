"""Sign-in steps without a browser: password, two-factor code, refresh token.

Also the server fields (simulator, Tesla China, proxy; the token URL of Tesla's
fleet-auth host) every sign-in form shows. The
steps end in ``_async_signed_in``, which the config flow implements.

Nothing here stores or logs a password, a passcode or a token.
"""

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
import re
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio
from yarl import URL

from .api import (
    DEFAULT_API_BASE,
    DEFAULT_AUTH_BASE,
    DEFAULT_CLIENT_ID,
    CaptchaRequired,
    PendingLogin,
    TeslaAuth,
    TeslaError,
    Tokens,
    default_token_url,
)
from .const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_CLIENT_ID,
    CONF_TOKEN_URL,
    AuthMethod,
)
from .errors import flow_error_key, flow_error_placeholders
from .otp import CODE_PATTERN, normalize_code

CONF_EMAIL = "email"
CONF_PASSWORD = "password"  # noqa: S105 - a field name, not a password
CONF_CODE = "code"
CONF_FACTOR = "factor"
CONF_REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a field name
CONF_SERVERS = "servers"

_EMAIL_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username")
)
_PASSWORD_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
SECRET_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
)
CODE_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="one-time-code")
)
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
_EMAIL_MAX = 254
"""An email address: one ``@``, a dotted domain, no spaces; at most 254 characters."""
_HOST = re.compile(r"[A-Za-z0-9._:-]+")
"""The characters of a host name (IDNA-encoded) or an IP address."""
_URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_CLIENT_ID_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="off")
)


@dataclass(slots=True)
class SignedIn:
    """Tokens of a finished sign-in, kept until the entry is written.

    ``client_secret``: the developer app's, for its partner registration (from the
    application credentials, or typed in the registration step); never stored.
    """

    tokens: Tokens
    method: AuthMethod
    client_id: str
    implementation: str | None
    client_secret: str | None = field(default=None, repr=False)


def _url_or_none(value: str) -> str | None:
    """Return ``value`` as an absolute http(s) URL without a trailing slash, or None.

    A URL carrying a user name or password is refused: it would be stored in the entry.
    """
    try:
        url = URL(value.strip())
    except ValueError:
        return None
    if url.scheme not in {"http", "https"} or not url.raw_host:
        return None
    if not _HOST.fullmatch(url.raw_host):  # a space or another stray character
        return None
    if url.user is not None or url.password is not None:
        return None
    return str(url).rstrip("/")


def _clean_code(value: str) -> str | None:
    """Return the six-digit code without spaces (leading zeros kept), or None."""
    code = normalize_code(value)
    return code if code is not None and CODE_PATTERN.fullmatch(code) else None


class SignInSteps(ConfigFlow):
    """The headless sign-in steps and the servers they sign in to."""

    # Set by the password step before the two-factor steps run.
    _pending: PendingLogin
    _factor_id: str

    def __init__(self) -> None:
        """Start with Tesla's servers and no account."""
        super().__init__()
        self._email: str | None = None
        self._auth_base = DEFAULT_AUTH_BASE
        self._token_url = default_token_url(DEFAULT_AUTH_BASE)
        self._api_base = DEFAULT_API_BASE

    async def async_step_captcha(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Tesla demands a captcha: offer the browser sign-in (or another try)."""
        return self.async_show_menu(
            step_id="captcha", menu_options=[AuthMethod.BROWSER, AuthMethod.PASSWORD]
        )

    # ------------------------------------------------------- email, password, 2FA

    async def async_step_password(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in with email and password."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            self._email = user_input[CONF_EMAIL].strip()
            if len(self._email) > _EMAIL_MAX or not _EMAIL.fullmatch(self._email):
                errors[CONF_EMAIL] = "invalid_email"
            elif self._read_servers(user_input, errors):
                auth = self._auth()
                try:
                    result = await auth.login(self._email, user_input[CONF_PASSWORD])
                    if isinstance(result, Tokens):
                        return await self._async_signed_in(result, AuthMethod.PASSWORD)
                except CaptchaRequired:
                    return await self.async_step_captcha()
                except TeslaError as err:
                    errors["base"] = flow_error_key(err)
                    placeholders = flow_error_placeholders(err)
                else:
                    self._pending = result
                    if len(result.factors) > 1:
                        return await self.async_step_mfa_factor()
                    self._factor_id = result.factors[0].id
                    return await self.async_step_mfa()
        return self._password_form(errors, placeholders)

    def _password_form(
        self, errors: dict[str, str], placeholders: dict[str, str] | None = None
    ) -> ConfigFlowResult:
        schema = self.add_suggested_values_to_schema(
            probatio.Schema(
                {
                    probatio.Required(CONF_EMAIL): _EMAIL_SELECTOR,
                    probatio.Required(CONF_PASSWORD): _PASSWORD_SELECTOR,
                    **self._server_fields(),
                }
            ),
            {CONF_EMAIL: self._email, **self._server_values()},
        )
        return self.async_show_form(
            step_id="password",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_mfa_factor(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user choose which authenticator to take the code from."""
        factors = self._pending.factors
        if user_input is not None:
            self._factor_id = user_input[CONF_FACTOR]
            return await self.async_step_mfa()
        options = [SelectOptionDict(value=f.id, label=f.name) for f in factors]
        return self.async_show_form(
            step_id="mfa_factor",
            data_schema=probatio.Schema(
                {
                    probatio.Required(
                        CONF_FACTOR, default=factors[0].id
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=options, mode=SelectSelectorMode.LIST
                        )
                    )
                }
            ),
        )

    async def async_step_mfa(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the six-digit code of the chosen authenticator."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            if (code := _clean_code(user_input[CONF_CODE])) is None:
                errors[CONF_CODE] = "invalid_code_format"
            else:
                try:
                    tokens = await self._auth().verify_mfa(
                        self._pending, self._factor_id, code
                    )
                    return await self._async_signed_in(tokens, AuthMethod.PASSWORD)
                except TeslaError as err:
                    error = flow_error_key(err)
                    if error in {"too_many_attempts", "login_expired"}:
                        # This sign-in is over: start again from the password.
                        return self._password_form({"base": error})
                    errors["base"] = error
                    placeholders = flow_error_placeholders(err)
        factor = next(f for f in self._pending.factors if f.id == self._factor_id)
        return self.async_show_form(
            step_id="mfa",
            data_schema=probatio.Schema({probatio.Required(CONF_CODE): CODE_SELECTOR}),
            errors=errors,
            description_placeholders={"factor": factor.name, **placeholders},
        )

    # -------------------------------------------------------------- refresh token

    async def async_step_refresh_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in with a refresh token of the owner's Fleet API app.

        A refresh token belongs to the app it was issued to: Tesla refreshes it only
        for that app's client id, which the entry keeps.
        """
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        client_id = ""
        if user_input is not None:
            client_id = user_input[CONF_CLIENT_ID].strip()
        if user_input is not None and self._read_servers(user_input, errors):
            try:
                tokens = await self._auth(client_id).refresh(
                    user_input[CONF_REFRESH_TOKEN].strip()
                )
                return await self._async_signed_in(
                    tokens, AuthMethod.REFRESH_TOKEN, client_id
                )
            except TeslaError as err:
                errors["base"] = flow_error_key(err)
                placeholders = flow_error_placeholders(err)
        schema = self.add_suggested_values_to_schema(
            probatio.Schema(
                {
                    probatio.Required(CONF_CLIENT_ID): _CLIENT_ID_SELECTOR,
                    probatio.Required(CONF_REFRESH_TOKEN): SECRET_SELECTOR,
                    **self._server_fields(),
                }
            ),
            {CONF_CLIENT_ID: client_id or None, **self._server_values()},
        )
        return self.async_show_form(
            step_id="refresh_token",
            data_schema=schema,
            errors=errors,
            description_placeholders=placeholders,
        )

    # ------------------------------------------------------------------- helpers

    def _auth(self, client_id: str = DEFAULT_CLIENT_ID) -> TeslaAuth:
        return TeslaAuth(
            async_get_clientsession(self.hass),
            auth_base=self._auth_base,
            token_url=self._token_url,
            client_id=client_id,
        )

    def _server_fields(self) -> dict[Any, Any]:
        """The server URLs, in a collapsed section (simulator, Tesla China, proxy)."""
        return {
            probatio.Required(CONF_SERVERS): section(
                probatio.Schema(
                    {
                        probatio.Optional(CONF_AUTH_BASE_URL): _URL_SELECTOR,
                        probatio.Optional(CONF_TOKEN_URL): _URL_SELECTOR,
                        probatio.Optional(CONF_API_BASE_URL): _URL_SELECTOR,
                    }
                ),
                {"collapsed": True},
            )
        }

    def _server_values(self) -> dict[str, Any]:
        return {
            CONF_SERVERS: {
                CONF_AUTH_BASE_URL: self._auth_base,
                # Empty while it is the one that goes with the sign-in server.
                CONF_TOKEN_URL: (
                    None
                    if self._token_url == default_token_url(self._auth_base)
                    else self._token_url
                ),
                CONF_API_BASE_URL: self._api_base,
            }
        }

    def _read_servers(
        self, user_input: Mapping[str, Any], errors: dict[str, str]
    ) -> bool:
        """Take the server URLs from the form; False (with errors) when one is invalid.

        An empty token URL is the one that goes with the sign-in server.
        """
        given = user_input.get(CONF_SERVERS) or {}
        auth_base = _url_or_none(given.get(CONF_AUTH_BASE_URL) or DEFAULT_AUTH_BASE)
        api_base = _url_or_none(given.get(CONF_API_BASE_URL) or DEFAULT_API_BASE)
        token_url = _url_or_none(
            given.get(CONF_TOKEN_URL) or default_token_url(auth_base or "")
        )
        if auth_base is None or api_base is None or token_url is None:
            errors["base"] = "invalid_url"
            return False
        self._auth_base, self._api_base = auth_base, api_base
        self._token_url = token_url
        return True

    @abstractmethod
    async def _async_signed_in(
        self, tokens: Tokens, method: AuthMethod, client_id: str = DEFAULT_CLIENT_ID
    ) -> ConfigFlowResult:
        """Take the tokens of a finished sign-in; the config flow writes the entry."""
