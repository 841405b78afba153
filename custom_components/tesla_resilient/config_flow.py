"""Config flow: sign in (password + two-factor, browser, refresh token), reauth, reconfigure.

Also the options flow that turns on authenticator codes for sensitive actions.

Nothing here stores or logs a password, a passcode, a token or the TOTP secret: the
entry keeps only the token dict, the client id, the servers and the region.
"""

from collections.abc import Mapping
from dataclasses import dataclass
import logging
import time
from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    BooleanSelector,
    QrCodeSelector,
    QrCodeSelectorConfig,
    QrErrorCorrectionLevel,
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
    JwtClaims,
    PendingLogin,
    SignInError,
    TeslaAuth,
    TeslaError,
    TeslaFleetClient,
    TokenManager,
    Tokens,
)
from .application_credentials import TeslaOAuth2Implementation
from .const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_AUTH_METHOD,
    CONF_CLIENT_ID,
    CONF_OTP_ACTIONS,
    CONF_OTP_SECRET,
    CONF_REGION,
    CONF_TOKEN,
    DOMAIN,
    LOGGER,
    AuthMethod,
    ProtectedAction,
)
from .errors import flow_error_key
from .health import CLOUD_FAILURES
from .otp import (
    CODE_PATTERN,
    DEFAULT_PROTECTED_ACTIONS,
    OtpCodeReused,
    OtpError,
    OtpLockedOut,
    TotpGuard,
    code_is_valid,
    new_secret,
    normalize_code,
    provisioning_uri,
)

CONF_EMAIL = "email"
CONF_PASSWORD = "password"  # noqa: S105 - a field name, not a password
CONF_CODE = "code"
CONF_FACTOR = "factor"
CONF_REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a field name
CONF_ENABLED = "enabled"
CONF_QR_CODE = "qr_code"
CONF_SERVERS = "servers"
CONF_IMPLEMENTATION = "implementation"
AUTH_IMPLEMENTATION = "auth_implementation"

SIGN_IN_METHODS = [AuthMethod.PASSWORD, AuthMethod.BROWSER, AuthMethod.REFRESH_TOKEN]

_EMAIL_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.EMAIL, autocomplete="username")
)
_PASSWORD_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="current-password")
)
_SECRET_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
)
_CODE_SELECTOR = TextSelector(
    TextSelectorConfig(type=TextSelectorType.TEXT, autocomplete="one-time-code")
)
_URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))
_ACTIONS_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[str(action) for action in ProtectedAction],
        multiple=True,
        mode=SelectSelectorMode.LIST,
        translation_key=CONF_OTP_ACTIONS,
    )
)


def _url_or_none(value: str) -> str | None:
    """Return ``value`` as an absolute http(s) URL without a trailing slash, or None.

    A URL carrying a user name or password is refused: it would be stored in the entry.
    """
    try:
        url = URL(value.strip())
    except ValueError:
        return None
    if url.scheme not in {"http", "https"} or not url.host:
        return None
    if url.user is not None or url.password is not None:
        return None
    return str(url).rstrip("/")


def _clean_code(value: str) -> str | None:
    """Return the six-digit code without spaces (leading zeros kept), or None."""
    code = normalize_code(value)
    return code if code is not None and CODE_PATTERN.fullmatch(code) else None


@dataclass(slots=True)
class _SignedIn:
    """Tokens of a finished sign-in, kept until the entry is written."""

    tokens: Tokens
    method: AuthMethod
    client_id: str
    implementation: str | None


