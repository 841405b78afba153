"""Sign-in logic (Tesla SSO): transactions, password check, captcha, MFA, authorization codes.

The HTTP layer (``auth.py``) renders pages around this; the rules live here:

* a transaction lives 10 minutes (``ERR_EXPIRED`` afterwards);
* five wrong passwords in a row lock the account;
* a captcha account must solve the captcha (not possible headless), and so must every
  sign-in of the legacy client ``ownerapi`` unless the world has ``legacy_sign_in``
  (Tesla's page has been behind a captcha for headless clients since 2021);
* only a registered app (or ``ownerapi``) with one of its redirect URIs gets a page;
* a TOTP passcode is accepted within +-1 time step, only once (``ERR_PASS_CODE_REPLAY``);
  the fifth wrong passcode ends the transaction (``ERR_MAX_VERIFICATION_ATTEMPTS``).
"""

from dataclasses import dataclass, field
import hmac
from typing import TYPE_CHECKING, Any

import pyotp

from .apps import LEGACY_CLIENT_ID
from .tokens import parse_scopes

if TYPE_CHECKING:
    from .world import Account, MfaFactor, World

TRANSACTION_LIFETIME = 600.0
MAX_FAILED_LOGINS = 5
MAX_MFA_ATTEMPTS = 5
TOTP_STEP = 30


class SsoError(Exception):
    """A sign-in failure: HTTP ``status`` and a machine ``code``."""

    def __init__(
        self, status: int, code: str, message: str, redirect_to: str | None = None
    ) -> None:
        """``message`` is shown to the user; ``redirect_to``: send the error back to the
        client's redirect URI (``error=``, as OAuth does once the client is known)."""
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.redirect_to = redirect_to


@dataclass(slots=True)
class Transaction:
    """One sign-in attempt (one authorize page)."""

    id: str
    session: str  # session cookie value
    csrf: str
    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str | None
    scopes: tuple[str, ...]
    login_hint: str
    created_at: float
    account_id: str | None = None
    stage: str = "login"  # login | mfa | approved | done
    mfa_attempts: int = 0
    captcha: str | None = None  # the solution of the captcha shown, if any
    amr: tuple[str, ...] = ("pwd",)


@dataclass(slots=True)
class LoginResult:
    """Outcome of a password POST: a code (no MFA), or None when MFA comes next."""

    code: str | None


