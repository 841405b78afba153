"""Config entries of the integration signed in to the simulator: the one builder.

Used by the benchmarks and by the integration tests (``tests/ha_fixtures.py``). It
lives here because the tests already import the benchmarks (tests/test_benchmarks.py)
and the benchmarks never import the tests.
"""

from collections.abc import Mapping
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry  # type: ignore[import-untyped]

from custom_components.tesla_resilient.api import Tokens
from custom_components.tesla_resilient.const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_AUTH_METHOD,
    CONF_CLIENT_ID,
    CONF_REGION,
    CONF_TOKEN,
    CONF_TOKEN_URL,
    DOMAIN,
    AuthMethod,
)
from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID
from tesla_sim.tokens import fleet_auth_token_url


def signed_in_data(url: str, tokens: Tokens, region: str) -> dict[str, Any]:
    """``entry.data`` of a sign-in to the simulator at ``url`` with its dev app.

    The keys follow docs/architecture.md "Config entry"; the sign-in and API base URLs
    are both the simulator's, the token URL its fleet-auth host's, and the tokens
    belong to the simulator's registered dev app (``tesla_sim.apps.DEV_CLIENT_ID``).
    """
    return {
        CONF_AUTH_METHOD: AuthMethod.PASSWORD.value,
        CONF_TOKEN: tokens.as_dict(),
        CONF_CLIENT_ID: DEV_CLIENT_ID,
        CONF_AUTH_BASE_URL: url,
        CONF_TOKEN_URL: fleet_auth_token_url(url),
        CONF_API_BASE_URL: url,
        CONF_REGION: region,
    }


def integration_entry(
    title: str,
    unique_id: str,
    data: Mapping[str, Any],
    *,
    options: Mapping[str, Any] | None = None,
    entry_id: str | None = None,
) -> MockConfigEntry:
    """A config entry of the integration (not added); a new ``entry_id`` unless given."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=unique_id,
        entry_id=entry_id,
        data=dict(data),
        options=dict(options or {}),
    )


async def make_config_entry(
    sim: SimServer,
    email: str,
    *,
    options: Mapping[str, Any] | None = None,
    scope: str | None = None,
) -> MockConfigEntry:
    """A config entry with fresh tokens of ``sim`` for ``email`` (not added).

    The tokens are issued on the simulator's clock; ``scope``: space-separated OAuth
    scopes of the tokens (default: all). The title is ``email``, the unique id the
    account id.
    """
    body = await sim.issue_tokens(email, scope)
    tokens = Tokens.from_token_response(body, sim.world.now())
    account = sim.world.account_by_email(email)
    if account is None:  # pragma: no cover - issue_tokens raised KeyError already
        raise KeyError(email)
    return integration_entry(
        email,
        account.id,
        signed_in_data(sim.url, tokens, account.region),
        options=options,
    )
