"""The standard day with the car in Bluetooth range at home, through Home Assistant.

The day of ``bench day`` run through the real integration in a real Home Assistant
(``live.run_live``), with Home Assistant's own Bluetooth integration set up (no adapter,
no D-Bus: this machine has no radio) and tesla_sim's scanner registered as a remote
scanner with 3 connection slots, as an ESPHome Bluetooth proxy in the garage would be.
The car is in range at home from 18:00 to 07:30 (it leaves at 07:30, is back at 18:00)
and the entry has a Bluetooth subentry for it (the integration's key on the car's
whitelist, as after pairing). Three runs:

- ``cloud_only``: the same day without Bluetooth (no subentry, no scanner);
- ``home``: the day with the car at home in range;
- ``outage_home``: the seed outage (cloud down 07:00-08:00, Home Assistant restarted
  at 07:30) with the car at home: the 07:25 unlock goes over Bluetooth.

Cloud requests by category and $/month under both billing assumptions come from the
simulator's meter (Bluetooth is never metered); Bluetooth messages from its counters.
"""

import asyncio
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
import hashlib
import itertools
import sys
from typing import Any

from homeassistant.components import bluetooth
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry  # type: ignore[import-untyped]

from custom_components.tesla_resilient.const import (
    CONF_ADDRESS,
    CONF_VIN,
    SUBENTRY_BLUETOOTH,
)
from tesla_sim import SimServer
from tesla_sim.ble import address_of
from tesla_sim.ble.scanner import SimRemoteScanner

from .common import ACCOUNT_EMAIL, DAY_START, bench_parser, hhmm, print_result
from .ha import HaRunner
from .integrations import Ours
from .live import Action, run_live
from .scenario import SCHEDULE, TARGETS, H, M

HOME = ((0.0, 7 * H + 30 * M), (18 * H, 24 * H))
"""When the car is in Bluetooth range at home (seconds after midnight)."""


def proxy_source(sim_url: str) -> str:
    """The simulated proxy's source (its Bluetooth address), one per simulator URL.

    habluetooth stores a remote scanner's devices by source and, restored, keeps their
    details (the ``sim_url`` the connection goes to) when they advertise again: a
    proxy of another simulator (another port) must not get them.
    """
    digest = hashlib.sha1(sim_url.encode()).hexdigest().upper()  # noqa: S324 - a name
    return "AA:BB:CC:" + ":".join(digest[i : i + 2] for i in range(0, 6, 2))


ADVERTISEMENT_INTERVAL = 10.0
"""Virtual seconds between two looks of the proxy at the cars' advertisements (a real
proxy hears a car about every second; in virtual time every look is a step)."""
UNLOCK_AT = "07:25"
VEHICLE_DATA = "/vehicle_data"
HOME_TARGETS = {
    "usd_per_month": TARGETS["usd_per_month"],
    "max_location_lag_driving_s": TARGETS["max_location_age_driving_s"],
    "wakes_caused": TARGETS["wakes_caused"],
    "awake_minutes_caused": TARGETS["awake_minutes_caused"],
}
"""The issue's targets for this day: ≤ $4 with every request billed, the location
≤ 90 s behind the car while it drives (``drive_location_lag``); and the standard day's:
the car never woken nor kept awake by reads (Bluetooth's infotainment reads keep it
awake as the cloud's ``vehicle_data`` does)."""


def at_home(seconds: float) -> bool:
    """Whether the car is in range ``seconds`` after midnight."""
    return any(lo <= seconds % (24 * H) < hi for lo, hi in HOME)


def range_changes(hours: float) -> list[tuple[float, bool]]:
    """(seconds after midnight, in range) of every change within the first ``hours``."""
    changes = [
        (t, inside) for lo, hi in HOME for t, inside in ((lo, True), (hi, False))
    ]
    return sorted((t, inside) for t, inside in changes if 0 < t < min(hours, 24) * H)


