"""Listening to a car's broadcasts over Bluetooth for a while after each read.

The car sends its vehicle-security status to every open connection whenever it changes
(a lock, a door, falling asleep). The link (:mod:`.bluetooth`) listens for
``listen_window`` seconds after each read; every broadcast heard keeps it listening
``listen_window`` seconds more, never beyond ``listen_cap`` after it began
(:func:`.ble_policy.listen_delay`): a car in use is heard as long as it keeps talking,
and the connection (one of the car's three) is let go soon after it falls silent.
"""

from collections.abc import Callable
from datetime import datetime

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later

from .api import BleStatus, BluetoothVehicle
from .ble_policy import BleSettings, listen_delay


class BroadcastWindow:
    """The broadcasts of one car, heard while the window is open."""

    def __init__(
        self,
        hass: HomeAssistant,
        settings: BleSettings,
        clock: Callable[[], float],
        on_status: Callable[[BleStatus], None],
        on_end: Callable[[], None],
    ) -> None:
        """``on_status`` gets each broadcast; ``on_end`` is called when the window
        closes by itself (the caller lets go of the connection)."""
        self._hass = hass
        self._settings = settings
        self._clock = clock
        self._on_status = on_status
        self._on_end = on_end
        self._unsubscribe: Callable[[], None] | None = None
        self._timer: CALLBACK_TYPE | None = None
        self._since: float = 0.0
        self.closes_at: float | None = None
        """When (on ``clock``) the open window closes unless a broadcast comes."""

    @property
    def is_open(self) -> bool:
        """Whether broadcasts are being heard."""
        return self._unsubscribe is not None

    @callback
    def after_read(self, car: BluetoothVehicle) -> None:
        """Listen to ``car`` for ``listen_window`` from now (within the cap)."""
        now = self._clock()
        if self._unsubscribe is None:
            self._unsubscribe = car.listen_status(self._on_broadcast)
            self._since = now
        self._arm(now)

    @callback
    def _on_broadcast(self, status: BleStatus) -> None:
        self._arm(self._clock())  # heard while subscribed: the window is open
        self._on_status(status)

    def _arm(self, now: float) -> None:
        if self._timer is not None:
            self._timer()
        delay = listen_delay(self._since, now, self._settings)
        self.closes_at = now + delay
        self._timer = async_call_later(self._hass, delay, self._on_timer)

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._timer = None
        self.close()
        self._on_end()

    @callback
    def close(self) -> None:
        """Stop listening (the connection itself is the caller's)."""
        if self._timer is not None:
            self._timer()
            self._timer = None
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.closes_at = None
