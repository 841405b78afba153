"""tesla_sim model without HTTP: determinism, the lazy state machine, payloads, meter, faults."""

import math
from typing import Any

import pytest

from tesla_sim import RealClock, VirtualClock, World
from tesla_sim.faults import FaultError, Faults
from tesla_sim.meter import Meter
from tesla_sim.payloads import ALL_ENDPOINTS, parse_endpoints, vehicle_data
from tesla_sim.vehicles import Vehicle

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC

# Path and JSON type of every field of the recorded real response (shared/reference).
REFERENCE_FIELDS = """
id number
user_id number
vehicle_id number
vin string
color null
access_type string
granular_access.hide_private bool
tokens list
state string
in_service bool
id_s string
calendar_enabled bool
api_version number
backseat_token null
backseat_token_updated_at null
ble_autopair_enrolled bool
charge_state.battery_heater_on bool
charge_state.battery_level number
charge_state.battery_range number
charge_state.charge_amps number
charge_state.charge_current_request number
charge_state.charge_current_request_max number
charge_state.charge_enable_request bool
charge_state.charge_energy_added number
charge_state.charge_limit_soc number
charge_state.charge_limit_soc_max number
charge_state.charge_limit_soc_min number
charge_state.charge_limit_soc_std number
charge_state.charge_miles_added_ideal number
charge_state.charge_miles_added_rated number
charge_state.charge_port_cold_weather_mode bool
charge_state.charge_port_color string
charge_state.charge_port_door_open bool
charge_state.charge_port_latch string
charge_state.charge_rate number
charge_state.charger_actual_current number
charge_state.charger_phases null
charge_state.charger_pilot_current number
charge_state.charger_power number
charge_state.charger_voltage number
charge_state.charging_state string
charge_state.conn_charge_cable string
charge_state.est_battery_range number
charge_state.fast_charger_brand string
charge_state.fast_charger_present bool
charge_state.fast_charger_type string
charge_state.ideal_battery_range number
charge_state.max_range_charge_counter number
charge_state.minutes_to_full_charge number
charge_state.not_enough_power_to_heat null
charge_state.off_peak_charging_enabled bool
charge_state.off_peak_charging_times string
charge_state.off_peak_hours_end_time number
charge_state.preconditioning_enabled bool
charge_state.preconditioning_times string
charge_state.scheduled_charging_mode string
charge_state.scheduled_charging_pending bool
charge_state.scheduled_charging_start_time null
charge_state.scheduled_charging_start_time_app number
charge_state.scheduled_departure_time number
charge_state.scheduled_departure_time_minutes number
charge_state.supercharger_session_trip_planner bool
charge_state.time_to_full_charge number
charge_state.timestamp number
charge_state.trip_charging bool
charge_state.usable_battery_level number
charge_state.user_charge_enable_request null
charge_state.module_temp_min number
charge_state.module_temp_max number
charge_state.energy_remaining number
charge_state.lifetime_energy_used number
charge_state.charging_schedule_override bool
climate_state.allow_cabin_overheat_protection bool
climate_state.auto_seat_climate_left bool
climate_state.auto_seat_climate_right bool
climate_state.auto_steering_wheel_heat bool
climate_state.battery_heater bool
climate_state.battery_heater_no_power null
climate_state.cabin_overheat_protection string
climate_state.cabin_overheat_protection_actively_cooling bool
climate_state.climate_keeper_mode string
climate_state.cop_activation_temperature string
climate_state.defrost_mode number
climate_state.driver_temp_setting number
climate_state.fan_status number
climate_state.hvac_auto_request string
climate_state.inside_temp number
climate_state.is_auto_conditioning_on bool
climate_state.is_climate_on bool
climate_state.is_front_defroster_on bool
climate_state.is_preconditioning bool
climate_state.is_rear_defroster_on bool
climate_state.left_temp_direction number
climate_state.max_avail_temp number
climate_state.min_avail_temp number
climate_state.outside_temp number
climate_state.passenger_temp_setting number
climate_state.remote_heater_control_enabled bool
climate_state.right_temp_direction number
climate_state.seat_heater_left number
climate_state.seat_heater_rear_center number
climate_state.seat_heater_rear_left number
climate_state.seat_heater_rear_right number
climate_state.seat_heater_right number
climate_state.side_mirror_heaters bool
climate_state.steering_wheel_heat_level number
climate_state.steering_wheel_heater bool
climate_state.supports_fan_only_cabin_overheat_protection bool
climate_state.timestamp number
climate_state.wiper_blade_heater bool
drive_state.active_route_destination string
drive_state.active_route_latitude number
drive_state.active_route_longitude number
drive_state.active_route_miles_to_arrival number
drive_state.active_route_minutes_to_arrival number
drive_state.active_route_traffic_minutes_delay number
drive_state.gps_as_of number
drive_state.heading number
drive_state.latitude number
drive_state.longitude number
drive_state.native_latitude number
drive_state.native_location_supported number
drive_state.native_longitude number
drive_state.native_type string
drive_state.power number
drive_state.shift_state null
drive_state.speed null
drive_state.timestamp number
gui_settings.gui_24_hour_time bool
gui_settings.gui_charge_rate_units string
gui_settings.gui_distance_units string
gui_settings.gui_range_display string
gui_settings.gui_temperature_units string
gui_settings.gui_tirepressure_units string
gui_settings.show_range_units bool
gui_settings.timestamp number
vehicle_config.aux_park_lamps string
vehicle_config.badge_version number
vehicle_config.can_accept_navigation_requests bool
vehicle_config.can_actuate_trunks bool
vehicle_config.car_special_type string
vehicle_config.car_type string
vehicle_config.charge_port_type string
vehicle_config.cop_user_set_temp_supported bool
vehicle_config.dashcam_clip_save_supported bool
vehicle_config.default_charge_to_max bool
vehicle_config.driver_assist string
vehicle_config.ece_restrictions bool
vehicle_config.efficiency_package string
vehicle_config.eu_vehicle bool
vehicle_config.exterior_color string
vehicle_config.exterior_trim string
vehicle_config.exterior_trim_override string
vehicle_config.has_air_suspension bool
vehicle_config.has_ludicrous_mode bool
vehicle_config.has_seat_cooling bool
vehicle_config.headlamp_type string
vehicle_config.interior_trim_type string
vehicle_config.key_version number
vehicle_config.motorized_charge_port bool
vehicle_config.paint_color_override string
vehicle_config.performance_package string
vehicle_config.plg bool
vehicle_config.pws bool
vehicle_config.rear_drive_unit string
vehicle_config.rear_seat_heaters number
vehicle_config.rear_seat_type number
vehicle_config.rhd bool
vehicle_config.roof_color string
vehicle_config.seat_type null
vehicle_config.spoiler_type string
vehicle_config.sun_roof_installed bool
vehicle_config.supports_qr_pairing bool
vehicle_config.third_row_seats string
vehicle_config.timestamp number
vehicle_config.trim_badging string
vehicle_config.use_range_badging bool
vehicle_config.utc_offset number
vehicle_config.webcam_selfie_supported bool
vehicle_config.webcam_supported bool
vehicle_config.wheel_type string
vehicle_state.api_version number
vehicle_state.autopark_state_v2 string
vehicle_state.calendar_supported bool
vehicle_state.car_version string
vehicle_state.center_display_state number
vehicle_state.dashcam_clip_save_available bool
vehicle_state.dashcam_state string
vehicle_state.df number
vehicle_state.dr number
vehicle_state.fd_window number
vehicle_state.feature_bitmask string
vehicle_state.fp_window number
vehicle_state.ft number
vehicle_state.is_user_present bool
vehicle_state.locked bool
vehicle_state.media_state.remote_control_enabled bool
vehicle_state.notifications_supported bool
vehicle_state.odometer number
vehicle_state.parsed_calendar_supported bool
vehicle_state.pf number
vehicle_state.pr number
vehicle_state.rd_window number
vehicle_state.remote_start bool
vehicle_state.remote_start_enabled bool
vehicle_state.remote_start_supported bool
vehicle_state.rp_window number
vehicle_state.rt number
vehicle_state.santa_mode number
vehicle_state.sentry_mode bool
vehicle_state.sentry_mode_available bool
vehicle_state.service_mode bool
vehicle_state.service_mode_plus bool
vehicle_state.software_update.download_perc number
vehicle_state.software_update.expected_duration_sec number
vehicle_state.software_update.install_perc number
vehicle_state.software_update.status string
vehicle_state.software_update.version string
vehicle_state.speed_limit_mode.active bool
vehicle_state.speed_limit_mode.current_limit_mph number
vehicle_state.speed_limit_mode.max_limit_mph number
vehicle_state.speed_limit_mode.min_limit_mph number
vehicle_state.speed_limit_mode.pin_code_set bool
vehicle_state.sun_roof_state string
vehicle_state.vehicle_state_sun_roof_percent_open number
vehicle_state.timestamp number
vehicle_state.tpms_hard_warning_fl bool
vehicle_state.tpms_hard_warning_fr bool
vehicle_state.tpms_hard_warning_rl bool
vehicle_state.tpms_hard_warning_rr bool
vehicle_state.tpms_last_seen_pressure_time_fl number
vehicle_state.tpms_last_seen_pressure_time_fr number
vehicle_state.tpms_last_seen_pressure_time_rl number
vehicle_state.tpms_last_seen_pressure_time_rr number
vehicle_state.tpms_pressure_fl number
vehicle_state.tpms_pressure_fr number
vehicle_state.tpms_pressure_rl number
vehicle_state.tpms_pressure_rr number
vehicle_state.tpms_rcp_front_value number
vehicle_state.tpms_rcp_rear_value number
vehicle_state.tpms_soft_warning_fl bool
vehicle_state.tpms_soft_warning_fr bool
vehicle_state.tpms_soft_warning_rl bool
vehicle_state.tpms_soft_warning_rr bool
vehicle_state.valet_mode bool
vehicle_state.valet_pin_needed bool
vehicle_state.vehicle_name string
vehicle_state.vehicle_self_test_progress number
vehicle_state.vehicle_self_test_requested bool
vehicle_state.webcam_available bool
"""


