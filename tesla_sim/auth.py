"""The simulated Tesla sign-in server (``/oauth2/v3/authorize*``): HTML pages, MFA JSON API.

The token endpoint lives in ``oauth.py``."""

import html
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .keys import WORLD
from .sso import SsoError, Transaction
from .world import World

COOKIE = "tesla-auth.sid"
AUTHORIZE = "/oauth2/v3/authorize"
MFA_FACTORS = "/oauth2/v3/authorize/mfa/factors"
MFA_VERIFY = "/oauth2/v3/authorize/mfa/verify"
CAPTCHA = "/captcha"

_STYLE = (
    "body{font-family:sans-serif;max-width:26rem;margin:3rem auto}"
    "label,input,select,button{display:block;width:100%;margin:.4rem 0}"
    ".error{color:#b00}"
)


def html_page(title: str, body: str, status: int = 200) -> web.Response:
    """An HTML page of the simulated Tesla site (the sign-in and virtual-key pages)."""
    text = (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{html.escape(title)} | Tesla (tesla_sim)</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=text, status=status, content_type="text/html")


def error_html(message: str) -> str:
    """An error message for a page."""
    return f'<p class="error" role="alert">{html.escape(message)}</p>'


def hidden_input(name: str, value: str) -> str:
    """A hidden form field."""
    return f'<input type="hidden" name="{name}" value="{html.escape(value)}">'


def _login_form(txn: Transaction, query: str, error: str = "") -> str:
    captcha = ""
    if txn.captcha is not None:
        captcha = (
            f'<img src="{CAPTCHA}?transaction_id={txn.id}" alt="captcha" width="160" height="50">'
            '<label>Enter the characters shown <input type="text" name="captcha" '
            'autocomplete="off" required></label>'
        )
    action = AUTHORIZE + (f"?{html.escape(query)}" if query else "")
    return (
        f"{error_html(error) if error else ''}"
        f'<form method="post" id="form" action="{action}">'
        f"{hidden_input('_csrf', txn.csrf)}{hidden_input('_phase', 'authenticate')}"
        f"{hidden_input('_process', '1')}{hidden_input('transaction_id', txn.id)}{hidden_input('cancel', '')}"
        f'<label>Email <input type="email" name="identity" value="{html.escape(txn.login_hint)}"'
        ' autocomplete="username" required></label>'
        '<label>Password <input type="password" name="credential" autocomplete="current-password"'
        " required></label>"
        f'{captcha}<button type="submit">Sign In</button></form>'
    )


def _mfa_form(world: World, txn: Transaction, error: str = "") -> str:
    factors = world.sso.factors(txn)
    options = "".join(
        f'<option value="{html.escape(f.id)}">{html.escape(f.name)}</option>'
        for f in factors
    )
    return (
        f"{error_html(error) if error else ''}"
        "<p>Enter the passcode from your authenticator app.</p>"
        f'<form method="post" id="mfa" action="{MFA_VERIFY}" '
        f'data-factors-url="{MFA_FACTORS}?transaction_id={txn.id}">'
        f"{hidden_input('transaction_id', txn.id)}"
        f'<label>Device <select name="factor_id">{options}</select></label>'
        '<label>Passcode <input type="text" name="passcode" inputmode="numeric" '
        'autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required></label>'
        '<button type="submit">Submit</button></form>'
    )


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _redirect_with(redirect_uri: str, params: dict[str, str]) -> web.Response:
    sep = "&" if "?" in redirect_uri else "?"
    return _redirect(f"{redirect_uri}{sep}{urlencode(params)}")


def _json_error(err: SsoError) -> web.Response:
    return web.json_response(
        {
            "error": {
                "code": err.code,
                "message": err.message,
                "referenceId": "tesla-sim",
            }
        },
        status=err.status,
    )


async def authorize_get(request: web.Request) -> web.Response:
    """GET /oauth2/v3/authorize: the sign-in page; sets the session cookie."""
    world = request.app[WORLD]
    q = request.query
    try:
        txn = world.sso.start(
            client_id=q.get("client_id"),
            redirect_uri=q.get("redirect_uri"),
            response_type=q.get("response_type"),
            state=q.get("state"),
            code_challenge=q.get("code_challenge"),
            code_challenge_method=q.get("code_challenge_method"),
            scope=q.get("scope"),
            login_hint=q.get("login_hint"),
        )
    except SsoError as err:
        if err.redirect_to is not None:
            params = {"error": err.code, "error_description": err.message}
            return _redirect_with(
                err.redirect_to, params | {"state": q.get("state", "")}
            )
        return html_page("Sign-in error", error_html(err.message), status=err.status)
    response = html_page("Sign In", _login_form(txn, request.query_string))
    response.set_cookie(COOKIE, txn.session, httponly=True, path="/", samesite="Lax")
    return response


