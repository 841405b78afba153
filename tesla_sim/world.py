"""The simulator's in-memory world: accounts, vehicles, meter, faults, clock and sign-in state.

Everything random is drawn from one ``random.Random(seed)``, so a seed always yields the same
account ids, VINs, vehicle ids, TOTP secrets and (given the same requests) tokens.
"""

from dataclasses import dataclass, field
import random
from typing import Any
import uuid

from cryptography.hazmat.primitives.asymmetric import ec

from .apps import DEV_CLIENT_ID, App, Partners, dev_app
from .ble.radio import Radios
from .ble.world import BleWorld
from .clock import Clock, RealClock, VirtualClock
from .configs import VehicleConfig, make_config
from .faults import Faults
from .meter import Meter
from .ratelimit import RateLimits
from .sso import Sso
from .tokens import TokenStore, fleet_auth_token_url
from .vcp import DOMAINS, CarKeys, KeyRing
from .vehicles import Vehicle

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
HOME = (37.4925, -121.9447)
REGIONS = ("na", "eu", "cn")
MAX_FAILED_LOGINS = 5
DEFAULT_SLEEP_AFTER = 900.0
DEFAULT_ACCESS_LIFETIME = 8 * 3600.0
DEFAULT_WAKE_SECONDS = 7.0


@dataclass(slots=True)
class MfaFactor:
    """A registered authenticator (TOTP)."""

    id: str
    name: str
    secret: str
    created_at: str

    def as_dict(self) -> dict[str, Any]:
        """Control-API view (includes the secret, by design)."""
        return {"factor_id": self.id, "name": self.name, "secret": self.secret}


