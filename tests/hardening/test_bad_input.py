"""The bad-input corpus (`bad_inputs`) through the real HTTP surfaces, on SQLite and PostgreSQL.

Malformed and hostile files (truncated CSV/XLSX/Parquet/GeoJSON, wrong encodings, BOM games, 10,000 columns, a zip
bomb, deep nesting, a very long single line streamed in, lying extensions, hostile file names) go to the dataset
upload (API and web form); hostile JSON bodies to the JSON API; hostile urlencoded fields to the sign-in, dataset and
application forms; hostile materials to the application API and form. Each must get a 4xx with a clear message in
the user's language (zh-CN; English too for all but the large files), never a stack trace, and change nothing: no
row in any table (refused accesses are audited and failed sign-ins counted by design, so only those may appear), no
path under the data directory (staging and temp directories included) or beside it, and the audit chain verifies.
File names with a directory part are the exception: old browsers send whole Windows paths, so such an upload is
taken under its base name, and the test checks nothing lands anywhere else. ``YIWANG_HARDEN_FULL=1`` runs the
expensive entries at full size (a 1 GiB line, a zip bomb of 1.9 GiB).
"""

from __future__ import annotations

import base64
import html
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import pytest
from bad_inputs import (
    CSV_GOOD,
    PNG,
    TRAVERSAL_NAMES,
    UPLOADS,
    BadFile,
    long_line,
    long_line_size,
    long_ndjson,
    long_ndjson_size,
)
from factories import PASSWORD, TEST_SECRET, csrf_from, fresh_database_url, sign_in
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from yiwang.catalog.models import Dataset, DatasetVersion
from yiwang.core import accounts, audit, installation
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.models import AuditEntry, Base
from yiwang.core.settings import Settings
from yiwang.services import bpmn, items
from yiwang.services.models import Application
from yiwang.web.app import create_app

POLICE = "海南省公安厅"
DATASET = "registry"
SERVICE = "bad-input-certificate"
TRACE_MARKERS = ("Traceback", 'File "', "sqlalchemy", "psycopg", "duckdb.", "Error:")
CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
BOUNDARY = "yiwang-bad-input-boundary"
CHEAP_BYTES = 1 << 20  # corpus files this small are also checked in English


@dataclass
class World:
    """A fresh installation with a publisher, a citizen, a dataset with one version and a service to apply for."""

    settings: Settings
    database: Database
    client: TestClient  # API calls (token headers); owns the app's lifespan
    publisher: dict[str, str]
    citizen: dict[str, str]
    publisher_web: TestClient  # signed-in browser sessions on the same app
    citizen_web: TestClient

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir


