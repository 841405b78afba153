"""Pairing a car over Bluetooth: the account's config subentry ``bluetooth``.

One subentry per car (``unique_id`` the VIN, data the VIN and the car's Bluetooth
address) that the runtime follows over Bluetooth. The flow:

1. ``user``: the owner picks one of the account's cars not yet paired over Bluetooth.
   Home Assistant looks for it among the connectable advertisements of its adapters and
   proxies, by the local name derived from the VIN (an active scan first when it is not
   there: the name is in the scan response only). Not found, or heard too faintly, the
   form says so and the owner tries again.
2. The car is asked whether it knows the app key already (a key added on Tesla's page,
   or an earlier pairing): then the subentry is made at once.
3. ``instructions``: otherwise the owner sits in the car with a key card; on submit the
   ``pair`` progress step sends the key (a whitelist add) and waits for the card's tap
   on the console (:data:`PAIR_TIMEOUT`). No tap, a refusal on the screen, no free
   connection, the car out of reach: back to the instructions with the reason.

``reconfigure`` finds the subentry's car again (a new address) and keeps the key: the
car is asked whether it still knows it, and paired again only if not.

Nothing here logs the VIN, the address or the key. Home Assistant's Bluetooth integration
is imported only once the flow runs and finds it set up (``after_dependencies``: the
integration itself loads without it).
"""

import asyncio
from typing import Any

from bleak.backends.device import BLEDevice
from habluetooth import BluetoothServiceInfoBleak
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import probatio

from .api import (
    BluetoothSlotsFull,
    BluetoothTimeout,
    BluetoothUnavailable,
    BluetoothVehicle,
    PairingDeclined,
    PairingFailed,
    PairingTimedOut,
    TeslaError,
    is_vehicle_name,
)
from .const import CONF_ADDRESS, CONF_VIN, LOGGER, SUBENTRY_BLUETOOTH
from .keys import async_get_app_key

PAIR_TIMEOUT = 60.0
"""Seconds the pairing waits for the key card's tap on the console."""
MIN_RSSI = -85
"""The faintest signal (dBm) a car is paired at: fainter links drop while pairing."""

_ERRORS: tuple[tuple[type[TeslaError], str], ...] = (
    (PairingTimedOut, "no_tap"),
    (PairingDeclined, "declined"),
    (PairingFailed, "pair_failed"),
    (BluetoothSlotsFull, "no_slot"),
    (BluetoothUnavailable, "car_not_found"),
    (BluetoothTimeout, "no_answer"),
)
"""A Bluetooth error's form error, most specific first."""


def pairing_error_key(err: TeslaError) -> str:
    """The form's error key for an error of a Bluetooth check or pairing."""
    key = next((key for kind, key in _ERRORS if isinstance(err, kind)), "unknown")
    LOGGER.debug("Bluetooth pairing: %s (%s)", key, type(err).__name__)
    return key


def unpaired_cars(entry: ConfigEntry) -> dict[str, str]:
    """The loaded entry's cars without a Bluetooth subentry: VIN -> name."""
    paired = {sub.unique_id for sub in entry.get_subentries_of_type(SUBENTRY_BLUETOOTH)}
    return {
        vehicle.vin: vehicle.data.display_name or vehicle.vin
        for vehicle in entry.runtime_data.vehicles.values()
        if vehicle.vin not in paired
    }


