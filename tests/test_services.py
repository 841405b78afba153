"""The integration's actions against the simulator."""

import time
from typing import Any

from homeassistant.components.button.const import SERVICE_PRESS
from homeassistant.const import (
    ATTR_CODE,
    ATTR_ENTITY_ID,
    SERVICE_OPEN_COVER,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceNotSupported,
    ServiceValidationError,
)
from homeassistant.helpers import device_registry as dr
import probatio
import pyotp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesla_resilient.const import DOMAIN, ProtectedAction
from custom_components.tesla_resilient.otp import INTERVAL, MAX_FAILURES
from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, add_fault, sim_car
from tests.platform_helpers import (
    OTP_SECRET,
    entity_id,
    otp_code,
    otp_options,
    setup_account,
)


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
    # Named like a car of this integration but belonging to another integration.
    foreign = registry.async_get_or_create(
        config_entry_id=other_entry.entry_id,
        identifiers={(DOMAIN, "5YJ3E1EA0KF000001")},
    )
    for target in ("not-a-device", other.id, stale.id, foreign.id):
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


# ------------------------------------------------------------ actions carrying a code


def wrong_code() -> str:
    """A well-formed code that is not valid now (nor one step before or after)."""
    totp = pyotp.TOTP(OTP_SECRET, interval=INTERVAL)
    now = time.time()
    valid = {totp.at(int(now) + offset * INTERVAL) for offset in (-2, -1, 0, 1, 2)}
    return next(code for code in ("000000", "123456", "999999") if code not in valid)


async def call_entity(
    hass: HomeAssistant,
    domain: str,
    service: str,
    entity: str | list[str],
    code: str | None = None,
) -> None:
    """Call ``domain.service`` on ``entity`` (with ``code`` when given) and wait."""
    data: dict[str, Any] = {ATTR_ENTITY_ID: entity}
    if code is not None:
        data[ATTR_CODE] = code
    await hass.services.async_call(domain, service, data, blocking=True)


async def test_open_with_code(hass: HomeAssistant, sim: SimServer) -> None:
    """A protected frunk opens with the current code and only then.

    Without a code the plain cover action is refused with a message naming the
    action to use; a wrong code is refused; neither sends anything to the car. A code
    opens one thing: the same code is refused for the trunk.
    """
    await setup_account(
        hass,
        sim,
        NO_MFA_EMAIL,
        options=otp_options(ProtectedAction.OPEN_FRUNK, ProtectedAction.OPEN_TRUNK),
    )
    car = sim_car(sim, "Sparky")
    frunk = entity_id(hass, Platform.COVER, car, "vehicle_state_ft")
    trunk = entity_id(hass, Platform.COVER, car, "vehicle_state_rt")
    sent = sim.world.meter.requests.copy()

    with pytest.raises(ServiceValidationError) as err:
        await call_entity(hass, Platform.COVER, SERVICE_OPEN_COVER, frunk)
    assert err.value.translation_key == "code_required_open_frunk"
    assert "tesla_resilient.open_with_code" in str(err.value)
    with pytest.raises(ServiceValidationError) as err:
        await call_entity(hass, DOMAIN, "open_with_code", frunk, wrong_code())
    assert err.value.translation_key == "otp_code_invalid"
    assert sim.world.meter.requests == sent
    assert sim_car(sim, "Sparky").doors["ft"] == 0

    code = otp_code()
    await call_entity(hass, DOMAIN, "open_with_code", frunk, f" {code[:3]} {code[3:]}")
    assert sim_car(sim, "Sparky").doors["ft"] == 1
    # the VCSEC session, then the command
    # the VCSEC session, then the command
    assert sim.world.meter.requests["command"] == sent["command"] + 2
    assert hass.states.get(frunk).state == "open"  # type: ignore[union-attr]

    sent = sim.world.meter.requests.copy()
    with pytest.raises(ServiceValidationError) as err:
        await call_entity(hass, DOMAIN, "open_with_code", trunk, code)
    assert err.value.translation_key == "otp_code_reused"
    assert sim.world.meter.requests == sent
    assert sim_car(sim, "Sparky").doors["rt"] == 0


async def test_open_with_code_only_doors(hass: HomeAssistant, sim: SimServer) -> None:
    """open_with_code is for the frunk, trunk and charge port, not the windows."""
    await setup_account(
        hass, sim, NO_MFA_EMAIL, options=otp_options(ProtectedAction.OPEN_FRUNK)
    )
    car = sim_car(sim, "Sparky")
    windows = entity_id(hass, Platform.COVER, car, "windows")
    sent = sim.world.meter.requests.copy()
    with pytest.raises(ServiceNotSupported):
        await call_entity(hass, DOMAIN, "open_with_code", windows, otp_code())
    assert sim.world.meter.requests == sent


