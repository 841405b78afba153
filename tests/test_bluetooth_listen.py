"""Listening over Bluetooth, through Home Assistant's real Bluetooth stack: an awake car
in range is read every minute (vehicle security only: its idle timer runs on), and the
link listens on while the car keeps broadcasting, within a cap."""

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from homeassistant.components.lock import LockState
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.tesla_resilient.api import VehicleState
from custom_components.tesla_resilient.bluetooth import BluetoothLink
from tesla_sim import SimServer
from tesla_sim.ble.scanner import SimRemoteScanner
from tesla_sim.vehicles import Vehicle
from tests.ble_fixtures import async_car_in_range
from tests.bluetooth_helpers import (
    WAIT,
    async_wait_state,
    entity_id,
    meter_total,
    vehicle_of,
    with_bluetooth,
)
from tests.ha_fixtures import TOTP_EMAIL, make_config_entry, setup_entry, sim_car


@pytest.fixture
async def parked(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> AsyncIterator[tuple[MockConfigEntry, Vehicle]]:
    """Stella parked, awake and in range, paired over Bluetooth, set up."""
    stella = sim_car(sim, "Stella")
    stella.set_activity("park", sim.world.now())
    await async_car_in_range(hass, ble_scanner, sim.world, stella.vin)
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), stella.vin)
    await setup_entry(hass, entry)
    yield entry, stella
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)


def _link(entry: MockConfigEntry, vin: str) -> BluetoothLink:
    link = vehicle_of(entry, vin).bluetooth
    assert link is not None
    return link


async def _fire(hass: HomeAssistant, seconds: float) -> None:
    """Fire every Home Assistant timer due within ``seconds`` from now."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done(wait_background_tasks=True)


async def _heard(hass: HomeAssistant, done: Callable[[], bool]) -> None:
    """Wait (at most ``WAIT`` seconds) until the car's broadcast got through."""
    async with asyncio.timeout(WAIT):
        while not done():
            await asyncio.sleep(0.01)
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_an_awake_car_is_read_every_minute_without_keeping_it_awake(
    hass: HomeAssistant, sim: SimServer, parked: tuple[MockConfigEntry, Vehicle]
) -> None:
    """Awake in range: a status read a minute, and the connection let go between them;
    no cloud request, and the car's idle timer is never restarted."""
    entry, stella = parked
    link = _link(entry, stella.vin)
    world = sim.world
    car = world.vehicle(stella.vin)
    car.idle_ref = idle = world.now() - 60
    reads, cloud = link.reads, meter_total(sim)
    await _fire(hass, 35)  # the listen window ends: the connection is let go
    assert not link.listening
    assert world.ble_state(stella.vin)["links"] == 0
    await _fire(hass, 65)  # a minute after the last read: the next one
    assert link.reads == reads + 1
    assert link.listening
    assert world.vehicle(stella.vin).idle_ref < idle + 1
    assert meter_total(sim) == cloud
    # It falls asleep (and says so): the next read in five minutes.
    car.set_activity("sleep", world.now())
    world.tick()
    await _heard(hass, lambda: link.memory.state is VehicleState.ASLEEP)
    await _fire(hass, 35)
    await _fire(hass, 65)
    assert link.reads == reads + 1
    await _fire(hass, 305)
    assert link.reads == reads + 2
    assert world.vehicle(stella.vin).power == "asleep"


async def test_listening_goes_on_while_the_car_keeps_broadcasting(
    hass: HomeAssistant, sim: SimServer, parked: tuple[MockConfigEntry, Vehicle]
) -> None:
    """Each broadcast keeps the link listening 30 s more, at most 120 s after it began
    listening; then it lets go of the connection."""
    entry, stella = parked
    link = _link(entry, stella.vin)
    world = sim.world
    lock = entity_id(hass, "lock", stella.vin, "vehicle_state_locked")
    assert lock is not None
    await link._async_end_window()  # the set-up's window is over
    now = [world.now()]
    link.clock = lambda: now[0]
    link.async_want_read()  # a read (as after a command): listening from now
    await _fire(hass, 1)
    window = link._window
    assert link.listening
    assert window.closes_at == now[0] + 30
    started = now[0]
    now[0] += 25  # the owner unlocks with a phone key: the car broadcasts
    stella.locked = False
    world.tick()
    await async_wait_state(hass, lock, LockState.UNLOCKED)
    assert window.closes_at == started + 55
    now[0] = started + 100  # a door opens
    stella.doors["df"] = 1
    world.tick()
    await _heard(hass, lambda: window.closes_at != started + 55)
    assert window.closes_at == started + 120  # the cap
    assert link.listening
    await _fire(hass, 30)  # the window's end
    assert not link.listening
    assert window.closes_at is None
    assert world.ble_state(stella.vin)["links"] == 0
