"""The cloud's health and a car read over Bluetooth: what the data source shows.

A short failing streak shows every value as the last known state; when the cloud
answers again, values last read over Bluetooth stay Bluetooth's while the link is live.
"""

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.api import CloudUnavailable
from custom_components.tesla_resilient.health import HealthState
from custom_components.tesla_resilient.snapshot import DataSource
from tesla_sim.vehicles import Vehicle
from tests.bluetooth_helpers import vehicle_of


async def _short_streak(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """One failed cloud request, then a success: degraded, then ok again."""
    account = entry.runtime_data.account
    account.report_failure(CloudUnavailable("down"))
    await hass.async_block_till_done()
    assert account.health.state is HealthState.DEGRADED
    account.report_success()
    await hass.async_block_till_done()
    assert account.health.state is HealthState.OK


async def test_bluetooth_values_stay_ble_when_the_cloud_answers_again(
    hass: HomeAssistant, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """ok after degraded: a Bluetooth-read snapshot is not relabelled ``cloud``."""
    vehicle = vehicle_of(paired, stella.vin)
    assert vehicle.data.source is DataSource.BLE
    await _short_streak(hass, paired)
    assert vehicle.data.source is DataSource.BLE
    assert vehicle.data_source is DataSource.BLE


async def test_stale_bluetooth_values_stay_last_known(
    hass: HomeAssistant, paired: MockConfigEntry, stella: Vehicle
) -> None:
    """The Bluetooth read is no longer live: its values stay the last known state."""
    vehicle = vehicle_of(paired, stella.vin)
    link = vehicle.bluetooth
    assert link is not None
    read_at = vehicle.data.ble_read_at
    assert read_at is not None
    link.clock = lambda: read_at + link.settings.fresh_for + 1
    await _short_streak(hass, paired)
    assert vehicle.data.source is DataSource.CACHE
    assert vehicle.data_source is DataSource.CACHE
