"""The portal in a real browser: signing in and out, languages, the audit trail, API tokens, keyboard, no CDN.

Expected texts come from the zh-CN message catalogue, so the tests read the page the way a user of the default
language does and keep passing as translations are filled in.
"""

from __future__ import annotations

import re
import secrets
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from yiwang.core.i18n import translator
from yiwang.core.identity import ROLE_LABELS, Role
from yiwang.demo.accounts import ACCOUNTS, DemoAccount

if TYPE_CHECKING:
    from live import Portal

    from tests.browser.conftest import Contexts

pytestmark = pytest.mark.browser

_ = translator("zh_CN")
CJK = re.compile(r"[\u4e00-\u9fff]")
HOME_HEADING = "yiwang: one network for digital government"


def account_with(role: Role) -> DemoAccount:
    return next(account for account in ACCOUNTS if role in account.roles)


def sign_in(page: Page, account: DemoAccount, password: str | None = None) -> None:
    """Fill the sign-in form the way a user does (by its labels) and submit it."""
    page.get_by_label(_("Username")).fill(account.username)
    page.get_by_label(_("Password")).fill(password if password is not None else account.password)
    page.get_by_role("main").get_by_role("button", name=_("Sign in")).click()


def open_and_sign_in(page: Page, account: DemoAccount) -> None:
    page.goto("/login")
    sign_in(page, account)
    expect(page.get_by_test_id("whoami")).to_have_text(account.display_name)


def filter_trail_by_action(page: Page, action: str) -> None:
    """Use the trail's filter form (leaving its other fields empty) and wait for the filtered page."""
    page.get_by_label(_("Action")).fill(action)
    with page.expect_response(lambda r: r.request.resource_type == "document" and "/audit?" in r.url) as answer:
        page.get_by_role("button", name=_("Filter")).click()
    page.wait_for_load_state()
    assert answer.value.status == 200, page.get_by_role("alert").all_inner_texts()
    expect(page).to_have_url(re.compile(rf"[?&]action={re.escape(action)}(&|$)"))
    expect(page.get_by_label(_("Action"))).to_have_value(action)


@pytest.mark.parametrize("account", ACCOUNTS, ids=[account.username for account in ACCOUNTS])
def test_every_demo_account_signs_in_and_out(page: Page, portal: Portal, account: DemoAccount) -> None:
    page.goto("/login")
    sign_in(page, account)

    expect(page).to_have_url(f"{portal.url}/")
    expect(page.get_by_test_id("whoami")).to_have_text(account.display_name)
    welcome = page.get_by_test_id("welcome")
    expect(welcome).to_contain_text(account.display_name)
    for role in account.roles:
        expect(welcome).to_contain_text(_(ROLE_LABELS[Role(role)]))

    header = page.get_by_role("banner")
    header.get_by_role("button", name=_("Sign out")).click()
    expect(header.get_by_role("link", name=_("Sign in"))).to_be_visible()
    expect(page.get_by_test_id("whoami")).to_have_count(0)


