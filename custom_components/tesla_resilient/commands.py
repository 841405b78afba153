"""A vehicle's commands, wake and Refresh: never sent twice, errors translated."""

import asyncio
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .api import CommandSigning, RateLimited, VehicleAsleep, VehicleState
from .ble_commands import async_send_bluetooth, async_wake_bluetooth, bluetooth_takes
from .errors import (
    cloud_unreachable,
    command_errors,
    format_since,
    rate_limited,
    translated_error,
)
from .polling import next_poll
from .router import CommandRouter

if TYPE_CHECKING:
    from .coordinator import VehicleCoordinator


class VehicleCommands:
    """Sends the commands of one vehicle through its router (signed or REST).

    One command or wake at a time, so a sleeping car gets one ``wake_up``. Fails fast
    during an outage; nothing is queued or retried after a failure that may have
    reached the car.
    """

    def __init__(self, vehicle: VehicleCoordinator) -> None:
        """Send the commands of ``vehicle``."""
        self._vehicle = vehicle
        self._lock = asyncio.Lock()
        self.router = CommandRouter(
            vehicle.hass,
            vehicle.client,
            entry_id=vehicle.config_entry.entry_id,
            vehicle_id=vehicle.vehicle_id,
            vin=vehicle.vin,
            signing=self._signing,
        )

    def _signing(self) -> CommandSigning:
        """The car's ``command_signing`` from the account's vehicle list."""
        vehicle = self._vehicle
        summary = vehicle.account.data.get(vehicle.vehicle_id)
        return CommandSigning.UNKNOWN if summary is None else summary.command_signing

    @property
    def busy(self) -> bool:
        """Whether a command or wake is under way."""
        return self._lock.locked()

    def raise_if_outage(self, name: str | None = None) -> None:
        """Refuse at once (translated) while the account's cloud is in an outage.

        Not the command ``name`` when the car in range takes it over Bluetooth.
        """
        account = self._vehicle.account
        if name is not None and bluetooth_takes(self._vehicle, name):
            return
        if account.in_outage:
            raise cloud_unreachable(account.health.outage_since)

    async def async_send(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        optimistic: Mapping[str, Any] | None = None,
    ) -> None:
        """Send a command; wake the car only when it answers that it sleeps (408).

        The command goes first even when the car was last seen asleep: the owner may
        have woken it since, and ``wake_up`` costs ten data requests. A car that
        accepts it woke by itself (the owner's activity). ``optimistic`` flattened
        values are shown at once and one confirming refresh follows
        ``settings.confirm_delay`` seconds later.
        """
        vehicle = self._vehicle
        async with self._lock:
            self.raise_if_outage(name)
            if await async_send_bluetooth(vehicle, name, params, optimistic):
                return
            self.raise_if_outage()
            previous = vehicle.data.state
            woken = False
            with self._errors():
                try:
                    await self.router.async_send(name, params)
                except VehicleAsleep:
                    # Not delivered: the car sleeps. Wake it and send once more.
                    await self._async_wake(for_command=True)
                    woken = True
                    await self.router.async_send(name, params)
            vehicle.account.report_success()
            now = vehicle.clock()
            memory = vehicle.memory
            if not woken and previous is not VehicleState.ONLINE:
                # Online without our wake_up: someone woke it (and is probably at it).
                memory = memory.after_sleep_check(
                    VehicleState.ONLINE, now, previous=previous
                )
            vehicle.memory = memory.after_command(now)
            # The policy schedules the one confirming vehicle_data (confirm_delay).
            vehicle.schedule(
                next_poll(vehicle.data, vehicle.memory, now, vehicle.settings).delay
            )
            snapshot = vehicle.data
            if snapshot.state is not VehicleState.ONLINE:
                snapshot = snapshot.with_state(VehicleState.ONLINE, now)
            if optimistic:
                snapshot = snapshot.with_values(optimistic)
            vehicle.async_publish(snapshot, always=True)

    async def async_refresh(self) -> None:
        """The owner's Refresh: one real ``vehicle_data`` request, whatever the backoff.

        Sent also during an outage or a failing streak (the owner asked; an answer of
        500 and more or none at all is not billed), never during a 429's
        ``Retry-After``. Raises a translated error when it was refused or failed; the
        values shown are then the last known state.
        """
        health = self._vehicle.account.health
        if (wait := health.rate_limit_wait()) is not None:
            raise rate_limited(wait)
        failure = await self._vehicle.async_request_now()
        if isinstance(failure, RateLimited):
            raise rate_limited(failure.retry_after)
        if failure is not None:
            since = health.outage_since or health.first_failure_at
            raise translated_error(
                "refresh_unreachable", {"since": format_since(since)}
            )

    async def async_wake(self) -> None:
        """Wake the car (wake button or action), wait until online, then fetch its data."""
        async with self._lock:
            self.raise_if_outage("wake_up")
            if await async_wake_bluetooth(self._vehicle):
                return
            await self._async_wake(for_command=False)

    async def _async_wake(self, *, for_command: bool) -> None:
        """Wake the car and wait (bounded) until it is online.

        A wake for a command is not recorded as the car waking by itself: the
        command's confirming ``vehicle_data`` follows anyway. The caller holds the
        lock.
        """
        vehicle = self._vehicle
        self.raise_if_outage()
        previous = vehicle.data.state
        with self._errors():
            summary = await vehicle.client.wake_up(vehicle.vehicle_id)
            checks = max(1, round(vehicle.wake_timeout / vehicle.wake_check_interval))
            while summary.state is not VehicleState.ONLINE:
                if checks <= 0:
                    raise VehicleAsleep  # translated: the car did not wake
                checks -= 1
                await asyncio.sleep(vehicle.wake_check_interval)
                summary = await vehicle.client.vehicle(vehicle.vehicle_id)
        vehicle.account.report_success()
        now = vehicle.clock()
        snapshot = vehicle.data.with_state(VehicleState.ONLINE, now)
        if for_command:
            vehicle.memory = replace(vehicle.memory, last_sleep_check=now)
        else:
            vehicle.memory = vehicle.memory.after_sleep_check(
                VehicleState.ONLINE, now, previous=previous
            )
            vehicle.schedule(
                next_poll(snapshot, vehicle.memory, now, vehicle.settings).delay
            )
        vehicle.async_publish(snapshot, always=True)

    def _errors(self) -> AbstractContextManager[None]:
        """Translate a command's or wake's cloud errors (auth failure: reauth)."""
        vehicle = self._vehicle
        health = vehicle.account.health
        return command_errors(
            vehicle.hass,
            vehicle.config_entry,
            on_cloud_failure=vehicle.account.report_failure,
            since=lambda: (
                vehicle.clock() if health.outage_since is None else health.outage_since
            ),
        )
