"""The standard day (DESIGN.md §8): what the car does and when HA sends commands.

The schedule lives next to the integration's cost estimate (``polling_cost``), which the
options flow shows; the benchmarks run the same day on the simulator.
"""

from custom_components.tesla_resilient.polling_cost import COMMANDS, SCHEDULE, H, M

__all__ = ["COMMANDS", "SCHEDULE", "TARGETS", "H", "M"]

TARGETS: dict[str, float] = {
    "usd_per_month": 4.0,
    "usd_per_month_checks_free": 4.0,
    "max_location_age_driving_s": 90.0,
    "wakes_caused": 0,
    "awake_minutes_caused": 0,
}
"""The issue's targets for our policy (per vehicle, standard day)."""