class BluetoothPairingFlow(ConfigSubentryFlow):
    """Find one car over Bluetooth and add the app key to its keys."""

    def __init__(self) -> None:
        """Start with no car chosen."""
        self._vin = ""
        self._title = ""
        self._address = ""
        self._paired = False
        self._error: str | None = None
        """The error of the last pairing, shown by the instructions."""
        self._pair_task: asyncio.Task[str | None] | None = None

    # ------------------------------------------------------------------ entry points

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Pick a car and find it over Bluetooth."""
        if not self._has_scanner():
            return self.async_abort(reason="no_scanner")
        entry = self._get_entry()
        if entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        if not (cars := unpaired_cars(entry)):
            return self.async_abort(reason="all_paired")
        errors: dict[str, str] = {}
        if user_input is not None:
            self._vin = user_input[CONF_VIN]
            self._title = cars[self._vin]
            if (error := await self._async_check()) is None:
                return await self._async_after_check()
            errors["base"] = error
        options = [
            SelectOptionDict(value=vin, label=name) for vin, name in cars.items()
        ]
        schema = probatio.Schema(
            {
                probatio.Required(
                    CONF_VIN, default=self._vin or next(iter(cars))
                ): SelectSelector(
                    SelectSelectorConfig(
                        options=options, mode=SelectSelectorMode.DROPDOWN
                    )
                )
            }
        )
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Find the subentry's car again; pair it again only if it lost the key."""
        if not self._has_scanner():
            return self.async_abort(reason="no_scanner")
        subentry = self._get_reconfigure_subentry()
        self._vin, self._title = subentry.data[CONF_VIN], subentry.title
        errors: dict[str, str] = {}
        if user_input is not None:
            if (error := await self._async_check()) is None:
                return await self._async_after_check()
            errors["base"] = error
        return self.async_show_form(
            step_id="reconfigure",
            errors=errors,
            description_placeholders={"car": self._title},
        )

    def _has_scanner(self) -> bool:
        """Whether an adapter or a proxy can connect to a car (Bluetooth set up)."""
        if "bluetooth" not in self.hass.config.components:
            return False
        from homeassistant.components import bluetooth  # noqa: PLC0415 - see the docstring

        return bool(bluetooth.async_scanner_count(self.hass, connectable=True))

    # -------------------------------------------------------------- find and check

    async def _async_check(self) -> str | None:
        """Find the car and ask whether it knows the app key: an error key, or None."""
        from homeassistant.components import bluetooth  # noqa: PLC0415 - see the docstring

        info = self._advertisement()
        if info is None:
            await bluetooth.async_request_active_scan(self.hass)
            info = self._advertisement()
        if info is None:
            return "car_not_found"
        if info.rssi < MIN_RSSI:
            return "weak_signal"
        self._address = info.address
        vehicle = await self._async_vehicle(info.device)
        try:
            self._paired = await vehicle.is_paired()
        except TeslaError as err:
            return pairing_error_key(err)
        finally:
            await vehicle.disconnect()
        return None

    def _advertisement(self) -> BluetoothServiceInfoBleak | None:
        """The car's latest connectable advertisement (its name is the VIN's)."""
        from homeassistant.components import bluetooth  # noqa: PLC0415 - see the docstring

        return next(
            (
                info
                for info in bluetooth.async_discovered_service_info(
                    self.hass, connectable=True
                )
                if is_vehicle_name(info.name, self._vin)
            ),
            None,
        )

    async def _async_vehicle(self, device: BLEDevice) -> BluetoothVehicle:
        """The car over Bluetooth with the app key."""
        key = await async_get_app_key(self.hass)
        return BluetoothVehicle(self._vin, key.private_key, device)

    async def _async_after_check(self) -> SubentryFlowResult:
        """Done when the car knows the key; else show how to pair it."""
        if self._paired:
            return self._async_done()
        return await self.async_step_instructions()

    # ---------------------------------------------------------------------- pairing

    async def async_step_instructions(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Tell the owner what to do at the car (and why the last try failed)."""
        if user_input is not None:
            return await self.async_step_pair()
        errors = {"base": self._error} if self._error else {}
        self._error = None
        return self.async_show_form(
            step_id="instructions",
            errors=errors,
            description_placeholders={"car": self._title},
        )

    async def async_step_pair(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Send the key and wait for the owner's tap on the console."""
        if self._pair_task is None:
            from homeassistant.components import bluetooth  # noqa: PLC0415 - see the docstring

            device = bluetooth.async_ble_device_from_address(
                self.hass, self._address, connectable=True
            )
            if device is None:  # no longer heard
                self._error = "car_not_found"
                return await self.async_step_instructions()
            self._pair_task = self.hass.async_create_task(self._async_pair(device))
        if not self._pair_task.done():
            return self.async_show_progress(
                step_id="pair",
                progress_action="pair",
                progress_task=self._pair_task,
                description_placeholders={"car": self._title},
            )
        self._error, self._pair_task = self._pair_task.result(), None
        return self.async_show_progress_done(
            next_step_id="instructions" if self._error else "paired"
        )

    async def _async_pair(self, device: BLEDevice) -> str | None:
        """Add the key to the car's keys: the error key, or None once it is added."""
        vehicle = await self._async_vehicle(device)
        try:
            await vehicle.pair(timeout=PAIR_TIMEOUT)
        except TeslaError as err:
            return pairing_error_key(err)
        finally:
            await vehicle.disconnect()
        return None

    async def async_step_paired(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The car took the key."""
        return self._async_done()

    @callback
    def _async_done(self) -> SubentryFlowResult:
        """Make the subentry, or update the reconfigured one."""
        data = {CONF_VIN: self._vin, CONF_ADDRESS: self._address}
        if self.source == SOURCE_RECONFIGURE:
            return self.async_update_and_abort(
                self._get_entry(), self._get_reconfigure_subentry(), data=data
            )
        return self.async_create_entry(
            title=self._title, data=data, unique_id=self._vin
        )
