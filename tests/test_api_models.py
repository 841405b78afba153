"""Tests of the tolerant payload models of the Tesla cloud client."""

import math
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.tesla_resilient.api import (
    ALL_ENDPOINTS,
    Account,
    MalformedResponse,
    MfaFactor,
    Region,
    Tokens,
    VehicleData,
    VehicleState,
    VehicleSummary,
    key_endpoints,
)

# The autouse Home Assistant fixtures are function scoped; they do not affect these
# pure functions, so Hypothesis may reuse them across examples.
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.just("<invalid>")
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)

# Field names the accessors read, so the fuzzer hits them with every type.
FIELDS = (
    "battery_level",
    "charging_state",
    "is_climate_on",
    "is_user_present",
    "locked",
    "latitude",
    "longitude",
    "gps_as_of",
    "shift_state",
    "speed",
    "timestamp",
    "car_version",
    "car_type",
)
SECTIONS = (*ALL_ENDPOINTS, "state", "in_service", "id_s", "vin", "tokens")
SECTION_VALUES = JSON_VALUES | st.dictionaries(
    st.sampled_from(FIELDS), JSON_SCALARS | JSON_VALUES, max_size=8
)
VEHICLE_PAYLOADS = (
    st.dictionaries(st.sampled_from(SECTIONS), SECTION_VALUES) | JSON_VALUES
)


REAL_PAYLOAD: dict[str, Any] = {
    "id": 1492931337156000,
    "vehicle_id": 1234,
    "vin": "5YJ3E7EB0KF000000",
    "id_s": "1492931337156000",
    "state": "online",
    "in_service": False,
    "tokens": ["secret-1", "secret-2"],
    "backseat_token": None,
    "charge_state": {
        "battery_level": 77,
        "charge_energy_added": 0,
        "charge_port_color": "<invalid>",
        "charger_phases": None,
        "charging_state": "Charging",
        "timestamp": 1705707520649,
    },
    "climate_state": {
        "is_climate_on": True,
        "inside_temp": 29.8,
        "timestamp": 1705707520000,
    },
    "drive_state": {
        "gps_as_of": 1701129612,
        "heading": 185,
        "latitude": 52.5,
        "longitude": 13.4,
        "shift_state": None,
        "speed": None,
        "timestamp": 1705707520649,
    },
    "vehicle_config": {"car_type": "model3", "rear_seat_heaters": 1},
    "vehicle_state": {
        "car_version": "2023.44.30.8 06f534d46010",
        "df": 0,
        "is_user_present": False,
        "locked": True,
        "media_state": {"remote_control_enabled": True},
        "software_update": {"status": "available", "version": "2024.12.0.0"},
        "timestamp": 1705707521649,
    },
}


def test_vehicle_data_flattens_a_real_payload() -> None:
    """Nested keys are joined with "_", sentinels become None, secrets are dropped."""
    data = VehicleData.from_api(REAL_PAYLOAD)
    assert data.get("charge_state_battery_level") == 77
    assert data.get("vehicle_state_software_update_status") == "available"
    assert data.get("vehicle_state_media_state_remote_control_enabled") is True
    assert "charge_state_charge_port_color" in data.values
    assert data.get("charge_state_charge_port_color") is None
    assert "tokens" not in data.values
    assert "backseat_token" not in data.values
    assert data.state is VehicleState.ONLINE
    assert data.charging_state == "Charging"
    assert data.is_charging is True
    assert data.is_climate_on is True
    assert data.is_user_present is False
    assert data.locked is True
    assert data.latitude == 52.5
    assert data.longitude == 13.4
    assert data.shift_state is None
    assert data.speed is None
    assert data.is_driving is False
    assert data.software_version == "2023.44.30.8"
    assert data.model == "model3"