@dataclass(slots=True)
class Account:
    """A Tesla account."""

    id: str  # UUID, the JWT "sub"
    user_id: int
    email: str
    password: str
    full_name: str
    mfa: list[MfaFactor] = field(default_factory=list)
    captcha: bool = False
    locked: bool = False
    failed_logins: int = 0
    region: str = "na"
    registered: bool = True  # False -> Fleet API answers 412
    token_generation: int = 0  # bumped by revoke_token: older tokens stop working
    vins: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Control-API view."""
        return {
            "id": self.id,
            "email": self.email,
            "password": self.password,
            "full_name": self.full_name,
            "mfa": [f.as_dict() for f in self.mfa],
            "captcha": self.captcha,
            "locked": self.locked,
            "region": self.region,
            "registered": self.registered,
            "vehicles": list(self.vins),
        }


class World(BleWorld):
    """All simulated state. Inspect and script it directly from tests."""

    def __init__(
        self,
        seed: int = 1,
        *,
        clock: Clock | None = None,
        virtual_clock: bool = False,
        start_time: float | None = None,
        vehicles_per_account: int | None = None,
        sleep_after: float = DEFAULT_SLEEP_AFTER,
        wake_seconds: float = DEFAULT_WAKE_SECONDS,
        access_token_lifetime: float = DEFAULT_ACCESS_LIFETIME,
        base_url: str = "http://127.0.0.1",
        rest_commands: bool = False,
        asleep_reports_offline: bool = False,
        vehicle_data_daily_cap: int | None = None,
        legacy_sign_in: bool = False,
        partner_registered: bool = True,
    ) -> None:
        """Build the default world for ``seed``.

        ``vehicles_per_account`` replaces the no-MFA account's single Model 3 by that many
        Model 3s (scale benchmarks). ``rest_commands``: every car takes plain REST commands
        (``command_signing`` ``allowed`` where its configuration requires signing).
        ``asleep_reports_offline``: sleeping cars report ``offline`` (firmware 2024.20+).
        ``vehicle_data_daily_cap``: ``vehicle_data`` calls per car and UTC day before 429.
        ``legacy_sign_in`` serves the headless sign-in of ``ownerapi`` (Tesla demands a
        captcha instead, the default); ``partner_registered`` False starts the dev app
        unregistered in every region (412 until it registers).
        """
        self.seed = seed
        if clock is None:
            clock = VirtualClock(start_time) if virtual_clock else RealClock()
        self.clock: Clock = clock
        self.vehicles_per_account = vehicles_per_account
        self.sleep_after = sleep_after
        self.wake_seconds = wake_seconds
        self.access_token_lifetime = access_token_lifetime
        self.base_url = base_url.rstrip("/")
        self.rest_commands = rest_commands
        self.asleep_reports_offline = asleep_reports_offline
        self.legacy_sign_in = legacy_sign_in
        self.partner_registered = partner_registered
        self.apps: dict[str, App] = {}
        self.partners = Partners(REGIONS)
        self.meter = Meter()
        self.faults = Faults()
        self.rate_limits = RateLimits(daily_data_cap=vehicle_data_daily_cap)
        self.tokens = TokenStore(self)
        self.sso = Sso(self)
        self.rng = random.Random(seed)
        self.accounts: dict[str, Account] = {}
        self.vehicles: dict[str, Vehicle] = {}
        self.car_keys = KeyRing(seed)
        self.ble = Radios(self)
        self._build()

    # -- construction -------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seeded initial state (same clock; meter and faults cleared)."""
        self.rng = random.Random(self.seed)
        self.accounts.clear()
        self.vehicles.clear()
        self.faults.clear()
        self.rate_limits.clear()
        self.tokens.clear()
        self.sso.clear()
        self.apps.clear()
        self.partners.clear()
        self.car_keys.clear()
        self.ble.clear()
        self._build()

    def now(self) -> float:
        """The simulator time."""
        return self.clock.now()

    def uuid(self) -> str:
        """A deterministic UUID4 string."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def token_hex(self, nbytes: int) -> str:
        """A deterministic hex string."""
        return self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def base32_secret(self, length: int = 32) -> str:
        """A deterministic TOTP secret."""
        return "".join(self.rng.choice(BASE32) for _ in range(length))

    def _vin(self, config: VehicleConfig) -> str:
        tail = "".join(self.rng.choice(VIN_CHARS) for _ in range(3))
        serial = f"{self.rng.randrange(10**6):06d}"
        return f"{config.vin_prefix}{tail[:1]}{tail[1:]}{serial}"[:17].ljust(17, "0")

    def _build(self) -> None:
        now = self.clock.now()
        self.meter.reset(now)
        self.apps[DEV_CLIENT_ID] = dev_app()
        if self.partner_registered:
            self.partners.register_everywhere(DEV_CLIENT_ID, now)
        created = "2024-01-15T10:20:30.000Z"
        plan: list[
            tuple[str, str, str, list[str], bool, list[tuple[str, bool, str]]]
        ] = [
            # email, password, name, mfa factor names, captcha, vehicles (model, all options, name)
            ("nomfa@example.com", "nomfa-Secret1", "Noa Nomfa", [], False, []),
            ("totp@example.com", "totp-Secret1", "Toni Totp", ["Pixel 8"], False, []),
            (
                "multi@example.com",
                "multi-Secret1",
                "Mia Multi",
                ["Pixel 8", "1Password"],
                False,
                [("Model 3", False, "Trinity")],
            ),
            ("captcha@example.com", "captcha-Secret1", "Cai Captcha", [], True, []),
        ]
        count = self.vehicles_per_account
        if count is None:
            plan[0][5].append(("Model 3", False, "Sparky"))
        else:
            plan[0][5].extend(("Model 3", False, f"Car {i + 1}") for i in range(count))
        plan[1][5].extend([("Model S", True, "Stella"), ("Model Y", False, "Yara")])
        for email, password, name, factors, captcha, cars in plan:
            account = Account(
                id=self.uuid(),
                user_id=self.rng.randrange(10**12, 10**13),
                email=email,
                password=password,
                full_name=name,
                captcha=captcha,
            )
            for factor_name in factors:
                account.mfa.append(
                    MfaFactor(
                        id=self.uuid(),
                        name=factor_name,
                        secret=self.base32_secret(),
                        created_at=created,
                    )
                )
            self.accounts[account.id] = account
            for model, all_options, display_name in cars:
                self.add_vehicle(
                    account, make_config(model, all_options=all_options), display_name
                )

    def add_vehicle(
        self, account: Account, config: VehicleConfig, display_name: str
    ) -> Vehicle:
        """Create a car owned by ``account`` (online, parked at home, locked)."""
        now = self.clock.now()
        vin = self._vin(config)
        while vin in self.vehicles:  # pragma: no cover - astronomically unlikely
            vin = self._vin(config)
        lat = HOME[0] + self.rng.uniform(-0.01, 0.01)
        lon = HOME[1] + self.rng.uniform(-0.01, 0.01)
        vehicle = Vehicle(
            id=self.rng.randrange(10**15, 2**52),
            vehicle_id=self.rng.randrange(10**9, 10**11),
            user_id=account.user_id,
            vin=vin,
            display_name=display_name,
            config=config,
            account_id=account.id,
            created_at=now,
            sleep_after=self.sleep_after,
            wake_seconds=self.wake_seconds,
            on_wake_caused=self.meter.add_wake_caused,
            on_kept_awake=self.meter.add_kept_awake,
            tokens=(self.token_hex(8), self.token_hex(8)),
            updated_at=now,
            idle_ref=now,
            idle_ref_cf=now,
            gps_as_of=now,
            latitude=lat,
            longitude=lon,
            home_latitude=lat,
            home_longitude=lon,
            heading=float(self.rng.randrange(360)),
            odometer=round(self.rng.uniform(1000, 30000), 6),
            energy_kwh=config.battery_kwh * self.rng.randint(55, 78) / 100.0,
            charge_current_request=config.max_amps,
            command_signing=(
                "allowed"
                if self.rest_commands and config.command_signing == "required"
                else config.command_signing
            ),
            asleep_reports_offline=self.asleep_reports_offline,
        )
        self.vehicles[vin] = vehicle
        account.vins.append(vin)
        return vehicle

    # -- lookups --------------------------------------------------------------------------

    def account_by_email(self, email: str) -> Account | None:
        """Case-insensitive email lookup."""
        wanted = email.strip().lower()
        for account in self.accounts.values():
            if account.email == wanted:
                return account
        return None

    def vehicles_of(self, account: Account) -> list[Vehicle]:
        """The cars of ``account``, brought up to date."""
        cars = [self.vehicles[vin] for vin in account.vins]
        now = self.clock.now()
        for car in cars:
            car.update(now)
        return cars

    def find_vehicle(self, account: Account, key: str) -> Vehicle | None:
        """A car of ``account`` by id, id_s or VIN (brought up to date)."""
        for car in self.vehicles_of(account):
            if key in (car.vin, str(car.id)):
                return car
        return None

    def vehicle(self, vin: str) -> Vehicle:
        """A car by VIN, brought up to date (KeyError when unknown)."""
        car = self.vehicles[vin]
        car.update(self.clock.now())
        return car

    def vcp_keys(self, car: Vehicle) -> CarKeys:
        """The car's side of the command protocol (its domains booted when it was made)."""
        return self.car_keys.car(car.vin, car.created_at)

    def approve_virtual_key(
        self, vin: str, public_bytes: bytes, role: str = "owner"
    ) -> None:
        """The owner adds a key to the car ``vin``'s whitelist (a virtual key).

        ``public_bytes``: the key's 65-byte uncompressed P-256 point. KeyError for an
        unknown car, ValueError for bytes that are not such a point.
        """
        if len(public_bytes) != 65:
            raise ValueError("a virtual key is an uncompressed point (65 bytes)")
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_bytes)
        self.vehicle(vin).whitelist[bytes(public_bytes)] = role

    def reboot_vehicle(self, vin: str, domains: tuple[int, ...] = DOMAINS) -> None:
        """Reboot the car's ``domains`` (both by default): new epochs, clocks from zero."""
        self.vcp_keys(self.vehicles[vin]).reboot(self.clock.now(), domains)

    def tick(self) -> float:
        """Bring every car up to the current time; return it."""
        now = self.clock.now()
        for car in self.vehicles.values():
            car.update(now)
        self.faults.prune(now)
        self.ble.sync(now)
        return now

    def advance(self, seconds: float) -> float:
        """Advance a virtual clock (and every car); TypeError on a real clock."""
        self.clock.advance(seconds)
        return self.tick()

    def region_base_url(self, region: str) -> str:
        """Fleet API base URL of a region (``na`` is the root, others a path prefix)."""
        return self.base_url if region == "na" else f"{self.base_url}/{region}"

    def fleet_bases(self) -> list[str]:
        """The Fleet API base URL of every region (a token's ``aud``)."""
        return [self.region_base_url(region) for region in REGIONS]

    @property
    def token_url(self) -> str:
        """The token endpoint of the simulated fleet-auth host."""
        return fleet_auth_token_url(self.base_url)

    def state(self) -> dict[str, Any]:
        """``GET /__sim__/state``."""
        now = self.tick()
        return {
            "now": now,
            "virtual_clock": self.clock.virtual,
            "url": self.base_url,
            "accounts": [a.as_dict() for a in self.accounts.values()],
            "vehicles": [
                {
                    "id": car.id,
                    "id_s": str(car.id),
                    "vin": car.vin,
                    "display_name": car.display_name,
                    "account": self.accounts[car.account_id].email,
                    "state": car.reported_state,
                    "power": car.power,
                    "activity": car.activity,
                    "config": car.config.as_dict(),
                    "requires_command_signing": car.requires_command_signing,
                    "command_signing": car.command_signing,
                    "virtual_keys": [key.hex() for key in car.whitelist],
                    "in_service": car.in_service,
                    "locked": car.locked,
                    "battery_level": round(car.battery_level, 2),
                    "charging_state": car.charging_state,
                    "climate_on": car.climate_on,
                    "latitude": car.latitude,
                    "longitude": car.longitude,
                    "odometer": car.odometer,
                    "idle_since": car.idle_ref,
                    "software_update": car.update_status,
                }
                for car in self.vehicles.values()
            ],
        }
