"""Diagnostics download: cloud health, polling state and each vehicle's snapshot.

Each vehicle says which path each value came by (``sources``: ``cloud`` or ``ble``)
and, when paired over Bluetooth, its link's state (never the car's address).

Tokens, the authenticator secret, VINs, ids, names, the email address, any user name
or password in a server URL and every coordinate (position, native position,
navigation destination) are redacted.
"""

from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.core import HomeAssistant
from yarl import URL

from .ble_policy import next_read
from .const import CONF_API_BASE_URL, CONF_AUTH_BASE_URL, CONF_TOKEN_URL
from .coordinator import TeslaResilientConfigEntry, VehicleCoordinator
from .polling import next_poll

if TYPE_CHECKING:
    from .bluetooth import BluetoothLink

TO_REDACT = {
    "token",
    "access_token",
    "refresh_token",
    "otp_secret",
    "tokens",
    "backseat_token",
    "vin",
    "id",
    "id_s",
    "user_id",
    "vehicle_id",
    "display_name",
    "vehicle_name",
    "email",
    "title",
    "unique_id",
    "latitude",
    "longitude",
    "address",
}
"""Keys redacted wherever they appear (nested dicts included)."""

_SENSITIVE_PARTS = (
    "latitude",
    "longitude",
    "active_route_destination",
    "vin",
    "display_name",
    "vehicle_name",
    "token",
)
"""Flattened ``vehicle_data`` keys containing one of these are redacted."""
_SENSITIVE_KEYS = frozenset({"id", "id_s", "user_id", "vehicle_id"})


def _entry_data(data: dict[str, Any]) -> dict[str, Any]:
    """Redact the entry data; server URLs keep their address but lose any userinfo."""
    redacted = async_redact_data(data, TO_REDACT)
    for key in (CONF_AUTH_BASE_URL, CONF_TOKEN_URL, CONF_API_BASE_URL):
        if isinstance(value := redacted.get(key), str):
            try:
                redacted[key] = str(URL(value).with_user(None))
            except ValueError:
                redacted[key] = REDACTED
    return redacted


def _redact_values(values: dict[str, Any]) -> dict[str, Any]:
    """Redact the identifying and location keys of flattened vehicle data."""
    return {
        key: (
            REDACTED
            if key in _SENSITIVE_KEYS or any(part in key for part in _SENSITIVE_PARTS)
            else value
        )
        for key, value in sorted(values.items())
    }


def _iso(timestamp: float | None) -> str | None:
    return (
        None
        if timestamp is None
        else datetime.fromtimestamp(timestamp, UTC).isoformat()
    )


def _bluetooth_diagnostics(link: BluetoothLink | None) -> dict[str, Any] | None:
    """A car's Bluetooth link: range, signal, reads, what next (never its address)."""
    if link is None:
        return None
    memory = asdict(link.memory)
    memory["last_status"] = _iso(link.memory.last_status)
    memory["last_failure"] = _iso(link.memory.last_failure)
    decision = next_read(link.memory, link.clock(), link.settings)
    return {
        "memory": memory,
        "reads": link.reads,
        "listening": link.listening,
        "next": {
            "action": str(decision.action),
            "delay": decision.delay,
            "reason": decision.reason,
        },
        "settings": asdict(link.settings),
    }


def _vehicle_diagnostics(vehicle: VehicleCoordinator) -> dict[str, Any]:
    snapshot = vehicle.snapshot.to_dict()
    values = snapshot.pop("data")
    snapshot.pop("key_sources", None)
    snapshot = async_redact_data(snapshot, TO_REDACT)
    snapshot["data"] = None if values is None else _redact_values(values)
    snapshot["sources"] = {
        key: str(vehicle.snapshot.source_of(key)) for key in sorted(values or ())
    }
    decision = next_poll(
        vehicle.snapshot, vehicle.memory, vehicle.clock(), vehicle.settings
    )
    interval = vehicle.update_interval
    return {
        "snapshot": snapshot,
        "cloud_connected": vehicle.cloud_connected,
        "data_source": str(vehicle.data_source),
        "bluetooth": _bluetooth_diagnostics(vehicle.bluetooth),
        "polling": {
            "update_interval": None if interval is None else interval.total_seconds(),
            "endpoints": sorted(vehicle.endpoints),
            "memory": asdict(vehicle.memory),
            "next": {
                "action": str(decision.action),
                "delay": decision.delay,
                "reason": decision.reason,
            },
            "settings": asdict(vehicle.settings),
        },
    }


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: TeslaResilientConfigEntry
) -> dict[str, Any]:
    """Return the diagnostics of one account."""
    data = entry.runtime_data
    account_interval = data.account.update_interval
    return {
        "entry": {
            "title": REDACTED,
            "data": _entry_data(dict(entry.data)),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
        },
        "health": data.health.as_dict(),
        "account": {
            "vehicles": len(data.account.data),
            "update_interval": (
                None if account_interval is None else account_interval.total_seconds()
            ),
            "last_update_success": data.account.last_update_success,
        },
        "protected_actions": (
            sorted(str(action) for action in data.guard.actions)
            if data.guard is not None
            else []
        ),
        "vehicles": [
            _vehicle_diagnostics(vehicle) for vehicle in data.vehicles.values()
        ],
    }
