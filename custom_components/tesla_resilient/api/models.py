"""Typed, tolerant models of Tesla API payloads.

Tesla's payloads are not typed stably (a number may be an int one day and a float the
next, many fields are ``null`` in normal states, some carry the sentinel ``"<invalid>"``).
Parsing here never trusts a type: it keeps what it finds and the typed getters answer
``None`` when a value is missing or of the wrong type.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
import logging
import math
from typing import Any, Self

from .errors import MalformedResponse

_LOGGER = logging.getLogger(__name__)

ALL_ENDPOINTS: tuple[str, ...] = (
    "charge_state",
    "climate_state",
    "closures_state",
    "drive_state",
    "gui_settings",
    "location_data",
    "vehicle_config",
    "vehicle_state",
)
"""Every value the ``endpoints`` query of ``vehicle_data`` accepts."""

INVALID_SENTINEL = "<invalid>"
"""Tesla's marker for a value the car cannot currently report; stored as ``None``."""

_SECRET_KEYS = frozenset({"tokens", "backseat_token"})
"""Top-level ``vehicle_data`` keys holding credentials; never kept."""

_SHIFT_STATES = frozenset({"P", "D", "R", "N"})
_CHARGING_STATES = frozenset({"Charging", "Starting"})

_LOCATION_KEYS = frozenset(
    f"drive_state_{name}"
    for name in (
        "latitude",
        "longitude",
        "native_latitude",
        "native_longitude",
        "native_location_supported",
        "native_type",
        "heading",
        "gps_as_of",
        "active_route_latitude",
        "active_route_longitude",
    )
)
"""Keys of ``drive_state`` the car sends only when ``location_data`` is requested."""


def key_endpoints(key: str) -> tuple[str, ...]:
    """Return the ``vehicle_data`` endpoints that return the flattened ``key``.

    The section ``key`` starts with (``charge_state`` for ``charge_state_battery_level``)
    and ``location_data`` too for a location key; none for a key of no section.
    """
    for endpoint in ALL_ENDPOINTS:
        if key.startswith(f"{endpoint}_"):
            return (endpoint, "location_data") if key in _LOCATION_KEYS else (endpoint,)
    return ()


def as_float(value: Any) -> float | None:
    """Return ``value`` as a finite float when it is a JSON number, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def as_str(value: Any) -> str | None:
    """Return ``value`` when it is a non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class MfaFactor:
    """A second factor registered on the account (an authenticator app)."""

    id: str
    name: str
    factor_type: str

    @classmethod
    def from_api(cls, item: Any) -> Self | None:
        """Parse an item of the factors list; ``None`` when it has no id."""
        if (
            not isinstance(item, Mapping)
            or (factor_id := as_str(item.get("id"))) is None
        ):
            return None
        return cls(
            id=factor_id,
            name=as_str(item.get("name")) or factor_id,
            factor_type=as_str(item.get("factorType")) or "token:software",
        )


class TeslaEnum(StrEnum):
    """A string Tesla reports from a known set; every subclass has ``unknown``."""

    @classmethod
    def parse(cls, value: Any) -> Self:
        """Map Tesla's string; anything unexpected is ``unknown``."""
        if isinstance(value, str) and value in cls:
            return cls(value)
        return cls("unknown")


class VehicleState(TeslaEnum):
    """Sleep state of a vehicle as the cloud reports it."""

    ONLINE = "online"
    ASLEEP = "asleep"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


