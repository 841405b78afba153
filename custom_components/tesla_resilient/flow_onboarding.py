"""Onboarding steps after a developer app's sign-in: partner registration, virtual key.

Registration: Tesla fetches the app key's public half (keys.py) from
``https://<domain>/.well-known/appspecific/com.tesla.3p.public-key.pem`` (Home Assistant
serves it) and answers with the key it found, compared here with ours. A partner token
(client credentials) registers the app in the token's region and, when the account
lives elsewhere, there too. The client secret comes from the application credentials of
the browser sign-in, or is typed in the step: it is never stored.

Virtual key: a link and a QR code for Tesla's page that adds the key to the cars, then
a progress step that watches ``fleet_status`` until every car that needs the key has
it (or a timeout); reading works without it ("continue read-only").

The steps end in ``async_step_finish`` (after registration) and
``_async_after_pairing``, which the config flow implements.
"""

from abc import abstractmethod
import asyncio
import re
import time
from typing import Any

from homeassistant.config_entries import ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.selector import BooleanSelector, TextSelector
import probatio
from yarl import URL

from .api import (
    REGION_BASES,
    AuthFailed,
    JwtClaims,
    KeyNotReachable,
    PartnerToken,
    PreconditionFailed,
    TeslaError,
    TeslaFleetClient,
    TeslaOAuth,
    TokenManager,
    Tokens,
    Unprocessable,
    VehicleSummary,
)
from .const import LOGGER
from .errors import flow_error_key
from .flow_signin import SECRET_SELECTOR, SignedIn, SignInSteps
from .keys import KEY_PATH, AppKey, async_get_app_key, async_serve_public_key
from .options_flow import qr_code_field
from .pairing import needs_key, virtual_key_url

CONF_DOMAIN = "domain"
CONF_CLIENT_SECRET = "client_secret"  # noqa: S105 - a field name
CONF_LATER = "later"

PAIR_CHECK_INTERVAL = 10.0
"""Seconds between two ``fleet_status`` checks while the owner adds the key."""
PAIR_TIMEOUT = 300.0
"""Seconds the progress step waits for the cars before offering to continue read-only."""
_DOMAIN = re.compile(
    r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
    r"(:[0-9]{1,5})?"
)
_REGISTRATION_ERRORS: dict[type[TeslaError], str] = {
    AuthFailed: "partner_auth_failed",
    KeyNotReachable: "domain_unreachable",
    Unprocessable: "key_invalid",
    PreconditionFailed: "domain_not_allowed",
}


def domain_or_none(value: str) -> str | None:
    """Return ``value`` as a host name (with an optional port), lower case, or None."""
    domain = value.strip().lower().removeprefix("https://").rstrip("/")
    return domain if _DOMAIN.fullmatch(domain) else None


def public_url(hass: HomeAssistant) -> URL | None:
    """Home Assistant's address on the internet (external or Home Assistant Cloud).

    What the developer app's allowed origin must be, and where Tesla fetches the key.
    """
    try:
        return URL(get_url(hass, allow_internal=False))
    except NoURLAvailableError:
        return None