def test_vehicle_data_getters_are_typed() -> None:
    """Getters convert only what fits and answer None for the wrong type."""
    data = VehicleData.from_api(
        {
            "a": 3,
            "b": 2.5,
            "c": True,
            "d": "text",
            "e": 4.0,
            "f": float("inf"),
            "g": "",
            "h": [1, 2],
        }
    )
    assert data.get_float("a") == 3.0
    assert isinstance(data.get_float("a"), float)
    assert data.get_float("c") is None
    assert data.get_float("d") is None
    assert data.get_float("f") is None
    assert data.get_float("missing") is None
    assert VehicleData.from_api({"huge": 10**400}).get_float("huge") is None
    assert data.get_int("a") == 3
    assert data.get_int("e") == 4
    assert data.get_int("b") is None
    assert data.get_int("c") is None
    assert data.get_int("d") is None
    assert data.get_bool("c") is True
    assert data.get_bool("a") is None
    assert data.get_str("d") == "text"
    assert data.get_str("g") is None
    assert data.get_str("a") is None
    assert data.get("h") == [1, 2]


@pytest.mark.parametrize(
    ("drive_state", "shift", "driving"),
    [
        ({"shift_state": "D", "speed": 30}, "D", True),
        ({"shift_state": "R", "speed": None}, "R", True),
        ({"shift_state": "N"}, "N", True),
        ({"shift_state": "P", "speed": 0}, "P", False),
        ({"shift_state": None, "speed": 5}, None, True),
        ({"shift_state": "X", "speed": 0.0}, None, False),
        ({"shift_state": ["D"]}, None, False),
        ({}, None, False),
    ],
)
def test_vehicle_data_driving(
    drive_state: dict[str, Any], shift: str | None, driving: bool
) -> None:
    """Driving means in gear (D/R/N) or moving."""
    data = VehicleData.from_api({"drive_state": drive_state})
    assert data.shift_state == shift
    assert data.is_driving is driving


def test_vehicle_data_accessors_when_empty() -> None:
    """Missing values give None or False, and an unknown state is UNKNOWN."""
    data = VehicleData.from_api(
        {"state": "parked", "vehicle_state": {"car_version": "  "}}
    )
    assert data.state is VehicleState.UNKNOWN
    assert data.software_version is None
    assert data.locked is None
    assert data.is_charging is False
    assert data.is_climate_on is False
    assert data.model is None


def test_merged_onto_keeps_older_values_for_absent_keys() -> None:
    """A partial selection updates what it carries and keeps everything else."""
    older = VehicleData.from_api(REAL_PAYLOAD)
    newer = VehicleData.from_api(
        {"state": "asleep", "charge_state": {"battery_level": 78}}
    )
    merged = newer.merged_onto(older)
    assert merged.state is VehicleState.ASLEEP
    assert merged.get("charge_state_battery_level") == 78
    assert merged.latitude == 52.5
    assert merged.is_climate_on is True
    assert merged.software_version == "2023.44.30.8"
    assert merged.get("vin") == "5YJ3E7EB0KF000000"
    assert older.get("charge_state_battery_level") == 77


def test_merged_onto_replaces_a_fetched_section() -> None:
    """Keys the car stopped sending in a fetched section are gone (a route ended)."""
    older = VehicleData.from_api(
        {
            "state": "online",
            "drive_state": {
                **REAL_PAYLOAD["drive_state"],
                "active_route_destination": "Work",
                "active_route_latitude": 37.4,
                "active_route_longitude": -122.1,
                "active_route_miles_to_arrival": 3.2,
            },
            "charge_state": REAL_PAYLOAD["charge_state"],
        }
    )
    newer = VehicleData.from_api(
        {
            "state": "online",
            "drive_state": {
                "speed": 40,
                "shift_state": "D",
                "latitude": 52.6,
                "longitude": None,
            },
        }
    )
    merged = newer.merged_onto(older)
    assert merged.speed == 40.0
    assert merged.is_driving is True
    assert merged.latitude == 52.6
    assert "drive_state_longitude" in merged.values
    assert merged.longitude is None
    for gone in (
        "drive_state_active_route_destination",
        "drive_state_active_route_latitude",
        "drive_state_active_route_longitude",
        "drive_state_active_route_miles_to_arrival",
        "drive_state_heading",
        "drive_state_gps_as_of",
        "drive_state_timestamp",
    ):
        assert gone not in merged.values
    assert merged.get("charge_state_battery_level") == 77
    assert merged.sections == {"state", "drive_state", "charge_state"}
    assert older.get("drive_state_active_route_destination") == "Work"


