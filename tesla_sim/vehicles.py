"""Virtual cars: the state machine of ``car.py`` and what the world does to it.

``Vehicle`` adds to ``Car`` the interactions: API requests that keep a car awake or wake
it, the control API's scripting (activities, location) and commands, whose handlers live
in the ``commands`` package.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
import random
from typing import Any

from .car import (
    CHARGING,
    DISCONNECTED,
    DRIVE_SPEED_MPH,
    POWER_ASLEEP,
    POWER_OFFLINE,
    POWER_ONLINE,
    POWER_WAKING,
    Car,
)
from .commands import COMMANDS, CommandError, Result
from .configs import make_config

__all__ = [
    "Vehicle",
    "make_config",  # re-exported: tests import it from here
]


@dataclass(slots=True)
class Vehicle(Car):
    """One virtual car. Mutable; always call ``update(now)`` before reading or changing it."""

    whitelist: dict[bytes, str] = field(default_factory=dict)
    """Keys the car trusts for signed commands: 65-byte public key -> role."""
    remote_access: bool = True
    """False: the owner switched off remote access (signed commands are refused)."""
    data_keeps_awake: bool = True
    """False: ``vehicle_data`` does not restart the idle timer (the car sleeps
    ``sleep_after`` seconds after its last activity, however often it is polled)."""

    # -- interactions ---------------------------------------------------------------------

    def touch_data(self, now: float) -> None:
        """vehicle_data answered: resets the idle timer (not the counterfactual one),
        unless the car's sleep ignores polling (``data_keeps_awake`` False)."""
        if self.data_keeps_awake:
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
            self.handle_events(now)
        elif activity == "climate":
            self.driving = False
            self.user_present = False
            self.set_climate(True)

    def _stop_everything(self) -> None:
        self.driving = False
        self.user_present = False
        self._unplug()
        self.set_climate(False)

    def _unplug(self) -> None:
        self.plugged = False
        self.charging_state = DISCONNECTED
        self.charge_port_door_open = False
        self.charge_port_latch = "Engaged"

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
