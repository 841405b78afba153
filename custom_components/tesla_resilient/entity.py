"""Base entity of every Tesla Resilient vehicle entity.

Entities read only the coordinator's :class:`VehicleSnapshot`. They stay available
whenever a snapshot with data exists, whether it came from the cloud or from the
last-known-state store: during a cloud outage they keep their last known values and say
so through :meth:`TeslaVehicleEntity.freshness_attributes` and the diagnostic entities.
"""

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import (
    AddConfigEntryEntitiesCallback,
    async_get_current_platform,
)
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .api import VehicleData
from .const import DOMAIN, ProtectedAction
from .coordinator import (
    TeslaResilientConfigEntry,
    VehicleCoordinator,
    signal_new_vehicle,
)
from .errors import check_code
from .values import EMPTY_DATA, sent

MANUFACTURER = "Tesla"
MODEL_NAMES: dict[str, str] = {
    "models": "Model S",
    "models2": "Model S",
    "model3": "Model 3",
    "modelx": "Model X",
    "modely": "Model Y",
    "cybertruck": "Cybertruck",
}
"""``vehicle_config.car_type`` codes and the model names shown on the device."""


def model_name(car_type: str | None) -> str | None:
    """Return the marketing name of a ``car_type`` code (unknown codes pass through)."""
    if car_type is None:
        return None
    return MODEL_NAMES.get(car_type.lower(), car_type)


@dataclass(frozen=True, kw_only=True)
class TeslaEntityDescription(EntityDescription):
    """An entity description that names the ``vehicle_data`` endpoints it reads.

    Platform descriptions inherit from it next to the platform's own description,
    e.g. ``class TeslaSensorEntityDescription(SensorEntityDescription,
    TeslaEntityDescription)``. ``endpoints`` are registered with the coordinator while
    the entity is enabled and added, so only what enabled entities need is requested.
    """

    endpoints: tuple[str, ...] = ()
    exists_fn: Callable[[VehicleData], bool] = lambda _: True
    """Whether the vehicle has the hardware (from its last known data)."""
    needs_data: bool = True
    """Whether the entity waits for the vehicle's first data (from the cloud or the
    store). ``False`` for the entities of the connection (sleep state, cloud
    connection, wake...): they exist, and are available, from the vehicle list on."""
    bluetooth: bool = False
    """Only for a car with a Bluetooth link (a Bluetooth subentry)."""


@dataclass(frozen=True, kw_only=True)
class VehicleCommand:
    """A command an entity sends, and what the car shows once it is accepted."""

    name: str
    params_fn: Callable[[VehicleData], Mapping[str, Any]] = lambda _: {}
    optimistic: Mapping[str, Any] = field(default_factory=dict)
    protected: ProtectedAction | None = None
    """The action whose authenticator code the command needs, if it can be protected."""


def optional[D: TeslaEntityDescription](description: D) -> D:
    """``description`` of hardware some cars lack without saying so in their
    configuration: created only when the car sends its key (see :func:`.values.sent`)."""
    return replace(description, exists_fn=sent(description.key))


def vehicle_device_info(coordinator: VehicleCoordinator) -> DeviceInfo:
    """Return the device of a vehicle (one device per VIN)."""
    snapshot = coordinator.snapshot
    data = snapshot.data
    model = model_name(data.model if data is not None else None)
    return DeviceInfo(
        identifiers={(DOMAIN, coordinator.vin)},
        manufacturer=MANUFACTURER,
        model=model,
        name=snapshot.display_name or model or MANUFACTURER,
        serial_number=coordinator.vin,
        sw_version=data.software_version if data is not None else None,
    )


class TeslaVehicleEntity(CoordinatorEntity[VehicleCoordinator]):
    """An entity of one vehicle, reading the coordinator's snapshot."""

    _attr_has_entity_name = True
    _code_field = False
    """Whether the entity's dialog asks for the authenticator code (a lock's does)."""

    def __init__(
        self, coordinator: VehicleCoordinator, description: TeslaEntityDescription
    ) -> None:
        """Create the entity described by ``description`` for ``coordinator``'s vehicle."""
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.vin}-{description.key}"
        self._attr_translation_key = description.translation_key or description.key
        self._attr_device_info = vehicle_device_info(coordinator)
        self._endpoints = description.endpoints
        self._needs_data = description.needs_data

    @property
    def data(self) -> VehicleData | None:
        """The vehicle's last known data (from the cloud or the store), if any."""
        return self.coordinator.snapshot.data

    @property
    def values(self) -> VehicleData:
        """The vehicle's last known data, or no values at all before the first data."""
        return self.data or EMPTY_DATA

    @property
    def available(self) -> bool:
        """Available whenever data exists, from the cloud or the last-known store.

        An entity that needs no data (the connection's) is always available.
        """
        return self.data is not None or not self._needs_data

    async def async_added_to_hass(self) -> None:
        """Register the endpoints this entity reads while it exists."""
        await super().async_added_to_hass()
        if self._endpoints:
            self.async_on_remove(
                self.coordinator.register_endpoints(self, self._endpoints)
            )

    def freshness_attributes(self) -> dict[str, Any]:
        """Where the values come from and how old they are."""
        snapshot = self.coordinator.snapshot
        as_of = (
            dt_util.utc_from_timestamp(snapshot.fetched_at).isoformat()
            if snapshot.fetched_at is not None
            else None
        )
        source = self.coordinator.data_source
        return {"data_source": str(source), "data_as_of": as_of}

    async def async_command(
        self,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        optimistic: Mapping[str, Any] | None = None,
        protected: ProtectedAction | None = None,
        code: str | None = None,
    ) -> None:
        """Check the authenticator code (when protected), then send the command."""
        self.check_code(protected, code)
        await self.coordinator.async_command(name, params, optimistic=optimistic)

    async def async_run(self, command: VehicleCommand, code: str | None) -> None:
        """Check ``code`` (when the command is protected), then send ``command``."""
        self.check_code(command.protected, code)
        await self.async_send(command)

    async def async_send(self, command: VehicleCommand) -> None:
        """Send ``command`` with the vehicle's values, its code already checked."""
        await self.coordinator.async_command(
            command.name, command.params_fn(self.values), optimistic=command.optimistic
        )

    def check_code(self, protected: ProtectedAction | None, code: str | None) -> None:
        """Refuse a protected action whose authenticator code is missing or wrong.

        An entity that shows a transitional state (``unlocking``) checks first, so a
        refused action leaves no trace in the state history or the logbook.
        """
        check_code(
            self.coordinator.config_entry.runtime_data.guard,
            protected,
            code,
            code_field=self._code_field,
        )


