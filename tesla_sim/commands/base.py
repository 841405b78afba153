"""What every command handler shares: its signature, its registry, the parameter checks.

A handler is a function named like its command; it changes the car and answers
``(result, reason)``. A request the real API rejects with HTTP 400 (unknown command, bad
parameter) raises ``CommandError``.
"""

from collections.abc import Callable, Mapping
from typing import Any

from ..car import Car

Params = Mapping[str, Any]
"""A command request's JSON body."""
Result = tuple[bool, str]
OK: Result = (True, "")
Command = Callable[[Car, Params, float], Result]


class CommandError(ValueError):
    """A command request the API rejects with HTTP 400 (unknown command, bad parameter)."""


class Registry(dict[str, Command]):
    """Command handlers by name; as a decorator, it files a handler under its own name."""

    def __call__(self, handler: Command) -> Command:
        """Register ``handler`` under its function name."""
        self[handler.__name__] = handler
        return handler


# -- parameter helpers (bad parameters are HTTP 400, like the real API) -------------------


def p_value(params: Params, key: str) -> Any:
    """A parameter of any type."""
    if key not in params:
        raise CommandError(f"missing parameter {key}")
    return params[key]


def p_bool(params: Params, key: str, default: bool | None = None) -> bool:
    """A boolean parameter."""
    if default is not None and key not in params:
        return default
    value = p_value(params, key)
    if not isinstance(value, bool):
        raise CommandError(f"{key} must be a boolean")
    return value


def p_number(params: Params, key: str, default: float | None = None) -> float:
    """A numeric parameter (int or float, not bool)."""
    if default is not None and key not in params:
        return default
    value = p_value(params, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandError(f"{key} must be a number")
    return float(value)


def p_int(params: Params, key: str, default: int | None = None) -> int:
    """An integer parameter (a float with an integral value is accepted)."""
    number = p_number(params, key, None if default is None else float(default))
    if not number.is_integer():
        raise CommandError(f"{key} must be an integer")
    return int(number)


def p_level(params: Params, key: str, top: int) -> int:
    """An integer from 0 to ``top``."""
    level = p_int(params, key)
    if not 0 <= level <= top:
        raise CommandError(f"{key} must be 0-{top}")
    return level


def p_str(params: Params, key: str) -> str:
    """A string parameter."""
    value = p_value(params, key)
    if not isinstance(value, str):
        raise CommandError(f"{key} must be a string")
    return value


def p_choice(params: Params, key: str, choices: tuple[str, ...]) -> str:
    """A string parameter that must be one of ``choices``."""
    value = p_str(params, key)
    if value not in choices:
        raise CommandError(f"{key} must be {' or '.join(choices)}")
    return value


def p_minutes(params: Params, key: str, default: int) -> int:
    """A time of day in minutes after midnight."""
    minutes = p_int(params, key, default)
    if not 0 <= minutes < 1440:
        raise CommandError(f"{key} must be minutes after midnight")
    return minutes
