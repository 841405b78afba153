"""The car's Bluetooth answers as the cloud's keys, the name helpers, the error mapping.

Pure: protobuf messages built here, as the car would send them; the library's
exceptions raised as the library raises them.
"""

from bleak.exc import BleakError
from bleak_retry_connector import BleakOutOfConnectionSlotsError
from cryptography.exceptions import InvalidTag
from google.protobuf.message import DecodeError
import pytest
from tesla_fleet_api.exceptions import (
    BluetoothCommandFailed,
    BluetoothTimeout as LibraryTimeout,
    BluetoothTransportError,
    BluetoothUnconfirmedCommand,
    NotOnWhitelistFault,
    SignedCommandResponseReplayed,
    TeslaFleetError,
    TeslaFleetMessageFaultIncorrectEpoch,
    TeslaFleetMessageFaultRemoteAccessDisabled,
    WhitelistOperationAttemptingToAddExistingKey,
    WhitelistOperationLocalEntityAuthFailedTimedOutWaitingForTap,
    WhitelistOperationLocalEntityAuthFailedUIDenied,
    WhitelistOperationWhitelistFull,
)
from tesla_protocol.command import vcsec_pb2 as vcsec, vehicle_pb2 as car

from custom_components.tesla_resilient.api import (
    BLE_COMMANDS,
    BleStatus,
    BluetoothSlotsFull,
    BluetoothTimeout,
    BluetoothUnavailable,
    CommandFailed,
    CommandOutcomeUnknown,
    KeyNotPaired,
    PairingDeclined,
    PairingFailed,
    PairingTimedOut,
    TeslaError,
    VehicleState,
    ble_local_name,
    is_vehicle_name,
)
from custom_components.tesla_resilient.api.ble_values import (
    charge_values,
    climate_values,
    closures_values,
    vehicle_data_values,
)
from custom_components.tesla_resilient.api.bluetooth import answer_of
from custom_components.tesla_resilient.api.library import (
    Stage,
    StaleSession,
    library_errors,
    mapped,
    raise_for_result,
)

VIN = "5YJS0000000000000"
C = vcsec.ClosureState_E


def test_local_name_is_protocol_md_example() -> None:
    """protocol.md: VIN 5YJS0000000000000 advertises S1a87a5a75f3df858C."""
    assert ble_local_name(VIN) == "S1a87a5a75f3df858C"


@pytest.mark.parametrize(
    ("name", "matches"),
    [
        ("S1a87a5a75f3df858C", True),
        ("S1a87a5a75f3df858D", True),
        ("S1a87a5a75f3df858R", True),
        ("S1a87a5a75f3df858P", True),
        ("S1a87a5a75f3df858X", False),
        ("S1a87a5a75f3df859C", False),
        ("S1a87a5a75f3df858", False),
        ("S1a87a5a75f3df858CC", False),
        ("", False),
        (None, False),
    ],
)
def test_is_vehicle_name(name: str | None, matches: bool) -> None:
    """The car's name with any of its four last letters; nothing else."""
    assert is_vehicle_name(name, VIN) is matches


def test_ble_commands() -> None:
    """VCSEC's commands and the infotainment ones; keyless driving stays in the cloud."""
    assert {
        "door_lock",
        "door_unlock",
        "actuate_trunk",
        "charge_port_door_open",
        "charge_port_door_close",
        "wake_up",
        "charge_start",
        "set_charge_limit",
        "auto_conditioning_start",
        "remote_seat_heater_request",
        "navigation_request",
    } <= BLE_COMMANDS
    assert "remote_start_drive" not in BLE_COMMANDS