def _service_item() -> items.ServiceItemInput:
    return items.ServiceItemInput.model_validate(
        {
            "code": SERVICE,
            "item_code": "460000-GG-98765",
            "name": "证明开具",
            "department": POLICE,
            "category": "公共服务",
            "audience": ["citizen"],
            "legal_days": 5,
            "promised_days": 2,
            "guide": {"summary": "网上办"},
            "form": {
                "type": "object",
                "properties": {
                    "applicant_name": {"type": "string", "title": "姓名", "x-title-en": "Name", "minLength": 2},
                    "copies": {"type": "integer", "title": "份数", "x-title-en": "Copies", "minimum": 1},
                    "fee": {"type": "number", "title": "费用", "x-title-en": "Fee"},
                },
                "required": ["applicant_name"],
            },
            "materials": [{"code": "photo", "name": "照片", "required": False, "formats": ["png"]}],
        }
    )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, _postgres_admin_url: str | None
) -> Iterator[World]:
    directory = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    with fresh_database_url(request.param, _postgres_admin_url, directory) as url:
        settings = Settings(data_dir=directory / "data", database_url=url, secret_key=TEST_SECRET)
        database = installation.initialise(settings)
        operator = Actor.operator()
        with database.session() as session:
            accounts.create_department(session, operator, POLICE)
            accounts.create_user(session, operator, "gongan", PASSWORD, ("dept_staff",), POLICE)
            accounts.create_user(session, operator, "shimin", PASSWORD, ("citizen",), None)
            publisher = {"Authorization": accounts.create_token(session, operator, "gongan", "t", None)[1]}
            citizen = {"Authorization": accounts.create_token(session, operator, "shimin", "t", None)[1]}
            items.create_item(session, operator, _service_item())
            steps = [bpmn.Step("accept", "受理", POLICE)]
            items.import_process(session, operator, SERVICE, bpmn.build("Process_bad_input", "证明", steps))
        app = create_app(settings)
        with TestClient(app) as client:
            body = {"name": DATASET, "title": "户籍", "department": POLICE, "share_type": "conditional"}
            assert client.post("/api/v1/datasets", headers=publisher, json=body).status_code == 201
            good = client.post(
                f"/api/v1/datasets/{DATASET}/versions",
                headers=publisher,
                files={"file": ("good.csv", CSV_GOOD.encode(), "text/csv")},
            )
            assert good.status_code == 201, good.text
            publisher_web, citizen_web = TestClient(app), TestClient(app)
            assert sign_in(publisher_web, "gongan").status_code == 303  # type: ignore[attr-defined]
            assert sign_in(citizen_web, "shimin").status_code == 303  # type: ignore[attr-defined]
            yield World(settings, database, client, publisher, citizen, publisher_web, citizen_web)
        database.dispose()


# --- what "refused, clearly, and nothing changed" means ------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    rows: Mapping[str, int]
    files: tuple[str, ...]
    beside: tuple[str, ...]  # next to the data directory: where a traversal would land


#: Tables a refused request writes to by design: failed sign-ins are counted per address (the lockout's memory).
COUNTED_REFUSALS = frozenset({"sign_in_failures"})


def snapshot(world: World) -> Snapshot:
    rows: dict[str, int] = {}
    with world.database.read_session() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in COUNTED_REFUSALS:
                continue
            query = select(func.count()).select_from(table)
            if table.name == AuditEntry.__tablename__:
                query = query.where(table.c.result != "denied")  # a refused access is audited by design
            rows[table.name] = session.scalar(query) or 0
    root = world.data_dir
    files = tuple(sorted(str(p.relative_to(root)) for p in root.rglob("*")))
    beside = tuple(sorted(p.name for p in root.parent.rglob("*") if root not in p.parents and p != root))
    return Snapshot(rows, files, beside)


def chain_verifies(world: World) -> None:
    with world.database.read_session() as session:
        report = audit.verify(session, Actor.operator())
    assert report.ok, report.problem


@contextmanager
def unchanged(world: World) -> Iterator[None]:
    """The block leaves every table's row count, every path under and beside the data directory as they were."""
    before = snapshot(world)
    yield
    after = snapshot(world)
    changed_rows = {t: (before.rows[t], n) for t, n in after.rows.items() if before.rows.get(t) != n}
    assert not changed_rows, f"rows changed (before, after): {changed_rows}"
    added, removed = sorted(set(after.files) - set(before.files)), sorted(set(before.files) - set(after.files))
    assert after.files == before.files, f"files added {added}, removed {removed}"
    assert after.beside == before.beside, "something was written beside the data directory"
    chain_verifies(world)


_HTML_CODE = re.compile(r"<code>([a-z0-9_.]+)</code></p>")
_HTML_ALERT = re.compile(r'role="alert"[^>]*>(.*?)</(?:p|div)>', re.S)
_TAG = re.compile(r"<[^>]+>")


