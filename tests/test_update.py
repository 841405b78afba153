"""The software update against the simulator."""

from homeassistant.components.update import (
    ATTR_IN_PROGRESS,
    ATTR_INSTALLED_VERSION,
    ATTR_LATEST_VERSION,
    ATTR_UPDATE_PERCENTAGE,
    SERVICE_INSTALL,
    UpdateEntityFeature,
)
from homeassistant.const import ATTR_SUPPORTED_FEATURES, STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from syrupy.assertion import SnapshotAssertion

from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, sim_car
from tests.platform_helpers import (
    call_service,
    each_account,
    entity_id,
    refresh,
    setup_account,
    setup_and_snapshot,
    state_of,
)

KEY = "vehicle_state_software_update_status"


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """One software update per car."""
    await setup_and_snapshot(hass, sim, email, Platform.UPDATE, snapshot)


async def test_install(hass: HomeAssistant, sim: SimServer) -> None:
    """Install starts the update; progress shows; afterwards the new version runs."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    update = entity_id(hass, Platform.UPDATE, car, KEY)
    state = state_of(hass, update)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_INSTALLED_VERSION] == "2024.8.9"
    assert state.attributes[ATTR_LATEST_VERSION] == "2024.14.9"
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == (
        UpdateEntityFeature.INSTALL | UpdateEntityFeature.PROGRESS
    )

    await call_service(hass, SERVICE_INSTALL, update)
    assert sim_car(sim, "Sparky").update_status == "installing"
    state = state_of(hass, update)
    assert state.attributes[ATTR_IN_PROGRESS] is True
    assert state.attributes[ATTR_SUPPORTED_FEATURES] == UpdateEntityFeature.PROGRESS

    car = sim_car(sim, "Sparky")
    assert car.install_started_at is not None
    car.install_started_at -= car.install_seconds / 2  # half-way through
    await refresh(hass, entry)
    assert state_of(hass, update).attributes[ATTR_UPDATE_PERCENTAGE] == 50

    car = sim_car(sim, "Sparky")
    assert car.install_started_at is not None
    car.install_started_at -= car.install_seconds  # done
    await refresh(hass, entry)
    state = state_of(hass, update)
    assert state.state == STATE_OFF
    assert state.attributes[ATTR_INSTALLED_VERSION] == "2024.14.9"
    assert state.attributes[ATTR_LATEST_VERSION] == "2024.14.9"
    assert state.attributes[ATTR_IN_PROGRESS] is False


async def test_install_refused(hass: HomeAssistant, sim: SimServer) -> None:
    """When the car no longer has the update, the refusal is shown."""
    await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    update = entity_id(hass, Platform.UPDATE, car, KEY)
    car.update_status = "installing"  # e.g. started from the car meanwhile
    with pytest.raises(HomeAssistantError) as err:
        await call_service(hass, SERVICE_INSTALL, update)
    assert err.value.translation_placeholders == {"reason": "no_update_available"}
