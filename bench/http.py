"""Catalogue read endpoints under concurrent load: `yiwang serve` on the demo portal against a bare Starlette endpoint
returning a fixed JSON, served by uvicorn with the same settings (bench/http_bare.py), on the same host.

`yiwang demo --no-serve --size small` fills a temporary installation; both servers run as child processes; an async
httpx client keeps `concurrency` requests in flight for a fixed time per endpoint and side and counts the answers
(any status but 200 stops the run). The sides take turns in blocks, so background load slows them alike.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.databases import demo_installation
from bench.harness import DatabaseKind, Figure, Options, Size, Target, per_database
from bench.processes import server, yiwang_serve

DESCRIPTION = "HTTP: package_search, package_show, dataset page under load — yiwang serve vs a bare Starlette endpoint"
NAME = "http"
TARGET = Target(min_ratio=0.5)
ENDPOINTS = (
    ("package_search", "/api/3/action/package_search?q=企业"),
    ("package_show", "/api/3/action/package_show?id=weather-daily"),
    ("dataset page", "/datasets/weather-daily"),
)


@dataclass(frozen=True)
class HttpSize:
    seconds: float  # per endpoint and side
    blocks: int  # turns each side takes per endpoint
    concurrency: int


SIZES: dict[Size, HttpSize] = {
    "tiny": HttpSize(seconds=0.5, blocks=1, concurrency=8),  # the demo alone takes ~13 s
    "small": HttpSize(seconds=15.0, blocks=3, concurrency=16),
    "full": HttpSize(seconds=60.0, blocks=4, concurrency=32),
}


async def _load(base: str, path: str, seconds: float, concurrency: int) -> int:
    """Requests answered 200 in `seconds` with `concurrency` keep-alive requests in flight."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> int:
            done = 0
            while time.perf_counter() < deadline:
                response = await client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"{base}{path} answered {response.status_code}: {response.text[:300]}")
                done += 1
            return done

        return sum(await asyncio.gather(*(worker() for _ in range(concurrency))))


def requests_per_second(base: str, path: str, seconds: float, concurrency: int) -> float:
    start = time.perf_counter()
    # a thread of its own: asyncio.run refuses to start where an event loop already runs, and a test worker that ran
    # the browser tests has one running in its main thread while their session-scoped sync Playwright lives
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-load") as pool:
        count = pool.submit(lambda: asyncio.run(_load(base, path, seconds, concurrency))).result()
    return count / (time.perf_counter() - start)


@contextmanager
def servers(options: Options, kind: DatabaseKind, work: Path) -> Iterator[dict[str, str]]:
    """The demo portal served by `yiwang serve`, and the bare endpoint; their base URLs."""
    console = options.console
    with ExitStack() as stack:
        start = time.perf_counter()
        env = stack.enter_context(demo_installation(kind, options.scratch, options.postgres_url, NAME, work))
        console.print(f"demo portal loaded in {time.perf_counter() - start:.1f} s")

        def bare_cmd(port: int) -> list[str]:
            return [sys.executable, "-m", "bench.http_bare", "--host", "127.0.0.1", "--port", str(port)]

        yield {
            "yiwang": stack.enter_context(server(yiwang_serve, env, work, "/healthz", work / "yiwang.log")),
            "bare": stack.enter_context(server(bare_cmd, env, work, "/", work / "bare.log")),
        }


def measure(options: Options, kind: DatabaseKind, size: HttpSize, urls: dict[str, str]) -> list[Figure]:
    console = options.console
    figures = []
    for label, path in ENDPOINTS:
        # one request first, so that a failing endpoint stops the run before any timing (and caches are warm)
        for base in urls.values():
            httpx.get(f"{base}{path}", timeout=60).raise_for_status()
        rates: dict[str, list[float]] = {side: [] for side in urls}
        for block in range(size.blocks):
            for side in urls if block % 2 == 0 else reversed(urls):
                rates[side].append(requests_per_second(urls[side], path, size.seconds / size.blocks, size.concurrency))
        ours, bare = (sum(rates[side]) / len(rates[side]) for side in ("yiwang", "bare"))
        console.print(f"{label}: yiwang {ours:,.0f} req/s, bare {bare:,.0f} req/s")
        figures.append(
            Figure(
                NAME,
                label,
                kind,
                options.size,
                f"GET {path}, {size.concurrency} in flight, {size.seconds:g} s a side",
                "req/s",
                ours,
                bare,
                "bare Starlette + uvicorn, fixed JSON",
                TARGET,
            )
        )
    return figures


def run(options: Options) -> list[Figure]:
    size = SIZES[options.size]

    def run_one(kind: DatabaseKind, work: Path) -> list[Figure]:
        with servers(options, kind, work) as urls:
            return measure(options, kind, size, urls)

    return per_database(options, "http", run_one)
