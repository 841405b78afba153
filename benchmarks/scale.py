"""Scale: set-up time, memory and CPU of the real integration for 1, 10 and 50 vehicles.

The simulator runs as its own process (``python -m tesla_sim --latency-ms 150
--vehicles N``, real clock), so its own CPU and memory are not counted; Home Assistant
and the integration run in this process. All vehicles are on one account.

* ``setup_s``: wall seconds of ``hass.config_entries.async_setup`` for the entry
  (vehicle list, first refresh of every vehicle, every platform's entities), median of
  ``runs`` fresh Home Assistant instances;
* ``peak_traced_mib``: peak of Python memory allocated during one more set-up
  (``tracemalloc``, Home Assistant included), and ``integration_retained_kib``: memory
  still held afterwards by objects allocated in ``custom_components/``;
* ``max_loop_step_s``: the longest the event loop was held by one step during the timed
  set-ups (every platform adding its entities included): a probe task sleeps
  :data:`PROBE_INTERVAL` over and over, and the step is how late it woke;
* ``cpu_ms_per_update_per_vehicle``: process CPU time (``time.process_time``) of
  refreshing every vehicle's coordinator at once, divided by vehicles and rounds.

The targets (issue 14), judged at 50 vehicles: set-up at most twice one car's
(``setup_ratio``), no loop step over 0.1 s, at most 1 ms CPU per update and vehicle.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
import os
from pathlib import Path
import statistics
import sys
import tempfile
import time
import tracemalloc
from typing import Any

import aiohttp
from pytest_homeassistant_custom_component.common import MockConfigEntry  # type: ignore[import-untyped]

from custom_components.tesla_resilient.api import Tokens

from .common import ACCOUNT_EMAIL, bench_parser, dump
from .entries import integration_entry, signed_in_data
from .ha import home_assistant, integration_entity_ids

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = (1, 10, 50)
TARGET_SETUP_S_50 = 3.0
PROBE_INTERVAL = 0.005
"""Seconds the loop-lag probe sleeps between two looks at the clock."""
TARGETS: dict[str, float] = {
    "setup_ratio_50_vs_1": 2.0,
    "max_loop_step_s": 0.1,
    "cpu_ms_per_update_per_vehicle": 1.0,
}
"""The issue's targets at 50 vehicles (each met when the figure is at most the target)."""


@asynccontextmanager
async def loop_lag_probe() -> AsyncIterator[list[float]]:
    """Yield a list that holds, afterwards, the longest loop step seen (seconds)."""
    longest = [0.0]

    async def probe() -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(PROBE_INTERVAL)
            late = time.perf_counter() - before - PROBE_INTERVAL
            longest[0] = max(longest[0], late)

    task = asyncio.create_task(probe())
    await asyncio.sleep(0)  # let it take its first look
    try:
        yield longest
    finally:
        task.cancel()


@asynccontextmanager
async def sim_process(vehicles: int, latency_ms: float) -> AsyncIterator[str]:
    """Run ``python -m tesla_sim`` with ``vehicles`` cars on one account; yield its URL."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tesla_sim",
        "--port",
        "0",
        "--latency-ms",
        str(latency_ms),
        "--vehicles",
        str(vehicles),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        if proc.stdout is None:  # pragma: no cover - stdout is a pipe
            raise RuntimeError("no pipe to tesla_sim")
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if "listening on" not in line:
            raise RuntimeError(f"tesla_sim did not start: {line!r}")
        url = line.rsplit(" ", 1)[-1].strip()
        drain = asyncio.create_task(proc.stdout.read())
        yield url
        drain.cancel()
    finally:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()


async def entry_for(session: aiohttp.ClientSession, url: str) -> MockConfigEntry:
    """A config entry for the simulator's no-MFA account, with fresh tokens."""
    async with session.post(
        f"{url}/__sim__/oauth/tokens", json={"email": ACCOUNT_EMAIL}
    ) as resp:
        resp.raise_for_status()
        body = await resp.json()
    async with session.get(f"{url}/__sim__/state") as resp:
        resp.raise_for_status()
        state = await resp.json()
    account = next(a for a in state["accounts"] if a["email"] == ACCOUNT_EMAIL)
    tokens = Tokens.from_token_response(body, time.time())
    return integration_entry(
        ACCOUNT_EMAIL,
        account["id"],
        signed_in_data(url, tokens, account["region"]),
    )