def world(**kwargs: Any) -> World:
    return World(1, virtual_clock=True, start_time=START, **kwargs)


def car(w: World, email: str = "totp@example.com", index: int = 0) -> Vehicle:
    account = w.account_by_email(email)
    assert account is not None
    return w.vehicle(account.vins[index])


def lookup(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        assert isinstance(node, dict) and part in node, f"{path} missing"
        node = node[part]
    return node


def test_seed_determinism() -> None:
    a, b, c = World(1), World(1), World(2)
    state_a, state_b, state_c = a.state(), b.state(), c.state()
    assert state_a["accounts"] == state_b["accounts"]
    assert [v["vin"] for v in state_a["vehicles"]] == [
        v["vin"] for v in state_b["vehicles"]
    ]
    assert [v["vin"] for v in state_a["vehicles"]] != [
        v["vin"] for v in state_c["vehicles"]
    ]
    emails = [acc["email"] for acc in state_a["accounts"]]
    assert emails == [
        "nomfa@example.com",
        "totp@example.com",
        "multi@example.com",
        "captcha@example.com",
    ]
    models = {v["display_name"]: v["config"]["model"] for v in state_a["vehicles"]}
    assert models == {
        "Sparky": "Model 3",
        "Stella": "Model S",
        "Yara": "Model Y",
        "Trinity": "Model 3",
    }
    sparky = next(v for v in state_a["vehicles"] if v["display_name"] == "Sparky")
    assert not any(
        sparky["config"][k]
        for k in ("sunroof", "rear_seat_heaters", "homelink", "powered_liftgate")
    )
    assert len({len(v["vin"]) for v in state_a["vehicles"]}) == 1
    # reset returns to the same seeded world
    before = a.state()
    a.tokens.issue(a.accounts[next(iter(a.accounts))])
    a.reset()
    assert a.state()["accounts"] == before["accounts"]
    assert not a.tokens.tokens


def test_vehicles_per_account() -> None:
    w = World(3, vehicles_per_account=50)
    account = w.account_by_email("nomfa@example.com")
    assert account is not None
    assert len(account.vins) == 50
    assert len(set(account.vins)) == 50
    assert w.vehicle(account.vins[49]).display_name == "Car 50"


def test_every_reference_field_with_its_type() -> None:
    w = world()
    s = car(w)
    s.command("navigation_gps_request", {"lat": 37.6, "lon": -122.1}, w.now())
    data = vehicle_data(s, w.now(), ALL_ENDPOINTS)
    types: dict[str, type | tuple[type, ...]] = {
        "number": (int, float),
        "bool": bool,
        "string": str,
        "list": list,
    }
    for line in REFERENCE_FIELDS.strip().splitlines():
        path, kind = line.split()
        value = lookup(data, path)
        if kind == "null":
            assert value is None, path
        else:
            assert isinstance(value, types[kind]), (path, value)
            if kind == "number":
                assert not isinstance(value, bool), path
    # quirks
    assert data["charge_state"]["charge_port_color"] == "<invalid>"
    assert data["charge_state"]["conn_charge_cable"] == "<invalid>"
    assert data["charge_state"]["timestamp"] > 10**12  # ms
    assert data["drive_state"]["gps_as_of"] < 10**10  # s
    assert data["vehicle_state"]["tpms_last_seen_pressure_time_fl"] < 10**10
    assert 2 < data["vehicle_state"]["tpms_pressure_fl"] < 4  # bar
    assert isinstance(data["vehicle_state"]["df"], int)


def test_parse_endpoints() -> None:
    assert "location_data" not in parse_endpoints(None)
    assert parse_endpoints("") == parse_endpoints(None)
    assert parse_endpoints("location_data;charge_state,bogus") == (
        "charge_state",
        "location_data",
    )


def test_falls_asleep_after_idle_and_vehicle_data_keeps_it_awake() -> None:
    w = world()
    s = car(w)
    assert s.reported_state == "online"
    w.advance(899)
    assert s.reported_state == "online"
    w.advance(1)
    assert s.reported_state == "asleep"
    assert w.meter.kept_awake_s == 0
    # wake up: a few seconds later online
    s.wake_up(w.now(), w.rng)
    assert s.reported_state == "asleep"
    assert w.meter.vehicle(s.vin).wakes_caused == 1
    s.wake_up(w.now(), w.rng)  # already waking: not another wake
    assert w.meter.wakes_caused == 1
    w.advance(5.5)
    assert s.reported_state == "asleep"
    w.advance(3.0)
    assert s.reported_state == "online"
    woke = s.idle_ref
    # polling vehicle_data every 10 minutes keeps the car awake
    for _ in range(6):
        w.advance(600)
        assert s.reported_state == "online"
        s.touch_data(w.now())
    last_poll = w.now()
    w.advance(899)
    assert s.reported_state == "online"
    w.advance(1)
    assert s.reported_state == "asleep"
    # it would have slept at woke + 900; it slept at last_poll + 900
    assert w.meter.vehicle(s.vin).kept_awake_s == pytest.approx(last_poll - woke)


def test_state_is_independent_of_update_frequency() -> None:
    coarse, fine = world(), world()
    for w in (coarse, fine):
        car(w).set_activity("drive", w.now())
        car(w, index=1).set_activity("charge", w.now())
    coarse.advance(3 * 3600)
    for _ in range(1080):
        fine.advance(10)
    for index in (0, 1):
        a, b = car(coarse, index=index), car(fine, index=index)
        assert a.latitude == pytest.approx(b.latitude, abs=1e-9)
        assert a.odometer == pytest.approx(b.odometer)
        assert a.energy_kwh == pytest.approx(b.energy_kwh)
        assert a.charging_state == b.charging_state
        assert a.power == b.power


def test_driving_moves_the_car_and_uses_energy() -> None:
    w = world()
    s = car(w)
    start = (s.latitude, s.longitude, s.odometer, s.energy_kwh)
    s.set_activity("drive", w.now())
    w.advance(600)
    data = vehicle_data(s, w.now(), ALL_ENDPOINTS)
    assert data["drive_state"]["shift_state"] == "D"
    assert data["drive_state"]["speed"] == 45
    assert data["vehicle_state"]["is_user_present"] is True
    assert (s.latitude, s.longitude) != start[:2]
    assert s.odometer - start[2] == pytest.approx(7.5)
    assert s.energy_kwh < start[3]
    # a drive goes round a 30-minute circle
    w.advance(1200)
    assert s.latitude == pytest.approx(start[0], abs=1e-6)
    assert s.longitude == pytest.approx(start[1], abs=1e-6)
    w.advance(7200)
    assert s.reported_state == "online"  # driving never sleeps
    s.set_activity("park", w.now())
    w.advance(900)
    assert s.reported_state == "asleep"


def test_charging_completes_then_the_car_sleeps() -> None:
    w = world()
    s = car(w)
    s.energy_kwh = s.config.battery_kwh * 0.5
    s.set_activity("charge", w.now())
    kw = s.charger_kw
    assert kw == pytest.approx(48 * 240 / 1000)
    hours = (0.8 - 0.5) * s.config.battery_kwh / kw
    data = vehicle_data(s, w.now(), ALL_ENDPOINTS)
    assert data["charge_state"]["time_to_full_charge"] == pytest.approx(hours, abs=0.01)
    assert data["drive_state"]["power"] < 0
    w.advance(hours * 3600 - 60)
    assert s.charging_state == "Charging"
    w.advance(120)
    assert s.charging_state == "Complete"
    assert s.battery_level == pytest.approx(80)
    assert s.charge_energy_added == pytest.approx(0.3 * s.config.battery_kwh)
    w.advance(900)
    assert s.reported_state == "asleep"
    # charging a full car completes at once; no charger power, no time
    s.set_activity("charge", w.now())
    assert s.charging_state == "Complete"
    s.charge_current_request = 0
    s.charge_limit = 90
    s.charging_state = "Charging"
    w.advance(60)
    assert s.charging_state == "Charging"  # 0 A: never completes


def test_climate_changes_the_cabin_and_keeps_awake() -> None:
    w = world()
    s = car(w)
    s.inside_temp, s.outside_temp = 5.0, 5.0
    s.set_activity("climate", w.now())
    w.advance(1800)
    assert s.inside_temp == pytest.approx(21 + (5 - 21) * math.exp(-3), abs=1e-6)
    assert s.reported_state == "online"
    assert s.energy_kwh < s.config.battery_kwh
    s.set_activity("park", w.now())
    w.advance(3600)
    assert s.inside_temp < 15
    assert s.reported_state == "asleep"


def test_sentry_keeps_awake_and_commands_reset_idle() -> None:
    w = world()
    s = car(w)
    s.command("set_sentry_mode", {"on": True}, w.now())
    w.advance(5000)
    assert s.reported_state == "online"
    s.command("set_sentry_mode", {"on": False}, w.now())
    w.advance(899)
    assert s.reported_state == "online"
    w.advance(1)
    assert s.reported_state == "asleep"
    assert w.meter.kept_awake_s == 0


def test_software_update_installs_at_the_scheduled_time() -> None:
    w = world()
    s = car(w)
    old = s.car_version
    s.command("schedule_software_update", {"offset_sec": 600}, w.now())
    w.advance(600)
    assert s.update_status == "installing"
    data = vehicle_data(s, w.now() + 1350, ALL_ENDPOINTS)
    assert 1 <= data["vehicle_state"]["software_update"]["install_perc"] <= 99
    w.advance(2700)
    assert s.update_status == ""
    assert s.car_version.startswith("2024.14.9")
    assert s.car_version != old
    assert s.command("schedule_software_update", {"offset_sec": 0}, w.now()) == (
        False,
        "no_update_available",
    )
    w.advance(900)
    assert s.reported_state == "asleep"


def test_remote_start_expires_and_activities() -> None:
    w = world()
    s = car(w)
    s.command("remote_start_drive", {}, w.now())
    assert vehicle_data(s, w.now(), ["vehicle_state"])["vehicle_state"]["remote_start"]
    w.advance(121)
    assert not vehicle_data(s, w.now(), ["vehicle_state"])["vehicle_state"][
        "remote_start"
    ]
    s.set_activity("offline", w.now())
    assert s.reported_state == "offline"
    s.wake_up(w.now(), w.rng)
    assert s.reported_state == "offline"
    w.advance(3600)
    assert s.reported_state == "offline"
    s.set_activity("wake", w.now())
    assert s.reported_state == "online"
    s.set_activity("sleep", w.now())
    assert s.reported_state == "asleep"
    assert s.activity == "park"
    s.set_activity("drive", w.now())
    assert (s.reported_state, s.activity) == ("online", "drive")


def test_clocks() -> None:
    clock = VirtualClock(100.0)
    assert clock.virtual
    assert clock.advance(5) == 105
    assert clock.set(200) == 200
    with pytest.raises(ValueError):
        clock.advance(-1)
    real = RealClock()
    assert not real.virtual
    assert abs(real.now() - World(1).now()) < 60
    with pytest.raises(TypeError):
        World(1).advance(1)


def test_meter_costs_under_both_assumptions() -> None:
    meter = Meter(log_limit=3)
    for category, status in (
        ("data", 200),
        ("data", 408),
        ("data", 429),
        ("data", 503),
        ("check", 200),
        ("check", 200),
        ("command", 200),
        ("wake", 200),
        ("auth", 200),
        ("data", 0),
    ):
        meter.record(
            now=1.0, method="GET", path="/x", status=status, category=category, vin="V"
        )
    assert meter.requests["data"] == 5
    assert meter.billed["data"] == 3
    assert meter.usd() == pytest.approx(3 * 0.002 + 2 * 0.002 + 0.001 + 0.02)
    assert meter.usd(checks_free=True) == pytest.approx(3 * 0.002 + 0.001 + 0.02)
    view = meter.as_dict(log=10)
    assert len(view["log"]) == 3  # bounded
    assert view["vehicles"]["V"]["requests"]["check"] == 2
    assert view["vehicles"]["V"]["usd_checks_free"] == pytest.approx(0.027)
    assert view["statuses"]["503"] == 1
    meter.add_kept_awake("V", -5)
    meter.add_kept_awake("V", 5)
    assert meter.kept_awake_s == 5
    meter.reset(2.0)
    assert meter.as_dict()["total"] == 0
    assert meter.since == 2.0


def test_fault_parsing() -> None:
    faults = Faults()
    bad: Any
    for bad in (
        [],
        {"kind": "explode"},
        {"kind": "outage", "seconds": -1},
        {"kind": "outage", "seconds": True},
        {"kind": "outage", "paths": "/api"},
        {"kind": "outage", "paths": ["api"]},
        {"kind": "outage", "status": 404},
        {"kind": "revoke_token", "email": 3},
    ):
        with pytest.raises(FaultError):
            faults.parse(bad, 0.0)
    fault = faults.add(faults.parse({"kind": "rate_limit"}, 10.0))
    assert fault.retry_after_s(10.0) == 60
    assert fault.as_dict()["end"] is None
    timed = faults.add(
        faults.parse({"kind": "rate_limit", "seconds": 30.5, "start_in": 10}, 10.0)
    )
    assert not timed.active(15.0)
    assert timed.retry_after_s(25.0) == 26
    fixed = faults.parse({"kind": "rate_limit", "retry_after": 7, "start_at": 0}, 5.0)
    assert fixed.retry_after_s(5.0) == 7
    assert len(faults) == 2
    faults.prune(100.0)
    assert [f.kind for f in faults] == ["rate_limit"]
    assert faults.clear("outage") == 0
    assert faults.clear() == 1


class JumpClock:
    """A clock a test can set anywhere, backwards included (like freezegun)."""

    def __init__(self, now: float) -> None:
        self.value = now

    @property
    def virtual(self) -> bool:
        return True

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> float:
        self.value += seconds
        return self.value


def test_clock_jumping_backwards() -> None:
    clock = JumpClock(START)
    w = World(1, clock=clock)
    s = car(w)
    w.advance(600)
    clock.value = START - 86400  # frozen in the past
    w.tick()
    assert s.reported_state == "online"
    w.advance(299)
    assert s.reported_state == "online"
    w.advance(1)
    assert s.reported_state == "asleep"  # 900 s of idle in total
    for _ in range(60):
        w.rate_limits.hit(s.vin, "data", START)
    assert w.rate_limits.hit(s.vin, "data", START)[2] > 0
    assert w.rate_limits.hit(s.vin, "data", START - 1000)[2] == 0


def test_odd_corners() -> None:
    w = world()
    s = car(w)
    s.set_activity("charge", w.now())
    assert s.activity == "charge"
    s.set_activity("park", w.now())
    s.set_activity("climate", w.now())
    assert s.activity == "climate"
    s.command("schedule_software_update", {"offset_sec": 100}, w.now())
    s.update(w.now() - 50)  # a backwards jump moves the schedule along
    assert s.update_scheduled_at == pytest.approx(w.now() + 50)
    w.advance(60)
    s.update(w.now())
    assert s.update_status == "installing"
    started = s.install_started_at
    assert started is not None
    s.update(w.now() - 10)
    assert s.install_started_at == pytest.approx(started - 10)
    s.set_location(s.home_latitude + 0.01, s.home_longitude)  # ~0.7 miles from home
    assert s.command(
        "trigger_homelink", {"lat": s.latitude, "lon": s.longitude}, w.now()
    ) == (
        False,
        "no homelink device nearby",
    )
    with pytest.raises(ValueError):
        s.command("actuate_trunk", {"which_trunk": 1}, w.now())
    s.set_activity("sleep", w.now())
    w.advance(10)
    assert s.reported_state == "asleep"
