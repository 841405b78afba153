"""``fleet_status``: which cars trust the app's key for signed commands.

Cars built since 2021 accept only commands signed with the vehicle command protocol (a
vehicle item's ``command_signing`` is ``required``); Tesla answers their plain REST
commands with 403 (:class:`~.errors.CommandSigningRequired`). A car trusts the app's key
once the owner approved it in the Tesla app (a virtual key).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from .errors import MalformedResponse
from .models import as_str


@dataclass(frozen=True, slots=True)
class FleetVehicleInfo:
    """One car of ``fleet_status``'s ``vehicle_info``."""

    firmware_version: str | None
    command_signing_required: bool
    """``vehicle_command_protocol_required``."""

    @classmethod
    def from_api(cls, item: Any) -> Self:
        """Parse one entry; a missing or odd field is ``None`` (or not required)."""
        fields: Mapping[str, Any] = item if isinstance(item, Mapping) else {}
        return cls(
            firmware_version=as_str(fields.get("firmware_version")),
            command_signing_required=(
                fields.get("vehicle_command_protocol_required") is True
            ),
        )


@dataclass(frozen=True, slots=True)
class FleetStatus:
    """``POST /api/1/vehicles/fleet_status``: which cars trust the app's key."""

    key_paired_vins: frozenset[str] = field(repr=False)
    unpaired_vins: frozenset[str] = field(repr=False)
    vehicle_info: Mapping[str, FleetVehicleInfo] = field(repr=False)
    """By VIN."""

    @classmethod
    def from_api(cls, payload: Any) -> Self:
        """Parse the response; raise MalformedResponse unless it is a mapping."""
        if not isinstance(payload, Mapping):
            raise MalformedResponse("Fleet status is not a JSON object")
        info = payload.get("vehicle_info")
        return cls(
            key_paired_vins=_vins(payload.get("key_paired_vins")),
            unpaired_vins=_vins(payload.get("unpaired_vins")),
            vehicle_info={
                vin: FleetVehicleInfo.from_api(item)
                for vin, item in (info.items() if isinstance(info, Mapping) else ())
                if isinstance(vin, str)
            },
        )

    def is_paired(self, vin: str) -> bool:
        """Does the car ``vin`` trust the app's key?"""
        return vin in self.key_paired_vins


def _vins(value: Any) -> frozenset[str]:
    items = value if isinstance(value, list) else []
    return frozenset(vin for vin in items if isinstance(vin, str))
