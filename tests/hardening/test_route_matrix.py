"""Authorization matrix: every route of the app × every role × own/other department, generated from the route table.

`EXPECTED` names who may use each (method, path template). A route the table does not list fails the test, so a new
route cannot ship without a rule; a listed route that no longer exists fails it too. Each role then calls each route
with real objects (a closed, a shared and an open dataset of 海南省公安厅 with a version each): allowed calls answer
2xx/3xx, refused ones 401/403/404 (404 where the rule hides a dataset's existence), never a 5xx or a stack trace.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from factories import PASSWORD, TEST_SECRET, UserFactory, csrf_from, sign_in, token_for
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from yiwang.catalog.ckan.actions import ACTIONS, READ_ACTIONS
from yiwang.core import accounts
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.settings import Settings
from yiwang.web.app import create_app

POLICE = "海南省公安厅"
HEALTH = "海南省卫生健康委员会"
CSV = "姓名,身份证号,年龄\n张三,11010519491231002X,76\n李四,460100199001011237,34\n".encode()

ANON, ADMIN, OWN, OTHER, AUDITOR, ENTERPRISE, CITIZEN = (
    "anonymous",
    "admin",
    "own_staff",
    "other_staff",
    "auditor",
    "enterprise",
    "citizen",
)
ROLES = (ANON, ADMIN, OWN, OTHER, AUDITOR, ENTERPRISE, CITIZEN)
USERNAMES = {ADMIN: "root", OWN: "gongan", OTHER: "weijian", AUDITOR: "shenji", ENTERPRISE: "qiye", CITIZEN: "shimin"}

Who = frozenset[str]
PUBLIC: Who = frozenset(ROLES)
SIGNED_IN: Who = PUBLIC - {ANON}
GOVERNMENT: Who = frozenset({ADMIN, OWN, OTHER, AUDITOR})
STAFF: Who = frozenset({ADMIN, OWN, OTHER})
PUBLISHERS: Who = frozenset({ADMIN, OWN})  # admin, or staff of the owning department (海南省公安厅)
ADMINS: Who = frozenset({ADMIN})
AUDITORS: Who = frozenset({AUDITOR})
NOBODY: Who = frozenset()
HIDDEN_FROM_PUBLIC: Who = PUBLIC - GOVERNMENT  # a dataset that is not open does not exist for them: 404
DATASET_HIDDEN: Who = frozenset({ENTERPRISE, CITIZEN})
ENTERPRISES: Who = frozenset({ENTERPRISE})
APPLICATION_READERS: Who = frozenset({ENTERPRISE, OWN, ADMIN, AUDITOR})  # applicant, host department, admin, auditor
APPLICATION_HIDDEN: Who = frozenset({OTHER, CITIZEN})  # writers; token-less anonymous ones get 401 before any lookup

CLOSED, SHARED, OPEN = "closed-registry", "shared-registry", "open-registry"
KIND_FORM = {"kind:身份证号": "id_number"}
CLASSIFIED_AS_IS = {"share_type": "conditional", "open_type": "none", "security_level": "general"}


@dataclass(frozen=True)
class Call:
    """One concrete request and who may make it; ``{placeholders}`` are filled from the role's world."""

    method: str
    url: str
    who: Who
    auth: str = "token"  # "token": API token header; "session": signed-in browser session (+ CSRF on POST)
    json: Any = None
    query: Mapping[str, str] | None = None
    form: Mapping[str, str] | None = None
    upload: str | None = None  # multipart field name that carries CSV
    upload_file: tuple[str, bytes, str] = ("人口.csv", CSV, "text/csv")  # what that field carries
    content: bytes | None = None  # a raw XML body (BPMN)
    hidden: Who = NOBODY  # roles whose refusal must be a 404 (the rule hides existence)
    refusal: frozenset[int] = frozenset({401, 403, 404})
    ckan: bool = False  # CKAN envelope: also check `success`


def page(method: str, url: str, who: Who, **more: Any) -> Call:
    return Call(method, url, who, auth="session", **more)


def _ckan_calls() -> dict[str, tuple[tuple[dict[str, Any], Who, Who], ...]]:
    """Per CKAN action: (parameters, who may call, who is told the target does not exist)."""
    hidden = HIDDEN_FROM_PUBLIC
    return {
        "status_show": (({}, PUBLIC, NOBODY),),
        "help_show": (({"name": "package_show"}, PUBLIC, NOBODY),),
        "license_list": (({}, PUBLIC, NOBODY),),
        "package_list": (({}, PUBLIC, NOBODY),),
        "current_package_list_with_resources": (({}, PUBLIC, NOBODY),),
        "package_search": (({"q": "户籍"}, PUBLIC, NOBODY),),
        "package_show": (({"id": CLOSED}, GOVERNMENT, hidden), ({"id": OPEN}, PUBLIC, NOBODY)),
        "resource_show": (({"id": "{closed_version}"}, GOVERNMENT, hidden), ({"id": "{open_version}"}, PUBLIC, NOBODY)),
        "resource_view_list": (({"id": "{closed_version}"}, GOVERNMENT, hidden),),
        "organization_list": (({"all_fields": "true"}, PUBLIC, NOBODY),),
        "organization_show": (({"id": POLICE, "include_datasets": "true"}, PUBLIC, NOBODY),),
        "group_list": (({"all_fields": "true"}, PUBLIC, NOBODY),),
        "group_show": (({"id": "economy"}, PUBLIC, NOBODY),),
        "tag_list": (({}, PUBLIC, NOBODY),),
        "user_list": (({}, ADMINS, NOBODY),),
        "user_show": (({"id": "gongan"}, ADMINS, NOBODY),),
        "datastore_search": (
            ({"resource_id": "{closed_version}"}, PUBLISHERS, hidden),
            ({"resource_id": "{shared_version}"}, STAFF, hidden),
            ({"resource_id": "{open_version}", "limit": "5"}, PUBLIC, NOBODY),
        ),
        "datastore_search_sql": (({"sql": f'SELECT * FROM "{OPEN}" LIMIT 5'}, PUBLIC, NOBODY),),
        "package_create": (({"name": "ckan-new-{role}", "owner_org": POLICE}, PUBLISHERS, NOBODY),),
        "package_update": (({"id": CLOSED, "title": "户籍人口（更新）"}, PUBLISHERS, DATASET_HIDDEN),),
        "package_patch": (({"id": CLOSED, "notes": "说明"}, PUBLISHERS, DATASET_HIDDEN),),
        "package_delete": (({"id": "doomed-ckan-{role}"}, PUBLISHERS, DATASET_HIDDEN),),
        "resource_create": (({"package_id": CLOSED, "name": "新版本"}, PUBLISHERS, DATASET_HIDDEN),),
        "resource_patch": (({"id": "{closed_version}", "name": "第一版"}, PUBLISHERS, DATASET_HIDDEN),),
    }