def test_merged_onto_keeps_the_location_when_none_was_fetched() -> None:
    """Without location_data the car leaves coordinates out: they stay known."""
    older = VehicleData.from_api(
        {
            "drive_state": {
                **REAL_PAYLOAD["drive_state"],
                "native_latitude": 52.5,
                "native_longitude": 13.4,
                "native_location_supported": 1,
                "native_type": "wgs",
                "active_route_destination": "Work",
                "active_route_latitude": 37.4,
                "active_route_longitude": -122.1,
            }
        }
    )
    newer = VehicleData.from_api({"drive_state": {"speed": None, "power": 2}})
    merged = newer.merged_onto(older)
    assert merged.get_int("drive_state_power") == 2
    assert "drive_state_shift_state" not in merged.values
    assert "drive_state_active_route_destination" not in merged.values
    for kept in (
        "latitude",
        "longitude",
        "native_latitude",
        "native_longitude",
        "native_location_supported",
        "native_type",
        "heading",
        "gps_as_of",
        "active_route_latitude",
        "active_route_longitude",
    ):
        key = f"drive_state_{kept}"
        assert merged.get(key) == older.get(key)
        assert key in merged.values


def test_merged_onto_edge_sections() -> None:
    """Scalars replace only themselves; a null section keeps the older mapping."""
    older = VehicleData.from_api(
        {"id": 1, "id_s": "1", "drive_state": {"power": 3}, "gui_settings": None}
    )
    newer = VehicleData.from_api(
        {"id": 2, "drive_state": None, "gui_settings": {"gui_24_hour_time": True}}
    )
    merged = newer.merged_onto(older)
    assert merged.values == {
        "id": 2,
        "id_s": "1",
        "drive_state": None,
        "drive_state_power": 3,
        "gui_settings_gui_24_hour_time": True,
    }


def test_hand_built_values_only_overlay() -> None:
    """Values built by hand (optimistic updates, restored snapshots) carry no section."""
    older = VehicleData.from_api(REAL_PAYLOAD)
    update = VehicleData({"charge_state_battery_level": 80})
    assert update.sections == frozenset()
    merged = update.merged_onto(older)
    assert merged.get("charge_state_battery_level") == 80
    assert merged.get("charge_state_charging_state") == "Charging"
    assert merged == VehicleData({**older.values, "charge_state_battery_level": 80})
    restored = VehicleData(dict(merged.values))
    assert restored == merged
    assert VehicleData.from_api(REAL_PAYLOAD).merged_onto(restored) == older


def test_vehicle_data_requires_a_mapping() -> None:
    """Anything but a JSON object is a malformed response."""
    payloads: list[Any] = [None, [], "x", 3]
    for payload in payloads:
        with pytest.raises(MalformedResponse):
            VehicleData.from_api(payload)


def test_vehicle_summary() -> None:
    """id_s is preferred, the numeric id is a fallback, unknown states are UNKNOWN."""
    summary = VehicleSummary.from_api(
        {
            "id": 99,
            "id_s": "1492931337156000",
            "vin": "5YJ3E7EB0KF000000",
            "display_name": "Red",
            "state": "asleep",
            "in_service": True,
        }
    )
    assert summary.id == "1492931337156000"
    assert summary.vin == "5YJ3E7EB0KF000000"
    assert summary.display_name == "Red"
    assert summary.state is VehicleState.ASLEEP
    assert summary.in_service is True
    assert "5YJ3E7EB0KF000000" not in repr(summary)
    fallback = VehicleSummary.from_api(
        {"id": 42, "state": "waking", "display_name": None}
    )
    assert fallback.id == "42"
    assert fallback.vin == ""
    assert fallback.display_name is None
    assert fallback.state is VehicleState.UNKNOWN
    assert fallback.in_service is False


def test_vehicle_list() -> None:
    """Items without an id are skipped; anything but a list is malformed."""
    vehicles = VehicleSummary.list_from_api(
        [{"id_s": "1", "state": "online"}, {"vin": "no id"}, "junk", {"id": 2}]
    )
    assert [v.id for v in vehicles] == ["1", "2"]
    assert VehicleSummary.list_from_api([]) == []
    payloads: list[Any] = [None, {}, "[]"]
    for payload in payloads:
        with pytest.raises(MalformedResponse):
            VehicleSummary.list_from_api(payload)