def refused(response: httpx2.Response, status: int, code: str, *, english: bool = False) -> str:
    """Assert a clear refusal: `status`, error `code` (``""``: a form shown again with its errors, which names no
    code), a message in the language asked for, no stack trace. Returns the message."""
    body = response.text
    assert 400 <= response.status_code < 500, f"{response.status_code}: {body[:500]}"
    for marker in TRACE_MARKERS:
        assert marker not in body, f"{marker!r} in the answer: {body[:500]}"
    if response.headers.get("content-type", "").startswith("application/json"):
        error = response.json()["error"]
        found, message = error["code"], error["message"]
        message += " " + " ".join(error.get("fields", {}).values())
    else:
        codes, alerts = _HTML_CODE.findall(body), _HTML_ALERT.findall(body)
        assert alerts, f"no error message on the page: {body[:800]}"
        found, message = (codes[-1] if codes else ""), html.unescape(_TAG.sub(" ", alerts[0]))
    assert (response.status_code, found) == (status, code), f"{response.status_code} {found}: {message}"
    assert message.strip()
    if english:
        assert not CJK.search(message), f"not in English: {message}"
    else:
        assert CJK.search(message), f"not in Chinese: {message}"
    return message


def multipart(fields: Mapping[str, str], files: Mapping[str, tuple[bytes, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A multipart body built by hand: file names go on the wire byte for byte (httpx would escape them)."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, content) in files.items():
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="'.encode()
        parts.append(head + filename + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + b"\r\n")
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def upload(world: World, filename: str, content: bytes, language: Mapping[str, str]) -> httpx2.Response:
    body, headers = multipart({}, {"file": (filename.encode(), content)})
    return world.client.post(
        f"/api/v1/datasets/{DATASET}/versions", headers={**world.publisher, **language, **headers}, content=body
    )


# --- dataset uploads -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", UPLOADS, ids=[bad.case for bad in UPLOADS])
def test_a_bad_file_upload_is_refused_clearly_and_changes_nothing(world: World, bad: BadFile) -> None:
    content = bad.content()
    with unchanged(world):
        refused(upload(world, bad.filename, content, ZH), bad.status, bad.code)
        if len(content) <= CHEAP_BYTES:
            refused(upload(world, bad.filename, content, EN), bad.status, bad.code, english=True)


WEB_UPLOADS = [bad for bad in UPLOADS if bad.case in {"truncated-csv-mid-quote", "png-named-csv", "empty", "latin-1"}]


@pytest.mark.parametrize("bad", WEB_UPLOADS, ids=[bad.case for bad in WEB_UPLOADS])
def test_a_bad_file_through_the_web_upload_form_is_refused_on_a_page(world: World, bad: BadFile) -> None:
    web = world.publisher_web
    token = csrf_from(web.get(f"/datasets/{DATASET}").text)
    body, headers = multipart({"csrf_token": token}, {"file": (bad.filename.encode(), bad.content())})
    with unchanged(world):
        refused(
            web.post(f"/datasets/{DATASET}/versions", headers={**ZH, **headers}, content=body), bad.status, bad.code
        )


@pytest.mark.parametrize("filename", TRAVERSAL_NAMES)
def test_a_path_in_the_file_name_is_reduced_to_its_base_name(world: World, filename: str) -> None:
    """Old browsers send whole Windows paths: the upload is taken under the base name and nothing lands elsewhere."""
    before = snapshot(world)
    body, headers = multipart({}, {"file": (filename.encode(), CSV_GOOD.encode())})
    response = world.client.post(
        f"/api/v1/datasets/{DATASET}/versions", headers={**world.publisher, **headers}, content=body
    )
    assert response.status_code == 201, response.text
    assert response.json()["source_filename"] == "passwd.csv"
    after = snapshot(world)
    new = set(after.files) - set(before.files)
    assert new and all(path.startswith(f"datasets/{DATASET}/") for path in new), new
    assert after.beside == before.beside and not any("passwd" in path for path in after.files)
    chain_verifies(world)


def stream(world: World, path: str, headers: Mapping[str, str], chunks: Iterator[bytes], size: int) -> httpx2.Response:
    """POST a multipart upload of `size` bytes from `chunks` straight to the app's ASGI interface, a chunk at a time
    (the test client would read the whole body into memory first)."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="long.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    sent = {
        **headers,
        "content-type": f"multipart/form-data; boundary={BOUNDARY}",
        "content-length": str(len(head) + size + len(tail)),
        "host": "testserver",
    }
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in sent.items()],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "extensions": {},
    }
    parts = itertools.chain([head], chunks, [tail])
    pending = next(parts)
    status: list[int] = []
    answer: list[bytes] = []
    response_headers: list[tuple[bytes, bytes]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pending
        if pending is None:
            return {"type": "http.disconnect"}
        chunk, pending = pending, next(parts, None)
        return {"type": "http.request", "body": chunk, "more_body": pending is not None}

    async def send(message: Mapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(int(message["status"]))
            response_headers.extend(message.get("headers", []))
        elif message["type"] == "http.response.body":
            answer.append(bytes(message.get("body", b"")))

    async def run() -> None:
        await world.client.app(scope, receive, send)

    assert world.client.portal is not None, "the client's lifespan must be running"
    world.client.portal.call(run)
    return httpx2.Response(
        status[0], content=b"".join(answer), headers=[(k.decode(), v.decode()) for k, v in response_headers]
    )


@pytest.mark.parametrize(
    ("chunks", "size"), [(long_line, long_line_size), (long_ndjson, long_ndjson_size)], ids=["csv", "ndjson"]
)
def test_a_very_long_single_line_is_refused_without_reading_it_into_memory(
    world: World, chunks: Any, size: Any
) -> None:
    with unchanged(world):
        response = stream(world, f"/api/v1/datasets/{DATASET}/versions", {**world.publisher, **ZH}, chunks(), size())
        refused(response, 422, "ingest.malformed")


# --- JSON API bodies -----------------------------------------------------------------------------------------------


NESTED_BODY = b'{"name": "x", "title": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"


@dataclass(frozen=True)
class BadBody:
    case: str
    path: str
    who: str  # "publisher" or "citizen"
    body: bytes
    content_type: str
    status: int
    code: str


def _application(form: str) -> bytes:
    return ('{"form": ' + form + "}").encode()


BODIES: tuple[BadBody, ...] = (
    BadBody("nested-json", "/api/v1/datasets", "publisher", NESTED_BODY, "application/json", 400, "http.bad_request"),
    BadBody(
        "invalid-utf8",
        "/api/v1/datasets",
        "publisher",
        b'{"name": "bad-utf8", "title": "\xff\xfe", "department": "' + POLICE.encode() + b'"}',
        "application/json",
        400,
        "http.bad_request",
    ),
    BadBody(
        "wrong-content-type",
        "/api/v1/datasets",
        "publisher",
        json.dumps({"name": "plain", "title": "t", "department": POLICE}).encode(),
        "text/plain",
        422,
        "request.invalid",
    ),
    BadBody(
        "nul-in-json-string",
        "/api/v1/datasets",
        "publisher",
        json.dumps({"name": "nul", "title": "户\u0000籍", "department": POLICE}).encode(),
        "application/json",
        422,
        "request.nul",
    ),
    BadBody(
        "oversized-json-string",
        "/api/v1/datasets",
        "publisher",
        json.dumps({"name": "big", "title": "长" * (1 << 20), "department": POLICE}).encode(),
        "application/json",
        422,
        "dataset.bad_title",
    ),
    BadBody(
        "number-1e400",
        f"/api/v1/services/{SERVICE}/applications",
        "citizen",
        _application('{"applicant_name": "张三", "fee": 1e400}'),
        "application/json",
        422,
        "form.invalid",
    ),
    BadBody(
        "number-nan",
        f"/api/v1/services/{SERVICE}/applications",
        "citizen",
        _application('{"applicant_name": "张三", "fee": NaN}'),
        "application/json",
        422,
        "form.invalid",
    ),
    BadBody(
        "number-infinity",
        f"/api/v1/services/{SERVICE}/applications",
        "citizen",
        _application('{"applicant_name": "张三", "fee": -Infinity}'),
        "application/json",
        422,
        "form.invalid",
    ),
    BadBody(
        "integer-2**80",
        f"/api/v1/services/{SERVICE}/applications",
        "citizen",
        _application('{"applicant_name": "张三", "copies": ' + str(2**80) + "}"),
        "application/json",
        422,
        "form.invalid",
    ),
    BadBody(
        "integer-400-digits",
        f"/api/v1/services/{SERVICE}/applications",
        "citizen",
        _application('{"applicant_name": "张三", "copies": 1' + "0" * 400 + "}"),
        "application/json",
        422,
        "form.invalid",
    ),
    BadBody(
        "integer-minus-zero",
        f"/api/v1/services/{SERVICE}/applications",
        "citizen",
        _application('{"applicant_name": "张三", "copies": -0}'),
        "application/json",
        422,
        "form.invalid",
    ),
    BadBody(
        "nul-in-form-field",
        f"/api/v1/services/{SERVICE}/applications",
        "citizen",
        _application('{"applicant_name": "张\\u0000三"}'),
        "application/json",
        422,
        "request.nul",
    ),
)


@pytest.mark.parametrize("bad", BODIES, ids=[bad.case for bad in BODIES])
def test_a_bad_json_body_is_refused_clearly_and_changes_nothing(world: World, bad: BadBody) -> None:
    who = world.publisher if bad.who == "publisher" else world.citizen
    with unchanged(world):
        for language, english in ((ZH, False), (EN, True)):
            headers = {**who, **language, "Content-Type": bad.content_type}
            refused(
                world.client.post(bad.path, headers=headers, content=bad.body), bad.status, bad.code, english=english
            )


# --- HTML form posts -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadForm:
    case: str
    who: str  # "anonymous", "publisher" or "citizen"
    page: str  # where the form (and its CSRF token) comes from
    action: str
    body: str  # urlencoded; {csrf} is the page's token
    status: int
    code: str


MEGABYTE_VALUE = "a" * 1_000_000
NEW_DATASET = f"name=web-set&department={quote(POLICE)}&share_type=conditional&open_type=none&security_level=general"
APPLY = f"/services/{SERVICE}/apply"

FORMS: tuple[BadForm, ...] = (
    BadForm(
        "login-invalid-utf8",
        "anonymous",
        "/login",
        "/login",
        "csrf_token={csrf}&username=%FF%FE&password=%FF&next=/",
        422,
        "request.invalid_text",
    ),
    BadForm(
        "login-nul",
        "anonymous",
        "/login",
        "/login",
        "csrf_token={csrf}&username=gong%00an&password=x&next=/",
        422,
        "request.nul",
    ),
    BadForm(
        "login-megabyte-field",
        "anonymous",
        "/login",
        "/login",
        "csrf_token={csrf}&username=" + MEGABYTE_VALUE + "&password=x&next=/",
        422,
        "request.invalid",
    ),
    BadForm(
        "login-duplicate-fields",
        "anonymous",
        "/login",
        "/login",
        "csrf_token={csrf}&username=gongan&username=shimin&password=x&password=y&next=/",
        401,
        "",
    ),
    BadForm("login-missing-csrf", "anonymous", "/login", "/login", "username=gongan&password=x", 403, "csrf.invalid"),
    BadForm(
        "dataset-invalid-utf8",
        "publisher",
        "/datasets/new",
        "/datasets/new",
        "csrf_token={csrf}&" + NEW_DATASET + "&title=%FF%FE%FD",
        422,
        "request.invalid_text",
    ),
    BadForm(
        "dataset-nul",
        "publisher",
        "/datasets/new",
        "/datasets/new",
        "csrf_token={csrf}&" + NEW_DATASET + "&title=%E6%88%B7%00",
        422,
        "request.nul",
    ),
    BadForm(
        "dataset-megabyte-field",
        "publisher",
        "/datasets/new",
        "/datasets/new",
        "csrf_token={csrf}&" + NEW_DATASET + "&title=x&description=" + MEGABYTE_VALUE,
        422,
        "request.invalid",
    ),
    BadForm(
        "dataset-over-the-part-limit",
        "publisher",
        "/datasets/new",
        "/datasets/new",
        "csrf_token={csrf}&" + NEW_DATASET + "&title=x&description=" + "a" * (2 << 20),
        400,
        "http.bad_request",
    ),
    BadForm(
        "dataset-duplicate-fields",
        "publisher",
        "/datasets/new",
        "/datasets/new",
        "csrf_token={csrf}&" + NEW_DATASET + "&title=a&title=b&name=x%2Fy",
        422,
        "dataset.bad_name",
    ),
    BadForm(
        "dataset-missing-csrf",
        "publisher",
        "/datasets/new",
        "/datasets/new",
        NEW_DATASET + "&title=t",
        403,
        "csrf.invalid",
    ),
    BadForm(
        "apply-invalid-utf8",
        "citizen",
        APPLY,
        APPLY,
        "csrf_token={csrf}&field%3Aapplicant_name=%FF%FE",
        422,
        "request.invalid_text",
    ),
    BadForm(
        "apply-nul",
        "citizen",
        APPLY,
        APPLY,
        "csrf_token={csrf}&field%3Aapplicant_name=%E5%BC%A0%00%E4%B8%89",
        422,
        "request.nul",
    ),
    BadForm(
        "apply-megabyte-field",
        "citizen",
        APPLY,
        APPLY,
        "csrf_token={csrf}&field%3Aapplicant_name=" + MEGABYTE_VALUE,
        422,
        "",
    ),
    BadForm(
        "apply-nan",
        "citizen",
        APPLY,
        APPLY,
        "csrf_token={csrf}&field%3Aapplicant_name=%E5%BC%A0%E4%B8%89&field%3Afee=nan",
        422,
        "",
    ),
    BadForm(
        "apply-missing-csrf", "citizen", APPLY, APPLY, "field%3Aapplicant_name=%E5%BC%A0%E4%B8%89", 403, "csrf.invalid"
    ),
)


def web_client(world: World, who: str) -> TestClient:
    if who == "publisher":
        return world.publisher_web
    if who == "citizen":
        return world.citizen_web
    return TestClient(world.client.app)


@pytest.mark.parametrize("bad", FORMS, ids=[bad.case for bad in FORMS])
def test_a_bad_form_post_is_refused_clearly_and_changes_nothing(world: World, bad: BadForm) -> None:
    web = web_client(world, bad.who)
    with unchanged(world):
        for language, english in ((ZH, False), (EN, True)):
            token = csrf_from(web.get(bad.page).text)
            headers = {**language, "Content-Type": "application/x-www-form-urlencoded"}
            response = web.post(bad.action, headers=headers, content=bad.body.replace("{csrf}", token).encode())
            refused(response, bad.status, bad.code, english=english)


# --- application materials -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BadMaterial:
    case: str
    filename: bytes
    content: bytes
    message: str  # a fragment of the zh-CN message
    api_code: str = "form.invalid"  # the JSON API's (a NUL anywhere in a JSON body refuses the whole body)
    api_message: str = ""  # the JSON API's message fragment when not `message`


MATERIALS: tuple[BadMaterial, ...] = (
    BadMaterial("pdf-named-png", b"photo.png", b"%PDF-1.4\n%%EOF\n", "文件内容不是 PNG 文件"),
    BadMaterial("exe-named-png", b"photo.png", b"MZ\x90\x00 a program", "文件内容不是 PNG 文件"),
    BadMaterial("png-named-exe", b"photo.exe", PNG, "不接受 exe 类型的文件"),
    BadMaterial("empty", b"photo.png", b"", "文件为空"),
    BadMaterial("nul-in-filename", b"pho\x00to.png", PNG, "文件名", "request.nul", "空字符"),
    BadMaterial("control-chars-in-filename", b"pho\x1bto.png", PNG, "文件名"),
)


@pytest.mark.parametrize("bad", MATERIALS, ids=[bad.case for bad in MATERIALS])
def test_a_bad_material_is_refused_by_the_api_and_the_form_and_changes_nothing(world: World, bad: BadMaterial) -> None:
    api_body = {
        "form": {"applicant_name": "张三"},
        "materials": {
            "photo": {"filename": bad.filename.decode(), "content_base64": base64.b64encode(bad.content).decode()}
        },
    }
    web = world.citizen_web
    with unchanged(world):
        answer = world.client.post(
            f"/api/v1/services/{SERVICE}/applications", headers={**world.citizen, **ZH}, json=api_body
        )
        assert (bad.api_message or bad.message) in refused(answer, 422, bad.api_code)
        token = csrf_from(web.get(APPLY).text)
        body, headers = multipart(
            {"csrf_token": token, "field:applicant_name": "张三"}, {"material:photo": (bad.filename, bad.content)}
        )
        page = web.post(APPLY, headers={**ZH, **headers}, content=body)
        assert page.status_code == 422 and bad.message in html.unescape(page.text), page.text[:2000]
        assert not any(marker in page.text for marker in TRACE_MARKERS)


@pytest.mark.parametrize("filename", TRAVERSAL_NAMES)
def test_a_path_in_a_material_file_name_stores_nothing_outside(world: World, filename: str) -> None:
    name = filename.replace("passwd.csv", "passwd.png")
    body = {
        "form": {"applicant_name": "张三"},
        "materials": {"photo": {"filename": name, "content_base64": base64.b64encode(PNG).decode()}},
    }
    before = snapshot(world)
    answer = world.client.post(f"/api/v1/services/{SERVICE}/applications", headers=world.citizen, json=body)
    assert answer.status_code == 201, answer.text
    shown = world.client.get(f"/api/v1/applications/{answer.json()['id']}", headers=world.citizen).json()
    assert shown["materials"][0]["filename"] == "passwd.png"
    after = snapshot(world)
    new = set(after.files) - set(before.files)
    assert new and all(path.split("/")[0] == "applications" for path in new), new
    assert after.beside == before.beside
    chain_verifies(world)


HUGE_NUMBER_FILES = {
    "huge.csv": b"a,b,c,d\n1e400,1208925819614629174706176,-0,NaN\n2,3,4,5\n",
    "huge.json": b'[{"a": 1e400, "b": 1208925819614629174706176, "c": -0, "d": NaN}]',
}


@pytest.mark.parametrize("filename", sorted(HUGE_NUMBER_FILES))
def test_huge_numbers_in_a_file_never_break_the_pages_that_show_them(world: World, filename: str) -> None:
    """1e400, 2**80, -0 and NaN are numbers DuckDB reads (as infinity, a double, 0 and NaN): the upload is taken and
    every page and API answer that shows the version still works (JSON cannot carry infinity or NaN)."""
    answer = upload(world, filename, HUGE_NUMBER_FILES[filename], ZH)
    assert answer.status_code == 201, answer.text
    for response in (
        world.client.get(f"/api/v1/datasets/{DATASET}", headers=world.publisher),
        world.client.get(f"/api/v1/datasets/{DATASET}/rows", headers=world.publisher),
        world.client.get(f"/api/v1/datasets/{DATASET}/rows?_sort=a", headers=world.publisher),
        world.publisher_web.get(f"/datasets/{DATASET}"),
    ):
        assert response.status_code == 200, response.text[:500]
        assert not any(marker in response.text for marker in TRACE_MARKERS)
    chain_verifies(world)


def test_the_world_still_works_after_the_corpus(world: World) -> None:
    """The refusals left the installation usable: a good upload still becomes the current version."""
    with world.database.read_session() as session:
        dataset = session.scalar(select(Dataset).where(Dataset.name == DATASET))
        assert dataset is not None
        versions = session.scalar(select(func.count()).select_from(DatasetVersion)) or 0
        applications = session.scalar(select(func.count()).select_from(Application)) or 0
    assert versions >= 1 and applications >= 0
    body, headers = multipart({}, {"file": (b"again.csv", CSV_GOOD.encode())})
    response = world.client.post(
        f"/api/v1/datasets/{DATASET}/versions", headers={**world.publisher, **headers}, content=body
    )
    assert response.status_code == 201, response.text
    chain_verifies(world)
