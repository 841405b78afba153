"""tesla-fleet-api against tesla_sim: region, account, products, vehicles, vehicle_data,
wake_up, fleet_status and the error statuses, read the way HA core's ``tesla_fleet`` reads
them (its ``__init__``, coordinator and wake-up helper).
"""

import pytest
from tesla_fleet_api import TeslaFleetApi
from tesla_fleet_api.const import VehicleDataEndpoint
from tesla_fleet_api.exceptions import (
    BadGateway,
    DeviceUnexpectedResponse,
    GatewayTimeout,
    InternalServerError,
    InvalidRegion,
    NotFound,
    OAuthExpired,
    RateLimited,
    ServiceUnavailable,
    TeslaFleetError,
    VehicleOffline,
)
from tesla_fleet_api.tesla import VehicleFleet

from tesla_sim import SimServer
from tests.conformance import (
    SimSession,
    fleet_api,
    fleet_tokens,
    session_fixture,  # noqa: F401 - a fixture
    sim_base,
    sim_session,
)
from tests.ha_fixtures import TOTP_EMAIL, add_fault

HA_CORE_ENDPOINTS = [
    VehicleDataEndpoint.CHARGE_STATE,
    VehicleDataEndpoint.CLIMATE_STATE,
    VehicleDataEndpoint.DRIVE_STATE,
    VehicleDataEndpoint.VEHICLE_STATE,
    VehicleDataEndpoint.VEHICLE_CONFIG,
    VehicleDataEndpoint.LOCATION_DATA,
]
"""What HA core's vehicle coordinator asks for (with the ``vehicle_location`` scope)."""


@pytest.fixture
def api(sim: SimServer, session: SimSession) -> TeslaFleetApi:
    """The library on the NA base, signed in as the TOTP account (Stella and Yara)."""
    return fleet_api(session, fleet_tokens(sim, TOTP_EMAIL)["access_token"])


def vins(sim: SimServer, email: str = TOTP_EMAIL) -> list[str]:
    account = sim.world.account_by_email(email)
    assert account is not None
    return list(account.vins)


def move_account(sim: SimServer, region: str, email: str = TOTP_EMAIL) -> None:
    account = sim.world.account_by_email(email)
    assert account is not None
    account.region = region


def check_vehicle_item(item: dict[str, object]) -> None:
    """A vehicle of ``/vehicles``, ``/vehicles/{id}`` or ``/products`` as REAL_CLOUD.md lists it."""
    for key in ("id", "vehicle_id", "vin", "display_name", "state", "in_service"):
        assert key in item, key
    assert item["api_version"] is not None
    assert item["command_signing"] in ("required", "allowed", "off")
    assert item["tokens"] is None


async def test_region_and_find_server(sim: SimServer, session: SimSession) -> None:
    """``users/region`` answers from any base; ``find_server`` moves to the account's base."""
    move_account(sim, "eu")
    api = fleet_api(session, fleet_tokens(sim, TOTP_EMAIL)["access_token"])
    region = await api.user.region()
    assert region["response"] == {
        "region": "eu",
        "fleet_api_base_url": sim_base(sim, "eu"),
    }
    assert await api.find_server() == "eu"
    assert api.server == sim_base(sim, "eu")
    me = await api.user.me()
    assert me["response"]["email"] == TOTP_EMAIL


async def test_cn_region(sim: SimServer, session: SimSession) -> None:
    move_account(sim, "cn")
    api = fleet_api(session, fleet_tokens(sim, TOTP_EMAIL)["access_token"])
    assert await api.find_server() == "cn"
    assert (await api.user.me())["response"]["email"] == TOTP_EMAIL


async def test_wrong_region_421_then_fallback(
    sim: SimServer, session: SimSession
) -> None:
    """HA core's setup: 421 on the token's base -> ``find_server`` -> the right base."""
    move_account(sim, "eu")
    api = fleet_api(session, fleet_tokens(sim, TOTP_EMAIL)["access_token"])
    car = api.vehicles.createFleet(vins(sim)[0])
    with pytest.raises(InvalidRegion):
        await car.vehicle()
    await api.find_server()
    assert (await car.vehicle())["response"]["vin"] == car.vin


async def test_products_as_ha_core_sets_up(sim: SimServer, session: SimSession) -> None:
    """HA core sets up from ``products``: a car signs when ``command_signing`` is required."""
    move_account(sim, "eu")
    api = fleet_api(session, fleet_tokens(sim, TOTP_EMAIL)["access_token"])
    with pytest.raises(InvalidRegion):
        await api.products()
    await api.find_server()
    products = (await api.products())["response"]
    cars = [p for p in products if "vin" in p]
    assert sorted(str(p["vin"]) for p in cars) == sorted(vins(sim))
    for item in cars:
        check_vehicle_item(item)


async def test_vehicle_list_and_vehicle(sim: SimServer, api: TeslaFleetApi) -> None:
    stella, yara = vins(sim)
    listed = await api.vehicles.createFleet(stella).list()
    assert [item["vin"] for item in listed["response"]] == [stella, yara]
    assert listed["count"] == 2
    one = await api.vehicles.createFleet(yara).vehicle()
    assert one["response"]["vin"] == yara
    assert one["response"]["state"] == "online"
    with pytest.raises(NotFound):
        await api.vehicles.createFleet(vins(sim, "nomfa@example.com")[0]).vehicle()


