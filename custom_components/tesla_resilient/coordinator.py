"""Coordinators: the account's vehicle list and one coordinator per vehicle.

The :class:`VehicleCoordinator` asks :func:`.polling.next_poll` what to do on every
update (``vehicle_data`` with only the endpoints enabled entities need, or a cheap
sleep-state check), never wakes a car to poll, and sets its own ``update_interval`` from
the decision. Cloud failures never turn into ``UpdateFailed``: they are recorded in the
account's :class:`CloudHealth` and the last known snapshot is returned marked as coming
from the cache, so entities stay available with their last known values.

The :class:`AccountCoordinator` keeps the vehicle list (new and removed vehicles) and owns
the account's outage handling: it logs once when an outage starts and once when it ends,
raises a repair issue after a sustained outage, probes the cloud with the cheapest
request while it is down, and refreshes every vehicle once on recovery.
"""

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .api import (
    ALL_ENDPOINTS,
    AuthFailed,
    CloudUnavailable,
    RateLimited,
    TeslaError,
    TeslaFleetClient,
    TokenManager,
    VehicleAsleep,
    VehicleData,
    VehicleNotFound,
    VehicleState,
    VehicleSummary,
)
from .const import DOMAIN, LOCATION_ENTITIES, LOGGER
from .helpers import command_error, format_since, translated_error, wall_clock
from .otp import TotpGuard
from .polling import (
    LOCATION_ENDPOINT,
    PollAction,
    PollDecision,
    PollingSettings,
    PollMemory,
    endpoints_for,
    next_poll,
)
from .resilience import CloudHealth, HealthState, LastKnownStore
from .snapshot import DataSource, VehicleSnapshot

ACCOUNT_REFRESH_INTERVAL = timedelta(hours=3)
"""How often the vehicle list is fetched when all is well (new and removed vehicles)."""
OUTAGE_ISSUE_DELAY = 600.0
"""Seconds of outage after which a repair issue explains what is happening."""
OUTAGE_ISSUE_ID = "cloud_outage"
WAKE_TIMEOUT = 30.0
"""Seconds a command waits for a sleeping car to come online."""
WAKE_CHECK_INTERVAL = 3.0
"""Seconds between the sleep-state checks while waiting for a car to wake."""
MIN_INTERVAL = 1.0
"""Shortest delay between two updates of one vehicle."""


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


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=max(MIN_INTERVAL, value))


def _retry_delay(health: CloudHealth) -> float:
    """Seconds until the next attempt after a failure (backoff, ``Retry-After``)."""
    return max(health.wait_time() or 0.0, health.retry_delay())


