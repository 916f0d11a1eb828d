"""Child processes of a benchmark: run one and measure its wall time and peak memory; start and stop a server on a
port of its own."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PORT_ATTEMPTS = 5
STARTUP_TIMEOUT_S = 600


@dataclass(frozen=True)
class Measured:
    """A finished child: wall seconds, peak RSS in MiB (its own or any descendant's, the larger), last JSON line."""

    seconds: float
    peak_rss_mib: float
    output: dict[str, Any]


def child_env(extra: Mapping[str, str] = {}) -> dict[str, str]:
    """This environment without any YIWANG_* setting (the child's installation is only what `extra` says)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("YIWANG_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return {**env, **extra}


def run_measured(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> Measured:
    """Run `argv` to its end; its peak RSS comes from `wait4`, which covers the child and the children it waited
    for. Raises with the child's stderr if it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)  # not Popen.wait: only wait4 gives the child's rusage
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            tail = err.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}):\n{tail}")
        lines = [line for line in out.read().decode().splitlines() if line.startswith("{")]
    return Measured(seconds, usage.ru_maxrss / 1024, json.loads(lines[-1]) if lines else {})


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on now (another process may take it before our server binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def yiwang_serve(port: int) -> list[str]:
    """`yiwang serve` on 127.0.0.1:`port`, with the installation its environment names."""
    return [str(BIN / "yiwang"), "serve", "--host", "127.0.0.1", "--port", str(port)]


@contextmanager
def server(
    command: Callable[[int], Sequence[str]],
    env: Mapping[str, str],
    cwd: Path,
    ready_path: str,
    log: Path,
    *,
    choose_port: Callable[[], int] = free_port,
) -> Iterator[str]:
    """A uvicorn server (`command(port)` is its argv) listening on 127.0.0.1 until the block ends; yields its base
    URL once it listens and `ready_path` answers below 500 (waiting up to 10 minutes).

    Between choosing a free port and the child binding it, another process (a test worker's server) can take it: the
    child then exits with "address already in use" and we try another port. The port only counts as ours once the
    child has logged that uvicorn runs on it, so `ready_path` is never answered by another server."""
    for _ in range(PORT_ATTEMPTS):
        port = choose_port()
        url = f"http://127.0.0.1:{port}"
        start = log.stat().st_size if log.exists() else 0
        argv = list(command(port))
        with log.open("ab") as sink:
            process = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdout=sink, stderr=subprocess.STDOUT)
        try:
            listening = _wait_until_serving(process, argv[0], url, ready_path, log, start)
        except BaseException:
            _stop(process)
            raise
        if listening:
            try:
                yield url
            finally:
                _stop(process)
            return
    raise RuntimeError(f"no free port in {PORT_ATTEMPTS} attempts: {log.read_text(errors='replace')[-3000:]}")


def _wait_until_serving(
    process: subprocess.Popen[bytes], name: str, url: str, ready_path: str, log: Path, start: int
) -> bool:
    """True once the child listens on `url` and answers; False if it exited because the port was taken."""
    listening = f"Uvicorn running on {url} ".encode()  # the space: port 8000 must not match 80001
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        written = _written_since(log, start)
        if process.poll() is not None:
            if b"address already in use" in written.lower():
                return False
            raise RuntimeError(f"{name} exited ({process.returncode}): {written.decode(errors='replace')[-3000:]}")
        if listening in written:
            try:
                if httpx.get(f"{url}{ready_path}", timeout=5).status_code < 500:
                    return True
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not answer at {url}{ready_path} within {STARTUP_TIMEOUT_S} s")


def _written_since(log: Path, start: int) -> bytes:
    with log.open("rb") as written:
        written.seek(start)
        return written.read()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn shuts down cleanly), then SIGKILL after 20 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
