"""Run the simulator and Home Assistant as real processes and talk to them like a client.

Shared by ``scripts/develop`` (the demo) and ``scripts/e2e`` (the end-to-end test):
free ports, the runtime copy of ``config/``, process start/stop, onboarding over REST,
a small REST + websocket client for Home Assistant, and config-flow helpers that post
exactly what the frontend posts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
import contextlib
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import sys
import time
from typing import Any, Self

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CONFIG_TEMPLATE = ROOT / "config"
INTEGRATION = ROOT / "custom_components" / "tesla_resilient"
DOMAIN = "tesla_resilient"


class E2EError(Exception):
    """Something the end-to-end run or the demo could not do."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_http_config(config_dir: Path, port: int) -> None:
    """Make Home Assistant listen on 127.0.0.1:``port`` only.

    Since 2026 Home Assistant keeps its HTTP settings in ``.storage/http`` (YAML is
    migrated once, as a trial the user must confirm within five minutes, or Home
    Assistant reverts to 0.0.0.0:8123), so the settings are written there as the
    confirmed ("stable") configuration, validated by Home Assistant's own schema.
    """
    from homeassistant.components.http import config as http_config  # noqa: PLC0415

    stable = dict(
        http_config.HTTP_STORAGE_SCHEMA(
            {"server_host": ["127.0.0.1"], "server_port": port}
        )
    )
    stable |= {
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    (storage / "http").write_text(
        json.dumps(
            {
                "version": http_config.STORAGE_VERSION,
                "minor_version": http_config.STORAGE_MINOR_VERSION,
                "key": http_config.STORAGE_KEY,
                "data": {
                    "stable": stable,
                    "pending": None,
                    "yaml_migration_done": True,
                },
            },
            indent=2,
        )
    )


def prepare_config(target: Path, *, fresh: bool, port: int) -> Path:
    """Copy ``config/`` to ``target``, link the integration, listen on 127.0.0.1:``port``.

    Home Assistant's own files (``.storage``, the database, logs) in ``target`` are kept
    unless ``fresh``; the YAML files are refreshed from ``config/`` on every start.
    """
    if fresh and target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    for item in CONFIG_TEMPLATE.iterdir():
        if item.is_file() and item.suffix in {".yaml", ".yml"}:
            shutil.copy2(item, target / item.name)
    write_http_config(target, port)
    components = target / "custom_components"
    components.mkdir(exist_ok=True)
    link = components / DOMAIN
    if link.is_symlink() or link.exists():
        if link.is_symlink() and link.resolve() == INTEGRATION.resolve():
            return target
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        else:
            link.unlink()
    link.symlink_to(INTEGRATION, target_is_directory=True)
    return target


# --------------------------------------------------------------------- processes


class Process:
    """A child process in its own session, its output written to a log file."""

    def __init__(
        self, name: str, argv: Sequence[str], log: Path, env: Mapping[str, str]
    ):
        """Remember what to start."""
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = dict(env)
        self.proc: asyncio.subprocess.Process | None = None
        self._log_file: Any = None

    async def start(self) -> None:
        """Start it (stdout and stderr go to the log file)."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=asyncio.subprocess.STDOUT,
            env=self.env,
            cwd=ROOT,
            start_new_session=True,
        )

    @property
    def running(self) -> bool:
        """Whether it is still running."""
        return self.proc is not None and self.proc.returncode is None

    def check_running(self) -> None:
        """Raise with the tail of its log when it has exited."""
        if self.proc is not None and self.proc.returncode is not None:
            raise E2EError(
                f"{self.name} exited with status {self.proc.returncode}; "
                f"last lines of {self.log}:\n{self.tail()}"
            )

    def tail(self, lines: int = 30) -> str:
        """The last lines of its log."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    async def wait(self) -> None:
        """Until it exits."""
        if self.proc is not None:
            await self.proc.wait()

    async def stop(self, grace: float = 30) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL after ``grace`` seconds."""
        proc = self.proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None


def child_env(**extra: str) -> dict[str, str]:
    """The environment for children: ours, the repository importable, no proxies."""
    env = dict(os.environ)
    for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        env.pop(key, None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


async def wait_for(
    what: str,
    probe: Any,
    *,
    limit: float,
    interval: float = 0.25,
    processes: Sequence[Process] = (),
) -> Any:
    """Await ``probe()`` until it returns something truthy; raise after ``limit`` s."""
    deadline = time.monotonic() + limit
    last_error: BaseException | None = None
    while True:
        for proc in processes:
            proc.check_running()
        try:
            result = await probe()
        except (aiohttp.ClientError, OSError, TimeoutError, E2EError) as err:
            last_error = err
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            raise E2EError(f"timed out after {limit:.0f} s waiting for {what}{detail}")
        await asyncio.sleep(interval)


async def start_simulator(
    port: int, log: Path, *, seed: int = 1, extra: Sequence[str] = ()
) -> Process:
    """Start ``python -m tesla_sim`` on 127.0.0.1:``port`` and wait until it answers."""
    proc = Process(
        "tesla_sim",
        [
            sys.executable,
            "-m",
            "tesla_sim",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--seed",
            str(seed),
            *extra,
        ],
        log,
        child_env(),
    )
    await proc.start()
    url = f"http://127.0.0.1:{port}"

    async def answers() -> bool:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{url}/__sim__/state", timeout=aiohttp.ClientTimeout(5)
            ) as resp,
        ):
            return resp.status == 200

    await wait_for("the simulator", answers, limit=60, processes=[proc])
    return proc


async def start_home_assistant(config_dir: Path, port: int, log: Path) -> Process:
    """Start ``hass -c config_dir`` on 127.0.0.1:``port``; wait until HTTP answers.

    ``--skip-pip``: every requirement is installed by scripts/setup (plus the frontend
    package scripts/develop and scripts/e2e add), so Home Assistant never downloads.
    """
    proc = Process(
        "home-assistant",
        [sys.executable, "-m", "homeassistant", "-c", str(config_dir), "--skip-pip"],
        log,
        child_env(),
    )
    await proc.start()
    url = f"http://127.0.0.1:{port}"

    async def answers() -> bool:
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{url}/api/onboarding", timeout=aiohttp.ClientTimeout(5)
            ) as resp,
        ):
            return resp.status in {200, 401, 404}

    await wait_for("Home Assistant's HTTP server", answers, limit=240, processes=[proc])
    return proc


# --------------------------------------------------------------------- simulator


class Simulator:
    """The simulator's control API."""

    def __init__(self, url: str, session: aiohttp.ClientSession):
        """Talk to the simulator at ``url``."""
        self.url = url
        self.session = session

    async def _json(self, method: str, path: str, body: Any = None) -> Any:
        async with self.session.request(method, f"{self.url}{path}", json=body) as resp:
            data = await resp.json(content_type=None)
            if resp.status >= 400:
                raise E2EError(f"simulator {method} {path}: {resp.status} {data}")
            return data

    async def state(self) -> dict[str, Any]:
        """GET /__sim__/state."""
        return dict(await self._json("GET", "/__sim__/state"))

    async def meter(self) -> dict[str, Any]:
        """GET /__sim__/meter."""
        return dict(await self._json("GET", "/__sim__/meter"))

    async def add_fault(self, kind: str, seconds: float, **extra: Any) -> Any:
        """POST /__sim__/faults."""
        return await self._json(
            "POST", "/__sim__/faults", {"kind": kind, "seconds": seconds, **extra}
        )

    async def clear_faults(self) -> Any:
        """DELETE /__sim__/faults."""
        return await self._json("DELETE", "/__sim__/faults")

    async def account(self, email: str) -> dict[str, Any]:
        """One account of GET /__sim__/state."""
        for account in (await self.state())["accounts"]:
            if account["email"] == email:
                return dict(account)
        raise E2EError(f"the simulator has no account {email}")

    async def vehicle(self, vin: str) -> dict[str, Any]:
        """One vehicle of GET /__sim__/state."""
        for car in (await self.state())["vehicles"]:
            if car["vin"] == vin:
                return dict(car)
        raise E2EError("the simulator does not know that vehicle")


# ------------------------------------------------------------------ Home Assistant


class HomeAssistant:
    """A REST + websocket client for one Home Assistant, like the frontend's."""

    def __init__(self, url: str, session: aiohttp.ClientSession):
        """Talk to Home Assistant at ``url`` (log in with :meth:`onboard` or :meth:`login`)."""
        self.url = url
        self.session = session
        self.client_id = f"{url}/"
        self.redirect_uri = f"{url}/?auth_callback=1"
        self.access_token: str | None = None
        self.refresh_token: str | None = None

    # ---- authentication

    async def onboarded(self) -> bool:
        """Whether the user step of onboarding is done."""
        async with self.session.get(f"{self.url}/api/onboarding") as resp:
            if resp.status == 404:  # onboarding finished: the view is gone
                return True
            steps = await resp.json()
        return any(s["step"] == "user" and s["done"] for s in steps)

    async def _token(self, code: str) -> None:
        async with self.session.post(
            f"{self.url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise E2EError(f"/auth/token: {resp.status} {body}")
        self.access_token = body["access_token"]
        self.refresh_token = body.get("refresh_token")

    async def onboard(self, name: str, username: str, password: str) -> None:
        """Do every onboarding step over REST, as the onboarding pages do."""
        async with self.session.post(
            f"{self.url}/api/onboarding/users",
            json={
                "name": name,
                "username": username,
                "password": password,
                "client_id": self.client_id,
                "language": "en",
            },
        ) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise E2EError(f"onboarding user step: {resp.status} {body}")
        await self._token(body["auth_code"])
        await self.post("/api/onboarding/core_config", {})
        await self.post("/api/onboarding/analytics", {})
        await self.post(
            "/api/onboarding/integration",
            {"client_id": self.client_id, "redirect_uri": self.redirect_uri},
        )

    async def login(self, username: str, password: str) -> None:
        """Log in through the login flow, as the login page does."""
        async with self.session.post(
            f"{self.url}/auth/login_flow",
            json={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.redirect_uri,
            },
        ) as resp:
            flow = await resp.json()
        async with self.session.post(
            f"{self.url}/auth/login_flow/{flow['flow_id']}",
            json={
                "username": username,
                "password": password,
                "client_id": self.client_id,
            },
        ) as resp:
            result = await resp.json()
        if result.get("type") != "create_entry":
            raise E2EError(f"login failed: {result.get('errors')}")
        await self._token(result["result"])

    async def onboard_or_login(self, name: str, username: str, password: str) -> bool:
        """Onboard a fresh instance or log in to an onboarded one; True when onboarded now."""
        if await self.onboarded():
            await self.login(username, password)
            return False
        await self.onboard(name, username, password)
        return True

    async def remove_entries(self, domains: set[str], *, wait: float = 15) -> list[str]:
        """Delete the config entries of ``domains`` (waiting up to ``wait`` s for them).

        Onboarding adds Met.no and Radio Browser, which fetch from the internet.
        """
        deadline = time.monotonic() + wait
        while True:
            entries = await self.get("/api/config/config_entries/entry")
            found = [e for e in entries if e["domain"] in domains]
            if {e["domain"] for e in found} >= domains or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        for entry in found:
            await self.request(
                "DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}"
            )
        return [e["domain"] for e in found]

    # ---- REST

    def _headers(self) -> dict[str, str]:
        if self.access_token is None:
            raise E2EError("not logged in")
        return {"Authorization": f"Bearer {self.access_token}"}

    async def request(
        self, method: str, path: str, body: Any = None, *, expect: int | None = 200
    ) -> tuple[int, Any]:
        """One authenticated REST call; returns (status, JSON or text)."""
        async with self.session.request(
            method, f"{self.url}{path}", json=body, headers=self._headers()
        ) as resp:
            text = await resp.text()
            try:
                data: Any = json.loads(text) if text else None
            except ValueError:
                data = text
            if expect is not None and resp.status != expect:
                raise E2EError(f"{method} {path}: {resp.status} {text[:500]}")
            return resp.status, data

    async def get(self, path: str) -> Any:
        """GET ``path``, expecting 200."""
        return (await self.request("GET", path))[1]

    async def post(self, path: str, body: Any = None) -> Any:
        """POST ``path``, expecting 200."""
        return (await self.request("POST", path, body))[1]

    async def states(self) -> list[dict[str, Any]]:
        """GET /api/states."""
        return list(await self.get("/api/states"))

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """GET /api/states/{entity_id}, None when it does not exist."""
        status, data = await self.request(
            "GET", f"/api/states/{entity_id}", expect=None
        )
        if status == 404:
            return None
        if status != 200:
            raise E2EError(f"GET /api/states/{entity_id}: {status} {data}")
        return dict(data)

    async def call_service(
        self, domain: str, service: str, data: Mapping[str, Any]
    ) -> tuple[int, Any]:
        """POST /api/services/{domain}/{service}; (status, body) without raising."""
        return await self.request(
            "POST", f"/api/services/{domain}/{service}", dict(data), expect=None
        )

    async def core_running(self) -> bool:
        """Whether Home Assistant has finished starting."""
        config = await self.get("/api/config")
        return bool(config.get("state") == "RUNNING")

    # ---- config flows, as the frontend drives them

    async def flow_start(
        self, handler: str, *, advanced: bool = True
    ) -> dict[str, Any]:
        """POST /api/config/config_entries/flow."""
        return dict(
            await self.post(
                "/api/config/config_entries/flow",
                {"handler": handler, "show_advanced_options": advanced},
            )
        )

    async def flow_step(
        self, flow_id: str, user_input: Mapping[str, Any]
    ) -> dict[str, Any]:
        """POST /api/config/config_entries/flow/{flow_id}."""
        return dict(
            await self.post(
                f"/api/config/config_entries/flow/{flow_id}", dict(user_input)
            )
        )

    async def options_start(self, entry_id: str) -> dict[str, Any]:
        """POST /api/config/config_entries/options/flow."""
        return dict(
            await self.post(
                "/api/config/config_entries/options/flow",
                {"handler": entry_id, "show_advanced_options": True},
            )
        )

    async def options_step(
        self, flow_id: str, user_input: Mapping[str, Any]
    ) -> dict[str, Any]:
        """POST /api/config/config_entries/options/flow/{flow_id}."""
        return dict(
            await self.post(
                f"/api/config/config_entries/options/flow/{flow_id}", dict(user_input)
            )
        )

    # ---- websocket

    def websocket(self) -> Websocket:
        """A websocket connection (use ``async with``)."""
        if self.access_token is None:
            raise E2EError("not logged in")
        return Websocket(self.session, self.url, self.access_token)


class Websocket:
    """Home Assistant's websocket API: auth, then numbered commands."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str):
        """Connect to ``url``/api/websocket with ``token`` on enter."""
        self._session = session
        self._url = url.replace("http://", "ws://") + "/api/websocket"
        self._token = token
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._next_id = 1
        self.ha_version: str | None = None

    async def __aenter__(self) -> Self:
        """Connect and authenticate."""
        self._ws = await self._session.ws_connect(self._url, max_msg_size=0)
        hello = await self._ws.receive_json(timeout=30)
        if hello.get("type") != "auth_required":
            raise E2EError(f"websocket: expected auth_required, got {hello}")
        await self._ws.send_json({"type": "auth", "access_token": self._token})
        reply = await self._ws.receive_json(timeout=30)
        if reply.get("type") != "auth_ok":
            raise E2EError(f"websocket auth failed: {reply.get('type')}")
        self.ha_version = reply.get("ha_version")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the connection."""
        if self._ws is not None:
            await self._ws.close()

    async def send(self, message: Mapping[str, Any]) -> int:
        """Send a command; return its id."""
        if self._ws is None:
            raise E2EError("websocket not connected")
        msg_id = self._next_id
        self._next_id += 1
        await self._ws.send_json({"id": msg_id, **message})
        return msg_id

    async def receive(self, within: float = 30) -> dict[str, Any]:
        """The next message (raise when none comes ``within`` seconds)."""
        if self._ws is None:
            raise E2EError("websocket not connected")
        return dict(await self._ws.receive_json(timeout=within))

    async def command(self, message: Mapping[str, Any], within: float = 30) -> Any:
        """Send a command and return its result (raise on an error result)."""
        msg_id = await self.send(message)
        deadline = time.monotonic() + within
        while True:
            reply = await self.receive(max(0.1, deadline - time.monotonic()))
            if reply.get("id") != msg_id or reply.get("type") != "result":
                continue
            if not reply.get("success"):
                raise E2EError(f"websocket {message.get('type')}: {reply.get('error')}")
            return reply.get("result")
