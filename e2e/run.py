"""End-to-end test: tesla_sim and Home Assistant as processes, driven like real clients.

    python -m e2e.run [--no-browser] [--update-docs] [--artifacts DIR] [--timeout S]

1. Starts ``python -m tesla_sim`` and ``hass`` (a temporary copy of ``config/``, free
   ports, 127.0.0.1 only) and onboards Home Assistant over its REST API.
2. Runs the config flow over REST exactly as the frontend does (menu → email and
   password with the simulator's servers → 2FA code from pyotp), reads the cars'
   entities over REST and over the websocket API, turns authenticator protection on
   through the options flow, locks and unlocks a car (unlocking needs a code) and
   checks the simulator's car changed.
3. In headless Chromium (Debian's ``chromium``, driven by Playwright): logs in, adds
   a second account through Settings → Add integration (menu → password → choose the
   authenticator → 2FA code), opens the car's device page.
4. Injects a cloud outage in the simulator, makes Home Assistant poll, and checks the
   last known state is still served (nothing unavailable, data source *cache*, cloud
   connection *off*, commands refused at once); screenshots the device page; clears the
   fault and sees the cloud come back.
5. Checks Home Assistant's log for errors of the integration and for secrets.

Prints ``e2e: N passed, M failed`` and exits 0 only when everything passed.
Screenshots, logs and a JSON summary go to the artifacts directory (default ``.e2e/``);
``--update-docs`` also copies the key screenshots to ``docs/screenshots/``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass, field
import json
from pathlib import Path
import re
import shutil
import signal
import sys
import tempfile
import time
from typing import Any

import aiohttp
import pyotp

from .clients import HomeAssistant, Simulator
from .harness import (
    DOMAIN,
    ROOT,
    E2EError,
    Process,
    free_port,
    prepare_config,
    start_home_assistant,
    start_simulator,
    wait_for,
)

API_ACCOUNT = "totp@example.com"  # one authenticator, two cars: the REST/websocket part
BROWSER_ACCOUNT = "multi@example.com"  # two authenticators: the browser part
HA_USER, HA_PASSWORD = "dev", "dev"
KEY_SCREENSHOTS = ("2fa_step.png", "device_page.png", "outage.png")


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

    # ------------------------------------------------------------------- phases

    async def start(self) -> None:
        """Start the simulator and Home Assistant; onboard over REST."""
        step("start the simulator and Home Assistant")
        since = time.monotonic()
        sim_port, ha_port = free_port(), free_port()
        self.sim_proc = await start_simulator(
            sim_port, self.artifacts / "tesla_sim.log"
        )
        self.tmp = Path(tempfile.mkdtemp(prefix="tesla-resilient-e2e-"))
        self.config_dir = prepare_config(
            self.tmp / "config",
            fresh=True,
            port=ha_port,
        )
        self.ha_proc = await start_home_assistant(
            self.config_dir, ha_port, self.artifacts / "home-assistant.log"
        )
        self.timed("start_processes_s", since)
        session = self.session
        self.sim = Simulator(f"http://127.0.0.1:{sim_port}", session)
        self.ha = HomeAssistant(f"http://127.0.0.1:{ha_port}", session)
        self.expect("Home Assistant serves HTTP", True)

        since = time.monotonic()
        onboarded_now = await self.ha.onboard_or_login("Dev", HA_USER, HA_PASSWORD)
        self.expect(
            "onboarding over REST (user, core_config, analytics, integration)",
            onboarded_now,
        )
        status, steps = await self.ha.request("GET", "/api/onboarding", expect=None)
        self.expect(
            "every onboarding step is done",
            status == 200 and all(s["done"] for s in steps),
            steps,
        )
        await self.poll(
            "Home Assistant to finish starting", self.ha.core_running, limit=180
        )
        # Onboarding's weather and radio entries would reach out to the internet.
        await self.ha.remove_entries({"met", "radio_browser"})
        self.timed("onboarding_s", since)
        state = await self.sim.state()
        for account in state["accounts"]:
            self.secrets.add(account["password"])
            self.secrets.update(f["secret"] for f in account["mfa"])
        self.expect("the simulator lists its accounts", state["accounts"])

    async def config_flow_api(self) -> None:
        """Sign in over REST as the frontend does: menu → password → 2FA."""
        step(f"config flow over REST ({API_ACCOUNT})")
        since = time.monotonic()
        account = await self.sim.account(API_ACCOUNT)
        secret = account["mfa"][0]["secret"]

        result = await self.ha.flow_start(DOMAIN)
        self.expect(
            "the flow opens with the sign-in menu",
            result.get("type") == "menu"
            and set(result.get("menu_options", []))
            >= {"password", "browser", "refresh_token"},
            result,
        )
        flow_id = result["flow_id"]
        result = await self.ha.flow_step(flow_id, {"next_step_id": "password"})
        fields = {f["name"] for f in result.get("data_schema", [])}
        self.expect(
            "the password step asks for email, password and servers",
            result.get("step_id") == "password"
            and {"email", "password", "servers"} <= fields,
            result,
        )
        servers = {"auth_base_url": self.sim.url, "api_base_url": self.sim.url}
        result = await self.ha.flow_step(
            flow_id,
            {
                "email": account["email"],
                "password": "not-" + account["password"],
                "servers": servers,
            },
        )
        self.expect(
            "a wrong password is refused in the same step",
            result.get("step_id") == "password"
            and result.get("errors", {}).get("base") == "invalid_auth",
            result,
        )
        result = await self.ha.flow_step(
            flow_id,
            {
                "email": account["email"],
                "password": account["password"],
                "servers": servers,
            },
        )
        self.expect(
            "the account's 2FA step follows the password",
            result.get("step_id") == "mfa"
            and result.get("description_placeholders", {}).get("factor")
            == account["mfa"][0]["name"],
            result,
        )
        result = await self.ha.flow_step(
            flow_id, {"code": other_code(secret, time.time())}
        )
        self.expect(
            "a wrong 2FA code is refused in the same step",
            result.get("step_id") == "mfa"
            and result.get("errors", {}).get("base") == "invalid_code",
            result,
        )
        result = await self.ha.flow_step(flow_id, {"code": pyotp.TOTP(secret).now()})
        self.expect(
            "a valid 2FA code creates the entry",
            result.get("type") == "create_entry"
            and result.get("title") == API_ACCOUNT
            and result.get("result", {}).get("state") == "loaded",
            result,
        )
        self.entry_ids[API_ACCOUNT] = result["result"]["entry_id"]
        self.timed("config_flow_api_s", since)

    async def discover_cars(self, email: str) -> list[Car]:
        """Find the entry's devices and entities over the websocket API."""
        entry_id = self.entry_ids[email]
        sim_cars = {
            c["vin"]: c
            for c in (await self.sim.state())["vehicles"]
            if c["account"] == email
        }
        async with self.ha.websocket() as ws:

            async def all_entities() -> list[dict[str, Any]] | None:
                entities = await ws.command({"type": "config/entity_registry/list"})
                mine = [e for e in entities if e.get("config_entry_id") == entry_id]
                vins = {e["unique_id"].split("-", 1)[0] for e in mine}
                return mine if vins >= set(sim_cars) else None

            entities = await self.poll("the cars' entities", all_entities, limit=60)
            devices = await ws.command({"type": "config/device_registry/list"})
        cars = []
        for vin, sim_car in sim_cars.items():
            device = next(
                (
                    d
                    for d in devices
                    if entry_id in d.get("config_entries", [])
                    and [DOMAIN, vin] in d.get("identifiers", [])
                ),
                None,
            )
            self.expect(
                f"{sim_car['display_name']}: one device, named after the car",
                device is not None
                and (device.get("name_by_user") or device.get("name"))
                == sim_car["display_name"],
                device,
            )
            assert device is not None  # noqa: S101 - narrowed by the check above
            self.expect(
                f"{sim_car['display_name']}: device shows model and serial number",
                device.get("model") == sim_car["config"]["model"]
                and device.get("serial_number") == vin,
                {k: device.get(k) for k in ("model", "serial_number", "sw_version")},
            )
            car = Car(
                vin=vin,
                name=sim_car["display_name"],
                device_id=device["id"],
                entities={
                    e["unique_id"].split("-", 1)[1]: e["entity_id"]
                    for e in entities
                    if e["unique_id"].startswith(f"{vin}-")
                },
            )
            self.cars[vin] = car
            cars.append(car)
        return cars

    async def read_entities(self) -> None:
        """Read the cars' entities over REST and the websocket API."""
        step("entities over REST and the websocket API")
        cars = await self.discover_cars(API_ACCOUNT)
        self.expect("both cars of the account are set up", len(cars) == 2, cars)
        for car in cars:
            sim_car = await self.sim.vehicle(car.vin)
            states = await self.car_states(car)
            unavailable = [k for k, s in states.items() if s["state"] == "unavailable"]
            self.expect(
                f"{car.name}: REST serves every entity, none unavailable",
                len(states) >= 40 and not unavailable,
                f"{len(states)} states, unavailable: {unavailable}",
            )
            lock = states[self._key(car, "vehicle_state_locked")]
            self.expect(
                f"{car.name}: the door lock matches the car",
                lock["state"] == ("locked" if sim_car["locked"] else "unlocked"),
                (lock["state"], sim_car["locked"]),
            )
            battery = states[self._key(car, "charge_state_battery_level")]
            self.expect(
                f"{car.name}: battery level matches the car",
                abs(float(battery["state"]) - float(sim_car["battery_level"])) <= 1.0,
                (battery["state"], sim_car["battery_level"]),
            )
            tracker = states[self._key(car, "location")]["attributes"]
            self.expect(
                f"{car.name}: location matches the car",
                abs(tracker.get("latitude", 0) - sim_car["latitude"]) < 1e-3
                and abs(tracker.get("longitude", 0) - sim_car["longitude"]) < 1e-3,
                tracker,
            )
            self.expect(
                f"{car.name}: data source cloud, cloud connection on",
                states[self._key(car, "data_source")]["state"] == "cloud"
                and states[self._key(car, "cloud_connection")]["state"] == "on",
                (
                    states[self._key(car, "data_source")]["state"],
                    states[self._key(car, "cloud_connection")]["state"],
                ),
            )

        car = cars[0]
        rest_states = await self.car_states(car)
        async with self.ha.websocket() as ws:
            ws_states = {
                s["entity_id"]: s for s in await ws.command({"type": "get_states"})
            }
            self.expect(
                "websocket get_states serves the same entities",
                all(
                    ws_states.get(s["entity_id"], {}).get("state") == s["state"]
                    for k, s in rest_states.items()
                    if k not in {"last_update"}
                ),
                "states differ",
            )
            sub_id = await ws.send(
                {
                    "type": "subscribe_entities",
                    "entity_ids": [
                        car.entity("vehicle_state_locked"),
                        car.entity("data_source"),
                    ],
                }
            )
            event: dict[str, Any] = {}
            while event.get("id") != sub_id or event.get("type") != "event":
                event = await ws.receive()
            added = event["event"].get("a", {})
            self.expect(
                "websocket subscribe_entities sends the lock and the data source",
                added.get(car.entity("vehicle_state_locked"), {}).get("s")
                in {"locked", "unlocked"}
                and added.get(car.entity("data_source"), {}).get("s") == "cloud",
                added,
            )

    def _key(self, car: Car, key: str) -> str:
        if key not in car.entities:
            raise CheckFailed(
                f"{car.name} has no entity {key!r}: {sorted(car.entities)}"
            )
        return key

    async def protection(self) -> None:
        """Turn authenticator protection on through the options flow (REST)."""
        step("authenticator protection through the options flow")
        entry_id = self.entry_ids[API_ACCOUNT]
        result = await self.ha.flow_start(entry_id, flow="options")
        self.expect(
            "the options open with a menu",
            result.get("type") == "menu"
            and "protection" in result.get("menu_options", []),
            result,
        )
        flow_id = result["flow_id"]
        result = await self.ha.flow_step(
            flow_id, {"next_step_id": "protection"}, flow="options"
        )
        secret = result.get("description_placeholders", {}).get("key", "")
        uri = result.get("description_placeholders", {}).get("uri", "")
        self.expect(
            "the options show a new authenticator key and otpauth URI",
            result.get("step_id") == "protection_enable"
            and len(secret) >= 16
            and uri.startswith("otpauth://totp/"),
            result.get("step_id"),
        )
        self.otp_secret = secret
        self.secrets.add(secret)
        result = await self.ha.flow_step(
            flow_id,
            {"otp_actions": ["unlock"], "code": other_code(secret, time.time())},
            flow="options",
        )
        self.expect(
            "a wrong code does not enable the protection",
            result.get("errors", {}).get("code") == "invalid_code",
            result,
        )
        # The previous 30-second code: valid (±1 step) and not the one unlocking uses.
        code = pyotp.TOTP(secret).at(int(time.time()) - 30)
        result = await self.ha.flow_step(
            flow_id, {"otp_actions": ["unlock"], "code": code}, flow="options"
        )
        self.expect(
            "a valid code enables the protection",
            result.get("type") == "create_entry",
            result,
        )

        car = next(iter(self.cars.values()))
        lock_id = car.entity("vehicle_state_locked")

        async def lock_asks_for_code() -> bool:
            state = await self.ha.state(lock_id)
            return bool(
                state
                and state["state"] != "unavailable"
                and state["attributes"].get("code_format")
            )

        try:
            await self.poll("the lock to ask for a code", lock_asks_for_code, limit=10)
            shown = True
        except E2EError:
            shown = False
        self.expect(
            "the door lock's keypad appears (code_format) once protection is on",
            shown,
            "the lock's state was not written again after the options changed",
            fatal=False,
        )
        if not shown:  # let the run go on: a state write shows it
            await self.ha.call_service(
                "homeassistant", "update_entity", {"entity_id": lock_id}
            )
            await self.poll("the lock to ask for a code", lock_asks_for_code, limit=30)

    async def lock_unlock(self) -> None:
        """Unlock (needs the authenticator code) and lock a car; check the simulator's car."""
        step("lock and unlock")
        car = next(iter(self.cars.values()))
        lock_id = car.entity("vehicle_state_locked")
        secret = self.otp_secret or ""
        self.expect(
            "the car starts locked", (await self.sim.vehicle(car.vin))["locked"]
        )

        status, body = await self.ha.call_service(
            "lock", "unlock", {"entity_id": lock_id}
        )
        self.expect(
            "unlocking without a code is refused (400)", status == 400, (status, body)
        )
        status, body = await self.ha.call_service(
            "lock",
            "unlock",
            {"entity_id": lock_id, "code": other_code(secret, time.time())},
        )
        self.expect(
            "unlocking with a wrong code is refused (400)",
            status == 400,
            (status, body),
        )
        self.expect(
            "nothing was sent: the car is still locked",
            (await self.sim.vehicle(car.vin))["locked"],
        )

        status, body = await self.ha.call_service(
            "lock", "unlock", {"entity_id": lock_id, "code": pyotp.TOTP(secret).now()}
        )
        self.expect(
            "unlocking with the authenticator code succeeds",
            status == 200,
            (status, body),
        )

        async def sim_unlocked() -> bool:
            return not (await self.sim.vehicle(car.vin))["locked"]

        await self.poll("the simulator's car to be unlocked", sim_unlocked, limit=30)
        self.expect("the simulator's car is unlocked", True)

        async def ha_state(expected: str) -> bool:
            state = await self.ha.state(lock_id)
            return bool(state and state["state"] == expected)

        await self.poll(
            "the lock entity to show unlocked", lambda: ha_state("unlocked"), limit=30
        )
        self.expect("the lock entity shows unlocked", True)

        status, body = await self.ha.call_service(
            "lock", "lock", {"entity_id": lock_id}
        )
        self.expect("locking needs no code", status == 200, (status, body))

        async def sim_locked() -> bool:
            return bool((await self.sim.vehicle(car.vin))["locked"])

        await self.poll("the simulator's car to be locked", sim_locked, limit=30)
        await self.poll(
            "the lock entity to show locked", lambda: ha_state("locked"), limit=30
        )
        self.expect("the simulator's car and the lock entity are locked again", True)

    async def outage(self, browser: Browser | None) -> None:
        """Cloud outage: last known state served, commands refused; then recovery."""
        step("cloud outage")
        car = next(iter(self.cars.values()))
        before = await self.car_states(car)
        meter_before = await self.sim.meter()
        await self.sim.add_fault("outage", 600)
        since = time.monotonic()
        entities = [c.entity("data_source") for c in self.cars.values()]
        log = self.artifacts / "home-assistant.log"

        async def declared() -> bool:
            await self.ha.call_service(
                "homeassistant", "update_entity", {"entity_id": entities}
            )
            states = [await self.ha.state(e) for e in entities]
            return all(s is not None and s["state"] == "cache" for s in states) and (
                "tesla cloud unreachable" in log.read_text(errors="replace").lower()
            )

        await self.poll(
            "the integration to declare an outage", declared, limit=240, interval=2
        )
        self.timed("outage_detected_s", since)
        self.expect("the integration declares the outage after repeated failures", True)
        await self._connection_state("off")
        for c in self.cars.values():
            states = await self.car_states(c)
            unavailable = [k for k, s in states.items() if s["state"] == "unavailable"]
            self.expect(
                f"{c.name}: no entity unavailable during the outage",
                not unavailable,
                unavailable,
            )
            self.expect(
                f"{c.name}: data source cache",
                states["data_source"]["state"] == "cache",
                states["data_source"],
            )
        during = await self.car_states(car)
        self.expect(
            "the last known lock state and location are served",
            during["vehicle_state_locked"]["state"]
            == before["vehicle_state_locked"]["state"]
            and during["location"]["attributes"].get("latitude")
            == before["location"]["attributes"].get("latitude"),
            (
                during["vehicle_state_locked"]["state"],
                during["location"]["attributes"].get("latitude"),
            ),
        )
        self.expect(
            "the location carries data_source cache",
            during["location"]["attributes"].get("data_source") == "cache",
            during["location"]["attributes"],
        )
        self.expect(
            "the lock carries data_source cache (as the README says)",
            during["vehicle_state_locked"]["attributes"].get("data_source") == "cache",
            during["vehicle_state_locked"]["attributes"],
            fatal=False,
        )
        commands_before = await self.sim.meter()
        status, body = await self.ha.call_service(
            "lock", "lock", {"entity_id": car.entity("vehicle_state_locked")}
        )
        commands_after = await self.sim.meter()
        self.expect(
            "a command during the outage fails at once with an error",
            status in {400, 500} and "unreachable" in json.dumps(body).lower(),
            (status, body),
        )
        self.expect(
            "nothing is sent to the cloud for that command",
            _count(commands_after, "command") == _count(commands_before, "command"),
            (_count(commands_before, "command"), _count(commands_after, "command")),
        )
        self.expect(
            "no command was sent during the outage",
            _count(commands_after, "command") == _count(meter_before, "command"),
            commands_after.get("categories", commands_after),
        )
        if browser is not None:
            await browser.outage_screenshot(self)

        step("recovery")
        await self.sim.clear_faults()
        since = time.monotonic()

        async def recovered() -> bool:
            await self.ha.call_service(
                "homeassistant", "update_entity", {"entity_id": entities}
            )
            states = [
                await self.ha.state(c.entity("data_source")) for c in self.cars.values()
            ]
            return all(s is not None and s["state"] == "cloud" for s in states)

        await self.poll("the cloud to come back", recovered, limit=420, interval=3)
        self.timed("recovery_s", since)
        self.expect(
            "after the fault clears every car is back on data source cloud", True
        )
        await self._connection_state("on")

    async def _connection_state(self, expected: str) -> None:
        """Cloud connection shows ``expected`` by itself (else nudge it and go on)."""
        ids = [c.entity("cloud_connection") for c in self.cars.values()]

        async def shown() -> bool:
            states = [await self.ha.state(e) for e in ids]
            return all(s is not None and s["state"] == expected for s in states)

        # Each account declares its own outage after three failed probes, spaced by
        # its back-off (10-20 s, then 20-40 s): allow for two back-off steps.
        try:
            await self.poll(f"cloud connection {expected}", shown, limit=120)
            ok = True
        except E2EError:
            ok = False
        self.expect(
            f"the cloud connection entities turn {expected} by themselves",
            ok,
            [(e, (await self.ha.state(e) or {}).get("state")) for e in ids],
            fatal=False,
        )
        if not ok:  # a forced state write shows what the integration knows
            await self.ha.call_service(
                "homeassistant", "update_entity", {"entity_id": ids}
            )
            await self.poll(f"cloud connection {expected} (forced)", shown, limit=30)
            self.expect(
                f"cloud connection is {expected} after a forced state write", True
            )

    async def check_logs(self) -> None:
        """The integration logged no errors and no secret."""
        step("Home Assistant's log")
        log = (self.artifacts / "home-assistant.log").read_text(errors="replace")
        entries = json.loads(
            (self.config_dir / ".storage" / "core.config_entries").read_text()
        )["data"]["entries"]
        for entry in entries:
            if entry["domain"] == DOMAIN:
                token = entry["data"].get("token", {})
                self.secrets.update(
                    v
                    for k, v in token.items()
                    if k in {"access_token", "refresh_token"}
                )
                self.expect(
                    f"the entry of {entry['title']} stores no password or code",
                    set(entry["data"])
                    <= {
                        "auth_method",
                        "token",
                        "client_id",
                        "auth_base_url",
                        "api_base_url",
                        "region",
                        "auth_implementation",
                    },
                    sorted(entry["data"]),
                )
        leaked = [s[:4] + "…" for s in self.secrets if s and s in log]
        leaked += ["VIN " + vin[:5] + "…" for vin in self.cars if vin in log]
        self.expect(
            "no password, 2FA secret, token or VIN in the log", not leaked, leaked
        )
        errors = [
            line
            for line in log.splitlines()
            if re.search(
                r"\b(ERROR|CRITICAL)\b.*custom_components\.tesla_resilient", line
            )
            or ("Traceback" in line and "tesla_resilient" in line)
        ]
        self.expect("the integration logged no errors", not errors, errors[:5])
        self.expect(
            "the outage was logged once at info level when it started",
            "unreachable" in log.lower(),
            "no outage line",
        )

    async def stop(self) -> None:
        """Stop Home Assistant, then the simulator."""
        for proc in (self.ha_proc, self.sim_proc):
            if proc is not None:
                await proc.stop()

    async def main(self) -> int:
        """Run every phase; return the exit status."""
        if self.artifacts.exists():
            shutil.rmtree(self.artifacts)
        (self.artifacts / "screenshots").mkdir(parents=True)
        browser: Browser | None = None
        current = "start"
        async with aiohttp.ClientSession() as self.session:
            try:
                async with asyncio.timeout(self.args.timeout):
                    await self.start()
                    for name, phase in (
                        ("config flow over REST", self.config_flow_api),
                        ("entities", self.read_entities),
                        ("options flow", self.protection),
                        ("lock and unlock", self.lock_unlock),
                    ):
                        current = name
                        await phase()
                    if not self.args.no_browser:
                        current = "browser"
                        browser = Browser(self)
                        await browser.start()
                        await browser.run()
                    current = "outage"
                    await self.outage(browser)
                    current = "logs"
                    await self.check_logs()
            except CheckFailed:
                pass
            except (E2EError, TimeoutError, aiohttp.ClientError, OSError) as err:
                self.results.error(current, err)
            except Exception as err:
                self.results.error(current, err)
                import traceback  # noqa: PLC0415

                traceback.print_exc()
            finally:
                if browser is not None:
                    if self.results.failed:
                        await browser.failure_screenshot()
                    await browser.stop()
                await self.stop()
        return self.finish()

    def finish(self) -> int:
        """Write the summary; copy the key screenshots when asked."""
        self.timings["total_s"] = round(time.monotonic() - self.results.started, 1)
        shots = self.artifacts / "screenshots"
        if self.args.update_docs:  # the key screenshots that were taken
            target = ROOT / "docs" / "screenshots"
            target.mkdir(parents=True, exist_ok=True)
            for name in KEY_SCREENSHOTS:
                if (shots / name).exists():
                    shutil.copy2(shots / name, target / name)
        summary = {
            "passed": self.results.passed,
            "failed": [{"check": n, "detail": d} for n, d in self.results.failed],
            "timings": self.timings,
            "screenshots": sorted(p.name for p in shots.glob("*.png")),
        }
        (self.artifacts / "summary.json").write_text(
            json.dumps(summary, indent=2) + "\n"
        )
        if self.results.failed:
            for proc in (self.ha_proc, self.sim_proc):
                if proc is not None:
                    print(
                        f"--- last lines of {proc.log}:\n{proc.tail(40)}",
                        file=sys.stderr,
                    )
        if self.tmp is not None:  # its log is in the artifacts
            shutil.rmtree(self.tmp, ignore_errors=True)
        print(f"timings: {json.dumps(self.timings)}")
        print(f"artifacts: {self.artifacts}")
        print(self.results.summary(), flush=True)
        return 1 if self.results.failed else 0


