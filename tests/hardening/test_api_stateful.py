"""Stateful API fuzzing: schemathesis chains calls along the spec's OpenAPI links, so one answer feeds the next call.

A dataset is published, gets a version, its rows are read and another department asks for it; the request is
approved and the grant used; a track is created, applied to, approved, queried, exported and published; a service
guide is read, applied for with its example, the task claimed and completed, the application rated and the bad
rating explained, appealed and reviewed. Each call is made by a cast: in `workflow` each operation by the role whose
job it is (the publisher's staff, the consumer department's staff, the citizen, the enterprise, the admin), in the
others every call by one identity. Every answer: no 5xx, the declared schema, no stack trace (as in test_api_fuzz).

Randomly generated bodies seldom pass the service's rules, so the machine would rarely get past the first call: for
the operations that start or advance a workflow, half the generated bodies get a valid template laid over them (the
half is chosen from the generated body itself, so a run stays reproducible); the other half stay as generated.
Fast by default (a few scenarios per cast, the machine on SQLite only); `YIWANG_HARDEN_FULL=1` runs longer ones on
PostgreSQL too. The other tests run on both kinds.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from factories import UserFactory, token_for
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Flaky
from schemathesis.core import NOT_SET, NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.generation.stateful.state_machine import StepOutput, normalize_name
from schemathesis.specs.openapi.stateful import collect_transitions
from schemathesis.specs.openapi.stateful.links import OpenApiLink
from test_api_fuzz import (
    CSV,
    OPEN,
    POLICE,
    build_world,
    checks_for,
    distinct,
    fuzz_client,  # noqa: F401 - the fixture, shared
    load_schema,
    send,
)

from yiwang.core.db import Database
from yiwang.core.settings import Settings
from yiwang.services import bpmn

FULL = os.environ.get("YIWANG_HARDEN_FULL") == "1"
#: Scenarios per cast and the most calls in one: small for CI, larger for `make harden`.
SCENARIOS, STEPS = (30, 50) if FULL else (6, 40)

HEALTH = "海南省卫生健康委员会"
CONSUMER = "weijian"  # staff of 海南省卫生健康委员会, who asks 海南省公安厅 for its data
SERVICE = "stateful-certificate"
CREDIT_CODE = "91350100M000100Y43"

# ---- who makes each call ------------------------------------------------------------------------------------------

STAFF, ADMIN, CITIZEN, ENTERPRISE = "dept_staff", "admin", "citizen", "enterprise"

#: The `workflow` cast: each operation by the identity whose job it is; unlisted ones by the publisher's staff.
WORKFLOW: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/datasets/{name}"): "consumer",
    ("POST", "/api/v1/sharing/requests"): "consumer",
    ("GET", "/api/v1/sharing/requests/{request_id}"): "consumer",
    ("POST", "/api/v1/sharing/requests/{request_id}/withdraw"): "consumer",
    ("GET", "/api/v1/grants/{grant_id}"): "consumer",
    ("GET", "/api/v1/exchange/{grant_id}/rows"): "consumer",
    ("GET", "/api/v1/exchange/{grant_id}/lookup"): "consumer",
    ("GET", "/api/v1/exchange/{grant_id}/export.{fmt}"): "consumer",
    ("POST", "/api/v1/sandbox/tracks"): ADMIN,
    ("GET", "/api/v1/sandbox/tracks"): ENTERPRISE,
    ("GET", "/api/v1/sandbox/tracks/{track_id}"): ENTERPRISE,
    ("POST", "/api/v1/sandbox/tracks/{track_id}/applications"): ENTERPRISE,
    ("GET", "/api/v1/sandbox/applications"): ADMIN,
    ("POST", "/api/v1/sandbox/applications/{application_id}/approve"): ADMIN,
    ("POST", "/api/v1/sandbox/applications/{application_id}/refuse"): ADMIN,
    ("POST", "/api/v1/sandbox/tracks/{track_id}/queries"): ENTERPRISE,
    ("GET", "/api/v1/sandbox/tracks/{track_id}/releases"): ENTERPRISE,
    ("POST", "/api/v1/sandbox/tracks/{track_id}/exports"): ENTERPRISE,
    ("GET", "/api/v1/sandbox/exports/{export_id}.{fmt}"): ENTERPRISE,
    ("POST", "/api/v1/sandbox/products"): ENTERPRISE,
    ("PUT", "/api/v1/services/{code}/process.bpmn"): ADMIN,
    ("GET", "/api/v1/services"): CITIZEN,
    ("GET", "/api/v1/services/{code}"): CITIZEN,
    ("POST", "/api/v1/services/{code}/applications"): CITIZEN,
    ("GET", "/api/v1/applications"): CITIZEN,
    ("GET", "/api/v1/applications/{application_id}"): CITIZEN,
    ("POST", "/api/v1/applications/{application_id}/rating"): CITIZEN,
    ("POST", "/api/v1/rectifications/{rectification_id}/review"): ADMIN,
    ("POST", "/api/v1/tokens"): CITIZEN,
    ("DELETE", "/api/v1/tokens/{token_id}"): CITIZEN,
}

#: Who makes each call: the `workflow` cast by operation, the others one identity for every call.
CASTS: dict[str, Callable[[str, str], str]] = {
    "workflow": lambda method, path: WORKFLOW.get((method, path), STAFF),
    STAFF: lambda method, path: STAFF,
    CITIZEN: lambda method, path: CITIZEN,
    ADMIN: lambda method, path: ADMIN,
}

# ---- valid bodies laid over half the generated ones ---------------------------------------------------------------


def _service_item(code: str) -> dict[str, Any]:
    """A one-field service of 海南省公安厅 that issues a licence."""
    return {
        "code": code,
        "item_code": f"460000-QT-{zlib.crc32(code.encode()) % 100000:05d}",
        "name": "无犯罪记录证明",
        "department": POLICE,
        "category": "公共服务",
        "audience": ["citizen", "enterprise"],
        "legal_days": 5,
        "promised_days": 3,
        "guide": {"summary": "网上申请，三天办好。"},
        "form": {
            "type": "object",
            "properties": {"applicant_name": {"type": "string", "title": "姓名", "minLength": 2}},
            "required": ["applicant_name"],
        },
        "example_form": {"applicant_name": "张三"},
        "issues_licence": {"type": "no-record", "name": "无犯罪记录证明"},
    }


def _process() -> bytes:
    return bpmn.build("Process_stateful", "证明", [bpmn.Step("check", "核查", POLICE)])


#: Per operation: the valid template for a generated body (`tag` makes names unique), laid over it key by key.
TEMPLATES: dict[tuple[str, str], Callable[[str], Any]] = {
    ("POST", "/api/v1/datasets"): lambda tag: {
        "name": f"stateful-{tag}",
        "title": "户籍",
        "department": POLICE,
        "share_type": "conditional",
        "security_level": "general",
    },
    ("POST", "/api/v1/datasets/{name}/versions"): lambda tag: {"file": CSV, "format": "csv"},
    ("POST", "/api/v1/sharing/requests"): lambda tag: {
        "purpose": "核验",
        "legal_basis": "依法",
        "days": 30,
        "row_filter": {},
        "expected_calls_per_day": None,
    },
    ("POST", "/api/v1/sharing/requests/{request_id}/approve"): lambda tag: {
        "fields": None,
        "masking": {},
        "days": None,
        "row_filter": {},
        "rate_limit": None,
        "raw_id_number": False,
    },
    ("POST", "/api/v1/sandbox/tracks"): lambda tag: {
        "name": f"track-{tag}",
        "datasets": [OPEN],
        "epsilon": 100.0,
        "delta": 0.0,
        "min_group_size": 0,
        "bounds": {},
        "public_domains": {},
        "host_department": None,
        "export": {"dataset": OPEN, "k": 2, "quasi_identifiers": ["年龄"]},
        "valid_to": None,
    },
    ("POST", "/api/v1/sandbox/tracks/{track_id}/applications"): lambda tag: {
        "credit_code": CREDIT_CODE,
        "project": "测算",
    },
    ("POST", "/api/v1/sandbox/tracks/{track_id}/queries"): lambda tag: {
        "sql": f'SELECT count(*) FROM "{OPEN}"',
        "epsilon": 1.0,
    },
    ("POST", "/api/v1/sandbox/products"): lambda tag: {"name": f"product-{tag}", "title": "数据产品"},
    ("POST", "/api/v1/services"): lambda tag: _service_item(f"stateful-{tag}"),
    ("PUT", "/api/v1/services/{code}/process.bpmn"): lambda tag: _process(),
    ("POST", "/api/v1/tasks/{task_id}/complete"): lambda tag: {"decision": "approve", "comment": ""},
    ("POST", "/api/v1/applications/{application_id}/rating"): lambda tag: (
        {"level": 2, "comment": "太慢"} if int(tag, 16) % 2 else {"level": 5, "comment": ""}
    ),
    ("POST", "/api/v1/rectifications/{rectification_id}/explain"): lambda tag: {"text": "已整改"},
    ("POST", "/api/v1/rectifications/{rectification_id}/appeal"): lambda tag: {"text": "已按时办结"},
    ("POST", "/api/v1/rectifications/{rectification_id}/review"): lambda tag: {"upheld": True, "note": "属实"},
}


def lay_template(case: Case) -> None:
    """Make half the positive bodies of a templated operation valid, keeping the values links put in."""
    template = TEMPLATES.get((case.method.upper(), case.path))
    if template is None or case.meta is None or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return
    digest = zlib.crc32(repr(case.body).encode())
    if digest % 2:
        return
    valid = template(f"{digest:08x}")
    if isinstance(valid, bytes) or not isinstance(case.body, dict):
        case.body = valid
        return
    linked = {"dataset", "fields", "source", "id"}  # values a link may have put in: keep those
    case.body = {**case.body, **{k: v for k, v in valid.items() if k not in linked or k not in case.body}}


# ---- the world and the machine ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """The in-process client, each identity's Authorization header, and where the problems found go."""

    client: TestClient
    headers: Mapping[str, Mapping[str, str]]
    problems: list[str]
    database_url: str = ""
    scenarios: list[int] = field(default_factory=list)  # calls made by each finished scenario


