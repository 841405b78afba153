"""Over Bluetooth the car is let sleep as the cloud policy lets it, through Home
Assistant's real Bluetooth stack; the simulated car's idle timer is the oracle.

An answered infotainment read restarts the car's idle timer (``Vehicle.touch_data``), a
vehicle-security status read does not. The timers of Home Assistant (the coordinator's
next poll, the link's next read) are fired ahead with ``async_fire_time_changed``.
"""

from datetime import timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.tesla_resilient.api import VehicleState
from custom_components.tesla_resilient.bluetooth import BluetoothLink
from custom_components.tesla_resilient.polling import PollAction
from tesla_sim import SimServer
from tesla_sim.ble import address_of
from tesla_sim.ble.scanner import SimRemoteScanner
from tests.ble_fixtures import async_car_in_range
from tests.bluetooth_helpers import vehicle_of, with_bluetooth
from tests.ha_fixtures import TOTP_EMAIL, make_config_entry, setup_entry, sim_car


async def _fire(hass: HomeAssistant, seconds: float) -> None:
    """Fire every Home Assistant timer due within ``seconds`` from now."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=seconds))
    await hass.async_block_till_done(wait_background_tasks=True)


async def test_a_car_parked_at_home_after_a_drive_is_let_sleep(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """Driven home and parked in range: the cloud's ``vehicle_data`` sees it parked
    (Bluetooth reads no drive state), then nothing restarts its idle timer."""
    stella = sim_car(sim, "Stella")
    world = sim.world
    stella.set_activity("drive", world.now())
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), stella.vin)
    await setup_entry(hass, entry)  # out of range: the cloud polls the drive
    vehicle = vehicle_of(entry, stella.vin)
    assert vehicle.snapshot.data is not None
    assert vehicle.snapshot.data.is_driving
    # Home: parked in the garage, in range of the proxy.
    stella.set_activity("park", world.now())
    await async_car_in_range(hass, ble_scanner, world, stella.vin)
    await hass.async_block_till_done(wait_background_tasks=True)
    link = vehicle.bluetooth
    assert link is not None
    assert link.reads >= 1  # came into range: a status read
    before = world.meter.vehicle(stella.vin).requests["data"]
    await _fire(hass, 90)  # the drive's next poll
    # As if parked a minute ago: a read restarting the idle timer moves it to now.
    car = world.vehicle(stella.vin)
    car.idle_ref = parked_at = world.now() - 60
    # From now on no read restarts the idle timer: the car falls asleep on time.
    for _ in range(4):
        await _fire(hass, 100)
    assert world.vehicle(stella.vin).idle_ref < parked_at + 1
    # The drive's next poll went to the cloud (once): it saw the car parked.
    assert world.meter.vehicle(stella.vin).requests["data"] == before + 1
    assert vehicle.snapshot.data is not None
    assert not vehicle.snapshot.data.is_driving
    assert link.reads >= 2  # the status was read again meanwhile (VCSEC only)
    decision = vehicle._next_poll(vehicle.snapshot, vehicle.clock())
    assert decision.action is PollAction.SLEEP_CHECK
    assert decision.delay > 500
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_status_read_never_restarts_the_idle_timer(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """The vehicle-security status (every read of the link's own schedule) leaves an
    awake car's idle timer alone; an infotainment read restarts it."""
    stella = sim_car(sim, "Stella")
    world = sim.world
    stella.set_activity("park", world.now())
    await async_car_in_range(hass, ble_scanner, world, stella.vin)
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), stella.vin)
    await setup_entry(hass, entry)
    vehicle = vehicle_of(entry, stella.vin)
    link = vehicle.bluetooth
    assert link is not None
    car = world.vehicle(stella.vin)
    car.idle_ref = idle = world.now() - 120
    snapshot, done = await link.async_poll(vehicle.snapshot, PollAction.SLEEP_CHECK)
    assert done
    assert snapshot.state is VehicleState.ONLINE
    assert world.vehicle(stella.vin).idle_ref < idle + 1
    snapshot, done = await link.async_poll(snapshot, PollAction.VEHICLE_DATA)
    assert done
    assert world.vehicle(stella.vin).idle_ref > idle + 60
    await hass.config_entries.async_unload(entry.entry_id)


async def test_the_link_keeps_the_time_of_its_vehicle(
    hass: HomeAssistant, sim: SimServer, ble_scanner: SimRemoteScanner
) -> None:
    """The link writes its reads into the vehicle's polling memory: on the vehicle's
    clock (a virtual clock in the benchmarks), not the wall clock."""
    stella = sim_car(sim, "Stella")
    entry = with_bluetooth(await make_config_entry(sim, TOTP_EMAIL), stella.vin)
    await setup_entry(hass, entry)
    vehicle = vehicle_of(entry, stella.vin)
    vehicle.clock = lambda: 1000.0
    link = BluetoothLink(hass, vehicle, address_of(stella.vin))
    assert link.clock() == 1000.0
    await hass.config_entries.async_unload(entry.entry_id)
