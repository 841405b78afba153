"""HA core's ``tesla_fleet`` (shipped inside the installed Home Assistant, on
``tesla-fleet-api``) pointed at ``tesla_sim``, its code unmodified.

What is changed at run time, and nothing else:

* ``tesla_fleet_api.const.SERVERS`` -- the regional Fleet API hosts -- hold the simulator's
  bases (``World.region_base_url``; the dict is changed in place, so every module that
  imported it sees the simulator), as ``tests/conformance.py`` rewrites them;
* ``tesla_fleet``'s OAuth endpoints (``oauth.AUTHORIZE_URL`` / ``TOKEN_URL``, read when its
  application-credentials platform builds the implementation) are the simulator's;
* Home Assistant's OAuth2 session (when the access token needs refreshing) and the
  library's command signing (a signed command's expiry, from the car's clock offset) read
  the simulator's (virtual) clock, as our integration's injected clock does. Without it a
  session made at 07:25 signs the 08:05 lock with an expiry 40 virtual minutes in the
  car's past, and the car refuses it (``Command expired``): an artefact of virtual time.

The config entry is what ``tesla_fleet``'s config flow stores: the simulator's dev app
imported as application credentials, and a token the simulator issued to that app.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType, SimpleNamespace
from typing import Any

from homeassistant.components import application_credentials as app_credentials
from homeassistant.components.tesla_fleet import oauth as fleet_oauth
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry  # type: ignore[import-untyped]
from tesla_fleet_api import const as fleet_const
from tesla_fleet_api.tesla.vehicle import commands as fleet_commands

from tesla_sim import SimServer
from tesla_sim.apps import DEV_CLIENT_ID, DEV_CLIENT_SECRET

FLEET_CORE = "tesla_fleet"
"""HA core's integration (its domain)."""
KEY_FILE = "tesla_fleet.key"
"""Where ``tesla_fleet`` keeps its command-signing key (in the configuration directory)."""


@contextmanager
def pointed_at(sim: SimServer) -> Iterator[None]:
    """Send ``tesla_fleet``'s Fleet API and OAuth requests to ``sim``; undo on exit."""
    world = sim.world
    servers: dict[Any, str] = fleet_const.SERVERS
    saved_servers = dict(servers)
    patches: list[tuple[ModuleType, str, Any]] = [
        (fleet_oauth, "AUTHORIZE_URL", f"{sim.url}/oauth2/v3/authorize"),
        (fleet_oauth, "TOKEN_URL", world.token_url),
        (config_entry_oauth2_flow, "time", SimpleNamespace(time=world.now)),
    ]
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    servers.update({region: world.region_base_url(region) for region in servers})
    for module, name, value in patches:
        setattr(module, name, value)
    try:
        with signing_clock(sim):
            yield
    finally:
        servers.update(saved_servers)
        for module, name, value in saved:
            setattr(module, name, value)


@contextmanager
def signing_clock(sim: SimServer) -> Iterator[None]:
    """``tesla-fleet-api``'s command signing (ours signs with it too) on the simulator's
    clock: a signed command's expiry is the library's ``time.time()`` plus the car's
    clock offset learnt at the handshake."""
    saved = getattr(fleet_commands, "time")  # noqa: B009
    setattr(fleet_commands, "time", SimpleNamespace(time=sim.world.now))  # noqa: B010
    try:
        yield
    finally:
        setattr(fleet_commands, "time", saved)  # noqa: B010


async def add_credentials(hass: HomeAssistant) -> None:
    """Application credentials: the simulator's dev app, as the owner would enter them."""
    await async_setup_component(hass, "application_credentials", {})
    await app_credentials.async_import_client_credential(
        hass,
        FLEET_CORE,
        app_credentials.ClientCredential(
            DEV_CLIENT_ID, DEV_CLIENT_SECRET, "tesla_sim dev app"
        ),
        FLEET_CORE,
    )


async def fleet_core_entry(sim: SimServer, email: str) -> MockConfigEntry:
    """``tesla_fleet``'s config entry for ``email``: tokens the simulator issued to the
    dev app (all scopes), ``expires_at`` on the simulator's clock."""
    body: dict[str, Any] = await sim.issue_tokens(email)
    account = sim.world.account_by_email(email)
    if account is None:  # pragma: no cover - issue_tokens raised KeyError already
        raise KeyError(email)
    token = {**body, "expires_at": sim.world.now() + float(body["expires_in"])}
    return MockConfigEntry(
        domain=FLEET_CORE,
        title=email,
        unique_id=account.id,
        data={"auth_implementation": FLEET_CORE, "token": token},
    )