async def test_vehicle_items_of_2026(sim: SimServer, api: TeslaFleetApi) -> None:
    car = api.vehicles.createFleet(vins(sim)[0])
    for item in (await car.list())["response"]:
        check_vehicle_item(item)
    check_vehicle_item((await car.vehicle())["response"])


async def test_vehicle_data_endpoints(sim: SimServer, api: TeslaFleetApi) -> None:
    """``endpoints`` joined with ``;``: exactly those sections, location only when asked."""
    car = api.vehicles.createFleet(vins(sim)[0])
    data = (await car.vehicle_data(endpoints=HA_CORE_ENDPOINTS))["response"]
    for section in ("charge_state", "climate_state", "vehicle_state", "vehicle_config"):
        assert section in data, section
    assert "gui_settings" not in data
    assert "closures_state" not in data
    assert isinstance(data["drive_state"]["latitude"], float)
    without = [e for e in HA_CORE_ENDPOINTS if e != VehicleDataEndpoint.LOCATION_DATA]
    data = (await car.vehicle_data(endpoints=without))["response"]
    assert "latitude" not in data["drive_state"]
    data = (await car.vehicle_data())["response"]  # no endpoints: all but location
    assert "gui_settings" in data
    assert "latitude" not in data["drive_state"]


async def test_asleep_car_408_and_wake_up(socket_enabled: None) -> None:
    """A sleeping car: 408 (no cached data); ``wake_up(wait=True)`` polls until online."""
    async with (
        SimServer(seed=1, wake_seconds=0.3, host="127.0.0.1", port=0) as sim,
        sim_session(sim) as session,
    ):
        api = fleet_api(session, fleet_tokens(sim, TOTP_EMAIL)["access_token"])
        stella = vins(sim)[0]
        sim.world.vehicle(stella).set_activity("sleep", sim.world.now())
        car = api.vehicles.createFleet(stella)
        assert (await car.vehicle())["response"]["state"] == "asleep"
        with pytest.raises(VehicleOffline) as offline:
            await car.vehicle_data()
        assert offline.value.data is not None
        assert offline.value.data["response"] is None
        car._wake_poll_interval = 0.05  # the library's 3 s, shortened for the test
        woken = await car.wake_up(wait=True, timeout=10)
        assert woken["response"]["state"] == "online"
        assert "charge_state" in (await car.vehicle_data())["response"]


async def test_fleet_status(sim: SimServer, api: TeslaFleetApi) -> None:
    """No car trusts the app's key yet: every VIN is unpaired."""
    cars = vins(sim)
    status = (await api.vehicles.createFleet(cars[0]).fleet_status(cars))["response"]
    assert status["key_paired_vins"] == []
    assert sorted(status["unpaired_vins"]) == sorted(cars)
    assert isinstance(status["vehicle_info"], dict)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, InternalServerError),
        (502, BadGateway),
        (503, ServiceUnavailable),
        (504, GatewayTimeout),
        (540, DeviceUnexpectedResponse),
    ],
)
async def test_outage_statuses(
    sim: SimServer, api: TeslaFleetApi, status: int, error: type[TeslaFleetError]
) -> None:
    add_fault(sim, "outage", status=status)
    with pytest.raises(error) as failed:
        await api.vehicles.createFleet(vins(sim)[0]).vehicle()
    assert failed.value.status == status


async def test_rate_limit_429(sim: SimServer, api: TeslaFleetApi) -> None:
    add_fault(sim, "rate_limit", retry_after=30)
    with pytest.raises(RateLimited) as limited:
        await api.vehicles.createFleet(vins(sim)[0]).vehicle_data()
    assert limited.value.data == {"reset": "30", "after": "30"}


async def test_expired_and_invalid_tokens_401(
    sim_virtual: SimServer, socket_enabled: None
) -> None:
    """An expired token -> ``OAuthExpired`` (the body's ``token expired (401)``).

    Library wrong: an invalid token (``invalid bearer token``, the key of its own
    ``OAuthInvalid``) is read as ``OAuthExpired`` too: its 401 branch never tries
    ``OAuthInvalid``, so a caller cannot tell a revoked token from an expired one.
    """
    async with sim_session(sim_virtual) as session:
        tokens = fleet_tokens(sim_virtual, TOTP_EMAIL)
        car = fleet_api(session, tokens["access_token"]).vehicles.createFleet(
            vins(sim_virtual)[0]
        )
        sim_virtual.world.advance(tokens["expires_in"] + 1)
        with pytest.raises(OAuthExpired) as expired:
            await car.vehicle()
        assert expired.value.data is not None
        assert expired.value.data["error"] == "token expired (401)"
        bogus: VehicleFleet[TeslaFleetApi] = fleet_api(
            session, "not.a.token"
        ).vehicles.createFleet(car.vin)
        with pytest.raises(OAuthExpired) as invalid:
            await bogus.vehicle()
        assert invalid.value.data is None  # the body said "invalid bearer token"
