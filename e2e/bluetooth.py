"""The car over Bluetooth: paired in the browser, unlocked during a cloud outage.

The e2e's Home Assistant runs the development-only integration of
``config/custom_components/tesla_sim_bluetooth`` (``TESLA_SIM_URL``): Home Assistant's
real ``bluetooth`` integration with the simulator's scanner as a remote scanner of three
connection slots, as an ESPHome Bluetooth proxy would be. Then, for the browser
account's car:

1. the car comes into Bluetooth range (the simulator's control API) and Home
   Assistant hears its advertisement (websocket ``bluetooth/subscribe_advertisements``);
2. in headless Chromium the owner opens the integration's entry, its menu's
   **Pair a car over Bluetooth** (the config subentry flow): the car, the instructions,
   the progress step while the e2e taps the key card (``POST /__sim__/ble/{vin}/tap``);
   the subentry is created and the car holds Home Assistant's key;
3. the device page shows **Bluetooth in range** on and the data source *Bluetooth*;
4. a cloud outage (the simulator's fault): the car is unlocked and locked again over
   REST with no cloud request for it (the simulator's meter), the lock entity follows,
   the values come from Bluetooth; the fault cleared, the cloud comes back.
"""

from __future__ import annotations

import time
from typing import Any

from tesla_sim.ble import address_of

from .browser import Browser
from .context import BROWSER_ACCOUNT, Car, Run, step
from .entities import discover_cars
from .harness import DOMAIN, E2EError

SCREENSHOTS = (
    "bluetooth_pair.png",
    "bluetooth_device_page.png",
    "bluetooth_outage.png",
)
"""The key screenshots: the pairing's progress step (tap your key card), the device
page with the Bluetooth entities, the same page during a cloud outage."""
MENU_ITEM = "Pair a car over Bluetooth"
SUBENTRY_TYPE = "bluetooth"


async def _heard(run: Run, car: Car) -> None:
    """Put ``car`` in range; wait until Home Assistant hears it through the proxy."""
    await run.sim.post(f"/__sim__/ble/{car.vin}", {"in_range": True, "rssi": -60})
    address = address_of(car.vin)
    async with run.ha.websocket() as ws:
        sub_id = await ws.send({"type": "bluetooth/subscribe_advertisements"})
        deadline = time.monotonic() + 30
        heard: dict[str, Any] | None = None
        while heard is None and time.monotonic() < deadline:
            message = await ws.receive(within=max(0.1, deadline - time.monotonic()))
            if message.get("id") != sub_id or message.get("type") != "event":
                continue
            heard = next(
                (a for a in message["event"].get("add", []) if a["address"] == address),
                None,
            )
    run.expect(
        f"bluetooth: Home Assistant hears {car.name} through the simulator's proxy",
        heard is not None and heard.get("connectable") and heard.get("name"),
        heard,
    )


async def _open_pairing(browser: Browser) -> None:
    """The integration's page → the account's entry → its menu → pair over Bluetooth."""
    page = browser.page
    await page.goto(
        f"{browser.run_.ha.url}/config/integrations/integration/{DOMAIN}",
        wait_until="domcontentloaded",
    )
    row = page.locator("ha-config-entry-row").filter(has_text=BROWSER_ACCOUNT)
    await row.first.wait_for(state="visible")
    await row.first.get_by_role("button", name="Menu").first.click()
    # The entry's own menu item (the page's button of the same name asks which entry)
    item = row.first.locator("ha-dropdown-item").filter(has_text=MENU_ITEM)
    await item.first.click()