def test_wrong_password_shows_an_error_on_the_sign_in_page(page: Page, portal: Portal) -> None:
    account = account_with(Role.ENTERPRISE)
    page.goto("/login")
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/login")) as answer:
        sign_in(page, account, password="not-the-password")

    assert answer.value.status == 401
    expect(page).to_have_url(f"{portal.url}/login")
    error = page.get_by_test_id("login-error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_have_text(_("Wrong username or password"))
    expect(page.get_by_test_id("whoami")).to_have_count(0)


def test_home_page_is_chinese_by_default_and_english_on_request(contexts: Contexts) -> None:
    # A browser that states no language preference gets the platform's default, zh-CN.
    page = contexts.open(extra_http_headers={"Accept-Language": ""}).new_page()
    html = page.locator("html")
    heading = page.get_by_role("heading", level=1)
    header = page.get_by_role("banner")

    page.goto("/")
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(heading).to_have_text(_(HOME_HEADING))
    expect(heading).to_have_text(CJK)

    header.get_by_role("link", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(heading).to_have_text(HOME_HEADING)

    assert {c["name"]: c["value"] for c in page.context.cookies()}.get("yiwang_lang") == "en"
    page.goto("/login")  # the choice is remembered in a cookie, not only in the URL
    expect(html).to_have_attribute("lang", "en")
    page.goto("/")
    expect(html).to_have_attribute("lang", "en")
    expect(heading).to_have_text(HOME_HEADING)

    header.get_by_role("link", name="中文").click()
    expect(html).to_have_attribute("lang", "zh-CN")
    expect(heading).to_have_text(CJK)
    page.goto("/")
    expect(html).to_have_attribute("lang", "zh-CN")


def test_auditor_reads_filters_and_verifies_the_audit_trail(page: Page, portal: Portal) -> None:
    open_and_sign_in(page, account_with(Role.AUDITOR))
    page.get_by_role("navigation").get_by_role("link", name=_("Audit trail")).click()
    expect(page).to_have_url(f"{portal.url}/audit")
    rows = page.locator("main table tbody tr")
    expect(rows.first).to_be_visible()

    actions = rows.locator("td:nth-child(5)")
    filter_trail_by_action(page, "user.create")
    assert set(actions.all_inner_texts()) == {"user.create"}
    shown = " ".join(rows.all_inner_texts())
    for account in ACCOUNTS:  # the demo created each of its accounts
        assert f"user {account.username}" in shown

    filter_trail_by_action(page, "auth.login")
    assert set(actions.all_inner_texts()) == {"auth.login"}  # not empty: the auditor's own sign-in is there

    page.get_by_role("link", name=_("Verify the chain")).click()
    expect(page.get_by_test_id("verify-ok")).to_be_visible()
    expect(page.get_by_test_id("verify-broken")).to_have_count(0)


def test_citizen_is_refused_the_audit_trail_without_a_stack_trace(page: Page) -> None:
    open_and_sign_in(page, account_with(Role.CITIZEN))
    expect(page.get_by_role("navigation").get_by_role("link", name=_("Audit trail"))).to_have_count(0)

    response = page.goto("/audit")

    assert response is not None and response.status == 403
    expect(page.get_by_role("main").get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("main").locator("table")).to_have_count(0)
    assert "Traceback" not in page.content()


def test_account_page_creates_a_working_token_and_revokes_it(page: Page, portal: Portal) -> None:
    account = account_with(Role.CITIZEN)
    page.goto("/account")
    expect(page).to_have_url(f"{portal.url}/login?next=/account")

    sign_in(page, account)
    expect(page).to_have_url(f"{portal.url}/account")
    expect(page.get_by_test_id("whoami")).to_have_text(account.display_name)

    purpose = f"browser test {secrets.token_hex(4)}"
    page.get_by_label(_("Purpose")).fill(purpose)
    page.get_by_role("button", name=_("Create token")).click()
    token = page.get_by_test_id("new-token").inner_text().strip()
    assert token

    me = page.request.get("/api/v1/me", headers={"Authorization": token})
    assert me.status == 200
    assert me.json()["username"] == account.username

    row = page.get_by_role("row").filter(has_text=purpose)
    row.get_by_role("button", name=_("Revoke")).click()
    expect(page).to_have_url(f"{portal.url}/account")
    expect(page.get_by_test_id("new-token")).to_have_count(0)  # shown once only
    expect(row).to_contain_text(_("Revoked"))

    assert page.request.get("/api/v1/me", headers={"Authorization": token}).status == 401


def test_first_tab_focuses_the_skip_link(page: Page) -> None:
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name=_("Skip to main content"))
    expect(skip).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()


def test_pages_load_only_from_the_portal_without_errors(contexts: Contexts, page: Page, portal: Portal) -> None:
    open_and_sign_in(page, account_with(Role.AUDITOR))
    for path in ("/", "/account", "/audit", "/audit/verify", "/?lang=en", "/audit", "/?lang=zh_CN"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
    # Our own htmx ran (strict CSP: scripts only from /static), and the chart library is served locally too.
    assert page.evaluate("typeof window.htmx") == "object"
    for vendor in ("htmx.min.js", "echarts.min.js"):
        assert page.request.get(f"/static/vendor/{vendor}").status == 200, vendor

    missing = page.goto("/no-such-page")
    assert missing is not None and missing.status == 404
    anonymous = contexts.open(locale="en-US").new_page()
    anonymous.goto("/login")

    assert f"{portal.url}/static/vendor/htmx.min.js" in contexts.requests()
    assert contexts.problems() == []
