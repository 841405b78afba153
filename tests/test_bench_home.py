"""``scripts/bench home``: the day with the car in Bluetooth range at home, shortened.

The runs are real (tesla_sim, a real Home Assistant with its real Bluetooth stack and the
simulator's proxy, the integration with a Bluetooth subentry); the tests check the JSON
and what must hold whatever the timings: Bluetooth saves the cloud's sleep checks while
the car sleeps at home, and the 07:25 unlock reaches the car over Bluetooth with no cloud
request, in the seed outage too. No timing is asserted.
"""

import json

import pytest

from benchmarks import home
from benchmarks.__main__ import main as bench_main
from benchmarks.scenario import H, M
from tesla_sim.meter import LogEntry

VEHICLE_DATA = "/api/1/vehicles/{vehicle_id}/vehicle_data"


def test_range_follows_the_day() -> None:
    """In range at home until the 07:30 drive and from the 18:00 return."""
    assert home.at_home(0) and home.at_home(7 * H + 29 * M)
    assert not home.at_home(7 * H + 30 * M) and not home.at_home(12 * H)
    assert home.at_home(18 * H) and home.at_home(24 * H + 60)  # the next night
    assert home.range_changes(24) == [(7 * H + 30 * M, False), (18 * H, True)]
    assert home.range_changes(8) == [(7 * H + 30 * M, False)]


def test_drive_location_lag_counts_from_setting_off() -> None:
    """The longest stretch of a drive without a ``vehicle_data``, from its start."""

    def fetch(t: float, path: str = VEHICLE_DATA, status: int = 200) -> LogEntry:
        return LogEntry(1000.0 + t, "GET", path, status, "data", "VIN")

    log = [
        fetch(3 * H),  # parked long before: the car is where it was seen
        fetch(7 * H + 31 * M),
        fetch(7 * H + 32 * M, status=503),  # not answered: no location
        fetch(7 * H + 33 * M, path="/api/1/vehicles"),  # not vehicle_data
        fetch(7 * H + 35 * M),
    ]
    # first drive 07:30-08:00: 07:35 -> 08:00 is the longest gap; the second drive
    # (17:30-18:00) had no vehicle_data at all
    assert home.drive_location_lag(log, 1000.0, 24) == [25 * M, 30 * M]
    assert home.drive_location_lag(log, 1000.0, 7.75) == [10 * M]
    assert home.drive_location_lag(log, 1000.0, 7) == []


@pytest.mark.usefixtures("socket_enabled")
async def test_home_morning_through_home_assistant() -> None:
    """00:00-08:30 with and without Bluetooth, and the seed outage with the car home."""
    doc = await home.run_all(hours=8.5)
    json.dumps(doc)
    cloud, at_home = doc["runs"]["cloud_only"], doc["runs"]["home"]
    # asleep at home 01:15-07:20: Bluetooth reads the car, the cloud's checks pause
    assert at_home["requests"]["check"] < cloud["requests"]["check"]
    assert at_home["usd_per_month"] < cloud["usd_per_month"]
    assert at_home["wakes_caused"] == 0
    unlock = next(c for c in at_home["commands"] if c["command"] == "door_unlock")
    assert unlock["done"] and unlock["sent"] == []  # over Bluetooth
    assert cloud["commands"][0]["sent"]  # the cloud carried it without Bluetooth
    outage = doc["outage_home"]
    assert outage["outage"] == {"from": "07:00", "to": "08:00"}
    assert outage["unlock_0725"]["over_bluetooth"] is True
    assert outage["unlock_0725"]["car_locked_after"] is False
    # the morning drive: the location followed the car from the cloud in both runs
    for run in (cloud, at_home, outage["day"]):
        assert len(run["location_lag_by_drive_s"]) == 1
        assert run["max_location_lag_driving_s"] is not None
    assert set(doc["targets"]) == {
        "usd_per_month",
        "max_location_lag_driving_s",
        "wakes_caused",
        "awake_minutes_caused",
    }


def test_home_cli_is_listed(capsys: pytest.CaptureFixture[str]) -> None:
    """``bench`` names ``home`` in its usage; ``bench home --help`` describes it."""
    assert bench_main([]) == 2
    assert "home" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        bench_main(["home", "--help"])
    assert exited.value.code == 0
    assert "Bluetooth range at home" in capsys.readouterr().out
