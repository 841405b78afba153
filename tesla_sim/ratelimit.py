"""Per-vehicle rate limits of the Fleet API (sliding one-minute windows on the sim clock)."""

from collections import deque
import math

WINDOW = 60.0
LIMITS = {"data": 60, "command": 30, "wake": 3}


class RateLimits:
    """Sliding-window counters per (vehicle, category)."""

    def __init__(self) -> None:
        """All windows empty; limits enabled."""
        self.enabled = True
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def clear(self) -> None:
        """Empty every window."""
        self._windows.clear()

    def hit(self, vin: str, category: str, now: float) -> tuple[int, int, int]:
        """Count a request; return (limit, remaining, retry_after). retry_after > 0 = refused."""
        limit = LIMITS[category]
        window = self._windows.setdefault((vin, category), deque())
        while window and window[0] <= now - WINDOW:
            window.popleft()
        while window and window[-1] > now:  # the clock went backwards (freezegun)
            window.pop()
        if self.enabled and len(window) >= limit:
            retry = max(1, math.ceil(window[0] + WINDOW - now))
            return limit, 0, retry
        window.append(now)
        return limit, max(0, limit - len(window)), 0