class AccountCoordinator(DataUpdateCoordinator[dict[str, VehicleSummary]]):
    """The account's vehicle list, and the account-wide outage handling."""

    config_entry: TeslaResilientConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TeslaResilientConfigEntry,
        *,
        client: TeslaFleetClient,
        health: CloudHealth,
        vehicles: dict[str, VehicleCoordinator],
        initial: dict[str, VehicleSummary],
        store: LastKnownStore | None = None,
        clock: Callable[[], float] = wall_clock,
    ) -> None:
        """Start from the vehicle list ``initial`` (fetched or restored from the store).

        ``store`` keeps the start of an outage across a restart.
        """
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} account",
            update_interval=ACCOUNT_REFRESH_INTERVAL,
            always_update=False,
        )
        self.data = initial
        self.client = client
        self.health = health
        self.vehicles = vehicles
        self.store = store
        self._clock = clock
        self._unsub_issue: CALLBACK_TYPE | None = None

    async def _async_update_data(self) -> dict[str, VehicleSummary]:
        """Fetch the vehicle list; during an outage this is the cheap probe."""
        if not self.health.can_attempt():
            self._set_probe_interval()
            return self.data
        try:
            summaries = await self.client.vehicles()
        except AuthFailed as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except (CloudUnavailable, RateLimited) as err:
            self.report_failure(err)
            self._set_probe_interval()
            return self.data
        except TeslaError as err:
            LOGGER.debug("Vehicle list not available: %s", type(err).__name__)
            return self.data
        self.report_success()
        self._set_probe_interval()
        return {summary.id: summary for summary in summaries}

    def _set_probe_interval(self) -> None:
        wait = self.health.wait_time()
        if self.health.state is HealthState.OK and wait is None:
            self.update_interval = ACCOUNT_REFRESH_INTERVAL
        else:
            self.update_interval = _seconds(_retry_delay(self.health))

    @callback
    def async_retry_later(self) -> None:
        """Fetch again after the cloud health's retry delay (set-up from the store)."""
        self._set_probe_interval()

    @callback
    def async_resume_outage(self, since: float) -> None:
        """Continue an outage that started at ``since`` before a restart (set-up).

        Entities show it at once (``cloud_connection`` off, data source cache) and the
        repair issue keeps the original start; only the account probes the cloud.
        """
        self.health.resume_outage(since)
        self._outage_started()

    @property
    def in_outage(self) -> bool:
        """Whether the account's cloud is in an outage."""
        return self.health.state is HealthState.OUTAGE

    @callback
    def report_success(self, reporter: VehicleCoordinator | None = None) -> None:
        """Record a successful request; on recovery refresh every vehicle once."""
        since = self.health.outage_since
        if self.health.record_success():
            self._outage_ended(since, reporter)

    @callback
    def report_failure(self, err: TeslaError) -> None:
        """Record a failed request; start outage handling when an outage begins."""
        if self.health.record_failure(err):
            self._outage_started()

    @callback
    def _outage_started(self) -> None:
        since = self.health.outage_since
        if since is None:  # pragma: no cover - CloudHealth sets it with the outage
            since = self._clock()
        if self.store is not None:
            self.store.set_outage_since(since)
        # Logged once per outage (CloudHealth reports its start once).
        LOGGER.info(
            "Tesla cloud unreachable since %s; showing the last known vehicle state",
            format_since(since),
        )
        for vehicle in self.vehicles.values():
            vehicle.async_enter_outage()
        self._cancel_issue_timer()
        delay = since + OUTAGE_ISSUE_DELAY - self._clock()
        if delay <= 0:  # an outage resumed after a restart: the issue at once
            self._create_issue(dt_util.utcnow())
        else:
            self._unsub_issue = async_call_later(self.hass, delay, self._create_issue)
        self._set_probe_interval()
        if self._listeners:
            self._schedule_refresh()

    @callback
    def _create_issue(self, _now: datetime) -> None:
        self._unsub_issue = None
        if not self.in_outage:  # pragma: no cover - the timer is cancelled on recovery
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=OUTAGE_ISSUE_ID,
            translation_placeholders={
                "since": format_since(self.health.outage_since),
                "account": self.config_entry.title,
            },
        )

    @property
    def issue_id(self) -> str:
        """Id of this entry's outage repair issue."""
        return f"{OUTAGE_ISSUE_ID}_{self.config_entry.entry_id}"

    def _cancel_issue_timer(self) -> None:
        if self._unsub_issue is not None:
            self._unsub_issue()
            self._unsub_issue = None

    @callback
    def _outage_ended(
        self, since: float | None, reporter: VehicleCoordinator | None
    ) -> None:
        minutes = (
            max(0, round((self._clock() - since) / 60)) if since is not None else 0
        )
        LOGGER.info(
            "Tesla cloud reachable again after %d minutes; refreshing every vehicle",
            minutes,
        )
        self._cancel_issue_timer()
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
        if self.store is not None:
            self.store.set_outage_since(None)
        self._set_probe_interval()
        for vehicle in list(self.vehicles.values()):
            vehicle.async_exit_outage()
            if vehicle is not reporter:
                self.config_entry.async_create_background_task(
                    self.hass,
                    vehicle.async_refresh_after_outage(),
                    name=f"{DOMAIN} refresh after outage",
                )

    async def async_shutdown(self) -> None:
        """Cancel the repair issue timer too."""
        self._cancel_issue_timer()
        await super().async_shutdown()


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
        self._fetched: frozenset[str] = frozenset()
        self._refetch_scheduled = False
        self._force_data = False
        self._skip_sleep_check = False
        self._command_lock = asyncio.Lock()
        """One command or wake at a time: a sleeping car gets one ``wake_up``."""

    # -- public surface -------------------------------------------------------------

    @property
    def snapshot(self) -> VehicleSnapshot:
        """The vehicle's current snapshot (``self.data``)."""
        return self.data

    @property
    def cloud_connected(self) -> bool:
        """Whether the account's cloud is reachable (not in an outage)."""
        return not self.account.in_outage

    @property
    def data_source(self) -> DataSource:
        """Where the current values come from."""
        return self.data.source

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
            self._fetched
            and not wanted <= self._fetched
            and self.data.state is VehicleState.ONLINE
            and not self.account.in_outage
            and not self._refetch_scheduled
        ):
            self._refetch_scheduled = True
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
        """Send a command; wake the car only when it answers that it sleeps (408).

        The command goes first even when the car was last seen asleep: the owner may
        have woken it since, and ``wake_up`` costs ten data requests. A car that
        accepts it woke by itself (the owner's activity). Fails fast during an outage;
        nothing is queued or retried after a failure that may have reached the car.
        ``optimistic`` flattened values are shown at once and one confirming refresh
        follows ``settings.confirm_delay`` seconds later.
        """
        async with self._command_lock:
            self._raise_if_outage()
            previous = self.data.state
            woken = False
            with self._command_errors():
                try:
                    await self.client.command(self.vehicle_id, name, params)
                except VehicleAsleep:
                    # Not delivered: the car sleeps. Wake it and send once more.
                    await self._async_wake(for_command=True)
                    woken = True
                    await self.client.command(self.vehicle_id, name, params)
            self.account.report_success(self)
            now = self.clock()
            if not woken and previous is not VehicleState.ONLINE:
                # Online without our wake_up: someone woke it (and is probably at it).
                self.memory = self.memory.after_sleep_check(
                    VehicleState.ONLINE, now, previous=previous
                )
            self.memory = self.memory.after_command(now)
            # The policy schedules the one confirming vehicle_data (confirm_delay).
            self.update_interval = _seconds(
                next_poll(self.data, self.memory, now, self.settings).delay
            )
            snapshot = self.data
            if snapshot.state is not VehicleState.ONLINE:
                snapshot = snapshot.with_state(VehicleState.ONLINE, now)
            if optimistic:
                snapshot = replace(snapshot, data=_merge(snapshot.data, optimistic))
            self._publish(snapshot, always=True)

    async def async_wake(self) -> None:
        """Wake the car (wake button or action), wait until online, then fetch its data."""
        async with self._command_lock:
            await self._async_wake(for_command=False)

    async def _async_wake(self, *, for_command: bool) -> None:
        """Wake the car and wait (bounded) until it is online.

        A wake for a command is not recorded as the car waking by itself: the
        command's confirming ``vehicle_data`` follows anyway. The caller holds the
        command lock.
        """
        self._raise_if_outage()
        previous = self.data.state
        with self._command_errors():
            summary = await self.client.wake_up(self.vehicle_id)
            checks = max(1, round(self.wake_timeout / self.wake_check_interval))
            while summary.state is not VehicleState.ONLINE:
                if checks <= 0:
                    raise translated_error("vehicle_did_not_wake")
                checks -= 1
                await asyncio.sleep(self.wake_check_interval)
                summary = await self.client.vehicle(self.vehicle_id)
        self.account.report_success(self)
        now = self.clock()
        snapshot = self.data.with_state(VehicleState.ONLINE, now)
        if for_command:
            self.memory = replace(self.memory, last_sleep_check=now)
        else:
            self.memory = self.memory.after_sleep_check(
                VehicleState.ONLINE, now, previous=previous
            )
            self.update_interval = _seconds(
                next_poll(snapshot, self.memory, now, self.settings).delay
            )
        self._publish(snapshot, always=True)

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
        self.memory = self.memory.after_sleep_check(state, now, previous=previous)
        self.data = self._as_cloud(self.data.with_state(state, now))
        self._skip_sleep_check = True

    @callback
    def _refetch(self) -> None:
        self._refetch_scheduled = False
        self._force_data = True
        self.config_entry.async_create_background_task(
            self.hass, self.async_refresh(), name=f"{DOMAIN} fetch new endpoints"
        )

    async def async_refresh_now(self) -> None:
        """Fetch ``vehicle_data`` now (a sleeping car answers 408 and is not woken)."""
        self._raise_if_outage()
        self._force_data = True
        await self.async_refresh()

    async def async_refresh_after_outage(self) -> None:
        """Fetch once after an outage ends (a sleeping car answers 408, not woken)."""
        self._force_data = True
        await self.async_refresh()

    @callback
    def async_retry_later(self) -> None:
        """Poll after the cloud health's retry delay (set-up from the store)."""
        self.update_interval = _seconds(_retry_delay(self.account.health))

    @callback
    def async_enter_outage(self) -> None:
        """Mark the snapshot as cached and stop polling until the cloud is back.

        Always notifies the entities, also when a failed poll (degraded cloud) already
        marked the snapshot as cached: ``cloud_connection`` turns off at once.
        """
        self.update_interval = None
        self._publish(self.data.as_cache(), always=True)

    @callback
    def async_exit_outage(self) -> None:
        """Tell the entities at once that the cloud is reachable again.

        The values stay marked as cached until this vehicle's refresh after the outage.
        """
        self.async_update_listeners()

    # -- polling -------------------------------------------------------------------

    async def _async_update_data(self) -> VehicleSnapshot:
        """Poll as the policy says; cloud failures return the cached snapshot."""
        snapshot = self.data
        if self.account.in_outage:
            # The account coordinator probes; every vehicle refreshes on recovery.
            self.update_interval = None
            return snapshot.as_cache()
        if not self.account.health.can_attempt():
            self.update_interval = _seconds(_retry_delay(self.account.health))
            return snapshot
        force, self._force_data = self._force_data, False
        try:
            snapshot, decision = await self._poll(snapshot, force=force)
        except AuthFailed as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except VehicleNotFound:
            LOGGER.debug("Vehicle %s is no longer on the account", self.vehicle_id)
            self.update_interval = None
            await self.account.async_request_refresh()
            return self.data
        except (CloudUnavailable, RateLimited) as err:
            self.account.report_failure(err)
            # Re-read (this failure may have started it); not narrowed like in_outage.
            if self.account.health.state is HealthState.OUTAGE:
                self.update_interval = None
            else:
                self.update_interval = _seconds(_retry_delay(self.account.health))
            return self.data.as_cache()
        except TeslaError as err:
            LOGGER.debug(
                "Vehicle %s not polled: %s", self.vehicle_id, type(err).__name__
            )
            self.update_interval = _seconds(self.settings.idle_interval)
            return self.data
        self.update_interval = _seconds(decision.delay)
        self.store.update(snapshot)
        previous = self.data
        if snapshot.display_name != previous.display_name or _software_version(
            snapshot
        ) != _software_version(previous):
            self._async_update_device(snapshot)
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
        if action is PollAction.SLEEP_CHECK and self._skip_sleep_check:
            # The vehicle list reported the sleep state a moment ago (set-up).
            self._skip_sleep_check = False
            return snapshot, decision
        self._skip_sleep_check = False
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
        self.account.report_success(self)
        self.memory = self.memory.after_sleep_check(
            summary.state, now, previous=snapshot.state
        )
        snapshot = snapshot.with_state(summary.state, now)
        if summary.display_name and summary.display_name != snapshot.display_name:
            snapshot = snapshot.with_display_name(summary.display_name)
        return self._as_cloud(snapshot)

    def _location_entity_enabled(self) -> bool:
        """Whether an entity that needs the location is enabled.

        Before the first set-up no entity is registered yet: the trackers are enabled
        by default, so the answer is yes.
        """
        registry = er.async_get(self.hass)
        registered = [
            entry
            for platform, key in LOCATION_ENTITIES
            if (
                entity_id := registry.async_get_entity_id(
                    platform, DOMAIN, f"{self.vin}-{key}"
                )
            )
            and (entry := registry.async_get(entity_id)) is not None
        ]
        return not registered or any(not entry.disabled for entry in registered)

    async def _fetch_data(
        self, snapshot: VehicleSnapshot, now: float
    ) -> VehicleSnapshot:
        wanted = set(self.endpoints)
        if not self._fetched:
            # First fetch since set-up: everything (entity creation looks at the
            # car's configuration), the location only when a location entity is (or,
            # not registered yet, will be) enabled: one request instead of a second
            # one when the trackers register.
            wanted |= set(ALL_ENDPOINTS) - {LOCATION_ENDPOINT}
            if self._location_entity_enabled():
                wanted.add(LOCATION_ENDPOINT)
        requested = endpoints_for(wanted)
        try:
            data = await self.client.vehicle_data(self.vehicle_id, requested)
        except VehicleAsleep:
            self.account.report_success(self)
            self.memory = self.memory.after_sleep_check(
                VehicleState.ASLEEP, now, previous=snapshot.state
            )
            return self._as_cloud(snapshot.with_state(VehicleState.ASLEEP, now))
        self.account.report_success(self)
        self._fetched |= frozenset(requested)
        self.memory = self.memory.after_vehicle_data(data, now)
        snapshot = snapshot.with_data(data, now)
        name = data.get_str("display_name")
        if name and name != snapshot.display_name:
            snapshot = snapshot.with_display_name(name)
        return snapshot

    @staticmethod
    def _as_cloud(snapshot: VehicleSnapshot) -> VehicleSnapshot:
        """The cloud answered: the values are no longer only restored from disk."""
        return replace(snapshot, source=DataSource.CLOUD)

    # -- commands ------------------------------------------------------------------

    def _raise_if_outage(self) -> None:
        if self.account.in_outage:
            raise translated_error(
                "cloud_unreachable",
                {"since": format_since(self.account.health.outage_since)},
            )

    @contextmanager
    def _command_errors(self) -> Iterator[None]:
        """Translate a command's or wake's cloud errors (auth failure: reauth)."""
        try:
            yield
        except AuthFailed as err:
            self.config_entry.async_start_reauth(self.hass)
            raise translated_error("auth_failed") from err
        except TeslaError as err:
            raise self._failed(err) from err

    def _failed(self, err: TeslaError) -> Exception:
        """Record a command's failure in the cloud health and translate it."""
        if isinstance(err, CloudUnavailable | RateLimited):
            self.account.report_failure(err)
        since = self.account.health.outage_since
        return command_error(err, since=self.clock() if since is None else since)

    # -- helpers -------------------------------------------------------------------

    @callback
    def _publish(self, snapshot: VehicleSnapshot, *, always: bool = False) -> None:
        """Show ``snapshot`` now (and reschedule the next poll), and remember it."""
        if snapshot == self.data and not always:
            return
        self.store.update(snapshot)
        self.async_set_updated_data(snapshot)

    @callback
    def _async_update_device(self, snapshot: VehicleSnapshot) -> None:
        """Keep the device's name and software version up to date."""
        registry = dr.async_get(self.hass)
        device = registry.async_get_device_by_identifier(
            (DOMAIN, self.vin), self.config_entry.entry_id
        )
        if device is None:
            return
        version = _software_version(snapshot)
        if version is not None and version != device.sw_version:
            registry.async_update_device(device.id, sw_version=version)
        name = snapshot.display_name
        if name and name != device.name:
            registry.async_update_device(device.id, name=name)


def _software_version(snapshot: VehicleSnapshot) -> str | None:
    return None if snapshot.data is None else snapshot.data.software_version


def _merge(data: VehicleData | None, values: Mapping[str, Any]) -> VehicleData:
    """Return ``data`` with the flattened ``values`` on top (optimistic update)."""
    update = VehicleData(dict(values))
    return update if data is None else update.merged_onto(data)