async def _pair(run: Run, browser: Browser, car: Car) -> None:
    """The subentry flow in the browser; the key card tapped through the simulator."""
    page = browser.page
    entry_id = run.entry_ids[BROWSER_ACCOUNT]
    await _open_pairing(browser)
    await page.get_by_text("Pick the car and submit", exact=False).first.wait_for(
        state="visible"
    )
    run.expect(
        f"bluetooth: the pairing flow offers {car.name}",
        await page.get_by_text(car.name).filter(visible=True).count() > 0,
    )
    await browser.shot("bluetooth_user.png")
    await browser.submit(page)

    instructions = page.get_by_text(f"Approve Home Assistant's key in {car.name}")
    await instructions.first.wait_for(state="visible")
    run.expect(
        "bluetooth: the car is found and does not know the key: the instructions",
        True,
    )
    await browser.shot("bluetooth_instructions.png")
    await browser.submit(page)

    waiting = page.get_by_text(f"Waiting for your approval in {car.name}")
    await waiting.first.wait_for(state="visible")
    await browser.shot(SCREENSHOTS[0])

    async def tapped() -> bool:  # 409 until the car shows the key add
        try:
            await run.sim.post(f"/__sim__/ble/{car.vin}/tap", {})
        except E2EError:  # its message names the VIN: not in the output
            return False
        return True

    await run.poll("the car to ask for the key card", tapped, limit=30)
    run.expect("bluetooth: the key card is tapped while the progress step waits", True)

    async with run.ha.websocket() as ws:

        async def created() -> list[dict[str, Any]]:
            subentries = await ws.command(
                {"type": "config_entries/subentries/list", "entry_id": entry_id}
            )
            return [
                s
                for s in subentries
                if s.get("subentry_type") == SUBENTRY_TYPE
                and s.get("unique_id") == car.vin
            ]

        made = await run.poll("the Bluetooth subentry", created, limit=60)
    run.expect(
        f"bluetooth: the subentry for {car.name} is created",
        made and made[0].get("title") == car.name,
        [s.get("title") for s in made],
    )
    await browser.shot("bluetooth_paired.png")
    finish = page.get_by_role("button", name="Finish", exact=True).or_(
        page.get_by_role("button", name="Close", exact=True)
    )
    if await finish.count():
        await finish.first.click()
    sim_car = await run.sim.vehicle(car.vin)
    run.expect(
        f"bluetooth: {car.name} holds Home Assistant's key",
        len(sim_car["virtual_keys"]) >= 1,
        len(sim_car["virtual_keys"]),
    )


async def _bluetooth_car(run: Run, vin: str) -> Car:
    """The car again, once the reloaded entry added its Bluetooth entities."""
    async with run.ha.websocket() as ws:

        async def registered() -> bool:
            entities = await ws.command({"type": "config/entity_registry/list"})
            return any(
                e.get("unique_id") == f"{vin}-bluetooth_in_range" for e in entities
            )

        await run.poll("the Bluetooth entities", registered, limit=60)
    await discover_cars(run, BROWSER_ACCOUNT)
    return run.cars[vin]


async def _state_is(run: Run, entity_id: str, expected: str) -> bool:
    state = await run.ha.state(entity_id)
    return bool(state and state["state"] == expected)


async def _on_bluetooth(run: Run, car: Car) -> None:
    """Bluetooth in range on, the data source Bluetooth."""
    in_range, source = car.entity("bluetooth_in_range"), car.entity("data_source")

    async def shown() -> bool:
        await run.ha.call_service(
            "homeassistant", "update_entity", {"entity_id": [source]}
        )
        return await _state_is(run, in_range, "on") and await _state_is(
            run, source, "ble"
        )

    await run.poll(
        "Bluetooth in range and data source ble", shown, limit=120, interval=2
    )
    run.expect(f"bluetooth: {car.name} is in range, data source ble", True)


def _requests(meter: dict[str, Any], vin: str) -> int:
    """Cloud requests the simulator counted for ``vin`` (every category)."""
    per_car = meter.get("vehicles", {}).get(vin, {}).get("requests", {})
    return sum(int(n) for n in per_car.values())