SERVICE = "matrix-certificate"
APPLICANTS: Who = frozenset({ENTERPRISE, CITIZEN})
CITIZENS: Who = frozenset({CITIZEN})
OWNERS: Who = frozenset({OWN})  # staff of 海南省公安厅, whose department does the service's task
SERVICE_READERS: Who = frozenset({CITIZEN, OWN, ADMIN, AUDITOR})  # applicant, handling department, oversight


def service_item(code: str, item_code: str) -> dict[str, Any]:
    """A citizen-or-enterprise service of 海南省公安厅 with a one-field form, an optional photo and a licence."""
    return {
        "code": code,
        "item_code": item_code,
        "name": "无犯罪记录证明",
        "department": POLICE,
        "category": "公共服务",
        "audience": ["citizen", "enterprise"],
        "life_events": ["employment"],
        "legal_days": 5,
        "promised_days": 3,
        "guide": {"summary": "网上申请，三天办好。"},
        "form": {
            "type": "object",
            "properties": {"applicant_name": {"type": "string", "title": "姓名", "minLength": 2}},
            "required": ["applicant_name"],
        },
        "materials": [{"code": "photo", "name": "照片", "required": False, "formats": ["png"]}],
        "issues_licence": {"type": "no-record", "name": "无犯罪记录证明"},
    }


def service_form(code: str, item_code: str) -> dict[str, Any]:
    """`service_item` as the edit page posts it (JSON braces doubled: the matrix fills ``{placeholders}``)."""
    item = service_item(code, item_code)

    def as_json(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False).replace("{", "{{").replace("}", "}}")

    posted = {k: v if isinstance(v, list) else str(v) for k, v in item.items() if isinstance(v, str | int | list)}
    posted |= {"form": as_json(item["form"]), "materials": as_json(item["materials"])}
    return posted | {"summary": item["guide"]["summary"]}


def service_process() -> bytes:
    from yiwang.services import bpmn  # noqa: PLC0415 - test data only

    return bpmn.build("Process_matrix", "证明", [bpmn.Step("check", "核查", POLICE)])


CKAN_EXPECTED = _ckan_calls()
CKAN_UPLOADS = {"resource_create"}


def _ckan(prefix: str, method: str, actions: tuple[str, ...] | None = None) -> tuple[Call, ...]:
    """Calls of the CKAN actions on one route: GET only for read actions (a write action must be POSTed)."""
    calls = []
    for name, cases in CKAN_EXPECTED.items():
        if actions is not None and name not in actions:
            continue
        if method == "GET" and name not in READ_ACTIONS:
            continue
        for params, who, hidden in cases:
            upload = "upload" if name in CKAN_UPLOADS else None
            url = f"{prefix}/{name}"
            if method == "GET":
                calls.append(Call("GET", url, who, query=params, hidden=frozenset(hidden), ckan=True))
            elif upload:
                calls.append(Call("POST", url, who, form=params, upload=upload, hidden=frozenset(hidden), ckan=True))
            else:
                calls.append(Call("POST", url, who, json=params, hidden=frozenset(hidden), ckan=True))
    return tuple(calls)


