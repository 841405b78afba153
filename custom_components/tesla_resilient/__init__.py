"""The Tesla Resilient integration: Tesla cars that stay useful when Tesla's cloud fails.

Set-up builds the account's cloud client, its :class:`CloudHealth` and last-known-state
store, the vehicle list and one coordinator per vehicle. When the cloud cannot be reached
at start-up but the store knows the vehicles, the entry sets up from the store (entities
show their last known values, data source ``cache``) and the cloud is retried in the
background; an outage saved with that state (a restart during an outage) is resumed with
its original start. Without stored data set-up is retried later by Home Assistant.

The integration's set-up registers the view of the app's public key (``keys.py``); an
entry that registered a domain checks its cars' virtual keys once per set-up
(``pairing.py``).
"""

import asyncio

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .account import AccountCoordinator
from .api import (
    DEFAULT_API_BASE,
    DEFAULT_AUTH_BASE,
    DEFAULT_CLIENT_ID,
    CloudUnavailable,
    TeslaAuth,
    TeslaError,
    TeslaFleetClient,
    TokenManager,
    Tokens,
    VehicleSummary,
)
from .ble_setup import async_setup_bluetooth
from .const import (
    CONF_API_BASE_URL,
    CONF_AUTH_BASE_URL,
    CONF_CLIENT_ID,
    CONF_TOKEN,
    CONF_TOKEN_URL,
    CONF_WAKE_ONCE,
    DOMAIN,
    LOGGER,
    wall_clock,
)
from .coordinator import (
    TeslaResilientConfigEntry,
    TeslaResilientData,
    VehicleCoordinator,
)
from .devices import async_remove_dropped_entities, on_account
from .errors import (
    async_owner_action_needed,
    reauth_on_auth_failure,
    reauth_required,
    setup_error,
)
from .health import CLOUD_FAILURES, CloudHealth
from .keys import async_serve_public_key
from .otp import TotpGuard
from .pairing import async_check_at_setup, async_clear_pairing_issues
from .polling import PollingSettings
from .services import async_setup_services
from .snapshot import VehicleSnapshot
from .store import LastKnownStore