@pytest.mark.parametrize(
    "item", [None, [], {"id": True}, {"id": "7"}, {"vin": "X"}, {"id_s": ""}]
)
def test_vehicle_summary_without_id(item: Any) -> None:
    """A vehicle without a usable id is malformed."""
    with pytest.raises(MalformedResponse):
        VehicleSummary.from_api(item)


def test_mfa_factor_and_region() -> None:
    """Factors need an id; regions need both fields."""
    factor = MfaFactor.from_api(
        {"id": "f1", "name": "Phone", "factorType": "token:software"}
    )
    assert factor == MfaFactor("f1", "Phone", "token:software")
    assert MfaFactor.from_api({"id": "f2"}) == MfaFactor("f2", "f2", "token:software")
    assert MfaFactor.from_api({"name": "no id"}) is None
    assert MfaFactor.from_api("f3") is None
    region = Region.from_api(
        {"region": "eu", "fleet_api_base_url": "https://eu.example/"}
    )
    assert region == Region("eu", "https://eu.example")
    for bad in (None, {"region": "eu"}, {"fleet_api_base_url": "https://x"}):
        with pytest.raises(MalformedResponse):
            Region.from_api(bad)


def test_account() -> None:
    """The account summary keeps the email and name it finds, and hides them."""
    account = Account.from_api(
        {
            "email": " owner@example.com ",
            "full_name": "Ada Owner",
            "profile_image_url": None,
            "vault_uuid": "b6a0",
        }
    )
    assert account == Account("owner@example.com", "Ada Owner")
    assert "owner@example.com" not in repr(account)
    assert "Ada" not in repr(account)
    assert Account.from_api({}) == Account(None, None)
    assert Account.from_api({"email": "  ", "full_name": 7}) == Account(None, None)
    for bad in (None, [], "owner@example.com"):
        with pytest.raises(MalformedResponse):
            Account.from_api(bad)


@PROPERTY
@given(
    payload=JSON_VALUES
    | st.dictionaries(st.sampled_from(("email", "full_name", "x")), JSON_VALUES)
)
def test_account_never_raises_anything_else(payload: Any) -> None:
    """Arbitrary JSON is an account with optional text fields, or MalformedResponse."""
    try:
        account = Account.from_api(payload)
    except MalformedResponse:
        assert not isinstance(payload, dict)
        return
    assert account.email is None or (
        isinstance(account.email, str) and account.email == account.email.strip()
    )
    assert account.email is None or account.email == payload["email"].strip()
    assert account.full_name is None or account.full_name == payload["full_name"]


def _check_accessors(data: VehicleData) -> None:
    """Every accessor returns its declared type."""
    assert isinstance(data.state, VehicleState)
    assert data.shift_state in {None, "P", "D", "R", "N"}
    for number in (
        data.speed,
        data.latitude,
        data.longitude,
    ):
        assert number is None or (isinstance(number, float) and math.isfinite(number))
    for text in (data.charging_state, data.software_version, data.model):
        assert text is None or isinstance(text, str)
    for flag in (
        data.is_charging,
        data.is_climate_on,
        data.is_user_present,
        data.is_driving,
    ):
        assert isinstance(flag, bool)
    assert data.locked is None or isinstance(data.locked, bool)
    for key in list(data.values)[:10]:
        assert data.get_float(key) is None or isinstance(data.get_float(key), float)
        assert data.get_int(key) is None or type(data.get_int(key)) is int
        assert data.get_bool(key) is None or isinstance(data.get_bool(key), bool)
        assert data.get_str(key) is None or isinstance(data.get_str(key), str)
        assert data.get(key) != "<invalid>"


@PROPERTY
@given(payload=VEHICLE_PAYLOADS)
def test_vehicle_data_never_raises_anything_else(payload: Any) -> None:
    """Arbitrary JSON either parses or raises MalformedResponse; accessors never raise."""
    try:
        data = VehicleData.from_api(payload)
    except MalformedResponse:
        assert not isinstance(payload, dict)
        return
    _check_accessors(data)
    _check_accessors(data.merged_onto(VehicleData.from_api(REAL_PAYLOAD)))