def _count(meter: dict[str, Any], category: str) -> int:
    """Requests of ``category`` in a /__sim__/meter answer."""
    for key in ("categories", "by_category", "requests"):
        table = meter.get(key)
        if isinstance(table, dict) and category in table:
            value = table[category]
            if isinstance(value, dict):
                value = value.get("count", value.get("requests", 0))
            return int(value or 0)
    raise E2EError(f"the meter has no {category!r} count: {sorted(meter)}")


# --------------------------------------------------------------------- browser


def _translation(platform: str, key: str, state: str) -> str:
    """The English name of an entity state, from the integration's translations."""
    path = ROOT / "custom_components" / DOMAIN / "translations" / "en.json"
    strings = json.loads(path.read_text())
    return str(strings["entity"][platform][key]["state"][state])


class Browser:
    """Headless Chromium through Playwright: the same flow as a person would click."""

    def __init__(self, run: Run):
        """Use ``run``'s Home Assistant and simulator."""
        self.run_ = run
        self.shots = run.artifacts / "screenshots"
        self._pw: Any = None
        self._browser: Any = None
        self.page: Any = None

    async def start(self) -> None:
        """Launch Debian's chromium."""
        from playwright.async_api import async_playwright  # noqa: PLC0415

        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        if executable is None:
            raise E2EError(
                "no chromium on PATH (scripts/e2e installs Debian's chromium)"
            )
        self._pw = await async_playwright().start()
        self._browser = await self._pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-dev-shm-usage",
            ],
        )
        context = await self._browser.new_context(
            viewport={"width": 1280, "height": 900},
            device_scale_factor=1,
            locale="en-US",
            timezone_id="UTC",
        )
        context.set_default_timeout(60_000)
        self.page = await context.new_page()
        console = (self.run_.artifacts / "browser-console.log").open("a")
        self._console = console
        self.page.on("console", lambda msg: console.write(f"{msg.type}: {msg.text}\n"))
        self.page.on("pageerror", lambda err: console.write(f"pageerror: {err!r}\n"))
        self.page.on(
            "requestfailed",
            lambda req: console.write(f"requestfailed: {req.url} {req.failure}\n"),
        )
        self.page.on(
            "response",
            lambda resp: (
                resp.status >= 400
                and console.write(f"http {resp.status}: {resp.url}\n")
            ),
        )

    async def stop(self) -> None:
        """Close the browser."""
        if getattr(self, "_console", None) is not None:
            self._console.close()
        with contextlib.suppress(Exception):
            if self._browser is not None:
                await self._browser.close()
        with contextlib.suppress(Exception):
            if self._pw is not None:
                await self._pw.stop()

    def field(self, label: str) -> Any:
        """The form field labelled ``label`` (required fields add a "*")."""
        return self.page.get_by_role(
            "textbox", name=re.compile(rf"^{re.escape(label)}\*?$")
        )

    async def failure_screenshot(self) -> None:
        """What the browser showed when the run failed."""
        with contextlib.suppress(Exception):
            if self.page is not None:
                await self.page.screenshot(path=str(self.shots / "failure.png"))

    async def shot(self, name: str, *, full: bool = False) -> Path:
        """Save a screenshot of the page (``full``: as tall as the page's content)."""
        path = self.shots / name
        page = self.page
        if full:  # Home Assistant scrolls inside its own layout: grow the viewport
            height = await page.evaluate(
                "() => Math.max(...[...document.querySelectorAll('*')].map("
                "e => e.scrollHeight || 0))"
            )
            await page.set_viewport_size(
                {"width": 1280, "height": min(int(height), 4000)}
            )
        await page.screenshot(path=str(path))
        if full:
            await page.set_viewport_size({"width": 1280, "height": 900})
        return path

    async def login(self) -> None:
        """Log in on Home Assistant's login page."""
        page = self.page
        ha = self.run_.ha
        await page.goto(ha.url + "/", wait_until="domcontentloaded")
        await page.wait_for_url(re.compile(r".*/auth/authorize.*"))
        await page.get_by_label("Username").fill(HA_USER)
        await page.get_by_label("Password", exact=True).fill(HA_PASSWORD)
        await self.shot("login.png")
        await page.get_by_role("button", name=re.compile("log in", re.I)).click()
        await page.wait_for_url(re.compile(r"^(?!.*/auth/authorize).*$"))
        await page.locator("home-assistant").wait_for(state="attached")
        await page.locator("ha-sidebar").first.wait_for(state="visible")

    async def run(self) -> None:
        """Log in, add the integration (menu → password → factor → 2FA), device page."""
        step(f"browser: log in and add the integration ({BROWSER_ACCOUNT})")
        run = self.run_
        since = time.monotonic()
        await self.login()
        run.expect("browser: logged in to Home Assistant", True)

        page = self.page
        account = await run.sim.account(BROWSER_ACCOUNT)
        await page.goto(
            f"{run.ha.url}/config/integrations/dashboard/add?domain={DOMAIN}",
            wait_until="domcontentloaded",
        )
        # The frontend first asks whether to set up the integration named in the URL.
        await page.get_by_text(re.compile("set up Tesla Resilient")).first.wait_for(
            state="visible"
        )
        await page.get_by_role("button", name="OK", exact=True).click()
        dialog = page
        menu_item = dialog.get_by_text("Email, password and two-factor code")
        await menu_item.wait_for(state="visible")
        await self.shot("sign_in_menu.png")
        run.expect(
            "browser: the sign-in menu shows three methods",
            await dialog.get_by_text("Paste a refresh token").is_visible(),
        )
        await menu_item.click()

        await self.field("Email").fill(account["email"])
        await self.field("Password").fill(account["password"])
        await dialog.get_by_text("Servers", exact=True).click()
        auth_field = self.field("Sign-in server")
        await auth_field.wait_for(state="visible")
        await auth_field.fill(run.sim.url)
        await self.field("Fleet API server").fill(run.sim.url)
        await self.shot("password_step.png")
        await self._submit(dialog)

        factor = account["mfa"][1]
        await dialog.get_by_text("Choose your authenticator").wait_for(state="visible")
        await dialog.get_by_text(factor["name"], exact=True).click()
        await self.shot("mfa_factor_step.png")
        await self._submit(dialog)

        code_field = self.field("Code")
        await code_field.wait_for(state="visible")
        run.expect(
            "browser: the 2FA step names the chosen authenticator",
            await dialog.get_by_text(
                re.compile(re.escape(factor["name"]))
            ).first.is_visible(),
        )
        await code_field.click()
        await code_field.press_sequentially(pyotp.TOTP(factor["secret"]).now())
        await self.shot("2fa_step.png")
        await self._submit(dialog)

        # The last page names the new device(s) and offers an area.
        finish = page.get_by_role(
            "button", name=re.compile(r"^(skip and )?finish$", re.I)
        )
        await finish.first.wait_for(state="visible")
        run.expect(
            "browser: the flow ends on the device page with the car's name",
            await page.get_by_role("textbox", name="Device name").input_value()
            in {
                c["display_name"]
                for c in (await run.sim.state())["vehicles"]
                if c["account"] == BROWSER_ACCOUNT
            },
        )
        await self.shot("flow_done.png")
        await finish.first.click()
        await finish.first.wait_for(state="hidden")
        run.expect("browser: the flow finished and created the entry", True)

        entries = await run.ha.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
        entry = next((e for e in entries if e["title"] == BROWSER_ACCOUNT), None)
        run.expect(
            "browser: the new entry is loaded",
            entry is not None and entry["state"] == "loaded",
            entries,
        )
        assert entry is not None  # noqa: S101 - narrowed by the check above
        run.entry_ids[BROWSER_ACCOUNT] = entry["entry_id"]
        cars = await run.discover_cars(BROWSER_ACCOUNT)
        self.car = cars[0]
        await self.device_page(self.car, "device_page.png", source="cloud")
        run.timed("browser_s", since)

    async def device_page(self, car: Car, name: str, *, source: str) -> None:
        """Open the car's device page and screenshot it."""
        page = self.page
        await page.goto(
            f"{self.run_.ha.url}/config/devices/device/{car.device_id}",
            wait_until="domcontentloaded",
        )
        await page.get_by_text("Battery level").first.wait_for(state="visible")
        row = page.get_by_text("Data source", exact=True).filter(visible=True).first
        await row.wait_for(state="visible")
        label = _translation("sensor", "data_source", source)
        await (
            page.get_by_text(label).filter(visible=True).first.wait_for(state="visible")
        )
        await self.shot(f"full_{name}", full=True)
        await page.set_viewport_size({"width": 1280, "height": 1000})
        if source == "cloud":
            await self.shot(name)
        else:  # the diagnostic card: cloud connection, data source, last update
            heading = page.get_by_role("heading", name="Diagnostic", exact=True)
            card = page.locator("ha-card").filter(has=heading)
            await card.first.scroll_into_view_if_needed()
            await card.first.screenshot(path=str(self.shots / name))
        self.run_.expect(
            f"browser: the device page shows the car, data source {label!r}", True
        )

    async def outage_screenshot(self, run: Run) -> None:
        """The device page during the outage."""
        step("browser: device page during the outage")
        car = self.car

        async def cached() -> bool:
            state = await run.ha.state(car.entity("data_source"))
            return bool(state and state["state"] == "cache")

        await run.poll("the browser's car to show cache", cached, limit=120)
        await self.device_page(car, "outage.png", source="cache")

    async def _submit(self, dialog: Any) -> None:
        button = dialog.get_by_role("button", name=re.compile(r"^(submit|next)$", re.I))
        await button.first.click()


# ----------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m e2e.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--no-browser", action="store_true", help="skip the headless Chromium part"
    )
    parser.add_argument(
        "--update-docs",
        action="store_true",
        help="copy the key screenshots to docs/screenshots/ on success",
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=ROOT / ".e2e",
        help="logs, screenshots and summary.json (default %(default)s)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="overall time limit in seconds (default %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    run = Run(args)

    async def runner() -> int:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            return await run.main()
        except asyncio.CancelledError:
            await run.stop()
            print(run.results.summary() + " (interrupted)", flush=True)
            return 130

    try:
        return asyncio.run(runner())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
