"""Child processes of a benchmark: run one and measure its wall time and peak memory; start and stop a server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(argv: Sequence[str], env: Mapping[str, str], cwd: Path, ready_url: str, log: Path) -> Iterator[None]:
    """A server process serving until the block ends; waits (up to 10 minutes) until `ready_url` answers."""
    with log.open("wb") as sink:
        process = subprocess.Popen(list(argv), cwd=cwd, env=dict(env), stdout=sink, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 600
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{argv[0]} exited: {log.read_text(errors='replace')[-3000:]}")
                try:
                    if httpx.get(ready_url, timeout=5).status_code < 500:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not answer at {ready_url}")
                time.sleep(0.2)
            yield
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