PLATFORMS: list[Platform] = [
    Platform.LOCK,
    Platform.DEVICE_TRACKER,
    Platform.SENSOR,
    Platform.BINARY_SENSOR,
    Platform.CLIMATE,
    Platform.COVER,
    Platform.SWITCH,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.BUTTON,
    Platform.UPDATE,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions (they work on any loaded entry's vehicles)
    and the view of the app's public key."""
    async_setup_services(hass)
    async_serve_public_key(hass)
    return True


async def async_setup_entry(
    hass: HomeAssistant, entry: TeslaResilientConfigEntry
) -> bool:
    """Set up one Tesla account."""
    session = async_get_clientsession(hass)
    try:
        tokens = Tokens.from_dict(entry.data[CONF_TOKEN])
    except (KeyError, TypeError, ValueError) as err:
        raise reauth_required() from err

    auth = TeslaAuth(
        session,
        auth_base=entry.data.get(CONF_AUTH_BASE_URL) or DEFAULT_AUTH_BASE,
        token_url=entry.data.get(CONF_TOKEN_URL),
        client_id=entry.data.get(CONF_CLIENT_ID) or DEFAULT_CLIENT_ID,
        clock=wall_clock,
    )

    async def persist_tokens(new: Tokens) -> None:
        # Single-use refresh tokens: written to the entry before they are used.
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_TOKEN: new.as_dict()}
        )

    async def persist_base_url(base_url: str) -> None:
        hass.config_entries.async_update_entry(
            entry, data={**entry.data, CONF_API_BASE_URL: base_url}
        )

    token_manager = TokenManager(
        auth, tokens, on_new_tokens=persist_tokens, clock=wall_clock
    )
    client = TeslaFleetClient(
        session,
        token_manager,
        base_url=entry.data.get(CONF_API_BASE_URL) or DEFAULT_API_BASE,
        on_base_url_change=persist_base_url,
    )
    health = CloudHealth(clock=wall_clock)
    store = LastKnownStore(hass, entry.entry_id, health)
    stored = await store.async_load()

    from_store = False
    resume_since: float | None = None
    try:
        with reauth_on_auth_failure():
            summaries = {summary.id: summary for summary in await client.vehicles()}
    except CLOUD_FAILURES as err:
        health.record_failure(err)
        if not stored:
            raise setup_error(err) from err
        # Logged at info once the cloud health sees an outage (not twice).
        LOGGER.debug(
            "Tesla cloud unreachable at start-up; showing the last known state of %d vehicle(s)",
            len(stored),
        )
        from_store = True
        if isinstance(err, CloudUnavailable):
            # Restarted during an outage: it goes on (not when only rate limited).
            resume_since = store.saved_outage_since
        summaries = {
            snapshot.vehicle_id: _summary_from(snapshot) for snapshot in stored.values()
        }
    except TeslaError as err:
        async_owner_action_needed(hass, entry, err)
        raise setup_error(err) from err
    else:
        health.record_success()
        store.async_outage_changed()
        for vehicle_id in set(stored) - set(summaries):
            store.remove(vehicle_id)

    account = AccountCoordinator(
        hass, entry, client=client, health=health, store=store, initial=summaries
    )
    entry.runtime_data = TeslaResilientData(
        client=client,
        tokens=token_manager,
        health=health,
        store=store,
        account=account,
        vehicles=account.vehicles,
        guard=TotpGuard.from_options(
            entry.options,
            wall_clock,
            saved=store.saved_guard,
            on_change=store.async_guard_changed,
        ),
    )
    for summary in summaries.values():
        # A list fresh from the cloud gives each car's sleep state (no extra check).
        account.async_add_vehicle(summary, stored.get(summary.id), seed=not from_store)

    if resume_since is not None:
        account.async_resume_outage(resume_since)
    elif from_store:
        account.async_retry_later()
    else:
        account.async_remove_stale_devices()
        await asyncio.gather(
            *(
                vehicle.async_config_entry_first_refresh()
                for vehicle in account.vehicles.values()
            )
        )
        _wake_once(hass, entry)

    entry.async_on_unload(account.async_add_listener(account.async_sync_vehicles))
    options = dict(entry.options)

    async def options_updated(
        hass: HomeAssistant, entry: TeslaResilientConfigEntry
    ) -> None:
        nonlocal options
        if PollingSettings.from_options(entry.options) != PollingSettings.from_options(
            options
        ):
            # New polling intervals: every vehicle's coordinator starts over with them.
            hass.config_entries.async_schedule_reload(entry.entry_id)
        elif dict(entry.options) != options:
            options = dict(entry.options)
            entry.runtime_data.guard = TotpGuard.from_options(
                entry.options, wall_clock, previous=entry.runtime_data.guard
            )
            # The locks' code_format depends on the guard: show the change at once.
            for vehicle in entry.runtime_data.vehicles.values():
                vehicle.async_update_listeners()

    entry.async_on_unload(entry.add_update_listener(options_updated))
    async_remove_dropped_entities(hass, entry)
    async_setup_bluetooth(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    if not from_store:
        async_check_at_setup(hass, entry)
    return True


async def async_unload_entry(
    hass: HomeAssistant, entry: TeslaResilientConfigEntry
) -> bool:
    """Unload an account; the last known state is written to disk first."""
    unload_ok = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unload_ok:
        await entry.runtime_data.store.async_flush()
        ir.async_delete_issue(hass, DOMAIN, entry.runtime_data.account.issue_id)
        async_clear_pairing_issues(hass, entry)
    return unload_ok


async def async_remove_entry(
    hass: HomeAssistant, entry: TeslaResilientConfigEntry
) -> None:
    """Delete the account's saved last known state with the entry."""
    await LastKnownStore(hass, entry.entry_id).async_remove()


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: TeslaResilientConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Allow removing a vehicle's device only when it is no longer on the account."""
    vins = {summary.vin for summary in entry.runtime_data.account.data.values()}
    return not on_account(device, vins)


def _wake_once(hass: HomeAssistant, entry: TeslaResilientConfigEntry) -> None:
    """Wake the cars the owner chose in the config flow, once, to learn their features."""
    if not (vins := entry.options.get(CONF_WAKE_ONCE)):
        return
    hass.config_entries.async_update_entry(
        entry,
        options={k: v for k, v in entry.options.items() if k != CONF_WAKE_ONCE},
    )
    for vehicle in entry.runtime_data.vehicles.values():
        if vehicle.vin in vins:
            entry.async_create_background_task(
                hass, _async_wake(vehicle), name=f"{DOMAIN} wake once"
            )


async def _async_wake(vehicle: VehicleCoordinator) -> None:
    """Wake a car as its Wake up button does; a failure is only logged."""
    try:
        await vehicle.async_wake()
    except HomeAssistantError as err:
        LOGGER.info("A car chosen to wake at set-up did not wake: %s", err)


def _summary_from(snapshot: VehicleSnapshot) -> VehicleSummary:
    """The vehicle list entry of a vehicle known only from the store."""
    return VehicleSummary(
        id=snapshot.vehicle_id,
        vin=snapshot.vin,
        display_name=snapshot.display_name,
        state=snapshot.state,
        in_service=False,
    )