def test_status_of_a_sleeping_locked_car() -> None:
    """VCSEC's status: locks, each closure 0/1, charge port, presence, gear, sleep."""
    status = vcsec.VehicleStatus(
        closureStatuses=vcsec.ClosureStatuses(
            frontDriverDoor=C.CLOSURESTATE_OPEN,
            frontPassengerDoor=C.CLOSURESTATE_CLOSED,
            rearDriverDoor=C.CLOSURESTATE_AJAR,
            rearPassengerDoor=C.CLOSURESTATE_FAILED_UNLATCH,
            frontTrunk=C.CLOSURESTATE_UNKNOWN,
            rearTrunk=C.CLOSURESTATE_CLOSING,
            chargePort=C.CLOSURESTATE_OPEN,
        ),
        vehicleLockState=vcsec.VEHICLELOCKSTATE_INTERNAL_LOCKED,
        vehicleSleepStatus=vcsec.VEHICLE_SLEEP_STATUS_ASLEEP,
        userPresence=vcsec.VEHICLE_USER_PRESENCE_NOT_PRESENT,
        gear=vcsec.GEAR_PARK,
    )
    result = BleStatus.from_message(status)
    assert result.state is VehicleState.ASLEEP
    assert result.values.values == {
        "vehicle_state_df": 1,
        "vehicle_state_pf": 0,
        "vehicle_state_dr": 1,
        "vehicle_state_pr": 0,
        "vehicle_state_rt": 1,
        "charge_state_charge_port_door_open": True,
        "vehicle_state_locked": True,
        "vehicle_state_is_user_present": False,
        "drive_state_shift_state": "P",
    }
    assert result.values.locked is True
    assert result.values.shift_state == "P"


def test_status_leaves_out_what_vcsec_does_not_know() -> None:
    """Unknown presence, gear and sleep; a closed port; no closures at all."""
    awake = BleStatus.from_message(
        vcsec.VehicleStatus(
            vehicleLockState=vcsec.VEHICLELOCKSTATE_UNLOCKED,
            vehicleSleepStatus=vcsec.VEHICLE_SLEEP_STATUS_AWAKE,
            userPresence=vcsec.VEHICLE_USER_PRESENCE_PRESENT,
        )
    )
    assert awake.state is VehicleState.ONLINE
    assert awake.values.values == {
        "vehicle_state_locked": False,
        "vehicle_state_is_user_present": True,
    }
    unknown = BleStatus.from_message(
        vcsec.VehicleStatus(
            closureStatuses=vcsec.ClosureStatuses(chargePort=C.CLOSURESTATE_CLOSED),
            vehicleLockState=vcsec.VEHICLELOCKSTATE_SELECTIVE_UNLOCKED,
        )
    )
    assert unknown.state is VehicleState.UNKNOWN
    assert unknown.values.values == {
        "vehicle_state_df": 0,
        "vehicle_state_pf": 0,
        "vehicle_state_dr": 0,
        "vehicle_state_pr": 0,
        "vehicle_state_ft": 0,
        "vehicle_state_rt": 0,
        "charge_state_charge_port_door_open": False,
        "vehicle_state_locked": False,
    }


def test_charge_state() -> None:
    """ChargeState fields under the cloud's names, enumerations as its strings."""
    charge = car.ChargeState(
        battery_level=81,
        usable_battery_level=80,
        battery_range=250.5,
        charge_limit_soc=90,
        charger_power=11,
        charge_port_door_open=True,
        scheduled_charging_start_time_app=120,
        charge_current_request=16,
        charge_rate_mph=30,
    )
    charge.charging_state.Charging.SetInParent()
    charge.conn_charge_cable.IEC.SetInParent()
    charge.charge_port_latch.Engaged.SetInParent()
    values = charge_values(charge)
    assert values == {
        "charge_state_battery_level": 81,
        "charge_state_usable_battery_level": 80,
        "charge_state_battery_range": pytest.approx(250.5),
        "charge_state_charge_limit_soc": 90,
        "charge_state_charger_power": 11,
        "charge_state_charge_port_door_open": True,
        "charge_state_scheduled_charging_start_time_app": 120,
        "charge_state_charge_current_request": 16,
        "charge_state_charge_rate": 30,
        "charge_state_charging_state": "Charging",
        "charge_state_conn_charge_cable": "IEC",
        "charge_state_charge_port_latch": "Engaged",
    }
    precise = car.ChargeState(charge_rate_mph=30, charge_rate_mph_float=30.5)
    precise.conn_charge_cable.SNA.SetInParent()  # no cable: left out
    precise.charging_state.Disconnected.SetInParent()
    assert charge_values(precise) == {
        "charge_state_charge_rate": pytest.approx(30.5),
        "charge_state_charging_state": "Disconnected",
    }
    assert charge_values(car.ChargeState()) == {}