def build_stage(client: TestClient, database: Database, make_user: UserFactory) -> Stage:
    """test_api_fuzz's world, a consumer department, a service with its process, a track and a pending request."""
    world = build_world(client, database, make_user)
    make_user(CONSUMER, "dept_staff", department=HEALTH)
    headers = {**world.headers, "consumer": {"Authorization": token_for(database, CONSUMER)}}
    staff, admin = headers[STAFF], headers[ADMIN]
    created = client.post("/api/v1/services", headers=staff, json=_service_item(SERVICE))
    assert created.status_code == 201, created.text
    imported = client.put(
        f"/api/v1/services/{SERVICE}/process.bpmn",
        content=_process(),
        headers={**admin, "Content-Type": "application/xml"},
    )
    assert imported.status_code == 200, imported.text
    track = TEMPLATES[("POST", "/api/v1/sandbox/tracks")]("world")
    assert client.post("/api/v1/sandbox/tracks", headers=admin, json=track).status_code == 201
    asked = {"dataset": "closed-registry", "fields": ["姓名"], "purpose": "核验", "legal_basis": "依法", "days": 30}
    requested = client.post("/api/v1/sharing/requests", headers=headers["consumer"], json=asked)
    assert requested.status_code == 201, requested.text
    applied = client.post(
        f"/api/v1/services/{SERVICE}/applications", headers=headers[CITIZEN], json={"form": {"applicant_name": "张三"}}
    )
    assert applied.status_code == 201, applied.text  # an open task in 海南省公安厅's inbox
    return Stage(client=client, headers=headers, problems=[], database_url=database.url)


