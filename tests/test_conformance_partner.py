"""tesla-fleet-api against tesla_sim: the developer app's side of the Fleet API -- partner
token, partner registration per region, the 412 before it and the 403 for a client that is
not a registered app -- the calls HA core's ``tesla_fleet`` config flow makes.
"""

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
import pytest
from tesla_fleet_api import TeslaFleetApi
from tesla_fleet_api.const import Scope
from tesla_fleet_api.exceptions import (
    Forbidden,
    InvalidResource,
    InvalidResponse,
    PreconditionFailed,
    TeslaFleetError,
)

from tesla_sim import SimServer, World
from tests.conformance import (
    DEV_CLIENT_ID,
    DEV_CLIENT_SECRET,
    SimSession,
    fleet_api,
    fleet_tokens,
    session_fixture,  # noqa: F401 - a fixture
    sim_base,
    sim_session,
)
from tests.sim_fixtures import jwt_claims, key_host


def partner_api(session: SimSession, region: str = "na") -> TeslaFleetApi:
    """The library's client as HA core's config flow builds it for partner calls."""
    return TeslaFleetApi(
        session=session.as_client_session(),
        access_token="",
        server=sim_base(session.sim, region),
        partner_scope=True,
        charging_scope=False,
        energy_scope=False,
        user_scope=False,
        vehicle_scope=False,
    )


async def partner_login(api: TeslaFleetApi) -> str:
    """Log the dev app in with its client credentials; the partner access token."""
    token = await api.partner_login(DEV_CLIENT_ID, DEV_CLIENT_SECRET, [Scope.OPENID])
    access: str = token["access_token"]
    return access


async def test_partner_token(sim: SimServer, session: SimSession) -> None:
    """client_credentials, form-encoded, with the regional base as the audience."""
    api = partner_api(session, "eu")
    access = await partner_login(api)
    sent = session.sent[-1]
    assert sent.url == sim.url + "/oauth2/v3/token"
    assert sent.data["grant_type"] == "client_credentials"
    assert sent.data["audience"] == sim_base(sim, "eu")
    claims = jwt_claims(access)
    assert claims["sub"] == DEV_CLIENT_ID
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert sim_base(sim, "eu") in audience
    assert claims.get("partner") is True or claims.get("gty") == "client-credentials"
    with pytest.raises(TeslaFleetError):
        await api.partner_login(DEV_CLIENT_ID, "not-the-secret", [Scope.OPENID])


async def test_partner_registration(
    sim: SimServer, session: SimSession, tmp_path: Path
) -> None:
    """Tesla fetches the key from the domain and answers with it; HA core compares the two."""
    api = partner_api(session)
    await api.get_private_key(str(tmp_path / "tesla_fleet.key"))
    async with key_host({"pem": api.public_pem}) as domain:
        await partner_login(api)
        registered = await api.partner.register(domain)
        found = registered["response"]
        assert found["domain"] == domain
        assert found["client_id"] == DEV_CLIENT_ID
        assert found["public_key"].lower() == api.public_uncompressed_point.lower()
        read = await api.partner.public_key(domain)
        assert read["response"]["public_key"].lower() == found["public_key"].lower()


async def test_partner_registration_faults(
    sim: SimServer, session: SimSession, tmp_path: Path
) -> None:
    """A key that is not EC P-256 -> 422; a domain that does not answer -> 424 or 422."""
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        .decode()
    )
    api = partner_api(session)
    await partner_login(api)
    async with key_host({"pem": rsa_pem}) as domain:
        with pytest.raises(InvalidResource):
            await api.partner.register(domain)
    # The key host is gone now: nothing answers on that port.
    with pytest.raises((InvalidResponse, InvalidResource)):
        await api.partner.register(domain)


async def test_412_until_registered_in_the_region(
    socket_enabled: None, tmp_path: Path
) -> None:
    """Every call of an unregistered app answers 412 (``users/region`` included), per region."""
    world = World(1, partner_registered=False)
    async with (
        SimServer(world=world, host="127.0.0.1", port=0) as sim,
        sim_session(sim) as session,
    ):
        api = fleet_api(session, fleet_tokens(sim, "totp@example.com")["access_token"])
        with pytest.raises(PreconditionFailed) as refused:
            await api.user.region()
        assert refused.value.data == {
            "response": None,
            "error": f"Account {DEV_CLIENT_ID} must be registered in the current "
            f"region {sim.url}",
            "error_description": "",
        }
        with pytest.raises(PreconditionFailed):
            await api.products()
        partner = partner_api(session)
        await partner.get_private_key(str(tmp_path / "tesla_fleet.key"))
        async with key_host({"pem": partner.public_pem}) as domain:
            await partner_login(partner)
            await partner.partner.register(domain)
        assert (await api.user.region())["response"]["region"] == "na"
        eu_partner = partner_api(session, "eu")
        await partner_login(eu_partner)
        with pytest.raises(PreconditionFailed):  # registered in NA only
            await eu_partner.partner.public_key(domain)


@pytest.mark.parametrize("client_id", ["ownerapi", "someone-elses-app"])
async def test_unregistered_client_refused(
    sim: SimServer, session: SimSession, client_id: str
) -> None:
    """A token of a client that is not a registered app (the Owner API's) -> 403.

    Library's reading: ``Forbidden``, whose message blames a missing scope; the body's
    ``error`` (``unauthorized_client``) is the only place that says what happened.
    """
    tokens = fleet_tokens(sim, "totp@example.com", client_id=client_id)
    api = fleet_api(session, tokens["access_token"])
    with pytest.raises(Forbidden) as refused:
        await api.user.region()
    assert refused.value.data is not None
    assert refused.value.data["error"] == "unauthorized_client"
