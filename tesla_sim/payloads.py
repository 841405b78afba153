"""Fleet API payloads built from a ``Vehicle``: the summary and ``vehicle_data``.

Field names, nesting and value types follow one real recorded response (see
``shared/reference/vehicle_data_fields.tsv``), including its quirks: integers for doors and
windows, ``"<invalid>"`` sentinels, null ``shift_state``/``speed`` when parked, ``*.timestamp``
in milliseconds, ``gps_as_of`` in seconds, miles/mph, °C, bar and kW.
"""

from collections.abc import Iterable
import math
from typing import Any

from .car import CHARGING, DISCONNECTED, distance_miles
from .commands.climate import COP_TEMPS
from .configs import SEAT_HEATERS, vehicle_config
from .vehicles import Vehicle

ALL_ENDPOINTS = (
    "charge_state",
    "climate_state",
    "closures_state",
    "drive_state",
    "gui_settings",
    "location_data",
    "vehicle_config",
    "vehicle_state",
)
DEFAULT_ENDPOINTS = tuple(e for e in ALL_ENDPOINTS if e != "location_data")
ROUTE_MPH = 30.0


def summary(vehicle: Vehicle) -> dict[str, Any]:
    """A vehicle item: of ``GET /api/1/vehicles`` and ``/products``, ``GET /api/1/vehicles/{id}``.

    ``tokens`` is null since 2024; ``command_signing`` tells whether the car takes plain
    REST commands (``required``, ``allowed`` or ``off``).
    """
    return {
        "id": vehicle.id,
        "vehicle_id": vehicle.vehicle_id,
        "vin": vehicle.vin,
        "color": None,
        "access_type": "OWNER",
        "display_name": vehicle.display_name,
        "option_codes": None,
        "granular_access": {"hide_private": False},
        "tokens": None,
        "state": vehicle.reported_state,
        "in_service": vehicle.in_service,
        "id_s": str(vehicle.id),
        "calendar_enabled": True,
        "api_version": 71,
        "backseat_token": None,
        "backseat_token_updated_at": None,
        "ble_autopair_enrolled": False,
        "command_signing": vehicle.command_signing,
        "release_notes_supported": True,
    }


def parse_endpoints(raw: str | None) -> tuple[str, ...]:
    """The ``endpoints`` query: ``;``-separated (commas tolerated); absent = all but location."""
    if raw is None or not raw.strip():
        return DEFAULT_ENDPOINTS
    names = [p.strip() for p in raw.replace(",", ";").split(";")]
    return tuple(n for n in ALL_ENDPOINTS if n in names)


def vehicle_data(
    vehicle: Vehicle,
    now: float,
    endpoints: Iterable[str] = DEFAULT_ENDPOINTS,
    *,
    location_allowed: bool = True,
) -> dict[str, Any]:
    """The ``response`` object of ``vehicle_data`` for the requested endpoints."""
    wanted = set(endpoints)
    with_location = "location_data" in wanted and location_allowed
    ts = int(now * 1000)
    data = summary(vehicle)
    data["user_id"] = vehicle.user_id
    data["tokens"] = list(vehicle.tokens)  # as in the recorded response
    if "charge_state" in wanted:
        data["charge_state"] = charge_state(vehicle, now, ts)
    if "climate_state" in wanted:
        data["climate_state"] = climate_state(vehicle, ts)
    if "drive_state" in wanted or with_location:
        data["drive_state"] = drive_state(vehicle, now, ts, with_location=with_location)
    if "gui_settings" in wanted:
        data["gui_settings"] = gui_settings(ts)
    if "vehicle_config" in wanted:
        data["vehicle_config"] = vehicle_config(vehicle.config, ts)
    if "vehicle_state" in wanted or "closures_state" in wanted:
        data["vehicle_state"] = vehicle_state(vehicle, now, ts)
    return data


def _r(value: float, digits: int = 2) -> float:
    return round(value, digits)