def machine_for(stage: Stage, cast: str, attempt: int = 0) -> type[Any]:
    """The schemathesis state machine over the app's spec, sending every call in-process as `cast` says."""
    schema = load_schema(stage.client)
    who = CASTS[cast]
    base = schema.as_state_machine()
    # A scenario starts at a list or a create call; an operation on one object is reached through links only (a
    # random id would be a 404 that feeds nothing). Hypothesis finds rules by attribute: shadowing one removes it.
    by_label = {result.ok().label: result.ok() for result in schema.get_all_operations()}
    dead_ends = {name for name in base.root_rules if by_label[_root_label(base, name)].path_parameters}

    class CastMachine(base):  # type: ignore[misc,valid-type]
        rule_order_seed = zlib.crc32(f"{cast} {attempt}".encode())
        root_rules = base.root_rules - dead_ends
        calls = 0

        def teardown(self) -> None:
            stage.scenarios.append(self.calls)
            super().teardown()

        def before_call(self, case: Case) -> None:
            lay_template(case)

        def call(self, case: Case, **kwargs: Any) -> Response:
            self.calls += 1
            identity = who(case.method.upper(), case.path)
            return Response.from_any(send(stage.client, case, stage.headers[identity]))

        def validate_response(self, response: Response, case: Case, *args: Any, **kwargs: Any) -> None:
            try:
                case.validate_response(response, checks=checks_for(case.operation))
            except (Exception, FailureGroup) as error:  # collected: one run reports every distinct failure
                identity = who(case.method.upper(), case.path)
                body = "" if isinstance(case.body, NotSet) else f" body={str(case.body)[:200]!r}"
                request = f"{case.method} {case.formatted_path} query={case.query}{body} -> {response.status_code}"
                stage.problems.append(f"{cast}/{identity} {request}: {str(error).strip()[:1500]}")

    for name in dead_ends:
        setattr(CastMachine, name, None)
    return CastMachine


