"""tesla_sim's virtual keys: the cars' whitelists, ``fleet_status``, the control API's
approval and the ``/_ak/<domain>`` page a browser completes (real HTTP on loopback)."""

import io
import re

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
import pytest

from tesla_sim import SimServer, World
from tesla_sim.__main__ import banner
from tesla_sim.apps import DEV_CLIENT_ID, Registration
from tests import test_sim_fleet
from tests.sim_fixtures import browser_session
from tests.test_sim_fleet import Api, car_of

# No car knows the test HA's app key: the tests approve keys themselves.
pytestmark = pytest.mark.sim(app_key_approved=False)

TOTP = "totp@example.com"
DOMAIN = "keys.example.net"
APPROVE_FORM = re.compile(r'name="vin" value="([^"]+)"><button type="submit">Approve')

api = test_sim_fleet.api
"""The REST world of the test fixtures, as in test_sim_fleet."""


def new_point() -> bytes:
    """A fresh P-256 public key as its 65-byte uncompressed point."""
    return (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


def register(world: World, point: bytes, *, client_id: str = DEV_CLIENT_ID) -> None:
    """``client_id`` registered for ``DOMAIN`` with ``point`` in the eu region."""
    world.partners.register(
        Registration(client_id, "eu", DOMAIN, point.hex(), world.now())
    )


async def paired(api: Api, *vins: str) -> tuple[list[str], list[str]]:
    body = (
        await api.post("/api/1/vehicles/fleet_status", json={"vins": list(vins)})
    ).body["response"]
    return body["key_paired_vins"], body["unpaired_vins"]


async def test_fleet_status_reports_cars_that_trust_the_apps_key(
    api: Api, sim: SimServer
) -> None:
    world = sim.world
    stella, yara = car_of(sim, TOTP), car_of(sim, TOTP, 1)
    assert await paired(api, stella.vin, yara.vin) == ([], [stella.vin, yara.vin])
    point = new_point()
    world.approve_virtual_key(stella.vin, point)
    # Not registered by the app yet (the seeded registrations have no key): unpaired.
    assert await paired(api, stella.vin, yara.vin) == ([], [stella.vin, yara.vin])
    register(world, point)  # any region's registration counts
    assert await paired(api, stella.vin, yara.vin) == ([stella.vin], [yara.vin])
    assert stella.whitelist == {point: "owner"}
    # Another app's key on a car does not pair this app.
    other = new_point()
    register(world, other, client_id="someone-else")
    world.approve_virtual_key(yara.vin, other, "owner")
    assert await paired(api, stella.vin, yara.vin) == ([stella.vin], [yara.vin])
    state = {car["vin"]: car for car in world.state()["vehicles"]}
    assert state[yara.vin]["virtual_keys"] == [other.hex()]


def test_approve_virtual_key_checks_the_key_and_car(sim_world: World) -> None:
    vin = next(iter(sim_world.vehicles))
    with pytest.raises(ValueError, match="65 bytes"):
        sim_world.approve_virtual_key(vin, new_point()[:33])
    with pytest.raises(ValueError):
        sim_world.approve_virtual_key(vin, b"\x04" + b"\x00" * 64)  # not on the curve
    with pytest.raises(KeyError):
        sim_world.approve_virtual_key("5YJ3E1EB0XX000000", new_point())
    assert sim_world.vehicles[vin].whitelist == {}


async def test_control_api_approves_the_domains_key(sim: SimServer) -> None:
    car = car_of(sim, TOTP)
    point = new_point()
    url = f"{sim.url}/__sim__/vehicles/{car.vin}/virtual_key"
    async with aiohttp.ClientSession() as session:
        for target, body, status in (
            (f"{sim.url}/__sim__/vehicles/NOPE/virtual_key", {"domain": DOMAIN}, 404),
            (url, [], 400),
            (url, {"domain": 3}, 400),
            (url, {"domain": DOMAIN}, 404),  # no app registered a key for it
        ):
            async with session.post(target, json=body) as reply:
                assert reply.status == status
        register(sim.world, point)
        async with session.post(url, json={"domain": DOMAIN.upper()}) as reply:
            assert reply.status == 200
            assert await reply.json() == {"vin": car.vin, "public_keys": [point.hex()]}
    assert car.whitelist == {point: "owner"}


async def test_ak_page_signs_in_and_approves_in_a_browser(sim: SimServer) -> None:
    world = sim.world
    point = new_point()
    stella, yara = car_of(sim, TOTP), car_of(sim, TOTP, 1)
    page_url = f"{sim.url}/_ak/{DOMAIN}"
    async with browser_session() as browser:
        async with browser.get(page_url) as reply:
            assert reply.status == 404  # no app registered a key for the domain
            assert "No app has registered a key" in await reply.text()
        register(world, point)
        async with browser.get(page_url) as reply:
            assert reply.status == 200
            assert 'name="password"' in await reply.text()
        # Approving before signing in only shows the sign-in form again.
        async with browser.post(page_url, data={"vin": stella.vin}) as reply:
            assert 'name="password"' in await reply.text()
        wrong = {"email": TOTP, "password": "nope"}
        async with browser.post(page_url, data=wrong) as reply:
            assert reply.status == 401
            assert "incorrect" in await reply.text()
        account = world.account_by_email(TOTP)
        assert account is not None
        signed_in = {"email": TOTP, "password": account.password}
        async with browser.post(page_url, data=signed_in) as reply:
            assert reply.status == 200
            assert APPROVE_FORM.findall(await reply.text()) == [stella.vin, yara.vin]
        async with browser.post(page_url, data={"vin": stella.vin}) as reply:
            text = await reply.text()
            assert f"Key added to {stella.vin}" in text
            assert APPROVE_FORM.findall(text) == [yara.vin]
            assert "approved" in text
        other_car = car_of(sim, "nomfa@example.com")
        async with browser.post(page_url, data={"vin": other_car.vin}) as reply:
            assert reply.status == 404
        # A ``vin`` query lists only that car (the session cookie is kept).
        async with browser.get(page_url, params={"vin": yara.vin}) as reply:
            assert APPROVE_FORM.findall(await reply.text()) == [yara.vin]
    assert stella.whitelist == {point: "owner"}
    assert yara.whitelist == {}
    assert other_car.whitelist == {}


async def test_ak_page_refuses_a_locked_account(sim: SimServer) -> None:
    register(sim.world, new_point())
    account = sim.world.account_by_email(TOTP)
    assert account is not None
    account.locked = True
    form = {"email": TOTP, "password": account.password}
    async with (
        browser_session() as browser,
        browser.post(f"{sim.url}/_ak/{DOMAIN}", data=form) as reply,
    ):
        assert reply.status == 401


def test_banner_names_the_approval_page(sim_world: World) -> None:
    out = io.StringIO()
    banner(sim_world, out)
    assert f"{sim_world.base_url}/_ak/<the app's registered domain>" in out.getvalue()
