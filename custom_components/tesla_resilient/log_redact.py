"""No VIN in a log line: a logging filter that redacts the cars' VINs.

tesla-fleet-api names a Bluetooth connection by the car's VIN and logs ``vin=...`` at
debug level, and a connection's name reaches bleak-retry-connector's and Home
Assistant Bluetooth's logs. While a config entry is loaded, :data:`REDACTOR` sits on
the loggers of :data:`LOGGERS` (and every logger under them) and rewrites each record
that names one of the entry's VINs: the message, and the text of an exception logged
with it, show ``<VIN ...1234>`` (its last four characters) instead.
"""

from collections.abc import Iterable
import logging
import re
from typing import Final

LOGGERS: Final = (
    "tesla_fleet_api",
    "bleak_retry_connector",
    "habluetooth",
    __package__ or "custom_components.tesla_resilient",
)
"""The logger hierarchies whose records are redacted."""


def redacted(vin: str) -> str:
    """What a log line shows instead of ``vin``."""
    return f"<VIN ...{vin[-4:]}>"


class VinRedactor(logging.Filter):
    """Redacts the VINs of the loaded config entries from the records it sees."""

    def __init__(self) -> None:
        """No VIN and no logger yet."""
        super().__init__()
        self._vins: dict[str, frozenset[str]] = {}
        self._pattern: re.Pattern[str] | None = None
        self._loggers: set[logging.Logger] = set()

    @property
    def owners(self) -> frozenset[str]:
        """The config entries whose VINs are redacted now."""
        return frozenset(self._vins)

    def add(self, owner: str, vins: Iterable[str]) -> None:
        """Redact ``vins`` (of the config entry ``owner``) until :meth:`remove`."""
        self._vins[owner] = frozenset(vin for vin in vins if vin)
        self._compile()
        self._attach()

    def remove(self, owner: str) -> None:
        """Stop redacting ``owner``'s VINs; off the loggers once none is left."""
        self._vins.pop(owner, None)
        self._compile()
        if not self._vins:
            for logger in self._loggers:
                logger.removeFilter(self)
            self._loggers.clear()

    def _compile(self) -> None:
        vins = sorted(set().union(*self._vins.values()), key=len, reverse=True)
        self._pattern = (
            re.compile("|".join(map(re.escape, vins)), re.IGNORECASE) if vins else None
        )

    def _attach(self) -> None:
        """Sit on each logger of :data:`LOGGERS` and every one created under them."""
        names = [
            name
            for name in list(logging.root.manager.loggerDict)
            if any(name == top or name.startswith(f"{top}.") for top in LOGGERS)
        ]
        for name in {*LOGGERS, *names}:
            logger = logging.getLogger(name)
            logger.addFilter(self)
            self._loggers.add(logger)

    def redact(self, text: str) -> str:
        """``text`` with every known VIN redacted."""
        if (pattern := self._pattern) is None:
            return text
        return pattern.sub(lambda match: redacted(match.group(0)), text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` when it names a VIN; never drops it."""
        message = record.getMessage()
        if (clean := self.redact(message)) != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


REDACTOR: Final = VinRedactor()
"""The one filter, shared by every loaded config entry."""