def _root_label(machine: type[Any], rule_name: str) -> str:
    """The operation a root rule calls (`RANDOM__POST_api_v1_tokens` for `POST /api/v1/tokens`)."""
    return next(label for label in machine._root_labels if normalize_name(f"RANDOM -> {label}") == rule_name)


SETTINGS = hypothesis_settings(
    max_examples=SCENARIOS,
    stateful_step_count=STEPS,
    derandomize=True,  # reproducible: the same scenarios every run (casts differ by who calls and root order)
    database=None,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)


# ---- tests --------------------------------------------------------------------------------------------------------


def test_every_link_of_the_spec_names_a_real_operation_and_parameter(fuzz_client: TestClient) -> None:  # noqa: F811
    """schemathesis resolves each link (it raises on a target or parameter that does not exist)."""
    schema = load_schema(fuzz_client)
    transitions = collect_transitions([result.ok() for result in schema.get_all_operations()])
    links = {(op, link.target.label) for op, found in transitions.operations.items() for link in found.outgoing}
    assert ("POST /api/v1/datasets", "POST /api/v1/datasets/{name}/versions") in links
    assert ("POST /api/v1/sharing/requests", "POST /api/v1/sharing/requests/{request_id}/approve") in links
    assert ("POST /api/v1/tasks/{task_id}/claim", "POST /api/v1/tasks/{task_id}/complete") in links
    assert len(links) >= 80, "the spec lost most of its links"


@pytest.mark.parametrize("cast", CASTS)
def test_chained_calls_get_no_server_error_and_answers_match_the_spec(
    fuzz_client: TestClient,  # noqa: F811
    settings: Settings,
    database: Database,
    make_user: UserFactory,
    cast: str,
) -> None:
    if settings.database_url.startswith("postgresql") and not FULL:
        pytest.skip("the machine runs on PostgreSQL in the full run only (YIWANG_HARDEN_FULL=1)")
    stage = build_stage(fuzz_client, database, make_user)
    explore(stage, cast)
    assert len(stage.scenarios) >= SCENARIOS, "the machine stopped early"
    problems = list(distinct(stage.problems))
    assert problems == [], "\n\n".join(problems)


