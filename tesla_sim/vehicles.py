"""Virtual cars: configuration, a lazily-evaluated state machine and every command.

Nothing runs in the background. ``Vehicle.update(now)`` integrates the car from the last
time it was looked at up to ``now`` -- waking, driving, charging, climate, software
installs and falling asleep -- event by event, so the result does not depend on how often
it is called.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
import math
import random
from typing import Any

POWER_ONLINE = "online"
POWER_ASLEEP = "asleep"
POWER_OFFLINE = "offline"
POWER_WAKING = "waking"  # reported as "asleep" until the wake completes

CHARGING = "Charging"
STOPPED = "Stopped"
COMPLETE = "Complete"
DISCONNECTED = "Disconnected"

KEEPER_MODES = ("off", "keep", "dog", "camp")
DRIVE_SPEED_MPH = 45
DRIVE_TURN_DEG_S = 0.2  # drives go round a circle every 30 minutes
CLIMATE_KW = 1.5
CHARGER_VOLTAGE = 240
MILES_PER_DEG_LAT = 69.0
REMOTE_START_SECONDS = 120.0
MILES_PER_KM = 0.621371

# remote_seat_heater_request "heater" index -> climate_state field suffix
SEAT_HEATERS = {
    0: "left",
    1: "right",
    2: "rear_left",
    4: "rear_center",
    5: "rear_right",
    6: "third_row_left",
    7: "third_row_right",
}
FRONT_SEATS = (0, 1)
REAR_SEATS = (2, 4, 5)
THIRD_ROW_SEATS = (6, 7)


class CommandError(ValueError):
    """A command request the API rejects with HTTP 400 (unknown command, bad parameter)."""


@dataclass(frozen=True, slots=True)
class VehicleConfig:
    """What a car is and which optional hardware it has."""

    model: str
    car_type: str
    trim_badging: str
    vin_prefix: str
    battery_kwh: float
    full_range_mi: float
    wh_per_mi: float
    max_amps: int
    sunroof: bool = False
    rear_seat_heaters: bool = False
    third_row_seats: bool = False
    seat_cooling: bool = False
    homelink: bool = False
    powered_liftgate: bool = False
    air_suspension: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON view (``GET /__sim__/state``)."""
        return {
            "model": self.model,
            "car_type": self.car_type,
            "battery_kwh": self.battery_kwh,
            "sunroof": self.sunroof,
            "rear_seat_heaters": self.rear_seat_heaters,
            "third_row_seats": self.third_row_seats,
            "seat_cooling": self.seat_cooling,
            "homelink": self.homelink,
            "powered_liftgate": self.powered_liftgate,
            "air_suspension": self.air_suspension,
        }


BASE_CONFIGS: dict[str, VehicleConfig] = {
    "Model 3": VehicleConfig(
        model="Model 3",
        car_type="model3",
        trim_badging="74d",
        vin_prefix="5YJ3E1EB",
        battery_kwh=75.0,
        full_range_mi=333.0,
        wh_per_mi=240.0,
        max_amps=32,
    ),
    "Model S": VehicleConfig(
        model="Model S",
        car_type="models",
        trim_badging="100d",
        vin_prefix="5YJSA1E4",
        battery_kwh=100.0,
        full_range_mi=405.0,
        wh_per_mi=300.0,
        max_amps=48,
    ),
    "Model Y": VehicleConfig(
        model="Model Y",
        car_type="modely",
        trim_badging="74d",
        vin_prefix="7SAYGDEE",
        battery_kwh=75.0,
        full_range_mi=310.0,
        wh_per_mi=270.0,
        max_amps=32,
        rear_seat_heaters=True,
        powered_liftgate=True,
    ),
}


def make_config(model: str, *, all_options: bool = False) -> VehicleConfig:
    """The base configuration of ``model``, optionally with every option fitted."""
    base = BASE_CONFIGS[model]
    if not all_options:
        return base
    return VehicleConfig(
        model=base.model,
        car_type=base.car_type,
        trim_badging=base.trim_badging,
        vin_prefix=base.vin_prefix,
        battery_kwh=base.battery_kwh,
        full_range_mi=base.full_range_mi,
        wh_per_mi=base.wh_per_mi,
        max_amps=base.max_amps,
        sunroof=True,
        rear_seat_heaters=True,
        third_row_seats=True,
        seat_cooling=True,
        homelink=True,
        powered_liftgate=True,
        air_suspension=True,
    )


