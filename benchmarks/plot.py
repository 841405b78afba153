"""The timeline of the standard day: the car's state against each policy's requests."""

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt
from matplotlib.artist import Artist
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .common import DAY_START

if TYPE_CHECKING:
    from .day import DayRun

STATE_COLORS = {
    "asleep": "#d9d9d9",
    "waking": "#bdbdbd",
    "offline": "#969696",
    "parked": "#fdd49e",
    "driving": "#e34a33",
    "charging": "#31a354",
    "climate": "#3182bd",
}
STATE_LABELS = {
    "asleep": "asleep",
    "parked": "awake, parked",
    "driving": "driving",
    "charging": "charging",
    "climate": "climate on",
}
REQUEST_ROWS = {"data": 2.0, "check": 1.5, "command": 2.5, "wake": 2.5}
REQUEST_STYLE = {
    "data": ("|", "#000000"),
    "check": ("|", "#7f7f7f"),
    "command": ("v", "#6a3d9a"),
    "wake": ("*", "#e31a1c"),
}


def _spans(run: DayRun) -> list[tuple[float, float, str]]:
    """(start hour, end hour, state) runs of equal state."""
    spans: list[tuple[float, float, str]] = []
    samples = run.truth
    for i, sample in enumerate(samples):
        start = (sample.time - DAY_START) / 3600
        end = (
            (samples[i + 1].time - DAY_START) / 3600 if i + 1 < len(samples) else start
        )
        if spans and spans[-1][2] == sample.state and abs(spans[-1][1] - start) < 1e-9:
            spans[-1] = (spans[-1][0], end, sample.state)
        else:
            spans.append((start, end, sample.state))
    return spans


def plot_timeline(
    runs: Sequence[DayRun], path: str | Path, *, hours: float = 24.0
) -> Path:
    """Draw one row per policy and save a PNG to ``path``."""
    fig, axes = plt.subplots(
        len(runs), 1, figsize=(12, 1.5 + 1.35 * len(runs)), sharex=True, squeeze=False
    )
    for ax, run in zip(axes[:, 0], runs, strict=True):
        for start, end, state in _spans(run):
            ax.axvspan(
                start,
                end,
                ymin=0,
                ymax=0.33,
                color=STATE_COLORS.get(state, "#fff"),
                lw=0,
            )
        for category, y in REQUEST_ROWS.items():
            times = [
                (t - DAY_START) / 3600 for t, c, _ in run.requests if c == category
            ]
            if times:
                marker, color = REQUEST_STYLE[category]
                ax.plot(
                    times, [y] * len(times), marker, color=color, ms=7, mew=0.8, ls=""
                )
        res = run.result
        ax.set_title(
            f"{run.policy}: {res['requests'].get('data', 0)} vehicle_data, "
            f"{res['requests'].get('check', 0)} sleep checks, "
            f"\\${res['usd_per_month']}/month "
            f"(\\${res['usd_per_month_checks_free']} if checks are free), "
            f"kept awake {res['awake_minutes_caused']} min",
            fontsize=9,
            loc="left",
        )
        ax.set_ylim(0, 3)
        ax.set_yticks(
            [0.5, 1.5, 2.0, 2.5], ["car", "check", "data", "cmd/wake"], fontsize=8
        )
        ax.grid(axis="x", color="#eeeeee")
    last = axes[-1, 0]
    last.set_xlim(0, hours)
    last.set_xticks(range(0, int(hours) + 1, 2))
    last.set_xlabel("hour of the standard day (virtual time, UTC)")
    handles: list[Artist] = [
        Patch(color=STATE_COLORS[s], label=label) for s, label in STATE_LABELS.items()
    ]
    handles += [
        Line2D([], [], marker=m, color=c, ls="", label=label)
        for (m, c), label in zip(
            REQUEST_STYLE.values(),
            ("vehicle_data", "sleep check", "command", "wake_up"),
            strict=True,
        )
    ]
    fig.legend(handles=handles, loc="lower center", ncol=9, fontsize=8, frameon=False)
    fig.suptitle(
        "Standard day: car state (bottom band) vs requests, per polling policy"
    )
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
