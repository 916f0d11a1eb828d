"""API fuzzing: schemathesis generates requests for every operation of the app's OpenAPI spec and sends them in-process.

Each identity (anonymous and a token of each role) gets positive and negative cases for every operation, with path
parameters sometimes pointing at real objects (an open and a closed dataset with a version, real CKAN actions, a
spare token). Every answer must be no 5xx, match the declared response schema where one is declared, and never carry
a stack trace. The fast variant for CI: a few examples per operation, seeded per identity, on SQLite only.
"""

from __future__ import annotations

import traceback
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import requests
import schemathesis
from factories import UserFactory, token_for
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import response_schema_conformance

from yiwang.catalog.ckan.actions import ACTIONS
from yiwang.core import accounts
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.settings import Settings
from yiwang.web.app import create_app

#: Generated cases per operation, identity and generation mode: small, so the module stays fast enough for CI.
MAX_EXAMPLES = 8

POLICE = "海南省公安厅"
OPEN, CLOSED = "open-registry", "closed-registry"
CSV = "姓名,身份证号,年龄\n张三,11010519491231002X,76\n李四,460100199001011237,34\n".encode()
USERNAMES = {"admin": "root", "dept_staff": "gongan", "auditor": "shenji", "enterprise": "qiye", "citizen": "shimin"}
IDENTITIES = ("anonymous", *USERNAMES)
TRACE_MARKERS = ("Traceback", 'File "')

#: Operations of the spec not fuzzed, with the reason; checked against the spec so the list cannot go stale. Empty:
#: even the CKAN catch-all ``/api/3/action/{name}`` is fuzzed (with real action names among the generated ones).
EXCLUDED: dict[tuple[str, str], str] = {}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: this is the fast CI variant; the route matrix covers PostgreSQL for the same routes."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@dataclass(frozen=True)
class World:
    """Real objects the path parameters can point at, and each identity's Authorization header."""

    headers: Mapping[str, Mapping[str, str]]
    spare_token: int


def build_world(client: TestClient, database: Database, make_user: UserFactory) -> World:
    """A department with a staff user, an open and a closed dataset each with a version uploaded through the API."""
    make_user(USERNAMES["admin"], "admin")
    make_user(USERNAMES["dept_staff"], "dept_staff", department=POLICE)
    for role in ("auditor", "enterprise", "citizen"):
        make_user(USERNAMES[role], role)
    headers = {role: {"Authorization": token_for(database, name)} for role, name in USERNAMES.items()}
    headers["anonymous"] = {}
    for name, open_type in ((OPEN, "unconditional"), (CLOSED, "none")):
        body = {"name": name, "title": "户籍", "department": POLICE, "share_type": "unconditional"}
        body["open_type"] = open_type
        assert client.post("/api/v1/datasets", headers=headers["dept_staff"], json=body).status_code == 201
        uploaded = client.post(
            f"/api/v1/datasets/{name}/versions",
            headers=headers["dept_staff"],
            files={"file": ("人口.csv", CSV, "text/csv")},
        )
        assert uploaded.status_code == 201, uploaded.text
    with database.session() as session:
        # a token nobody authenticates with, so a DELETE that hits it does not lock the fuzzing identity out
        spare, _ = accounts.create_token(session, Actor.operator(), USERNAMES["citizen"], "spare", None)
        spare_id = spare.id
    return World(headers=headers, spare_token=spare_id)


def real_path_parameters(operation: APIOperation, world: World) -> list[dict[str, Any]]:
    """Path parameters that name real objects for `operation` (none when it has no path parameters)."""
    names = {parameter.name for parameter in operation.path_parameters}
    if operation.path.startswith("/api/3/action/"):
        return [{"name": action} for action in sorted(ACTIONS)]
    choices: list[dict[str, Any]] = []
    if names == {"token_id"}:
        choices.append({"token_id": world.spare_token})
    for dataset in (OPEN, CLOSED):
        if names == {"name"}:
            choices.append({"name": dataset})
        elif names == {"name", "fmt"}:
            choices += [{"name": dataset, "fmt": fmt} for fmt in ("csv", "json", "parquet")]
        elif names == {"name", "extension"}:
            choices += [{"name": dataset, "extension": ext} for ext in ("ttl", "rdf", "jsonld")]
    if names == {"extension"}:
        choices += [{"extension": ext} for ext in ("ttl", "rdf", "jsonld")]
    return choices


ANY_STRING = ({"type": "string"}, {"anyOf": [{"type": "string"}, {"type": "null"}]})


