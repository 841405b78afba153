"""Application credentials for the browser sign-in.

The user registers an application with Tesla, enters its client id and secret in Home
Assistant, and signs in on Tesla's own page (which handles the password, the second
factor and any captcha). The authorization code is exchanged with PKCE and the app's
secret at the token URL (Tesla's fleet-auth host unless another is configured).
"""

from typing import Any, override

from homeassistant.components.application_credentials import (
    AuthImplementation,
    AuthorizationServer,
    ClientCredential,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow

from .api import (
    DEFAULT_AUTH_BASE,
    authorize_endpoint,
    authorize_params,
    code_challenge,
    default_token_url,
    make_code_verifier,
)


def authorization_server(
    auth_base: str, token_url: str | None = None
) -> AuthorizationServer:
    """Return the authorize URL under ``auth_base`` and the token URL.

    ``token_url`` defaults to the one that goes with ``auth_base``.
    """
    return AuthorizationServer(
        authorize_url=authorize_endpoint(auth_base),
        token_url=token_url or default_token_url(auth_base),
    )


class TeslaOAuth2Implementation(AuthImplementation):
    """Tesla's OAuth2 authorization code grant with PKCE and Tesla's scopes."""

    def __init__(
        self,
        hass: HomeAssistant,
        auth_domain: str,
        credential: ClientCredential,
        auth_base: str = DEFAULT_AUTH_BASE,
        token_url: str | None = None,
    ) -> None:
        """Use ``credential`` against the sign-in server at ``auth_base``."""
        super().__init__(
            hass, auth_domain, credential, authorization_server(auth_base, token_url)
        )
        self.credential = credential
        self.auth_base = auth_base.rstrip("/")
        self._code_verifier = make_code_verifier()

    def for_sign_in(
        self, auth_base: str, token_url: str | None = None
    ) -> TeslaOAuth2Implementation:
        """Return a copy for one sign-in: its own PKCE verifier, the given servers."""
        return TeslaOAuth2Implementation(
            self.hass, self.domain, self.credential, auth_base, token_url
        )

    @property
    @override
    def extra_authorize_data(self) -> dict[str, Any]:
        """Ask for Tesla's scopes and send the PKCE challenge."""
        return authorize_params(code_challenge(self._code_verifier))

    @property
    @override
    def extra_token_resolve_data(self) -> dict[str, Any]:
        """Prove the PKCE challenge when exchanging the code."""
        return {"code_verifier": self._code_verifier}


async def async_get_auth_implementation(
    hass: HomeAssistant, auth_domain: str, credential: ClientCredential
) -> config_entry_oauth2_flow.AbstractOAuth2Implementation:
    """Return the browser sign-in implementation for ``credential``."""
    return TeslaOAuth2Implementation(hass, auth_domain, credential)


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Return placeholders for the application credentials dialog."""
    return {
        "developer_url": "https://developer.tesla.com",
        "redirect_url": config_entry_oauth2_flow.MY_AUTH_CALLBACK_PATH,
    }