@dataclass(slots=True)
class Sso:
    """Sign-in state of the simulated identity server."""

    world: World
    transactions: dict[str, Transaction] = field(default_factory=dict)
    used_passcodes: set[tuple[str, int]] = field(default_factory=set)

    def clear(self) -> None:
        """Forget every transaction and used passcode."""
        self.transactions.clear()
        self.used_passcodes.clear()

    def start(
        self,
        *,
        client_id: str | None,
        redirect_uri: str | None,
        response_type: str | None,
        state: str | None,
        code_challenge: str | None,
        code_challenge_method: str | None,
        scope: str | None,
        login_hint: str | None,
    ) -> Transaction:
        """GET /authorize: validate the OAuth request and open a transaction."""
        if not client_id or not redirect_uri:
            raise SsoError(
                400, "invalid_request", "client_id and redirect_uri are required"
            )
        world = self.world
        app = world.apps.get(client_id)
        if app is None and client_id != LEGACY_CLIENT_ID:
            raise SsoError(400, "invalid_client", "Unknown client_id.")
        if app is not None and redirect_uri not in app.redirect_uris:
            raise SsoError(
                400,
                "invalid_redirect_uri",
                "redirect_uri is not registered for the app",
            )
        if response_type != "code":
            raise SsoError(
                400,
                "unsupported_response_type",
                "response_type must be code",
                redirect_uri,
            )
        if code_challenge and (code_challenge_method or "plain") != "S256":
            raise SsoError(
                400,
                "invalid_request",
                "code_challenge_method must be S256",
                redirect_uri,
            )
        txn = Transaction(
            id=world.token_hex(16),
            session=world.token_hex(16),
            csrf=world.token_hex(12),
            client_id=client_id,
            redirect_uri=redirect_uri,
            state=state or "",
            code_challenge=code_challenge or None,
            scopes=parse_scopes(scope),
            login_hint=login_hint or "",
            created_at=world.now(),
        )
        hinted = world.account_by_email(txn.login_hint) if txn.login_hint else None
        if (hinted is not None and hinted.captcha) or self._headless(txn):
            txn.captcha = self.new_captcha()
        self.transactions[txn.id] = txn
        return txn

    def _headless(self, txn: Transaction) -> bool:
        """A sign-in of the legacy client, which Tesla answers with a captcha."""
        return txn.client_id == LEGACY_CLIENT_ID and not self.world.legacy_sign_in

    def new_captcha(self) -> str:
        """A fresh captcha solution."""
        return "".join(
            self.world.rng.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(5)
        )

    def transaction(self, transaction_id: str | None) -> Transaction:
        """A live transaction, or ERR_EXPIRED."""
        txn = self.transactions.get(transaction_id or "")
        if txn is None or txn.stage == "done":
            raise SsoError(
                400, "ERR_EXPIRED", "The sign-in session is unknown or has ended."
            )
        if self.world.now() - txn.created_at >= TRANSACTION_LIFETIME:
            del self.transactions[txn.id]
            raise SsoError(400, "ERR_EXPIRED", "The sign-in session has expired.")
        return txn

    def _code(self, txn: Transaction, account: Account) -> str:
        txn.stage = "done"
        return self.world.tokens.new_code(
            account,
            client_id=txn.client_id,
            redirect_uri=txn.redirect_uri,
            code_challenge=txn.code_challenge,
            scopes=txn.scopes,
            amr=txn.amr,
        )

    def login(
        self, txn: Transaction, identity: str, credential: str, captcha: str | None
    ) -> LoginResult:
        """POST /authorize with credentials."""
        account = self.world.account_by_email(identity)
        if account is not None and account.locked:
            raise SsoError(
                423, "ERR_LOCKED", "Your account has been locked. Try again later."
            )
        if (account is not None and account.captcha) or self._headless(txn):
            expected = txn.captcha
            if expected is None or not captcha or captcha.strip().upper() != expected:
                txn.captcha = self.new_captcha()
                raise SsoError(
                    200, "ERR_CAPTCHA", "Captcha does not match. Please try again."
                )
        if account is None or not hmac.compare_digest(
            account.password.encode(), credential.encode()
        ):
            if account is not None:
                account.failed_logins += 1
                if account.failed_logins >= MAX_FAILED_LOGINS:
                    account.locked = True
                    raise SsoError(
                        423,
                        "ERR_LOCKED",
                        "Your account has been locked. Try again later.",
                    )
            raise SsoError(
                401, "ERR_CREDENTIALS", "The email or password is incorrect."
            )
        account.failed_logins = 0
        txn.account_id = account.id
        if account.mfa:
            txn.stage = "mfa"
            return LoginResult(code=None)
        return LoginResult(code=self._code(txn, account))

    def account_of(self, txn: Transaction) -> Account:
        """The account a transaction signed in to (MFA stages only)."""
        if txn.account_id is None or txn.stage not in ("mfa", "approved"):
            raise SsoError(
                400, "ERR_INVALID_REQUEST", "Sign in with email and password first."
            )
        return self.world.accounts[txn.account_id]

    def finish(self, txn: Transaction) -> str:
        """POST /authorize with only the transaction after MFA: the authorization code."""
        account = self.account_of(txn)
        if txn.stage != "approved":
            raise SsoError(
                401, "ERR_MFA_REQUIRED", "Multi-factor authentication is required."
            )
        return self._code(txn, account)

    def factors(self, txn: Transaction) -> list[MfaFactor]:
        """GET /mfa/factors."""
        return list(self.account_of(txn).mfa)

    def verify(self, txn: Transaction, factor_id: Any, passcode: Any) -> bool:
        """POST /mfa/verify: True (approved) or False (wrong code); SsoError otherwise."""
        account = self.account_of(txn)
        if not isinstance(passcode, str) or not isinstance(factor_id, str):
            raise SsoError(
                400, "ERR_INVALID_REQUEST", "factor_id and passcode must be strings."
            )
        if txn.mfa_attempts >= MAX_MFA_ATTEMPTS:
            raise SsoError(400, "ERR_MAX_VERIFICATION_ATTEMPTS", "Too many attempts.")
        factor = next((f for f in account.mfa if f.id == factor_id), None)
        if factor is None:
            raise SsoError(400, "ERR_INVALID_FACTOR", "Unknown MFA factor.")
        counter = self._match(factor.secret, passcode)
        if counter is not None and (factor.id, counter) in self.used_passcodes:
            raise SsoError(
                400, "ERR_PASS_CODE_REPLAY", "This passcode was already used."
            )
        if counter is None:
            txn.mfa_attempts += 1
            if txn.mfa_attempts >= MAX_MFA_ATTEMPTS:
                raise SsoError(
                    400, "ERR_MAX_VERIFICATION_ATTEMPTS", "Too many attempts."
                )
            return False
        self.used_passcodes.add((factor.id, counter))
        txn.stage = "approved"
        txn.amr = ("pwd", "mfa", "otp")
        return True

    def _match(self, secret: str, passcode: str) -> int | None:
        """The TOTP counter ``passcode`` belongs to (+-1 step), or None."""
        if len(passcode) != 6 or not passcode.isdigit():
            return None
        totp = pyotp.TOTP(secret)
        base = int(self.world.now() // TOTP_STEP)
        for counter in (base, base - 1, base + 1):
            if hmac.compare_digest(totp.generate_otp(counter), passcode):
                return counter
        return None

    def code_for(
        self,
        account: Account,
        *,
        client_id: str,
        redirect_uri: str,
        code_challenge: str | None,
        scope: str | None,
    ) -> str:
        """A test helper: an authorization code without the sign-in pages."""
        return self.world.tokens.new_code(
            account,
            client_id=client_id,
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            scopes=parse_scopes(scope),
            amr=("pwd", "mfa", "otp") if account.mfa else ("pwd",),
        )