def can_be_wrong(parameter: Any) -> bool:
    """Whether a negative case can exist: any text is a valid optional string parameter or path segment."""
    schema = {k: v for k, v in parameter.definition.get("schema", {}).items() if k not in ("title", "description")}
    schema.pop("default", None)
    return schema not in ANY_STRING or (parameter.location == "query" and parameter.is_required)


def modes_for(operation: APIOperation, fixed: bool = False) -> list[GenerationMode]:
    """Negative cases need an input that can be wrong (`fixed`: other than the path); ``/healthz`` has none."""
    parameters = operation.query if fixed else operation.iter_parameters()
    # a raw XML body (a BPMN upload) is any bytes: only JSON bodies have a schema to break
    json_body = any(body.media_type == "application/json" for body in operation.body)
    negatable = any(can_be_wrong(parameter) for parameter in parameters) or json_body
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if negatable else [GenerationMode.POSITIVE]


def cases_for(operation: APIOperation, world: World, mode: GenerationMode) -> st.SearchStrategy[Case]:
    """Fully generated cases, and as many again whose path parameters name real objects."""
    generated = operation.as_strategy(generation_mode=mode)
    # with every path parameter fixed, a negative case must get the query or the body wrong: there must be one
    fixable = mode in modes_for(operation, fixed=True)
    fixed_choices = real_path_parameters(operation, world) if fixable else []
    real = [operation.as_strategy(generation_mode=mode, path_parameters=fixed) for fixed in fixed_choices]
    if not real:
        return generated
    return st.one_of(generated, st.one_of(*real))


def no_stack_trace(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A user never sees a Python stack trace, whatever the status."""
    body = response.text_lossy()
    for marker in TRACE_MARKERS:
        if marker in body:
            raise AssertionError(f"stack trace marker {marker!r} in the body: {body[:300]}")
    return None


CHECKS = [not_a_server_error, response_schema_conformance, no_stack_trace]

#: Operations whose answers are not checked against their declared schema, and why; the other checks still run.
SCHEMA_CHECK_SKIPPED: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/datasets/{name}/rows"): (
        "schemathesis 4.32 rewrites the valid OpenAPI 3.1 `prefixItems` of `facets` (tuple[Any, int]) into draft-4 "
        "`items: [{}, {type: integer}]` and then rejects its own rewrite as an invalid Schema Object"
    ),
}


def checks_for(operation: APIOperation) -> list[Any]:
    """The checks for `operation`'s answers: all of `CHECKS` unless its schema check is skipped (and why) above."""
    if (operation.method.upper(), operation.path) in SCHEMA_CHECK_SKIPPED:
        return [check for check in CHECKS if check is not response_schema_conformance]
    return CHECKS


def send(client: TestClient, case: Case, headers: Mapping[str, str]) -> httpx2.Response:
    """Send `case` through the in-process test client, serialised exactly as schemathesis would put it on the wire."""
    kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=dict(headers))
    kwargs.pop("auth", None)
    prepared = requests.Request(**kwargs).prepare()
    return client.request(
        prepared.method or case.method,
        prepared.url or "",
        headers=dict(prepared.headers),
        content=prepared.body,
        follow_redirects=False,
    )


def describe(case: Case, response: httpx2.Response | None) -> str:
    """The request line of `case` and the status it got, for the failure report."""
    status = response.status_code if response is not None else "no response"
    body = "" if isinstance(case.body, NotSet) else f" body={str(case.body)[:200]!r}"
    return f"{case.method} {case.formatted_path} query={case.query}{body} -> {status}"


def fuzz(client: TestClient, operation: APIOperation, world: World, identity: str) -> Iterator[str]:
    """Problems found by fuzzing one operation as one identity, each with the request that found it."""
    problems: list[str] = []
    for mode in modes_for(operation):
        # a fixed seed per (identity, operation, mode): reproducible, yet each identity explores other inputs
        @seed(zlib.crc32(f"{identity} {operation.label} {mode.value}".encode()))
        @hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases_for(operation, world, mode))
        def run(case: Case) -> None:
            response = None
            try:
                response = send(client, case, world.headers[identity])
                case.validate_response(response, checks=checks_for(operation))
            except (Exception, FailureGroup) as error:  # collected, not raised: one run reports every distinct failure
                detail = traceback.format_exc() if response is None else str(error)
                problems.append(f"{identity} {describe(case, response)}: {detail.strip()[:1500]}")

        try:
            run()
        except Exception as error:
            error.add_note(f"while fuzzing {operation.label} in {mode.value} mode")
            raise
    # the same failure is found by many examples
    yield from distinct(problems)


