"""A bleak backend that reaches the simulated cars: one WebSocket per GATT connection.

``SimBleakClient`` connects to ``{sim_url}/__sim__/ble/link/{address}`` (``sim_url``
from the ``BLEDevice``'s details, as the ``SimRemoteScanner`` reports it) and exposes the
car's GATT table: the service ``...0211`` with ``...0212`` (write with response),
``...0213`` (notify), ``...0214`` (read: the protocol version) and the device name.
Writes are cut into MTU - 3 byte chunks, one binary frame each; every frame from the car
is one notification. When the car drops the link, the disconnected callback fires.

It is a backend for ``habluetooth``'s ``HaBleakClientWrapper`` (through the connector of
``scanner.make_connector``), as a remote Bluetooth proxy's client would be.
"""

import asyncio
import contextlib
from typing import Any

import aiohttp
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError

from . import (
    CHUNK_BYTES,
    DEVICE_NAME_UUID,
    LINK_PATH,
    MTU,
    NOTIFY_UUID,
    SERVICE_UUID,
    VERSION_UUID,
    WRITE_UUID,
)
from .framing import chunks

PROTOCOL_VERSION = b"\x00\x01"
REFUSALS = {404: "device not found", 503: "no free connection slot"}
"""Why the car refused, as bleak-retry-connector recognises it."""
GAP_SERVICE_UUID = "00001800-0000-1000-8000-00805f9b34fb"


def gatt_table(name: str) -> BleakGATTServiceCollection:
    """The car's GATT services: Tesla's vehicle service and the device name."""
    table = BleakGATTServiceCollection()
    gap = BleakGATTService(None, 1, GAP_SERVICE_UUID)
    vehicle = BleakGATTService(None, 16, SERVICE_UUID)
    table.add_service(gap)
    table.add_service(vehicle)
    rows: list[tuple[BleakGATTService, int, str, list[Any]]] = [
        (gap, 2, DEVICE_NAME_UUID, ["read"]),
        (vehicle, 17, WRITE_UUID, ["write"]),
        (vehicle, 19, NOTIFY_UUID, ["notify", "indicate"]),
        (vehicle, 22, VERSION_UUID, ["read"]),
    ]
    for service, handle, uuid, properties in rows:
        table.add_characteristic(
            BleakGATTCharacteristic(
                name if uuid == DEVICE_NAME_UUID else None,
                handle,
                uuid,
                properties,
                lambda: CHUNK_BYTES,
                service,
            )
        )
    return table


class SimBleakClient(BaseBleakClient):
    """A GATT connection to a simulated car (a bleak backend)."""

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        """A client of the device (its details carry ``sim_url``)."""
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            timeout=kwargs.get("timeout", 10.0),
        )
        details: Any = (
            address_or_ble_device.details
            if isinstance(address_or_ble_device, BLEDevice)
            else {}
        )
        self._name = (
            address_or_ble_device.name
            if isinstance(address_or_ble_device, BLEDevice)
            else None
        ) or self.address
        self._url = str(details.get("sim_url", "")) if isinstance(details, dict) else ""
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._notify: NotifyCallback | None = None
        self._closing = False

    @property
    def name(self) -> str:
        """The device's name."""
        return self._name

    @property
    def mtu_size(self) -> int:
        """The ATT MTU (no larger one is negotiated)."""
        return MTU

    @property
    def is_connected(self) -> bool:
        """Is the link open?"""
        return self._ws is not None and not self._ws.closed

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        """Open the link (``BleakError`` when the car refuses or cannot be reached)."""
        if not self._url:
            raise BleakError(f"{self.address}: no simulator to connect through")
        session = aiohttp.ClientSession()
        url = self._url.rstrip("/") + LINK_PATH.format(address=self.address)
        try:
            self._ws = await session.ws_connect(
                url, timeout=aiohttp.ClientWSTimeout(ws_close=self._timeout)
            )
        except aiohttp.WSServerHandshakeError as err:
            await session.close()
            raise BleakError(
                f"{self.address}: {REFUSALS.get(err.status, 'refused')}"
            ) from err
        except (aiohttp.ClientError, OSError) as err:
            await session.close()
            raise BleakError(f"{self.address}: cannot reach the simulator") from err
        self._session = session
        self._closing = False
        self.services = gatt_table(self._name)
        self._reader = asyncio.get_running_loop().create_task(self._read(self._ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Deliver notifications until the link closes; then tell who asked."""
        async for message in ws:
            if message.type != aiohttp.WSMsgType.BINARY:
                break
            if self._notify is not None:
                self._notify(bytearray(message.data))
        await self._release()
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def _release(self) -> None:
        ws, session = self._ws, self._session
        self._ws = self._session = None
        if ws is not None:
            await ws.close()
        if session is not None:
            await session.close()

    async def disconnect(self) -> None:
        """Close the link (no disconnected callback: we asked for it)."""
        self._closing = True
        reader, self._reader = self._reader, None
        await self._release()
        if reader is not None and reader is not asyncio.current_task():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """Tesla's service needs no bonding."""

    async def unpair(self) -> None:
        """Tesla's service needs no bonding."""

    async def read_gatt_char(
        self,
        characteristic: BleakGATTCharacteristic,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """The protocol version or the device name."""
        self._require_link()
        if characteristic.uuid == VERSION_UUID:
            return bytearray(PROTOCOL_VERSION)
        if characteristic.uuid == DEVICE_NAME_UUID:
            return bytearray(self._name.encode())
        raise BleakError(f"{characteristic.uuid} cannot be read")

    async def read_gatt_descriptor(
        self,
        descriptor: BleakGATTDescriptor,
        *,
        use_cached: bool = False,
        **kwargs: Any,
    ) -> bytearray:
        """The car's characteristics have no descriptors."""
        raise BleakError("no descriptors")

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        """Write ``data`` to ``...0212``, in chunks of MTU - 3 bytes."""
        ws = self._require_link()
        if characteristic.uuid != WRITE_UUID:
            raise BleakError(f"{characteristic.uuid} cannot be written")
        try:
            for chunk in chunks(bytes(data)):
                await ws.send_bytes(chunk)
        except (ConnectionError, aiohttp.ClientError) as err:
            raise BleakError(f"{self.address}: write failed") from err

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: Any
    ) -> None:
        """The car's characteristics have no descriptors."""
        raise BleakError("no descriptors")

    async def start_notify(
        self,
        characteristic: BleakGATTCharacteristic,
        callback: NotifyCallback,
        **kwargs: Any,
    ) -> None:
        """Deliver ``...0213``'s notifications to ``callback``."""
        self._require_link()
        if characteristic.uuid != NOTIFY_UUID:
            raise BleakError(f"{characteristic.uuid} does not notify")
        self._notify = callback

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Stop delivering notifications."""
        self._notify = None

    def _require_link(self) -> aiohttp.ClientWebSocketResponse:
        if self._ws is None or self._ws.closed:
            raise BleakError(f"{self.address}: not connected")
        return self._ws
