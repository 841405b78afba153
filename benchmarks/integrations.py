"""The two integrations the live benchmarks run in Home Assistant, behind one interface:
ours (``tesla_resilient``) and HA core's ``tesla_fleet`` (see ``fleet_core.py``).

Each says how to make its config entry on the simulator, what to set up first, how to put
its command-signing key where it looks for it (the benchmark approves the key on the car,
as the owner would in the Tesla app), and when it has recovered from an outage.
"""

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry  # type: ignore[import-untyped]

from custom_components.tesla_resilient import keys
from custom_components.tesla_resilient.const import DOMAIN
from custom_components.tesla_resilient.snapshot import DataSource
from tesla_sim import SimServer

from .entries import make_config_entry
from .fleet_core import (
    FLEET_CORE,
    KEY_FILE,
    add_credentials,
    fleet_core_entry,
    pointed_at,
    signing_clock,
)
from .ha import integration_clock


class Integration(ABC):
    """One integration under test."""

    name: ClassVar[str]
    """How the results name it."""
    domain: ClassVar[str]
    """Its domain: the platform of its entities."""

    @abstractmethod
    def context(self, sim: SimServer) -> AbstractContextManager[None]:
        """What must hold while it runs against ``sim`` (its clock, its URLs)."""

    @abstractmethod
    async def prepare(self, hass: HomeAssistant) -> None:
        """Set-up needed in each Home Assistant instance before the entry's."""

    @abstractmethod
    async def entry(self, sim: SimServer, email: str) -> MockConfigEntry:
        """A config entry signed in to ``sim`` as ``email`` (not added)."""

    @abstractmethod
    async def signing_key(self, hass: HomeAssistant, config_dir: str) -> bytes:
        """The public point of the key the integration will sign commands with (made
        where it looks for it when there is none yet)."""

    @abstractmethod
    def healthy(self, entry: MockConfigEntry, since: float) -> bool:
        """Loaded, out of any outage, and its cars' data learned from the cloud after
        ``since`` (virtual time)."""


class Ours(Integration):
    """Tesla Resilient: the integration's clocks on the simulator's virtual clock."""

    name = "ours"
    domain = DOMAIN

    def context(self, sim: SimServer) -> AbstractContextManager[None]:
        """The integration's injected clocks and its command signing (the library's)
        read the simulator's clock."""
        return _both(integration_clock(sim.world.now), signing_clock(sim))

    async def prepare(self, hass: HomeAssistant) -> None:
        """Nothing: the sign-in's entry is all it needs."""

    async def entry(self, sim: SimServer, email: str) -> MockConfigEntry:
        """The entry our sign-in stores (tokens of the simulator's dev app)."""
        return await make_config_entry(sim, email)

    async def signing_key(self, hass: HomeAssistant, config_dir: str) -> bytes:
        """The app key in Home Assistant's storage (made by the integration's own
        ``keys.async_get_app_key`` the first time)."""
        return (await keys.async_get_app_key(hass)).public_bytes

    def healthy(self, entry: MockConfigEntry, since: float) -> bool:
        """Cloud connection back, every car's state learned from the cloud since."""
        data = getattr(entry, "runtime_data", None)
        if data is None or data.account.in_outage:
            return False
        return all(
            vehicle.data.source is DataSource.CLOUD
            and (vehicle.data.state_checked_at or 0.0) >= since
            for vehicle in data.vehicles.values()
        )


@contextmanager
def _both(
    first: AbstractContextManager[None], second: AbstractContextManager[None]
) -> Iterator[None]:
    with first, second:
        yield


class FleetCore(Integration):
    """HA core's ``tesla_fleet``, unmodified, its URLs pointed at the simulator."""

    name = "tesla_fleet"
    domain = FLEET_CORE

    def context(self, sim: SimServer) -> AbstractContextManager[None]:
        """Its Fleet API, OAuth and token clock on the simulator."""
        return pointed_at(sim)

    async def prepare(self, hass: HomeAssistant) -> None:
        """The dev app as application credentials."""
        await add_credentials(hass)

    async def entry(self, sim: SimServer, email: str) -> MockConfigEntry:
        """What its config flow stores: the implementation and the token."""
        return await fleet_core_entry(sim, email)

    async def signing_key(self, hass: HomeAssistant, config_dir: str) -> bytes:
        """A new ``tesla_fleet.key`` in the configuration directory (what its
        ``get_private_key`` loads)."""
        return await hass.async_add_executor_job(_new_key_file, Path(config_dir))

    def healthy(self, entry: MockConfigEntry, since: float) -> bool:
        """Loaded and every vehicle coordinator's last refresh succeeded (the caller
        checks that the simulator answered it since ``since``)."""
        if entry.state is not ConfigEntryState.LOADED:
            return False
        data: Any = getattr(entry, "runtime_data", None)
        return data is not None and all(
            v.coordinator.last_update_success for v in data.vehicles
        )


def _new_key_file(config_dir: Path) -> bytes:
    """Write a new P-256 key to ``config_dir / KEY_FILE``; its public point."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    (config_dir / KEY_FILE).write_bytes(pem)
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


INTEGRATIONS: dict[str, Callable[[], Integration]] = {
    Ours.name: Ours,
    FleetCore.name: FleetCore,
}
