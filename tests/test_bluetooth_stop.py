"""The Bluetooth links stop with Home Assistant (through its real Bluetooth stack)."""

from datetime import timedelta

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from tesla_sim import SimServer
from tesla_sim.ble.scanner import SimRemoteScanner
from tests.ble_fixtures import async_car_in_range
from tests.bluetooth_helpers import vehicle_of, with_bluetooth
from tests.ha_fixtures import TOTP_EMAIL, make_config_entry, setup_entry, sim_car


async def test_links_stop_when_home_assistant_stops(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """Home Assistant stopping: the link lets go of the car and reads no more (its
    timers would read the car and re-arm the coordinator's poll on a closing session)."""
    stella = sim_car(sim, "Stella")
    world = sim.world
    await async_car_in_range(hass, ble_scanner, world, stella.vin)
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), stella.vin)
    await setup_entry(hass, entry)
    link = vehicle_of(entry, stella.vin).bluetooth
    assert link is not None
    assert link.listening
    assert world.ble_state(stella.vin)["links"] == 1
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STOP)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert not link.listening
    assert world.ble_state(stella.vin)["links"] == 0
    reads, connections = link.reads, world.ble_state(stella.vin)["connections"]
    # Its next read was due in five minutes: it does not come.
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=400))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert link.reads == reads
    assert world.ble_state(stella.vin)["connections"] == connections
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
