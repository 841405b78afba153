"""The owner's approval of an app's virtual key: ``tesla.com/_ak/<domain>`` in the simulator.

On Tesla's side the owner opens ``https://tesla.com/_ak/<domain>`` on a phone with the
Tesla app (signed in), picks a car and approves; the car then trusts the key the app
registered for that domain. The simulator serves the page at ``/_ak/<domain>`` for a
browser: a sign-in with the account's email and password stands for the signed-in Tesla
app (no second factor, no key card tap), then a list of the account's cars (only the car
of a ``vin`` query, if one is given) with an **Approve** button each. Approving adds the
public key of every app registered for the domain (partner registration, any region) to
the car's whitelist (:meth:`World.approve_virtual_key`). The control API does the same
with ``POST /__sim__/vehicles/{vin}/virtual_key {"domain"}`` (``control.py``).
"""

import hmac
import html
from typing import Any

from aiohttp import web

from .auth import error_html, hidden_input, html_page
from .keys import WORLD
from .world import Account, World

PAGE = "/_ak/{domain}"
COOKIE = "tesla-ak.sid"
SESSIONS: web.AppKey[dict[str, str]] = web.AppKey("tesla_sim_ak_sessions", dict)
"""Session cookie value -> account id (signed in on the page)."""


class NoAppForDomain(LookupError):
    """No app registered a public key for the domain."""


def approve_for_domain(world: World, vin: str, domain: str) -> set[bytes]:
    """Approve on the car ``vin`` the key of every app registered for ``domain``.

    Returns the keys approved; KeyError for an unknown car, NoAppForDomain when no app
    registered a key for ``domain``.
    """
    world.vehicle(vin)
    keys = world.partners.public_keys(domain=domain.strip().lower())
    if not keys:
        raise NoAppForDomain(domain)
    for key in keys:
        world.approve_virtual_key(vin, key)
    return keys


def _sign_in_form(action: str, error: str = "") -> str:
    return (
        f"{error_html(error) if error else ''}"
        "<p>Sign in to choose the car that gets this app's key.</p>"
        f'<form method="post" id="sign-in" action="{html.escape(action)}">'
        '<label>Email <input type="email" name="email" autocomplete="username" '
        "required></label>"
        '<label>Password <input type="password" name="password" '
        'autocomplete="current-password" required></label>'
        '<button type="submit">Sign In</button></form>'
    )


def _car_list(
    world: World, account: Account, domain: str, action: str, only: str | None
) -> str:
    keys = world.partners.public_keys(domain=domain)
    items = []
    for car in world.vehicles_of(account):
        if only is not None and car.vin != only:
            continue
        name = html.escape(car.display_name or car.vin)
        if keys.issubset(car.whitelist):
            items.append(f"<li>{name} ({car.vin}): <strong>approved</strong></li>")
            continue
        items.append(
            f'<li>{name} ({car.vin}) <form method="post" action="{html.escape(action)}">'
            f"{hidden_input('vin', car.vin)}"
            '<button type="submit">Approve</button>'
            "</form></li>"
        )
    listed = "".join(items) or "<li>No car of this account.</li>"
    return (
        f"<p>Allow the app of <strong>{html.escape(domain)}</strong> to send commands "
        f'to your cars.</p><ul id="cars">{listed}</ul>'
    )


def _signed_in(request: web.Request) -> Account | None:
    """The account signed in on the page (its session cookie), if any."""
    account_id = request.app[SESSIONS].get(request.cookies.get(COOKIE, ""))
    return request.app[WORLD].accounts.get(account_id or "")


def _check_password(world: World, fields: dict[str, Any]) -> Account | None:
    account = world.account_by_email(str(fields.get("email", "")))
    password = str(fields.get("password", ""))
    if account is None or account.locked:
        return None
    if not hmac.compare_digest(account.password.encode(), password.encode()):
        return None
    return account


async def page(request: web.Request) -> web.Response:
    """GET/POST /_ak/<domain>[?vin=]: sign in, then approve the key on a car."""
    world = request.app[WORLD]
    domain = request.match_info["domain"].strip().lower()
    title = "Add virtual key"
    if not world.partners.public_keys(domain=domain):
        message = f"No app has registered a key for {domain}."
        return html_page(title, error_html(message), status=404)
    action = request.path_qs
    only = request.query.get("vin")
    account = _signed_in(request)
    fields: dict[str, Any] = {}
    if request.method == "POST":
        fields = dict(await request.post())
    if "email" in fields:
        account = _check_password(world, fields)
        if account is None:
            error = "The email or password is incorrect."
            return html_page(title, _sign_in_form(action, error), status=401)
        session = world.token_hex(16)
        request.app[SESSIONS][session] = account.id
        body = _car_list(world, account, domain, action, only)
        response = html_page(title, body)
        response.set_cookie(
            COOKIE, session, httponly=True, path="/_ak/", samesite="Lax"
        )
        return response
    if account is None:
        return html_page(title, _sign_in_form(action))
    notice = ""
    if (vin := fields.get("vin")) is not None:
        if vin not in account.vins:
            return html_page(title, error_html("Unknown car."), status=404)
        approve_for_domain(world, str(vin), domain)
        notice = f"<p role=status>Key added to {html.escape(str(vin))}.</p>"
    return html_page(title, notice + _car_list(world, account, domain, action, only))


def add_routes(app: web.Application) -> None:
    """Register the virtual-key page (and its sessions)."""
    app[SESSIONS] = {}
    app.router.add_get(PAGE, page)
    app.router.add_post(PAGE, page)
