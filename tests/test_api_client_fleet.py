"""The Fleet API client's 2026 surface against tesla_sim: products, fleet_status, command
signing, region discovery and the account errors (402, 423, 451)."""

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from custom_components.tesla_resilient.api import (
    REGION_BASES,
    BillingRequired,
    CommandSigning,
    CommandSigningRequired,
    FleetAccountLocked,
    FleetStatus,
    LegalRestriction,
    MalformedResponse,
    PreconditionFailed,
    Region,
    TeslaFleetClient,
    VehicleSummary,
    WrongRegion,
)
from custom_components.tesla_resilient.api.client import _unwrap
from tesla_sim import SimServer
from tesla_sim.fleet import SIGNING_ERROR
from tesla_sim.world import REGIONS
from tests.test_api_client import Harness

# REST commands (cars with command_signing "allowed"); signed ones: test_api_protocol.py
pytestmark = pytest.mark.sim(rest_commands=True)


@pytest.fixture
async def harness(sim: SimServer) -> AsyncIterator[Harness]:
    async with aiohttp.ClientSession() as session:
        yield Harness(sim, session)


def sim_bases(sim: SimServer) -> dict[str, str]:
    """The simulator's regional base URLs."""
    return {region: sim.world.region_base_url(region) for region in REGIONS}


async def regional_client(
    harness: Harness, email: str = "nomfa@example.com", **kwargs: Any
) -> TeslaFleetClient:
    """A client whose ``region_bases`` are the simulator's."""
    client = await harness.client(email)
    assert harness.manager is not None

    async def moved(url: str) -> None:
        harness.base_urls.append(url)

    return TeslaFleetClient(
        harness.session,
        harness.manager,
        base_url=kwargs.pop("base_url", client.base_url),
        on_base_url_change=moved,
        region_bases=kwargs.pop("region_bases", sim_bases(harness.sim)),
    )


def region_requests(sim: SimServer) -> int:
    return sim.world.meter.endpoints["GET /api/1/users/region"]


async def test_products_and_command_signing(harness: Harness) -> None:
    client = await harness.client("totp@example.com")
    products = await client.products()
    assert [p.display_name for p in products] == ["Stella", "Yara"]
    assert {p.command_signing for p in products} == {CommandSigning.ALLOWED}
    assert products == await client.vehicles()


async def test_fleet_status(harness: Harness) -> None:
    client = await harness.client("totp@example.com")
    stella = harness.car("totp@example.com")
    status = await client.fleet_status([stella.vin, "5YJ3E1EB0XX000000"])
    assert status.unpaired_vins == {stella.vin}
    assert not status.key_paired_vins
    assert not status.is_paired(stella.vin)
    info = status.vehicle_info[stella.vin]
    assert info.firmware_version == stella.car_version.split()[0]
    assert info.command_signing_required is False  # the REST world allows REST
    assert stella.vin not in repr(status)


def test_fleet_status_parsing() -> None:
    with pytest.raises(MalformedResponse):
        FleetStatus.from_api([])
    status = FleetStatus.from_api(
        {
            "key_paired_vins": ["A", 3],
            "unpaired_vins": "B",
            "vehicle_info": {"A": {"vehicle_command_protocol_required": True}, "C": 1},
        }
    )
    assert status.key_paired_vins == {"A"}
    assert status.unpaired_vins == frozenset()
    assert status.vehicle_info["A"].command_signing_required is True
    assert status.vehicle_info["A"].firmware_version is None
    assert status.vehicle_info["C"].command_signing_required is False
    assert FleetStatus.from_api({"vehicle_info": []}).vehicle_info == {}
    assert CommandSigning.parse("sometimes") is CommandSigning.UNKNOWN
    assert CommandSigning.parse(None) is CommandSigning.UNKNOWN
    assert VehicleSummary.from_api({"id": 1}).command_signing is CommandSigning.UNKNOWN


async def test_signing_required_carries_teslas_text(harness: Harness) -> None:
    client = await harness.client()
    harness.car().requires_command_signing = True
    with pytest.raises(CommandSigningRequired) as err:
        await client.command(str(harness.car().id), "door_lock")
    assert str(err.value) == SIGNING_ERROR
    item = await client.vehicle(str(harness.car().id))
    assert item.command_signing is CommandSigning.REQUIRED


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("billing", BillingRequired),
        ("account_locked", FleetAccountLocked),
        ("legal", LegalRestriction),
    ],
)
async def test_account_errors(
    harness: Harness, kind: str, error: type[Exception]
) -> None:
    client = await harness.client()
    await harness.fault(kind)
    with pytest.raises(error):
        await client.vehicles()


def test_421_after_relocation_is_wrong_region() -> None:
    with pytest.raises(WrongRegion):
        _unwrap(421, "{}", None)


async def test_region_from_the_token(harness: Harness) -> None:
    """The token's ou_code settles the region without a request."""
    account = harness.sim.world.account_by_email("nomfa@example.com")
    assert account is not None
    account.region = "eu"
    client = await regional_client(harness)
    region = await client.discover_region()
    assert region == Region("eu", f"{harness.sim.url}/eu")
    assert client.base_url == f"{harness.sim.url}/eu"
    assert harness.base_urls == [f"{harness.sim.url}/eu"]
    assert region_requests(harness.sim) == 0
    assert len(await client.vehicles()) == 1


async def test_region_asked_when_the_token_names_none_we_know(
    harness: Harness,
) -> None:
    account = harness.sim.world.account_by_email("nomfa@example.com")
    assert account is not None
    account.region = "cn"
    bases = sim_bases(harness.sim)
    del bases["cn"]
    client = await regional_client(harness, region_bases=bases)
    region = await client.discover_region()
    assert region == Region("cn", f"{harness.sim.url}/cn")
    assert region_requests(harness.sim) == 1
    assert client.base_url == f"{harness.sim.url}/cn"


async def test_region_tries_every_region_on_412(harness: Harness) -> None:
    account = harness.sim.world.account_by_email("nomfa@example.com")
    assert account is not None
    account.registered = False
    client = await regional_client(
        harness, region_bases={"yy": harness.sim.url, "xx": harness.sim.url + "/eu"}
    )
    with pytest.raises(PreconditionFailed):
        await client.discover_region()
    assert region_requests(harness.sim) == 2
    assert client.base_url == harness.sim.url


async def test_region_of_a_custom_server_is_asked_there(harness: Harness) -> None:
    """A server that is not one of region_bases (a proxy) is asked, and only it."""
    client = await regional_client(harness, region_bases=REGION_BASES)
    region = await client.discover_region()
    assert region == Region("na", harness.sim.url)
    assert region_requests(harness.sim) == 1
    assert harness.base_urls == []


async def test_products_skip_energy_sites(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A product without a VIN (an energy site) is not a vehicle."""
    client = await harness.client()
    payloads: list[Any] = [
        [{"id": 1, "vin": "V", "display_name": "Car"}, {"id": "STE1"}, "junk"],
        {"not": "a list"},
    ]

    async def answer(method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        assert (method, path) == ("GET", "/api/1/products")
        return payloads.pop(0)

    monkeypatch.setattr(client, "_call", answer)
    (car,) = await client.products()
    assert (car.id, car.display_name) == ("1", "Car")
    with pytest.raises(MalformedResponse):
        await client.products()