#: Who may use each route. A new route needs a line here (and a rule in its service function).
EXPECTED: dict[tuple[str, str], tuple[Call, ...]] = {
    ("GET", "/openapi.json"): (Call("GET", "/openapi.json", PUBLIC),),
    ("GET", "/healthz"): (Call("GET", "/healthz", PUBLIC),),
    # accounts
    ("GET", "/api/v1/me"): (Call("GET", "/api/v1/me", SIGNED_IN),),
    ("GET", "/api/v1/tokens"): (Call("GET", "/api/v1/tokens", SIGNED_IN),),
    ("POST", "/api/v1/tokens"): (Call("POST", "/api/v1/tokens", SIGNED_IN, json={"name": "matrix"}),),
    ("DELETE", "/api/v1/tokens/{token_id}"): (
        Call("DELETE", "/api/v1/tokens/{own_api_token}", SIGNED_IN),
        Call("DELETE", "/api/v1/tokens/{victim_api_token}", ADMINS),
    ),
    ("GET", "/api/v1/departments"): (Call("GET", "/api/v1/departments", SIGNED_IN),),
    ("GET", "/api/v1/users"): (Call("GET", "/api/v1/users", ADMINS),),
    ("GET", "/api/v1/audit"): (Call("GET", "/api/v1/audit", AUDITORS),),
    ("GET", "/api/v1/audit/verify"): (Call("GET", "/api/v1/audit/verify", AUDITORS),),
    # catalogue API
    ("GET", "/api/v1/datasets"): (Call("GET", "/api/v1/datasets", PUBLIC),),
    ("GET", "/api/v1/datasets/{name}"): (
        Call("GET", f"/api/v1/datasets/{CLOSED}", GOVERNMENT, hidden=HIDDEN_FROM_PUBLIC),
        Call("GET", f"/api/v1/datasets/{OPEN}", PUBLIC),
    ),
    ("POST", "/api/v1/datasets"): (
        Call("POST", "/api/v1/datasets", PUBLISHERS, json={"name": "api-{role}", "title": "新", "department": POLICE}),
    ),
    ("POST", "/api/v1/datasets/{name}/versions"): (
        Call("POST", f"/api/v1/datasets/{CLOSED}/versions", PUBLISHERS, upload="file", hidden=DATASET_HIDDEN),
    ),
    ("PUT", "/api/v1/datasets/{name}/classification"): (
        Call("PUT", f"/api/v1/datasets/{CLOSED}/classification", ADMINS, json=CLASSIFIED_AS_IS, hidden=DATASET_HIDDEN),
    ),
    ("PUT", "/api/v1/datasets/{name}/field-kinds"): (
        Call(
            "PUT",
            f"/api/v1/datasets/{CLOSED}/field-kinds",
            PUBLISHERS,
            json={"kinds": {"身份证号": "id_number"}},
            hidden=DATASET_HIDDEN,
        ),
    ),
    ("GET", "/api/v1/datasets/{name}/rows"): (
        Call("GET", f"/api/v1/datasets/{CLOSED}/rows", PUBLISHERS, hidden=HIDDEN_FROM_PUBLIC),
        Call("GET", f"/api/v1/datasets/{SHARED}/rows", STAFF, hidden=HIDDEN_FROM_PUBLIC),
        Call("GET", f"/api/v1/datasets/{OPEN}/rows", PUBLIC),
    ),
    ("GET", "/api/v1/sql"): (
        Call("GET", "/api/v1/sql", PUBLIC, query={"sql": f'SELECT * FROM "{OPEN}" LIMIT 5'}),
        # not an open dataset: no one reaches it through SQL, and the answer does not tell it exists
        Call("GET", "/api/v1/sql", NOBODY, query={"sql": f'SELECT * FROM "{CLOSED}"'}, refusal=frozenset({404, 422})),
    ),
    ("POST", "/api/v1/sql"): (Call("POST", "/api/v1/sql", PUBLIC, json={"sql": f'SELECT count(*) FROM "{OPEN}"'}),),
    ("GET", "/datasets/{name}/download.{fmt}"): (
        Call("GET", f"/datasets/{CLOSED}/download.csv", PUBLISHERS, hidden=HIDDEN_FROM_PUBLIC),
        Call("GET", f"/datasets/{SHARED}/download.json", STAFF, hidden=HIDDEN_FROM_PUBLIC),
        Call("GET", f"/datasets/{OPEN}/download.parquet", PUBLIC),
        page("GET", f"/datasets/{CLOSED}/download.csv", PUBLISHERS, hidden=HIDDEN_FROM_PUBLIC),
    ),
    # sharing (一网协同): staff of 海南省卫生健康委员会 (other) ask for 海南省公安厅's (own) closed registry
    ("POST", "/api/v1/sharing/requests"): (
        Call(
            "POST",
            "/api/v1/sharing/requests",
            frozenset({OTHER}),
            json={"dataset": CLOSED, "fields": ["姓名"], "purpose": "核验", "legal_basis": "依法", "days": 5},
            hidden=DATASET_HIDDEN,
            refusal=frozenset({401, 403, 404, 409}),  # the owner's own staff: 409, it already holds the data
        ),
    ),
    ("GET", "/api/v1/sharing/requests"): (Call("GET", "/api/v1/sharing/requests", GOVERNMENT),),
    ("GET", "/api/v1/sharing/review"): (Call("GET", "/api/v1/sharing/review", GOVERNMENT),),
    ("GET", "/api/v1/sharing/requests/{request_id}"): (
        Call("GET", "/api/v1/sharing/requests/{granted_request}", GOVERNMENT, hidden=DATASET_HIDDEN),
    ),
    ("POST", "/api/v1/sharing/requests/{request_id}/approve"): (
        Call("POST", "/api/v1/sharing/requests/{to_approve}/approve", frozenset({OWN}), json={}, hidden=DATASET_HIDDEN),
    ),
    ("POST", "/api/v1/sharing/requests/{request_id}/refuse"): (
        Call(
            "POST",
            "/api/v1/sharing/requests/{to_refuse}/refuse",
            frozenset({OWN}),
            json={"reason": "不符合"},
            hidden=DATASET_HIDDEN,
        ),
    ),
    ("POST", "/api/v1/sharing/requests/{request_id}/withdraw"): (
        Call("POST", "/api/v1/sharing/requests/{to_withdraw}/withdraw", frozenset({OTHER}), hidden=DATASET_HIDDEN),
    ),
    ("GET", "/api/v1/grants"): (Call("GET", "/api/v1/grants", GOVERNMENT),),
    ("GET", "/api/v1/grants/{grant_id}"): (Call("GET", "/api/v1/grants/{grant}", GOVERNMENT, hidden=DATASET_HIDDEN),),
    ("POST", "/api/v1/grants/{grant_id}/revoke"): (
        Call("POST", "/api/v1/grants/{to_revoke}/revoke", frozenset({ADMIN, OWN}), hidden=DATASET_HIDDEN),
    ),
    ("GET", "/api/v1/grants/{grant_id}/usage"): (
        Call("GET", "/api/v1/grants/{grant}/usage", GOVERNMENT, hidden=DATASET_HIDDEN),
    ),
    ("GET", "/api/v1/sharing/usage"): (Call("GET", "/api/v1/sharing/usage", GOVERNMENT),),
    ("GET", "/api/v1/sharing/network"): (Call("GET", "/api/v1/sharing/network", frozenset({ADMIN, AUDITOR})),),
    ("GET", "/api/v1/exchange/{grant_id}/rows"): (
        Call("GET", "/api/v1/exchange/{grant}/rows", frozenset({OTHER}), query={"limit": "1"}),
    ),
    ("GET", "/api/v1/exchange/{grant_id}/lookup"): (
        Call("GET", "/api/v1/exchange/{grant}/lookup", frozenset({OTHER}), query={"姓名": "张三"}),
    ),
    ("GET", "/api/v1/exchange/{grant_id}/export.{fmt}"): (
        Call("GET", "/api/v1/exchange/{grant}/export.csv", frozenset({OTHER})),
    ),
    # sandbox (赛道): tracks over the open dataset of 海南省公安厅 (own), applications by the enterprise
    ("POST", "/api/v1/sandbox/tracks"): (
        Call("POST", "/api/v1/sandbox/tracks", ADMINS, json={"name": "track-{role}", "datasets": [OPEN], "epsilon": 1}),
    ),
    ("GET", "/api/v1/sandbox/tracks"): (Call("GET", "/api/v1/sandbox/tracks", PUBLIC),),
    ("GET", "/api/v1/sandbox/tracks/{track_id}"): (Call("GET", "/api/v1/sandbox/tracks/{query_track}", PUBLIC),),
    ("POST", "/api/v1/sandbox/tracks/{track_id}/applications"): (
        Call(
            "POST",
            "/api/v1/sandbox/tracks/{apply_track}/applications",
            ENTERPRISES,
            json={"credit_code": "91350100M000100Y43", "project": "测算"},
        ),
    ),
    ("GET", "/api/v1/sandbox/applications"): (Call("GET", "/api/v1/sandbox/applications", SIGNED_IN),),
    ("GET", "/api/v1/sandbox/applications/{application_id}"): (
        Call(
            "GET", "/api/v1/sandbox/applications/{approved_application}", APPLICATION_READERS, hidden=APPLICATION_HIDDEN
        ),
    ),
    ("POST", "/api/v1/sandbox/applications/{application_id}/approve"): (
        Call(
            "POST",
            "/api/v1/sandbox/applications/{to_approve_application}/approve",
            PUBLISHERS,
            hidden=APPLICATION_HIDDEN,
        ),
    ),
    ("POST", "/api/v1/sandbox/applications/{application_id}/refuse"): (
        Call(
            "POST",
            "/api/v1/sandbox/applications/{to_refuse_application}/refuse",
            PUBLISHERS,
            json={"reason": "不符合"},
            hidden=APPLICATION_HIDDEN,
        ),
    ),
    ("POST", "/api/v1/sandbox/tracks/{track_id}/queries"): (
        Call(
            "POST",
            "/api/v1/sandbox/tracks/{query_track}/queries",
            ENTERPRISES,
            json={"sql": f'SELECT count(*) FROM "{OPEN}"', "epsilon": 0.01},
        ),
    ),
    ("GET", "/api/v1/sandbox/tracks/{track_id}/releases"): (
        Call("GET", "/api/v1/sandbox/tracks/{query_track}/releases", SIGNED_IN),
    ),
    ("POST", "/api/v1/sandbox/tracks/{track_id}/exports"): (
        Call("POST", "/api/v1/sandbox/tracks/{query_track}/exports", ENTERPRISES),
    ),
    ("GET", "/api/v1/sandbox/exports/{export_id}.{fmt}"): (
        Call("GET", "/api/v1/sandbox/exports/{export}.csv", ENTERPRISES, hidden=SIGNED_IN - ENTERPRISES),
    ),
    ("POST", "/api/v1/sandbox/products"): (
        Call(
            "POST",
            "/api/v1/sandbox/products",
            ENTERPRISES,
            json={"source": "release", "id": "{release}", "name": "product-{role}", "title": "产品"},
            hidden=SIGNED_IN - ENTERPRISES,
        ),
    ),
    ("GET", "/api/v1/sandbox/products"): (Call("GET", "/api/v1/sandbox/products", PUBLIC),),
    # services (一网通办): an item of 海南省公安厅 (own) whose one task is done there; applications by the citizen
    ("GET", "/api/v1/services"): (Call("GET", "/api/v1/services", PUBLIC, query={"q": "证明"}),),
    ("GET", "/api/v1/life-events"): (Call("GET", "/api/v1/life-events", PUBLIC),),
    ("GET", "/api/v1/services/{code}"): (Call("GET", f"/api/v1/services/{SERVICE}", PUBLIC),),
    ("POST", "/api/v1/services"): (
        Call("POST", "/api/v1/services", PUBLISHERS, json=service_item("svc-new-{username}", "460000-QT-{username}")),
    ),
    ("PUT", "/api/v1/services/{code}"): (
        Call("PUT", f"/api/v1/services/{SERVICE}", PUBLISHERS, json=service_item(SERVICE, "460000-QT-00001")),
    ),
    ("GET", "/api/v1/services/{code}/process.bpmn"): (Call("GET", f"/api/v1/services/{SERVICE}/process.bpmn", PUBLIC),),
    ("PUT", "/api/v1/services/{code}/process.bpmn"): (
        Call("PUT", f"/api/v1/services/{SERVICE}/process.bpmn", ADMINS, content=service_process()),
    ),
    ("GET", "/api/v1/halls"): (Call("GET", "/api/v1/halls", PUBLIC, query={"lat": "20.0", "lon": "110.3"}),),
    ("POST", "/api/v1/services/{code}/applications"): (
        Call("POST", f"/api/v1/services/{SERVICE}/applications", APPLICANTS, json={"form": {"applicant_name": "张三"}}),
    ),
    ("GET", "/api/v1/applications"): (Call("GET", "/api/v1/applications", SIGNED_IN),),
    ("GET", "/api/v1/applications/{application_id}"): (
        Call("GET", "/api/v1/applications/{service_application}", SERVICE_READERS),
    ),
    ("GET", "/api/v1/applications/{application_id}/materials/{code}"): (
        Call("GET", "/api/v1/applications/{service_application}/materials/photo", frozenset({CITIZEN, OWN})),
    ),
    ("GET", "/api/v1/tasks"): (Call("GET", "/api/v1/tasks", STAFF),),
    ("POST", "/api/v1/tasks/{task_id}/claim"): (Call("POST", "/api/v1/tasks/{to_claim_task}/claim", OWNERS),),
    ("POST", "/api/v1/tasks/{task_id}/complete"): (
        Call("POST", "/api/v1/tasks/{to_complete_task}/complete", OWNERS, json={"decision": "approve"}),
    ),
    ("POST", "/api/v1/applications/{application_id}/rating"): (
        Call("POST", "/api/v1/applications/{to_rate_application}/rating", CITIZENS, json={"level": 5}),
    ),
    ("GET", "/api/v1/ratings/stats"): (Call("GET", "/api/v1/ratings/stats", PUBLIC),),
    ("GET", "/api/v1/rectifications"): (Call("GET", "/api/v1/rectifications", STAFF),),
    ("POST", "/api/v1/rectifications/{rectification_id}/explain"): (
        Call("POST", "/api/v1/rectifications/{to_explain}/explain", OWNERS, json={"text": "已整改"}),
    ),
    ("POST", "/api/v1/rectifications/{rectification_id}/appeal"): (
        Call("POST", "/api/v1/rectifications/{to_appeal}/appeal", OWNERS, json={"text": "已按期办结"}),
    ),
    ("POST", "/api/v1/rectifications/{rectification_id}/review"): (
        Call("POST", "/api/v1/rectifications/{to_review}/review", ADMINS, json={"upheld": True, "note": "属实"}),
    ),
    ("GET", "/api/v1/licences"): (Call("GET", "/api/v1/licences", SIGNED_IN),),
    ("GET", "/api/v1/licences/{number}/verify"): (
        Call("GET", "/api/v1/licences/{licence}/verify", STAFF, query={"purpose": "核验"}),
    ),
    # CKAN Action API: every action, GET for reads and POST for all; the /api/action alias samples both kinds
    ("GET", "/api/3/action/{name}"): _ckan("/api/3/action", "GET"),
    ("POST", "/api/3/action/{name}"): _ckan("/api/3/action", "POST"),
    ("GET", "/api/action/{name}"): _ckan("/api/action", "GET", ("status_show", "package_show", "user_list")),
    ("POST", "/api/action/{name}"): _ckan("/api/action", "POST", ("package_show", "package_patch")),
    # DCAT-AP
    ("GET", "/catalog.{extension}"): (Call("GET", "/catalog.ttl", PUBLIC), Call("GET", "/catalog.jsonld", PUBLIC)),
    ("GET", "/dataset/{name}.{extension}"): (
        Call("GET", f"/dataset/{CLOSED}.ttl", GOVERNMENT, hidden=HIDDEN_FROM_PUBLIC),
        Call("GET", f"/dataset/{OPEN}.rdf", PUBLIC),
    ),
    # pages
    ("GET", "/"): (page("GET", "/", PUBLIC),),
    ("GET", "/login"): (page("GET", "/login", PUBLIC),),
    ("GET", "/account"): (page("GET", "/account", SIGNED_IN),),
    ("POST", "/account/tokens"): (page("POST", "/account/tokens", SIGNED_IN, form={"name": "page"}),),
    ("POST", "/account/tokens/{token_id}/revoke"): (
        page("POST", "/account/tokens/{own_page_token}/revoke", SIGNED_IN),
        page("POST", "/account/tokens/{victim_page_token}/revoke", ADMINS),
    ),
    ("GET", "/audit"): (page("GET", "/audit", AUDITORS),),
    ("GET", "/audit/verify"): (page("GET", "/audit/verify", AUDITORS),),
    ("GET", "/datasets/new"): (page("GET", "/datasets/new", STAFF),),
    ("POST", "/datasets/new"): (
        page("POST", "/datasets/new", PUBLISHERS, form={"name": "page-{role}", "title": "新", "department": POLICE}),
    ),
    ("POST", "/datasets/{name}/versions"): (
        page("POST", f"/datasets/{CLOSED}/versions", PUBLISHERS, upload="file", hidden=DATASET_HIDDEN),
    ),
    ("POST", "/datasets/{name}/fields"): (
        page("POST", f"/datasets/{CLOSED}/fields", PUBLISHERS, form=KIND_FORM, hidden=DATASET_HIDDEN),
    ),
    ("GET", "/datasets"): (page("GET", "/datasets", PUBLIC), page("GET", "/datasets?q=户籍&page=2", PUBLIC)),
    ("GET", "/datasets/{name}"): (
        page("GET", f"/datasets/{CLOSED}", GOVERNMENT, hidden=HIDDEN_FROM_PUBLIC),
        page("GET", f"/datasets/{OPEN}", PUBLIC),
    ),
    ("GET", "/departments"): (page("GET", "/departments", PUBLIC),),
    ("GET", "/departments/{name}"): (page("GET", f"/departments/{POLICE}", PUBLIC),),
    ("GET", "/review"): (page("GET", "/review", ADMINS),),
    ("POST", "/review/{name}"): (
        page("POST", f"/review/{CLOSED}", ADMINS, form=CLASSIFIED_AS_IS, hidden=DATASET_HIDDEN),
    ),
    ("GET", "/sharing"): (page("GET", "/sharing", GOVERNMENT),),
    ("GET", "/sharing/new"): (page("GET", f"/sharing/new?dataset={CLOSED}", GOVERNMENT),),
    ("POST", "/sharing/new"): (
        page(
            "POST",
            "/sharing/new",
            frozenset({OTHER}),
            form={"dataset": CLOSED, "fields": "姓名", "purpose": "核验", "legal_basis": "依法", "days": "5"},
            refusal=frozenset({401, 403, 404, 409}),
        ),
    ),
    ("GET", "/sharing/requests/{request_id}"): (
        page("GET", "/sharing/requests/{granted_request}", GOVERNMENT, hidden=DATASET_HIDDEN),
    ),
    ("GET", "/services"): (page("GET", "/services", PUBLIC, query={"life_event": "employment"}),),
    ("GET", "/services/ratings"): (page("GET", "/services/ratings", PUBLIC),),
    ("GET", "/services/{code}"): (page("GET", f"/services/{SERVICE}", PUBLIC, query={"lat": "20.0", "lon": "110.3"}),),
    ("GET", "/services/{code}/apply"): (page("GET", f"/services/{SERVICE}/apply", APPLICANTS),),
    ("POST", "/services/{code}/apply"): (
        page("POST", f"/services/{SERVICE}/apply", APPLICANTS, form={"field:applicant_name": "张三"}),
    ),
    ("GET", "/services/new"): (page("GET", "/services/new", STAFF),),
    ("POST", "/services/new"): (
        page("POST", "/services/new", PUBLISHERS, form=service_form("svc-page-{username}", "460000-QT-P-{username}")),
    ),
    ("GET", "/services/{code}/edit"): (page("GET", f"/services/{SERVICE}/edit", PUBLISHERS),),
    ("POST", "/services/{code}/edit"): (
        page("POST", f"/services/{SERVICE}/edit", PUBLISHERS, form=service_form(SERVICE, "460000-QT-00001")),
    ),
    ("GET", "/services/{code}/process"): (page("GET", f"/services/{SERVICE}/process", ADMINS),),
    ("POST", "/services/{code}/process"): (
        page(
            "POST",
            f"/services/{SERVICE}/process",
            ADMINS,
            upload="file",
            upload_file=("process.bpmn", service_process(), "application/xml"),
        ),
    ),
    ("GET", "/licences"): (page("GET", "/licences", SIGNED_IN),),
    ("GET", "/applications"): (page("GET", "/applications", SIGNED_IN),),
    ("GET", "/applications/{application_id}"): (page("GET", "/applications/{service_application}", SERVICE_READERS),),
    ("GET", "/applications/{application_id}/materials/{code}"): (
        page("GET", "/applications/{service_application}/materials/photo", frozenset({CITIZEN, OWN})),
    ),
    ("POST", "/applications/{application_id}/rating"): (
        page("POST", "/applications/{page_to_rate_application}/rating", CITIZENS, form={"level": "4"}),
    ),
    ("GET", "/workbench"): (page("GET", "/workbench", STAFF),),
    ("GET", "/workbench/tasks/{task_id}"): (
        page("GET", "/workbench/tasks/{service_task}", frozenset({OWN, ADMIN, AUDITOR, CITIZEN})),
    ),
    ("POST", "/workbench/tasks/{task_id}/claim"): (
        page("POST", "/workbench/tasks/{page_to_claim_task}/claim", OWNERS),
    ),
    ("POST", "/workbench/tasks/{task_id}/complete"): (
        page("POST", "/workbench/tasks/{page_to_complete_task}/complete", OWNERS, form={"decision": "approve"}),
    ),
    ("GET", "/workbench/rectifications"): (page("GET", "/workbench/rectifications", STAFF),),
    ("POST", "/workbench/rectifications/{rectification_id}/explain"): (
        page("POST", "/workbench/rectifications/{page_to_explain}/explain", OWNERS, form={"text": "已整改"}),
    ),
    ("POST", "/workbench/rectifications/{rectification_id}/appeal"): (
        page("POST", "/workbench/rectifications/{page_to_appeal}/appeal", OWNERS, form={"text": "已按期办结"}),
    ),
    ("POST", "/workbench/rectifications/{rectification_id}/review"): (
        page(
            "POST", "/workbench/rectifications/{page_to_review}/review", ADMINS, form={"upheld": "no", "note": "不成立"}
        ),
    ),
    ("POST", "/sharing/requests/{request_id}/approve"): (
        page("POST", "/sharing/requests/{page_to_approve}/approve", frozenset({OWN}), form={"field": "姓名"}),
    ),
    ("POST", "/sharing/requests/{request_id}/refuse"): (
        page("POST", "/sharing/requests/{page_to_refuse}/refuse", frozenset({OWN}), form={"reason": "不符合"}),
    ),
    ("POST", "/sharing/requests/{request_id}/withdraw"): (
        page("POST", "/sharing/requests/{page_to_withdraw}/withdraw", frozenset({OTHER})),
    ),
    ("GET", "/sharing/grants/{grant_id}"): (page("GET", "/sharing/grants/{grant}", GOVERNMENT, hidden=DATASET_HIDDEN),),
    ("POST", "/sharing/grants/{grant_id}/revoke"): (
        page("POST", "/sharing/grants/{page_to_revoke}/revoke", frozenset({ADMIN, OWN})),
    ),
    ("GET", "/sharing/usage"): (page("GET", "/sharing/usage", GOVERNMENT),),
    ("GET", "/sharing/network"): (page("GET", "/sharing/network", frozenset({ADMIN, AUDITOR})),),
    ("GET", "/tracks"): (page("GET", "/tracks", PUBLIC),),
    ("GET", "/tracks/{track_id}"): (page("GET", "/tracks/{query_track}", PUBLIC),),
    ("POST", "/tracks/{track_id}/apply"): (
        page(
            "POST",
            "/tracks/{page_apply_track}/apply",
            ENTERPRISES,
            form={"credit_code": "91350100M000100Y43", "project": "测算"},
        ),
    ),
    ("POST", "/tracks/applications/{application_id}/decide"): (
        page(
            "POST",
            "/tracks/applications/{page_to_decide_application}/decide",
            PUBLISHERS,
            form={"decision": "approve"},
            hidden=APPLICATION_HIDDEN,
        ),
    ),
    ("POST", "/tracks/{track_id}/query"): (
        page(
            "POST",
            "/tracks/{query_track}/query",
            ENTERPRISES,
            form={"sql": f'SELECT count(*) FROM "{OPEN}"', "epsilon": "0.01"},
        ),
    ),
    ("POST", "/tracks/{track_id}/export"): (page("POST", "/tracks/{query_track}/export", ENTERPRISES),),
    ("POST", "/tracks/{track_id}/products"): (
        page(
            "POST",
            "/tracks/{query_track}/products",
            ENTERPRISES,
            form={"source": "release", "source_id": "{release}", "name": "page-product-{role}", "title": "产品"},
            hidden=SIGNED_IN - ENTERPRISES,
        ),
    ),
    # last: signing in again and out changes the role's session
    ("POST", "/login"): (page("POST", "/login", PUBLIC, form={"username": "{username}", "password": "{password}"}),),
    ("POST", "/logout"): (page("POST", "/logout", PUBLIC),),
}


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path template) of every route of the app, included routers flattened; static mounts left out."""
    found = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount) or not route.methods or route.path is None:
            continue
        found |= {(method, route.path) for method in route.methods if method != "HEAD"}
    return found


def test_every_route_has_a_rule_and_every_rule_a_route(tmp_path: Path) -> None:
    routes = route_table(create_app(Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET)))
    assert sorted(routes - EXPECTED.keys()) == [], "routes without a rule in EXPECTED: add one"
    assert sorted(EXPECTED.keys() - routes) == [], "EXPECTED lists routes that no longer exist"


def test_every_ckan_action_has_a_rule() -> None:
    assert sorted(set(ACTIONS) - CKAN_EXPECTED.keys()) == [], "CKAN actions without a rule in CKAN_EXPECTED"
    assert sorted(CKAN_EXPECTED.keys() - set(ACTIONS)) == [], "CKAN_EXPECTED lists actions that no longer exist"


# ---- the world the calls point at ----------------------------------------------------------------------------


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)  # role -> API token
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> placeholder values


def _token_id(database: Database, username: str) -> str:
    with database.session() as session:
        token, _ = accounts.create_token(session, Actor.operator(), username, "spare", None)
        return str(token.id)


def build_world(client: TestClient, database: Database, make_user: UserFactory) -> World:
    make_user(USERNAMES[ADMIN], "admin")
    make_user(USERNAMES[OWN], "dept_staff", department=POLICE)
    make_user(USERNAMES[OTHER], "dept_staff", department=HEALTH)
    make_user(USERNAMES[AUDITOR], "auditor")
    make_user(USERNAMES[ENTERPRISE], "enterprise")
    make_user(USERNAMES[CITIZEN], "citizen")
    make_user("victim", "citizen")
    world = World(tokens={role: token_for(database, name) for role, name in USERNAMES.items()})
    publisher = {"Authorization": world.tokens[OWN]}
    versions = {}
    for name, share_type, open_type in (
        (CLOSED, "conditional", "none"),
        (SHARED, "unconditional", "none"),
        (OPEN, "unconditional", "unconditional"),
    ):
        body = {"name": name, "title": "户籍", "department": POLICE, "share_type": share_type, "open_type": open_type}
        assert client.post("/api/v1/datasets", headers=publisher, json=body).status_code == 201
        uploaded = client.post(
            f"/api/v1/datasets/{name}/versions", headers=publisher, files={"file": ("人口.csv", CSV, "text/csv")}
        )
        assert uploaded.status_code == 201, uploaded.text
    consumer = {"Authorization": world.tokens[OTHER]}

    def ask() -> str:
        body = {"dataset": CLOSED, "fields": ["姓名", "年龄"], "purpose": "核验", "legal_basis": "依法", "days": 30}
        response = client.post("/api/v1/sharing/requests", headers=consumer, json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def grant() -> tuple[str, str]:
        request_id = ask()
        response = client.post(f"/api/v1/sharing/requests/{request_id}/approve", headers=publisher, json={})
        assert response.status_code == 200, response.text
        return request_id, str(response.json()["grant_id"])

    granted_request, live_grant = grant()
    admin = {"Authorization": world.tokens[ADMIN]}
    enterprise = {"Authorization": world.tokens[ENTERPRISE]}

    def new_track(name: str, **extra: object) -> str:
        body = {"name": name, "datasets": [OPEN], "epsilon": 100, "min_group_size": 0, **extra}
        response = client.post("/api/v1/sandbox/tracks", headers=admin, json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def application(track_id: str) -> str:
        body = {"credit_code": "91350100M000100Y43", "project": "测算"}
        response = client.post(f"/api/v1/sandbox/tracks/{track_id}/applications", headers=enterprise, json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    export_config = {"dataset": OPEN, "k": 2, "quasi_identifiers": ["年龄"]}
    query_track = new_track("query-track", export=export_config)
    approved_application = application(query_track)
    assert client.post(f"/api/v1/sandbox/applications/{approved_application}/approve", headers=admin).status_code == 200
    released = client.post(
        f"/api/v1/sandbox/tracks/{query_track}/queries",
        headers=enterprise,
        json={"sql": f'SELECT count(*) FROM "{OPEN}"', "epsilon": 50},  # little noise: the row is never suppressed
    )
    assert released.status_code == 200 and released.json()["rows"], released.text
    exported = client.post(f"/api/v1/sandbox/tracks/{query_track}/exports", headers=enterprise)
    assert exported.status_code == 201, exported.text
    services = _service_world(client, world)
    for name in (CLOSED, SHARED, OPEN):
        shown = client.get("/api/3/action/package_show", params={"id": name}, headers=publisher).json()
        versions[name] = shown["result"]["resources"][0]["id"]
    for role in ROLES:
        doomed = {"name": f"doomed-ckan-{role}", "title": "待删除", "department": POLICE}
        assert client.post("/api/v1/datasets", headers=publisher, json=doomed).status_code == 201
        username = USERNAMES.get(role, "victim")
        world.values[role] = {
            "role": role,
            "username": username,
            "password": PASSWORD,
            "closed_version": versions[CLOSED],
            "shared_version": versions[SHARED],
            "open_version": versions[OPEN],
            "own_api_token": _token_id(database, username),
            "own_page_token": _token_id(database, username),
            "victim_api_token": _token_id(database, "victim"),
            "victim_page_token": _token_id(database, "victim"),
            "granted_request": granted_request,
            "grant": live_grant,
            "to_approve": ask(),
            "to_refuse": ask(),
            "to_withdraw": ask(),
            "to_revoke": grant()[1],
            "page_to_approve": ask(),
            "page_to_refuse": ask(),
            "page_to_withdraw": ask(),
            "page_to_revoke": grant()[1],
            "query_track": query_track,
            "approved_application": approved_application,
            "release": str(released.json()["release_id"]),
            "export": str(exported.json()["id"]),
            "apply_track": new_track(f"apply-{role}"),
            "page_apply_track": new_track(f"page-apply-{role}"),
            "to_approve_application": application(new_track(f"approve-{role}")),
            "to_refuse_application": application(new_track(f"refuse-{role}")),
            "page_to_decide_application": application(new_track(f"page-decide-{role}")),
            **services(),
        }
    return world


def _service_world(client: TestClient, world: World) -> Callable[[], dict[str, str]]:
    """The matrix service with its process, and per role: an application with a task to claim, one to complete,
    a finished one to rate, and three bad ratings to explain, appeal and review."""
    staff = {"Authorization": world.tokens[OWN]}
    admin = {"Authorization": world.tokens[ADMIN]}
    citizen = {"Authorization": world.tokens[CITIZEN]}
    assert (
        client.post("/api/v1/services", headers=staff, json=service_item(SERVICE, "460000-QT-00001")).status_code == 201
    )
    imported = client.put(
        f"/api/v1/services/{SERVICE}/process.bpmn",
        content=service_process(),
        headers={**admin, "Content-Type": "application/xml"},
    )
    assert imported.status_code == 200, imported.text

    def apply(photo: bool = False) -> tuple[str, str]:
        body: dict[str, Any] = {"form": {"applicant_name": "张三"}}
        if photo:
            png = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
            body["materials"] = {"photo": {"filename": "me.png", "content_base64": png}}
        created = client.post(f"/api/v1/services/{SERVICE}/applications", headers=citizen, json=body)
        assert created.status_code == 201, created.text
        application_id = str(created.json()["id"])
        task = client.get(f"/api/v1/applications/{application_id}", headers=citizen).json()["tasks"][0]
        return application_id, str(task["id"])

    def finished(level: int | None = None) -> tuple[str, str]:
        application_id, task_id = apply()
        done = client.post(f"/api/v1/tasks/{task_id}/complete", headers=staff, json={"decision": "approve"})
        assert done.status_code == 200 and done.json()["state"] == "completed", done.text
        rectification = ""
        if level is not None:
            rated = client.post(
                f"/api/v1/applications/{application_id}/rating",
                headers=citizen,
                json={"level": level, "comment": "太慢"},
            )
            assert rated.status_code == 201, rated.text
            rectification = str(rated.json()["rectification_id"])
        return application_id, rectification

    service_application, service_task = apply(photo=True)
    licensed, _ = finished()
    licence = client.get(f"/api/v1/applications/{licensed}", headers=citizen).json()["licence"]["number"]

    def appealed() -> str:
        rectification = finished(1)[1]
        appeal = client.post(f"/api/v1/rectifications/{rectification}/appeal", headers=staff, json={"text": "已办结"})
        assert appeal.status_code == 200, appeal.text
        return rectification

    def per_role() -> dict[str, str]:
        return {
            "service_application": service_application,
            "licence": licence,
            "to_claim_task": apply()[1],
            "to_complete_task": apply()[1],
            "to_rate_application": finished()[0],
            "to_explain": finished(1)[1],
            "to_appeal": finished(2)[1],
            "to_review": appealed(),
            "service_task": service_task,
            "page_to_claim_task": apply()[1],
            "page_to_complete_task": apply()[1],
            "page_to_rate_application": finished()[0],
            "page_to_explain": finished(1)[1],
            "page_to_appeal": finished(2)[1],
            "page_to_review": appealed(),
        }

    return per_role


# ---- calling and judging -------------------------------------------------------------------------------------


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, Mapping):
        return {_fill(k, values): _fill(v, values) for k, v in value.items()}
    return value


def send(client: TestClient, call: Call, role: str, world: World) -> httpx2.Response:
    values = world.values[role]
    headers = {}
    if call.auth == "token" and role != ANON:
        headers["Authorization"] = world.tokens[role]
    form = dict(_fill(call.form or {}, values))
    if call.auth == "session" and call.method == "POST":
        form["csrf_token"] = csrf_from(client.get("/login").text)
    files = {call.upload: call.upload_file} if call.upload else None
    if call.content is not None:
        headers["Content-Type"] = "application/xml"
        return client.request(call.method, _fill(call.url, values), headers=headers, content=call.content)
    return client.request(
        call.method,
        _fill(call.url, values),
        headers=headers,
        params=_fill(call.query, values),
        json=_fill(call.json, values),
        data=form or None,
        files=files,
        follow_redirects=False,
    )


def judge(call: Call, role: str, response: httpx2.Response) -> str | None:
    """What is wrong with `response` to `call` by `role`, or None."""
    status, body = response.status_code, response.text
    if status >= 500:
        return f"server error {status}"
    if "Traceback (most recent call last)" in body or 'File "/' in body:
        return "stack trace in the body"
    to_login = status in (302, 303, 307) and response.headers.get("location", "").startswith("/login")
    refused = status in call.refusal or (to_login and role == ANON)
    if role in call.who:
        if refused or not 200 <= status < 400:
            return f"allowed but answered {status}: {body[:200]}"
        if call.ckan and response.json().get("success") is not True:
            return f"allowed but CKAN success is not true: {body[:200]}"
        return None
    if not refused:
        return f"refused but answered {status}: {body[:200]}"
    if role in call.hidden and status != 404:
        return f"should not learn the dataset exists, but answered {status}"
    if call.ckan and response.json().get("success") is not False:
        return "refused but CKAN success is not false"
    return None


def calls_in_order() -> Iterator[Call]:
    for calls in EXPECTED.values():
        yield from calls


def test_each_role_gets_exactly_what_the_rules_allow(
    settings: Settings, database: Database, make_user: UserFactory
) -> None:
    problems = []
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        world = build_world(client, database, make_user)
        for role in ROLES:
            client.cookies.clear()
            if role != ANON:
                assert getattr(sign_in(client, USERNAMES[role]), "status_code", None) == 303
            for call in calls_in_order():
                verdict = judge(call, role, send(client, call, role, world))
                if verdict:
                    problems.append(f"{role:11} {call.method} {call.url} {call.json or call.form or ''}: {verdict}")
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("role", [ENTERPRISE, CITIZEN])
def test_a_judge_that_cannot_fail_would_not_catch_an_open_door(role: str) -> None:
    """The judge itself: a refused role answered 200, or an allowed one answered 403, is reported."""
    request = httpx2.Request("GET", "http://testserver/api/v1/users")
    assert judge(EXPECTED[("GET", "/api/v1/users")][0], role, httpx2.Response(200, request=request, json=[]))
    assert judge(EXPECTED[("GET", "/api/v1/me")][0], role, httpx2.Response(403, request=request, json={}))
    assert judge(EXPECTED[("GET", "/healthz")][0], role, httpx2.Response(500, request=request, json={}))