def distinct(problems: list[str]) -> Iterator[str]:
    """One line per distinct (request line, first line of the problem)."""
    seen: set[str] = set()
    for problem in problems:
        key = problem.split(" query=", 1)[0] + problem.split(": ", 1)[-1].splitlines()[0]
        if key not in seen:
            seen.add(key)
            yield problem


@pytest.fixture
def fuzz_client(settings: Settings, database: Database) -> Iterator[TestClient]:
    """Like the shared `client`, but server exceptions come back as the 500 a user would get, then get reported."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def load_schema(client: TestClient) -> Any:
    """The app's own OpenAPI document, as served, loaded into schemathesis."""
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    return schemathesis.openapi.from_dict(spec.json())


def operations(schema: Any) -> list[APIOperation]:
    """Every operation of the spec but the `EXCLUDED` ones."""
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if (op.method.upper(), op.path) not in EXCLUDED]


def test_excluded_operations_still_exist(fuzz_client: TestClient) -> None:
    schema = load_schema(fuzz_client)
    paths = {(op.method.upper(), op.path) for op in (result.ok() for result in schema.get_all_operations())}
    assert sorted(EXCLUDED.keys() - paths) == [], "EXCLUDED names operations the spec no longer has"
    assert sorted(SCHEMA_CHECK_SKIPPED.keys() - paths) == [], "SCHEMA_CHECK_SKIPPED names operations that are gone"


@pytest.mark.parametrize("identity", IDENTITIES)
def test_fuzzed_requests_get_no_server_error_and_answers_match_the_spec(
    fuzz_client: TestClient, database: Database, make_user: UserFactory, identity: str
) -> None:
    world = build_world(fuzz_client, database, make_user)
    schema = load_schema(fuzz_client)
    found = operations(schema)
    assert len(found) >= 20, "the spec lost most of its operations"
    problems = [problem for operation in found for problem in fuzz(fuzz_client, operation, world, identity)]
    assert problems == [], "\n\n".join(problems)


def test_the_checks_can_fail(fuzz_client: TestClient) -> None:
    """A 500, a stack trace and a body that breaks the declared schema are each reported."""
    schema = load_schema(fuzz_client)
    case = schema["/healthz"]["GET"].Case()
    request = httpx2.Request("GET", "http://testserver/healthz")
    for response in (
        httpx2.Response(500, request=request, json={"status": "ok"}),
        httpx2.Response(200, request=request, text='Traceback (most recent call last):\n  File "x.py"'),
    ):
        with pytest.raises(Exception):  # noqa: B017 - schemathesis raises its own failure group
            case.validate_response(response, checks=CHECKS)
    declared = schema["/api/v1/me"]["GET"].Case()
    me = httpx2.Request("GET", "http://testserver/api/v1/me")
    with pytest.raises(Exception):  # noqa: B017
        declared.validate_response(httpx2.Response(200, request=me, json={"username": 5}), checks=CHECKS)


TOO_BIG = 2**63  # one past SQLite's largest INTEGER: the driver raises OverflowError before the query runs

#: Cases the fuzzer found answered 500 (SQLite OverflowError), kept so they stay fixed: (operation, path, query, as).
FOUND: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    ("GET", "/catalog.{extension}", {"extension": "ttl"}, {"page_size": 35, "page": 5 * 10**24}, "anonymous"),
    ("GET", "/catalog.{extension}", {"extension": "jsonld"}, {"page": TOO_BIG}, "anonymous"),
    ("DELETE", "/api/v1/tokens/{token_id}", {"token_id": TOO_BIG}, {}, "citizen"),
    ("DELETE", "/api/v1/tokens/{token_id}", {"token_id": -(10**19) - 1}, {}, "auditor"),
    ("GET", "/api/v1/audit", {}, {"page": TOO_BIG}, "auditor"),
]


@pytest.mark.parametrize(
    ("method", "path", "path_parameters", "query", "identity"), FOUND, ids=[f"{m} {p} {i}" for m, p, _, _, i in FOUND]
)
def test_a_number_too_big_for_the_database_is_refused_not_a_server_error(
    fuzz_client: TestClient,
    database: Database,
    make_user: UserFactory,
    method: str,
    path: str,
    path_parameters: dict[str, Any],
    query: dict[str, Any],
    identity: str,
) -> None:
    world = build_world(fuzz_client, database, make_user)
    operation = load_schema(fuzz_client)[path][method]
    case = operation.Case(path_parameters=path_parameters, query=query)
    case.validate_response(send(fuzz_client, case, world.headers[identity]), checks=checks_for(operation))
