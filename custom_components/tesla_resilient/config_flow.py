"""Config flow: sign in (password + two-factor, browser, refresh token), reauth, reconfigure.

The headless sign-in steps live in flow_signin.py, the options flow (authenticator
codes for sensitive actions) in options_flow.py.

Nothing here stores or logs a password, a passcode, a token or the TOTP secret: the
entry keeps only the token dict, the client id, the servers (sign-in, token URL, Fleet
API) and the region.
"""

from collections.abc import Mapping
from dataclasses import dataclass
import logging
from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
)
from homeassistant.core import callback
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import probatio

from .api import (
    DEFAULT_API_BASE,
    DEFAULT_AUTH_BASE,
    DEFAULT_CLIENT_ID,
    JwtClaims,
    SignInError,
    TeslaError,
    TeslaFleetClient,
    TokenManager,
    Tokens,
    default_token_url,
)
from .application_credentials import TeslaOAuth2Implementation
from .const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_AUTH_METHOD,
    CONF_CLIENT_ID,
    CONF_REGION,
    CONF_TOKEN,
    CONF_TOKEN_URL,
    DOMAIN,
    LOGGER,
    AuthMethod,
)
from .errors import flow_error_key, flow_error_placeholders
from .flow_signin import SignInSteps
from .health import CLOUD_FAILURES
from .options_flow import OptionsFlowHandler

CONF_IMPLEMENTATION = "implementation"
AUTH_IMPLEMENTATION = "auth_implementation"

SIGN_IN_METHODS = [AuthMethod.PASSWORD, AuthMethod.BROWSER, AuthMethod.REFRESH_TOKEN]


@dataclass(slots=True)
class _SignedIn:
    """Tokens of a finished sign-in, kept until the entry is written."""

    tokens: Tokens
    method: AuthMethod
    client_id: str
    implementation: str | None


class ConfigFlow(
    SignInSteps, config_entry_oauth2_flow.AbstractOAuth2FlowHandler, domain=DOMAIN
):
    """Sign in to a Tesla account."""

    DOMAIN = DOMAIN
    VERSION = 1
    MINOR_VERSION = 1

    _signed_in: _SignedIn

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
        self._token_url = entry.data.get(CONF_TOKEN_URL) or default_token_url(
            self._auth_base
        )
        self._api_base = entry.data.get(CONF_API_BASE_URL, DEFAULT_API_BASE)

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
            self.flow_impl = self.flow_impl.for_sign_in(
                self._auth_base, self._token_url
            )
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
            return self.async_abort(
                reason=flow_error_key(err),
                description_placeholders=flow_error_placeholders(err),
            )

    # ------------------------------------------------------------------- helpers

    def _existing_entry(self) -> ConfigEntry | None:
        if self.source == SOURCE_REAUTH:
            return self._get_reauth_entry()
        if self.source == SOURCE_RECONFIGURE:
            return self._get_reconfigure_entry()
        return None

    @override
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
            region = await client.discover_region()
            # Reauthentication and reconfiguration keep the entry's title.
            title = await self._async_title(client) if entry is None else None
        except TeslaError as err:
            return self.async_show_form(
                step_id="finish",
                errors={"base": flow_error_key(err)},
                description_placeholders=flow_error_placeholders(err),
            )
        # Built after the calls: a token refresh during them rotated the tokens.
        data: dict[str, Any] = {
            CONF_AUTH_METHOD: signed_in.method,
            CONF_TOKEN: signed_in.tokens.as_dict(),
            CONF_CLIENT_ID: signed_in.client_id,
            CONF_AUTH_BASE_URL: self._auth_base,
            CONF_TOKEN_URL: self._token_url,
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
