"""Protocol actions as REST commands: each car-server action and VCSEC request's mapping."""

from typing import Any

import pytest
from tesla_protocol.command.car_server_pb2 import (
    Action,
    AutoSeatClimateAction,
    ChargingStartStopAction,
    HvacSeatCoolerActions,
    HvacSeatHeaterActions,
    MediaUpdateVolume,
    ScheduledDepartureAction,
    VehicleAction,
    VehicleControlTriggerHomelinkAction,
)
from tesla_protocol.command.common_pb2 import LatLong, PreconditioningTimes, Void
from tesla_protocol.command.vcsec_pb2 import (
    ClosureMoveRequest,
    ClosureMoveType_E,
    RKEAction_E,
    UnsignedMessage,
)

from tesla_sim import World
from tesla_sim.vcp import actions, vcsec
from tesla_sim.vcp.calls import NO_CHANGE, run
from tesla_sim.vehicles import Vehicle


@pytest.fixture
def car() -> Vehicle:
    world = World(virtual_clock=True)
    return world.vehicles[next(iter(world.vehicles))]


def _action(**fields: Any) -> bytes:
    encoded: bytes = Action(vehicleAction=VehicleAction(**fields)).SerializeToString()
    return encoded


SEAT = HvacSeatHeaterActions.HvacSeatHeaterAction
COOLER = HvacSeatCoolerActions.HvacSeatCoolerAction


@pytest.mark.parametrize(
    ("fields", "call"),
    [
        (
            {"chargingStartStopAction": ChargingStartStopAction(start_standard=Void())},
            ("charge_standard", {}),
        ),
        ({"chargingStartStopAction": ChargingStartStopAction(unknown=Void())}, None),
        ({"chargePortDoorOpen": {}}, ("charge_port_door_open", {})),
        (
            {"scheduledChargingAction": {"enabled": True, "charging_time": 120}},
            ("set_scheduled_charging", {"enable": True, "time": 120}),
        ),
        (
            {
                "scheduledDepartureAction": ScheduledDepartureAction(
                    enabled=True,
                    departure_time=450,
                    preconditioning_times=PreconditioningTimes(all_week=Void()),
                    off_peak_hours_end_time=360,
                )
            },
            (
                "set_scheduled_departure",
                {
                    "enable": True,
                    "departure_time": 450,
                    "preconditioning_enabled": True,
                    "off_peak_charging_enabled": False,
                    "end_off_peak_time": 360,
                },
            ),
        ),
        (
            {"hvacSetPreconditioningMaxAction": {"on": True}},
            ("set_preconditioning_max", {"on": True}),
        ),
        (
            {"hvacClimateKeeperAction": {"ClimateKeeperAction": 2}},
            ("set_climate_keeper_mode", {"climate_keeper_mode": 2}),
        ),
        (
            {"setCabinOverheatProtectionAction": {"on": True, "fan_only": True}},
            ("set_cabin_overheat_protection", {"on": True, "fan_only": True}),
        ),
        (
            {"setCopTempAction": {"copActivationTemp": 3}},
            ("set_cop_temp", {"cop_temp": 2}),
        ),
        (
            {
                "hvacSeatHeaterActions": HvacSeatHeaterActions(
                    hvacSeatHeaterAction=[
                        SEAT(CAR_SEAT_REAR_CENTER=Void(), SEAT_HEATER_LOW=Void())
                    ]
                )
            },
            ("remote_seat_heater_request", {"heater": 4, "level": 1}),
        ),
        ({"hvacSeatHeaterActions": HvacSeatHeaterActions()}, None),
        (
            {
                "hvacSeatHeaterActions": HvacSeatHeaterActions(
                    hvacSeatHeaterAction=[SEAT(CAR_SEAT_UNKNOWN=Void())]
                )
            },
            None,
        ),
        (
            {
                "hvacSeatCoolerActions": HvacSeatCoolerActions(
                    hvacSeatCoolerAction=[COOLER(seat_cooler_level=4, seat_position=2)]
                )
            },
            (
                "remote_seat_cooler_request",
                {"seat_position": 2, "seat_cooler_level": 3},
            ),
        ),
        ({"hvacSeatCoolerActions": HvacSeatCoolerActions()}, None),
        (
            {
                "autoSeatClimateAction": AutoSeatClimateAction(
                    carseat=[AutoSeatClimateAction.CarSeat(on=True, seat_position=1)]
                )
            },
            (
                "remote_auto_seat_climate_request",
                {"auto_seat_position": 1, "auto_climate_on": True},
            ),
        ),
        ({"autoSeatClimateAction": AutoSeatClimateAction()}, None),
        (
            {"autoStwHeatAction": {"on": True}},
            ("remote_auto_steering_wheel_heat_climate_request", {"on": True}),
        ),
        (
            {"stwHeatLevelAction": {"stw_heat_level": 0}},
            ("remote_steering_wheel_heat_level_request", {"level": -1}),
        ),
        (
            {"vehicleControlSetValetModeAction": {"on": False}},
            ("set_valet_mode", {"on": False}),
        ),
        (
            {
                "vehicleControlTriggerHomelinkAction": VehicleControlTriggerHomelinkAction(
                    location=LatLong(latitude=1.5, longitude=2.5)
                )
            },
            ("trigger_homelink", {"lat": 1.5, "lon": 2.5}),
        ),
        (
            {"vehicleControlTriggerHomelinkAction": {}},
            ("trigger_homelink", {}),
        ),
        ({"remoteStartDrive": {}}, ("remote_start_drive", {})),
        (
            {"vehicleControlCancelSoftwareUpdateAction": {}},
            ("cancel_software_update", {}),
        ),
        (
            {"navigationGpsRequest": {"lat": 1.0, "lon": 2.0}},
            ("navigation_gps_request", {"lat": 1.0, "lon": 2.0}),
        ),
        ({"mediaNextTrack": {}}, ("media_next_track", {})),
        ({"mediaPreviousTrack": {}}, ("media_prev_track", {})),
        (
            {"mediaUpdateVolume": MediaUpdateVolume(volume_absolute_float=4.5)},
            ("adjust_volume", {"volume": 4.5}),
        ),
        (
            {"mediaUpdateVolume": MediaUpdateVolume(volume_delta=-9)},
            ("adjust_volume", {"volume": 0.0}),
        ),
        ({"ping": {"ping_id": 1}}, None),
    ],
)
def test_action_calls(
    car: Vehicle, fields: dict[str, Any], call: tuple[str, dict[str, Any]] | None
) -> None:
    """Each action's REST command and parameters (None: not carried out)."""
    assert actions.to_call(_action(**fields), car) == call