class CommandSigning(TeslaEnum):
    """``command_signing`` of a vehicle item: does the car take plain REST commands?"""

    REQUIRED = "required"
    """Only signed commands (every car since 2021): REST commands answer 403."""
    ALLOWED = "allowed"
    OFF = "off"
    """Only REST commands (Model S/X built before 2021)."""
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class VehicleSummary:
    """A vehicle item: of ``GET /api/1/vehicles`` or ``/products``, ``GET /api/1/vehicles/{id}``."""

    id: str
    vin: str = field(repr=False)
    display_name: str | None
    state: VehicleState
    in_service: bool
    command_signing: CommandSigning = CommandSigning.UNKNOWN

    @classmethod
    def from_api(cls, item: Any) -> Self:
        """Parse one vehicle; raise MalformedResponse when not a mapping or without an id."""
        if not isinstance(item, Mapping):
            raise MalformedResponse("Vehicle is not a JSON object")
        vehicle_id = as_str(item.get("id_s"))
        if vehicle_id is None:
            raw_id = item.get("id")
            if isinstance(raw_id, int) and not isinstance(raw_id, bool):
                vehicle_id = str(raw_id)
            else:
                raise MalformedResponse("Vehicle has no id")
        return cls(
            id=vehicle_id,
            vin=as_str(item.get("vin")) or "",
            display_name=as_str(item.get("display_name")),
            state=VehicleState.parse(item.get("state")),
            in_service=item.get("in_service") is True,
            command_signing=CommandSigning.parse(item.get("command_signing")),
        )

    @classmethod
    def list_from_api(cls, payload: Any) -> list[Self]:
        """Parse ``GET /api/1/vehicles``; items without an id are skipped.

        Raise MalformedResponse when ``payload`` is not a list.
        """
        if not isinstance(payload, list):
            raise MalformedResponse("Vehicle list is not a JSON array")
        vehicles = []
        for item in payload:
            try:
                vehicles.append(cls.from_api(item))
            except MalformedResponse:
                _LOGGER.debug("Skipping a vehicle list item without an id")
        return vehicles


def _flatten(payload: Mapping[Any, Any], prefix: str, out: dict[str, Any]) -> None:
    """Copy ``payload`` into ``out`` with nested mapping keys joined by ``_``."""
    for raw_key, value in payload.items():
        key = f"{prefix}{raw_key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{key}_", out)
        elif isinstance(value, str) and value == INVALID_SENTINEL:
            out[key] = None
        else:
            out[key] = value


