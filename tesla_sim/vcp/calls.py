"""A decoded command as the REST command it stands for, and running it on the car.

Every protocol action maps to the handler a REST command of the same meaning uses
(``commands.COMMANDS``), with the REST parameters, so both paths change the car alike.
"""

from typing import Any

from ..commands import CHARGING_COMMANDS, CommandError, Result
from ..vehicles import Vehicle

type Call = tuple[str, dict[str, Any]]
"""(REST command name, its parameters)."""
NO_CHANGE: Call = ("", {})
"""The car is already as asked: nothing to run, success."""
UNSUPPORTED = "unsupported"
"""The reason given for an action the simulated car does not carry out."""


def needs_vehicle_cmds(call: Call | None) -> bool:
    """Whether the Fleet API wants ``vehicle_cmds`` (not just ``vehicle_charging_cmds``)."""
    return call is not None and bool(call[0]) and call[0] not in CHARGING_COMMANDS


def run(car: Vehicle, call: Call | None, now: float) -> Result:
    """Carry out ``call`` on ``car``: (result, reason) as the REST command answers.

    A parameter the REST API would refuse with HTTP 400 is a failed action here.
    """
    if call is None:
        return False, UNSUPPORTED
    name, params = call
    if not name:
        car.touch_user(now)
        return True, ""
    try:
        return car.command(name, params, now)
    except CommandError as err:
        return False, str(err)
