"""The web shell over HTTP: health, who-am-I, tokens, audit API, sign-in with CSRF, languages, errors."""

from __future__ import annotations

import re
import sqlite3

import pytest
from factories import PASSWORD, UserFactory, csrf_from, sign_in, token_for
from fastapi.testclient import TestClient
from sqlalchemy import select

from yiwang.core.db import Database
from yiwang.core.models import AuditEntry
from yiwang.core.settings import Settings
from yiwang.web.app import create_app


def test_health_reports_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "data_dir": "ok"},
    }


def test_health_reports_a_missing_data_dir(client: TestClient, settings: Settings) -> None:
    moved = settings.data_dir.with_name("moved-away")
    settings.data_dir.rename(moved)
    try:
        response = client.get("/healthz")
    finally:
        moved.rename(settings.data_dir)
    assert response.status_code == 503 and response.json()["checks"]["data_dir"] == "unavailable"


def test_me_answers_the_token_owner(client: TestClient, database: Database, make_user: UserFactory) -> None:
    make_user("chen", "dept_staff", department="海南省公安厅")
    token = token_for(database, "chen")
    for header in ({"Authorization": token}, {"Authorization": f"Bearer {token}"}, {"X-CKAN-API-Key": token}):
        response = client.get("/api/v1/me", headers=header)
        assert response.status_code == 200
        assert response.json() == {
            "username": "chen",
            "display_name": "chen",
            "department": "海南省公安厅",
            "roles": ["dept_staff"],
        }


@pytest.mark.parametrize("header, code", [({}, "token.missing"), ({"Authorization": "yw_nope"}, "token.invalid")])
def test_me_without_a_valid_token_is_401(client: TestClient, header: dict[str, str], code: str) -> None:
    response = client.get("/api/v1/me", headers=header)
    assert response.status_code == 401 and response.json()["error"]["code"] == code
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_an_expired_token_is_401_with_a_clear_message(
    client: TestClient, database: Database, make_user: UserFactory
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from yiwang.core.models import ApiToken

    make_user("he", "citizen")
    token = token_for(database, "he", expires_in_days=1)
    with database.session() as session:
        session.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    response = client.get("/api/v1/me", headers={"Authorization": token, "Accept-Language": "en"})
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "token.expired",
        "message": f"The API token expired on {datetime.now(UTC).date()}",
    }


def test_errors_are_in_the_requested_language(client: TestClient) -> None:
    zh = client.get("/api/v1/me").json()["error"]["message"]
    en = client.get("/api/v1/me?lang=en").json()["error"]["message"]
    assert en == "Send your API token in the Authorization header"
    assert zh != en and re.search(r"[\u4e00-\u9fff]", zh)


def test_tokens_can_be_made_listed_and_revoked_over_the_api(
    client: TestClient, database: Database, make_user: UserFactory
) -> None:
    make_user("qiye", "enterprise")
    token = token_for(database, "qiye")
    made = client.post("/api/v1/tokens", json={"name": "etl", "expires_in_days": 30}, headers={"Authorization": token})
    assert made.status_code == 201 and made.json()["token"].startswith("yw_")
    listed = client.get("/api/v1/tokens", headers={"Authorization": token}).json()
    assert [t["name"] for t in listed] == ["test", "etl"] and all("token" not in t for t in listed)
    new = made.json()["token"]
    assert client.delete(f"/api/v1/tokens/{made.json()['id']}", headers={"Authorization": token}).status_code == 200
    assert client.get("/api/v1/me", headers={"Authorization": new}).json()["error"]["code"] == "token.revoked"
    bad = client.post("/api/v1/tokens", json={"expires_in_days": 0}, headers={"Authorization": token})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "request.invalid"


def test_the_audit_api_pages_and_filters_for_auditors_only(
    client: TestClient, database: Database, make_user: UserFactory
) -> None:
    make_user("aud", "auditor")
    make_user("staff", "dept_staff", department="海南省民政厅")
    auditor, staff = token_for(database, "aud"), token_for(database, "staff")
    page = client.get("/api/v1/audit", params={"action": "user.", "page_size": 1}, headers={"Authorization": auditor})
    body = page.json()
    assert page.status_code == 200 and body["total"] == 2 and body["pages"] == 2 and len(body["entries"]) == 1
    assert body["entries"][0]["resource_id"] == "staff"  # newest first
    assert client.get("/api/v1/audit", headers={"Authorization": staff}).status_code == 403
    assert (
        client.get("/api/v1/audit", params={"result": "maybe"}, headers={"Authorization": auditor}).json()["error"][
            "code"
        ]
        == "audit.bad_result"
    )
    assert (
        client.get("/api/v1/audit", params={"since": "yesterday"}, headers={"Authorization": auditor}).status_code
        == 422
    )
    verify = client.get("/api/v1/audit/verify", headers={"Authorization": auditor}).json()
    assert verify["ok"] is True and verify["first_bad_seq"] is None
    assert client.get("/api/v1/audit/verify", headers={"Authorization": staff}).status_code == 403
    with database.read_session() as session:
        refused = session.scalars(select(AuditEntry.action).where(AuditEntry.result == "denied")).all()
    assert refused == ["audit.read", "audit.verify"]


