"""Clocks for the simulator: real wall-clock time or a virtual clock advanced on demand.

Nothing in the simulator runs in the background: every piece of state is computed lazily
from ``clock.now()`` when a request arrives or the clock is advanced.
"""

import time
from typing import Protocol


class Clock(Protocol):
    """Where the simulator reads the time (epoch seconds)."""

    @property
    def virtual(self) -> bool:
        """True when time only moves through ``advance``."""
        ...

    def now(self) -> float:
        """Return the current time in epoch seconds."""
        ...

    def advance(self, seconds: float) -> float:
        """Move a virtual clock forward (a real clock raises TypeError)."""
        ...


class RealClock:
    """Wall-clock time through ``time.time`` (so freezegun-style patching applies)."""

    @property
    def virtual(self) -> bool:
        """A real clock cannot be advanced."""
        return False

    def now(self) -> float:
        """Return ``time.time()``."""
        return time.time()

    def advance(self, seconds: float) -> float:
        """A real clock cannot be advanced."""
        raise TypeError("the simulator runs on the real clock")


class VirtualClock:
    """A clock that stands still until ``advance`` is called."""

    def __init__(self, start: float | None = None) -> None:
        """Start at ``start`` (epoch seconds) or at the current wall-clock time."""
        self._now = float(time.time() if start is None else start)

    @property
    def virtual(self) -> bool:
        """A virtual clock only moves through ``advance``."""
        return True

    def now(self) -> float:
        """Return the virtual time."""
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        self._now += seconds
        return self._now

    def set(self, when: float) -> float:
        """Jump to the absolute time ``when`` (not earlier than now)."""
        return self.advance(when - self._now)
