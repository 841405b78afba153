"""The virtual key: which of the account's cars trust the app's key, and a repair issue
for each car that does not.

A car built since 2021 takes commands only from a key its owner approved: the owner opens
``https://tesla.com/_ak/<domain>`` (the domain the app registered) on the phone with the
Tesla app and approves. Reading works without it. When the entry registered a domain
(``CONF_PARTNER_DOMAIN``), set-up asks Tesla once, with one ``fleet_status`` call for all
the account's cars, which cars know the key (:func:`async_check_at_setup`); a car that
``fleet_status`` reports unpaired, and that needs signed commands, gets a fixable repair
issue with the link. Its fix flow (``repairs.py``) is the owner's "I approved it": it asks
Tesla again (:func:`async_check_pairing`) and the issue goes once the car knows the key.
There is no polling loop: Tesla is asked at set-up and when the owner says so.
"""

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from yarl import URL

from .api import FleetStatus, TeslaError, VehicleSummary
from .const import CONF_AUTH_BASE_URL, CONF_PARTNER_DOMAIN, DOMAIN, LOGGER
from .coordinator import TeslaResilientConfigEntry
from .errors import async_owner_action_needed
from .router import signal_key_not_paired

ISSUE_ID = "virtual_key"
TESLA_SITE = "https://tesla.com"
TESLA_HOSTS = ("tesla.com", "tesla.cn")


def virtual_key_url(domain: str, auth_base: str | None = None) -> str:
    """Where the owner approves the app's key for ``domain``.

    ``https://tesla.com/_ak/<domain>`` for Tesla's own sign-in servers (``auth_base``
    empty or a Tesla host); another sign-in server (the simulator) serves its own page.
    """
    host = URL(auth_base).host if auth_base else None
    if host is None or any(
        host == name or host.endswith(f".{name}") for name in TESLA_HOSTS
    ):
        return f"{TESLA_SITE}/_ak/{domain}"
    return f"{str(auth_base).rstrip('/')}/_ak/{domain}"


def issue_id(entry: TeslaResilientConfigEntry, vehicle_id: str) -> str:
    """Id of the repair issue of the car ``vehicle_id`` of ``entry``."""
    return f"{ISSUE_ID}_{entry.entry_id}_{vehicle_id}"


def needs_key(status: FleetStatus, vin: str) -> bool:
    """Reported unpaired, and not known to take unsigned commands."""
    info = status.vehicle_info.get(vin)
    return vin in status.unpaired_vins and (
        info is None or info.command_signing_required
    )


async def async_check_pairing(
    hass: HomeAssistant, entry: TeslaResilientConfigEntry
) -> frozenset[str]:
    """Ask Tesla which cars know the app's key; update the cars' repair issues.

    Returns the ids of the cars that need the key and do not have it. Raises the
    ``TeslaError`` of the ``fleet_status`` call.
    """
    cars: dict[str, VehicleSummary] = entry.runtime_data.account.data
    status = await entry.runtime_data.client.fleet_status(
        summary.vin for summary in cars.values()
    )
    url = virtual_key_url(
        entry.data[CONF_PARTNER_DOMAIN], entry.data.get(CONF_AUTH_BASE_URL)
    )
    unpaired = frozenset(
        vehicle_id
        for vehicle_id, summary in cars.items()
        if needs_key(status, summary.vin)
    )
    for vehicle_id, summary in cars.items():
        if vehicle_id not in unpaired:
            ir.async_delete_issue(hass, DOMAIN, issue_id(entry, vehicle_id))
            continue
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id(entry, vehicle_id),
            is_fixable=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_ID,
            translation_placeholders={
                "car": summary.display_name or summary.vin,
                "account": entry.title,
                "url": url,
            },
            learn_more_url=url,
            data={"entry_id": entry.entry_id, "vehicle_id": vehicle_id},
        )
    return unpaired


async def _async_check_quietly(
    hass: HomeAssistant, entry: TeslaResilientConfigEntry
) -> None:
    try:
        await async_check_pairing(hass, entry)
    except TeslaError as err:
        # Advisory only: the next set-up or the owner's re-check asks again.
        async_owner_action_needed(hass, entry, err)
        LOGGER.debug("Virtual keys not checked: %s", err)


@callback
def async_check_at_setup(hass: HomeAssistant, entry: TeslaResilientConfigEntry) -> None:
    """Check the cars' virtual keys in the background when the entry registered a domain.

    And again whenever a car refuses our key on a command (the router's
    ``signal_key_not_paired``): its repair issue then comes with the link.
    """
    if not entry.data.get(CONF_PARTNER_DOMAIN):
        return

    @callback
    def check(*_vehicle_id: str) -> None:
        entry.async_create_background_task(
            hass, _async_check_quietly(hass, entry), f"{DOMAIN} virtual key check"
        )

    check()
    entry.async_on_unload(
        async_dispatcher_connect(hass, signal_key_not_paired(entry.entry_id), check)
    )


@callback
def async_clear_pairing_issues(
    hass: HomeAssistant, entry: TeslaResilientConfigEntry
) -> None:
    """Remove the repair issues of ``entry``'s cars (the entry is unloaded)."""
    prefix = f"{ISSUE_ID}_{entry.entry_id}_"
    for domain, issue in list(ir.async_get(hass).issues):
        if domain == DOMAIN and issue.startswith(prefix):
            ir.async_delete_issue(hass, DOMAIN, issue)
