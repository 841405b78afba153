"""The integration's actions against the simulator."""

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.const import DOMAIN
from tesla_sim import SimServer
from tests.ha_fixtures import add_fault, sim_car


def device_id(hass: HomeAssistant, entry: MockConfigEntry, vin: str) -> str:
    """Device registry id of the car ``vin``."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, vin), entry.entry_id
    )
    assert device is not None
    return device.id


async def call(hass: HomeAssistant, service: str, data: dict[str, Any]) -> None:
    """Call one of the integration's actions and wait for it."""
    await hass.services.async_call(DOMAIN, service, data, blocking=True)


async def test_navigation_request(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """The destination text reaches the car's navigation."""
    car = sim_car(sim, "Stella")
    await call(
        hass,
        "navigation_request",
        {
            "device_id": device_id(hass, setup_integration, car.vin),
            "destination": "  1 Main Street, Springfield ",
        },
    )
    assert sim_car(sim, "Stella").destination == "1 Main Street, Springfield"


async def test_set_scheduled_charging(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Scheduled charging is switched on with its start time in minutes."""
    car = sim_car(sim, "Yara")
    await call(
        hass,
        "set_scheduled_charging",
        {
            "device_id": device_id(hass, setup_integration, car.vin),
            "enable": True,
            "time": "01:30",
        },
    )
    car = sim_car(sim, "Yara")
    assert car.scheduled_charging_enabled
    assert car.scheduled_charging_time == 90
    await call(
        hass,
        "set_scheduled_charging",
        {"device_id": device_id(hass, setup_integration, car.vin), "enable": False},
    )
    assert not sim_car(sim, "Yara").scheduled_charging_enabled
    assert sim_car(sim, "Yara").scheduled_charging_time == 90


async def test_set_scheduled_departure(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Scheduled departure with preconditioning and off-peak charging."""
    car = sim_car(sim, "Stella")
    await call(
        hass,
        "set_scheduled_departure",
        {
            "device_id": device_id(hass, setup_integration, car.vin),
            "enable": True,
            "departure_time": "07:45",
            "preconditioning_enabled": True,
            "preconditioning_weekdays_only": False,
            "off_peak_charging_enabled": True,
            "off_peak_charging_weekdays_only": True,
            "end_off_peak_time": "06:00",
        },
    )
    car = sim_car(sim, "Stella")
    assert car.scheduled_departure_enabled
    assert car.scheduled_departure_minutes == 7 * 60 + 45
    assert car.preconditioning_enabled
    assert car.off_peak_charging_enabled
    assert car.off_peak_hours_end_time == 360
    await call(
        hass,
        "set_scheduled_departure",
        {"device_id": device_id(hass, setup_integration, car.vin), "enable": False},
    )
    car = sim_car(sim, "Stella")
    assert not car.scheduled_departure_enabled
    assert car.scheduled_departure_minutes == 7 * 60 + 45


async def test_wake_up_and_refresh(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """wake_up wakes a sleeping car; refresh fetches without waking."""
    car = sim_car(sim, "Yara")
    car.wake_seconds = 0.2
    vehicle = next(
        v for v in setup_integration.runtime_data.vehicles.values() if v.vin == car.vin
    )
    vehicle.wake_check_interval = 0.2
    target = {"device_id": device_id(hass, setup_integration, car.vin)}
    car.set_activity("sleep", sim.world.now())

    await call(hass, "refresh", target)
    assert str(vehicle.snapshot.state) == "asleep"
    assert sim_car(sim, "Yara").power == "asleep"

    await call(hass, "wake_up", target)
    assert sim_car(sim, "Yara").power == "online"
    assert str(vehicle.snapshot.state) == "online"
    # Woken on purpose: its data is fetched right away.
    assert vehicle.update_interval is not None
    assert vehicle.update_interval.total_seconds() <= 1
    fetched_at = vehicle.snapshot.fetched_at
    await call(hass, "refresh", target)
    assert vehicle.snapshot.fetched_at != fetched_at


async def test_action_during_outage_fails_fast(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Actions are refused with the translated outage error; nothing is sent."""
    car = sim_car(sim, "Stella")
    add_fault(sim, "outage", 3600)
    account = setup_integration.runtime_data.account
    for _ in range(account.health.outage_after):
        await account.async_refresh()
    sent = sim.world.meter.requests.copy()
    with pytest.raises(HomeAssistantError) as err:
        await call(
            hass,
            "navigation_request",
            {
                "device_id": device_id(hass, setup_integration, car.vin),
                "destination": "Home",
            },
        )
    assert err.value.translation_key == "cloud_unreachable"
    assert sim.world.meter.requests == sent


async def test_invalid_targets(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """Unknown devices, other integrations' devices and stale cars are refused."""
    registry = dr.async_get(hass)
    other_entry = MockConfigEntry(domain="other")
    other_entry.add_to_hass(hass)
    other = registry.async_get_or_create(
        config_entry_id=other_entry.entry_id, identifiers={("other", "x")}
    )
    stale = registry.async_get_or_create(
        config_entry_id=setup_integration.entry_id,
        identifiers={(DOMAIN, "5YJ3E1EA0KF000000")},
    )
    for target in ("not-a-device", other.id, stale.id):
        with pytest.raises(ServiceValidationError) as err:
            await call(hass, "wake_up", {"device_id": target})
        assert err.value.translation_key == "invalid_device"


async def test_invalid_input(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """An empty destination or a bad time is rejected before anything is sent."""
    target = device_id(hass, setup_integration, sim_car(sim, "Stella").vin)
    sent = sim.world.meter.requests.copy()
    with pytest.raises(probatio.Invalid):
        await call(
            hass, "navigation_request", {"device_id": target, "destination": " "}
        )
    with pytest.raises(probatio.Invalid):
        await call(
            hass,
            "set_scheduled_charging",
            {"device_id": target, "enable": True, "time": "25:99"},
        )
    assert sim.world.meter.requests == sent


async def test_entry_not_loaded(
    hass: HomeAssistant, setup_integration: MockConfigEntry, sim: SimServer
) -> None:
    """A car of an unloaded account cannot be targeted."""
    target = device_id(hass, setup_integration, sim_car(sim, "Stella").vin)
    assert await hass.config_entries.async_unload(setup_integration.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "refresh", {"device_id": target})
    assert err.value.translation_key == "entry_not_loaded"
