"""The lazily integrated state machine of a virtual car.

Nothing runs in the background. ``Car.update(now)`` integrates the car from the last time
it was looked at up to ``now`` -- waking, driving, charging, climate, software installs
and falling asleep -- event by event, so the result does not depend on how often it is
called.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
import math

from .configs import VehicleConfig

POWER_ONLINE = "online"
POWER_ASLEEP = "asleep"
POWER_OFFLINE = "offline"
POWER_WAKING = "waking"  # reported as "asleep" until the wake completes

CHARGING = "Charging"
STOPPED = "Stopped"
COMPLETE = "Complete"
DISCONNECTED = "Disconnected"

DRIVE_SPEED_MPH = 45
DRIVE_TURN_DEG_S = 0.2  # drives go round a circle every 30 minutes
CLIMATE_KW = 1.5
CHARGER_VOLTAGE = 240
MILES_PER_DEG_LAT = 69.0


def distance_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 3958.8 * math.asin(min(1.0, math.sqrt(a)))


@dataclass(slots=True)
class Car:
    """A virtual car's state and physics. Mutable; call ``update(now)`` before using it."""

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
    command_signing: str = "off"  # one of configs.SIGNING_MODES
    asleep_reports_offline: bool = False  # firmware 2024.20+: asleep shows as offline
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
    steering_wheel_heat_level: int = 0  # 0 off to 3 high
    auto_steering_wheel_heat: bool = False
    auto_seat_climate: dict[int, bool] = field(
        default_factory=lambda: {1: True, 2: True}  # 1 front left, 2 front right
    )
    cop_temp: int = 2  # cabin overheat protection at 0 low, 1 medium or 2 high

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

    # media
    media_volume: float = 3.0
    media_playing: bool = False
    media_track: int = 0

    # counters
    boombox_sounds: int = 0
    horn_honks: int = 0
    light_flashes: int = 0
    homelink_triggers: int = 0

    # -- derived ---------------------------------------------------------------------------

    @property
    def battery_level(self) -> float:
        """State of charge in percent (float)."""
        return max(0.0, min(100.0, self.energy_kwh / self.config.battery_kwh * 100.0))

    @property
    def limit_kwh(self) -> float:
        """The energy in the battery at the charge limit."""
        return self.charge_limit / 100.0 * self.config.battery_kwh

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
    def requires_command_signing(self) -> bool:
        """Does the car refuse plain REST commands?"""
        return self.command_signing == "required"

    @requires_command_signing.setter
    def requires_command_signing(self, required: bool) -> None:
        self.command_signing = "required" if required else "allowed"

    @property
    def reported_state(self) -> str:
        """The sleep state the API reports: online, asleep or offline.

        A sleeping (or waking) car reports ``offline`` on firmware that does so.
        """
        if self.power in (POWER_ASLEEP, POWER_WAKING):
            return POWER_OFFLINE if self.asleep_reports_offline else POWER_ASLEEP
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
            self.handle_events(t1)
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
            remaining = self.limit_kwh - self.energy_kwh
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

    def handle_events(self, t: float) -> None:
        """Discrete changes due at ``t``."""
        if self.power == POWER_WAKING:
            if t >= self.online_at:
                self.power = POWER_ONLINE
                self.idle_ref = self.idle_ref_cf = t
            return
        if self.power != POWER_ONLINE:
            return
        if self.charging and self.energy_kwh >= self.limit_kwh - 1e-9:
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

    def set_climate(self, on: bool) -> None:
        """Climate on or off (off also ends defrost, keeper mode and seat heating)."""
        self.climate_on = on
        if not on:
            self.defrost = False
            self.keeper_mode = "off"
            self.steering_wheel_heater = False
            self.steering_wheel_heat_level = 0
            self.seat_heaters = dict.fromkeys(self.seat_heaters, 0)
            self.seat_coolers = dict.fromkeys(self.seat_coolers, 0)
