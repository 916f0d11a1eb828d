"""A running demo portal for tests that need a real server: `yiwang demo` then `yiwang serve` on a free port."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

DEMO_TIMEOUT_S = 300
STARTUP_TIMEOUT_S = 60  # a ceiling for a loaded CI machine, never a pass mark
PORT_ATTEMPTS = 5


@dataclass(frozen=True)
class Portal:
    """The running demo portal."""

    url: str
    data_dir: Path
    log: Path
    env: dict[str, str]

    def yiwang(self, *args: str) -> str:
        """Run a `yiwang` command on the portal's installation; its standard output."""
        done = subprocess.run(
            [_yiwang_executable(), *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            pytest.fail(f"`yiwang {' '.join(args)}` exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    @property
    def host_port(self) -> tuple[str, int | None]:
        parts = urlsplit(self.url)
        return parts.hostname or "", parts.port


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _yiwang_executable() -> str:
    path = Path(sys.executable).parent / "yiwang"
    if not path.exists():
        pytest.fail(f"no `yiwang` command next to {sys.executable}: install the project (`make install-test`)")
    return str(path)


def _portal_environment(data_dir: Path) -> dict[str, str]:
    """The parent's environment without any YIWANG_* setting, plus the demo's data directory and secret."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("YIWANG_")}
    env["YIWANG_DATA_DIR"] = str(data_dir)
    env["YIWANG_SECRET_KEY"] = secrets.token_urlsafe(48)
    env["NO_COLOR"] = "1"
    return env


def _wait_until_serving(url: str, server: subprocess.Popen[bytes], log: Path, start: int) -> bool:
    """Healthy on `url` (True), or exited because another process took the port first (False).

    The port only counts as ours once uvicorn has logged that it listens on it: until then (the app starts before
    the socket is bound) `/healthz` could be answered by another worker's server that won a race for the port.
    """
    listening = f"Uvicorn running on {url} ".encode()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        written = _log_since(log, start)
        if server.poll() is not None:
            if b"address already in use" in written:
                return False
            pytest.fail(f"`yiwang serve` exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        if listening in written:
            try:
                if httpx2.get(f"{url}/healthz", timeout=2).status_code == 200:
                    return True
            except httpx2.TransportError:
                pass
        time.sleep(0.2)
    server.kill()
    server.wait()
    pytest.fail(f"`yiwang serve` not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")


def _log_since(log: Path, start: int) -> bytes:
    with log.open("rb") as written:
        written.seek(start)
        return written.read()


def start_server(env: dict[str, str], root: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`yiwang serve` on a free port with `env`, healthy when this returns: the process and its URL."""
    for _ in range(PORT_ATTEMPTS):
        # Between probing a free port and the server binding it, another worker (or an outgoing connection) can
        # take it: then the server exits and we try another port.
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        start = log.stat().st_size if log.exists() else 0
        with log.open("ab") as output:
            server = subprocess.Popen(
                [_yiwang_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=root,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        if _wait_until_serving(url, server, log, start):
            return server, url
    pytest.fail(f"`yiwang serve` found no free port in {PORT_ATTEMPTS} attempts:\n{log.read_text(errors='replace')}")


@contextmanager
def running_demo_portal(root: Path) -> Iterator[Portal]:
    """`yiwang demo` (small, seed 1) in `root`, served by `yiwang serve` on a free port until the block ends."""
    data_dir = root / "data"
    env = _portal_environment(data_dir)
    yiwang = _yiwang_executable()
    demo = subprocess.run(
        [yiwang, "demo", "--no-serve", "--size", "small", "--seed", "1"],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
        check=False,
    )
    if demo.returncode != 0:
        pytest.fail(f"`yiwang demo` exited with {demo.returncode}:\n{demo.stdout}\n{demo.stderr}")
    log = root / "server.log"
    server, url = start_server(env, root, log)
    try:
        yield Portal(url, data_dir, log, env)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
