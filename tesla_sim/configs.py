"""What a virtual car is: its model, battery, optional hardware and ``vehicle_config``."""

from dataclasses import dataclass, replace
from typing import Any

# remote_seat_heater_request "heater" index -> climate_state field suffix
SEAT_HEATERS = {
    0: "left",
    1: "right",
    2: "rear_left",
    4: "rear_center",
    5: "rear_right",
    6: "third_row_left",
    7: "third_row_right",
}
FRONT_SEATS = (0, 1)
REAR_SEATS = (2, 4, 5)
THIRD_ROW_SEATS = (6, 7)

OPTIONS = (
    "sunroof",
    "rear_seat_heaters",
    "third_row_seats",
    "seat_cooling",
    "homelink",
    "powered_liftgate",
    "air_suspension",
)
"""The optional hardware, in the order ``GET /__sim__/state`` lists it."""

SIGNING_MODES = ("required", "allowed", "off")
"""``command_signing`` of a vehicle item: whether the car takes plain REST commands.

``required``: only signed commands (every car since 2021); ``allowed``: both;
``off``: REST only (Model S/X built before 2021).
"""


@dataclass(frozen=True, slots=True)
class VehicleConfig:
    """What a car is and which optional hardware it has."""

    model: str
    car_type: str
    trim_badging: str
    vin_prefix: str
    battery_kwh: float
    full_range_mi: float
    wh_per_mi: float
    max_amps: int
    sunroof: bool = False
    rear_seat_heaters: bool = False
    third_row_seats: bool = False
    seat_cooling: bool = False
    homelink: bool = False
    powered_liftgate: bool = False
    air_suspension: bool = False
    command_signing: str = "required"

    def as_dict(self) -> dict[str, Any]:
        """JSON view (``GET /__sim__/state``)."""
        return {
            "model": self.model,
            "car_type": self.car_type,
            "battery_kwh": self.battery_kwh,
            "command_signing": self.command_signing,
        } | {option: getattr(self, option) for option in OPTIONS}

    def heated_seats(self) -> tuple[int, ...]:
        """Heated seats fitted."""
        seats: tuple[int, ...] = FRONT_SEATS
        if self.rear_seat_heaters:
            seats += REAR_SEATS
        if self.third_row_seats:
            seats += THIRD_ROW_SEATS
        return seats


BASE_CONFIGS: dict[str, VehicleConfig] = {
    config.model: config
    for config in (
        # model, car_type, trim_badging, vin_prefix, battery_kwh, full_range_mi,
        # wh_per_mi, max_amps, options
        VehicleConfig("Model 3", "model3", "74d", "5YJ3E1EB", 75.0, 333.0, 240.0, 32),
        VehicleConfig("Model S", "models", "100d", "5YJSA1E4", 100.0, 405.0, 300.0, 48),
        VehicleConfig(
            "Model Y",
            "modely",
            "74d",
            "7SAYGDEE",
            75.0,
            310.0,
            270.0,
            32,
            rear_seat_heaters=True,
            powered_liftgate=True,
        ),
        # built before 2021: takes plain REST commands
        VehicleConfig(
            "Model S 2018",
            "models2",
            "100d",
            "5YJSA1E2",
            100.0,
            335.0,
            320.0,
            48,
            sunroof=True,
            command_signing="off",
        ),
    )
}


def make_config(model: str, *, all_options: bool = False) -> VehicleConfig:
    """The base configuration of ``model``, optionally with every option fitted."""
    base = BASE_CONFIGS[model]
    if not all_options:
        return base
    every_option: dict[str, Any] = dict.fromkeys(OPTIONS, True)
    return replace(base, **every_option)


def vehicle_config(c: VehicleConfig, ts: int) -> dict[str, Any]:
    """The ``vehicle_config`` payload: the optional hardware shows here."""
    return {
        "aux_park_lamps": "NaPremium",
        "badge_version": 1,
        "can_accept_navigation_requests": True,
        "can_actuate_trunks": True,
        "car_special_type": "base",
        "car_type": c.car_type,
        "charge_port_type": "US",
        "cop_user_set_temp_supported": True,
        "dashcam_clip_save_supported": True,
        "default_charge_to_max": False,
        "driver_assist": "TeslaAP3",
        "ece_restrictions": False,
        "efficiency_package": "Default",
        "eu_vehicle": False,
        "exterior_color": "DeepBlue",
        "exterior_trim": "Black",
        "exterior_trim_override": "",
        "has_air_suspension": c.air_suspension,
        "has_ludicrous_mode": False,
        "has_seat_cooling": c.seat_cooling,
        "headlamp_type": "Global",
        "interior_trim_type": "Black2",
        "key_version": 2,
        "motorized_charge_port": True,
        "paint_color_override": "0,9,25,0.7,0.04",
        "performance_package": "Base",
        "plg": c.powered_liftgate,
        "pws": True,
        "rear_drive_unit": "PM216MOSFET",
        "rear_seat_heaters": 1 if c.rear_seat_heaters else 0,
        "rear_seat_type": 0,
        "rhd": False,
        "roof_color": "RoofColorGlass",
        "seat_type": None,
        "spoiler_type": "None",
        "sun_roof_installed": c.sunroof,
        "supports_qr_pairing": False,
        "third_row_seats": "FuturisFoldFlat" if c.third_row_seats else "None",
        "timestamp": ts,
        "trim_badging": c.trim_badging,
        "use_range_badging": True,
        "utc_offset": -28800,
        "webcam_selfie_supported": True,
        "webcam_supported": True,
        "wheel_type": "Pinwheel18CapKit",
    }