def test_admins_list_users_and_everyone_lists_departments(
    client: TestClient, database: Database, make_user: UserFactory
) -> None:
    make_user("root", "admin", department="海南省大数据管理局")
    make_user("citizen1", "citizen")
    admin, citizen = token_for(database, "root"), token_for(database, "citizen1")
    assert [u["username"] for u in client.get("/api/v1/users", headers={"Authorization": admin}).json()] == [
        "citizen1",
        "root",
    ]
    assert client.get("/api/v1/users", headers={"Authorization": citizen}).status_code == 403
    assert client.get("/api/v1/departments", headers={"Authorization": citizen}).json() == [
        {"name": "海南省大数据管理局", "division_code": None}
    ]


def test_sign_in_sets_a_hardened_session_cookie_and_sign_out_clears_it(
    client: TestClient, make_user: UserFactory
) -> None:
    make_user("lin", "citizen")
    response = sign_in(client, "lin", next_path="/account")
    assert response.status_code == 303 and response.headers["location"] == "/account"  # type: ignore[attr-defined]
    cookie = response.headers["set-cookie"].lower()  # type: ignore[attr-defined]
    assert "httponly" in cookie and "samesite=lax" in cookie
    home = client.get("/")
    assert 'data-testid="whoami"' in home.text
    logout = client.post("/logout", data={"csrf_token": csrf_from(home.text)}, follow_redirects=False)
    assert logout.status_code == 303 and 'data-testid="whoami"' not in client.get("/").text


def test_changing_the_password_ends_other_web_sessions(
    client: TestClient, database: Database, make_user: UserFactory
) -> None:
    from yiwang.core import accounts
    from yiwang.core.identity import Actor

    make_user("lin", "citizen")
    sign_in(client, "lin")
    assert 'data-testid="whoami"' in client.get("/").text
    with database.session() as session:
        accounts.set_password(session, Actor.operator(), "lin", "a-brand-new-password")
    assert 'data-testid="whoami"' not in client.get("/").text


def test_the_audit_page_draws_a_chart_of_entries_per_day(client: TestClient, make_user: UserFactory) -> None:
    import html
    import json

    make_user("aud", "auditor")
    sign_in(client, "aud")
    page = client.get("/audit?lang=en")
    found = re.search(r"data-chart='([^']+)'", page.text)
    assert page.status_code == 200 and found
    option = json.loads(html.unescape(found.group(1)))
    assert [s["name"] for s in option["series"]] == ["Succeeded", "Refused", "Failed"]
    assert sum(option["series"][0]["data"]) >= 2  # the user's creation and sign-in, at least


def test_forms_without_the_csrf_token_are_refused(client: TestClient, make_user: UserFactory) -> None:
    make_user("lin", "citizen")
    client.get("/login")
    response = client.post("/login", data={"username": "lin", "password": PASSWORD})
    assert response.status_code == 403 and "csrf.invalid" in response.text


def test_a_wrong_password_stays_on_the_login_page(client: TestClient, make_user: UserFactory) -> None:
    make_user("lin", "citizen")
    response = sign_in(client, "lin", "not-the-password")
    assert response.status_code == 401 and 'data-testid="login-error"' in response.text  # type: ignore[attr-defined]


def test_an_address_with_too_many_failed_sign_ins_gets_429_with_retry_after(
    settings: Settings, database: Database, make_user: UserFactory
) -> None:
    make_user("lin", "citizen")
    limited = settings.model_copy(update={"login_address_max_failures": 3})
    with TestClient(create_app(limited)) as client:
        for _ in range(3):
            assert sign_in(client, "lin", "not-the-password").status_code == 401  # type: ignore[attr-defined]
        response = sign_in(client, "lin", PASSWORD)
        assert response.status_code == 429 and int(response.headers["retry-after"]) > 0  # type: ignore[attr-defined]
        assert "登录失败次数过多" in response.text and "Traceback" not in response.text  # type: ignore[attr-defined]