async def _lock_over_bluetooth(run: Run, car: Car, service: str, locked: bool) -> None:
    """``lock.<service>`` over REST: the car follows, the entity too, no cloud request."""
    lock_id = car.entity("vehicle_state_locked")
    meter_before = await run.sim.meter()
    radio_before = await run.sim.get(f"/__sim__/ble/{car.vin}")
    status, body = await run.ha.call_service("lock", service, {"entity_id": lock_id})
    run.expect(
        f"bluetooth: {service} during the cloud outage succeeds", status == 200, body
    )

    async def car_follows() -> bool:
        return bool((await run.sim.vehicle(car.vin))["locked"] is locked)

    await run.poll(f"the car to {service}", car_follows, limit=30)
    expected = "locked" if locked else "unlocked"
    await run.poll(
        f"the lock entity to show {expected}",
        lambda: _state_is(run, lock_id, expected),
        limit=30,
    )
    meter_after = await run.sim.meter()
    radio_after = await run.sim.get(f"/__sim__/ble/{car.vin}")
    run.expect(
        f"bluetooth: the car and the lock entity are {expected}, "
        f"0 cloud requests for the car",
        _requests(meter_after, car.vin) == _requests(meter_before, car.vin),
        (_requests(meter_before, car.vin), _requests(meter_after, car.vin)),
    )
    run.expect(
        f"bluetooth: the {service} went over Bluetooth",
        radio_after["messages_in"] > radio_before["messages_in"],
        (radio_before["messages_in"], radio_after["messages_in"]),
    )


async def _cloud_connection(run: Run, car: Car, expected: str, what: str) -> None:
    """Press the car's Refresh (a poll through the cloud) until the cloud connection
    shows ``expected``: with the car in Bluetooth range nothing else asks the cloud."""
    connection, refresh = car.entity("cloud_connection"), car.entity("refresh")

    async def shown() -> bool:
        if await _state_is(run, connection, expected):
            return True
        await run.ha.call_service("button", "press", {"entity_id": refresh})
        return False

    await run.poll(what, shown, limit=240, interval=3)


async def _outage(run: Run, browser: Browser, car: Car) -> None:
    """Cloud outage: unlock and lock over Bluetooth with no cloud request; recovery."""
    step("bluetooth: unlock during a cloud outage")
    await run.sim.add_fault("outage", 600)
    await _cloud_connection(run, car, "off", "the cloud connection to fail")
    run.expect(
        f"bluetooth: {car.name}'s cloud connection is off (a refresh failed)", True
    )
    if not (await run.sim.vehicle(car.vin))["locked"]:
        await _lock_over_bluetooth(run, car, "lock", True)
    await _lock_over_bluetooth(run, car, "unlock", False)
    lock = await run.ha.state(car.entity("vehicle_state_locked"))
    run.expect(
        "bluetooth: the lock carries data_source ble during the outage",
        lock is not None and lock["attributes"].get("data_source") == "ble",
        (lock or {}).get("attributes"),
        fatal=False,
    )
    run.expect(
        "bluetooth: the data source stays Bluetooth during the outage",
        await _state_is(run, car.entity("data_source"), "ble"),
        await run.ha.state(car.entity("data_source")),
        fatal=False,
    )
    await browser.device_page(car, SCREENSHOTS[2], source="ble")
    await _lock_over_bluetooth(run, car, "lock", True)

    await run.sim.clear_faults()
    await _cloud_connection(run, car, "on", "the cloud to come back")
    run.expect(f"bluetooth: {car.name}'s cloud connection is back on", True)


async def bluetooth(run: Run, browser: Browser) -> None:
    """Pair the browser account's car over Bluetooth; unlock it in a cloud outage."""
    step(f"browser: pair a car over Bluetooth ({BROWSER_ACCOUNT})")
    since = time.monotonic()
    car = browser.car
    await _heard(run, car)
    await _pair(run, browser, car)
    car = await _bluetooth_car(run, car.vin)
    await _on_bluetooth(run, car)
    await browser.device_page(car, SCREENSHOTS[1], source="ble")
    run.timed("bluetooth_pairing_s", since)
    since = time.monotonic()
    await _outage(run, browser, car)
    run.timed("bluetooth_outage_s", since)
