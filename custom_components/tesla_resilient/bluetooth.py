"""The local path to a car: Home Assistant's Bluetooth stack and the car's link.

One :class:`BluetoothLink` per car with a Bluetooth subentry (made by the pairing
flow). It follows the car's advertisements (``bluetooth.async_register_callback`` on
its address, every scanner: in range and signal strength; a full car advertises
non-connectable) and ``bluetooth.async_track_unavailable`` (out of range). While the
car is in range it reads the car's vehicle-security status on the schedule of
:mod:`.ble_policy` (asleep too, without waking it), charge and climate too when the
car is awake, and listens to the car's broadcasts for a short window after each read
and each command; the values go into the vehicle's snapshot with the data source
``ble`` (per key: :meth:`.snapshot.VehicleSnapshot.source_of`). Connections are short:
HA's ``establish_connection`` (in the api client) picks an adapter or a proxy with a
free slot each time, and the link lets go after the window.

The vehicle's coordinator asks the link first (:meth:`BluetoothLink.async_poll`): its
sleep checks and ``vehicle_data`` go over Bluetooth while the car is in range, so the
cloud's sleep checks pause while Bluetooth knows the car asleep. Commands go
Bluetooth-first (:mod:`.ble_commands`).
"""

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from homeassistant.components import bluetooth
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .api import (
    BLE_COMMANDS,
    BleStatus,
    BluetoothSlotsFull,
    BluetoothTimeout,
    BluetoothUnavailable,
    BluetoothVehicle,
    VehicleState,
)
from .ble_listen import BroadcastWindow
from .ble_policy import (
    BleAction,
    BleMemory,
    BleSettings,
    is_fresh,
    knows_asleep,
    next_read,
    reads_data,
    slots_full,
)
from .const import DOMAIN, LOGGER
from .keys import async_get_app_key
from .polling import PollAction, next_poll
from .snapshot import DataSource, VehicleSnapshot

if TYPE_CHECKING:
    from .coordinator import VehicleCoordinator

READ_FAILURES = (BluetoothUnavailable, BluetoothTimeout)
"""A read that reached nothing or got no answer: try again later, the cloud meanwhile."""


