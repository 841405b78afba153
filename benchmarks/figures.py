"""The figures of a live run (``live.run_live``): the day's (cost, wakes, awake time,
location age while driving) and the outage's (unavailable entities, restoration,
recovery, requests during the outage, commands)."""

from typing import TYPE_CHECKING, Any

from tesla_sim import World

from .common import SECONDS_PER_MONTH_FACTOR, hhmm
from .scenario import RESTART_AT

if TYPE_CHECKING:
    from .live import Tally


def day_figures(world: World, tally: Tally, hours: float) -> dict[str, Any]:
    """The day benchmark's figures (meter totals, the car's awake time, location age)."""
    meter = world.meter
    scale = 24.0 / hours * SECONDS_PER_MONTH_FACTOR
    usd = meter.usd(checks_free=False)
    return {
        "requests": {
            k: meter.requests[k]
            for k in ("data", "check", "command", "wake", "account", "auth")
        },
        "requests_total": sum(meter.requests.values()),
        "usd_per_day": round(usd * 24.0 / hours, 4),
        "usd_per_month": round(usd * scale, 2),
        "usd_per_month_checks_free": round(meter.usd(checks_free=True) * scale, 2),
        "wakes_caused": meter.wakes_caused,
        "awake_minutes_caused": round(meter.kept_awake_s / 60.0, 1),
        "awake_minutes": round(tally.awake_s / 60.0, 1),
        "max_location_age_driving_s": round(max(tally.drives, default=0.0), 1),
        "max_location_age_by_drive_s": [round(a, 1) for a in tally.drives],
        "max_lock_age_s": None,
        "max_lock_age_wall_s": None,
    }


def live_result(  # noqa: PLR0917 - one call site, all positional
    world: World,
    tally: Tally,
    restored: dict[str, dict[str, str]],
    outage: tuple[float, float],
    start: float,
    hours: float,
) -> dict[str, Any]:
    """The outage figures and the day's."""
    during: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for item in world.meter.log:
        if outage[0] <= item.time < outage[1]:
            during[item.category] = during.get(item.category, 0) + 1
            statuses[str(item.status)] = statuses.get(str(item.status), 0) + 1
    before = restored.get("before", {})
    after = restored.get("after", {})
    differing = sorted(e for e, v in before.items() if after.get(e) != v)
    return {
        "benchmark": "outage",
        "hours": hours,
        "outage": {"from": hhmm(outage[0] - start), "to": hhmm(outage[1] - start)},
        "restart_at": hhmm(RESTART_AT),
        "unavailable_entity_seconds": round(tally.unavailable_entity_seconds, 1),
        "unavailable_entity_seconds_during_outage": round(
            tally.unavailable_during_outage, 1
        ),
        "max_unavailable_entities": tally.max_unavailable_entities,
        "requests_during_outage": sum(during.values()),
        "requests_during_outage_by_category": during,
        "requests_during_outage_by_status": statuses,
        "recovery_seconds": (
            None
            if tally.recovered_at is None
            else round(tally.recovered_at - outage[1], 1)
        ),
        "unavailable_before_outage": tally.usual_unavailable or [],
        "restored_after_restart": bool(before) and not differing,
        "entities_compared": len(before),
        "entities_restored": len(before) - len(differing),
        "entities_not_restored": differing,
        "commands": tally.commands,
        "day": day_figures(world, tally, hours),
    }
