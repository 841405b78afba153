"""The standard day (DESIGN.md §8): what the car does and when HA sends commands."""

H = 3600.0
M = 60.0

SCHEDULE: tuple[tuple[float, str], ...] = (
    (0.0, "charge"),
    (1 * H, "park"),
    (7 * H + 20 * M, "park"),
    (7 * H + 30 * M, "drive"),
    (8 * H, "park"),
    (17 * H + 20 * M, "climate"),
    (17 * H + 30 * M, "drive"),
    (18 * H, "park"),
    (22 * H, "charge"),
)
"""(seconds after midnight, activity) — ``park`` on a sleeping car wakes it (the owner)."""
COMMANDS: tuple[tuple[float, str], ...] = (
    (7 * H + 25 * M, "door_unlock"),
    (8 * H + 5 * M, "door_lock"),
)
"""(seconds after midnight, command) sent from Home Assistant."""
TARGETS: dict[str, float] = {
    "usd_per_month": 4.0,
    "usd_per_month_checks_free": 4.0,
    "max_location_age_driving_s": 90.0,
    "wakes_caused": 0,
    "awake_minutes_caused": 0,
}
"""The issue's targets for our policy (per vehicle, standard day)."""
