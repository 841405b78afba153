"""The standard day (DESIGN.md §8): what the car does and when HA sends commands; the seed
outage's window; the simulator's two sleep models.

The schedule lives next to the integration's cost estimate (``polling_cost``), which the
options flow shows; the benchmarks run the same day on the simulator.
"""

from dataclasses import dataclass

from custom_components.tesla_resilient.polling_cost import COMMANDS, SCHEDULE, H, M
from tesla_sim import World

__all__ = [
    "COMMANDS",
    "OUTAGE_END",
    "OUTAGE_START",
    "RESTART_AT",
    "SCHEDULE",
    "SLEEP_MODELS",
    "TARGETS",
    "H",
    "M",
    "SleepModel",
    "apply_sleep_model",
]

TARGETS: dict[str, float] = {
    "usd_per_month": 4.0,
    "usd_per_month_checks_free": 4.0,
    "max_location_age_driving_s": 90.0,
    "wakes_caused": 0,
    "awake_minutes_caused": 0,
}
"""The issue's targets for our policy (per vehicle, standard day)."""

OUTAGE_START = 7 * H
OUTAGE_END = 8 * H
RESTART_AT = 7 * H + 30 * M
"""The seed outage: Tesla's cloud down 07:00-08:00, Home Assistant restarted at 07:30."""


@dataclass(frozen=True, slots=True)
class SleepModel:
    """When the simulated car falls asleep."""

    name: str
    sleep_after: float
    """Idle seconds before the car sleeps."""
    data_keeps_awake: bool
    """Whether an answered ``vehicle_data`` restarts the idle timer."""
    description: str


SLEEP_MODELS: dict[str, SleepModel] = {
    model.name: model
    for model in (
        SleepModel(
            "awake",
            15 * M,
            True,
            "asleep after 15 idle minutes; every answered vehicle_data restarts the "
            "timer (polling more often than every 15 min keeps the car awake)",
        ),
        SleepModel(
            "idle9",
            9 * M,
            False,
            "asleep 9 minutes after the car's last own activity (drive, charge, "
            "climate, command, the owner), however often it is polled",
        ),
    )
}
"""The simulator's sleep models: which one Tesla's cars follow is not known."""


def apply_sleep_model(world: World, model: SleepModel) -> None:
    """Give every car of ``world`` the sleep model ``model``."""
    for car in world.vehicles.values():
        car.sleep_after = model.sleep_after
        car.data_keeps_awake = model.data_keeps_awake
