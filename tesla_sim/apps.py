"""Developer apps (developer.tesla.com): client id, secret, allowed origins, redirect URIs.

Only a registered app signs users in on the authorize page, exchanges codes, gets partner
tokens and calls the Fleet API. The default world seeds one app, :data:`DEV_CLIENT_ID`,
used by the tests, the benchmarks, the e2e run and the demo. The legacy Owner API client
``ownerapi`` counts as registered only on a server run with ``legacy_sign_in``.

Partner registrations (``POST /api/1/partner_accounts``, served by ``partners.py``) are
kept here per (client id, region). The control API (``control.py``) lists and creates apps.
"""

from dataclasses import dataclass, field
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .world import World

DEV_CLIENT_ID = "tesla-resilient-dev"
DEV_CLIENT_SECRET = "dev-secret"  # noqa: S105 - the simulator's published demo secret
LEGACY_CLIENT_ID = "ownerapi"
DEV_REDIRECT_URIS = (
    "http://127.0.0.1:8123/auth/external/callback",
    "https://my.home-assistant.io/redirect/oauth",
)
DEV_ORIGINS = ("http://127.0.0.1:8123",)
DEV_DOMAIN = "dev.tesla-resilient.example"


@dataclass(slots=True)
class App:
    """A developer app: its credentials and where it may send users back to."""

    client_id: str
    client_secret: str = field(repr=False)
    name: str
    allowed_origins: list[str] = field(default_factory=list)
    redirect_uris: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Control-API view (includes the secret, by design)."""
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "name": self.name,
            "allowed_origins": list(self.allowed_origins),
            "redirect_uris": list(self.redirect_uris),
        }


def dev_app() -> App:
    """The app every default world has (registered as a partner in every region)."""
    return App(
        DEV_CLIENT_ID,
        DEV_CLIENT_SECRET,
        "Tesla Resilient (simulator)",
        list(DEV_ORIGINS),
        list(DEV_REDIRECT_URIS),
    )


def is_registered(world: World, client_id: str) -> bool:
    """True for a registered app, and for ``ownerapi`` on a legacy sign-in server."""
    return client_id in world.apps or (
        world.legacy_sign_in and client_id == LEGACY_CLIENT_ID
    )


def check_secret(world: World, client_id: str, secret: str | None) -> bool:
    """True when ``secret`` is the app's (``ownerapi`` needs none on a legacy server)."""
    app = world.apps.get(client_id)
    if app is None:
        return world.legacy_sign_in and client_id == LEGACY_CLIENT_ID
    return secret == app.client_secret


@dataclass(slots=True)
class Registration:
    """A partner account of one app in one region."""

    client_id: str
    region: str
    domain: str
    public_key: str | None  # hex of the uncompressed EC point; None when seeded
    created_at: float

    def as_dict(self) -> dict[str, Any]:
        """The ``response`` of ``POST /api/1/partner_accounts``."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(self.created_at))
        return {
            "account_id": self.client_id,
            "client_id": self.client_id,
            "domain": self.domain,
            "public_key": self.public_key,
            "ca": None,
            "csr": None,
            "csr_updated_at": None,
            "enterprise_tier": "free",
            "issuer": None,
            "created_at": stamp,
            "updated_at": stamp,
        }


@dataclass(slots=True)
class Partners:
    """Partner registrations, one per (client id, region)."""

    regions: tuple[str, ...]
    registrations: dict[tuple[str, str], Registration] = field(default_factory=dict)

    def clear(self) -> None:
        """Forget every registration."""
        self.registrations.clear()

    def register(self, registration: Registration) -> None:
        """Add or replace the app's registration in its region."""
        key = (registration.client_id, registration.region)
        self.registrations[key] = registration

    def register_everywhere(self, client_id: str, now: float) -> None:
        """Register ``client_id`` in every region (as the seeded dev app is)."""
        for region in self.regions:
            self.register(Registration(client_id, region, DEV_DOMAIN, None, now))

    def unregister(self, client_id: str) -> list[str]:
        """Drop every registration of ``client_id``; the regions it had."""
        gone = [r for (c, r) in self.registrations if c == client_id]
        for region in gone:
            del self.registrations[client_id, region]
        return gone

    def get(self, client_id: str, region: str) -> Registration | None:
        """The registration of ``client_id`` in ``region``, if any."""
        return self.registrations.get((client_id, region))

    def public_keys(
        self, *, client_id: str | None = None, domain: str | None = None
    ) -> set[bytes]:
        """The public keys (65-byte points) registered by ``client_id`` and/or for
        ``domain``, in any region (seeded registrations have none)."""
        return {
            bytes.fromhex(r.public_key)
            for r in self.registrations.values()
            if r.public_key is not None
            and client_id in (None, r.client_id)
            and domain in (None, r.domain)
        }