async def test_unprotected_port_opens_with_any_code(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """An opening that is not protected does not check the code."""
    await setup_account(
        hass, sim, NO_MFA_EMAIL, options=otp_options(ProtectedAction.OPEN_FRUNK)
    )
    car = sim_car(sim, "Sparky")
    port = entity_id(hass, Platform.COVER, car, "charge_state_charge_port_door_open")
    await call_entity(hass, DOMAIN, "open_with_code", port, wrong_code())
    assert sim_car(sim, "Sparky").charge_port_door_open is True


async def test_press_with_code_remote_start(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """A protected remote start runs with the current code, never with a wrong one."""
    await setup_account(
        hass, sim, NO_MFA_EMAIL, options=otp_options(ProtectedAction.REMOTE_START)
    )
    car = sim_car(sim, "Sparky")
    button = entity_id(hass, Platform.BUTTON, car, "remote_start")
    sent = sim.world.meter.requests.copy()

    with pytest.raises(ServiceValidationError) as err:
        await call_entity(hass, Platform.BUTTON, SERVICE_PRESS, button)
    assert err.value.translation_key == "code_required_remote_start"
    assert "tesla_resilient.press_with_code" in str(err.value)
    with pytest.raises(ServiceValidationError) as err:
        await call_entity(hass, DOMAIN, "press_with_code", button, wrong_code())
    assert err.value.translation_key == "otp_code_invalid"
    with pytest.raises(ServiceValidationError) as err:
        await call_entity(hass, DOMAIN, "press_with_code", button, "12345")
    assert err.value.translation_key == "otp_code_invalid"
    assert sim.world.meter.requests == sent
    assert sim_car(sim, "Sparky").remote_start_until == 0

    await call_entity(hass, DOMAIN, "press_with_code", button, otp_code())
    assert sim_car(sim, "Sparky").remote_start_until > sim.world.now()
    # the VCSEC session, then the command
    assert sim.world.meter.requests["command"] == sent["command"] + 2


async def test_turn_off_with_code_sentry(hass: HomeAssistant, sim: SimServer) -> None:
    """Protected Sentry Mode turns off with the current code only."""
    await setup_account(
        hass, sim, NO_MFA_EMAIL, options=otp_options(ProtectedAction.DISABLE_SENTRY)
    )
    car = sim_car(sim, "Sparky")
    sentry = entity_id(hass, Platform.SWITCH, car, "vehicle_state_sentry_mode")
    await call_entity(hass, Platform.SWITCH, SERVICE_TURN_ON, sentry)
    assert sim_car(sim, "Sparky").sentry_mode is True
    sent = sim.world.meter.requests.copy()

    with pytest.raises(ServiceValidationError) as err:
        await call_entity(hass, Platform.SWITCH, SERVICE_TURN_OFF, sentry)
    assert err.value.translation_key == "code_required_disable_sentry"
    assert "tesla_resilient.turn_off_with_code" in str(err.value)
    with pytest.raises(ServiceValidationError) as err:
        await call_entity(hass, DOMAIN, "turn_off_with_code", sentry, wrong_code())
    assert err.value.translation_key == "otp_code_invalid"
    assert sim.world.meter.requests == sent
    assert sim_car(sim, "Sparky").sentry_mode is True

    await call_entity(hass, DOMAIN, "turn_off_with_code", sentry, otp_code())
    assert sim_car(sim, "Sparky").sentry_mode is False
    assert hass.states.get(sentry).state == "off"  # type: ignore[union-attr]


async def test_with_code_lockout(hass: HomeAssistant, sim: SimServer) -> None:
    """Too many wrong codes lock the action out, even for the right code."""
    await setup_account(
        hass, sim, NO_MFA_EMAIL, options=otp_options(ProtectedAction.OPEN_FRUNK)
    )
    frunk = entity_id(hass, Platform.COVER, sim_car(sim, "Sparky"), "vehicle_state_ft")
    sent = sim.world.meter.requests.copy()
    for _ in range(MAX_FAILURES):
        with pytest.raises(ServiceValidationError) as err:
            await call_entity(hass, DOMAIN, "open_with_code", frunk, wrong_code())
        assert err.value.translation_key == "otp_code_invalid"
    with pytest.raises(ServiceValidationError) as err:
        await call_entity(hass, DOMAIN, "open_with_code", frunk, otp_code())
    assert err.value.translation_key == "otp_locked_out"
    assert err.value.translation_placeholders == {"minutes": "5"}
    assert sim.world.meter.requests == sent
    assert sim_car(sim, "Sparky").doors["ft"] == 0


async def test_with_code_needs_a_code(hass: HomeAssistant, sim: SimServer) -> None:
    """The code field is required and cannot be blank."""
    await setup_account(
        hass, sim, NO_MFA_EMAIL, options=otp_options(ProtectedAction.REMOTE_START)
    )
    button = entity_id(hass, Platform.BUTTON, sim_car(sim, "Sparky"), "remote_start")
    sent = sim.world.meter.requests.copy()
    for code in (None, "", "   "):
        with pytest.raises(probatio.Invalid):
            await call_entity(hass, DOMAIN, "press_with_code", button, code)
    assert sim.world.meter.requests == sent


async def test_with_code_without_protection(
    hass: HomeAssistant, sim: SimServer
) -> None:
    """Without protection the code is not checked; other buttons just press."""
    await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    sent = sim.world.meter.requests.copy()
    await call_entity(
        hass,
        DOMAIN,
        "press_with_code",
        entity_id(hass, Platform.BUTTON, car, "remote_start"),
        wrong_code(),
    )
    assert sim_car(sim, "Sparky").remote_start_until > sim.world.now()
    await call_entity(
        hass,
        DOMAIN,
        "press_with_code",
        entity_id(hass, Platform.BUTTON, car, "flash_lights"),
        "anything",
    )
    # each domain's session (VCSEC, infotainment), then its command
    assert sim.world.meter.requests["command"] == sent["command"] + 4