def distance_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 3958.8 * math.asin(min(1.0, math.sqrt(a)))


# -- parameter helpers (bad parameters are HTTP 400, like the real API) -------------------


def _param(params: Mapping[str, Any], key: str) -> Any:
    if key not in params:
        raise CommandError(f"missing parameter {key}")
    return params[key]


def p_bool(params: Mapping[str, Any], key: str, default: bool | None = None) -> bool:
    """A boolean parameter."""
    if default is not None and key not in params:
        return default
    value = _param(params, key)
    if not isinstance(value, bool):
        raise CommandError(f"{key} must be a boolean")
    return value


def p_number(
    params: Mapping[str, Any], key: str, default: float | None = None
) -> float:
    """A numeric parameter (int or float, not bool)."""
    if default is not None and key not in params:
        return default
    value = _param(params, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(f"{key} must be a number")
    return float(value)


def p_int(params: Mapping[str, Any], key: str, default: int | None = None) -> int:
    """An integer parameter (a float with an integral value is accepted)."""
    number = p_number(params, key, None if default is None else float(default))
    if not number.is_integer():
        raise CommandError(f"{key} must be an integer")
    return int(number)


def p_str(params: Mapping[str, Any], key: str) -> str:
    """A string parameter."""
    value = _param(params, key)
    if not isinstance(value, str):
        raise CommandError(f"{key} must be a string")
    return value


Result = tuple[bool, str]
OK: Result = (True, "")


@dataclass(slots=True)
class Vehicle:
    """One virtual car. Mutable; always call ``update(now)`` before reading or changing it."""

    id: int
    vehicle_id: int
    user_id: int
    vin: str
    display_name: str
    config: VehicleConfig
    account_id: str
    created_at: float
    sleep_after: float = 900.0
    wake_seconds: float = 7.0
    on_wake_caused: Callable[[str], None] | None = None
    on_kept_awake: Callable[[str, float], None] | None = None
    tokens: tuple[str, str] = ("", "")

    # sleep state machine
    power: str = POWER_ONLINE
    online_at: float = 0.0
    updated_at: float = 0.0
    idle_ref: float = 0.0  # last activity, command or vehicle_data
    idle_ref_cf: float = 0.0  # the same without vehicle_data (counterfactual)
    requires_command_signing: bool = False
    in_service: bool = False

    # drive
    driving: bool = False
    speed_mph: int = DRIVE_SPEED_MPH
    heading: float = 185.0
    latitude: float = 37.4925
    longitude: float = -121.9447
    home_latitude: float = 37.4925
    home_longitude: float = -121.9447
    odometer: float = 6481.019282
    drive_origin: tuple[float, float] = (0.0, 0.0)
    drive_north: float = 0.0  # miles since the drive started
    drive_east: float = 0.0
    user_present: bool = False
    remote_start_until: float = 0.0
    gps_as_of: float = 0.0

    # charge
    energy_kwh: float = 50.0
    charge_limit: int = 80
    charge_current_request: int = 16
    plugged: bool = False
    charging_state: str = DISCONNECTED
    charge_energy_added: float = 0.0
    charge_port_door_open: bool = False
    charge_port_latch: str = "Engaged"
    scheduled_charging_enabled: bool = False
    scheduled_charging_time: int = 600
    scheduled_departure_enabled: bool = False
    scheduled_departure_minutes: int = 480
    preconditioning_enabled: bool = False
    off_peak_charging_enabled: bool = False
    off_peak_hours_end_time: int = 900
    lifetime_energy_used: float = 20505.629

    # climate
    climate_on: bool = False
    driver_temp: float = 21.0
    passenger_temp: float = 21.0
    inside_temp: float = 18.0
    outside_temp: float = 12.0
    defrost: bool = False
    keeper_mode: str = "off"
    cabin_overheat_protection: str = "On"
    seat_heaters: dict[int, int] = field(default_factory=dict)
    seat_coolers: dict[int, int] = field(default_factory=dict)
    steering_wheel_heater: bool = False

    # closures
    locked: bool = True
    doors: dict[str, int] = field(
        default_factory=lambda: {"df": 0, "dr": 0, "pf": 0, "pr": 0, "ft": 0, "rt": 0}
    )
    windows: dict[str, int] = field(
        default_factory=lambda: {
            "fd_window": 0,
            "fp_window": 0,
            "rd_window": 0,
            "rp_window": 0,
        }
    )
    sun_roof_state: str = "closed"
    sun_roof_percent_open: int = 0
    sentry_mode: bool = False
    valet_mode: bool = False
    valet_pin: str | None = None

    # software
    car_version: str = "2024.8.9 3c2b4a0f1e2d"
    update_status: str = "available"
    update_version: str = "2024.14.9"
    update_scheduled_at: float | None = None
    install_started_at: float | None = None
    install_seconds: float = 2700.0

    # navigation
    destination: str | None = None
    destination_lat: float = 0.0
    destination_lon: float = 0.0

    # counters
    horn_honks: int = 0
    light_flashes: int = 0
    homelink_triggers: int = 0

    # -- derived ---------------------------------------------------------------------------

    @property
    def battery_level(self) -> float:
        """State of charge in percent (float)."""
        return max(0.0, min(100.0, self.energy_kwh / self.config.battery_kwh * 100.0))

    @property
    def charging(self) -> bool:
        """Is the car drawing power?"""
        return self.charging_state == CHARGING

    @property
    def installing(self) -> bool:
        """Is a software update installing?"""
        return self.install_started_at is not None

    @property
    def charger_kw(self) -> float:
        """Charging power while charging."""
        if not self.charging:
            return 0.0
        amps = min(self.charge_current_request, self.config.max_amps)
        return amps * CHARGER_VOLTAGE / 1000.0

    @property
    def reported_state(self) -> str:
        """The sleep state the API reports: online, asleep or offline."""
        if self.power == POWER_WAKING:
            return POWER_ASLEEP
        return self.power

    @property
    def is_online(self) -> bool:
        """Can the car answer vehicle_data and commands?"""
        return self.power == POWER_ONLINE

    @property
    def activity(self) -> str:
        """What the car is doing: park, drive, charge or climate."""
        if self.driving:
            return "drive"
        if self.charging:
            return "charge"
        if self.climate_on:
            return "climate"
        return "park"

    def idle(self) -> bool:
        """Parked with nothing that keeps the car awake."""
        return not (
            self.driving
            or self.charging
            or self.climate_on
            or self.sentry_mode
            or self.installing
        )

    def homelink_nearby(self) -> bool:
        """Is the car within ~300 m of home?"""
        return (
            distance_miles(
                self.latitude, self.longitude, self.home_latitude, self.home_longitude
            )
            < 0.2
        )

    # -- time --------------------------------------------------------------------------------

    def update(self, now: float) -> None:
        """Bring the car's state forward to ``now``, event by event.

        When the clock jumps backwards (a test freezing time in the past), the car's
        timers move with it, as if that moment were "now" for the car.
        """
        if now < self.updated_at:
            self._shift_time(now - self.updated_at)
        for _ in range(10_000):
            if self.updated_at >= now:
                return
            t0 = self.updated_at
            t1 = min(now, self._next_event(t0))
            self._integrate(t0, t1)
            self.updated_at = t1
            self._handle_events(t1)
        self.updated_at = now  # pragma: no cover - a safety net against a logic loop

    def _shift_time(self, delta: float) -> None:
        self.updated_at += delta
        self.idle_ref += delta
        self.idle_ref_cf += delta
        self.online_at += delta
        self.gps_as_of += delta
        self.remote_start_until += delta
        if self.update_scheduled_at is not None:
            self.update_scheduled_at += delta
        if self.install_started_at is not None:
            self.install_started_at += delta

    def _next_event(self, t0: float) -> float:
        """The earliest time after (or at) ``t0`` at which something changes by itself."""
        if self.power == POWER_WAKING:
            return self.online_at
        if self.power != POWER_ONLINE:
            return math.inf
        events = [math.inf]
        if self.charging:
            kw = self.charger_kw
            remaining = (
                self.charge_limit / 100.0 * self.config.battery_kwh - self.energy_kwh
            )
            events.append(
                t0 + max(0.0, remaining) / kw * 3600.0 if kw > 0 else math.inf
            )
        if self.update_scheduled_at is not None:
            events.append(self.update_scheduled_at)
        if self.install_started_at is not None:
            events.append(self.install_started_at + self.install_seconds)
        if self.idle():
            events.append(self.idle_ref + self.sleep_after)
        return max(t0, min(events))

    def _integrate(self, t0: float, t1: float) -> None:
        """Physics over [t0, t1] during which nothing but continuous quantities change."""
        dt = t1 - t0
        if dt <= 0:
            return
        online = self.power == POWER_ONLINE
        # cabin temperature relaxes towards the setting (climate on) or the outside
        if online and self.climate_on:
            target, tau = (28.0 if self.defrost else self.driver_temp), 600.0
        else:
            target, tau = self.outside_temp, 3600.0
        self.inside_temp = target + (self.inside_temp - target) * math.exp(-dt / tau)
        if not online:
            return
        self.gps_as_of = t1
        if self.driving:
            self._drive(dt)
        if self.charging:
            added = self.charger_kw * dt / 3600.0
            self.energy_kwh += added
            self.charge_energy_added += added
        elif self.climate_on:
            self._use_energy(CLIMATE_KW * dt / 3600.0)
        if self.idle():
            # the part of [t0, t1] the car would have slept through without our vehicle_data
            would_sleep = self.idle_ref_cf + self.sleep_after
            kept = t1 - max(t0, would_sleep)
            if kept > 0 and self.on_kept_awake is not None:
                self.on_kept_awake(self.vin, kept)

    def _use_energy(self, kwh: float) -> None:
        self.energy_kwh = max(0.0, self.energy_kwh - kwh)
        self.lifetime_energy_used += kwh

    def _drive(self, dt: float) -> None:
        miles_per_s = self.speed_mph / 3600.0
        omega = math.radians(DRIVE_TURN_DEG_S)
        h0 = math.radians(self.heading)
        h1 = h0 + omega * dt
        radius = miles_per_s / omega
        north = radius * (math.sin(h1) - math.sin(h0))
        east = radius * (math.cos(h0) - math.cos(h1))
        # a local flat frame around where the drive started: exact for any step size
        self.drive_north += north
        self.drive_east += east
        lat0, lon0 = self.drive_origin
        cos_lat = max(0.01, math.cos(math.radians(lat0)))
        self.latitude = lat0 + self.drive_north / MILES_PER_DEG_LAT
        self.longitude = lon0 + self.drive_east / (MILES_PER_DEG_LAT * cos_lat)
        self.heading = math.degrees(h1) % 360.0
        miles = miles_per_s * dt
        self.odometer += miles
        self._use_energy(miles * self.config.wh_per_mi / 1000.0)

    def _handle_events(self, t: float) -> None:
        """Discrete changes due at ``t``."""
        if self.power == POWER_WAKING:
            if t >= self.online_at:
                self.power = POWER_ONLINE
                self.idle_ref = self.idle_ref_cf = t
            return
        if self.power != POWER_ONLINE:
            return
        if (
            self.charging
            and self.energy_kwh
            >= self.charge_limit / 100.0 * self.config.battery_kwh - 1e-9
        ):
            self.charging_state = COMPLETE
            self.idle_ref = self.idle_ref_cf = t
        if self.update_scheduled_at is not None and t >= self.update_scheduled_at:
            self.update_scheduled_at = None
            self.install_started_at = t
            self.update_status = "installing"
        if (
            self.install_started_at is not None
            and t >= self.install_started_at + self.install_seconds
        ):
            self.install_started_at = None
            self.car_version = f"{self.update_version} 7a1c0de5b2f4"
            self.update_status = ""
            self.update_version = ""
            self.idle_ref = self.idle_ref_cf = t
        if self.idle() and t >= self.idle_ref + self.sleep_after:
            self.power = POWER_ASLEEP

    # -- interactions ---------------------------------------------------------------------

    def touch_data(self, now: float) -> None:
        """vehicle_data answered: resets the idle timer (not the counterfactual one)."""
        self.idle_ref = now

    def touch_user(self, now: float) -> None:
        """A command or a scripted activity: resets both idle timers."""
        self.idle_ref = self.idle_ref_cf = now

    def wake_up(self, now: float, rng: random.Random) -> None:
        """Handle a ``wake_up`` request."""
        if self.power == POWER_ASLEEP:
            self.power = POWER_WAKING
            self.online_at = now + self.wake_seconds * rng.uniform(0.8, 1.2)
            if self.on_wake_caused is not None:
                self.on_wake_caused(self.vin)
        elif self.power == POWER_ONLINE:
            self.touch_data(now)

    def force_online(self, now: float) -> None:
        """Someone used the car (not us): online now."""
        self.power = POWER_ONLINE
        self.touch_user(now)

    def set_activity(self, activity: str, now: float) -> None:
        """Script the car (control API). ``activity`` is validated by the caller."""
        if activity == "sleep":
            self._stop_everything()
            self.power = POWER_ASLEEP
            return
        if activity == "offline":
            self._stop_everything()
            self.power = POWER_OFFLINE
            return
        self.force_online(now)
        if activity == "wake":
            return
        if activity == "park":
            self._stop_everything()
        elif activity == "drive":
            self._unplug()
            if not self.driving:
                self._start_drive_frame()
            self.driving = True
            self.user_present = True
            self.speed_mph = DRIVE_SPEED_MPH
        elif activity == "charge":
            self.driving = False
            self.user_present = False
            self.plugged = True
            self.charge_port_door_open = True
            self.charge_port_latch = "Engaged"
            self.charging_state = CHARGING
            self._handle_events(now)
        elif activity == "climate":
            self.driving = False
            self.user_present = False
            self._climate(True)

    def _stop_everything(self) -> None:
        self.driving = False
        self.user_present = False
        self._unplug()
        self._climate(False)

    def _unplug(self) -> None:
        self.plugged = False
        self.charging_state = DISCONNECTED
        self.charge_port_door_open = False
        self.charge_port_latch = "Engaged"

    def _climate(self, on: bool) -> None:
        self.climate_on = on
        if not on:
            self.defrost = False
            self.keeper_mode = "off"
            self.steering_wheel_heater = False
            self.seat_heaters = dict.fromkeys(self.seat_heaters, 0)
            self.seat_coolers = dict.fromkeys(self.seat_coolers, 0)

    def seats(self) -> tuple[int, ...]:
        """Heated seats fitted."""
        seats: tuple[int, ...] = FRONT_SEATS
        if self.config.rear_seat_heaters:
            seats += REAR_SEATS
        if self.config.third_row_seats:
            seats += THIRD_ROW_SEATS
        return seats

    def _start_drive_frame(self) -> None:
        self.drive_origin = (self.latitude, self.longitude)
        self.drive_north = self.drive_east = 0.0

    def set_location(self, latitude: float, longitude: float) -> None:
        """Move the car (control API)."""
        self.latitude = latitude
        self.longitude = longitude
        self._start_drive_frame()

    # -- commands -------------------------------------------------------------------------

    def command(self, name: str, params: Mapping[str, Any], now: float) -> Result:
        """Execute ``name`` on an online car; (result, reason). Raises CommandError (400)."""
        handler = COMMANDS.get(name)
        if handler is None:
            raise CommandError(f"unknown command {name}")
        self.touch_user(now)
        return handler(self, params, now)

    def cmd_door_lock(self, params: Mapping[str, Any], now: float) -> Result:
        """Lock the doors."""
        self.locked = True
        return OK

    def cmd_door_unlock(self, params: Mapping[str, Any], now: float) -> Result:
        """Unlock the doors."""
        self.locked = False
        return OK

    def cmd_charge_port_door_open(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Open the charge port door (releases the latch when a cable is in)."""
        if self.charging:
            return False, "is_charging"
        self.charge_port_door_open = True
        if self.plugged:
            self.charge_port_latch = "Disengaged"
        return OK

    def cmd_charge_port_door_close(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Close the charge port door."""
        if self.plugged:
            return False, "cable_connected"
        self.charge_port_door_open = False
        return OK

    def cmd_charge_start(self, params: Mapping[str, Any], now: float) -> Result:
        """Start charging."""
        if not self.plugged:
            return False, "disconnected"
        if self.charging:
            return False, "is_charging"
        if self.battery_level >= self.charge_limit - 0.5:
            return False, "complete"
        self.charging_state = CHARGING
        return OK

    def cmd_charge_stop(self, params: Mapping[str, Any], now: float) -> Result:
        """Stop charging."""
        if not self.charging:
            return False, "not_charging"
        self.charging_state = STOPPED
        return OK

    def _set_limit(self, percent: int) -> Result:
        if not 50 <= percent <= 100:
            return False, "invalid_charge_limit"
        if percent == self.charge_limit:
            return False, "already_set"
        self.charge_limit = percent
        if self.charging:
            self._handle_events(self.updated_at)
        return OK

    def cmd_set_charge_limit(self, params: Mapping[str, Any], now: float) -> Result:
        """Set the charge limit (percent, 50-100)."""
        return self._set_limit(p_int(params, "percent"))

    def cmd_charge_max_range(self, params: Mapping[str, Any], now: float) -> Result:
        """Charge limit 100 %."""
        return self._set_limit(100)

    def cmd_charge_standard(self, params: Mapping[str, Any], now: float) -> Result:
        """Charge limit 80 %."""
        return self._set_limit(80)

    def cmd_set_charging_amps(self, params: Mapping[str, Any], now: float) -> Result:
        """Set the requested charging current (clamped to what the car accepts)."""
        amps = p_int(params, "charging_amps")
        self.charge_current_request = max(0, min(amps, self.config.max_amps))
        return OK

    def cmd_auto_conditioning_start(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Climate on."""
        self._climate(True)
        return OK

    def cmd_auto_conditioning_stop(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Climate off."""
        self._climate(False)
        return OK

    def cmd_set_temps(self, params: Mapping[str, Any], now: float) -> Result:
        """Set the driver (and passenger) temperature in °C."""
        driver = p_number(params, "driver_temp")
        passenger = p_number(params, "passenger_temp", driver)
        if not (15.0 <= driver <= 28.0 and 15.0 <= passenger <= 28.0):
            return False, "temperature out of range"
        self.driver_temp, self.passenger_temp = driver, passenger
        return OK

    def cmd_set_preconditioning_max(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Defrost (max preconditioning) on or off."""
        on = p_bool(params, "on")
        if on:
            self._climate(True)
        self.defrost = on
        return OK

    def cmd_set_climate_keeper_mode(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """0 off, 1 keep, 2 dog, 3 camp."""
        mode = p_int(params, "climate_keeper_mode")
        if not 0 <= mode < len(KEEPER_MODES):
            raise CommandError("climate_keeper_mode must be 0-3")
        if mode:
            self._climate(True)
        self.keeper_mode = KEEPER_MODES[mode]
        return OK

    def cmd_set_cabin_overheat_protection(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Cabin overheat protection on, off or fan only."""
        on = p_bool(params, "on")
        fan_only = p_bool(params, "fan_only", False)
        self.cabin_overheat_protection = (
            ("FanOnly" if fan_only else "On") if on else "Off"
        )
        return OK

    def cmd_actuate_trunk(self, params: Mapping[str, Any], now: float) -> Result:
        """Open the frunk, or open/close the rear trunk (closing needs a powered liftgate)."""
        which = p_str(params, "which_trunk")
        if which == "front":
            self.doors["ft"] = 1
            return OK
        if which != "rear":
            raise CommandError("which_trunk must be front or rear")
        if self.doors["rt"]:
            if not self.config.powered_liftgate:
                return False, "rear trunk is not powered"
            self.doors["rt"] = 0
        else:
            self.doors["rt"] = 1
        return OK

    def cmd_window_control(self, params: Mapping[str, Any], now: float) -> Result:
        """Vent or close all windows."""
        command = p_str(params, "command")
        if command not in ("vent", "close"):
            raise CommandError("command must be vent or close")
        value = 1 if command == "vent" else 0
        self.windows = dict.fromkeys(self.windows, value)
        return OK

    def cmd_sun_roof_control(self, params: Mapping[str, Any], now: float) -> Result:
        """Vent or close the sunroof."""
        state = p_str(params, "state")
        if state not in ("vent", "close"):
            raise CommandError("state must be vent or close")
        if not self.config.sunroof:
            return False, "sunroof not installed"
        self.sun_roof_state = "vent" if state == "vent" else "closed"
        self.sun_roof_percent_open = 15 if state == "vent" else 0
        return OK

    def cmd_set_sentry_mode(self, params: Mapping[str, Any], now: float) -> Result:
        """Sentry mode on or off."""
        self.sentry_mode = p_bool(params, "on")
        return OK

    def cmd_set_valet_mode(self, params: Mapping[str, Any], now: float) -> Result:
        """Valet mode on (with a 4-digit PIN) or off (the same PIN when one was set)."""
        on = p_bool(params, "on")
        password = params.get("password")
        if password is not None and not isinstance(password, str | int):
            raise CommandError("password must be a string")
        pin = None if password is None else str(password)
        if on:
            if self.valet_mode:
                return False, "already_set"
            self.valet_mode, self.valet_pin = True, pin
            return OK
        if not self.valet_mode:
            return False, "already_set"
        if self.valet_pin is not None and pin != self.valet_pin:
            return False, "invalid_pin"
        self.valet_mode, self.valet_pin = False, None
        return OK

    def cmd_remote_steering_wheel_heater_request(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Steering wheel heater (needs climate on)."""
        on = p_bool(params, "on")
        if not self.climate_on:
            return False, "cabin comfort remote settings not enabled"
        self.steering_wheel_heater = on
        return OK

    def cmd_remote_seat_heater_request(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Seat heater level 0-3 for a fitted seat (needs climate on)."""
        heater = p_int(params, "heater")
        level = p_int(params, "level")
        if heater not in SEAT_HEATERS or not 0 <= level <= 3:
            raise CommandError("invalid heater or level")
        if heater not in self.seats():
            return False, "seat heater not available"
        if not self.climate_on:
            return False, "cabin comfort remote settings not enabled"
        self.seat_heaters[heater] = level
        return OK

    def cmd_remote_seat_cooler_request(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Seat cooling (ventilation) level 0-3, seat_position 1 left / 2 right."""
        position = p_int(params, "seat_position")
        level = p_int(params, "seat_cooler_level")
        if position not in (1, 2) or not 0 <= level <= 3:
            raise CommandError("invalid seat_position or seat_cooler_level")
        if not self.config.seat_cooling:
            return False, "seat cooling not available"
        if not self.climate_on:
            return False, "cabin comfort remote settings not enabled"
        self.seat_coolers[position] = level
        return OK

    def cmd_honk_horn(self, params: Mapping[str, Any], now: float) -> Result:
        """Honk."""
        self.horn_honks += 1
        return OK

    def cmd_flash_lights(self, params: Mapping[str, Any], now: float) -> Result:
        """Flash the lights."""
        self.light_flashes += 1
        return OK

    def cmd_trigger_homelink(self, params: Mapping[str, Any], now: float) -> Result:
        """Trigger HomeLink; lat/lon (the user's position) must be near the car."""
        lat = p_number(params, "lat")
        lon = p_number(params, "lon")
        if not self.config.homelink:
            return False, "homelink not available"
        if distance_miles(lat, lon, self.latitude, self.longitude) > 0.6:
            return False, "user too far from car"
        if not self.homelink_nearby():
            return False, "no homelink device nearby"
        self.homelink_triggers += 1
        return OK

    def cmd_remote_start_drive(self, params: Mapping[str, Any], now: float) -> Result:
        """Keyless driving for two minutes."""
        self.remote_start_until = now + REMOTE_START_SECONDS
        return OK

    def cmd_schedule_software_update(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Install the available update in ``offset_sec`` seconds."""
        offset = p_number(params, "offset_sec")
        if offset < 0:
            raise CommandError("offset_sec must not be negative")
        if self.update_status not in ("available", "downloaded", "scheduled"):
            return False, "no_update_available"
        self.update_status = "scheduled"
        self.update_scheduled_at = now + offset
        self._handle_events(now)
        return OK

    def cmd_cancel_software_update(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Cancel a scheduled update."""
        if self.update_status != "scheduled":
            return False, "no_update_scheduled"
        self.update_status = "available"
        self.update_scheduled_at = None
        return OK

    def cmd_navigation_request(self, params: Mapping[str, Any], now: float) -> Result:
        """Share an address (type share_ext_content_raw, value {android.intent.extra.TEXT})."""
        value = _param(params, "value")
        if isinstance(value, Mapping):
            text = value.get("android.intent.extra.TEXT")
        else:
            text = value
        if not isinstance(text, str) or not text.strip():
            raise CommandError("value must carry the destination text")
        self._route_to(text.strip(), self.latitude + 0.05, self.longitude + 0.05)
        return OK

    def cmd_navigation_gps_request(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Navigate to a coordinate."""
        lat = p_number(params, "lat")
        lon = p_number(params, "lon")
        self._route_to(f"{lat:.5f},{lon:.5f}", lat, lon)
        return OK

    def _route_to(self, name: str, lat: float, lon: float) -> None:
        self.destination = name
        self.destination_lat, self.destination_lon = lat, lon

    def cmd_set_scheduled_charging(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Scheduled charging on/off at ``time`` (minutes after midnight)."""
        enable = p_bool(params, "enable")
        minutes = p_int(params, "time", self.scheduled_charging_time)
        if not 0 <= minutes < 1440:
            raise CommandError("time must be minutes after midnight")
        self.scheduled_charging_enabled = enable
        self.scheduled_charging_time = minutes
        if enable:
            self.scheduled_departure_enabled = False
        return OK

    def cmd_set_scheduled_departure(
        self, params: Mapping[str, Any], now: float
    ) -> Result:
        """Scheduled departure on/off (departure_time in minutes after midnight)."""
        enable = p_bool(params, "enable")
        minutes = p_int(params, "departure_time", self.scheduled_departure_minutes)
        if not 0 <= minutes < 1440:
            raise CommandError("departure_time must be minutes after midnight")
        self.scheduled_departure_enabled = enable
        self.scheduled_departure_minutes = minutes
        self.preconditioning_enabled = p_bool(
            params, "preconditioning_enabled", self.preconditioning_enabled
        )
        self.off_peak_charging_enabled = p_bool(
            params, "off_peak_charging_enabled", self.off_peak_charging_enabled
        )
        self.off_peak_hours_end_time = p_int(
            params, "end_off_peak_time", self.off_peak_hours_end_time
        )
        if enable:
            self.scheduled_charging_enabled = False
        return OK


Command = Callable[[Vehicle, Mapping[str, Any], float], Result]

COMMANDS: dict[str, Command] = {
    "door_lock": Vehicle.cmd_door_lock,
    "door_unlock": Vehicle.cmd_door_unlock,
    "charge_port_door_open": Vehicle.cmd_charge_port_door_open,
    "charge_port_door_close": Vehicle.cmd_charge_port_door_close,
    "charge_start": Vehicle.cmd_charge_start,
    "charge_stop": Vehicle.cmd_charge_stop,
    "set_charge_limit": Vehicle.cmd_set_charge_limit,
    "charge_max_range": Vehicle.cmd_charge_max_range,
    "charge_standard": Vehicle.cmd_charge_standard,
    "set_charging_amps": Vehicle.cmd_set_charging_amps,
    "auto_conditioning_start": Vehicle.cmd_auto_conditioning_start,
    "auto_conditioning_stop": Vehicle.cmd_auto_conditioning_stop,
    "set_temps": Vehicle.cmd_set_temps,
    "set_preconditioning_max": Vehicle.cmd_set_preconditioning_max,
    "set_climate_keeper_mode": Vehicle.cmd_set_climate_keeper_mode,
    "set_cabin_overheat_protection": Vehicle.cmd_set_cabin_overheat_protection,
    "actuate_trunk": Vehicle.cmd_actuate_trunk,
    "window_control": Vehicle.cmd_window_control,
    "sun_roof_control": Vehicle.cmd_sun_roof_control,
    "set_sentry_mode": Vehicle.cmd_set_sentry_mode,
    "set_valet_mode": Vehicle.cmd_set_valet_mode,
    "remote_steering_wheel_heater_request": Vehicle.cmd_remote_steering_wheel_heater_request,
    "remote_seat_heater_request": Vehicle.cmd_remote_seat_heater_request,
    "remote_seat_cooler_request": Vehicle.cmd_remote_seat_cooler_request,
    "honk_horn": Vehicle.cmd_honk_horn,
    "flash_lights": Vehicle.cmd_flash_lights,
    "trigger_homelink": Vehicle.cmd_trigger_homelink,
    "remote_start_drive": Vehicle.cmd_remote_start_drive,
    "schedule_software_update": Vehicle.cmd_schedule_software_update,
    "cancel_software_update": Vehicle.cmd_cancel_software_update,
    "navigation_request": Vehicle.cmd_navigation_request,
    "share": Vehicle.cmd_navigation_request,
    "navigation_gps_request": Vehicle.cmd_navigation_gps_request,
    "set_scheduled_charging": Vehicle.cmd_set_scheduled_charging,
    "set_scheduled_departure": Vehicle.cmd_set_scheduled_departure,
}
