"""Headless Chromium (Playwright, Debian's chromium): what a person clicks and sees."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
import re
import shutil
import time
from typing import Any

import pyotp

from tesla_sim.tokens import fleet_auth_token_url

from .context import BROWSER_ACCOUNT, HA_PASSWORD, HA_USER, Car, Run, step
from .entities import discover_cars
from .harness import DOMAIN, ROOT, E2EError


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

    async def add_integration(self) -> None:
        """Open Settings → Add integration → Tesla Resilient: the flow's first step."""
        page = self.page
        await page.goto(
            f"{self.run_.ha.url}/config/integrations/dashboard/add?domain={DOMAIN}",
            wait_until="domcontentloaded",
        )
        # The frontend first asks whether to set up the integration named in the URL.
        await page.get_by_text(re.compile("set up Tesla Resilient")).first.wait_for(
            state="visible"
        )
        await page.get_by_role("button", name="OK", exact=True).click()

    async def simulator_servers(self) -> None:
        """Open the sign-in form's Servers section; fill in the simulator's."""
        url = self.run_.sim.url
        await self.page.get_by_text("Servers", exact=True).click()
        auth_field = self.field("Sign-in server")
        await auth_field.wait_for(state="visible")
        await auth_field.fill(url)
        await self.field("Token server").fill(fleet_auth_token_url(url))
        await self.field("Fleet API server").fill(url)

    async def run(self) -> None:
        """Log in, add the integration (menu → password → factor → 2FA → no
        authenticator), device page."""
        step(f"browser: log in and add the integration ({BROWSER_ACCOUNT})")
        run = self.run_
        since = time.monotonic()
        await self.login()
        run.expect("browser: logged in to Home Assistant", True)

        page = self.page
        account = await run.sim.account(BROWSER_ACCOUNT)
        await self.add_integration()
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
        await self.simulator_servers()
        await self.shot("password_step.png")
        await self.submit(dialog)

        factor = account["mfa"][1]
        await dialog.get_by_text("Choose your authenticator").wait_for(state="visible")
        await dialog.get_by_text(factor["name"], exact=True).click()
        await self.shot("mfa_factor_step.png")
        await self.submit(dialog)

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
        await self.submit(dialog)

        # The optional authenticator for sensitive actions: not now.
        not_now = dialog.get_by_text("Not now", exact=True)
        await not_now.wait_for(state="visible")
        await self.shot("authenticator_step.png")
        await not_now.click()

        # The last page names the new device(s) and offers an area.
        finish = self.finish_button()
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

        await self.loaded_entry(BROWSER_ACCOUNT, "browser")
        cars = await discover_cars(run, BROWSER_ACCOUNT)
        self.car = cars[0]
        await self.device_page(self.car, "device_page.png", source="cloud")
        await self.map_page(self.car, "map.png")
        run.timed("browser_s", since)

    async def loaded_entry(self, title: str, check: str) -> str:
        """Check the entry ``title`` is loaded; note and return its id."""
        run = self.run_
        entries = await run.ha.get(f"/api/config/config_entries/entry?domain={DOMAIN}")
        entry = next((e for e in entries if e["title"] == title), None)
        run.expect(
            f"{check}: the new entry is loaded",
            entry is not None and entry["state"] == "loaded",
            entries,
        )
        assert entry is not None  # noqa: S101 - narrowed by the check above
        run.entry_ids[title] = entry["entry_id"]
        return str(entry["entry_id"])

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

    async def map_page(self, car: Car, name: str) -> None:
        """Open the map's devices, pick ``car`` and screenshot its marker, named as the
        car (the map tiles need internet)."""
        page = self.page
        await page.goto(f"{self.run_.ha.url}/map", wait_until="domcontentloaded")
        await page.get_by_text("Devices", exact=True).first.click()
        await page.get_by_text(car.name, exact=True).first.click()
        marker = page.locator("ha-entity-marker").filter(visible=True).first
        await marker.wait_for(state="visible")
        await page.wait_for_timeout(1000)  # the map's zoom to the car settles
        await self.shot(name)
        self.run_.expect(f"browser: the map shows {car.name}", True)

    async def outage_screenshot(self, run: Run) -> None:
        """The device page during the outage."""
        step("browser: device page during the outage")
        car = self.car

        async def cached() -> bool:
            state = await run.ha.state(car.entity("data_source"))
            return bool(state and state["state"] == "cache")

        await run.poll("the browser's car to show cache", cached, limit=120)
        await self.device_page(car, "outage.png", source="cache")

    def finish_button(self) -> Any:
        """The last page's button of a config flow (after the device and area)."""
        return self.page.get_by_role(
            "button", name=re.compile(r"^(skip and )?finish$", re.I)
        )

    async def submit(self, dialog: Any) -> None:
        """Select the form's Submit (or Next) button."""
        button = dialog.get_by_role("button", name=re.compile(r"^(submit|next)$", re.I))
        await button.first.click()
