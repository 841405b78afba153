"""The cars' devices and entities, over REST and the websocket API."""

from __future__ import annotations

from typing import Any

from .context import API_ACCOUNT, Car, CheckFailed, Run, step
from .harness import DOMAIN


async def discover_cars(run: Run, email: str) -> list[Car]:
    """Find the entry's devices and entities over the websocket API."""
    entry_id = run.entry_ids[email]
    sim_cars = {
        c["vin"]: c
        for c in (await run.sim.state())["vehicles"]
        if c["account"] == email
    }
    async with run.ha.websocket() as ws:

        async def all_entities() -> list[dict[str, Any]] | None:
            entities = await ws.command({"type": "config/entity_registry/list"})
            mine = [e for e in entities if e.get("config_entry_id") == entry_id]
            vins = {e["unique_id"].split("-", 1)[0] for e in mine}
            return mine if vins >= set(sim_cars) else None

        entities = await run.poll("the cars' entities", all_entities, limit=60)
        devices = await ws.command({"type": "config/device_registry/list"})
    cars = []
    for vin, sim_car in sim_cars.items():
        device = next(
            (
                d
                for d in devices
                if entry_id in d.get("config_entries", [])
                and [DOMAIN, vin] in d.get("identifiers", [])
            ),
            None,
        )
        run.expect(
            f"{sim_car['display_name']}: one device, named after the car",
            device is not None
            and (device.get("name_by_user") or device.get("name"))
            == sim_car["display_name"],
            device,
        )
        assert device is not None  # noqa: S101 - narrowed by the check above
        run.expect(
            f"{sim_car['display_name']}: device shows model and serial number",
            device.get("model") == sim_car["config"]["model"]
            and device.get("serial_number") == vin,
            {k: device.get(k) for k in ("model", "serial_number", "sw_version")},
        )
        car = Car(
            vin=vin,
            name=sim_car["display_name"],
            device_id=device["id"],
            entities={
                e["unique_id"].split("-", 1)[1]: e["entity_id"]
                for e in entities
                if e["unique_id"].startswith(f"{vin}-")
            },
        )
        run.cars[vin] = car
        cars.append(car)
    return cars


async def read_entities(run: Run) -> None:
    """Read the cars' entities over REST and the websocket API."""
    step("entities over REST and the websocket API")
    cars = await discover_cars(run, API_ACCOUNT)
    run.expect("both cars of the account are set up", len(cars) == 2, cars)
    for car in cars:
        sim_car = await run.sim.vehicle(car.vin)
        states = await run.car_states(car)
        unavailable = [k for k, s in states.items() if s["state"] == "unavailable"]
        run.expect(
            f"{car.name}: REST serves every entity, none unavailable",
            len(states) >= 40 and not unavailable,
            f"{len(states)} states, unavailable: {unavailable}",
        )
        lock = states[_key(car, "vehicle_state_locked")]
        run.expect(
            f"{car.name}: the door lock matches the car",
            lock["state"] == ("locked" if sim_car["locked"] else "unlocked"),
            (lock["state"], sim_car["locked"]),
        )
        battery = states[_key(car, "charge_state_battery_level")]
        run.expect(
            f"{car.name}: battery level matches the car",
            abs(float(battery["state"]) - float(sim_car["battery_level"])) <= 1.0,
            (battery["state"], sim_car["battery_level"]),
        )
        tracker = states[_key(car, "location")]["attributes"]
        run.expect(
            f"{car.name}: location matches the car",
            abs(tracker.get("latitude", 0) - sim_car["latitude"]) < 1e-3
            and abs(tracker.get("longitude", 0) - sim_car["longitude"]) < 1e-3,
            tracker,
        )
        run.expect(
            f"{car.name}: data source cloud, cloud connection on",
            states[_key(car, "data_source")]["state"] == "cloud"
            and states[_key(car, "cloud_connection")]["state"] == "on",
            (
                states[_key(car, "data_source")]["state"],
                states[_key(car, "cloud_connection")]["state"],
            ),
        )

    car = cars[0]
    rest_states = await run.car_states(car)
    async with run.ha.websocket() as ws:
        ws_states = {
            s["entity_id"]: s for s in await ws.command({"type": "get_states"})
        }
        run.expect(
            "websocket get_states serves the same entities",
            all(
                ws_states.get(s["entity_id"], {}).get("state") == s["state"]
                for k, s in rest_states.items()
                if k not in {"last_update"}
            ),
            "states differ",
        )
        sub_id = await ws.send(
            {
                "type": "subscribe_entities",
                "entity_ids": [
                    car.entity("vehicle_state_locked"),
                    car.entity("data_source"),
                ],
            }
        )
        event: dict[str, Any] = {}
        while event.get("id") != sub_id or event.get("type") != "event":
            event = await ws.receive()
        added = event["event"].get("a", {})
        run.expect(
            "websocket subscribe_entities sends the lock and the data source",
            added.get(car.entity("vehicle_state_locked"), {}).get("s")
            in {"locked", "unlocked"}
            and added.get(car.entity("data_source"), {}).get("s") == "cloud",
            added,
        )


def _key(car: Car, key: str) -> str:
    if key not in car.entities:
        raise CheckFailed(f"{car.name} has no entity {key!r}: {sorted(car.entities)}")
    return key