def charge_state(v: Vehicle, now: float, ts: int) -> dict[str, Any]:
    """``charge_state``."""
    level = v.battery_level
    range_mi = v.config.full_range_mi * level / 100.0
    kw = v.charger_kw
    charging = v.charging_state == CHARGING
    plugged = v.charging_state != DISCONNECTED
    remaining_kwh = max(0.0, v.limit_kwh - v.energy_kwh)
    hours_to_full = remaining_kwh / kw if charging and kw > 0 else 0.0
    miles_per_kwh = 1000.0 / v.config.wh_per_mi
    amps = min(v.charge_current_request, v.config.max_amps)
    scheduled_start: int | None = None
    if v.scheduled_charging_enabled:
        midnight = now - now % 86400
        start = midnight + v.scheduled_charging_time * 60
        scheduled_start = int(start if start > now else start + 86400)
    if v.scheduled_departure_enabled:
        mode = "DepartBy"
    elif v.scheduled_charging_enabled:
        mode = "StartAt"
    else:
        mode = "Off"
    return {
        "battery_heater_on": False,
        "battery_level": round(level),
        "battery_range": _r(range_mi),
        "charge_amps": v.charge_current_request,
        "charge_current_request": v.charge_current_request,
        "charge_current_request_max": v.config.max_amps,
        "charge_enable_request": charging,
        "charge_energy_added": _r(v.charge_energy_added),
        "charge_limit_soc": v.charge_limit,
        "charge_limit_soc_max": 100,
        "charge_limit_soc_min": 50,
        "charge_limit_soc_std": 80,
        "charge_miles_added_ideal": _r(v.charge_energy_added * miles_per_kwh, 1),
        "charge_miles_added_rated": _r(v.charge_energy_added * miles_per_kwh, 1),
        "charge_port_cold_weather_mode": False,
        "charge_port_color": "<invalid>",
        "charge_port_door_open": v.charge_port_door_open,
        "charge_port_latch": v.charge_port_latch,
        "charge_rate": _r(kw * miles_per_kwh, 1),
        "charger_actual_current": amps if charging else 0,
        "charger_phases": 1 if charging else None,
        "charger_pilot_current": v.config.max_amps,
        "charger_power": round(kw),
        "charger_voltage": 241 if charging else (2 if plugged else 0),
        "charging_state": v.charging_state,
        "conn_charge_cable": "SAE" if plugged else "<invalid>",
        "est_battery_range": _r(range_mi * 0.92),
        "fast_charger_brand": "<invalid>",
        "fast_charger_present": False,
        "fast_charger_type": "ACSingleWireCAN" if plugged else "<invalid>",
        "ideal_battery_range": _r(range_mi),
        "max_range_charge_counter": 0,
        "minutes_to_full_charge": math.ceil(hours_to_full * 60),
        "not_enough_power_to_heat": None,
        "off_peak_charging_enabled": v.off_peak_charging_enabled,
        "off_peak_charging_times": "all_week",
        "off_peak_hours_end_time": v.off_peak_hours_end_time,
        "preconditioning_enabled": v.preconditioning_enabled,
        "preconditioning_times": "all_week",
        "scheduled_charging_mode": mode,
        "scheduled_charging_pending": v.scheduled_charging_enabled and not charging,
        "scheduled_charging_start_time": scheduled_start,
        "scheduled_charging_start_time_app": v.scheduled_charging_time,
        "scheduled_departure_time": int(now - now % 86400)
        + v.scheduled_departure_minutes * 60,
        "scheduled_departure_time_minutes": v.scheduled_departure_minutes,
        "supercharger_session_trip_planner": False,
        "time_to_full_charge": _r(hours_to_full),
        "timestamp": ts,
        "trip_charging": False,
        "usable_battery_level": max(0, round(level) - 1),
        "user_charge_enable_request": None,
        "module_temp_min": 16.5,
        "module_temp_max": 18,
        "energy_remaining": _r(v.energy_kwh),
        "lifetime_energy_used": _r(v.lifetime_energy_used, 3),
        "charging_schedule_override": False,
    }


