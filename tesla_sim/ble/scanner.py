"""A habluetooth remote scanner that hears the simulated cars, as a Bluetooth proxy would.

``SimRemoteScanner`` polls the simulator's advertisements (every second once started;
``async_poll_once`` for tests) and feeds each one to habluetooth with the details
``{"source": <scanner source>, "sim_url": <simulator base URL>}``; connections go through
``make_connector``'s :class:`SimBleakClient`. Register it with Home Assistant's
``bluetooth.async_register_scanner(hass, scanner, connection_slots=3)``.
"""

import asyncio
from collections.abc import Callable
import contextlib
import logging
from typing import Any

import aiohttp
from bluetooth_data_tools import monotonic_time_coarse
from habluetooth import BaseHaRemoteScanner, HaBluetoothConnector

from .bleak_client import SimBleakClient

POLL_SECONDS = 1.0
_LOGGER = logging.getLogger(__name__)


def make_connector(source: str) -> HaBluetoothConnector:
    """How habluetooth connects through the scanner ``source``."""
    return HaBluetoothConnector(
        client=SimBleakClient, source=source, can_connect=lambda: True
    )


class SimRemoteScanner(BaseHaRemoteScanner):
    """A remote scanner in range of the simulator's cars."""

    def __init__(
        self, source: str, sim_url: str, *, interval: float = POLL_SECONDS
    ) -> None:
        """A connectable scanner named ``source`` hearing the simulator at ``sim_url``."""
        super().__init__(source, source, make_connector(source), connectable=True)
        self.sim_url = sim_url.rstrip("/")
        self.interval = interval
        self._poller: asyncio.Task[None] | None = None

    async def async_poll_once(self) -> list[dict[str, Any]]:
        """Fetch the advertisements once and report them; returns them."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.sim_url}/__sim__/ble/advertisements") as response,
        ):
            response.raise_for_status()
            heard: list[dict[str, Any]] = await response.json()
        now = monotonic_time_coarse()
        for advert in heard:
            self._async_on_advertisement(
                advert["address"],
                int(advert["rssi"]),
                advert["local_name"],
                [],
                {},
                {},
                None,
                {"source": self.source, "sim_url": self.sim_url},
                now,
            )
        return heard

    async def _poll(self) -> None:
        while True:
            try:
                await self.async_poll_once()
            except (aiohttp.ClientError, OSError) as err:
                _LOGGER.debug("%s: cannot poll the simulator: %s", self.source, err)
            await asyncio.sleep(self.interval)

    def async_start(self) -> Callable[[], None]:
        """Poll in the background; returns the function that stops it."""
        if self._poller is None:
            self._poller = asyncio.get_running_loop().create_task(self._poll())
        return self.async_stop_polling

    def async_stop_polling(self) -> None:
        """Stop polling."""
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()

    async def async_stop(self) -> None:
        """Stop polling and wait for it to end."""
        poller = self._poller
        self.async_stop_polling()
        if poller is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await poller