async def authorize_post(request: web.Request) -> web.Response:
    """POST /oauth2/v3/authorize: credentials, or the transaction after MFA."""
    world = request.app[WORLD]
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        txn = world.sso.transaction(fields.get("transaction_id"))
    except SsoError as err:
        return html_page("Sign-in expired", error_html(err.message), status=err.status)
    if request.cookies.get(COOKIE) != txn.session:
        return html_page(
            "Forbidden", error_html("Missing or invalid session cookie."), status=403
        )
    if fields.get("cancel"):
        txn.stage = "done"
        return _redirect_with(
            txn.redirect_uri, {"error": "access_denied", "state": txn.state}
        )
    issuer = f"{world.base_url}/oauth2/v3"
    if "identity" not in fields:
        try:
            code = world.sso.finish(txn)
        except SsoError as err:
            return html_page(
                "Sign-in error", error_html(err.message), status=err.status
            )
        return _redirect_with(
            txn.redirect_uri, {"code": code, "state": txn.state, "issuer": issuer}
        )
    if fields.get("_csrf") != txn.csrf:
        return html_page("Forbidden", error_html("Invalid CSRF token."), status=403)
    try:
        result = world.sso.login(
            txn,
            fields.get("identity", ""),
            fields.get("credential", ""),
            fields.get("captcha"),
        )
    except SsoError as err:
        if err.code == "ERR_CAPTCHA":
            return html_page(
                "Sign In", _login_form(txn, request.query_string, err.message)
            )
        title = "Account locked" if err.status == 423 else "Sign In"
        return html_page(
            title, _login_form(txn, request.query_string, err.message), err.status
        )
    if result.code is None:
        return html_page("Multi-Factor Authentication", _mfa_form(world, txn))
    return _redirect_with(
        txn.redirect_uri, {"code": result.code, "state": txn.state, "issuer": issuer}
    )


def _mfa_transaction(request: web.Request, transaction_id: Any) -> Transaction:
    """MFA endpoints: a live transaction; a session cookie, when sent, must be its own."""
    txn = request.app[WORLD].sso.transaction(
        transaction_id if isinstance(transaction_id, str) else None
    )
    cookie = request.cookies.get(COOKIE)
    if cookie is not None and cookie != txn.session:
        raise SsoError(403, "ERR_FORBIDDEN", "Invalid session cookie.")
    return txn


async def mfa_factors(request: web.Request) -> web.Response:
    """GET /oauth2/v3/authorize/mfa/factors?transaction_id=..."""
    world = request.app[WORLD]
    try:
        txn = _mfa_transaction(request, request.query.get("transaction_id"))
        factors = world.sso.factors(txn)
    except SsoError as err:
        return _json_error(err)
    return web.json_response(
        {
            "data": [
                {
                    "dispatchRequired": False,
                    "id": f.id,
                    "name": f.name,
                    "factorType": "token:software",
                    "factorProvider": "TESLA",
                    "securityType": "totp",
                    "activatedAt": f.created_at,
                    "createdAt": f.created_at,
                    "updatedAt": f.created_at,
                }
                for f in factors
            ]
        }
    )


async def _body(request: web.Request) -> tuple[dict[str, Any], bool]:
    """Request body as a dict and whether it came from an HTML form."""
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except json.JSONDecodeError:
            return {}, False
        return (data if isinstance(data, dict) else {}), False
    form = await request.post()
    return {k: v for k, v in form.items() if isinstance(v, str)}, True


async def mfa_verify(request: web.Request) -> web.Response:
    """POST /oauth2/v3/authorize/mfa/verify (JSON; an HTML form works for browsers)."""
    world = request.app[WORLD]
    body, from_form = await _body(request)
    passcode = body.get("passcode")
    factor_id = body.get("factor_id")
    try:
        txn = _mfa_transaction(request, body.get("transaction_id"))
        approved = world.sso.verify(txn, factor_id, passcode)
    except SsoError as err:
        if from_form:
            return html_page(
                "Multi-Factor Authentication", error_html(err.message), err.status
            )
        return _json_error(err)
    if from_form:
        if not approved:
            return html_page(
                "Multi-Factor Authentication",
                _mfa_form(world, txn, "Invalid passcode."),
            )
        return html_page(
            "Verified",
            f'<form method="post" id="done" action="{AUTHORIZE}">{hidden_input("transaction_id", txn.id)}'
            '<button type="submit">Continue</button></form>'
            "<script>document.getElementById('done').submit()</script>",
        )
    stamp = "2024-01-15T10:20:30.000Z"
    return web.json_response(
        {
            "data": {
                "id": world.uuid(),
                "challengeId": world.uuid(),
                "factorId": factor_id,
                "passCode": passcode,
                "approved": approved,
                "flagged": False,
                "valid": approved,
                "createdAt": stamp,
                "updatedAt": stamp,
            }
        }
    )


async def captcha(request: web.Request) -> web.Response:
    """GET /captcha: an SVG a human can read (headless clients cannot solve it)."""
    world = request.app[WORLD]
    txn = world.sso.transactions.get(request.query.get("transaction_id", ""))
    text = txn.captcha if txn is not None and txn.captcha else "?????"
    letters = "".join(
        f'<text x="{12 + i * 28}" y="{34 + (i % 2) * 6}" transform="rotate({(-1) ** i * 8} '
        f'{20 + i * 28} 30)" font-size="28" font-family="monospace">{html.escape(c)}</text>'
        for i, c in enumerate(text)
    )
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="160" height="50">'
        '<rect width="160" height="50" fill="#eee"/>'
        '<path d="M0 20 L160 35 M0 40 L160 10" stroke="#999"/>'
        f"{letters}</svg>"
    )
    return web.Response(text=svg, content_type="image/svg+xml")


def add_routes(app: web.Application) -> None:
    """Register the sign-in routes."""
    app.router.add_get(AUTHORIZE, authorize_get)
    app.router.add_post(AUTHORIZE, authorize_post)
    app.router.add_get(MFA_FACTORS, mfa_factors)
    app.router.add_post(MFA_VERIFY, mfa_verify)
    app.router.add_get(CAPTCHA, captcha)
