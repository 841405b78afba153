"""Constants shared by the Tesla Resilient integration."""

from enum import StrEnum
import logging
import time
from typing import Final

DOMAIN: Final = "tesla_resilient"
LOGGER = logging.getLogger(__package__)


def wall_clock() -> float:
    """Return the current epoch time; the runtime's default injected clock.

    ``time.time`` is looked up on every call (not bound once as a default argument), so
    tests that freeze or move time move this clock too.
    """
    return time.time()


# Config entry data keys (written by the config flow, read by the runtime).
CONF_AUTH_METHOD: Final = "auth_method"
CONF_TOKEN: Final = "token"  # noqa: S105  # {access_token, refresh_token, expires_at}
CONF_CLIENT_ID: Final = "client_id"
CONF_AUTH_BASE_URL: Final = "auth_base_url"
CONF_TOKEN_URL: Final = "token_url"  # noqa: S105 - a key name; absent in older entries
CONF_API_BASE_URL: Final = "api_base_url"
CONF_REGION: Final = "region"
CONF_PARTNER_DOMAIN: Final = "partner_domain"
"""The domain the developer app registered (where Tesla fetches the app's public key)."""

# The config subentry of a car paired over Bluetooth (written by flow_bluetooth.py):
# ``unique_id`` is the VIN, ``data`` = {CONF_VIN: vin, CONF_ADDRESS: the car's address}.
SUBENTRY_BLUETOOTH: Final = "bluetooth"
CONF_VIN: Final = "vin"
CONF_ADDRESS: Final = "address"

# The (platform, key) of every entity that asks for the `location_data` endpoint; their
# unique ids are f"{vin}-{key}". A test checks this list against the platform tables.
LOCATION_ENTITIES: Final = (
    ("device_tracker", "location"),
    ("device_tracker", "route"),
    ("cover", "windows"),
    ("button", "homelink"),
)

# Entities of earlier versions, dropped since (each repeated another entity): removed
# from the entity registry at set-up, (platform, key) as in their unique id.
DROPPED_ENTITIES: Final = (
    ("binary_sensor", "charge_state_charging_state"),
    ("binary_sensor", "vehicle_state_ft"),
    ("binary_sensor", "vehicle_state_rt"),
    ("binary_sensor", "vehicle_state_sentry_mode"),
    ("binary_sensor", "vehicle_state_software_update_status"),
    ("sensor", "last_update"),
)

# Options keys.
CONF_OTP_SECRET: Final = "otp_secret"  # noqa: S105
CONF_OTP_ACTIONS: Final = "otp_actions"
CONF_WAKE_ONCE: Final = "wake_once"
"""VINs to wake once at the first set-up, to learn their features (the config flow's
offer; removed when used)."""

# ``vehicle_state.software_update.status`` values.
SOFTWARE_UPDATE_INSTALLABLE: Final = frozenset({"available", "downloaded"})
"""Statuses in which ``schedule_software_update`` is accepted."""
SOFTWARE_UPDATE_OFFERED: Final = SOFTWARE_UPDATE_INSTALLABLE | {
    "scheduled",
    "downloading",
    "downloading_wifi_wait",
    "installing",
}
"""Statuses in which a version is on its way (:func:`.values.offered_update` reads them
for the update entity)."""


class AuthMethod(StrEnum):
    """How the entry signed in."""

    PASSWORD = "password"  # noqa: S105
    BROWSER = "browser"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105


class ProtectedAction(StrEnum):
    """Sensitive actions that can require an authenticator code."""

    UNLOCK = "unlock"
    OPEN_FRUNK = "open_frunk"
    OPEN_TRUNK = "open_trunk"
    OPEN_CHARGE_PORT = "open_charge_port"
    REMOTE_START = "remote_start"
    DISABLE_SENTRY = "disable_sentry"
