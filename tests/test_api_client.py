"""The Fleet API client against tesla_sim over 127.0.0.1: data, commands, every failure."""

from collections.abc import AsyncIterator
import logging
from typing import Any

import aiohttp
import pytest

from custom_components.tesla_resilient.api import (
    USER_AGENT,
    AuthFailed,
    CloudUnavailable,
    CommandFailed,
    CommandOutcomeUnknown,
    CommandSigningRequired,
    Forbidden,
    MalformedResponse,
    PreconditionFailed,
    RateLimited,
    TeslaAuth,
    TeslaError,
    TeslaFleetClient,
    TokenManager,
    Tokens,
    Unanswered,
    VehicleAsleep,
    VehicleNotFound,
    VehicleState,
)
from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID

# REST commands (cars with command_signing "allowed"); signed ones: test_api_protocol.py
pytestmark = pytest.mark.sim(rest_commands=True)

NOMFA = "nomfa@example.com"


class Harness:
    """A client for one simulator account, with what it persisted."""

    def __init__(self, sim: SimServer, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session
        self.saved_tokens: list[Tokens] = []
        self.base_urls: list[str] = []
        self.manager: TokenManager | None = None

    async def client(
        self,
        email: str = NOMFA,
        *,
        scope: str | None = None,
        access_token: str | None = None,
        base_url: str | None = None,
        client_timeout: float = 10,
        notify: bool = True,
    ) -> TeslaFleetClient:
        body = await self.sim.issue_tokens(email, scope)
        tokens = Tokens.from_token_response(body, self.sim.world.now())
        if access_token is not None:
            tokens = Tokens(access_token, tokens.refresh_token, tokens.expires_at)

        async def persist(new: Tokens) -> None:
            self.saved_tokens.append(new)

        async def moved(url: str) -> None:
            self.base_urls.append(url)

        self.manager = TokenManager(
            TeslaAuth(self.session, auth_base=self.sim.url, client_id=DEV_CLIENT_ID),
            tokens,
            on_new_tokens=persist,
        )
        return TeslaFleetClient(
            self.session,
            self.manager,
            base_url=base_url or self.sim.url,
            timeout=client_timeout,
            on_base_url_change=moved if notify else None,
        )

    def car(self, email: str = NOMFA) -> Any:
        account = self.sim.world.account_by_email(email)
        assert account is not None
        return self.sim.world.vehicle(account.vins[0])

    async def control(self, path: str, body: dict[str, Any]) -> None:
        async with self.session.post(
            f"{self.sim.url}/__sim__/{path}", json=body
        ) as resp:
            assert resp.status == 200, await resp.text()

    async def fault(self, kind: str, **extra: Any) -> None:
        await self.control("faults", {"kind": kind, "seconds": 120, **extra})


@pytest.fixture
async def harness(sim: SimServer) -> AsyncIterator[Harness]:
    """A session and helpers around the running simulator."""
    async with aiohttp.ClientSession() as session:
        yield Harness(sim, session)


async def test_vehicles_and_vehicle(harness: Harness) -> None:
    """The list and a single vehicle carry id_s, VIN, name and sleep state."""
    client = await harness.client()
    car = harness.car()
    vehicles = await client.vehicles()
    assert [(v.id, v.vin, v.display_name) for v in vehicles] == [
        (str(car.id), car.vin, "Sparky")
    ]
    assert vehicles[0].state is VehicleState.ONLINE
    assert vehicles[0].in_service is False
    single = await client.vehicle(vehicles[0].id)
    assert single == vehicles[0]


async def test_me(harness: Harness) -> None:
    """The account summary names the signed-in account."""
    client = await harness.client()
    owner = harness.sim.world.account_by_email(NOMFA)
    assert owner is not None
    account = await client.me()
    assert account.email == NOMFA
    assert account.full_name == owner.full_name
    await harness.fault("outage", paths=["/api/1/users/me"])
    with pytest.raises(CloudUnavailable):
        await client.me()
    assert await client.vehicles()


async def test_vehicle_data_selects_endpoints(harness: Harness) -> None:
    """Only the requested endpoints come back; location needs location_data."""
    client = await harness.client()
    car = harness.car()
    vehicle_id = str(car.id)
    full = await client.vehicle_data(vehicle_id)
    assert full.get_int("charge_state_battery_level") is not None
    assert full.latitude == pytest.approx(car.latitude)
    assert full.locked is True
    assert full.model == "model3"
    assert full.state is VehicleState.ONLINE
    partial = await client.vehicle_data(vehicle_id, ["climate_state", "charge_state"])
    assert partial.get("charge_state_battery_level") is not None
    assert partial.get("climate_state_inside_temp") is not None
    assert partial.get("vehicle_state_locked") is None
    no_location = await client.vehicle_data(vehicle_id, ("drive_state",))
    assert "drive_state_shift_state" in no_location.values
    assert no_location.latitude is None
    merged = no_location.merged_onto(full)
    assert merged.latitude == full.latitude


async def test_requests_carry_user_agent_and_no_vin_in_urls(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Calls identify the integration and address cars by id, never by VIN."""
    client = await harness.client()
    car = harness.car()
    caplog.set_level(logging.DEBUG)
    await client.vehicle_data(str(car.id), ["charge_state"])
    await client.command(str(car.id), "door_lock")
    async with harness.session.get(f"{harness.sim.url}/__sim__/meter?log=5") as resp:
        log = (await resp.json())["log"]
    assert [entry["path"] for entry in log] == [
        "/api/1/vehicles/{vehicle_id}/vehicle_data",
        "/api/1/vehicles/{vehicle_id}/command/{command}",
    ]
    assert USER_AGENT.startswith("tesla-resilient/")
    ours = [
        r.getMessage() for r in caplog.records if r.name.startswith("custom_components")
    ]
    assert ours
    assert harness.manager is not None
    token = harness.manager.tokens.access_token
    for message in ours:
        assert car.vin not in message
        assert token not in message


async def test_wake_up(harness: Harness) -> None:
    """A sleeping car answers 408 to vehicle_data and wakes after wake_up."""
    client = await harness.client()
    car = harness.car()
    await harness.control(f"vehicles/{car.vin}", {"activity": "sleep"})
    assert (await client.vehicle(str(car.id))).state is VehicleState.ASLEEP
    with pytest.raises(VehicleAsleep):
        await client.vehicle_data(str(car.id))
    summary = await client.wake_up(str(car.id))
    assert summary.id == str(car.id)
    assert summary.state in {VehicleState.ASLEEP, VehicleState.ONLINE}


async def test_commands(harness: Harness) -> None:
    """A command changes the car; a refused one raises CommandFailed with Tesla's reason."""
    client = await harness.client()
    car = harness.car()
    await client.command(str(car.id), "door_unlock")
    assert harness.car().locked is False
    await client.command(str(car.id), "set_charge_limit", {"percent": 90})
    assert harness.car().charge_limit == 90
    with pytest.raises(CommandFailed) as err:
        await client.command(str(car.id), "charge_stop")
    assert err.value.reason == "not_charging"
    with pytest.raises(ValueError, match="command name"):
        await client.command(str(car.id), "../wake_up")
    with pytest.raises(TeslaError) as unknown:
        await client.command(str(car.id), "no_such_command")
    assert type(unknown.value) is TeslaError


async def test_command_protocol_required(harness: Harness) -> None:
    """A car that only takes signed commands answers 403 with the protocol message."""
    client = await harness.client()
    car = harness.car()
    await harness.control(f"vehicles/{car.vin}", {"requires_command_signing": True})
    with pytest.raises(CommandSigningRequired):
        await client.command(str(car.id), "door_lock")


async def test_missing_scope_is_forbidden(harness: Harness) -> None:
    """A token without vehicle_device_data is refused with a plain 403."""
    client = await harness.client(scope="openid offline_access vehicle_cmds")
    with pytest.raises(Forbidden) as err:
        await client.vehicle_data(str(harness.car().id))
    assert not isinstance(err.value, CommandSigningRequired)


async def test_unknown_vehicle(harness: Harness) -> None:
    """404 is VehicleNotFound."""
    client = await harness.client()
    with pytest.raises(VehicleNotFound):
        await client.vehicle("1")
    with pytest.raises(VehicleNotFound):
        await client.vehicle_data("1")


async def test_unregistered_account(harness: Harness) -> None:
    """412 is PreconditionFailed."""
    client = await harness.client()
    await harness.control(f"accounts/{NOMFA}", {"registered": False})
    with pytest.raises(PreconditionFailed):
        await client.vehicles()


async def test_region_switch_on_421(harness: Harness) -> None:
    """421: look up the region, switch base URL, tell the owner, retry once."""
    await harness.control(f"accounts/{NOMFA}", {"region": "eu"})
    client = await harness.client()
    vehicles = await client.vehicles()
    eu_url = f"{harness.sim.url}/eu"
    assert len(vehicles) == 1
    assert client.base_url == eu_url
    assert harness.base_urls == [eu_url]
    region = await client.region()
    assert (region.region, region.fleet_api_base_url) == ("eu", eu_url)
    await client.vehicles()
    assert harness.base_urls == [eu_url]


async def test_region_switch_without_callback(harness: Harness) -> None:
    """The switch also works when nobody listens for it."""
    await harness.control(f"accounts/{NOMFA}", {"region": "eu"})
    client = await harness.client(notify=False)
    assert len(await client.vehicles()) == 1
    assert client.base_url == f"{harness.sim.url}/eu"


async def test_401_refreshes_once_and_retries(harness: Harness) -> None:
    """A rejected access token is refreshed (and persisted) once, then the call succeeds."""
    client = await harness.client(access_token="not-a-valid-token")
    vehicles = await client.vehicles()
    assert len(vehicles) == 1
    assert len(harness.saved_tokens) == 1
    await client.vehicles()
    assert len(harness.saved_tokens) == 1


async def test_second_401_is_auth_failed(harness: Harness) -> None:
    """When the refreshed token is rejected too, AuthFailed (no loop)."""
    client = await harness.client(access_token="not-a-valid-token")
    harness.sim.world.access_token_lifetime = 0
    with pytest.raises(AuthFailed):
        await client.vehicles()
    assert len(harness.saved_tokens) == 1


async def test_revoked_tokens_are_auth_failed(harness: Harness) -> None:
    """Revoked access and refresh tokens: the refresh fails with AuthFailed."""
    client = await harness.client()
    await harness.control("faults", {"kind": "revoke_token", "email": NOMFA})
    with pytest.raises(AuthFailed):
        await client.vehicles()
    assert harness.saved_tokens == []


async def test_rate_limited(harness: Harness) -> None:
    """429 carries Retry-After."""
    client = await harness.client()
    await harness.fault("rate_limit", retry_after=17)
    with pytest.raises(RateLimited) as err:
        await client.vehicles()
    assert err.value.retry_after == 17.0


@pytest.mark.parametrize("status", [500, 503, 540])
async def test_outage_statuses(harness: Harness, status: int) -> None:
    """5xx and 540 are CloudUnavailable (and not malformed)."""
    client = await harness.client()
    await harness.fault("outage", status=status)
    with pytest.raises(CloudUnavailable) as err:
        await client.vehicle_data(str(harness.car().id))
    assert not isinstance(err.value, MalformedResponse)
    assert str(status) in str(err.value)


async def test_hang_times_out(harness: Harness) -> None:
    """A request that never answers ends at the client timeout as CloudUnavailable."""
    client = await harness.client(client_timeout=0.3)
    await harness.fault("hang", max_real_seconds=30)
    with pytest.raises(CloudUnavailable, match="TimeoutError"):
        await client.vehicles()


async def test_refused_connection(harness: Harness) -> None:
    """A dropped connection is CloudUnavailable."""
    client = await harness.client()
    await harness.fault("refuse")
    with pytest.raises(CloudUnavailable):
        await client.vehicles()


async def test_malformed_body(harness: Harness) -> None:
    """A truncated JSON body is MalformedResponse (an outage signal)."""
    client = await harness.client()
    await harness.fault("malformed")
    with pytest.raises(MalformedResponse):
        await client.vehicle_data(str(harness.car().id))


@pytest.mark.parametrize(
    ("kind", "extra", "read_error"),
    [
        ("hang", {"max_real_seconds": 30}, Unanswered),
        ("refuse", {}, Unanswered),
        ("malformed", {}, MalformedResponse),
    ],
)
async def test_command_answer_lost(
    harness: Harness, kind: str, extra: dict[str, Any], read_error: type[TeslaError]
) -> None:
    """A command or wake whose answer is lost after sending may have been carried out.

    A timeout, a dropped connection, a truncated answer: CommandOutcomeUnknown (still
    a CloudUnavailable for the cloud health); a read gets the plain error.
    """
    client = await harness.client(client_timeout=0.3)
    car_id = str(harness.car().id)
    await harness.fault(kind, **extra)
    for act in (client.command(car_id, "door_lock"), client.wake_up(car_id)):
        with pytest.raises(CommandOutcomeUnknown) as err:
            await act
        assert isinstance(err.value, CloudUnavailable)
    with pytest.raises(read_error) as read:
        await client.vehicle(car_id)
    assert not isinstance(read.value, CommandOutcomeUnknown)


async def test_command_answered_or_not_sent(harness: Harness) -> None:
    """A 5xx answer (not carried out) or a refused connection (never sent) is known."""
    client = await harness.client()
    car_id = str(harness.car().id)
    await harness.fault("outage", status=503)
    with pytest.raises(CloudUnavailable) as err:
        await client.command(car_id, "door_lock")
    assert not isinstance(err.value, CommandOutcomeUnknown | Unanswered)
    client.base_url = "http://127.0.0.1:9"
    with pytest.raises(CloudUnavailable) as err:
        await client.command(car_id, "door_lock")
    assert not isinstance(err.value, CommandOutcomeUnknown | Unanswered)


async def test_unreachable_host(socket_enabled: None) -> None:
    """Nothing listening is CloudUnavailable."""
    async with aiohttp.ClientSession() as session:
        auth = TeslaAuth(session, auth_base="http://127.0.0.1:9")

        async def persist(new: Tokens) -> None:
            raise AssertionError("no refresh expected")

        manager = TokenManager(auth, Tokens("a", "r", 4e9), on_new_tokens=persist)
        client = TeslaFleetClient(session, manager, base_url="http://127.0.0.1:9/")
        assert client.base_url == "http://127.0.0.1:9"
        with pytest.raises(CloudUnavailable):
            await client.vehicles()