class BluetoothLink:
    """The Bluetooth path to one car: range, reads, broadcasts and commands."""

    def __init__(
        self,
        hass: HomeAssistant,
        vehicle: VehicleCoordinator,
        address: str,
        *,
        settings: BleSettings | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Follow the car of ``vehicle`` at the Bluetooth ``address`` (on its clock)."""
        self.hass = hass
        self._vehicle = vehicle
        self.address = address
        self.settings = settings or BleSettings()
        self.clock = clock or vehicle.clock  # the times go into the vehicle's memory
        self.memory = BleMemory()
        self._car: BluetoothVehicle | None = None
        self._lock = asyncio.Lock()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._timer: CALLBACK_TYPE | None = None
        self._window = BroadcastWindow(
            hass,
            self.settings,
            lambda: self.clock(),  # noqa: PLW0108 - the clock may be replaced
            self._on_broadcast,
            self._on_window_end,
        )
        self._task: asyncio.Task[None] | None = None
        self.reads = 0
        """Status reads since set-up (diagnostics)."""

    # -- range ------------------------------------------------------------------------

    @property
    def listening(self) -> bool:
        """Broadcasts are being heard (a listen window is open)."""
        return self._window.is_open

    @property
    def in_range(self) -> bool:
        """Whether the car's advertisements are being heard."""
        return self.memory.in_range

    @property
    def rssi(self) -> int | None:
        """Signal strength of the last advertisement (dBm), while in range."""
        return self.memory.rssi if self.memory.in_range else None

    @callback
    def async_start(self) -> None:
        """Follow the car's advertisements (the last one known counts at once)."""
        self._unsubs.append(
            bluetooth.async_register_callback(
                self.hass,
                self._on_advertisement,
                bluetooth.BluetoothCallbackMatcher(
                    address=self.address, connectable=False
                ),
                bluetooth.BluetoothScanningMode.ACTIVE,
            )
        )
        self._unsubs.append(
            bluetooth.async_track_unavailable(
                self.hass, self._on_unavailable, self.address, connectable=False
            )
        )
        if (
            info := bluetooth.async_last_service_info(self.hass, self.address, False)
        ) is not None:
            self._on_advertisement(info, bluetooth.BluetoothChange.ADVERTISEMENT)

    async def async_stop(self) -> None:
        """Stop following the car and let go of any connection."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._cancel_timer()
        if self._task is not None:
            self._task.cancel()
        await self._async_end_window()

    @callback
    def _on_advertisement(
        self,
        info: bluetooth.BluetoothServiceInfoBleak,
        _change: bluetooth.BluetoothChange,
    ) -> None:
        before = self.memory
        self.memory = before.after_advertisement(
            rssi=info.rssi, connectable=info.connectable
        )
        if not before.in_range:
            LOGGER.debug("Vehicle %s in Bluetooth range", self._vehicle.vehicle_id)
            self._vehicle.account.async_update_outage_issue()
        if before.rssi != info.rssi or not before.in_range:
            self._vehicle.async_update_listeners()
        if self._timer is None or before.connectable != info.connectable:
            self._schedule()

    @callback
    def _on_unavailable(self, _info: bluetooth.BluetoothServiceInfoBleak) -> None:
        LOGGER.debug("Vehicle %s out of Bluetooth range", self._vehicle.vehicle_id)
        self.memory = self.memory.after_unavailable()
        self._schedule()  # nothing to read out of range
        vehicle = self._vehicle
        vehicle.account.async_update_outage_issue()
        if vehicle.data.source is DataSource.BLE and vehicle.account.in_outage:
            vehicle.async_publish(vehicle.data.as_cache(), always=True)
        elif not vehicle.account.in_outage:
            # It may be driving away: the cloud looks once now.
            vehicle.memory = replace(vehicle.memory, force_data=True)
            vehicle.config_entry.async_create_background_task(
                self.hass, vehicle.async_request_refresh(), name=f"{DOMAIN} left range"
            )
        vehicle.async_update_listeners()

    # -- the schedule --------------------------------------------------------------

    @callback
    def _schedule(self) -> None:
        """Arm the timer of the next read as the policy says."""
        self._cancel_timer()
        decision = next_read(self.memory, self.clock(), self.settings)
        if decision.action is BleAction.NOTHING or decision.delay is None:
            return
        self._timer = async_call_later(self.hass, decision.delay, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._timer = None
        if self._task is not None and not self._task.done():
            return
        self._task = self._vehicle.config_entry.async_create_background_task(
            self.hass, self._async_scheduled_read(), name=f"{DOMAIN} bluetooth read"
        )

    async def _async_scheduled_read(self) -> None:
        vehicle = self._vehicle
        # The vehicle-security status only: an infotainment read keeps the car awake
        # like a cloud ``vehicle_data``, so only the coordinator's policy asks for one.
        if (read := await self._async_read(vehicle.data, data=False)) is not None:
            vehicle.async_publish(read[0], always=True)
        self._schedule()

    @callback
    def async_want_read(self) -> None:
        """Read (and listen) at once: after a command."""
        self.memory = self.memory.want_read()
        self._schedule()

    # -- reads ------------------------------------------------------------------------

    async def _async_car(self) -> BluetoothVehicle:
        """The car's client, on the best connectable path Home Assistant knows now."""
        device = bluetooth.async_ble_device_from_address(
            self.hass, self.address, connectable=True
        )
        if device is None or not self.memory.connectable:
            # In range (the callers ask), but a car whose three connections are
            # taken advertises non-connectable.
            raise BluetoothSlotsFull("No free Bluetooth connection to the car")
        if self._car is None:
            key = await async_get_app_key(self.hass)
            self._car = BluetoothVehicle(self._vehicle.vin, key.private_key, device)
        else:
            self._car.set_device(device)
        return self._car

    async def _async_read(
        self, snapshot: VehicleSnapshot, *, data: bool
    ) -> tuple[VehicleSnapshot, bool] | None:
        """Read the status and (``data``, awake) charge and climate: ``(snapshot, values
        read)``.

        ``None`` when the read failed. Records the read in the link's and the
        vehicle's memories and listens to the car's broadcasts for a while.
        """
        try:
            async with self._lock:
                car = await self._async_car()
                status = await car.status()
                awake = (
                    await car.read_awake()
                    if data and status.state is VehicleState.ONLINE
                    else None
                )
        except READ_FAILURES as err:
            LOGGER.debug(
                "Vehicle %s not read over Bluetooth: %s",
                self._vehicle.vehicle_id,
                type(err).__name__,
            )
            self._note_slots(err)
            self.memory = self.memory.after_failure(self.clock())
            self._schedule()  # the retry
            return None
        self.reads += 1
        now = self.clock()
        snapshot = self._apply_status(snapshot, status, now)
        if awake is not None:
            snapshot = snapshot.with_ble(awake.values, None, now)
            vehicle = self._vehicle
            vehicle.memory = vehicle.memory.after_vehicle_data(
                snapshot.data or awake, now
            )
        self._listen()
        return snapshot, awake is not None

    def _apply_status(
        self, snapshot: VehicleSnapshot, status: BleStatus, now: float
    ) -> VehicleSnapshot:
        """The snapshot after a status; the cloud's next poll moves accordingly."""
        vehicle = self._vehicle
        state = None if status.state is VehicleState.UNKNOWN else status.state
        self.memory = self.memory.after_status(state or snapshot.state, now)
        if state is not None:
            vehicle.memory = vehicle.memory.after_sleep_check(
                state, now, previous=snapshot.state
            )
        snapshot = snapshot.with_ble(status.values.values, state, now)
        if not vehicle.account.in_outage and not vehicle.updating:
            decision = next_poll(
                snapshot,
                vehicle.memory,
                now,
                vehicle.settings,
                vehicle.account.health.wait_time(),
            )
            vehicle.schedule(decision.delay)
        return snapshot

    async def async_poll(
        self, snapshot: VehicleSnapshot, action: PollAction
    ) -> tuple[VehicleSnapshot, bool]:
        """The coordinator's poll over Bluetooth: ``(snapshot, done)``.

        A sleep check is done by a status read; ``vehicle_data`` by a status read and,
        awake, charge and climate (not when last seen driving: :func:`.reads_data`). Not
        done (the cloud goes on) out of range or when the read failed, unless a recent
        status says the car sleeps (no cloud sleep check).
        """
        now = self.clock()
        memory = self.memory
        if memory.connectable and not slots_full(memory, now, self.settings):
            data = reads_data(action, snapshot.data)
            read = await self._async_read(snapshot, data=data)
            if read is not None:
                snapshot, values = read
                done = (
                    action is PollAction.SLEEP_CHECK
                    or values
                    or snapshot.state is not VehicleState.ONLINE
                )
                return snapshot, done
        if action is PollAction.SLEEP_CHECK and knows_asleep(
            self.memory, now, self.settings
        ):
            last = self.memory.last_status or now
            vehicle = self._vehicle
            vehicle.memory = vehicle.memory.after_sleep_check(
                VehicleState.ASLEEP, last, previous=snapshot.state
            )
            return snapshot, True
        return snapshot, False

    # -- broadcasts ----------------------------------------------------------------

    def _listen(self) -> None:
        """Hear the car's broadcasts for a while (:mod:`.ble_listen`)."""
        if self._car is not None:  # a read made it
            self._window.after_read(self._car)

    @callback
    def _on_broadcast(self, status: BleStatus) -> None:
        """The car said its status changed (a lock, a door, falling asleep)."""
        vehicle = self._vehicle
        now = self.clock()
        vehicle.async_publish(
            self._apply_status(vehicle.data, status, now), always=True
        )
        self._schedule()  # as good as a read

    @callback
    def _on_window_end(self) -> None:
        self._vehicle.config_entry.async_create_background_task(
            self.hass, self._async_end_window(), name=f"{DOMAIN} bluetooth disconnect"
        )

    async def _async_end_window(self) -> None:
        """Stop listening and let go of the connection (no keep-alive)."""
        self._window.close()
        if self._car is not None and not self._lock.locked():
            await self._car.disconnect()

    # -- what the rest shows ----------------------------------------------------------

    def takes(self, name: str) -> bool:
        """Whether ``name`` goes over Bluetooth now: in range, no slot recently refused."""
        full = slots_full(self.memory, self.clock(), self.settings)
        in_outage = self._vehicle.account.in_outage
        return name in BLE_COMMANDS and self.memory.in_range and (in_outage or not full)

    def _note_slots(self, err: Exception) -> None:
        """Remember a refusal for want of a free slot (commands go to the cloud)."""
        if isinstance(err, BluetoothSlotsFull):
            self.memory = self.memory.after_slots_full(self.clock())

    async def async_send(self, name: str, params: Mapping[str, Any] | None) -> None:
        """Send ``name`` over Bluetooth (``wake_up`` waits until the car is awake);
        api errors are raised as they are."""
        async with self._lock:
            try:
                car = await self._async_car()
                await (car.wake() if name == "wake_up" else car.send(name, params))
            except BluetoothSlotsFull as err:
                self._note_slots(err)
                raise

    def shown_source(self, source: DataSource) -> DataSource:
        """The data source to show: Bluetooth while it is live and the cloud is not."""
        if source is DataSource.CACHE and is_fresh(
            self.memory, self.clock(), self.settings
        ):
            return DataSource.BLE
        return source