MERGE_PAYLOADS = st.dictionaries(
    st.sampled_from(SECTIONS),
    SECTION_VALUES
    | st.dictionaries(
        st.sampled_from((*FIELDS, "active_route_latitude", "heading")), JSON_SCALARS
    ),
)


def _section_keys(payload: dict[str, Any], section: str) -> set[str]:
    """The flattened keys one top-level section of ``payload`` gives on its own."""
    return set(VehicleData.from_api({section: payload[section]}).values)


@PROPERTY
@given(older_payload=MERGE_PAYLOADS, newer_payload=MERGE_PAYLOADS)
def test_merged_onto_replaces_exactly_the_fetched_sections(
    older_payload: dict[str, Any], newer_payload: dict[str, Any]
) -> None:
    """Newer values win, fetched sections replace, other sections and location stay."""
    older = VehicleData.from_api(older_payload)
    newer = VehicleData.from_api(newer_payload)
    merged = newer.merged_onto(older)
    for key, value in newer.values.items():
        assert merged.values[key] is value
    assert set(merged.values) <= set(older.values) | set(newer.values)
    carries_location = any(
        f"drive_state_{name}" in newer.values
        for name in ("latitude", "longitude", "gps_as_of", "heading")
    ) or ("drive_state_active_route_latitude" in newer.values)
    for section in older_payload.keys() - {"tokens"}:
        keys = _section_keys(older_payload, section)
        fetched_whole = section in newer_payload and isinstance(
            newer_payload[section], dict
        )
        for key in keys - set(newer.values):
            location = key in {
                "drive_state_latitude",
                "drive_state_longitude",
                "drive_state_gps_as_of",
                "drive_state_heading",
                "drive_state_active_route_latitude",
            }
            if fetched_whole and (carries_location or not location):
                assert key not in merged.values
            else:
                assert merged.values[key] is older.values[key]
    assert newer.merged_onto(newer) == newer
    assert newer.merged_onto(VehicleData({})) == newer


@PROPERTY
@given(
    item=st.dictionaries(
        st.sampled_from(("id", "id_s", "vin", "display_name", "state", "in_service")),
        JSON_VALUES,
    )
    | JSON_VALUES
)
def test_vehicle_summary_never_raises_anything_else(item: Any) -> None:
    """Arbitrary JSON either parses or raises MalformedResponse."""
    try:
        summary = VehicleSummary.from_api(item)
    except MalformedResponse:
        return
    assert summary.id
    assert isinstance(summary.state, VehicleState)
    assert isinstance(summary.in_service, bool)


@PROPERTY
@given(payload=st.lists(JSON_VALUES, max_size=5) | JSON_VALUES)
def test_vehicle_list_never_raises_anything_else(payload: Any) -> None:
    """Arbitrary JSON either parses to summaries or raises MalformedResponse."""
    try:
        vehicles = VehicleSummary.list_from_api(payload)
    except MalformedResponse:
        assert not isinstance(payload, list)
        return
    assert all(isinstance(v, VehicleSummary) and v.id for v in vehicles)


@PROPERTY
@given(
    body=st.dictionaries(
        st.sampled_from(("access_token", "refresh_token", "expires_in", "token_type")),
        JSON_VALUES,
    )
    | JSON_VALUES,
    now=st.floats(min_value=0, max_value=4e9),
)
def test_tokens_never_raise_anything_else(body: Any, now: float) -> None:
    """Arbitrary JSON either parses or raises MalformedResponse; account_id never raises."""
    try:
        tokens = Tokens.from_token_response(body, now)
    except MalformedResponse:
        return
    assert tokens.expires_at >= now
    account = tokens.account_id()
    assert account is None or isinstance(account, str)


@pytest.mark.parametrize(
    ("key", "endpoints"),
    [
        ("charge_state_battery_level", ("charge_state",)),
        ("vehicle_state_tpms_pressure_fl", ("vehicle_state",)),
        ("vehicle_config_car_type", ("vehicle_config",)),
        ("drive_state_latitude", ("drive_state", "location_data")),
        ("drive_state_shift_state", ("drive_state",)),
        ("state", ()),
        ("charge_state", ()),
    ],
)
def test_key_endpoints(key: str, endpoints: tuple[str, ...]) -> None:
    """A flattened key is fetched by its section (and location_data for the location)."""
    assert key_endpoints(key) == endpoints
