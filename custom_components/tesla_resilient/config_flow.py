"""Config flow: sign in (browser, password + two-factor, refresh token), reauth, reconfigure.

A new entry: sign-in -> (a developer app's) partner registration -> region and name ->
(after a registration) the virtual key -> the authenticator -> waking sleeping cars ->
the entry. The headless sign-in steps live in flow_signin.py, registration and the
virtual key in flow_onboarding.py, the last steps in flow_final.py, the options flow
(authenticator codes for sensitive actions) in options_flow.py, the subentry flow that
pairs a car over Bluetooth in flow_bluetooth.py. Reauthentication and
reconfiguration keep the app key and its registration (same account, same app).

Nothing here stores or logs a password, a passcode, a token, the app's client secret or
the TOTP secret: the entry keeps only the token dict, the client id, the servers
(sign-in, token URL, Fleet API), the region and the registered domain.
"""

from collections.abc import Mapping
import logging
from typing import Any, override

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentryFlow,
)
from homeassistant.core import callback
from homeassistant.helpers import config_entry_oauth2_flow
import probatio

from .api import (
    DEFAULT_API_BASE,
    DEFAULT_AUTH_BASE,
    DEFAULT_CLIENT_ID,
    SCOPES,
    JwtClaims,
    PreconditionFailed,
    SignInError,
    TeslaError,
    TeslaFleetClient,
    Tokens,
    default_token_url,
)
from .application_credentials import TeslaOAuth2Implementation
from .const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_AUTH_METHOD,
    CONF_CLIENT_ID,
    CONF_PARTNER_DOMAIN,
    CONF_REGION,
    CONF_TOKEN,
    CONF_TOKEN_URL,
    DOMAIN,
    LOGGER,
    SUBENTRY_BLUETOOTH,
    AuthMethod,
)
from .errors import flow_error_key, flow_error_placeholders
from .flow_bluetooth import BluetoothPairingFlow
from .flow_final import FinalSteps
from .flow_onboarding import OnboardingSteps, public_url
from .flow_signin import SignedIn
from .health import CLOUD_FAILURES
from .options_flow import OptionsFlowHandler

CONF_IMPLEMENTATION = "implementation"
AUTH_IMPLEMENTATION = "auth_implementation"

SIGN_IN_METHODS = [AuthMethod.BROWSER, AuthMethod.PASSWORD, AuthMethod.REFRESH_TOKEN]
TESLA_AUTH_BASES = (DEFAULT_AUTH_BASE, "https://auth.tesla.cn")


class ConfigFlow(
    FinalSteps,
    OnboardingSteps,
    config_entry_oauth2_flow.AbstractOAuth2FlowHandler,
    domain=DOMAIN,
):
    """Sign in to a Tesla account."""

    DOMAIN = DOMAIN
    VERSION = 1
    MINOR_VERSION = 1

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

    @classmethod
    @callback
    @override
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Offer to pair the account's cars over Bluetooth (flow_bluetooth.py)."""
        return {SUBENTRY_BLUETOOTH: BluetoothPairingFlow}

    # ---------------------------------------------------------------- entry points

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user choose how to sign in; the browser's guide in the description."""
        origin = public_url(self.hass)
        return self.async_show_menu(
            step_id="user",
            menu_options=SIGN_IN_METHODS,
            description_placeholders={
                "origin": str(origin) if origin else "-",
                "redirect_uri": config_entry_oauth2_flow.MY_AUTH_CALLBACK_PATH,
                "scopes": SCOPES,
            },
        )

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
        impl = (
            self.flow_impl
            if isinstance(
                self.flow_impl, config_entry_oauth2_flow.LocalOAuth2Implementation
            )
            else None
        )
        try:
            return await self._async_signed_in(
                tokens,
                AuthMethod.BROWSER,
                impl.client_id if impl else DEFAULT_CLIENT_ID,
                data[AUTH_IMPLEMENTATION],
                impl.client_secret if impl else None,
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
        client_secret: str | None = None,
    ) -> ConfigFlowResult:
        """Check the account is the expected one; register the app, or finish."""
        if (account_id := tokens.account_id()) is None:
            raise SignInError("Tesla's access token carries no account id")
        await self.async_set_unique_id(account_id)
        if self.source in {SOURCE_REAUTH, SOURCE_RECONFIGURE}:
            self._abort_if_unique_id_mismatch(reason="wrong_account")
        else:
            self._abort_if_unique_id_configured()
        self._signed_in = SignedIn(
            tokens, method, client_id, implementation, client_secret
        )
        self._client = None
        entry = self._existing_entry()
        if entry is not None and entry.data.get(CONF_CLIENT_ID) == client_id:
            # The same app: its registration (and the cars' keys) still hold.
            self._partner_domain = entry.data.get(CONF_PARTNER_DOMAIN)
        # A developer app registers (Tesla's own legacy client is no partner of ours);
        # on other servers (simulator, proxy) a 412 in the finish step asks for it.
        if (
            self._partner_domain is None
            and client_id != DEFAULT_CLIENT_ID
            and (method is AuthMethod.BROWSER or self._auth_base in TESLA_AUTH_BASES)
        ):
            return await self.async_step_partner()
        return await self.async_step_finish()

    async def async_step_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Find the account's region (and a new entry's email and cars).

        When the Fleet API cannot be reached the user may try again from here: the
        tokens of the sign-in are kept (a refresh token cannot be used twice). A
        developer app that is not registered (412) is registered first.
        """
        client = self._user_client()
        entry = self._existing_entry()
        try:
            self._region = await client.discover_region()
            if entry is None or self._registered_now:
                self._vehicles = await client.vehicles()
            # Reauthentication and reconfiguration keep the entry's title.
            self._title = await self._async_title(client) if entry is None else ""
        except PreconditionFailed:
            if self._signed_in.client_id == DEFAULT_CLIENT_ID or self._registered_now:
                return self.async_show_form(
                    step_id="finish", errors={"base": "not_registered"}
                )
            return await self.async_step_partner()
        except TeslaError as err:
            return self.async_show_form(
                step_id="finish",
                errors={"base": flow_error_key(err)},
                description_placeholders=flow_error_placeholders(err),
            )
        if self._registered_now:
            return await self.async_step_pair()
        return await self._async_after_pairing()

    @override
    async def _async_after_pairing(self) -> ConfigFlowResult:
        """Write an existing entry; offer a new one the last steps."""
        if (entry := self._existing_entry()) is not None:
            return self.async_update_reload_and_abort(entry, data=self._entry_data())
        return await self.async_step_authenticator()

    @override
    def _entry_data(self) -> dict[str, Any]:
        """The entry's data, built last: a token refresh meanwhile rotated the tokens."""
        signed_in = self._signed_in
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
                else self._region.fleet_api_base_url
            ),
            CONF_REGION: self._region.region,
        }
        if signed_in.implementation is not None:
            data[AUTH_IMPLEMENTATION] = signed_in.implementation
        if self._partner_domain is not None:
            data[CONF_PARTNER_DOMAIN] = self._partner_domain
        return data

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
