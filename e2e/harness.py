"""Run the simulator and Home Assistant as real processes.

Shared by ``scripts/develop`` (the demo) and ``scripts/e2e`` (the end-to-end test):
free ports, the runtime copy of ``config/``, process start/stop and waiting until a
process answers. The clients that talk to the processes are in :mod:`e2e.clients`
(REST, config flows) and :mod:`e2e.websocket`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Container, Mapping, Sequence
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
from typing import Any

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


def prepare_config(
    target: Path, *, fresh: bool, port: int, sim_url: str | None = None
) -> Path:
    """Copy ``config/`` to ``target``, link the integration, listen on 127.0.0.1:``port``.

    Home Assistant's own files (``.storage``, the database, logs) in ``target`` are kept
    unless ``fresh``; the YAML files are refreshed from ``config/`` on every start. The
    development-only integrations of ``config/custom_components`` are linked too; with
    ``sim_url`` ``tesla_sim_bluetooth`` is configured (the simulator over Bluetooth: Home
    Assistant must then be started with ``dev_only=True``).
    """
    if fresh and target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    for item in CONFIG_TEMPLATE.iterdir():
        if item.is_file() and item.suffix in {".yaml", ".yml"}:
            shutil.copy2(item, target / item.name)
    write_http_config(target, port)
    if sim_url is not None:
        with (target / "configuration.yaml").open("a") as yaml_file:
            yaml_file.write(f"\ntesla_sim_bluetooth:\n  url: {sim_url}\n")
    components = target / "custom_components"
    components.mkdir(exist_ok=True)
    _link(components / DOMAIN, INTEGRATION)
    dev_only = CONFIG_TEMPLATE / "custom_components"
    for item in sorted(dev_only.iterdir()) if dev_only.is_dir() else ():
        if (item / "manifest.json").is_file():
            _link(components / item.name, item)
    pythonpath = target.parent / "pythonpath"
    pythonpath.mkdir(exist_ok=True)
    _link(pythonpath / "tesla_sim", ROOT / "tesla_sim")
    return target


def _link(link: Path, source: Path) -> None:
    """Make ``link`` a symbolic link to the directory ``source`` (replacing what was)."""
    if link.is_symlink() or link.exists():
        if link.is_symlink() and link.resolve() == source.resolve():
            return
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        else:
            link.unlink()
    link.symlink_to(source, target_is_directory=True)


# --------------------------------------------------------------------- processes


class Process:
    """A child process in its own session, its output written to a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        env: Mapping[str, str],
        cwd: Path = ROOT,
    ):
        """Remember what to start (in ``cwd``)."""
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.env = dict(env)
        self.cwd = cwd
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
            cwd=self.cwd,
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


async def _start_answering(
    proc: Process, what: str, url: str, statuses: Container[int], *, limit: float
) -> Process:
    """Start ``proc``; wait up to ``limit`` s for GET ``url`` to answer in ``statuses``."""
    await proc.start()

    async def answers() -> bool:
        async with (
            aiohttp.ClientSession() as session,
            session.get(url, timeout=aiohttp.ClientTimeout(5)) as resp,
        ):
            return resp.status in statuses

    await wait_for(what, answers, limit=limit, processes=[proc])
    return proc


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
            # Cars that take REST too: our key is not approved on them (the integration tries
            # signed once per car, then REST). Signing-required cars come with the onboarding
            # flow (issue 11), which pairs the key in the browser.
            "--rest-commands",
            *extra,
        ],
        log,
        child_env(),
    )
    url = f"http://127.0.0.1:{port}/__sim__/state"
    return await _start_answering(proc, "the simulator", url, {200}, limit=60)


async def start_home_assistant(
    config_dir: Path, port: int, log: Path, *, dev_only: bool = False
) -> Process:
    """Start ``hass -c config_dir`` on 127.0.0.1:``port``; wait until HTTP answers.

    ``--skip-pip``: every requirement is installed by scripts/setup (plus the frontend
    package scripts/develop and scripts/e2e add), so Home Assistant never downloads.
    ``dev_only``: Home Assistant finds its custom integrations in ``config_dir`` (the
    repository's ``custom_components`` package, importable from the repository's root,
    would hide the development-only ones) and imports ``tesla_sim`` from the
    ``pythonpath`` directory :func:`prepare_config` links next to it.
    """
    env = child_env()
    cwd = ROOT
    if dev_only:
        env["PYTHONPATH"] = str(config_dir.parent / "pythonpath")
        cwd = config_dir
    proc = Process(
        "home-assistant",
        [sys.executable, "-m", "homeassistant", "-c", str(config_dir), "--skip-pip"],
        log,
        env,
        cwd,
    )
    url = f"http://127.0.0.1:{port}/api/onboarding"
    return await _start_answering(
        proc, "Home Assistant's HTTP server", url, {200, 401, 404}, limit=240
    )
