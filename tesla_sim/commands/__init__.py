"""The Fleet API's vehicle commands: a handler per command, grouped by area.

``COMMANDS`` maps every command name to its handler; each area's table is derived from
the handlers it defines (see ``base.Registry``).
"""

from .base import Command, CommandError, Result
from .body import BODY_COMMANDS
from .charging import CHARGING_COMMANDS
from .climate import CLIMATE_COMMANDS
from .infotainment import INFOTAINMENT_COMMANDS
from .media import MEDIA_COMMANDS

COMMANDS: dict[str, Command] = (
    BODY_COMMANDS
    | CHARGING_COMMANDS
    | CLIMATE_COMMANDS
    | INFOTAINMENT_COMMANDS
    | MEDIA_COMMANDS
)

__all__ = ["CHARGING_COMMANDS", "COMMANDS", "Command", "CommandError", "Result"]