def test_climate_state() -> None:
    """Temperatures in °C under the cloud's names; keeper and defrost as the cloud's."""
    climate = car.ClimateState(
        inside_temp_celsius=21.349,
        outside_temp_celsius=-3.0,
        driver_temp_setting=21.5,
        passenger_temp_setting=22.0,
        min_avail_temp_celsius=15.0,
        max_avail_temp_celsius=28.0,
        is_climate_on=True,
        is_front_defroster_on=False,
        seat_heater_left=3,
        seat_fan_front_right=1,
        steering_wheel_heater=True,
        is_preconditioning=True,
        battery_heater=False,
    )
    climate.climate_keeper_mode.Dog.SetInParent()
    climate.defrost_mode.Max.SetInParent()
    assert climate_values(climate) == {
        "climate_state_inside_temp": 21.3,
        "climate_state_outside_temp": -3.0,
        "climate_state_driver_temp_setting": 21.5,
        "climate_state_passenger_temp_setting": 22.0,
        "climate_state_min_avail_temp": 15.0,
        "climate_state_max_avail_temp": 28.0,
        "climate_state_is_climate_on": True,
        "climate_state_is_front_defroster_on": False,
        "climate_state_seat_heater_left": 3,
        "climate_state_seat_fan_front_right": 1,
        "climate_state_steering_wheel_heater": True,
        "climate_state_is_preconditioning": True,
        "climate_state_battery_heater": False,
        "climate_state_climate_keeper_mode": "dog",
        "climate_state_defrost_mode": 2,
    }


@pytest.mark.parametrize(
    ("member", "cloud"),
    [("Off", "off"), ("On", "keep"), ("Dog", "dog"), ("Party", "camp")],
)
def test_keeper_modes(member: str, cloud: str) -> None:
    """The climate entity's presets read the cloud's names."""
    climate = car.ClimateState()
    getattr(climate.climate_keeper_mode, member).SetInParent()
    assert climate_values(climate) == {"climate_state_climate_keeper_mode": cloud}


def test_unknown_keeper_mode_left_out() -> None:
    """``Unknown`` is no mode: the key stays out."""
    climate = car.ClimateState()
    climate.climate_keeper_mode.Unknown.SetInParent()
    climate.defrost_mode.Off.SetInParent()
    assert climate_values(climate) == {"climate_state_defrost_mode": 0}


def test_closures_state() -> None:
    """Doors, trunks and windows as 0/1; the sun roof, sentry and valet as the cloud's."""
    closures = car.ClosuresState(
        door_open_driver_front=True,
        door_open_passenger_rear=False,
        door_open_trunk_rear=True,
        window_open_driver_front=False,
        window_open_passenger_rear=True,
        locked=False,
        is_user_present=True,
        valet_mode=False,
        sun_roof_percent_open=15,
    )
    closures.sun_roof_state.Vent.SetInParent()
    closures.sentry_mode_state.Armed.SetInParent()
    assert closures_values(closures) == {
        "vehicle_state_df": 1,
        "vehicle_state_pr": 0,
        "vehicle_state_rt": 1,
        "vehicle_state_fd_window": 0,
        "vehicle_state_rp_window": 1,
        "vehicle_state_locked": False,
        "vehicle_state_is_user_present": True,
        "vehicle_state_valet_mode": False,
        "vehicle_state_sun_roof_percent_open": 15,
        "vehicle_state_sun_roof_state": "vent",
        "vehicle_state_sentry_mode": True,
    }
    quiet = car.ClosuresState()
    quiet.sun_roof_state.Unknown.SetInParent()
    quiet.sentry_mode_state.Off.SetInParent()
    assert closures_values(quiet) == {"vehicle_state_sentry_mode": False}


def test_vehicle_data_joins_its_states() -> None:
    """A ``VehicleData`` answer: each state it carries; none, nothing."""
    data = car.VehicleData(
        charge_state=car.ChargeState(battery_level=50),
        climate_state=car.ClimateState(is_climate_on=False),
        closures_state=car.ClosuresState(locked=True),
    )
    assert vehicle_data_values(data) == {
        "charge_state_battery_level": 50,
        "climate_state_is_climate_on": False,
        "vehicle_state_locked": True,
    }
    assert vehicle_data_values(car.VehicleData()) == {}