async def _one_setup(
    session: aiohttp.ClientSession,
    url: str,
    *,
    memory: bool = False,
    cpu_rounds: int = 0,
) -> dict[str, Any]:
    entry = await entry_for(session, url)
    with tempfile.TemporaryDirectory() as config_dir:
        async with home_assistant(config_dir) as hass:
            if memory:
                tracemalloc.start()
            async with loop_lag_probe() as longest:
                started = time.perf_counter()
                entry.add_to_hass(hass)
                ok = await hass.config_entries.async_setup(entry.entry_id)
                await hass.async_block_till_done()
                elapsed = time.perf_counter() - started
            result: dict[str, Any] = {
                "loaded": ok,
                "setup_s": elapsed,
                "max_loop_step_s": longest[0],
            }
            result["entities"] = len(integration_entity_ids(hass))
            if memory:
                _, peak = tracemalloc.get_traced_memory()
                snapshot = tracemalloc.take_snapshot().filter_traces(
                    [tracemalloc.Filter(True, str(ROOT / "custom_components") + "/*")]
                )
                tracemalloc.stop()
                result["peak_traced_mib"] = peak / 2**20
                result["integration_retained_kib"] = (
                    sum(stat.size for stat in snapshot.statistics("filename")) / 1024
                )
            if cpu_rounds and ok:
                vehicles = list(entry.runtime_data.vehicles.values())
                cpu0 = time.process_time()
                for _ in range(cpu_rounds):
                    await asyncio.gather(*(v.async_refresh() for v in vehicles))
                    await hass.async_block_till_done()
                cpu = time.process_time() - cpu0
                result["cpu_ms_per_update_per_vehicle"] = (
                    cpu * 1000 / (cpu_rounds * max(1, len(vehicles)))
                )
            await hass.config_entries.async_unload(entry.entry_id)
    return result


async def run_scale(
    sizes: Sequence[int] = DEFAULT_SIZES,
    *,
    runs: int = 3,
    latency_ms: float = 150.0,
    cpu_rounds: int = 3,
) -> dict[str, Any]:
    """Measure every size; return the JSON document."""
    results: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        for size in sizes:
            async with sim_process(size, latency_ms) as url:
                timed = [await _one_setup(session, url) for _ in range(runs)]
                extra = await _one_setup(session, url, memory=True)
                cpu = await _one_setup(session, url, cpu_rounds=cpu_rounds)
            setups = [r["setup_s"] for r in timed]
            results[str(size)] = {
                "loaded": all(r["loaded"] for r in timed),
                "entities": timed[0]["entities"],
                "setup_s_median": round(statistics.median(setups), 3),
                "setup_s_runs": [round(s, 3) for s in setups],
                "max_loop_step_s": round(max(r["max_loop_step_s"] for r in timed), 3),
                "peak_traced_mib": round(extra["peak_traced_mib"], 1),
                "integration_retained_kib": round(extra["integration_retained_kib"], 1),
                "cpu_ms_per_update_per_vehicle": (
                    None
                    if "cpu_ms_per_update_per_vehicle" not in cpu
                    else round(cpu["cpu_ms_per_update_per_vehicle"], 2)
                ),
            }
    largest = results.get("50")
    doc: dict[str, Any] = {
        "benchmark": "scale",
        "latency_ms": latency_ms,
        "runs": runs,
        "vehicles": results,
    }
    if largest is not None:
        doc["target"] = {
            "setup_s_50_vehicles": TARGET_SETUP_S_50,
            "met": largest["setup_s_median"] < TARGET_SETUP_S_50,
        }
        if "1" in results:
            doc["targets"] = judge(results["1"], largest)
    return doc


def judge(one: dict[str, Any], fifty: dict[str, Any]) -> dict[str, Any]:
    """The issue's three figures at 50 vehicles against :data:`TARGETS`."""
    figures = {
        "setup_ratio_50_vs_1": round(
            fifty["setup_s_median"] / one["setup_s_median"], 2
        ),
        "max_loop_step_s": fifty["max_loop_step_s"],
        "cpu_ms_per_update_per_vehicle": fifty["cpu_ms_per_update_per_vehicle"],
    }
    return {
        key: {
            "target": target,
            "measured": figures[key],
            "met": figures[key] is not None and figures[key] <= target,
        }
        for key, target in TARGETS.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/bench scale [--json] [--sizes 1,10,50] [--runs 3] [--latency-ms 150]``."""
    parser = bench_parser("scale", __doc__)
    parser.add_argument(
        "--sizes", default="1,10,50", help="comma-separated vehicle counts"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed set-ups per size")
    parser.add_argument("--latency-ms", type=float, default=150.0)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    doc = asyncio.run(run_scale(sizes, runs=args.runs, latency_ms=args.latency_ms))
    if args.json:
        print(dump(doc))
    else:
        for size, res in doc["vehicles"].items():
            print(f"{size:>3} vehicles: {res}")
        for key, judged in doc.get("targets", {}).items():
            print(f"{key}: {judged}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