def drive_location_lag(log: Iterable[Any], start: float, hours: float) -> list[float]:
    """Per drive of the day: the longest the location shown lagged the moving car (s).

    The longest stretch of the drive without an answered ``vehicle_data`` (it carries
    the location), counted from the moment the car set off: before that it was parked
    where the last ``vehicle_data`` (after the previous drive, or the set-up) saw it.
    """
    fetched = sorted(
        item.time - start
        for item in log
        if item.status == 200 and item.path.endswith(VEHICLE_DATA)
    )
    lags = []
    for (begin, activity), (end, _) in itertools.pairwise(SCHEDULE):
        if activity != "drive" or begin >= hours * H:
            continue
        end = min(end, hours * H)
        marks = [begin, *(t for t in fetched if begin < t < end), end]
        lags.append(round(max(b - a for a, b in itertools.pairwise(marks)), 1))
    return lags


class OursAtHome(Ours):
    """Our integration; with ``bluetooth_on`` the car is paired over Bluetooth and a
    proxy in the garage hears it. Keeps the simulator (its meter) for the figures."""

    def __init__(self, *, bluetooth_on: bool = True) -> None:
        """No simulator yet (``context`` gives it)."""
        self.bluetooth_on = bluetooth_on
        self.sim: SimServer | None = None
        self.scanner: SimRemoteScanner | None = None

    def context(self, sim: SimServer) -> AbstractContextManager[None]:
        """Ours', remembering the simulator the proxy hears."""
        self.sim = sim
        return super().context(sim)

    async def prepare(self, hass: HomeAssistant) -> None:
        """Home Assistant's bluetooth, the proxy registered, the car in range or not."""
        sim = self.sim
        if sim is None:  # pragma: no cover - run_live enters the context first
            raise RuntimeError("no simulator")
        if not self.bluetooth_on:
            return
        if not await async_setup_component(hass, bluetooth.DOMAIN, {}):
            raise RuntimeError("Home Assistant's bluetooth did not set up")
        scanner = self.scanner = SimRemoteScanner(proxy_source(sim.url), sim.url)
        bluetooth.async_register_scanner(hass, scanner, connection_slots=3)

        @callback
        def look(_now: datetime) -> None:
            hass.async_create_task(scanner.async_poll_once(), eager_start=False)

        stop_looking = async_track_time_interval(
            hass, look, timedelta(seconds=ADVERTISEMENT_INTERVAL)
        )

        @callback
        def stopped(_event: Event) -> None:
            # A stopped Home Assistant's process ends; here the next instance shares the
            # event loop, so the proxy's looks stop (the links stop themselves).
            stop_looking()

        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stopped)
        world = sim.world
        world.ble_set(_vin(sim), in_range=at_home(world.now() - DAY_START))
        await scanner.async_poll_once()

    async def entry(self, sim: SimServer, email: str) -> MockConfigEntry:
        """Ours' entry with the car's Bluetooth subentry (what pairing stores)."""
        entry = await super().entry(sim, email)
        if not self.bluetooth_on:
            return entry
        vin = _vin(sim)
        return MockConfigEntry(
            domain=entry.domain,
            title=entry.title,
            unique_id=entry.unique_id,
            data=dict(entry.data),
            options=dict(entry.options),
            subentries_data=[
                {
                    "data": {CONF_VIN: vin, CONF_ADDRESS: address_of(vin)},
                    "subentry_type": SUBENTRY_BLUETOOTH,
                    "title": "Bluetooth",
                    "unique_id": vin,
                }
            ],
        )

    def range_action(self, inside: bool) -> Action:
        """The car comes home (in range) or leaves; the proxy hears it at once."""

        async def change(runner: HaRunner) -> None:
            runner.sim.world.ble_set(_vin(runner.sim), in_range=inside)
            if self.scanner is not None:
                await self.scanner.async_poll_once()

        return change


def _vin(sim: SimServer) -> str:
    account = sim.world.account_by_email(ACCOUNT_EMAIL)
    if account is None:  # pragma: no cover - the default world has it
        raise KeyError(ACCOUNT_EMAIL)
    return account.vins[0]


