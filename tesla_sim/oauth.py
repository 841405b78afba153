"""The token endpoint, ``POST /oauth2/v3/token``, as Tesla's fleet-auth host serves it.

Form-encoded only (a JSON body is refused with 400, as a form-only server does). Served
at the sign-in base (``/oauth2/v3/token``, auth.tesla.com's path) and at the fleet-auth
base (``/fleet-auth/oauth2/v3/token``, :attr:`World.token_url`); one server, two hosts.

* ``authorization_code``: ``client_id``, ``client_secret`` (the app's), ``code``,
  ``redirect_uri`` (the one of the authorize request), ``code_verifier`` when the
  authorize request carried a PKCE challenge. ``ownerapi`` needs no secret, and exists
  only on a ``legacy_sign_in`` server.
* ``refresh_token``: ``client_id`` (the app the token was issued to) and
  ``refresh_token``. A ``scope`` parameter is ignored: the new tokens keep the scopes of
  the grant (REAL_CLOUD.md: a refresh sends no scope).
* ``client_credentials``: ``client_id``, ``client_secret``, ``scope``, ``audience``
  (a regional Fleet API base): a partner token.

Every request is written to ``world.tokens.requests`` (path, content type, grant type,
field names; never a value), so tests can prove what a client sent.
"""

from aiohttp import web

from .apps import check_secret
from .keys import WORLD
from .tokens import FLEET_AUTH_PREFIX, TokenError, parse_scopes
from .world import World

TOKEN = "/oauth2/v3/token"  # noqa: S105 - a path, not a secret
FORM = "application/x-www-form-urlencoded"


def _error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response(
        {"error": error, "error_description": description}, status=status
    )


def _authorization_code(world: World, body: dict[str, str]) -> web.Response:
    client_id = body.get("client_id", "")
    code = body.get("code")
    if not client_id or not code:
        return _error("invalid_request", "client_id and code are required")
    if not check_secret(world, client_id, body.get("client_secret")):
        return _error("invalid_client", "unknown client_id or wrong client_secret", 401)
    try:
        tokens = world.tokens.exchange(
            code, client_id, body.get("code_verifier"), body.get("redirect_uri")
        )
    except TokenError as err:
        return _error("invalid_grant", err.reason)
    return web.json_response(tokens)


def _refresh_token(world: World, body: dict[str, str]) -> web.Response:
    refresh = body.get("refresh_token")
    client_id = body.get("client_id")
    if not refresh or not client_id:
        return _error("invalid_request", "client_id and refresh_token are required")
    try:
        tokens = world.tokens.refresh(refresh, client_id)
    except TokenError as err:
        return _error("invalid_grant", err.reason, 401)
    return web.json_response(tokens)


def _client_credentials(world: World, body: dict[str, str]) -> web.Response:
    client_id = body.get("client_id", "")
    audience = body.get("audience")
    if not client_id or not audience:
        return _error("invalid_request", "client_id and audience are required")
    if client_id not in world.apps or not check_secret(
        world, client_id, body.get("client_secret")
    ):
        return _error("invalid_client", "unknown client_id or wrong client_secret", 401)
    scopes = parse_scopes(body.get("scope"))
    return web.json_response(world.tokens.issue_partner(client_id, scopes, audience))


async def token(request: web.Request) -> web.Response:
    """POST /oauth2/v3/token (and under the fleet-auth prefix)."""
    world = request.app[WORLD]
    if request.content_type != FORM:
        world.tokens.requests.append(
            {"path": request.path, "content_type": request.content_type}
        )
        return _error("invalid_request", f"the token endpoint takes {FORM}")
    form = await request.post()
    body = {k: v for k, v in form.items() if isinstance(v, str)}
    grant = body.get("grant_type")
    world.tokens.requests.append(
        {
            "path": request.path,
            "content_type": request.content_type,
            "grant_type": grant,
            "fields": sorted(body),
        }
    )
    if grant == "authorization_code":
        return _authorization_code(world, body)
    if grant == "refresh_token":
        return _refresh_token(world, body)
    if grant == "client_credentials":
        return _client_credentials(world, body)
    return _error("unsupported_grant_type", "grant_type is not supported")


def add_routes(app: web.Application) -> None:
    """Register the token endpoint at the sign-in base and at the fleet-auth base."""
    app.router.add_post(TOKEN, token)
    app.router.add_post(FLEET_AUTH_PREFIX + TOKEN, token)
