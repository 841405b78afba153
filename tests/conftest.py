"""Fixtures shared by every test of the project."""

# Import our `custom_components` package before anything else can: Home Assistant's test
# plugin ships its own testing_config/custom_components, and whichever package named
# `custom_components` is imported first is the one Home Assistant's loader searches.
import custom_components  # noqa: F401

# isort: split

import pytest

# Fixtures from these modules, each owned by its test suite:
# - tests/ha_fixtures.py (integration tests): config entries signed in against
#   tesla_sim, set-up helpers; everything it exports is a fixture for every test.
# - tests/sim_fixtures.py (simulator tests): a running tesla_sim (`sim`, or `sim_virtual`
#   on a virtual clock) and its world (`sim_world`).
# - tests/ble_fixtures.py (Bluetooth tests): a remote scanner in range of tesla_sim's
#   cars on Home Assistant's real Bluetooth stack (`ble_scanner`, `ble_scanner_virtual`);
#   tests/bluetooth_helpers.py: the car Stella (`stella`) paired and in range (`paired`).
# - tests/flow_render.py: every flow result rendered as the frontend does (autouse).
from tests.ble_fixtures import ble_scanner, ble_scanner_virtual  # noqa: F401
from tests.bluetooth_helpers import paired, stella  # noqa: F401
from tests.flow_render import render_every_step  # noqa: F401 - autouse
from tests.ha_fixtures import *  # noqa: F403
from tests.sim_fixtures import sim, sim_virtual, sim_world  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/tesla_resilient in every test."""
