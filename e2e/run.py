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
5. In the browser again, the owner's onboarding of a developer app
   (:mod:`e2e.onboarding`): Tesla's sign-in page with email, password and TOTP code,
   partner registration with Home Assistant's own key view, the virtual key approved
   on the simulator's pairing page, entities.
6. Over Bluetooth (:mod:`e2e.bluetooth`; the development-only scanner of
   ``config/custom_components/tesla_sim_bluetooth``): the car in range, paired in the
   browser (the key card tapped through the simulator), unlocked during a cloud outage
   with no cloud request.
7. Checks Home Assistant's log for errors of the integration and for secrets.

Prints ``e2e: N passed, M failed`` and exits 0 only when everything passed.
Screenshots, logs and a JSON summary go to the artifacts directory (default ``.e2e/``);
``--update-docs`` also copies the key screenshots to ``docs/screenshots/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
import shutil
import signal
import sys
import tempfile
import time

import aiohttp

from .bluetooth import SCREENSHOTS as BLUETOOTH_SCREENSHOTS, bluetooth
from .browser import Browser
from .clients import HomeAssistant, Simulator
from .context import CheckFailed, Run, step
from .entities import read_entities
from .harness import (
    ROOT,
    E2EError,
    free_port,
    prepare_config,
    start_home_assistant,
    start_simulator,
)
from .logs import check_logs
from .onboarding import SCREENSHOTS, onboarding, without_my
from .outage import outage
from .protection import lock_unlock, protection
from .signin import config_flow_api, onboard

KEY_SCREENSHOTS = (
    "2fa_step.png",
    "device_page.png",
    "map.png",
    "outage.png",
    *SCREENSHOTS,
    *BLUETOOTH_SCREENSHOTS,
)


async def start_processes(run: Run) -> None:
    """Start the simulator and Home Assistant (onboarding follows: :func:`onboard`)."""
    step("start the simulator and Home Assistant")
    since = time.monotonic()
    sim_port, ha_port = free_port(), free_port()
    # The run signs in headless (email, password, 2FA code): the legacy sign-in.
    run.sim_proc = await start_simulator(
        sim_port, run.artifacts / "tesla_sim.log", extra=["--legacy-sign-in"]
    )
    run.tmp = Path(tempfile.mkdtemp(prefix="tesla-resilient-e2e-"))
    # config/custom_components/tesla_sim_bluetooth: the simulator's cars over Bluetooth
    run.config_dir = prepare_config(
        run.tmp / "config",
        fresh=True,
        port=ha_port,
        sim_url=f"http://127.0.0.1:{sim_port}",
    )
    without_my(run.config_dir)  # the OAuth callback is Home Assistant's own
    run.ha_proc = await start_home_assistant(
        run.config_dir, ha_port, run.artifacts / "home-assistant.log", dev_only=True
    )
    run.timed("start_processes_s", since)
    session = run.session
    run.sim = Simulator(f"http://127.0.0.1:{sim_port}", session)
    run.ha = HomeAssistant(f"http://127.0.0.1:{ha_port}", session)
    run.expect("Home Assistant serves HTTP", True)


async def run_phases(run: Run) -> int:
    """Run every phase; return the exit status."""
    if run.artifacts.exists():
        shutil.rmtree(run.artifacts)
    (run.artifacts / "screenshots").mkdir(parents=True)
    browser: Browser | None = None
    current = "start"
    async with aiohttp.ClientSession() as run.session:
        try:
            async with asyncio.timeout(run.args.timeout):
                await start_processes(run)
                await onboard(run)
                for name, phase in (
                    ("config flow over REST", config_flow_api),
                    ("entities", read_entities),
                    ("options flow", protection),
                    ("lock and unlock", lock_unlock),
                ):
                    current = name
                    await phase(run)
                if not run.args.no_browser:
                    current = "browser"
                    browser = Browser(run)
                    await browser.start()
                    await browser.run()
                current = "outage"
                await outage(run, browser)
                if browser is not None:
                    current = "onboarding"
                    await onboarding(run, browser)
                    current = "bluetooth"
                    await bluetooth(run, browser)
                current = "logs"
                await check_logs(run)
        except CheckFailed:
            pass
        except (E2EError, TimeoutError, aiohttp.ClientError, OSError) as err:
            run.results.error(current, err)
        except Exception as err:
            run.results.error(current, err)
            import traceback  # noqa: PLC0415

            traceback.print_exc()
        finally:
            if browser is not None:
                if run.results.failed:
                    await browser.failure_screenshot()
                await browser.stop()
            await run.stop()
    return finish(run)


def finish(run: Run) -> int:
    """Write the summary; copy the key screenshots when asked."""
    run.timings["total_s"] = round(time.monotonic() - run.results.started, 1)
    shots = run.artifacts / "screenshots"
    if run.args.update_docs and not run.results.failed:  # the key screenshots taken
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        for name in KEY_SCREENSHOTS:
            if (shots / name).exists():
                shutil.copy2(shots / name, target / name)
    summary = {
        "passed": run.results.passed,
        "failed": [{"check": n, "detail": d} for n, d in run.results.failed],
        "timings": run.timings,
        "screenshots": sorted(p.name for p in shots.glob("*.png")),
    }
    (run.artifacts / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    if run.results.failed:
        for proc in (run.ha_proc, run.sim_proc):
            if proc is not None:
                print(
                    f"--- last lines of {proc.log}:\n{proc.tail(40)}",
                    file=sys.stderr,
                )
    if run.tmp is not None:  # its log is in the artifacts
        shutil.rmtree(run.tmp, ignore_errors=True)
    print(f"timings: {json.dumps(run.timings)}")
    print(f"artifacts: {run.artifacts}")
    print(run.results.summary(), flush=True)
    return 1 if run.results.failed else 0


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
            return await run_phases(run)
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
