"""A cloud outage injected in the simulator: the last known state served, then recovery."""

from __future__ import annotations

import json
import time
from typing import Any

from .browser import Browser
from .context import Run, step
from .harness import E2EError


async def outage(run: Run, browser: Browser | None) -> None:
    """Cloud outage: last known state served, commands refused; then recovery."""
    step("cloud outage")
    car = next(iter(run.cars.values()))
    before = await run.car_states(car)
    meter_before = await run.sim.meter()
    await run.sim.add_fault("outage", 600)
    since = time.monotonic()
    entities = [c.entity("data_source") for c in run.cars.values()]
    log = run.artifacts / "home-assistant.log"

    async def declared() -> bool:
        await run.ha.call_service(
            "homeassistant", "update_entity", {"entity_id": entities}
        )
        states = [await run.ha.state(e) for e in entities]
        # Each account declares its own outage (logged once when it starts); values
        # turn to the cache already at the first failure, before the outage.
        declared = (
            log.read_text(errors="replace").lower().count("tesla cloud unreachable")
        )
        return all(
            s is not None and s["state"] == "cache" for s in states
        ) and declared >= len(run.entry_ids)

    await run.poll(
        "the integration to declare an outage", declared, limit=240, interval=2
    )
    run.timed("outage_detected_s", since)
    run.expect("the integration declares the outage after repeated failures", True)
    await _connection_state(run, "off")
    for c in run.cars.values():
        states = await run.car_states(c)
        unavailable = [k for k, s in states.items() if s["state"] == "unavailable"]
        run.expect(
            f"{c.name}: no entity unavailable during the outage",
            not unavailable,
            unavailable,
        )
        run.expect(
            f"{c.name}: data source cache",
            states["data_source"]["state"] == "cache",
            states["data_source"],
        )
    during = await run.car_states(car)
    run.expect(
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
    run.expect(
        "the location carries data_source cache",
        during["location"]["attributes"].get("data_source") == "cache",
        during["location"]["attributes"],
    )
    run.expect(
        "the lock carries data_source cache (as the README says)",
        during["vehicle_state_locked"]["attributes"].get("data_source") == "cache",
        during["vehicle_state_locked"]["attributes"],
        fatal=False,
    )
    commands_before = await run.sim.meter()
    status, body = await run.ha.call_service(
        "lock", "lock", {"entity_id": car.entity("vehicle_state_locked")}
    )
    commands_after = await run.sim.meter()
    run.expect(
        "a command during the outage fails at once with an error",
        status in {400, 500} and "unreachable" in json.dumps(body).lower(),
        (status, body),
    )
    run.expect(
        "nothing is sent to the cloud for that command",
        _count(commands_after, "command") == _count(commands_before, "command"),
        (_count(commands_before, "command"), _count(commands_after, "command")),
    )
    run.expect(
        "no command was sent during the outage",
        _count(commands_after, "command") == _count(meter_before, "command"),
        commands_after.get("categories", commands_after),
    )
    if browser is not None:
        await browser.outage_screenshot(run)

    step("recovery")
    await run.sim.clear_faults()
    since = time.monotonic()

    async def recovered() -> bool:
        await run.ha.call_service(
            "homeassistant", "update_entity", {"entity_id": entities}
        )
        states = [
            await run.ha.state(c.entity("data_source")) for c in run.cars.values()
        ]
        return all(s is not None and s["state"] == "cloud" for s in states)

    await run.poll("the cloud to come back", recovered, limit=420, interval=3)
    run.timed("recovery_s", since)
    run.expect("after the fault clears every car is back on data source cloud", True)
    await _connection_state(run, "on")


async def _connection_state(run: Run, expected: str) -> None:
    """Cloud connection shows ``expected`` by itself (else nudge it and go on)."""
    ids = [c.entity("cloud_connection") for c in run.cars.values()]

    async def shown() -> bool:
        states = [await run.ha.state(e) for e in ids]
        return all(s is not None and s["state"] == expected for s in states)

    # Each account declares its own outage after three failed probes, spaced by
    # its back-off (10-20 s, then 20-40 s): allow for two back-off steps.
    try:
        await run.poll(f"cloud connection {expected}", shown, limit=120)
        ok = True
    except E2EError:
        ok = False
    run.expect(
        f"the cloud connection entities turn {expected} by themselves",
        ok,
        [(e, (await run.ha.state(e) or {}).get("state")) for e in ids],
        fatal=False,
    )
    if not ok:  # a forced state write shows what the integration knows
        await run.ha.call_service("homeassistant", "update_entity", {"entity_id": ids})
        await run.poll(f"cloud connection {expected} (forced)", shown, limit=30)
        run.expect(f"cloud connection is {expected} after a forced state write", True)


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