def test_sign_in_never_redirects_off_site(client: TestClient, make_user: UserFactory) -> None:
    make_user("lin", "citizen")
    response = sign_in(client, "lin", next_path="//evil.example/")
    assert response.headers["location"] == "/"  # type: ignore[attr-defined]


def test_pages_that_need_a_user_send_anonymous_visitors_to_sign_in(client: TestClient) -> None:
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/account"


def test_the_home_page_speaks_chinese_first_and_english_on_request(client: TestClient) -> None:
    zh = client.get("/")
    assert '<html lang="zh-CN">' in zh.text and "一网" in zh.text
    en = client.get("/?lang=en")
    assert '<html lang="en">' in en.text and "The three networks" in en.text
    assert "yiwang_lang=en" in en.headers["set-cookie"]
    assert '<html lang="en">' in client.get("/").text  # the choice is remembered
    assert '<html lang="en">' in TestClient(client.app).get("/", headers={"Accept-Language": "en-US,en"}).text


@pytest.mark.parametrize(
    "path", ["/", "/login", "/api/v1/me", "/no/such/page", "/api/v1/no-such", "/openapi.json", "/static/css/yiwang.css"]
)
def test_every_response_carries_security_headers(client: TestClient, path: str) -> None:
    """Pages, API answers, errors, the spec and static files alike."""
    response = client.get(path)
    assert path != "/static/css/yiwang.css" or response.status_code == 200
    headers = response.headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "form-action 'self'" in policy


def test_unknown_pages_are_404_without_a_stack_trace(client: TestClient) -> None:
    page = client.get("/no/such/page")
    api = client.get("/api/v1/no-such")
    assert page.status_code == 404 and "Traceback" not in page.text and "http.not_found" in page.text
    assert api.status_code == 404 and api.json()["error"]["code"] == "http.not_found"


def test_an_unexpected_error_is_a_500_with_a_reference_only(
    client: TestClient, database: Database, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user("chen", "citizen")
    token = token_for(database, "chen")

    def explode(*_args: object) -> None:
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr("yiwang.core.accounts.list_tokens", explode)
    quiet = TestClient(client.app, raise_server_exceptions=False)
    response = quiet.get("/api/v1/tokens", headers={"Authorization": token})
    assert response.status_code == 500 and response.json()["error"]["code"] == "server.error"
    assert "secret internals" not in response.text and "Traceback" not in response.text


def test_the_openapi_spec_describes_the_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/v1/me", "/api/v1/audit", "/api/v1/tokens", "/healthz"} <= set(spec["paths"])
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description"), f"{method.upper()} {path} has no description"


def test_the_audit_filter_form_with_empty_dates_works(client: TestClient, make_user: UserFactory) -> None:
    make_user("aud", "auditor")
    sign_in(client, "aud")
    page = client.get(
        "/audit", params={"actor": "", "action": "auth.", "resource_type": "", "result": "", "since": "", "until": ""}
    )
    assert page.status_code == 200 and "auth.login" in page.text and "user.create" not in page.text


def test_switching_language_keeps_the_rest_of_the_address(client: TestClient) -> None:
    page = client.get("/login?next=/account")
    assert 'href="/login?next=%2Faccount&amp;lang=en"' in page.text


def test_the_verify_page_names_a_tampered_entry(client: TestClient, database: Database, make_user: UserFactory) -> None:
    from sqlalchemy import update

    make_user("aud", "auditor")
    sign_in(client, "aud")
    assert 'data-testid="verify-ok"' in client.get("/audit/verify").text
    with database.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(actor_name="nobody"))
    page = client.get("/audit/verify?lang=en")
    assert 'data-testid="verify-broken"' in page.text and "Entry 1 was changed after it was written" in page.text


def test_a_write_that_waits_past_sqlites_busy_timeout_is_a_503_to_retry(
    settings: Settings, database: Database, make_user: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under heavy load a writer can wait out SQLite's busy timeout (found by the 200-user load run): the client is
    told to retry, with a message, not given a 500."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's writers wait on row locks, not a database-wide write lock")
    make_user("lin", "citizen")
    monkeypatch.setattr("yiwang.core.db.SQLITE_BUSY_TIMEOUT_MS", 50)
    holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
    with TestClient(create_app(settings)) as client:
        page = client.get("/login")
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        try:
            busy = client.post(
                "/login", data={"username": "lin", "password": PASSWORD, "csrf_token": csrf_from(page.text)}
            )
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        assert "服务繁忙" in busy.text and "Traceback" not in busy.text
        assert sign_in(client, "lin").status_code == 303  # type: ignore[attr-defined]