def test_action_without_vehicle_action(car: Vehicle) -> None:
    assert actions.to_call(b"", car) is None


def _closure(**fields: int) -> bytes:
    encoded: bytes = UnsignedMessage(
        closureMoveRequest=ClosureMoveRequest(**fields)  # type: ignore[arg-type]
    ).SerializeToString()
    return encoded


MOVE = ClosureMoveType_E.CLOSURE_MOVE_TYPE_MOVE
OPEN = ClosureMoveType_E.CLOSURE_MOVE_TYPE_OPEN
CLOSE = ClosureMoveType_E.CLOSURE_MOVE_TYPE_CLOSE
STOP = ClosureMoveType_E.CLOSURE_MOVE_TYPE_STOP


def test_vcsec_calls(car: Vehicle) -> None:
    """RKE actions and closure moves; a move to where a closure already is: no change."""
    trunk = ("actuate_trunk", {"which_trunk": "rear"})
    rke = UnsignedMessage(RKEAction=RKEAction_E.RKE_ACTION_OPEN_TRUNK)
    assert vcsec.to_call(rke.SerializeToString(), car) == trunk
    wake = UnsignedMessage(RKEAction=RKEAction_E.RKE_ACTION_WAKE_VEHICLE)
    assert vcsec.to_call(wake.SerializeToString(), car) == NO_CHANGE
    assert vcsec.to_call(_closure(rearTrunk=CLOSE), car) == NO_CHANGE
    assert vcsec.to_call(_closure(rearTrunk=OPEN), car) == trunk
    assert vcsec.to_call(_closure(rearTrunk=STOP), car) is None
    assert vcsec.to_call(_closure(chargePort=MOVE), car) == (
        "charge_port_door_open",
        {},
    )
    assert vcsec.to_call(_closure(frontTrunk=OPEN), car)
    assert vcsec.to_call(_closure(), car) is None
    info = UnsignedMessage(InformationRequest={})
    assert vcsec.to_call(info.SerializeToString(), car) is None
    car.doors["rt"] = 1
    car.charge_port_door_open = True
    assert vcsec.to_call(_closure(rearTrunk=OPEN), car) == NO_CHANGE
    assert vcsec.to_call(_closure(chargePort=OPEN), car) == (  # releases the latch
        "charge_port_door_open",
        {},
    )
    assert vcsec.to_call(_closure(rearTrunk=CLOSE), car) == trunk


def test_run(car: Vehicle) -> None:
    """No change is a success; a parameter REST refuses with 400 is a failed action."""
    assert run(car, NO_CHANGE, 0.0) == (True, "")
    assert run(car, ("adjust_volume", {"volume": 99}), 0.0) == (
        False,
        "volume must be 0-11",
    )