def climate_state(v: Vehicle, ts: int) -> dict[str, Any]:
    """``climate_state`` (rear / third-row / cooling fields only where fitted)."""
    state: dict[str, Any] = {
        "allow_cabin_overheat_protection": True,
        "auto_seat_climate_left": v.auto_seat_climate[1],
        "auto_seat_climate_right": v.auto_seat_climate[2],
        "auto_steering_wheel_heat": v.auto_steering_wheel_heat,
        "battery_heater": False,
        "battery_heater_no_power": None,
        "cabin_overheat_protection": v.cabin_overheat_protection,
        "cabin_overheat_protection_actively_cooling": False,
        "climate_keeper_mode": v.keeper_mode,
        "cop_activation_temperature": COP_TEMPS[v.cop_temp],
        "defrost_mode": 2 if v.defrost else 0,
        "driver_temp_setting": v.driver_temp,
        "fan_status": 4 if v.climate_on else 0,
        "hvac_auto_request": "On",
        "inside_temp": _r(v.inside_temp, 1),
        "is_auto_conditioning_on": v.climate_on,
        "is_climate_on": v.climate_on,
        "is_front_defroster_on": v.defrost,
        "is_preconditioning": v.climate_on and not v.driving,
        "is_rear_defroster_on": v.defrost,
        "left_temp_direction": 251 if v.climate_on else 0,
        "max_avail_temp": 28,
        "min_avail_temp": 15,
        "outside_temp": _r(v.outside_temp, 1),
        "passenger_temp_setting": v.passenger_temp,
        "remote_heater_control_enabled": v.climate_on,
        "right_temp_direction": 251 if v.climate_on else 0,
        "side_mirror_heaters": v.defrost,
        "steering_wheel_heat_level": v.steering_wheel_heat_level,
        "steering_wheel_heater": v.steering_wheel_heater,
        "supports_fan_only_cabin_overheat_protection": True,
        "timestamp": ts,
        "wiper_blade_heater": v.defrost,
    }
    for seat in v.config.heated_seats():
        state[f"seat_heater_{SEAT_HEATERS[seat]}"] = v.seat_heaters.get(seat, 0)
    if v.config.seat_cooling:
        state["seat_fan_front_left"] = v.seat_coolers.get(1, 0)
        state["seat_fan_front_right"] = v.seat_coolers.get(2, 0)
    return state


def drive_state(
    v: Vehicle, now: float, ts: int, *, with_location: bool
) -> dict[str, Any]:
    """``drive_state``; location fields only with ``location_data``."""
    state: dict[str, Any] = {
        "power": 0,
        "shift_state": None,
        "speed": None,
        "timestamp": ts,
    }
    if v.driving:
        state["power"] = round(v.speed_mph * v.config.wh_per_mi / 1000.0)
        state["shift_state"] = "D"
        state["speed"] = v.speed_mph
    elif v.charging:
        state["power"] = -round(v.charger_kw)
    if v.destination is not None:
        miles = distance_miles(
            v.latitude, v.longitude, v.destination_lat, v.destination_lon
        )
        state["active_route_destination"] = v.destination
        state["active_route_energy_at_arrival"] = _r(
            max(0.0, v.energy_kwh - miles * v.config.wh_per_mi / 1000.0)
        )
        state["active_route_miles_to_arrival"] = _r(miles, 6)
        state["active_route_minutes_to_arrival"] = _r(miles / ROUTE_MPH * 60.0, 6)
        state["active_route_traffic_minutes_delay"] = 0
        if with_location:
            state["active_route_latitude"] = v.destination_lat
            state["active_route_longitude"] = v.destination_lon
    if with_location:
        state.update(
            {
                "gps_as_of": int(v.gps_as_of or now),
                "heading": round(v.heading) % 360,
                "latitude": round(v.latitude, 6),
                "longitude": round(v.longitude, 6),
                "native_latitude": round(v.latitude, 6),
                "native_location_supported": 1,
                "native_longitude": round(v.longitude, 6),
                "native_type": "wgs",
            }
        )
    return state


def gui_settings(ts: int) -> dict[str, Any]:
    """``gui_settings`` (preferences only; the API's units never follow them)."""
    return {
        "gui_24_hour_time": False,
        "gui_charge_rate_units": "kW",
        "gui_distance_units": "km/hr",
        "gui_range_display": "Rated",
        "gui_temperature_units": "C",
        "gui_tirepressure_units": "Psi",
        "show_range_units": False,
        "timestamp": ts,
    }