async def run_home(
    *,
    hours: float = 24.0,
    bluetooth_on: bool = True,
    outage: bool = False,
    seed: int = 1,
) -> dict[str, Any]:
    """One run of the day (see the module's docstring): ``live.run_live``'s figures
    and, in ``day``, how far the location lagged behind the moving car per drive."""
    ours = OursAtHome(bluetooth_on=bluetooth_on)
    changes = range_changes(hours) if bluetooth_on else []
    result = await run_live(
        ours,
        hours=hours,
        outage=outage,
        restart=outage,
        seed=seed,
        actions=[(t, ours.range_action(inside)) for t, inside in changes],
    )
    if ours.sim is not None:
        lags = drive_location_lag(ours.sim.world.meter.log, DAY_START, hours)
        result["day"]["location_lag_by_drive_s"] = lags
        result["day"]["max_location_lag_driving_s"] = max(lags, default=None)
    return result


def _summary(run: dict[str, Any]) -> dict[str, Any]:
    day = run["day"]
    keys = (
        "requests",
        "requests_total",
        "usd_per_month",
        "usd_per_month_checks_free",
        "wakes_caused",
        "awake_minutes_caused",
        "awake_minutes",
        "max_location_age_driving_s",
        "max_location_age_by_drive_s",
        "max_location_lag_driving_s",
        "location_lag_by_drive_s",
    )
    return {k: day[k] for k in keys} | {"commands": run["commands"]}


def _unlock(run: dict[str, Any]) -> dict[str, Any]:
    unlock = next(c for c in run["commands"] if c["at"] == UNLOCK_AT)
    return {
        **unlock,
        "over_bluetooth": unlock["result"] == "ok"
        and unlock["done"]
        and not unlock["sent"],
    }


async def run_all(*, hours: float = 24.0, seed: int = 1) -> dict[str, Any]:
    """The three runs and the targets: what ``bench home --json`` prints."""
    cloud = await run_home(hours=hours, bluetooth_on=False, seed=seed)
    home = await run_home(hours=hours, seed=seed)
    doc: dict[str, Any] = {
        "benchmark": "home",
        "hours": hours,
        "seed": seed,
        "in_range": [{"from": hhmm(lo), "to": hhmm(hi)} for lo, hi in HOME],
        "advertisement_interval_s": ADVERTISEMENT_INTERVAL,
        "billing": {
            "usd_per_month": "every response below HTTP 500 billed (sleep checks too), x30 days",
            "usd_per_month_checks_free": "sleep-state checks free, everything else billed",
        },
        "runs": {"cloud_only": _summary(cloud), "home": _summary(home)},
    }
    if hours * H > 7 * H + 25 * M:
        outage = await run_home(hours=hours, outage=True, seed=seed)
        doc["outage_home"] = {
            "outage": outage["outage"],
            "restart_at": outage["restart_at"],
            "requests_during_outage": outage["requests_during_outage"],
            "requests_during_outage_by_category": outage[
                "requests_during_outage_by_category"
            ],
            "unlock_0725": _unlock(outage),
            "unavailable_entity_seconds_during_outage": outage[
                "unavailable_entity_seconds_during_outage"
            ],
            "restored_after_restart": outage["restored_after_restart"],
            "entities_not_restored": outage["entities_not_restored"],
            "recovery_seconds": outage["recovery_seconds"],
            "day": _summary(outage),
        }
    doc["targets"] = {
        key: {
            "target": target,
            "home": home["day"][key],
            "cloud_only": cloud["day"][key],
            "met": home["day"][key] is not None and home["day"][key] <= target,
        }
        for key, target in HOME_TARGETS.items()
    }
    return doc


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/bench home [--json] [--hours H] [--seed S]``."""
    parser = bench_parser("home", __doc__, hours=True)
    parser.add_argument("--seed", type=int, default=1, help="the simulator's seed")
    args = parser.parse_args(argv)
    doc = asyncio.run(run_all(hours=args.hours, seed=args.seed))
    return print_result(doc, as_json=args.json)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
