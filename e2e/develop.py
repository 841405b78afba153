"""The demo behind ``scripts/develop``: tesla_sim and Home Assistant on 127.0.0.1.

    python -m e2e.develop [--port 8123] [--sim-port 8765] [--seed 1] [--fresh]

Home Assistant runs on a copy of ``config/`` in ``.develop/config`` with the integration
linked from the working tree (edit, then restart to reload). On the first start it is
onboarded over REST with the user ``dev`` / ``dev``. Ctrl-C stops both processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import socket
import sys

import aiohttp

from tesla_sim.apps import DEV_CLIENT_ID, DEV_CLIENT_SECRET
from tesla_sim.tokens import fleet_auth_token_url

from .clients import HomeAssistant, Simulator
from .harness import (
    ROOT,
    E2EError,
    Process,
    prepare_config,
    start_home_assistant,
    start_simulator,
    wait_for,
)

RUNTIME = ROOT / ".develop"
USER, PASSWORD = "dev", "dev"


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def _advanced_mode(ha: HomeAssistant) -> None:
    """Turn on Advanced mode for the dev user (as its profile page does)."""
    async with ha.websocket() as ws:
        core = await ws.command({"type": "frontend/get_user_data", "key": "core"})
        value = dict((core or {}).get("value") or {})
        if not value.get("showAdvanced"):
            value["showAdvanced"] = True
            await ws.command(
                {"type": "frontend/set_user_data", "key": "core", "value": value}
            )


def _banner(ha_url: str, sim_url: str, state: dict[str, object]) -> str:
    lines = [
        "",
        "Tesla Resilient development environment",
        f"  Home Assistant  {ha_url}   login: {USER} / {PASSWORD}",
        f"  tesla_sim       {sim_url}   (control API: {sim_url}/__sim__/state)",
        "",
        "Add the integration: Settings -> Devices & services -> Add integration -> Tesla Resilient",
        f"  (or open {ha_url}/config/integrations/dashboard/add?domain=tesla_resilient)",
        "  -> 'Email, password and two-factor code'; open 'Servers' and enter",
        f"     Sign-in server: {sim_url}    Fleet API server: {sim_url}",
        f"     Token server: {fleet_auth_token_url(sim_url)}",
        "  or the browser sign-in with the simulator's developer app (Application",
        f"  credentials): client id {DEV_CLIENT_ID}, client secret {DEV_CLIENT_SECRET}",
        "",
        "Simulator accounts:",
    ]
    for account in state["accounts"]:  # type: ignore[attr-defined]
        extra = " (asks for a captcha)" if account.get("captcha") else ""
        lines.append(f"  {account['email']}   password: {account['password']}{extra}")
        for factor in account["mfa"]:
            lines.append(f"      2FA '{factor['name']}': secret {factor['secret']}")
        cars = [
            f"{car['display_name']} ({car['config']['model']})"
            for car in state["vehicles"]  # type: ignore[attr-defined]
            if car["account"] == account["email"]
        ]
        if cars:
            lines.append(f"      cars: {', '.join(cars)}")
    lines += [
        "",
        "A current 2FA code:",
        "  .venv/bin/python -c 'import pyotp; print(pyotp.TOTP(\"SECRET\").now())'",
        "",
        "Script the cloud:",
        f'  curl -X POST {sim_url}/__sim__/faults -d \'{{"kind": "outage", "seconds": 600}}\'',
        f"  curl -X DELETE {sim_url}/__sim__/faults",
        f'  curl -X POST {sim_url}/__sim__/vehicles/<VIN> -d \'{{"activity": "drive"}}\'',
        "",
        "Bluetooth (Home Assistant's bluetooth with the simulator as a proxy, 3 slots;",
        "config/custom_components/tesla_sim_bluetooth, development only):",
        f'  curl -X POST {sim_url}/__sim__/ble/<VIN> -d \'{{"in_range": true, "rssi": -60}}\'',
        "  then Tesla Resilient -> Add Bluetooth (a subentry) finds the car; while it",
        "  waits for the key card:",
        f"  curl -X POST {sim_url}/__sim__/ble/<VIN>/tap      (or .../decline)",
        f"  curl -X POST {sim_url}/__sim__/ble/<VIN> -d '{{\"in_range\": false}}'",
        "",
        f"Logs: {RUNTIME / 'home-assistant.log'}, {RUNTIME / 'tesla_sim.log'}",
        "Press Ctrl-C to stop both.",
        "",
    ]
    return "\n".join(lines)


async def develop(args: argparse.Namespace) -> int:
    """Start everything, print how to use it, run until interrupted."""
    for port, what in ((args.port, "Home Assistant"), (args.sim_port, "tesla_sim")):
        if _port_in_use(port):
            print(f"[develop] port {port} ({what}) is already in use", file=sys.stderr)
            return 1
    # config/custom_components/tesla_sim_bluetooth: the simulator's cars over Bluetooth
    config_dir = prepare_config(
        RUNTIME / "config",
        fresh=args.fresh,
        port=args.port,
        sim_url=f"http://127.0.0.1:{args.sim_port}",
    )
    sim_proc: Process | None = None
    ha_proc: Process | None = None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print("[develop] starting tesla_sim and Home Assistant ...", flush=True)
        # The demo offers the headless sign-in too: the legacy sign-in.
        sim_proc = await start_simulator(
            args.sim_port,
            RUNTIME / "tesla_sim.log",
            seed=args.seed,
            extra=["--legacy-sign-in"],
        )
        ha_url, sim_url = (
            f"http://127.0.0.1:{args.port}",
            f"http://127.0.0.1:{args.sim_port}",
        )
        ha_proc = await start_home_assistant(
            config_dir, args.port, RUNTIME / "home-assistant.log", dev_only=True
        )
        async with aiohttp.ClientSession() as session:
            ha = HomeAssistant(ha_url, session)
            if await ha.onboard_or_login("Dev", USER, PASSWORD):
                print("[develop] onboarded Home Assistant (first start)", flush=True)
            procs = [sim_proc, ha_proc]
            await wait_for(
                "Home Assistant to start", ha.core_running, limit=240, processes=procs
            )
            # Onboarding adds Met.no and Radio Browser, which need the internet.
            await ha.remove_entries({"met", "radio_browser"}, wait=5)
            await _advanced_mode(ha)
            state = await Simulator(sim_url, session).state()
        print(_banner(ha_url, sim_url, state), flush=True)

        tasks = {
            asyncio.create_task(stop.wait()),
            asyncio.create_task(sim_proc.wait()),
            asyncio.create_task(ha_proc.wait()),
        }
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        for proc in (sim_proc, ha_proc):
            with contextlib.suppress(E2EError):
                proc.check_running()
    except E2EError as err:
        print(f"[develop] {err}", file=sys.stderr)
        return 1
    finally:
        print("\n[develop] stopping ...", flush=True)
        for started in (ha_proc, sim_proc):
            if started is not None:
                await started.stop()
    print("[develop] stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(
        prog="scripts/develop",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8123, help="Home Assistant port")
    parser.add_argument("--sim-port", type=int, default=8765, help="tesla_sim port")
    parser.add_argument("--seed", type=int, default=1, help="tesla_sim seed")
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="forget Home Assistant's state in .develop/ first",
    )
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(develop(args))
    return 130


if __name__ == "__main__":
    sys.exit(main())
