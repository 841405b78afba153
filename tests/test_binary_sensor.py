"""Binary sensors against the simulator: closures, charging, presence, connection."""

from homeassistant.const import STATE_OFF, STATE_ON, Platform
from homeassistant.core import HomeAssistant
from syrupy.assertion import SnapshotAssertion

from tesla_sim import SimServer
from tests.ha_fixtures import NO_MFA_EMAIL, TOTP_EMAIL, sim_car
from tests.platform_helpers import (
    each_account,
    entity_id,
    has_entity,
    refresh,
    setup_account,
    setup_and_snapshot,
    start_outage,
    state_of,
)

REPEATS = (
    "charge_state_charging_state",
    "vehicle_state_sentry_mode",
    "vehicle_state_software_update_status",
    "vehicle_state_ft",
    "vehicle_state_rt",
)
"""Binary sensors that repeated the charging switch, the Sentry Mode switch, the
update entity and the frunk and trunk covers (dropped)."""


@each_account
async def test_entities(
    hass: HomeAssistant, sim: SimServer, snapshot: SnapshotAssertion, email: str
) -> None:
    """The binary sensors of each car configuration (TPMS warnings disabled)."""
    await setup_and_snapshot(hass, sim, email, Platform.BINARY_SENSOR, snapshot)


async def test_states_follow_the_car(hass: HomeAssistant, sim: SimServer) -> None:
    """Doors, windows, cable, presence and dashcam follow the car."""
    entry = await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")

    def sensor(key: str) -> str:
        return state_of(hass, entity_id(hass, Platform.BINARY_SENSOR, car, key)).state

    keys = (
        "vehicle_state_df",
        "vehicle_state_rp_window",
        "charge_state_conn_charge_cable",
        "vehicle_state_is_user_present",
        "vehicle_state_dashcam_state",
        "climate_state_is_preconditioning",
    )
    assert {key: sensor(key) for key in keys} == dict.fromkeys(keys, STATE_OFF)
    assert sensor("cloud_connection") == STATE_ON

    car.doors["df"] = 1
    car.windows["rp_window"] = 1
    car.sentry_mode = True
    car.set_activity("charge", sim.world.now())
    await refresh(hass, entry)
    assert {key: sensor(key) for key in keys} == {
        **dict.fromkeys(keys, STATE_ON),
        "vehicle_state_is_user_present": STATE_OFF,
        "climate_state_is_preconditioning": STATE_OFF,
    }

    car = sim_car(sim, "Stella")
    car.set_activity("park", sim.world.now())  # unplugs
    car.set_activity("climate", sim.world.now())
    car.scheduled_charging_enabled = True
    car.update_status = ""
    await refresh(hass, entry)
    assert sensor("climate_state_is_preconditioning") == STATE_ON
    assert sensor("charge_state_conn_charge_cable") == STATE_OFF
    assert sensor("charge_state_scheduled_charging_pending") == STATE_ON


async def test_cloud_connection(hass: HomeAssistant, sim: SimServer) -> None:
    """Off during an outage, while the other sensors keep their last known state."""
    entry = await setup_account(hass, sim, NO_MFA_EMAIL)
    car = sim_car(sim, "Sparky")
    connection = entity_id(hass, Platform.BINARY_SENSOR, car, "cloud_connection")
    door = entity_id(hass, Platform.BINARY_SENSOR, car, "vehicle_state_df")
    assert state_of(hass, connection).state == STATE_ON

    await start_outage(hass, sim, entry)
    assert state_of(hass, connection).state == STATE_OFF
    assert state_of(hass, door).state == STATE_OFF


async def test_no_repeats(hass: HomeAssistant, sim: SimServer) -> None:
    """No binary sensor repeats a control; on/off states read as On/Off or Yes/No.

    Charging is the switch (and the charging-state sensor), Sentry Mode the switch, an
    available update the update entity, an open frunk or trunk its cover; the battery heater is on or off (no heat
    class: "Normal"), the user present or not (no occupancy class: "Clear").
    """
    await setup_account(hass, sim, TOTP_EMAIL)
    car = sim_car(sim, "Stella")
    for key in REPEATS:
        assert not has_entity(hass, Platform.BINARY_SENSOR, car, key), key
    for key in ("climate_state_battery_heater", "vehicle_state_is_user_present"):
        state = state_of(hass, entity_id(hass, Platform.BINARY_SENSOR, car, key))
        assert "device_class" not in state.attributes, key
