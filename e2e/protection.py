"""Authenticator protection: on through the options flow; unlocking then needs a code."""

from __future__ import annotations

import time

import pyotp

from .context import API_ACCOUNT, Run, other_code, step
from .harness import E2EError


async def protection(run: Run) -> None:
    """Turn authenticator protection on through the options flow (REST)."""
    step("authenticator protection through the options flow")
    entry_id = run.entry_ids[API_ACCOUNT]
    result = await run.ha.flow_start(entry_id, flow="options")
    run.expect(
        "the options open with a menu whose protection item says it is off",
        result.get("type") == "menu"
        and "protection_enable" in result.get("menu_options", []),
        result,
    )
    flow_id = result["flow_id"]
    result = await run.ha.flow_step(
        flow_id, {"next_step_id": "protection_enable"}, flow="options"
    )
    secret = result.get("description_placeholders", {}).get("key", "")
    uri = result.get("description_placeholders", {}).get("uri", "")
    run.expect(
        "the options show a new authenticator key and otpauth URI",
        result.get("step_id") == "protection_enable"
        and len(secret) >= 16
        and uri.startswith("otpauth://totp/"),
        result.get("step_id"),
    )
    run.otp_secret = secret
    run.secrets.add(secret)
    result = await run.ha.flow_step(
        flow_id,
        {"otp_actions": ["unlock"], "code": other_code(secret, time.time())},
        flow="options",
    )
    run.expect(
        "a wrong code does not enable the protection",
        result.get("errors", {}).get("code") == "invalid_code",
        result,
    )
    # The previous 30-second code: valid (±1 step) and not the one unlocking uses.
    code = pyotp.TOTP(secret).at(int(time.time()) - 30)
    result = await run.ha.flow_step(
        flow_id, {"otp_actions": ["unlock"], "code": code}, flow="options"
    )
    run.expect(
        "a valid code enables the protection",
        result.get("type") == "create_entry",
        result,
    )

    car = next(iter(run.cars.values()))
    lock_id = car.entity("vehicle_state_locked")

    async def lock_asks_for_code() -> bool:
        state = await run.ha.state(lock_id)
        return bool(
            state
            and state["state"] != "unavailable"
            and state["attributes"].get("code_format")
        )

    try:
        await run.poll("the lock to ask for a code", lock_asks_for_code, limit=10)
        shown = True
    except E2EError:
        shown = False
    run.expect(
        "the door lock's keypad appears (code_format) once protection is on",
        shown,
        "the lock's state was not written again after the options changed",
        fatal=False,
    )
    if not shown:  # let the run go on: a state write shows it
        await run.ha.call_service(
            "homeassistant", "update_entity", {"entity_id": lock_id}
        )
        await run.poll("the lock to ask for a code", lock_asks_for_code, limit=30)


async def lock_unlock(run: Run) -> None:
    """Unlock (needs the authenticator code) and lock a car; check the simulator's car."""
    step("lock and unlock")
    car = next(iter(run.cars.values()))
    lock_id = car.entity("vehicle_state_locked")
    secret = run.otp_secret or ""
    run.expect("the car starts locked", (await run.sim.vehicle(car.vin))["locked"])

    status, body = await run.ha.call_service("lock", "unlock", {"entity_id": lock_id})
    run.expect(
        "unlocking without a code is refused (400)", status == 400, (status, body)
    )
    status, body = await run.ha.call_service(
        "lock",
        "unlock",
        {"entity_id": lock_id, "code": other_code(secret, time.time())},
    )
    run.expect(
        "unlocking with a wrong code is refused (400)",
        status == 400,
        (status, body),
    )
    run.expect(
        "nothing was sent: the car is still locked",
        (await run.sim.vehicle(car.vin))["locked"],
    )

    status, body = await run.ha.call_service(
        "lock", "unlock", {"entity_id": lock_id, "code": pyotp.TOTP(secret).now()}
    )
    run.expect(
        "unlocking with the authenticator code succeeds",
        status == 200,
        (status, body),
    )

    async def sim_unlocked() -> bool:
        return not (await run.sim.vehicle(car.vin))["locked"]

    await run.poll("the simulator's car to be unlocked", sim_unlocked, limit=30)
    run.expect("the simulator's car is unlocked", True)

    async def ha_state(expected: str) -> bool:
        state = await run.ha.state(lock_id)
        return bool(state and state["state"] == expected)

    await run.poll(
        "the lock entity to show unlocked", lambda: ha_state("unlocked"), limit=30
    )
    run.expect("the lock entity shows unlocked", True)

    status, body = await run.ha.call_service("lock", "lock", {"entity_id": lock_id})
    run.expect("locking needs no code", status == 200, (status, body))

    async def sim_locked() -> bool:
        return bool((await run.sim.vehicle(car.vin))["locked"])

    await run.poll("the simulator's car to be locked", sim_locked, limit=30)
    await run.poll(
        "the lock entity to show locked", lambda: ha_state("locked"), limit=30
    )
    run.expect("the simulator's car and the lock entity are locked again", True)
