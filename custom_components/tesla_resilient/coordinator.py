"""One coordinator per vehicle: polling, the snapshot, commands and wake.

The :class:`VehicleCoordinator` asks :func:`.polling.next_poll` what to do on every
update (``vehicle_data`` with only the endpoints enabled entities need, or a cheap
sleep-state check), never wakes a car to poll, and sets its own ``update_interval`` from
the decision. Cloud failures never turn into ``UpdateFailed``: they are reported to the
account's cloud health and the last known snapshot is returned marked as coming from the
cache, so entities stay available with their last known values. The vehicle follows its
account's cloud health (:mod:`.recovery`): the cache from the first failure seen, one
refresh after an outage. The owner's Refresh always sends one request (``commands.py``).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .api import (
    ALL_ENDPOINTS,
    TeslaError,
    TeslaFleetClient,
    TokenManager,
    VehicleAsleep,
    VehicleNotFound,
    VehicleState,
)
from .commands import VehicleCommands
from .const import DOMAIN, LOGGER, wall_clock
from .devices import async_update_device, location_entity_enabled
from .errors import async_owner_action_needed, reauth_on_auth_failure
from .health import CLOUD_FAILURES, CloudHealth, HealthState
from .otp import TotpGuard
from .polling import (
    LOCATION_ENDPOINT,
    MIN_INTERVAL,
    PollAction,
    PollDecision,
    PollingSettings,
    PollMemory,
    endpoints_for,
    next_poll,
)
from .recovery import async_follow_health
from .snapshot import DataSource, VehicleSnapshot
from .store import LastKnownStore

if TYPE_CHECKING:
    from .account import AccountCoordinator
    from .bluetooth import BluetoothLink

WAKE_TIMEOUT = 30.0
"""Seconds a command waits for a sleeping car to come online."""
WAKE_CHECK_INTERVAL = 3.0
"""Seconds between the sleep-state checks while waiting for a car to wake."""


def signal_new_vehicle(entry_id: str) -> str:
    """Dispatcher signal sent with a new :class:`VehicleCoordinator` of an entry."""
    return f"{DOMAIN}_new_vehicle_{entry_id}"


@dataclass
class TeslaResilientData:
    """Runtime data of a config entry (``entry.runtime_data``)."""

    client: TeslaFleetClient
    tokens: TokenManager
    health: CloudHealth
    store: LastKnownStore
    account: AccountCoordinator
    vehicles: dict[str, VehicleCoordinator]
    guard: TotpGuard | None


type TeslaResilientConfigEntry = ConfigEntry[TeslaResilientData]


def interval(seconds: float) -> timedelta:
    """An ``update_interval`` of ``seconds``, never shorter than :data:`MIN_INTERVAL`."""
    return timedelta(seconds=max(MIN_INTERVAL, seconds))


class VehicleCoordinator(DataUpdateCoordinator[VehicleSnapshot]):
    """Polling, commands and the snapshot of one vehicle."""

    config_entry: TeslaResilientConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TeslaResilientConfigEntry,
        *,
        client: TeslaFleetClient,
        account: AccountCoordinator,
        store: LastKnownStore,
        snapshot: VehicleSnapshot,
        settings: PollingSettings | None = None,
        clock: Callable[[], float] = wall_clock,
    ) -> None:
        """Start from ``snapshot`` (initial, or restored from the store)."""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} vehicle {snapshot.vehicle_id}",
            update_interval=None,
            always_update=False,
        )
        self.data = snapshot
        self.vehicle_id = snapshot.vehicle_id
        self.vin = snapshot.vin
        self.client = client
        self.account = account
        self.store = store
        self.settings = settings or PollingSettings()
        self.memory = PollMemory()
        self.wake_timeout = WAKE_TIMEOUT
        self.wake_check_interval = WAKE_CHECK_INTERVAL
        self.clock = clock
        self._endpoints: dict[object, frozenset[str]] = {}
        self.updating = False  # an update (a poll) is under way
        self._owner_request = False
        self.last_failure: TeslaError | None = None  # of the last update (Refresh)
        self.commands = VehicleCommands(self)
        self.bluetooth: BluetoothLink | None = None  # with a Bluetooth subentry
        self._unsub_health = account.async_listen_health(
            lambda previous, current: async_follow_health(self, previous, current)
        )

    # -- public surface -------------------------------------------------------------

    @property
    def snapshot(self) -> VehicleSnapshot:
        """The vehicle's current snapshot (``self.data``)."""
        return self.data

    @property
    def cloud_connected(self) -> bool:
        """Whether the account's last request to the cloud succeeded (health ``ok``)."""
        return self.account.health.state is HealthState.OK

    @property
    def data_source(self) -> DataSource:
        """Where the current values come from (Bluetooth while it is live)."""
        link = self.bluetooth
        return self.data.source if link is None else link.shown_source(self.data.source)

    @property
    def last_update(self) -> datetime | None:
        """When ``vehicle_data`` last succeeded."""
        fetched_at = self.data.fetched_at
        return None if fetched_at is None else dt_util.utc_from_timestamp(fetched_at)

    @property
    def endpoints(self) -> frozenset[str]:
        """The ``vehicle_data`` endpoints the registered entities need."""
        return frozenset().union(*self._endpoints.values())

    @callback
    def register_endpoints(
        self, token: object, endpoints: Iterable[str]
    ) -> Callable[[], None]:
        """Request ``endpoints`` for ``token`` (an entity) until the returned call.

        An endpoint not fetched yet (``location_data`` when a location entity is
        enabled) is fetched at once when the car is online.
        """
        wanted = frozenset(endpoints)
        self._endpoints[token] = wanted
        if (
            (fetched := self.memory.fetched)
            and not wanted <= fetched
            and self.data.state is VehicleState.ONLINE
            and not self.account.in_outage
            and not self.memory.force_data
        ):
            self.memory = replace(self.memory, force_data=True)
            self.hass.loop.call_soon(self._refetch)

        @callback
        def unregister() -> None:
            self._endpoints.pop(token, None)

        return unregister

    async def async_command(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        optimistic: Mapping[str, Any] | None = None,
    ) -> None:
        """Send the command ``name`` (see :meth:`.commands.VehicleCommands.async_send`)."""
        await self.commands.async_send(name, params, optimistic=optimistic)

    async def async_wake(self) -> None:
        """Wake the car (wake button or action), wait until online, then fetch its data."""
        await self.commands.async_wake()

    @callback
    def async_seed_state(self, state: VehicleState) -> None:
        """Start from the sleep state the vehicle list just reported (before polling).

        The first update then needs no sleep check of its own: an online car is
        fetched at once, a sleeping one is checked again after the usual interval.
        """
        if state is VehicleState.UNKNOWN:
            return
        now = self.clock()
        previous = self.data.state
        self.memory = replace(
            self.memory.after_sleep_check(state, now, previous=previous),
            skip_sleep_check=True,
        )
        self.data = self.as_cloud(self.data.with_state(state, now))

    @callback
    def _refetch(self) -> None:
        self.config_entry.async_create_background_task(
            self.hass, self.async_refresh(), name=f"{DOMAIN} fetch new endpoints"
        )

    async def async_refresh_now(self) -> None:
        """The owner's Refresh (see :meth:`.commands.VehicleCommands.async_refresh`)."""
        await self.commands.async_refresh()

    async def async_request_now(self) -> TeslaError | None:
        """Fetch ``vehicle_data`` now, whatever the backoff says; return its failure.

        A sleeping car answers 408 and is not woken. Sent also during an outage (the
        owner asked): a success ends it.
        """
        self._owner_request = True
        self.last_failure = None
        await self.async_refresh()
        return self.last_failure

    @callback
    def async_retry_later(self) -> None:
        """Poll after the cloud health's retry delay (set-up from the store)."""
        self.update_interval = interval(self.account.health.retry_after_failure())

    async def async_shutdown(self) -> None:
        """Stop listening to the account too."""
        self._unsub_health()
        await super().async_shutdown()

    # -- polling -------------------------------------------------------------------

    def schedule(self, delay: float | None) -> None:
        """Poll again after ``delay`` seconds (``None``: not until told)."""
        self.update_interval = None if delay is None else interval(delay)

    async def _async_update_data(self) -> VehicleSnapshot:
        """Poll as the policy says; cloud failures return the cached snapshot."""
        self.updating = True
        owner, self._owner_request = self._owner_request, False
        try:
            return await self._async_update(owner=owner)
        finally:
            self.updating = False

    async def _async_update(self, *, owner: bool) -> VehicleSnapshot:
        snapshot = self.data
        health = self.account.health
        if self.account.in_outage and not owner:
            # The account probes; every vehicle refreshes on recovery.
            self.schedule(None)
            return snapshot.as_cache()
        if not owner and not health.can_attempt():
            self.update_interval = interval(health.retry_after_failure())
            return snapshot
        force = owner or self.memory.force_data
        self.memory = replace(self.memory, force_data=False)
        try:
            with reauth_on_auth_failure():
                snapshot, decision = await self._poll(snapshot, force=force)
        except VehicleNotFound:
            LOGGER.debug("Vehicle %s is no longer on the account", self.vehicle_id)
            self.schedule(None)
            await self.account.async_request_refresh()
            return self.data
        except CLOUD_FAILURES as err:
            self.last_failure = err
            self.account.report_failure(err)
            # Re-read (this failure may have started it); not narrowed like in_outage.
            if health.state is HealthState.OUTAGE:
                self.schedule(None)
            else:
                self.update_interval = interval(health.retry_after_failure())
            return self.data.as_cache()
        except TeslaError as err:
            LOGGER.debug(
                "Vehicle %s not polled: %s", self.vehicle_id, type(err).__name__
            )
            async_owner_action_needed(self.hass, self.config_entry, err)
            self.schedule(self.settings.idle_interval)
            return self.data
        self.schedule(decision.delay)
        self.store.update(snapshot)
        async_update_device(self.hass, self.config_entry, self.data, snapshot)
        return snapshot

    def _next_poll(self, snapshot: VehicleSnapshot, now: float) -> PollDecision:
        return next_poll(
            snapshot, self.memory, now, self.settings, self.account.health.wait_time()
        )

    async def _poll(
        self, snapshot: VehicleSnapshot, *, force: bool
    ) -> tuple[VehicleSnapshot, PollDecision]:
        """Poll once; return the new snapshot and the decision for the next poll."""
        now = self.clock()
        decision = self._next_poll(snapshot, now)
        action = PollAction.VEHICLE_DATA if force else decision.action
        skip = self.memory.skip_sleep_check
        if skip:
            self.memory = replace(self.memory, skip_sleep_check=False)
        if action is PollAction.SLEEP_CHECK and skip:
            # The vehicle list reported the sleep state a moment ago (set-up).
            return snapshot, decision
        if self.bluetooth is not None and not force:  # the car in range: no cloud
            snapshot, done = await self.bluetooth.async_poll(snapshot, action)
            if done:
                return snapshot, self._next_poll(snapshot, self.clock())
        if action is PollAction.SLEEP_CHECK:
            snapshot = await self._sleep_check(snapshot, now)
            decision = self._next_poll(snapshot, self.clock())
            # Just woke up (by itself): fetch its data now if the policy wants it.
            if (
                snapshot.state is not VehicleState.ONLINE
                or decision.action is not PollAction.VEHICLE_DATA
                or decision.delay > MIN_INTERVAL
            ):
                return snapshot, decision
        snapshot = await self._fetch_data(snapshot, now)
        return snapshot, self._next_poll(snapshot, self.clock())

    async def _sleep_check(
        self, snapshot: VehicleSnapshot, now: float
    ) -> VehicleSnapshot:
        summary = await self.client.vehicle(self.vehicle_id)
        self.account.report_success()
        self.memory = self.memory.after_sleep_check(
            summary.state, now, previous=snapshot.state
        )
        snapshot = snapshot.with_state(summary.state, now)
        if summary.display_name and summary.display_name != snapshot.display_name:
            snapshot = snapshot.with_display_name(summary.display_name)
        return self.as_cloud(snapshot)

    async def _fetch_data(
        self, snapshot: VehicleSnapshot, now: float
    ) -> VehicleSnapshot:
        wanted = set(self.endpoints)
        if not self.memory.fetched:
            # First fetch since set-up: everything (entity creation looks at the
            # car's configuration), the location only when a location entity is (or,
            # not registered yet, will be) enabled: one request instead of a second
            # one when the trackers register.
            wanted |= set(ALL_ENDPOINTS) - {LOCATION_ENDPOINT}
            if location_entity_enabled(self.hass, self.vin):
                wanted.add(LOCATION_ENDPOINT)
        requested = endpoints_for(wanted)
        try:
            data = await self.client.vehicle_data(self.vehicle_id, requested)
        except VehicleAsleep:
            self.account.report_success()
            self.memory = self.memory.after_sleep_check(
                VehicleState.ASLEEP, now, previous=snapshot.state
            )
            return self.as_cloud(snapshot.with_state(VehicleState.ASLEEP, now))
        self.account.report_success()
        self.memory = replace(
            self.memory.after_vehicle_data(data, now),
            fetched=self.memory.fetched | frozenset(requested),
        )
        snapshot = snapshot.with_data(data, now)
        name = data.get_str("display_name")
        if name and name != snapshot.display_name:
            snapshot = snapshot.with_display_name(name)
        return snapshot

    @staticmethod
    def as_cloud(snapshot: VehicleSnapshot) -> VehicleSnapshot:
        """The cloud answered: the values are no longer only restored from disk."""
        return replace(snapshot, source=DataSource.CLOUD)

    @callback
    def async_publish(self, snapshot: VehicleSnapshot, *, always: bool = False) -> None:
        """Show ``snapshot`` now (and reschedule the next poll), and remember it."""
        if snapshot == self.data and not always:
            return
        self.store.update(snapshot)
        self.async_set_updated_data(snapshot)