@dataclass(frozen=True, slots=True)
class VehicleData:
    """A ``vehicle_data`` response, flattened.

    Keys are the payload's paths joined with ``_``: ``charge_state_battery_level``,
    ``vehicle_state_software_update_status``, ``drive_state_latitude``... Lists are kept
    as values, ``"<invalid>"`` is stored as ``None``, credentials are dropped.
    """

    values: Mapping[str, Any]
    sections: frozenset[str] = field(default=frozenset(), compare=False)
    """Top-level keys of the payload (``charge_state``, ``drive_state``, ``state``...).

    A section listed here was fetched whole: :meth:`merged_onto` replaces the older
    values of that section instead of overlaying them. Empty for values built by hand
    (an optimistic update, a snapshot restored from disk), which only overlay. Not
    compared: two ``VehicleData`` with the same values are equal.
    """

    @classmethod
    def from_api(cls, payload: Any) -> Self:
        """Flatten a ``vehicle_data`` response; raise MalformedResponse unless a mapping."""
        if not isinstance(payload, Mapping):
            raise MalformedResponse("Vehicle data is not a JSON object")
        kept = {k: v for k, v in payload.items() if k not in _SECRET_KEYS}
        values: dict[str, Any] = {}
        _flatten(kept, "", values)
        return cls(values, frozenset(f"{k}" for k in kept))

    def merged_onto(self, older: VehicleData) -> VehicleData:
        """Return ``older`` updated with these values (for partial endpoint selections).

        A section these values carry replaces the older values of that section, so keys
        the car stopped sending (an ended navigation route) disappear; sections absent
        from a partial endpoint selection keep their older values. Location keys are
        kept from ``older`` when these values carry none (``location_data`` was not
        requested, so the car left them out rather than clearing them).
        """
        values = self.values
        sections = self.sections
        carries_location = not _LOCATION_KEYS.isdisjoint(values)
        # A section whose name is itself a key was a scalar, the others were mappings
        # (their keys start with the section's name and "_").
        prefixes = tuple(f"{s}_" for s in sections if s not in values)

        def replaced(key: str) -> bool:
            if key in sections:
                return True
            if not key.startswith(prefixes):
                return False
            return carries_location or key not in _LOCATION_KEYS

        kept = {k: v for k, v in older.values.items() if not replaced(k)}
        return VehicleData({**kept, **values}, older.sections | self.sections)

    def get(self, key: str) -> Any:
        """Return the raw value of ``key`` or ``None``."""
        return self.values.get(key)

    def get_float(self, key: str) -> float | None:
        """Return a number as float; ``None`` when missing, not finite or not a number."""
        return as_float(self.values.get(key))

    def get_int(self, key: str) -> int | None:
        """Return an integer (an integral float counts); ``None`` otherwise."""
        value = self.values.get(key)
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return None

    def get_bool(self, key: str) -> bool | None:
        """Return a boolean; ``None`` when missing or not a boolean."""
        value = self.values.get(key)
        return value if isinstance(value, bool) else None

    def get_str(self, key: str) -> str | None:
        """Return a string; ``None`` when missing, empty or not a string."""
        return as_str(self.values.get(key))

    @property
    def state(self) -> VehicleState:
        """Sleep state reported with the data."""
        return VehicleState.parse(self.values.get("state"))

    @property
    def shift_state(self) -> str | None:
        """Gear: ``"P"``, ``"D"``, ``"R"``, ``"N"`` or ``None`` (parked cars often report null)."""
        value = self.get_str("drive_state_shift_state")
        return value if value in _SHIFT_STATES else None

    @property
    def speed(self) -> float | None:
        """Speed in mph, ``None`` when parked."""
        return self.get_float("drive_state_speed")

    @property
    def charging_state(self) -> str | None:
        """Tesla's charging state: ``Disconnected``, ``Stopped``, ``Charging``, ``Complete``..."""
        return self.get_str("charge_state_charging_state")

    @property
    def is_charging(self) -> bool:
        """Whether the car is charging or starting to."""
        return self.charging_state in _CHARGING_STATES

    @property
    def is_climate_on(self) -> bool:
        """Whether climate control is running."""
        return self.get_bool("climate_state_is_climate_on") is True

    @property
    def is_user_present(self) -> bool:
        """Whether someone is in the car."""
        return self.get_bool("vehicle_state_is_user_present") is True

    @property
    def locked(self) -> bool | None:
        """Whether the doors are locked."""
        return self.get_bool("vehicle_state_locked")

    @property
    def latitude(self) -> float | None:
        """Latitude (only when ``location_data`` was requested)."""
        return self.get_float("drive_state_latitude")

    @property
    def longitude(self) -> float | None:
        """Longitude (only when ``location_data`` was requested)."""
        return self.get_float("drive_state_longitude")

    @property
    def is_driving(self) -> bool:
        """Whether the car is in gear or moving."""
        speed = self.speed
        return self.shift_state in {"D", "R", "N"} or (speed is not None and speed > 0)

    @property
    def software_version(self) -> str | None:
        """Installed firmware, e.g. ``"2023.44.30.8"`` (the build hash is dropped)."""
        version = self.get_str("vehicle_state_car_version")
        return version.split()[0] if version and version.strip() else None

    @property
    def model(self) -> str | None:
        """Model code from ``vehicle_config.car_type``, e.g. ``"model3"``."""
        return self.get_str("vehicle_config_car_type")


@dataclass(frozen=True, slots=True)
class Region:
    """The account's Fleet API region (``GET /api/1/users/region``)."""

    region: str
    fleet_api_base_url: str

    @classmethod
    def from_api(cls, payload: Any) -> Self:
        """Parse the region response; raise MalformedResponse when incomplete."""
        if not isinstance(payload, Mapping):
            raise MalformedResponse("Region is not a JSON object")
        region = as_str(payload.get("region"))
        base_url = as_str(payload.get("fleet_api_base_url"))
        if region is None or base_url is None:
            raise MalformedResponse("Region response lacks region or base URL")
        return cls(region, base_url.rstrip("/"))


@dataclass(frozen=True, slots=True)
class Account:
    """The signed-in Tesla account (``GET /api/1/users/me``).

    Every field is optional: Tesla may leave any of them out or null.
    """

    email: str | None = field(repr=False)
    full_name: str | None = field(repr=False)

    @classmethod
    def from_api(cls, payload: Any) -> Self:
        """Parse the account summary; raise MalformedResponse unless a mapping."""
        if not isinstance(payload, Mapping):
            raise MalformedResponse("Account is not a JSON object")
        email = (as_str(payload.get("email")) or "").strip()
        return cls(email=email or None, full_name=as_str(payload.get("full_name")))