class OnboardingSteps(SignInSteps):
    """Partner registration and the virtual key, for a developer app's sign-in."""

    _signed_in: SignedIn
    _vehicles: list[VehicleSummary]

    def __init__(self) -> None:
        """Start unregistered, with no client."""
        super().__init__()
        self._client: TeslaFleetClient | None = None
        self._partner_domain: str | None = None
        self._registered_now = False
        self._unpaired: set[str] = set()
        self._pair_task: asyncio.Task[bool] | None = None

    def _user_client(self) -> TeslaFleetClient:
        """The Fleet API client of the signed-in account (its tokens kept up to date)."""
        if self._client is None:
            signed_in = self._signed_in

            async def keep(new: Tokens) -> None:
                signed_in.tokens = new

            manager = TokenManager(
                self._auth(signed_in.client_id), signed_in.tokens, on_new_tokens=keep
            )
            self._client = TeslaFleetClient(
                async_get_clientsession(self.hass), manager, base_url=self._api_base
            )
        return self._client

    # --------------------------------------------------------- partner registration

    async def async_step_partner(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Register the app as a partner for a domain that serves the app key."""
        key = await async_get_app_key(self.hass)
        async_serve_public_key(self.hass)
        errors: dict[str, str] = {}
        domain_text = self._default_domain()
        if user_input is not None:
            domain_text = user_input[CONF_DOMAIN]
            secret = user_input.get(CONF_CLIENT_SECRET, self._signed_in.client_secret)
            if (domain := domain_or_none(domain_text)) is None:
                errors[CONF_DOMAIN] = "invalid_domain"
            elif error := await self._async_register(domain, str(secret).strip(), key):
                errors["base"] = error
            else:
                self._partner_domain, self._registered_now = domain, True
                return await self.async_step_finish()
        fields: dict[Any, Any] = {probatio.Required(CONF_DOMAIN): TextSelector()}
        if self._signed_in.client_secret is None:
            fields[probatio.Required(CONF_CLIENT_SECRET)] = SECRET_SELECTOR
        return self.async_show_form(
            step_id="partner",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(fields), {CONF_DOMAIN: domain_text}
            ),
            errors=errors,
            description_placeholders={
                "key_path": KEY_PATH,
                "pem": key.public_pem,
                "fingerprint": key.fingerprint,
            },
        )

    def _default_domain(self) -> str | None:
        """The host (and port) of Home Assistant's public address, if it has one."""
        if (url := public_url(self.hass)) is None:
            return None
        port = f":{url.explicit_port}" if url.explicit_port else ""
        return f"{url.host}{port}"

    async def _async_register(
        self, domain: str, secret: str, key: AppKey
    ) -> str | None:
        """Register in the token's region, then in the account's; the error key, if any.

        The tokens of the sign-in are kept whatever happens: the owner fixes the
        problem (domain, key, secret) and tries again in the same step.
        """
        signed_in = self._signed_in
        oauth = TeslaOAuth(
            async_get_clientsession(self.hass),
            auth_base=self._auth_base,
            token_url=self._token_url,
            client_id=signed_in.client_id,
            client_secret=secret,
        )
        claimed = JwtClaims.decode(signed_in.tokens.access_token).region
        tesla = self._api_base in REGION_BASES.values()
        base = (
            REGION_BASES.get(claimed or "", self._api_base) if tesla else self._api_base
        )
        registered: set[str] = set()
        try:
            while base not in registered:
                token = await oauth.partner_token(audience=base)
                partner = TeslaFleetClient(
                    async_get_clientsession(self.hass),
                    PartnerToken(token),
                    base_url=base,
                )
                found = await partner.register_partner(domain)
                if (found or "").lower() != key.public_bytes.hex():
                    return "key_mismatch"  # the domain serves another key
                registered.add(base)
                base = (await self._user_client().discover_region()).fleet_api_base_url
        except TeslaError as err:
            error = _REGISTRATION_ERRORS.get(type(err)) or flow_error_key(err)
            if isinstance(err, AuthFailed):
                signed_in.client_secret = None  # ask for it in the step
            LOGGER.debug("Partner registration failed: %s", type(err).__name__)
            return error
        signed_in.client_secret = secret
        return None

    # ------------------------------------------------------------------ virtual key

    def _pair_url(self) -> str:
        return virtual_key_url(str(self._partner_domain), self._auth_base)

    async def async_step_pair(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the link and QR code of the virtual key; skip when no car needs one."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input[CONF_LATER]:
                return await self._async_after_pairing()
            return await self.async_step_pair_wait()
        try:
            status = await self._user_client().fleet_status(
                vehicle.vin for vehicle in self._vehicles
            )
        except TeslaError as err:
            errors["base"] = flow_error_key(err)
            self._unpaired = {vehicle.vin for vehicle in self._vehicles}
        else:
            self._unpaired = {
                vehicle.vin
                for vehicle in self._vehicles
                if needs_key(status, vehicle.vin)
            }
            if not self._unpaired:
                return await self._async_after_pairing()
        url = self._pair_url()
        schema = probatio.Schema(
            {
                **qr_code_field(url),
                probatio.Required(CONF_LATER, default=False): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="pair",
            data_schema=schema,
            errors=errors,
            description_placeholders={"url": url, "cars": self._car_names()},
        )

    def _car_names(self) -> str:
        return ", ".join(
            v.display_name or v.vin for v in self._vehicles if v.vin in self._unpaired
        )

    async def async_step_pair_wait(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Watch ``fleet_status`` until every car has the key, or the time is up."""
        if self._pair_task is None:
            self._pair_task = self.hass.async_create_task(self._async_watch_pairing())
        if not self._pair_task.done():
            return self.async_show_progress(
                step_id="pair_wait",
                progress_action="pair_wait",
                progress_task=self._pair_task,
                description_placeholders={
                    "url": self._pair_url(),
                    "cars": self._car_names(),
                },
            )
        paired, self._pair_task = self._pair_task.result(), None
        return self.async_show_progress_done(
            next_step_id="pair_end" if paired else "pair_timeout"
        )

    async def _async_watch_pairing(self) -> bool:
        """True once no car lacks the key, False after :data:`PAIR_TIMEOUT`."""
        deadline = time.monotonic() + PAIR_TIMEOUT
        while time.monotonic() < deadline:
            await asyncio.sleep(PAIR_CHECK_INTERVAL)
            try:
                status = await self._user_client().fleet_status(sorted(self._unpaired))
            except TeslaError as err:
                LOGGER.debug("Fleet status failed: %s", type(err).__name__)
                continue
            self._unpaired -= status.key_paired_vins
            if not self._unpaired:
                return True
        return False

    async def async_step_pair_timeout(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Not every car has the key yet: show the link again, or continue read-only."""
        return self.async_show_menu(
            step_id="pair_timeout",
            menu_options=["pair", "pair_end"],
            description_placeholders={"cars": self._car_names()},
        )

    async def async_step_pair_end(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Go on: every car has the key, or the owner continues read-only."""
        return await self._async_after_pairing()

    @abstractmethod
    async def async_step_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Find the account's region and name; the config flow implements it."""

    @abstractmethod
    async def _async_after_pairing(self) -> ConfigFlowResult:
        """Write the entry, or offer the last steps; the config flow implements it."""