def _software_update(v: Vehicle, now: float) -> dict[str, Any]:
    update: dict[str, Any] = {
        "download_perc": 100 if v.update_status else 0,
        "expected_duration_sec": int(v.install_seconds),
        "install_perc": 1,
        "status": v.update_status,
        "version": v.update_version or " ",
    }
    if v.install_started_at is not None:
        done = (now - v.install_started_at) / v.install_seconds
        update["install_perc"] = max(1, min(99, int(done * 100)))
    if v.update_scheduled_at is not None:
        update["scheduled_time_ms"] = int(v.update_scheduled_at * 1000)
        update["warning_time_remaining_ms"] = max(
            0, int((v.update_scheduled_at - now) * 1000)
        )
    return update


def _media_info(v: Vehicle) -> dict[str, Any]:
    return {
        "a2dp_source_name": "",
        "audio_volume": round(v.media_volume, 4),
        "audio_volume_increment": 0.333333,
        "audio_volume_max": 10.333333,
        "media_playback_status": "Playing" if v.media_playing else "Stopped",
        "now_playing_album": "",
        "now_playing_artist": "",
        "now_playing_duration": 0,
        "now_playing_elapsed": 0,
        "now_playing_source": "Spotify",
        "now_playing_station": "",
        "now_playing_title": f"Track {v.media_track + 1}" if v.media_playing else "",
    }


def vehicle_state(v: Vehicle, now: float, ts: int) -> dict[str, Any]:
    """``vehicle_state`` (also what the ``closures_state`` endpoint returns)."""
    seen = int(now) - 600
    pressure = {"fl": 2.775, "fr": 2.8, "rl": 2.775, "rr": 2.775}
    state: dict[str, Any] = {
        "api_version": 71,
        "autopark_state_v2": "unavailable",
        "calendar_supported": True,
        "car_version": v.car_version,
        "center_display_state": 2 if v.driving else 0,
        "dashcam_clip_save_available": True,
        "dashcam_state": "Recording" if v.driving or v.sentry_mode else "Unavailable",
        "feature_bitmask": "fbdffbff,187f",
        "is_user_present": v.user_present,
        "locked": v.locked,
        "media_info": _media_info(v),
        "media_state": {"remote_control_enabled": True},
        "notifications_supported": True,
        "odometer": round(v.odometer, 6),
        "parsed_calendar_supported": True,
        "remote_start": now < v.remote_start_until,
        "remote_start_enabled": True,
        "remote_start_supported": True,
        "santa_mode": 0,
        "sentry_mode": v.sentry_mode,
        "sentry_mode_available": True,
        "service_mode": False,
        "service_mode_plus": False,
        "software_update": _software_update(v, now),
        "speed_limit_mode": {
            "active": False,
            "current_limit_mph": 69,
            "max_limit_mph": 120,
            "min_limit_mph": 50,
            "pin_code_set": True,
        },
        "timestamp": ts,
        "valet_mode": v.valet_mode,
        "valet_pin_needed": v.valet_pin is not None,
        "vehicle_name": v.display_name,
        "vehicle_self_test_progress": 0,
        "vehicle_self_test_requested": False,
        "webcam_available": True,
    }
    state.update(v.doors)
    state.update(v.windows)
    for corner, bar in pressure.items():
        state[f"tpms_hard_warning_{corner}"] = False
        state[f"tpms_soft_warning_{corner}"] = False
        state[f"tpms_last_seen_pressure_time_{corner}"] = seen
        state[f"tpms_pressure_{corner}"] = bar
    state["tpms_rcp_front_value"] = 2.9
    state["tpms_rcp_rear_value"] = 2.9
    if v.config.sunroof:
        state["sun_roof_state"] = v.sun_roof_state
        state["vehicle_state_sun_roof_percent_open"] = v.sun_roof_percent_open
        state["sun_roof_percent_open"] = v.sun_roof_percent_open
    if v.config.homelink:
        state["homelink_device_count"] = 2
        state["homelink_nearby"] = v.homelink_nearby()
    return dict(sorted(state.items()))