class ConfigFlow(config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN):
    """Sign in to a Tesla account."""

    DOMAIN = DOMAIN
    VERSION = 1
    MINOR_VERSION = 1

    # Set by the password step before the two-factor steps run.
    _pending: PendingLogin
    _factor_id: str
    _signed_in: _SignedIn

    def __init__(self) -> None:
        """Start with Tesla's servers and no account."""
        super().__init__()
        self._email: str | None = None
        self._auth_base = DEFAULT_AUTH_BASE
        self._api_base = DEFAULT_API_BASE

    @property
    @override
    def logger(self) -> logging.Logger:
        """Return the logger of the OAuth2 steps."""
        return LOGGER

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlowHandler:
        """Return the options flow."""
        return OptionsFlowHandler()

    # ---------------------------------------------------------------- entry points

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user choose how to sign in."""
        return self.async_show_menu(step_id="user", menu_options=SIGN_IN_METHODS)

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start a new sign-in when Tesla no longer accepts the stored tokens."""
        self._use_entry(self._get_reauth_entry())
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Explain the reauthentication and let the user choose how to sign in."""
        return self.async_show_menu(
            step_id="reauth_confirm",
            menu_options=SIGN_IN_METHODS,
            description_placeholders={"account": self._get_reauth_entry().title},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the sign-in method or the servers of an existing entry."""
        entry = self._get_reconfigure_entry()
        self._use_entry(entry)
        return self.async_show_menu(
            step_id="reconfigure",
            menu_options=SIGN_IN_METHODS,
            description_placeholders={"account": entry.title},
        )

    def _use_entry(self, entry: ConfigEntry) -> None:
        """Pre-fill the email and servers from an existing entry."""
        self._email = entry.title
        self._auth_base = entry.data.get(CONF_AUTH_BASE_URL, DEFAULT_AUTH_BASE)
        self._api_base = entry.data.get(CONF_API_BASE_URL, DEFAULT_API_BASE)

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
        if user_input is not None:
            self._email = user_input[CONF_EMAIL].strip()
            if self._read_servers(user_input, errors):
                auth = self._auth()
                try:
                    result = await auth.login(self._email, user_input[CONF_PASSWORD])
                    if isinstance(result, Tokens):
                        return await self._async_signed_in(result, AuthMethod.PASSWORD)
                except CaptchaRequired:
                    return await self.async_step_captcha()
                except TeslaError as err:
                    errors["base"] = flow_error_key(err)
                else:
                    self._pending = result
                    if len(result.factors) > 1:
                        return await self.async_step_mfa_factor()
                    self._factor_id = result.factors[0].id
                    return await self.async_step_mfa()
        return self._password_form(errors)

    def _password_form(self, errors: dict[str, str]) -> ConfigFlowResult:
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
            step_id="password", data_schema=schema, errors=errors
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
        factor = next(f for f in self._pending.factors if f.id == self._factor_id)
        return self.async_show_form(
            step_id="mfa",
            data_schema=probatio.Schema({probatio.Required(CONF_CODE): _CODE_SELECTOR}),
            errors=errors,
            description_placeholders={"factor": factor.name},
        )

    # -------------------------------------------------------------- refresh token

    async def async_step_refresh_token(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in with a refresh token made by a token app."""
        errors: dict[str, str] = {}
        if user_input is not None and self._read_servers(user_input, errors):
            try:
                tokens = await self._auth().refresh(
                    user_input[CONF_REFRESH_TOKEN].strip()
                )
                return await self._async_signed_in(tokens, AuthMethod.REFRESH_TOKEN)
            except TeslaError as err:
                errors["base"] = flow_error_key(err)
        schema = self.add_suggested_values_to_schema(
            probatio.Schema(
                {
                    probatio.Required(CONF_REFRESH_TOKEN): _SECRET_SELECTOR,
                    **self._server_fields(),
                }
            ),
            self._server_values(),
        )
        return self.async_show_form(
            step_id="refresh_token", data_schema=schema, errors=errors
        )

    # -------------------------------------------------------------- browser OAuth

    async def async_step_browser(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Sign in on Tesla's page (the servers can be changed first)."""
        errors: dict[str, str] = {}
        if user_input is not None and self._read_servers(user_input, errors):
            entry = self._existing_entry()
            if entry is not None and AUTH_IMPLEMENTATION in entry.data:
                return await self.async_step_pick_implementation(
                    {CONF_IMPLEMENTATION: entry.data[AUTH_IMPLEMENTATION]}
                )
            return await self.async_step_pick_implementation()
        schema = self.add_suggested_values_to_schema(
            probatio.Schema(self._server_fields()), self._server_values()
        )
        return self.async_show_form(
            step_id="browser", data_schema=schema, errors=errors
        )

    @override
    async def async_generate_authorize_url(self) -> str:
        """Use a per-sign-in copy of the implementation bound to the chosen server."""
        if isinstance(self.flow_impl, TeslaOAuth2Implementation):
            self.flow_impl = self.flow_impl.for_sign_in(self._auth_base)
        return await super().async_generate_authorize_url()

    @override
    async def async_oauth_create_entry(self, data: dict[str, Any]) -> ConfigFlowResult:
        """Turn Home Assistant's OAuth2 token into this integration's entry data."""
        token = data[CONF_TOKEN]
        # Tesla's id token names the account actually signed in to.
        self._email = JwtClaims.decode(token.get("id_token")).email or self._email
        try:
            tokens = Tokens.from_dict(token)
        except ValueError:
            return self.async_abort(reason="oauth_error")
        client_id = (
            self.flow_impl.client_id
            if isinstance(
                self.flow_impl, config_entry_oauth2_flow.LocalOAuth2Implementation
            )
            else DEFAULT_CLIENT_ID
        )
        try:
            return await self._async_signed_in(
                tokens, AuthMethod.BROWSER, client_id, data[AUTH_IMPLEMENTATION]
            )
        except TeslaError as err:
            return self.async_abort(reason=flow_error_key(err))

    # ------------------------------------------------------------------- helpers

    def _auth(self, client_id: str = DEFAULT_CLIENT_ID) -> TeslaAuth:
        return TeslaAuth(
            async_get_clientsession(self.hass),
            auth_base=self._auth_base,
            client_id=client_id,
        )

    def _existing_entry(self) -> ConfigEntry | None:
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry()
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry()
        return None

    def _server_fields(self) -> dict[Any, Any]:
        """The server URLs, in a collapsed section (simulator, Tesla China, proxy)."""
        return {
            probatio.Required(CONF_SERVERS): section(
                probatio.Schema(
                    {
                        probatio.Optional(CONF_AUTH_BASE_URL): _URL_SELECTOR,
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
                CONF_API_BASE_URL: self._api_base,
            }
        }

    def _read_servers(
        self, user_input: Mapping[str, Any], errors: dict[str, str]
    ) -> bool:
        """Take the server URLs from the form; False (with errors) when one is invalid."""
        given = user_input.get(CONF_SERVERS) or {}
        auth_base = _url_or_none(given.get(CONF_AUTH_BASE_URL) or DEFAULT_AUTH_BASE)
        api_base = _url_or_none(given.get(CONF_API_BASE_URL) or DEFAULT_API_BASE)
        if auth_base is None or api_base is None:
            errors["base"] = "invalid_url"
            return False
        self._auth_base, self._api_base = auth_base, api_base
        return True

    async def _async_signed_in(
        self,
        tokens: Tokens,
        method: AuthMethod,
        client_id: str = DEFAULT_CLIENT_ID,
        implementation: str | None = None,
    ) -> ConfigFlowResult:
        """Check the account is the expected one, then finish the entry."""
        if (account_id := tokens.account_id()) is None:
            raise SignInError("Tesla's access token carries no account id")
        await self.async_set_unique_id(account_id)
        if self.source in {SOURCE_REAUTH, SOURCE_RECONFIGURE}:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
        else:
            self._abort_if_unique_id_configured()
        self._signed_in = _SignedIn(tokens, method, client_id, implementation)
        return await self.async_step_finish()

    async def async_step_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Find the account's region (and a new entry's email), then write the entry.

        When the Fleet API cannot be reached the user may try again from here: the
        tokens of the sign-in are kept (a refresh token cannot be used twice).
        """
        signed_in = self._signed_in

        async def keep(new: Tokens) -> None:
            signed_in.tokens = new

        manager = TokenManager(
            self._auth(signed_in.client_id), signed_in.tokens, on_new_tokens=keep
        )
        client = TeslaFleetClient(
            async_get_clientsession(self.hass), manager, base_url=self._api_base
        )
        entry = self._existing_entry()
        try:
            region = await client.region()
            # Reauthentication and reconfiguration keep the entry's title.
            title = await self._async_title(client) if entry is None else None
        except TeslaError as err:
            return self.async_show_form(
                step_id="finish", errors={"base": flow_error_key(err)}
            )
        # Built after the calls: a token refresh during them rotated the tokens.
        data: dict[str, Any] = {
            CONF_AUTH_METHOD: signed_in.method,
            CONF_TOKEN: signed_in.tokens.as_dict(),
            CONF_CLIENT_ID: signed_in.client_id,
            CONF_AUTH_BASE_URL: self._auth_base,
            # A server chosen by the user (proxy, simulator) is kept; else the region's.
            CONF_API_BASE_URL: (
                self._api_base
                if self._api_base != DEFAULT_API_BASE
                else region.fleet_api_base_url
            ),
            CONF_REGION: region.region,
        }
        if signed_in.implementation is not None:
            data[AUTH_IMPLEMENTATION] = signed_in.implementation
        if entry is not None:
            return self.async_update_reload_and_abort(entry, data=data)
        return self.async_create_entry(title=title or str(self.unique_id), data=data)

    async def _async_title(self, client: TeslaFleetClient) -> str:
        """Name a new entry after the account's email, else after the account id.

        The email comes from the sign-in (typed, or the id token's claim) or else from
        the Fleet API. An outage there is raised, so that the user retries from the
        finish step; a refusal (e.g. a token without access to the profile) is not.
        """
        if (
            email := self._email
            or JwtClaims.decode(self._signed_in.tokens.access_token).email
        ):
            return email
        try:
            account = await client.me()
        except CLOUD_FAILURES:
            raise
        except TeslaError as err:
            LOGGER.debug(
                "Tesla did not tell the account's email: %s", type(err).__name__
            )
            return str(self.unique_id)
        return account.email or str(self.unique_id)


class OptionsFlowHandler(OptionsFlow):
    """Options: authenticator codes for sensitive actions.

    No reload is needed: the integration's update listener swaps the guard in place.
    """

    def __init__(self) -> None:
        """Start without a new secret."""
        self._new_secret: str | None = None

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the options menu."""
        return self.async_show_menu(step_id="init", menu_options=["protection"])

    async def async_step_protection(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Turn authenticator protection on or off, or change the protected actions."""
        options = dict(self.config_entry.options)
        if options.get(CONF_OTP_SECRET):
            return await self.async_step_protection_change(user_input)
        return await self.async_step_protection_enable(user_input)

    async def async_step_protection_enable(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show a new secret; enable protection once the user enters a valid code."""
        if self._new_secret is None:
            self._new_secret = new_secret()
        secret = self._new_secret
        errors: dict[str, str] = {}
        if user_input is not None:
            actions = user_input[CONF_OTP_ACTIONS]
            if not actions:
                errors[CONF_OTP_ACTIONS] = "no_actions"
            elif not code_is_valid(secret, user_input[CONF_CODE], time.time()):
                errors[CONF_CODE] = "invalid_code"
            else:
                return self.async_create_entry(
                    data={
                        **self.config_entry.options,
                        CONF_OTP_SECRET: secret,
                        CONF_OTP_ACTIONS: list(actions),
                    }
                )
        uri = provisioning_uri(secret, self.config_entry.title)
        schema = probatio.Schema(
            {
                probatio.Optional(CONF_QR_CODE): QrCodeSelector(
                    QrCodeSelectorConfig(
                        data=uri,
                        scale=5,
                        error_correction_level=QrErrorCorrectionLevel.MEDIUM,
                    )
                ),
                probatio.Required(
                    CONF_OTP_ACTIONS,
                    default=[str(action) for action in DEFAULT_PROTECTED_ACTIONS],
                ): _ACTIONS_SELECTOR,
                probatio.Required(CONF_CODE): _CODE_SELECTOR,
            }
        )
        return self.async_show_form(
            step_id="protection_enable",
            data_schema=schema,
            errors=errors,
            description_placeholders={"uri": uri, "key": secret},
        )

    async def async_step_protection_change(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the protected actions or turn protection off; needs a valid code."""
        options = dict(self.config_entry.options)
        errors: dict[str, str] = {}
        if user_input is not None:
            actions = user_input[CONF_OTP_ACTIONS]
            enabled = user_input[CONF_ENABLED]
            if enabled and not actions:
                errors[CONF_OTP_ACTIONS] = "no_actions"
            elif error := self._code_error(
                options[CONF_OTP_SECRET], user_input[CONF_CODE]
            ):
                errors[CONF_CODE] = error
            elif not enabled:
                options.pop(CONF_OTP_SECRET)
                options.pop(CONF_OTP_ACTIONS, None)
                return self.async_create_entry(data=options)
            else:
                return self.async_create_entry(
                    data={**options, CONF_OTP_ACTIONS: list(actions)}
                )
        schema = probatio.Schema(
            {
                probatio.Required(CONF_ENABLED, default=True): BooleanSelector(),
                probatio.Required(
                    CONF_OTP_ACTIONS, default=list(options.get(CONF_OTP_ACTIONS, []))
                ): _ACTIONS_SELECTOR,
                probatio.Required(CONF_CODE): _CODE_SELECTOR,
            }
        )
        return self.async_show_form(
            step_id="protection_change", data_schema=schema, errors=errors
        )

    def _code_error(self, secret: str, code: str) -> str | None:
        """Check the code that changes the protection; return the error key, if any.

        While the entry runs, its guard checks the code, so that the lock-out and the
        replay check of the protected actions apply here too.
        """
        entry = self.config_entry
        guard: TotpGuard | None = (
            entry.runtime_data.guard if entry.state is ConfigEntryState.LOADED else None
        )
        if guard is None:
            return None if code_is_valid(secret, code, time.time()) else "invalid_code"
        try:
            guard.verify_settings_code(code)
        except OtpLockedOut:
            return "locked_out"
        except OtpCodeReused:
            return "code_reused"
        except OtpError:
            return "invalid_code"
        return None
