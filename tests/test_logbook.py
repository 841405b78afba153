"""The logbook as the owner reads it: what the integration's entities put there.

These tests record into an in-memory database (``recorder_mock``), which must be set
up before ``hass``: this module's ``auto_enable_custom_integrations`` asks for it first.
"""

from datetime import timedelta
from typing import Any

from homeassistant.components.lock import SERVICE_UNLOCK
from homeassistant.components.logbook.helpers import async_determine_event_types
from homeassistant.components.logbook.processor import EventProcessor
from homeassistant.components.recorder import Recorder, get_instance
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.tesla_resilient.const import ProtectedAction
from tesla_sim import SimServer
from tests.ha_fixtures import TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    call_service,
    entity_id,
    has_entity,
    otp_options,
    refresh,
    setup_account,
    state_of,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """Record (the recorder before ``hass``) and load the custom integration."""


async def logbook_entries(hass: HomeAssistant, entity: str) -> list[dict[str, Any]]:
    """The logbook's entries of ``entity`` (oldest first) over the last day."""
    if "logbook" not in hass.config.components:
        assert await async_setup_component(hass, "logbook", {})
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)
    processor = EventProcessor(
        hass, async_determine_event_types(hass, [entity], None), [entity]
    )
    end = dt_util.utcnow() + timedelta(minutes=1)
    entries: list[dict[str, Any]] = await get_instance(hass).async_add_executor_job(
        processor.get_events, end - timedelta(days=1), end
    )
    return entries


async def test_refused_unlock_not_logged(hass: HomeAssistant, sim: SimServer) -> None:
    """An unlock refused for its code adds nothing to the logbook ("Unlocking"...)."""
    await setup_account(
        hass, sim, TOTP_EMAIL, options=otp_options(ProtectedAction.UNLOCK)
    )
    lock = entity_id(
        hass, Platform.LOCK, sim_car(sim, "Stella"), "vehicle_state_locked"
    )
    before = await logbook_entries(hass, lock)
    for code in (None, "000000"):
        with pytest.raises(ServiceValidationError):
            await call_service(
                hass, SERVICE_UNLOCK, lock, **({} if code is None else {"code": code})
            )
    assert await logbook_entries(hass, lock) == before


async def test_polls_not_logged(hass: HomeAssistant, sim: SimServer) -> None:
    """A poll adds no logbook entry: the time of the data is the data source's
    ``data_as_of`` attribute, not a "Last update" sensor changing on every poll."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    assert not has_entity(hass, Platform.SENSOR, car, "last_update")
    source = entity_id(hass, Platform.SENSOR, car, "data_source")
    before = await logbook_entries(hass, source)
    as_of = state_of(hass, source).attributes["data_as_of"]
    for _ in range(2):
        await refresh(hass, entry)
    assert state_of(hass, source).attributes["data_as_of"] != as_of
    assert await logbook_entries(hass, source) == before
