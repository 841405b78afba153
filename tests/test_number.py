"""Numbers against the simulator: charge limit and charging current."""

import math

from homeassistant.components.number import ATTR_MAX, ATTR_MIN, SERVICE_SET_VALUE
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.tesla_resilient.const import DOMAIN
from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    call_service,
    each_account,
    entity_id,
    setup_account,
    setup_and_snapshot,
    state_of,
)

LIMIT = "charge_state_charge_limit_soc"
AMPS = "charge_state_charge_current_request"


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """Charge limit and charging current per car, ranges from the car."""
    await setup_and_snapshot(hass, sim, email, Platform.NUMBER, snapshot)


async def test_set_values(hass: HomeAssistant, sim: SimServer) -> None:
    """Setting a number changes the car; the range is the car's."""
    await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    limit = entity_id(hass, Platform.NUMBER, car, LIMIT)
    amps = entity_id(hass, Platform.NUMBER, car, AMPS)
    assert state_of(hass, limit).attributes[ATTR_MIN] == 50
    assert state_of(hass, limit).attributes[ATTR_MAX] == 100
    assert state_of(hass, amps).attributes[ATTR_MIN] == 0
    assert state_of(hass, amps).attributes[ATTR_MAX] == 48

    await call_service(hass, SERVICE_SET_VALUE, limit, value=90)
    assert sim_car(sim, "Stella").charge_limit == 90
    assert float(state_of(hass, limit).state) == 90
    await call_service(hass, SERVICE_SET_VALUE, amps, value=24)
    assert sim_car(sim, "Stella").charge_current_request == 24
    assert float(state_of(hass, amps).state) == 24

    # Yara takes at most 32 A.
    yara_amps = entity_id(hass, Platform.NUMBER, sim_car(sim, "Yara"), AMPS)
    assert state_of(hass, yara_amps).attributes[ATTR_MAX] == 32


async def test_refused(hass: HomeAssistant, sim: SimServer) -> None:
    """The car's refusal is shown and the value is left as it was."""
    await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    limit = entity_id(hass, Platform.NUMBER, car, LIMIT)
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_SET_VALUE, limit, value=car.charge_limit)
    assert err.value.translation_placeholders == {"reason": "already_set"}
    assert float(state_of(hass, limit).state) == car.charge_limit


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
async def test_not_a_number(hass: HomeAssistant, sim: SimServer, value: float) -> None:
    """NaN or infinity is refused with a clear error, and nothing is sent."""
    await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    limit = entity_id(hass, Platform.NUMBER, car, LIMIT)
    sent = sim.world.meter.requests["command"]
    with pytest.raises(ServiceValidationError) as err:
        await call_service(hass, SERVICE_SET_VALUE, limit, value=value)
    assert sim.world.meter.requests["command"] == sent
    assert sim_car(sim, "Sparky").charge_limit == 80
    if math.isnan(value):  # passes Home Assistant's range check: refused by ours
        assert err.value.translation_domain == DOMAIN
        assert err.value.translation_key == "invalid_number"
        assert str(err.value).startswith(
            "nan is not a number. Give a whole number from 50 to 100"
        )