def async_add_vehicle_entities(
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    build: Callable[[VehicleCoordinator, VehicleData | None], Iterable[Entity]],
) -> None:
    """Add the entities ``build`` makes for every vehicle, now and later.

    ``build(coordinator, None)`` makes the entities that need no data: every vehicle
    gets them (and its device) at once, asleep or not. ``build(coordinator, data)``
    makes the others from the vehicle's data: at once when data exists (from the cloud
    or the store), else with its first data (a car asleep at set-up, nothing stored).
    Vehicles added to the account later get theirs when they appear.
    """

    @callback
    def add_vehicle(coordinator: VehicleCoordinator) -> None:
        entities = list(build(coordinator, None))
        if (data := coordinator.snapshot.data) is not None:
            async_add_entities([*entities, *build(coordinator, data)])
            return
        async_add_entities(entities)

        @callback
        def on_update() -> None:
            data = coordinator.snapshot.data
            if data is not None and not remove_listener.done:
                remove_listener()
                async_add_entities(build(coordinator, data))

        remove_listener = _Once(coordinator.async_add_listener(on_update))
        entry.async_on_unload(remove_listener)

    vehicles = list(entry.runtime_data.vehicles.values())
    if vehicles:
        add_vehicle(vehicles[0])
    if others := vehicles[1:]:
        # Home Assistant adds entities eagerly, in the caller's event-loop step: one
        # car at a time, yielding in between, keeps a large account from holding the
        # loop while thousands of entities are added.
        async def add_others() -> None:
            for coordinator in others:
                await asyncio.sleep(0)
                add_vehicle(coordinator)

        entry.async_create_task(
            entry.runtime_data.account.hass,
            add_others(),
            "tesla_resilient add vehicles",
        )
    entry.async_on_unload(
        async_dispatcher_connect(
            entry.runtime_data.account.hass,
            signal_new_vehicle(entry.entry_id),
            add_vehicle,
        )
    )


def async_add_table_entities[D: TeslaEntityDescription](
    entry: TeslaResilientConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    descriptions: Iterable[D],
    entity_class: Callable[[VehicleCoordinator, D], Entity],
) -> None:
    """Add one ``entity_class`` per description whose hardware each vehicle has.

    Descriptions that need no data are added at once; the others with the vehicle's
    data, when ``exists_fn`` finds the hardware in it. The Bluetooth descriptions go to
    the cars with a Bluetooth link only; a car whose Bluetooth subentry was removed
    loses them from the entity registry too.
    """
    table = tuple(descriptions)
    _async_remove_unlinked(entry, [d for d in table if d.bluetooth])

    def build(
        coordinator: VehicleCoordinator, data: VehicleData | None
    ) -> list[Entity]:
        linked = coordinator.bluetooth is not None
        if data is None:
            chosen = [d for d in table if not d.needs_data]
        else:
            chosen = [d for d in table if d.needs_data and d.exists_fn(data)]
        chosen = [d for d in chosen if linked or not d.bluetooth]
        return [entity_class(coordinator, description) for description in chosen]

    async_add_vehicle_entities(entry, async_add_entities, build)


def _async_remove_unlinked(
    entry: TeslaResilientConfigEntry, bluetooth: list[TeslaEntityDescription]
) -> None:
    """Remove the Bluetooth entities of the cars without a link (call in a platform's
    set-up: a subentry removed reloads the entry)."""
    if not bluetooth:
        return
    registry = er.async_get(entry.runtime_data.account.hass)
    platform = async_get_current_platform().domain
    for coordinator in entry.runtime_data.vehicles.values():
        if coordinator.bluetooth is not None:
            continue
        for description in bluetooth:
            unique_id = f"{coordinator.vin}-{description.key}"
            if entity_id := registry.async_get_entity_id(platform, DOMAIN, unique_id):
                registry.async_remove(entity_id)


class _Once:
    """A listener removal that runs at most once (on first data or on unload)."""

    def __init__(self, remove: Callable[[], None]) -> None:
        self._remove = remove
        self.done = False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self._remove()
