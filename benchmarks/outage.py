"""The seed outage: the standard day with Tesla's cloud down 07:00-08:00 and a Home
Assistant restart at 07:30, run through the real integration in a real Home Assistant.

The simulator (virtual clock) scripts the car exactly as the day benchmark does and
answers every Fleet API and sign-in request with HTTP 503 from 07:00 to 08:00. Home
Assistant is stopped at 07:30 (its stores written as on a real shutdown) and a new
instance starts from the same configuration directory with the same config entry.

A run's seed seeds the simulator and Python's ``random`` (the cloud health's backoff
jitter); ``--runs N`` repeats the day with N seeds and reports every run's recovery and
the worst against :data:`RECOVERY_TARGET`.
"""

import asyncio
from collections.abc import Sequence
import sys
from typing import Any

from custom_components.tesla_resilient.health import max_outage_requests

from .common import bench_parser, print_result
from .integrations import Ours
from .live import run_live
from .scenario import OUTAGE_END, OUTAGE_START, RESTART_AT, SLEEP_MODELS, SleepModel

__all__ = ["OUTAGE_END", "OUTAGE_START", "RESTART_AT", "run_ha_day", "run_outage"]

RECOVERY_TARGET = 60.0
"""Seconds after the cloud's return by which every vehicle must be fresh again."""


async def run_outage(*, hours: float = 24.0, seed: int = 1) -> dict[str, Any]:
    """Run the seed scenario (its first ``hours``) with ``seed``; return the figures."""
    return await run_ha_day(hours=hours, outage=True, restart=True, seed=seed)


async def run_outages(*, hours: float = 24.0, seeds: Sequence[int]) -> dict[str, Any]:
    """Run the seed scenario once per seed; every run's recovery and the worst."""
    runs = [await run_outage(hours=hours, seed=seed) for seed in seeds]
    recoveries = [run["recovery_seconds"] for run in runs]
    worst = None if None in recoveries else max(recoveries)
    return {
        "benchmark": "outage",
        "hours": hours,
        "runs": [
            {
                "seed": run["seed"],
                "recovery_seconds": run["recovery_seconds"],
                "requests_during_outage": run["requests_during_outage"],
                "requests_during_outage_by_status": run[
                    "requests_during_outage_by_status"
                ],
                "restored_after_restart": run["restored_after_restart"],
                "commands": [c["result"] for c in run["commands"]],
            }
            for run in runs
        ],
        "worst_recovery_seconds": worst,
        "recovery_target_seconds": RECOVERY_TARGET,
        "recovery_target_met": worst is not None and worst <= RECOVERY_TARGET,
        "max_requests_during_outage": max(r["requests_during_outage"] for r in runs),
        "requests_during_outage_bound": runs[0]["requests_during_outage_bound"],
    }


async def run_ha_day(
    *,
    hours: float = 24.0,
    outage: bool = True,
    restart: bool = True,
    seed: int = 1,
    sleep_model: SleepModel = SLEEP_MODELS["awake"],
) -> dict[str, Any]:
    """Run the standard day through Home Assistant with our integration, with or
    without outage and restart (``live.run_live``), plus the bound on the requests
    sent during the outage."""
    result = await run_live(
        Ours(),
        hours=hours,
        outage=outage,
        restart=restart,
        seed=seed,
        sleep_model=sleep_model,
    )
    # Two Home Assistant runs (the restart), each polling the account and its one car.
    pollers = 2
    result["requests_during_outage_bound"] = 2 * max_outage_requests(
        OUTAGE_END - OUTAGE_START, pollers
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/bench outage [--json] [--hours H] [--runs N] [--seed S]``."""
    parser = bench_parser("outage", __doc__, hours=True, seeds=True)
    args = parser.parse_args(argv)
    if args.runs > 1:
        seeds = range(args.seed, args.seed + args.runs)
        result = asyncio.run(run_outages(hours=args.hours, seeds=seeds))
    else:
        result = asyncio.run(run_outage(hours=args.hours, seed=args.seed))
    return print_result(result, as_json=args.json)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