def explore(stage: Stage, cast: str) -> None:
    """Run `SCENARIOS` scenarios of the machine. The database keeps what earlier scenarios made, so Hypothesis may
    see a choice it replays lead elsewhere and stop with `Flaky`: the remaining scenarios then start from another
    root order (a few attempts; a real failure is never raised inside Hypothesis, it is collected)."""
    for attempt in range(5):
        left = SCENARIOS - len(stage.scenarios)
        if left <= 0:
            return
        try:
            machine_for(stage, cast, attempt).run(settings=hypothesis_settings(SETTINGS, max_examples=left))
        except Flaky:
            continue


def test_the_machine_reports_what_the_checks_find(fuzz_client: TestClient) -> None:  # noqa: F811
    """A 500 and a stack trace met on the way are collected as problems, each with its cast and request."""
    stage = Stage(client=fuzz_client, headers={}, problems=[])
    machine = machine_for(stage, "workflow")
    case = load_schema(fuzz_client)["/healthz"]["GET"].Case()
    request = httpx2.Request("GET", "http://testserver/healthz")
    for answer in (
        httpx2.Response(500, request=request, json={"status": "ok"}),
        httpx2.Response(200, request=request, text='Traceback (most recent call last):\n  File "x.py"'),
    ):
        answer.elapsed = timedelta(0)  # set by a client's transport; this answer never travelled
        machine.validate_response(None, Response.from_any(answer), case)
    assert len(stage.problems) == 2 and all(p.startswith("workflow/dept_staff GET /healthz") for p in stage.problems)


# ---- the links lead where they say: followed by hand, as a client would ---------------------------------------------

Links = dict[tuple[str, str], OpenApiLink]


def follow(stage: Stage, links: Links, output: StepOutput, name: str, identity: str, body: Any = NOT_SET) -> StepOutput:
    """Call the target of link `name` of `output`'s operation with the values the link takes from `output`."""
    link = links[(output.case.operation.label, name)]
    transition = link.extract(output)
    values = {
        container: {k: p.value.ok() for k, p in found.items()} for container, found in transition.parameters.items()
    }
    if transition.request_body is not None:
        linked_body = transition.request_body.value.ok()
        body = {**body, **linked_body} if isinstance(body, dict) and isinstance(linked_body, dict) else linked_body
    media_type = next(iter(link.target.body)).media_type if not isinstance(body, NotSet) else None
    case = link.target.Case(
        path_parameters=values.get("path_parameters"), query=values.get("query"), body=body, media_type=media_type
    )
    response = Response.from_any(send(stage.client, case, stage.headers[identity]))
    assert response.status_code < 300, f"{link.full_name} as {identity}: {response.status_code} {response.text[:500]}"
    return StepOutput(response, case)


def start(stage: Stage, schema: Any, method: str, path: str, identity: str, body: Any = NOT_SET) -> StepOutput:
    """The first call of a chain."""
    operation = schema[path][method]
    case = operation.Case(body=body, media_type=None if isinstance(body, NotSet) else "application/json")
    response = Response.from_any(send(stage.client, case, stage.headers[identity]))
    assert response.status_code < 300, f"{method} {path} as {identity}: {response.status_code} {response.text[:500]}"
    return StepOutput(response, case)


