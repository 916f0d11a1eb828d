"""Real-browser fixtures: one demo portal and one headless Debian Chromium per session, a fresh context per test.

Every context records what its pages did; a test fails when a page logged a console error, a script raised, a
sub-resource failed or anything was fetched from another host than the portal (the platform must work offline).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from live import Portal
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Response,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

from yiwang.core.i18n import translator
from yiwang.demo.accounts import ACCOUNTS

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
# How long an `expect(...)` waits for the page to get there (Playwright's default is 5 s): a ceiling, never a pass
# mark, generous because the portal shares the CPU with the other test workers.
EXPECT_TIMEOUT_MS = 20_000
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
# Chromium logs this for every response with an error status, including the pages a test opens on purpose.
ABORTED = "net::ERR_ABORTED"
FAILED_RESOURCE = "Failed to load resource: the server responded with a status of"


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


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: `apt-get install -y chromium` to run the browser tests"
        if REQUIRE_BROWSER:
            pytest.fail(f"YIWANG_TEST_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session (never `playwright install`'s browser)."""
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def portal(browser: Browser, demo_portal: Portal) -> Portal:
    """The demo portal; it asks for the browser first so a machine without Chromium skips before building it."""
    return demo_portal


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


SignedIn = Callable[[str], Page]


@pytest.fixture
def signed_in(contexts: Contexts) -> SignedIn:
    """A fresh watched browser of a demo account, signed in through the form (Chinese-speaking user)."""
    translate = translator("zh_CN")

    def open_as(username: str) -> Page:
        account = next(a for a in ACCOUNTS if a.username == username)
        page = contexts.open(locale="zh-CN").new_page()
        page.goto("/login")
        page.get_by_label(translate("Username")).fill(account.username)
        page.get_by_label(translate("Password")).fill(account.password)
        page.get_by_role("main").get_by_role("button", name=translate("Sign in")).click()
        expect(page.get_by_test_id("whoami")).to_have_text(account.display_name)
        return page

    return open_as