def _caused(error: TeslaFleetError, cause: BaseException) -> TeslaFleetError:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "stage", "expected"),
    [
        (BluetoothTransportError(), Stage.COMMAND, BluetoothUnavailable),
        (
            _caused(BluetoothTransportError(), BleakOutOfConnectionSlotsError("x")),
            Stage.READ,
            BluetoothSlotsFull,
        ),
        (
            _caused(
                BluetoothTransportError(),
                BleakError("No backend with an available connection slot"),
            ),
            Stage.PAIR,
            BluetoothSlotsFull,
        ),
        (BluetoothUnconfirmedCommand(), Stage.COMMAND, CommandOutcomeUnknown),
        (LibraryTimeout(), Stage.COMMAND, BluetoothUnavailable),
        (LibraryTimeout(), Stage.READ, BluetoothTimeout),
        (LibraryTimeout(), Stage.PAIR, PairingTimedOut),
        (BluetoothCommandFailed(), Stage.COMMAND, CommandFailed),
        (NotOnWhitelistFault(), Stage.READ, KeyNotPaired),
        (TeslaFleetMessageFaultIncorrectEpoch(), Stage.COMMAND, StaleSession),
        (SignedCommandResponseReplayed(), Stage.COMMAND, CommandOutcomeUnknown),
        (TeslaFleetMessageFaultRemoteAccessDisabled(), Stage.COMMAND, CommandFailed),
        (
            WhitelistOperationLocalEntityAuthFailedTimedOutWaitingForTap(),
            Stage.PAIR,
            PairingTimedOut,
        ),
        (
            WhitelistOperationLocalEntityAuthFailedUIDenied(),
            Stage.PAIR,
            PairingDeclined,
        ),
        (WhitelistOperationWhitelistFull(), Stage.PAIR, PairingFailed),
    ],
)
def test_library_errors(
    error: TeslaFleetError, stage: Stage, expected: type[TeslaError]
) -> None:
    """Each library error, by what was asked, becomes exactly one api error."""
    result = mapped(error, stage)
    assert type(result) is expected
    with pytest.raises(expected), library_errors(stage):
        raise error


def test_whitelist_reasons() -> None:
    """A refused whitelist add names its reason; a key already there is success."""
    failed = mapped(WhitelistOperationWhitelistFull(), Stage.PAIR)
    assert isinstance(failed, PairingFailed)
    assert failed.reason == "whitelist_full"
    with library_errors(Stage.PAIR):
        raise WhitelistOperationAttemptingToAddExistingKey
    with pytest.raises(CommandFailed), library_errors(Stage.COMMAND):
        raise WhitelistOperationAttemptingToAddExistingKey


@pytest.mark.parametrize("error", [InvalidTag(), DecodeError("bad")])
def test_unreadable_answers(error: Exception) -> None:
    """An answer that does not decrypt or parse: a command's outcome is unknown."""
    with pytest.raises(CommandOutcomeUnknown), library_errors(Stage.COMMAND):
        raise error
    with pytest.raises(BluetoothTimeout), library_errors(Stage.READ):
        raise error


def test_other_errors_pass() -> None:
    """Errors that are not the library's are not touched."""
    with pytest.raises(ValueError, match="x"), library_errors():
        raise ValueError("x")


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            {"response": {"result": False, "reason": "GENERICERROR_CLOSURES_OPEN"}},
            "closures_open",
        ),
        ({"response": {"result": False, "reason": "Too many retries"}}, "busy"),
        ({"response": {"result": False}}, "unknown"),
        ({"response": "text"}, "unknown"),
        (None, "unknown"),
    ],
)
def test_refused_results(reply: object, reason: str) -> None:
    """A reply that does not say done raises CommandFailed with Tesla's reason."""
    with pytest.raises(CommandFailed) as err:
        raise_for_result(reply)
    assert err.value.reason == reason
    raise_for_result({"response": {"result": True, "reason": ""}})


def test_answer_of_a_read() -> None:
    """A read's answer: the message asked for; a refusal fails; anything else timed out."""
    status = vcsec.VehicleStatus()
    assert answer_of(status, vcsec.VehicleStatus) is status
    with pytest.raises(CommandFailed) as err:
        answer_of({"result": False, "reason": "GENERICERROR_BUSY"}, vcsec.VehicleStatus)
    assert err.value.reason == "busy"
    with pytest.raises(BluetoothTimeout):
        answer_of({"result": True, "reason": ""}, car.VehicleData)
    with pytest.raises(BluetoothTimeout):
        answer_of(car.ChargeState(), car.VehicleData)
