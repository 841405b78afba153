"""Parameters of the vehicle commands whose payload is more than a value.

``TeslaFleetClient.command(vehicle_id, name, params)`` sends any command; the builders
here know the shape Tesla expects for the commands that need one.
"""

from enum import StrEnum
from typing import Any


class Trunk(StrEnum):
    """Which trunk ``actuate_trunk`` opens (or, for a powered rear trunk, closes)."""

    FRONT = "front"
    REAR = "rear"


def actuate_trunk(which: Trunk) -> dict[str, Any]:
    """Return the parameters of ``actuate_trunk`` (the command toggles the trunk)."""
    return {"which_trunk": which.value}


def navigation_request(destination: str, *, locale: str, now: float) -> dict[str, Any]:
    """Return the parameters of ``navigation_request``: share ``destination`` with the car.

    ``destination`` is an address or a place name, as typed in the phone app; ``now``
    (epoch seconds) stamps the share.
    """
    return {
        "type": "share_ext_content_raw",
        "locale": locale,
        "timestamp_ms": str(int(now * 1000)),
        "value": {"android.intent.extra.TEXT": destination},
    }
