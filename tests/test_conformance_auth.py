"""tesla-fleet-api against tesla_sim: the token endpoint (code exchange, refresh) and the
token's claims as HA core's ``tesla_fleet`` reads them.

Every test talks real HTTP to the simulator on 127.0.0.1 through the library, unchanged
(see tests/conformance.py for how its fixed Tesla host names reach the simulator).
"""

import pytest
from tesla_fleet_api import TeslaFleetOAuth, is_valid_region
from tesla_fleet_api.const import SERVERS, Scope

from tesla_sim import SimServer
from tests.conformance import (
    DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
    SimSession,
    fleet_tokens,
    session_fixture,  # noqa: F401 - a fixture
    sim_base,
)
from tests.sim_fixtures import jwt_claims

REDIRECT_URI = "http://127.0.0.1:8123/auth/external/callback"
TOKEN_PATH = "/oauth2/v3/token"


def oauth(
    session: SimSession, secret: str = DEV_CLIENT_SECRET, **kwargs: str
) -> TeslaFleetOAuth:
    """The library's OAuth client for the dev app, as an app owner would build it."""
    return TeslaFleetOAuth(
        session.as_client_session(),
        region="na",
        client_id=DEV_CLIENT_ID,
        client_secret=secret,
        redirect_uri=REDIRECT_URI,
        **kwargs,
    )


async def test_refresh_posts_form_without_scope_and_rotates(
    sim: SimServer, session: SimSession
) -> None:
    """The library's refresh is the 2026 one; the simulator answers it and rotates the token."""
    first = fleet_tokens(sim, "totp@example.com")
    client = oauth(session, refresh_token=first["refresh_token"])
    await client.refresh_access_token()
    sent = session.sent[-1]
    assert (sent.method, sent.url) == ("POST", sim.url + TOKEN_PATH)
    assert sent.json is None  # form-encoded (aiohttp's ``data=``), no scope
    assert sent.data == {
        "grant_type": "refresh_token",
        "client_id": DEV_CLIENT_ID,
        "refresh_token": first["refresh_token"],
    }
    assert client.refresh_token not in (None, first["refresh_token"])
    region = await client.user.region()  # the new access token works
    assert region["response"]["region"] == "na"
    # Single-use refresh tokens: the used one is refused. The library reads a refused
    # refresh as a plain ValueError carrying the body (not one of its TeslaFleetError
    # classes): library-side, a caller cannot tell "sign in again" from a bug.
    # HA core does not use this path (Home Assistant's OAuth2 helper refreshes).
    stale = oauth(session, refresh_token=first["refresh_token"])
    with pytest.raises(ValueError) as refused:
        await stale.refresh_access_token()
    assert "error" in refused.value.args[0]  # the token endpoint's error body


async def test_code_exchange(sim: SimServer, session: SimSession) -> None:
    """Authorization code with the client secret, form-encoded, at the fleet-auth host."""
    code = await sim.authorization_code(
        "nomfa@example.com", redirect_uri=REDIRECT_URI, client_id=DEV_CLIENT_ID
    )
    client = oauth(session)
    await client.get_refresh_token(code)
    sent = session.sent[-1]
    assert (sent.method, sent.url) == ("POST", sim.url + TOKEN_PATH)
    assert sent.data["grant_type"] == "authorization_code"
    assert sent.data["client_secret"] == DEV_CLIENT_SECRET
    assert sent.data["redirect_uri"] == REDIRECT_URI
    assert client.refresh_token is not None
    me = await client.user.me()
    assert me["response"]["email"] == "nomfa@example.com"


async def test_code_exchange_refused_with_a_wrong_secret(
    sim: SimServer, session: SimSession
) -> None:
    """A wrong client secret gets no tokens.

    Library wrong: ``get_refresh_token`` ignores an error answer (no exception, nothing
    set), so the only sign of the refusal is that ``refresh_token`` stays ``None``.
    """
    code = await sim.authorization_code(
        "nomfa@example.com", redirect_uri=REDIRECT_URI, client_id=DEV_CLIENT_ID
    )
    client = oauth(session, "not-the-secret")
    await client.get_refresh_token(code)
    assert client.refresh_token is None


async def test_code_prefix_names_the_region(
    sim: SimServer, session: SimSession
) -> None:
    """The library takes the region from the code's prefix (``EU_...`` -> the EU server)."""
    account = sim.world.account_by_email("nomfa@example.com")
    assert account is not None
    account.region = "eu"
    code = await sim.authorization_code(
        "nomfa@example.com", redirect_uri=REDIRECT_URI, client_id=DEV_CLIENT_ID
    )
    assert code.startswith("EU_")
    client = oauth(session)
    await client.get_refresh_token(code)
    assert client.server == SERVERS["eu"]
    region = await client.user.region()
    assert region["response"]["fleet_api_base_url"] == sim_base(sim, "eu")


@pytest.mark.parametrize("region", ["na", "eu"])
async def test_token_claims_as_ha_core_reads_them(sim: SimServer, region: str) -> None:
    """HA core takes the scopes from ``scp`` and the region from ``ou_code``."""
    account = sim.world.account_by_email("totp@example.com")
    assert account is not None
    account.region = region
    tokens = fleet_tokens(sim, "totp@example.com")
    claims = jwt_claims(tokens["access_token"])
    scopes = [Scope(s) for s in claims["scp"]]  # raises on a scope the library lacks
    assert Scope.VEHICLE_DEVICE_DATA in scopes
    assert is_valid_region(claims["ou_code"].lower())
    assert claims["ou_code"].lower() == region
    assert claims["azp"] == DEV_CLIENT_ID
    assert sim_base(sim, region) in claims["aud"]
    assert tokens["refresh_token"].startswith(f"{region.upper()}_")
    assert tokens["expires_in"] == 8 * 3600
