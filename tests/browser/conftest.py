"""Real-browser fixtures: one demo portal and one headless Debian Chromium per session, a fresh context per test.

Every context records what its pages did; a test fails when a page logged a console error, a script raised, a
sub-resource failed or anything was fetched from another host than the portal (the platform must work offline).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_BROWSER = os.environ.get("YIWANG_TEST_REQUIRE_BROWSER") == "1"
DEMO_TIMEOUT_S = 300
STARTUP_TIMEOUT_S = 30
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
# Chromium logs this for every response with an error status, including the pages a test opens on purpose.
ABORTED = "net::ERR_ABORTED"
FAILED_RESOURCE = "Failed to load resource: the server responded with a status of"


@dataclass(frozen=True)
class Portal:
    """The running demo portal."""

    url: str
    data_dir: Path
    log: Path

    @property
    def host_port(self) -> tuple[str, int | None]:
        parts = urlsplit(self.url)
        return parts.hostname or "", parts.port


@dataclass
class PageLog:
    """What the pages of one browser context did that a user or an offline network would notice."""

    portal: Portal
    requests: list[str] = field(default_factory=list)
    console_errors: list[tuple[str, str]] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    error_documents: set[str] = field(default_factory=set)

    def watch(self, context: BrowserContext) -> None:
        context.on("request", self._on_request)
        context.on("requestfailed", self._on_request_failed)
        context.on("response", self._on_response)
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.script_errors.append(str(error.error)))

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _on_request_failed(self, request: Request) -> None:
        # The browser cancels what a page was still loading when the test moves on: not the portal's fault.
        if request.failure != ABORTED:
            self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Response) -> None:
        if response.status < 400:
            return
        if response.request.resource_type == "document":
            # An error page the test navigated to (403, 401 …): the test itself asserts on its status.
            self.error_documents.add(response.url)
        else:
            self.failed.append(f"{response.request.method} {response.url}: HTTP {response.status}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append((message.text, str(message.location.get("url", ""))))

    def foreign_requests(self) -> list[str]:
        """Requests that did not go to the portal (a CDN, a font service, analytics …)."""
        home = self.portal.host_port
        foreign = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if (parts.hostname, parts.port) != home:
                foreign.append(url)
        return foreign

    def problems(self) -> list[str]:
        found = [f"request to another host: {url}" for url in self.foreign_requests()]
        found += [f"failed request: {line}" for line in self.failed]
        found += [f"script error: {text}" for text in self.script_errors]
        for text, url in self.console_errors:
            if text.startswith(FAILED_RESOURCE) and url in self.error_documents:
                continue
            found.append(f"console error: {text} ({url})")
        return found


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


def _wait_until_healthy(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"`yiwang serve` exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx2.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"`yiwang serve` not healthy after {STARTUP_TIMEOUT_S} s:\n{log.read_text(errors='replace')}")


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: `apt-get install -y chromium` to run the browser tests"
        if REQUIRE_BROWSER:
            pytest.fail(f"YIWANG_TEST_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session (never `playwright install`'s browser)."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def portal(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """`yiwang demo` (small, seed 1) in a temporary data directory, served by `yiwang serve` on a free port.

    It asks for the browser first so that a machine without Chromium skips before building the demo.
    """
    root = tmp_path_factory.mktemp("portal")
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
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [yiwang, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=root,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(url, server, log)
        yield Portal(url, data_dir, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class Contexts:
    """The watched browser contexts a test opened on the portal."""

    def __init__(self, browser: Browser, portal: Portal) -> None:
        self.browser = browser
        self.portal = portal
        self.opened: list[tuple[BrowserContext, PageLog]] = []

    def open(self, **options: Any) -> BrowserContext:
        context = self.browser.new_context(base_url=self.portal.url, **options)
        log = PageLog(self.portal)
        log.watch(context)
        self.opened.append((context, log))
        return context

    def problems(self) -> list[str]:
        return [problem for _, log in self.opened for problem in log.problems()]

    def requests(self) -> list[str]:
        return [url for _, log in self.opened for url in log.requests]

    def close(self) -> None:
        for context, _ in self.opened:
            with contextlib.suppress(PlaywrightError):
                context.close()


@pytest.fixture
def contexts(browser: Browser, portal: Portal) -> Iterator[Contexts]:
    """Open watched contexts; at the end, fail on anything their pages did wrong (console error, CDN, 404 …)."""
    opened = Contexts(browser, portal)
    yield opened
    opened.close()
    problems = opened.problems()
    assert not problems, "the pages of this test misbehaved:\n" + "\n".join(problems)


@pytest.fixture
def context(contexts: Contexts) -> BrowserContext:
    """A fresh browser context of a Chinese-speaking user (Accept-Language zh-CN)."""
    return contexts.open(locale="zh-CN")


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