def test_following_the_links_walks_each_workflow_to_its_end(
    fuzz_client: TestClient,  # noqa: F811
    database: Database,
    make_user: UserFactory,
) -> None:
    """Each link's expressions name real fields of real answers: a client following them gets through every
    workflow (so the machine can too, and a broken expression fails here, not silently as 404s there)."""
    stage = build_stage(fuzz_client, database, make_user)
    schema = load_schema(fuzz_client)
    links = {
        (source, link.name): link
        for source, found in collect_transitions([r.ok() for r in schema.get_all_operations()]).operations.items()
        for link in found.outgoing
    }
    template = {key: make("00c0ffee") for key, make in TEMPLATES.items()}

    published = start(stage, schema, "POST", "/api/v1/datasets", STAFF, template[("POST", "/api/v1/datasets")])
    uploaded = follow(stage, links, published, "UploadVersion", STAFF, {"file": CSV, "format": "csv"})
    rows = follow(stage, links, uploaded, "ReadRows", STAFF)
    assert rows.response.json()["total"] == 2
    shown = follow(stage, links, uploaded, "ReadDataset", "consumer")
    asked = follow(stage, links, shown, "RequestData", "consumer", template[("POST", "/api/v1/sharing/requests")])
    approved = follow(stage, links, asked, "ApproveRequest", STAFF, {})
    granted = follow(stage, links, approved, "ReadGrantedRows", "consumer")
    assert granted.response.json()["total"] == 2

    track = start(stage, schema, "POST", "/api/v1/sandbox/tracks", ADMIN, template[("POST", "/api/v1/sandbox/tracks")])
    applied = follow(stage, links, track, "ApplyToTrack", ENTERPRISE, {"credit_code": CREDIT_CODE, "project": "测算"})
    decided = follow(stage, links, applied, "ApproveTrackApplication", ADMIN, {})
    query = template[("POST", "/api/v1/sandbox/tracks/{track_id}/queries")]
    released = follow(stage, links, decided, "RunPrivateQuery", ENTERPRISE, {**query, "epsilon": 50.0})
    product = follow(stage, links, released, "PublishRelease", ENTERPRISE, {"name": "walk-product", "title": "产品"})
    follow(stage, links, product, "ReadDataset", ENTERPRISE)
    exported = follow(stage, links, decided, "ExportDeidentified", ENTERPRISE)
    follow(stage, links, exported, "PublishExport", ENTERPRISE, {"name": "walk-export", "title": "脱敏数据"})

    services = start(stage, schema, "GET", "/api/v1/services", CITIZEN)
    guide = follow(stage, links, services, "ReadService", CITIZEN)
    submitted = follow(stage, links, guide, "ApplyWithExample", CITIZEN, {})
    progress = follow(stage, links, submitted, "ReadApplication", CITIZEN)
    claimed = follow(stage, links, progress, "ClaimTask", STAFF)
    done = follow(stage, links, claimed, "CompleteTask", STAFF, {"decision": "approve", "comment": ""})
    rated = follow(stage, links, done, "RateApplication", CITIZEN, {"level": 2, "comment": "太慢"})
    appealed = follow(stage, links, rated, "AppealRectification", STAFF, {"text": "已按时办结"})
    reviewed = follow(stage, links, appealed, "ReviewRectification", ADMIN, {"upheld": True, "note": "属实"})
    assert reviewed.response.json()["state"] != "open"

    token = start(stage, schema, "POST", "/api/v1/tokens", CITIZEN, {"name": "walk"})
    assert follow(stage, links, token, "RevokeToken", CITIZEN).response.json()["revoked_at"] is not None


# ---- found by the machine, kept so they stay fixed -----------------------------------------------------------------


def test_the_releases_of_a_track_beyond_the_database_integers_are_a_404_not_a_server_error(
    fuzz_client: TestClient,  # noqa: F811
    database: Database,
    make_user: UserFactory,
) -> None:
    """`GET …/tracks/{track_id}/releases` looked the caller's application up without the track lookup's range check:
    2**63 reached SQLite's driver (OverflowError) and PostgreSQL's (a 32-bit column), a 500 either way."""
    stage = build_stage(fuzz_client, database, make_user)
    operation = load_schema(fuzz_client)["/api/v1/sandbox/tracks/{track_id}/releases"]["GET"]
    for track_id in (2**63, 2**31):
        case = operation.Case(path_parameters={"track_id": track_id})
        response = send(fuzz_client, case, stage.headers[ENTERPRISE])
        assert response.status_code == 404, response.text
        case.validate_response(response, checks=checks_for(operation))


BEYOND_INT32 = 2**40  # a valid 64-bit id, but PostgreSQL's INTEGER columns stop at 2**31 - 1

