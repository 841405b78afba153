"""``python -m tesla_sim``: serve the simulated Tesla cloud on one port."""

import argparse
import asyncio
from collections.abc import Sequence
import contextlib
import logging
import sys
from typing import TextIO

from .app import SimServer
from .world import World

DESCRIPTION = """\
A faithful local Tesla cloud: Tesla's sign-in page for registered developer apps
(password, TOTP two-factor, captcha), the fleet-auth token endpoint (/fleet-auth/oauth2/v3/token:
authorization code with the app's secret, rotating refresh tokens, partner tokens), partner
registration per region, the Fleet API (/api/1/...) with virtual cars that sleep, wake,
drive and charge, a request meter with dollar costs, and fault injection.
Sign-in, Fleet API and the control API (/__sim__/...) share one port."""

EPILOG = """\
control API:
  GET    /__sim__/state                 accounts (email, password, MFA secrets) and vehicles
  GET    /__sim__/meter                 requests per category/endpoint and cost in USD
  POST   /__sim__/meter/reset
  POST   /__sim__/faults                {"kind": "outage"|"hang"|"slow"|"rate_limit"|
                                         "revoke_token"|"malformed"|"refuse",
                                         "seconds": N, "paths": ["/api/1/"], "status": 503}
  DELETE /__sim__/faults
  POST   /__sim__/vehicles/{vin}        {"activity": "park"|"drive"|"charge"|"climate"|
                                         "sleep"|"wake"|"offline"}
  POST   /__sim__/accounts/{email}      {"locked": true, "region": "eu", "registered": false}
  POST   /__sim__/clock                 {"advance": seconds}   (with --virtual-clock)
  POST   /__sim__/oauth/code            {"email", "redirect_uri", "code_challenge", "state"}
  POST   /__sim__/oauth/tokens          {"email", "scope", "client_id"}
  GET    /__sim__/apps                  developer apps (client id, secret, redirect URIs)
  POST   /__sim__/apps                  {"redirect_uris": [...], "allowed_origins": [...],
                                         "partner_registered": true}
  POST   /__sim__/apps/{client_id}/unregister   drop its partner registrations
  POST   /__sim__/reset

example:
  python -m tesla_sim --port 8765 --virtual-clock
  curl -s localhost:8765/__sim__/state | python -m json.tool
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m tesla_sim",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8765,
        help="port (default %(default)s; 0 = any free port)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seed for ids, VINs and secrets (default %(default)s)",
    )
    parser.add_argument(
        "--virtual-clock",
        action="store_true",
        help='time stands still until POST /__sim__/clock {"advance": s}',
    )
    parser.add_argument(
        "--rest-commands",
        action="store_true",
        help="every car takes plain REST commands (Tesla: only pre-2021 Model S/X)",
    )
    parser.add_argument(
        "--start-time",
        type=float,
        default=None,
        metavar="EPOCH",
        help="virtual clock start (epoch seconds; default: now)",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="latency added to every API request (ms)",
    )
    parser.add_argument(
        "--vehicles",
        type=int,
        default=None,
        metavar="N",
        help="give the no-MFA account N cars instead of one (scale tests)",
    )
    parser.add_argument(
        "--sleep-after",
        type=float,
        default=900.0,
        metavar="S",
        help="idle seconds before a parked car falls asleep (default %(default)s)",
    )
    parser.add_argument(
        "--token-lifetime",
        type=float,
        default=8 * 3600.0,
        metavar="S",
        help="access token lifetime in seconds (default %(default)s)",
    )
    parser.add_argument(
        "--legacy-sign-in",
        action="store_true",
        help="serve the headless sign-in of client ownerapi (Tesla answers it with a captcha)",
    )
    parser.add_argument(
        "--unregistered",
        action="store_true",
        help="the dev app starts without partner registration (412 until it registers)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (aiohttp access log)",
    )
    args = parser.parse_args(argv)
    if args.vehicles is not None and args.vehicles < 0:
        parser.error("--vehicles must not be negative")
    if args.latency_ms < 0:
        parser.error("--latency-ms must not be negative")
    return args


def banner(world: World, out: TextIO) -> None:
    """Print the URL, the accounts and how to make a TOTP code."""
    print(f"tesla_sim listening on {world.base_url}", file=out)
    print(
        f"  clock: {'virtual' if world.clock.virtual else 'real'}; seed {world.seed}",
        file=out,
    )
    for app in world.apps.values():
        print(
            f"developer app {app.name!r}: client id {app.client_id}  "
            f"client secret {app.client_secret}",
            file=out,
        )
    print(f"  token URL (fleet-auth): {world.token_url}", file=out)
    print(
        f"  virtual key approval: {world.base_url}/_ak/<the app's registered domain>",
        file=out,
    )
    if world.legacy_sign_in:
        print("  legacy headless sign-in (client ownerapi) enabled", file=out)
    print("accounts:", file=out)
    for account in world.accounts.values():
        flags = " (captcha)" if account.captcha else ""
        print(f"  {account.email}  password: {account.password}{flags}", file=out)
        for factor in account.mfa:
            print(
                f"    MFA factor {factor.name!r} ({factor.id}) secret {factor.secret}",
                file=out,
            )
        for vin in account.vins:
            car = world.vehicles[vin]
            print(
                f"    vehicle {car.display_name} ({car.config.model}) {vin} id {car.id}",
                file=out,
            )
    print(
        "make a TOTP code: python -c 'import pyotp; print(pyotp.TOTP(\"SECRET\").now())'",
        file=out,
    )
    if world.clock.virtual:
        print(
            '  (virtual clock: use pyotp.TOTP("SECRET").at(<now from GET /__sim__/clock>))',
            file=out,
        )
    print(
        "control API: GET /__sim__/state, /__sim__/meter; see --help",
        file=out,
        flush=True,
    )


async def serve(args: argparse.Namespace, out: TextIO = sys.stdout) -> SimServer:
    """Start the server described by ``args`` and print the banner."""
    server = SimServer(
        seed=args.seed,
        virtual_clock=args.virtual_clock,
        latency=args.latency_ms / 1000.0,
        rest_commands=args.rest_commands,
        host=args.host,
        port=args.port,
        vehicles_per_account=args.vehicles,
        start_time=args.start_time,
        sleep_after=args.sleep_after,
        access_token_lifetime=args.token_lifetime,
        access_log=args.access_log,
        legacy_sign_in=args.legacy_sign_in,
        partner_registered=not args.unregistered,
    )
    await server.start()
    banner(server.world, out)
    return server


async def _run(
    args: argparse.Namespace,
) -> None:  # pragma: no cover - runs until killed
    server = await serve(args)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - entry point
    """Entry point."""
    args = parse_args(argv)
    if args.access_log:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_run(args))


if __name__ == "__main__":  # pragma: no cover
    main()
