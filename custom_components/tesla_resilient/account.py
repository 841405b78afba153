"""The account: its vehicle list, its vehicles' coordinators and its cloud outages.

:class:`AccountCoordinator` fetches the vehicle list (new and removed vehicles), creates
one :class:`~.coordinator.VehicleCoordinator` per vehicle and owns the account's outage
handling: it logs once when an outage starts and once when it ends, raises a repair issue
after a sustained outage (and one while Tesla asks for payment of the developer
account), probes the cloud with the cheapest request while it is down and tells the
vehicles of every change of the cloud health, which listen
(:meth:`AccountCoordinator.async_listen_health`), so that they show the cache from the
first failure seen and refresh once on recovery.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .api import TeslaError, TeslaFleetClient, VehicleSummary
from .const import DOMAIN, LOGGER, wall_clock
from .coordinator import (
    TeslaResilientConfigEntry,
    VehicleCoordinator,
    interval,
    signal_new_vehicle,
)
from .devices import async_remove_stale_devices
from .errors import (
    async_billing_settled,
    async_owner_action_needed,
    format_since,
    reauth_on_auth_failure,
)
from .health import CLOUD_FAILURES, CloudHealth, HealthState
from .polling import PollingSettings
from .snapshot import VehicleSnapshot
from .store import LastKnownStore

ACCOUNT_REFRESH_INTERVAL = timedelta(hours=3)
"""How often the vehicle list is fetched when all is well (new and removed vehicles)."""
OUTAGE_ISSUE_DELAY = 600.0
"""Seconds of outage after which a repair issue explains what is happening."""
OUTAGE_ISSUE_ID = "cloud_outage"

type HealthListener = Callable[[HealthState, HealthState], None]
"""Called with the previous and the new state whenever the cloud health changes."""


class AccountCoordinator(DataUpdateCoordinator[dict[str, VehicleSummary]]):
    """The account's vehicle list, its vehicles, and the account-wide outage handling."""

    config_entry: TeslaResilientConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: TeslaResilientConfigEntry,
        *,
        client: TeslaFleetClient,
        health: CloudHealth,
        store: LastKnownStore,
        initial: dict[str, VehicleSummary],
        clock: Callable[[], float] = wall_clock,
    ) -> None:
        """Start from the vehicle list ``initial`` (fetched or restored from the store).

        ``store`` keeps the vehicles' last known state and the start of an outage
        across a restart.
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
        self.store = store
        self.vehicles: dict[str, VehicleCoordinator] = {}
        self._clock = clock
        self._unsub_issue: CALLBACK_TYPE | None = None
        self._health_listeners: list[HealthListener] = []
        self._issue_raised = False

    async def _async_update_data(self) -> dict[str, VehicleSummary]:
        """Fetch the vehicle list; during an outage this is the cheap probe."""
        if not self.health.can_attempt():
            self._set_probe_interval()
            return self.data
        try:
            with reauth_on_auth_failure():
                summaries = await self.client.vehicles()
        except CLOUD_FAILURES as err:
            self.report_failure(err)
            self._set_probe_interval()
            return self.data
        except TeslaError as err:
            LOGGER.debug("Vehicle list not available: %s", type(err).__name__)
            async_owner_action_needed(self.hass, self.config_entry, err)
            return self.data
        self.report_success()
        self._set_probe_interval()
        return {summary.id: summary for summary in summaries}

    def _set_probe_interval(self) -> None:
        """Probe when the wait is over (not a whole backoff later); else every 3 h."""
        if self.health.state is HealthState.OK and self.health.wait_time() is None:
            self.update_interval = ACCOUNT_REFRESH_INTERVAL
        else:
            self.update_interval = interval(self.health.retry_after_failure())

    # -- vehicles ------------------------------------------------------------------

    @callback
    def async_add_vehicle(
        self,
        summary: VehicleSummary,
        cached: VehicleSnapshot | None = None,
        *,
        seed: bool,
    ) -> VehicleCoordinator:
        """Create the coordinator of the vehicle ``summary`` and add it to the account.

        ``cached``: its last known state from the store. ``seed``: ``summary`` comes
        fresh from the cloud, so its sleep state spares the first update a sleep check.
        """
        vehicle = VehicleCoordinator(
            self.hass,
            self.config_entry,
            client=self.client,
            account=self,
            store=self.store,
            snapshot=(
                cached.as_cache()
                if cached is not None
                else VehicleSnapshot.initial(
                    summary.id, summary.vin, summary.display_name
                )
            ),
            settings=PollingSettings.from_options(self.config_entry.options),
        )
        if seed:
            vehicle.async_seed_state(summary.state)
        self.vehicles[summary.id] = vehicle
        return vehicle

    @callback
    def async_remove_stale_devices(self) -> None:
        """Remove the devices of vehicles no longer on the account."""
        async_remove_stale_devices(
            self.hass,
            self.config_entry,
            {summary.vin for summary in self.data.values()},
        )

    @callback
    def async_sync_vehicles(self) -> None:
        """Follow vehicles added to or removed from the account (a listener)."""
        entry = self.config_entry
        removed = [v for v in self.vehicles if v not in self.data]
        for vehicle_id in removed:
            vehicle = self.vehicles.pop(vehicle_id)
            LOGGER.info("A vehicle was removed from the Tesla account")
            self.store.remove(vehicle_id)
            entry.async_create_background_task(
                self.hass, vehicle.async_shutdown(), name=f"{DOMAIN} remove vehicle"
            )
        if removed:
            self.async_remove_stale_devices()
        for vehicle_id, summary in self.data.items():
            if vehicle_id in self.vehicles:
                continue
            LOGGER.info("A vehicle was added to the Tesla account")
            # The account just fetched the list: its sleep state is current.
            vehicle = self.async_add_vehicle(summary, seed=True)
            async_dispatcher_send(
                self.hass, signal_new_vehicle(entry.entry_id), vehicle
            )
            entry.async_create_background_task(
                self.hass, vehicle.async_refresh(), name=f"{DOMAIN} new vehicle"
            )

    # -- outages -------------------------------------------------------------------

    @callback
    def async_retry_later(self) -> None:
        """Fetch again after the cloud health's retry delay (set-up from the store)."""
        self._set_probe_interval()
        for vehicle in self.vehicles.values():
            vehicle.async_retry_later()

    @callback
    def async_resume_outage(self, since: float) -> None:
        """Continue an outage that started at ``since`` before a restart (set-up).

        Entities show it at once (``cloud_connection`` off, data source cache) and the
        repair issue keeps the original start; only the account probes the cloud.
        """
        previous = self.health.state
        self.health.resume_outage(since)
        self._outage_started(previous)

    @property
    def in_outage(self) -> bool:
        """Whether the account's cloud is in an outage."""
        return self.health.state is HealthState.OUTAGE

    @callback
    def async_listen_health(self, listener: HealthListener) -> CALLBACK_TYPE:
        """Call ``listener`` when the cloud health changes, until the returned call."""
        self._health_listeners.append(listener)

        @callback
        def unsubscribe() -> None:
            if listener in self._health_listeners:
                self._health_listeners.remove(listener)

        return unsubscribe

    @callback
    def report_success(self) -> None:
        """Record a successful request; tell the listeners when the health recovers.

        Tesla answered, so the developer account is paid: no billing repair issue.
        """
        async_billing_settled(self.hass, self.config_entry)
        since, previous = self.health.outage_since, self.health.state
        if self.health.record_success():
            self._outage_ended(since)
        elif previous is not HealthState.OK:
            self._notify(previous)

    @callback
    def report_failure(self, err: TeslaError) -> None:
        """Record a failed request; tell the listeners at once when health worsens."""
        previous = self.health.state
        if self.health.record_failure(err):
            self._outage_started(previous)
        elif self.health.state is not previous:
            self._notify(previous)

    @callback
    def _outage_started(self, previous: HealthState) -> None:
        since = self.health.outage_since
        if since is None:  # pragma: no cover - CloudHealth sets it with the outage
            since = self._clock()
        self.store.async_outage_changed()
        # Logged once per outage (CloudHealth reports its start once).
        LOGGER.info(
            "Tesla cloud unreachable since %s; showing the last known vehicle state",
            format_since(since),
        )
        self._notify(previous)
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
    def _outage_ended(self, since: float | None) -> None:
        minutes = (
            max(0, round((self._clock() - since) / 60)) if since is not None else 0
        )
        LOGGER.info(
            "Tesla cloud reachable again after %d minutes; refreshing every vehicle",
            minutes,
        )
        self._cancel_issue_timer()
        self._issue_raised = False
        ir.async_delete_issue(self.hass, DOMAIN, self.issue_id)
        self.store.async_outage_changed()
        self._set_probe_interval()
        self._notify(HealthState.OUTAGE)

    @callback
    def _notify(self, previous: HealthState) -> None:
        for listener in list(self._health_listeners):
            listener(previous, self.health.state)

    @callback
    def _create_issue(self, _now: datetime) -> None:
        self._unsub_issue = None
        if not self.in_outage:  # pragma: no cover - the timer is cancelled on recovery
            return
        self._issue_raised = True
        self.async_update_outage_issue()

    @callback
    def async_update_outage_issue(self) -> None:
        """Raise (or re-word) the outage repair issue once it is due.

        It says which cars Bluetooth covers (in range: their state is live and they
        take commands without the cloud); a link calls this when its car comes into
        or leaves range.
        """
        if not self._issue_raised or not self.in_outage:
            return
        covered = sorted(
            vehicle.data.display_name or vehicle.vehicle_id
            for vehicle in self.vehicles.values()
            if vehicle.bluetooth is not None and vehicle.bluetooth.in_range
        )
        placeholders = {
            "since": format_since(self.health.outage_since),
            "account": self.config_entry.title,
        }
        if covered:
            placeholders["cars"] = ", ".join(covered)
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=f"{OUTAGE_ISSUE_ID}_bluetooth"
            if covered
            else OUTAGE_ISSUE_ID,
            translation_placeholders=placeholders,
        )

    @property
    def issue_id(self) -> str:
        """Id of this entry's outage repair issue."""
        return f"{OUTAGE_ISSUE_ID}_{self.config_entry.entry_id}"

    def _cancel_issue_timer(self) -> None:
        if self._unsub_issue is not None:
            self._unsub_issue()
            self._unsub_issue = None

    async def async_shutdown(self) -> None:
        """Cancel the repair issue timer too."""
        self._cancel_issue_timer()
        await super().async_shutdown()
