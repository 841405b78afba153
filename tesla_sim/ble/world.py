"""The world's Bluetooth methods (a mixin of ``World``): script the cars' radios."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .radio import Radios


class BleWorld:
    """``world.ble_set(vin, in_range=True)``, ``world.ble_tap(vin)`` ..."""

    ble: Radios

    def _ble_now(self) -> float:
        """Every car brought up to the clock; the time."""
        return self.ble.world.tick()

    def ble_set(self, vin: str, **changes: Any) -> dict[str, Any]:
        """Change the radio of ``vin``: ``in_range``, ``rssi``, ``other_clients``,
        ``busy_next``, ``drop_ack_next``, ``drop_link`` (KeyError / ValueError)."""
        return self.ble.set(vin, self._ble_now(), **changes)

    def ble_state(self, vin: str) -> dict[str, Any]:
        """The radio of ``vin`` with its counters."""
        self._ble_now()
        return self.ble.state(vin)

    def ble_tap(self, vin: str) -> bool:
        """The owner taps a key card on ``vin`` (False: no key add was pending)."""
        return self.ble.tap(vin, self._ble_now())

    def ble_decline(self, vin: str) -> bool:
        """The owner denies the pending key add on ``vin``'s screen."""
        return self.ble.decline(vin, self._ble_now())

    def ble_advertisements(self) -> list[dict[str, Any]]:
        """What the cars in range advertise."""
        self._ble_now()
        return self.ble.advertisements()
