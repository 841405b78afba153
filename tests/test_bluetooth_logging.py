"""No VIN in a log line while the integration talks to a car over Bluetooth.

tesla-fleet-api names the connection by the VIN and logs ``vin=...`` at debug level;
the integration's filter (``log_redact``) redacts the entry's VINs from every record
of the library's, bleak-retry-connector's, habluetooth's and its own loggers while the
entry is loaded. Checked as tests/test_keys.py checks the private key: at DEBUG.
"""

from datetime import timedelta
import logging

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.tesla_resilient.log_redact import (
    LOGGERS,
    REDACTOR,
    VinRedactor,
    redacted,
)
from tesla_sim import SimServer
from tesla_sim.ble.scanner import SimRemoteScanner
from tests.ble_fixtures import async_car_in_range
from tests.bluetooth_helpers import entity_id, vehicle_of, with_bluetooth
from tests.ha_fixtures import TOTP_EMAIL, make_config_entry, setup_entry, sim_car


def _ours(record: logging.LogRecord) -> bool:
    """A record of a logger the filter covers."""
    return any(
        record.name == top or record.name.startswith(f"{top}.") for top in LOGGERS
    )


async def test_no_vin_in_a_bluetooth_connect_command_and_read(
    hass: HomeAssistant,
    sim: SimServer,
    ble_scanner: SimRemoteScanner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Connect, command, read and a refused connect at DEBUG: no VIN in any record."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    stella = sim_car(sim, "Stella")
    vin = stella.vin
    await async_car_in_range(hass, ble_scanner, sim.world, vin)
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), vin)
    await setup_entry(hass, entry)  # connects and reads over Bluetooth
    lock = entity_id(hass, "lock", vin, "vehicle_state_locked")
    assert lock is not None
    await hass.services.async_call("lock", "unlock", {"entity_id": lock}, blocking=True)
    assert stella.locked is False
    link = vehicle_of(entry, vin).bluetooth
    assert link is not None
    reads = link.reads
    link.async_want_read()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=1))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert link.reads > reads
    # The link is dropped and three phones take every slot: a refused connect.
    sim.world.ble_set(vin, drop_link=True, other_clients=3)
    await ble_scanner.async_poll_once()
    await hass.services.async_call("lock", "lock", {"entity_id": lock}, blocking=True)
    await hass.async_block_till_done(wait_background_tasks=True)

    records = [record for record in caplog.records if _ours(record)]
    assert {record.name.split(".")[0] for record in records} >= {
        "tesla_fleet_api",
        "bleak_retry_connector",
        "habluetooth",
        "custom_components",
    }
    lines = [caplog.handler.format(record) for record in records]
    assert not [line for line in lines if vin in line.upper()]
    # The library did log the VIN: it shows redacted.
    assert any(redacted(vin) in line for line in lines)

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.entry_id not in REDACTOR.owners


def test_redactor_rewrites_messages_arguments_and_exceptions() -> None:
    """Arguments, exception text and stack text are redacted; others pass untouched."""
    vin = "5YJSA1E47S2434439"
    logger = logging.getLogger("tesla_fleet_api.test_redact")
    redactor = VinRedactor()
    assert redactor.filter(logger.makeRecord(logger.name, 10, "", 1, vin, (), None))
    redactor.add("entry", [vin])
    try:
        assert redactor.owners == {"entry"}
        assert redactor in logger.filters
        try:
            raise ValueError(f"connect to {vin} failed")  # noqa: TRY301
        except ValueError:
            record = logger.makeRecord(
                logger.name, logging.DEBUG, __file__, 1, "vin=%s", (vin,), None
            )
            import sys

            record.exc_info = sys.exc_info()
        record.stack_info = f"Stack: {vin.lower()}"
        assert redactor.filter(record) is True
        assert record.getMessage() == f"vin={redacted(vin)}"
        assert record.exc_text is not None
        assert vin not in record.exc_text
        assert redacted(vin) in record.exc_text
        assert record.stack_info == f"Stack: {redacted(vin.lower())}"
        plain = logger.makeRecord(
            logger.name, logging.DEBUG, __file__, 1, "n=%s", (3,), None
        )
        assert redactor.filter(plain) is True
        assert plain.args == (3,)
        redactor.add("other", ["LRW3E7EK4NC000001"])
        redactor.remove("other")
        assert redactor in logger.filters
    finally:
        redactor.remove("entry")
    assert redactor not in logger.filters
    untouched = logger.makeRecord(
        logger.name, logging.DEBUG, __file__, 1, "vin=%s", (vin,), None
    )
    assert redactor.filter(untouched) is True
    assert untouched.getMessage() == f"vin={vin}"
