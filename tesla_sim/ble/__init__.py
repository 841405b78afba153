"""The simulated car over Bluetooth Low Energy.

A car in range advertises its local name (``"S" + sha1(vin)[:16] + "C"``) from an address
drawn from its VIN; a client connects through a WebSocket on the simulator (one per GATT
link, see ``routes``) and exchanges length-prefixed ``RoutableMessage``s in chunks of at
most MTU - 3 bytes, as over the car's GATT service.

* ``framing`` -- length prefixes, chunks and reassembly
* ``status`` -- VCSEC's ``VehicleStatus`` and infotainment's ``VehicleData`` of a car
* ``answers`` -- what the car answers over Bluetooth (on top of ``tesla_sim.vcp``)
* ``radio`` -- per car radio state, links, pairing, broadcasts, counters (``world.ble``)
* ``world`` -- the world's Bluetooth methods (``world.ble_set``, ``world.ble_tap`` ...)
* ``routes`` -- the link, the advertisements and the control routes
* ``bleak_client`` / ``scanner`` -- the client side: a bleak backend and a habluetooth
  remote scanner that reach the simulated cars
"""

import hashlib

SERVICE_UUID = "00000211-b2d1-43f0-9b88-960cebf8b91e"
WRITE_UUID = "00000212-b2d1-43f0-9b88-960cebf8b91e"
NOTIFY_UUID = "00000213-b2d1-43f0-9b88-960cebf8b91e"
VERSION_UUID = "00000214-b2d1-43f0-9b88-960cebf8b91e"
DEVICE_NAME_UUID = "00002a00-0000-1000-8000-00805f9b34fb"
MTU = 23
CHUNK_BYTES = MTU - 3
MAX_MESSAGE_BYTES = 1024
MAX_CONNECTIONS = 3
IDLE_SECONDS = 40.0
TAP_SECONDS = 30.0
LINK_PATH = "/__sim__/ble/link/{address}"


def _digest(vin: str) -> str:
    return hashlib.sha1(vin.encode()).hexdigest()  # noqa: S324 - Tesla's naming


def address_of(vin: str) -> str:
    """The car's Bluetooth address: ``02:`` and the first five bytes of SHA1(VIN)."""
    digest = _digest(vin).upper()
    return "02:" + ":".join(digest[i : i + 2] for i in range(0, 10, 2))


def local_name(vin: str) -> str:
    """The car's advertised name: ``S`` + first 8 bytes of SHA1(VIN) in hex + ``C``."""
    return "S" + _digest(vin)[:16] + "C"


__all__ = [
    "CHUNK_BYTES",
    "DEVICE_NAME_UUID",
    "IDLE_SECONDS",
    "LINK_PATH",
    "MAX_CONNECTIONS",
    "MAX_MESSAGE_BYTES",
    "MTU",
    "NOTIFY_UUID",
    "SERVICE_UUID",
    "TAP_SECONDS",
    "VERSION_UUID",
    "WRITE_UUID",
    "address_of",
    "local_name",
]
