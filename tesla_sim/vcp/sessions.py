"""Keys and sessions of the car side: per car and domain a key pair, an epoch and a clock.

Each domain (VCSEC, infotainment) of a car has its own P-256 key pair, its own epoch (16
random bytes drawn at boot) and its own clock (seconds since the epoch began). Per client
key it remembers the anti-replay counter of the current epoch: VCSEC takes counters in
strictly rising order only, infotainment keeps a sliding window of the last 64 so that
messages arriving out of order still pass once. A reboot draws a new epoch and forgets
every counter; the key pair stays (it is the car's identity).

The keys are made when a car first meets the protocol, from a random generator seeded
with the world's seed and the VIN: the same seed gives the same car keys, and the
world's own generator (VINs, tokens) is left untouched.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
import random

from cryptography.hazmat.primitives.asymmetric import ec
from tesla_protocol.command.universal_message_pb2 import Domain

from .tags import public_bytes

VCSEC = Domain.DOMAIN_VEHICLE_SECURITY
INFOTAINMENT = Domain.DOMAIN_INFOTAINMENT
DOMAINS: tuple[int, ...] = (VCSEC, INFOTAINMENT)
DOMAIN_NAMES = {"vcsec": VCSEC, "infotainment": INFOTAINMENT}
"""The domains by the names the control API uses."""
EPOCH_BYTES = 16
WINDOW = 64
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(slots=True)
class Counter:
    """The anti-replay state of one client key in one epoch.

    ``highest`` is the highest counter accepted so far; bit ``i`` of ``seen`` says that
    ``highest - 1 - i`` was accepted too (the sliding window).
    """

    highest: int = 0
    seen: int = 0

    def accept(self, counter: int, *, window: bool) -> bool:
        """Record ``counter`` if it was never used (and, without ``window``, only above)."""
        if counter > self.highest:
            shift = counter - self.highest
            self.seen = ((self.seen << shift) | (1 << (shift - 1))) & (
                (1 << WINDOW) - 1
            )
            self.highest = counter
            return True
        age = self.highest - counter
        if not window or age == 0 or age > WINDOW or (self.seen >> (age - 1)) & 1:
            return False
        self.seen |= 1 << (age - 1)
        return True


@dataclass(slots=True)
class DomainKeys:
    """One domain of one car: key pair, epoch, clock and the clients' counters."""

    domain: int
    private_key: ec.EllipticCurvePrivateKey
    epoch: bytes
    started_at: float
    counters: dict[bytes, Counter] = field(default_factory=dict)

    @property
    def public_key(self) -> bytes:
        """The domain's public key (65-byte uncompressed point)."""
        return public_bytes(self.private_key)

    @property
    def strictly_rising(self) -> bool:
        """VCSEC takes counters in order only; infotainment keeps a window."""
        return self.domain == VCSEC

    def clock(self, now: float) -> int:
        """Seconds since the epoch began."""
        return max(0, int(now - self.started_at))

    def counter(self, client: bytes) -> Counter:
        """The counter state of ``client``'s key in this epoch."""
        return self.counters.setdefault(client, Counter())

    def reboot(self, epoch: bytes, now: float) -> None:
        """A new epoch from ``now``; every counter starts again."""
        self.epoch = epoch
        self.started_at = now
        self.counters.clear()


class CarKeys:
    """The protocol state of one car: its domains and the generator of its epochs."""

    def __init__(self, rng: random.Random, started_at: float) -> None:
        """Make both domains' key pairs and first epochs (booted at ``started_at``)."""
        self.rng = rng
        self.domains = {
            domain: DomainKeys(
                domain=domain,
                private_key=ec.derive_private_key(
                    rng.randrange(1, P256_ORDER), ec.SECP256R1()
                ),
                epoch=self.new_epoch(),
                started_at=started_at,
            )
            for domain in DOMAINS
        }

    def new_epoch(self) -> bytes:
        """16 random bytes."""
        return self.rng.randbytes(EPOCH_BYTES)

    def reboot(self, now: float, domains: Iterable[int] = DOMAINS) -> None:
        """Reboot ``domains`` (both by default): new epochs, clocks from zero."""
        for domain in domains:
            self.domains[domain].reboot(self.new_epoch(), now)


class KeyRing:
    """Every car's protocol state, made on first use."""

    def __init__(self, seed: int) -> None:
        """``seed``: the world's seed."""
        self.seed = seed
        self._cars: dict[str, CarKeys] = {}

    def car(self, vin: str, booted_at: float) -> CarKeys:
        """The state of ``vin`` (made now when new, as booted at ``booted_at``)."""
        keys = self._cars.get(vin)
        if keys is None:
            keys = CarKeys(random.Random(f"{self.seed}/{vin}"), booted_at)
            self._cars[vin] = keys
        return keys

    def clear(self) -> None:
        """Forget every car (a world reset)."""
        self._cars.clear()
