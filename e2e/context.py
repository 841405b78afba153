"""What every step of the end-to-end run shares: its state, its checks, the cars."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
import time
from typing import Any

import aiohttp
import pyotp

from .clients import HomeAssistant, Simulator
from .harness import E2EError, Process, wait_for

API_ACCOUNT = "totp@example.com"  # one authenticator, two cars: the REST/websocket part
BROWSER_ACCOUNT = "multi@example.com"  # two authenticators: the browser part
HA_USER, HA_PASSWORD = "dev", "dev"


class CheckFailed(E2EError):
    """An expectation of the end-to-end test did not hold."""


@dataclass
class Results:
    """Named checks, in order."""

    passed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def expect(
        self, name: str, condition: object, detail: object = "", *, fatal: bool = True
    ) -> bool:
        """Record a check; when it fails and is ``fatal``, raise (ending the run)."""
        if condition:
            self.passed.append(name)
            print(f"  ok    {name}", flush=True)
            return True
        self.failed.append((name, str(detail)))
        print(f"  FAIL  {name}: {detail}", flush=True)
        if fatal:
            raise CheckFailed(name)
        return False

    def error(self, name: str, err: BaseException) -> None:
        """Record an error that ended the run."""
        self.failed.append((name, f"{type(err).__name__}: {err}"))
        print(f"  FAIL  {name}: {type(err).__name__}: {err}", flush=True)

    def summary(self) -> str:
        """The last line."""
        return f"e2e: {len(self.passed)} passed, {len(self.failed)} failed"


def step(title: str) -> None:
    """Print a section title."""
    print(f"== {title}", flush=True)


def other_code(secret: str, now: float) -> str:
    """A six-digit code that is not valid for ``secret`` around ``now``."""
    totp = pyotp.TOTP(secret)
    valid = {totp.at(int(now) + delta) for delta in (-60, -30, 0, 30, 60)}
    candidate = 123456
    while f"{candidate:06d}" in valid:
        candidate += 1
    return f"{candidate:06d}"


@dataclass
class Car:
    """One car as Home Assistant shows it."""

    vin: str
    name: str
    device_id: str
    entities: dict[str, str]  # description key -> entity_id

    def entity(self, key: str) -> str:
        """The entity id of the description ``key``."""
        try:
            return self.entities[key]
        except KeyError:
            raise CheckFailed(f"{self.name} has no entity {key!r}") from None


class Run:
    """One end-to-end run."""

    def __init__(self, args: argparse.Namespace):
        """Prepare the run."""
        self.args = args
        self.results = Results()
        self.artifacts: Path = args.artifacts
        self.sim_proc: Process | None = None
        self.ha_proc: Process | None = None
        self.session: aiohttp.ClientSession
        self.sim: Simulator
        self.ha: HomeAssistant
        self.config_dir: Path
        self.secrets: set[str] = set()
        self.timings: dict[str, float] = {}
        self.cars: dict[str, Car] = {}
        self.entry_ids: dict[str, str] = {}
        self.otp_secret: str | None = None
        self.tmp: Path | None = None

    # ------------------------------------------------------------------ helpers

    def expect(
        self, name: str, condition: object, detail: object = "", *, fatal: bool = True
    ) -> bool:
        """Record a check (see :meth:`Results.expect`)."""
        return self.results.expect(name, condition, detail, fatal=fatal)

    def timed(self, name: str, since: float) -> None:
        """Remember how long a phase took."""
        self.timings[name] = round(time.monotonic() - since, 1)

    async def poll(
        self,
        what: str,
        probe: Callable[[], Awaitable[Any]],
        *,
        limit: float = 60,
        interval: float = 0.5,
    ) -> Any:
        """Wait for ``probe()`` to return something truthy (processes must keep running)."""
        processes = [p for p in (self.sim_proc, self.ha_proc) if p is not None]
        return await wait_for(
            what, probe, limit=limit, interval=interval, processes=processes
        )

    async def car_states(self, car: Car) -> dict[str, dict[str, Any]]:
        """The states of every entity of ``car`` over REST, by description key."""
        by_id = {s["entity_id"]: s for s in await self.ha.states()}
        return {
            key: by_id[entity_id]
            for key, entity_id in car.entities.items()
            if entity_id in by_id
        }

    async def stop(self) -> None:
        """Stop Home Assistant, then the simulator."""
        for proc in (self.ha_proc, self.sim_proc):
            if proc is not None:
                await proc.stop()
