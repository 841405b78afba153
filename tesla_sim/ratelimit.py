"""Per-vehicle rate limits of the Fleet API (sliding one-minute windows on the sim clock).

An optional daily cap on ``vehicle_data`` per car models the undocumented limit of about
300 calls a day observed since June 2024 (off unless the world sets it).
"""

from collections import deque
import math

WINDOW = 60.0
DAY = 86400.0
LIMITS = {"data": 60, "command": 30, "wake": 3}


class RateLimits:
    """Sliding-window counters per (vehicle, category)."""

    def __init__(self, *, daily_data_cap: int | None = None) -> None:
        """All windows empty; limits enabled; ``daily_data_cap`` None = no daily cap."""
        self.enabled = True
        self.daily_data_cap = daily_data_cap
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._days: dict[str, tuple[int, int]] = {}  # vin -> (UTC day, data calls)

    def clear(self) -> None:
        """Empty every window and daily count."""
        self._windows.clear()
        self._days.clear()

    def hit_daily(self, vin: str, now: float) -> int:
        """Count a ``vehicle_data`` call; seconds until the next UTC day when over the cap."""
        if self.daily_data_cap is None:
            return 0
        day = int(now // DAY)
        counted_day, count = self._days.get(vin, (day, 0))
        if counted_day != day:
            count = 0
        if count >= self.daily_data_cap:
            return max(1, math.ceil((day + 1) * DAY - now))
        self._days[vin] = (day, count + 1)
        return 0

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