#: Found by the machine on PostgreSQL (500, `NumericValueOutOfRange`): the services' and tokens' lookups refused ids
#: past 2**63, SQLite's limit, not 2**31, PostgreSQL's; every lookup now asks `yiwang.core.models.is_row_id`.
ID_LOOKUPS: list[tuple[str, str, Any, str]] = [
    ("DELETE", "/api/v1/tokens/{token_id}", NOT_SET, CITIZEN),
    ("GET", "/api/v1/applications/{application_id}", NOT_SET, CITIZEN),
    ("GET", "/api/v1/applications/{application_id}/materials/{code}", NOT_SET, CITIZEN),
    ("POST", "/api/v1/applications/{application_id}/rating", {"level": 5, "comment": ""}, CITIZEN),
    ("POST", "/api/v1/tasks/{task_id}/claim", NOT_SET, STAFF),
    ("POST", "/api/v1/tasks/{task_id}/complete", {"decision": "approve", "comment": ""}, STAFF),
    ("POST", "/api/v1/rectifications/{rectification_id}/explain", {"text": "已整改"}, STAFF),
    ("POST", "/api/v1/rectifications/{rectification_id}/appeal", {"text": "已办结"}, STAFF),
    ("POST", "/api/v1/rectifications/{rectification_id}/review", {"upheld": True, "note": "属实"}, ADMIN),
]


def test_an_id_beyond_the_database_integers_is_a_404_not_a_server_error(
    fuzz_client: TestClient,  # noqa: F811
    database: Database,
    make_user: UserFactory,
) -> None:
    stage = build_stage(fuzz_client, database, make_user)
    schema = load_schema(fuzz_client)
    wrong = []
    for method, path, body, identity in ID_LOOKUPS:
        operation = schema[path][method]
        ids = {p.name: BEYOND_INT32 for p in operation.path_parameters if p.name != "code"}
        case = operation.Case(
            path_parameters={**ids, "code": "photo"} if "{code}" in path else ids,
            body=body,
            media_type=None if isinstance(body, NotSet) else "application/json",
        )
        response = send(fuzz_client, case, stage.headers[identity])
        try:
            assert response.status_code == 404, response.text[:200]
            case.validate_response(response, checks=checks_for(operation))
        except (Exception, FailureGroup) as error:
            wrong.append(f"{method} {path} -> {response.status_code}: {str(error).strip().splitlines()[0]}")
    assert wrong == [], "\n".join(wrong)


def test_a_csv_with_a_bare_carriage_return_is_refused_not_a_server_error(
    fuzz_client: TestClient,  # noqa: F811
    database: Database,
    make_user: UserFactory,
) -> None:
    """Found by the machine: the header was read with `csv.reader(io.StringIO(text))`, which kept a lone `\\r` inside
    the line, and the csv module's error was a 500. Old Mac files (CR line ends) now read; anything csv still cannot
    read is `ingest.malformed`."""
    stage = build_stage(fuzz_client, database, make_user)
    wrong = []
    for content in (b"a,b\r1,2\n", b"a\rb,c\n1,2\n"):
        uploaded = fuzz_client.post(
            f"/api/v1/datasets/{OPEN}/versions", headers=stage.headers[STAFF], files={"file": ("f.csv", content)}
        )
        if uploaded.status_code not in (201, 422):
            wrong.append(f"{content!r} -> {uploaded.status_code}")
    assert wrong == [], wrong


#: Found by the machine on PostgreSQL (500, "PostgreSQL text fields cannot contain NUL (0x00) bytes"): a `department`
#: filter went to the database as it came. NUL in a path or query string is now refused before any route
#: (`yiwang.web.bodies.RefuseNul`).
NUL_FILTERS = ("/api/v1/datasets?department=a%00b", "/api/v1/services?department=a%00b")


def test_a_nul_character_in_a_filter_is_not_a_server_error(
    fuzz_client: TestClient,  # noqa: F811
    database: Database,
    make_user: UserFactory,
) -> None:
    stage = build_stage(fuzz_client, database, make_user)
    answers = {url: fuzz_client.get(url, headers=stage.headers[STAFF]) for url in NUL_FILTERS}
    assert {url: a.status_code for url, a in answers.items()} == dict.fromkeys(NUL_FILTERS, 422)
    assert all(a.json()["error"]["code"] == "request.nul" for a in answers.values())
