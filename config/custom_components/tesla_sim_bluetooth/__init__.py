"""Development only: tesla_sim's cars seen by Home Assistant's Bluetooth stack.

Not part of Tesla Resilient: ``scripts/develop`` links it into its Home Assistant
(``.develop/config/custom_components``) next to the integration and starts Home
Assistant so that it finds both there, with ``tesla_sim`` importable. It registers tesla_sim's
remote scanner (``tesla_sim.ble.scanner.SimRemoteScanner``) with Home Assistant's real
``bluetooth`` integration, as an ESPHome Bluetooth proxy with 3 connection slots would
be: the simulator's cars in Bluetooth range advertise through it, and a connection to one
is a WebSocket to the simulator (``tesla_sim.ble.bleak_client.SimBleakClient``).

    bluetooth:
    tesla_sim_bluetooth:
      url: http://127.0.0.1:8765     # the simulator (scripts/develop writes it)

Put a car in range or take it away, tap the key card while pairing:
``POST <url>/__sim__/ble/<VIN>`` ``{"in_range": true}``, ``POST <url>/__sim__/ble/<VIN>/tap``.
"""

from __future__ import annotations

import hashlib
import logging

from homeassistant.components import bluetooth
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType
import voluptuous as vol

from tesla_sim.ble.scanner import SimRemoteScanner

DOMAIN = "tesla_sim_bluetooth"
OFF = "off"
LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = vol.Schema(
    {DOMAIN: vol.Schema({vol.Optional("url", default=OFF): cv.string})},
    extra=vol.ALLOW_EXTRA,
)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the simulator's scanner (when a simulator URL is configured)."""
    url = str(config.get(DOMAIN, {}).get("url", OFF)).rstrip("/")
    if url in {"", OFF}:
        LOGGER.info("no simulator URL: the simulated cars are not over Bluetooth")
        return True
    # The proxy's address, one per simulator URL: Home Assistant restores a proxy's
    # devices with the URL they were heard from (another --sim-port must not get them).
    digest = hashlib.sha1(url.encode()).hexdigest().upper()  # noqa: S324 - a name
    source = "AA:BB:CC:" + ":".join(digest[i : i + 2] for i in range(0, 6, 2))
    scanner = SimRemoteScanner(source, url)
    unsetup = scanner.async_setup()
    unregister = bluetooth.async_register_scanner(
        hass, scanner, connection_slots=3, source_domain=DOMAIN
    )
    stop_polling = scanner.async_start()

    def stop(_event: Event) -> None:
        stop_polling()
        unregister()
        unsetup()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop)
    LOGGER.info("tesla_sim's cars over Bluetooth through %s", url)
    return True
