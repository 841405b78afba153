"""Smoke tests of the benchmarks (scripts/bench) on tiny configurations.

Each benchmark runs for real against tesla_sim (a shortened day, a 2-vehicle scale run);
the tests check the JSON shape and invariants that hold whatever the timings are. No
timing is asserted.
"""

import asyncio
import json
from pathlib import Path
import time

import pytest

from benchmarks import day, outage, scale
from benchmarks.__main__ import main as bench_main
from benchmarks.plot import plot_timeline
from benchmarks.policies import POLICIES

POLICY_KEYS = {
    "requests",
    "requests_total",
    "usd_per_day",
    "usd_per_month",
    "usd_per_month_checks_free",
    "wakes_caused",
    "awake_minutes_caused",
    "max_location_age_driving_s",
    "max_location_age_by_drive_s",
    "max_lock_age_s",
    "max_lock_age_wall_s",
}


@pytest.fixture
async def morning_runs(socket_enabled: None) -> list[day.DayRun]:
    """Every policy through 00:00-08:30 (night charge, sleep, commands, morning drive)."""
    return await day.run_all(tuple(POLICIES), hours=8.5)


async def test_day_report_shape_and_invariants(
    morning_runs: list[day.DayRun], tmp_path: Path
) -> None:
    """Every policy reports every figure; the meter's counts add up; ours never wakes."""
    doc = day.report(morning_runs, hours=8.5)
    json.dumps(doc)  # serialisable
    assert set(doc["policies"]) == set(POLICIES)
    for name, result in doc["policies"].items():
        assert set(result) >= POLICY_KEYS, name
        assert set(result["requests"]) == {"data", "check", "command", "wake", "auth"}
        assert result["requests"]["command"] == 2, name  # the unlock and the lock
        assert result["usd_per_month"] >= result["usd_per_month_checks_free"] >= 0
        assert result["max_location_age_driving_s"] is not None
    ours = doc["policies"]["ours"]
    assert ours["wakes_caused"] == 0
    assert len(ours["max_location_age_by_drive_s"]) == 1  # the morning drive
    assert doc["targets"]["wakes_caused"]["met"] is True
    fixed = doc["policies"]["fixed_60s"]
    # one vehicle_data a minute, whatever the car does
    assert fixed["requests"]["data"] == pytest.approx(8.5 * 60, abs=2)
    assert fixed["requests"]["check"] == 0
    assert fixed["max_location_age_driving_s"] <= 60
    # polling every minute keeps the car from ever falling asleep
    assert fixed["awake_minutes_caused"] > ours["awake_minutes_caused"]
    assert doc["policies"]["list60_data660"]["requests"]["check"] >= 8.5 * 60 - 1
    png = plot_timeline(morning_runs, tmp_path / "timeline.png", hours=8.5)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_day_cli_prints_json(
    socket_enabled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """``bench day --json`` prints the report; an unknown benchmark is a usage error."""
    assert bench_main(["day", "--json", "--hours", "1", "--policy", "ours"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["policies"]) == ["ours", "ours_ha"]
    # the same policy through Home Assistant: the coordinator polled too
    assert doc["policies"]["ours_ha"]["requests_total"] > 0
    assert bench_main(["nonsense"]) == 2


async def test_outage_through_home_assistant(socket_enabled: None) -> None:
    """The seed outage up to 08:30: the cloud answers 503 only, entities come back."""
    result = await outage.run_outage(hours=8.5)
    json.dumps(result)
    assert result["requests_during_outage"] > 0
    assert set(result["requests_during_outage_by_status"]) == {"503"}
    assert result["entities_compared"] > 0
    assert isinstance(result["restored_after_restart"], bool)
    assert result["unavailable_entity_seconds"] >= 0
    assert result["recovery_seconds"] is not None
    assert result["recovery_seconds"] <= outage.RECOVERY_TARGET
    assert (
        0 < result["requests_during_outage"] <= result["requests_during_outage_bound"]
    )
    assert result["seed"] == 1
    assert [c["command"] for c in result["commands"]] == ["door_unlock", "door_lock"]
    # 07:25 is inside the outage: the unlock is refused, not queued; by 08:05 the
    # integration has recovered and the lock goes out
    assert result["commands"][0]["result"] != "ok"
    assert result["commands"][1]["result"] == "ok"


def test_outage_cli_runs_seeds(
    socket_enabled: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """``bench outage --runs 2``: every run's recovery (own seed) and the worst."""
    args = ["outage", "--json", "--hours", "8.5", "--runs", "2", "--seed", "7"]
    assert bench_main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [run["seed"] for run in doc["runs"]] == [7, 8]
    recoveries = [run["recovery_seconds"] for run in doc["runs"]]
    assert doc["worst_recovery_seconds"] == max(recoveries)
    assert doc["recovery_target_met"] is True
    assert doc["max_requests_during_outage"] <= doc["requests_during_outage_bound"]


async def test_scale_two_vehicles(socket_enabled: None) -> None:
    """A tiny scale run: one timed set-up each of 1 and 2 vehicles, no latency."""
    doc = await scale.run_scale((1, 2), runs=1, latency_ms=0, cpu_rounds=1)
    json.dumps(doc)
    assert set(doc["vehicles"]) == {"1", "2"}
    one, two = doc["vehicles"]["1"], doc["vehicles"]["2"]
    assert one["loaded"] and two["loaded"]
    assert two["entities"] == 2 * one["entities"] > 0
    for res in (one, two):
        assert res["setup_s_median"] > 0
        assert res["peak_traced_mib"] > 0
        assert res["cpu_ms_per_update_per_vehicle"] > 0
        assert res["max_loop_step_s"] >= 0
    assert "target" not in doc  # only judged at 50 vehicles
    assert "targets" not in doc


async def test_loop_lag_probe_sees_a_blocking_step() -> None:
    """The probe reports how long one step held the event loop."""
    async with scale.loop_lag_probe() as longest:
        time.sleep(0.12)  # noqa: ASYNC251 - a step that blocks the loop, on purpose
        await asyncio.sleep(0.02)
    assert 0.1 <= longest[0] < 1.0


def test_scale_targets_judged_at_50_vehicles() -> None:
    """Set-up ratio, longest loop step and CPU per update, each against its target."""
    one = {"setup_s_median": 0.6}
    fifty = {
        "setup_s_median": 1.5,
        "max_loop_step_s": 0.3,
        "cpu_ms_per_update_per_vehicle": 0.8,
    }
    assert scale.judge(one, fifty) == {
        "setup_ratio_50_vs_1": {"target": 2.0, "measured": 2.5, "met": False},
        "max_loop_step_s": {"target": 0.1, "measured": 0.3, "met": False},
        "cpu_ms_per_update_per_vehicle": {"target": 1.0, "measured": 0.8, "met": True},
    }


def test_anchors_live_tesla_fleet_beside_ours(
    socket_enabled: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``bench anchors`` up to 08:30, one sleep model: HA core's ``tesla_fleet`` and ours
    through Home Assistant on the simulator, the day and the seed outage, both cars."""
    png = tmp_path / "anchors.png"
    args = ["anchors", "--json", "--hours", "8.5", "--sleep-model", "idle9"]
    assert bench_main([*args, "--plot", str(png)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs = doc["runs"]["idle9"]
    assert set(runs["modelled_day"]) == set(POLICIES)
    for car in ("rest", "signed"):
        day, out = runs[car]["day"], runs[car]["outage"]
        assert set(day) == set(out) == {"ours", "tesla_fleet"}
        for name in ("ours", "tesla_fleet"):
            assert set(day[name]) >= POLICY_KEYS | {"awake_minutes"}
            assert day[name]["requests"]["data"] > 0, name  # it really polled
            # both commands reached the car on a plain day (signed or REST)
            assert [c["done"] for c in day[name]["commands"]] == [True, True], (
                name,
                car,
                str(day[name]["commands"]),
            )
            # 08:05: every integration has recovered and locks the car
            assert out[name]["commands"][1]["done"] is True, name
            assert set(out[name]["requests_during_outage_by_status"]) == {"503"}
        ours, core = out["ours"], out["tesla_fleet"]
        assert ours["unavailable_entity_seconds"] == 0
        assert core["unavailable_entity_seconds_during_outage"] > 0
        assert ours["entities_restored"] == ours["entities_compared"] > 0
        assert core["entities_restored"] < core["entities_compared"]
        # 07:25, in the outage: ours refuses; tesla_fleet's entity is unavailable, Home
        # Assistant skips it and answers ok, and nothing reaches the car
        assert ours["commands"][0]["result"].startswith("refused")
        assert core["commands"][0] | {"at": None} == {
            "at": None,
            "command": "door_unlock",
            "result": "ok",
            "sent": [],
            "car_locked_after": True,
            "done": False,
        }
    verdict = doc["acceptance"]["idle9"]
    assert verdict["fewer_unavailable_entity_seconds"] is True
    assert verdict["more_restored_after_restart"] is True
