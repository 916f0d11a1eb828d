"""A day on the portal for locust: visitors browse, searchers search in Chinese, downloaders fetch CSV files,
citizens sign in once and apply for services, department staff sign in once and handle their inbox.

Only locust loads this file, in a process of its own (`python -m bench load` starts it; gevent patches the standard
library, so nothing else may import it). What it needs to know of the installation — accounts, service items,
datasets — comes from the JSON plan named by $BENCH_LOAD_PLAN, written by bench/load.py. Every request is named by its
type (`name=`), so the statistics are per request type, not per URL; an answer that is not the expected one is a
failure, except a task a colleague claimed or finished first (409), which is how a shared inbox works.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import re
from collections import Counter
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from locust import FastHttpUser, between, constant, events, task
from locust.contrib.fasthttp import FastResponse
from locust.exception import StopUser

PLAN: dict[str, Any] = json.loads(Path(os.environ["BENCH_LOAD_PLAN"]).read_text(encoding="utf-8"))
DATASET_QUERIES = ("企业", "旅游", "天气", "空气质量", "学校", "医疗机构", "税收", "公交", "人口", "景区 游客")
SERVICE_QUERIES = ("出生", "社保", "开办企业", "身份证", "驾驶证", "户口", "养老", "结婚登记", "营业执照", "无犯罪记录")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NEW_TOKEN = re.compile(r'data-testid="new-token">([^<]+)<')
EXPECTED_CONFLICTS = frozenset({"task.claimed", "task.not_open"})  # a colleague was quicker: not an error
REJECT_ONE_IN = 10  # staff refuse about one application in ten, with a reason
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
COUNTS: Counter[str] = Counter()  # outcomes the statistics do not show, written to the plan's `counters` file
_padded: dict[str, dict[str, Any]] = {}
Check = Callable[[FastResponse], str | None]


class Portal(FastHttpUser):
    """A browser or script talking to `yiwang serve`; what every kind of user shares."""

    abstract = True
    network_timeout = 60.0
    connection_timeout = 60.0

    def call(
        self,
        method: str,
        path: str,
        name: str,
        *,
        expected: Collection[int] = (200,),
        check: Check | None = None,
        token: str | None = None,
        **kwargs: Any,
    ) -> FastResponse | None:
        """The answer if it is one of `expected` (and passes `check`), else None with the request marked failed."""
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        with self.client.request(method, path, name=name, catch_response=True, headers=headers, **kwargs) as answer:
            problem = _problem(answer, expected, check)
            if problem:
                answer.failure(problem)
                return None
            answer.success()
            return answer

    def sign_in(self, username: str) -> tuple[str, str]:
        """Sign in on the web form (CSRF token from the page), then make an API token on the account page, as a
        person who scripts against the API does; (username, token)."""
        self.client.cookiejar.clear()
        page = self.call("GET", "/login?next=/account", "sign-in page", check=_html)
        fields = {"username": username, "password": PLAN["password"], "next": "/account", "csrf_token": _csrf(page)}
        signed = self.call(
            "POST", "/login", "sign in", expected=(303,), data=urlencode(fields), headers=FORM, allow_redirects=False
        )
        account = self.call("GET", "/account", "account page", check=_html) if signed is not None else None
        if account is None:
            raise StopUser()  # the failed step is counted; one who cannot sign in goes away
        made = self.call(
            "POST",
            "/account/tokens",
            "create API token",
            expected=(201,),
            data=urlencode({"name": "load test", "expires_in_days": "1", "csrf_token": _csrf(account)}),
            headers=FORM,
            check=lambda answer: None if NEW_TOKEN.search(answer.text or "") else "no token on the page",
        )
        found = NEW_TOKEN.search(made.text or "") if made is not None else None
        if found is None:
            raise StopUser()
        return username, found.group(1)


def _problem(answer: FastResponse, expected: Collection[int], check: Check | None) -> str | None:
    if answer.status_code not in expected:
        return f"{answer.status_code} (expected {'/'.join(map(str, expected))}): {_start(answer)}"
    return check(answer) if check else None


def _start(answer: FastResponse) -> str:
    return (answer.content or b"")[:300].decode(errors="replace")


def _csrf(page: FastResponse | None) -> str:
    found = CSRF.search(page.text or "") if page is not None else None
    return found.group(1) if found else ""


def _html(answer: FastResponse) -> str | None:
    """A whole page: rendered to its end, not an error page in disguise."""
    return None if b"</html>" in (answer.content or b"") else "the page is cut short"


def _json(answer: FastResponse) -> str | None:
    try:
        answer.json()
    except ValueError:
        return f"not JSON: {_start(answer)}"
    return None


def _ckan(answer: FastResponse) -> str | None:
    try:
        body = answer.json()
    except ValueError:
        return f"not JSON: {_start(answer)}"
    return None if body.get("success") is True else f"success is not true: {_start(answer)}"


def _csv(answer: FastResponse) -> str | None:
    """A whole CSV file: UTF-8 with BOM (for Excel), a header and at least one row."""
    content = answer.content or b""
    if not content.startswith(b"\xef\xbb\xbf"):
        return f"no UTF-8 BOM: {_start(answer)}"
    return None if content.count(b"\n") >= 2 else "no rows"


# --- browsing ------------------------------------------------------------------------------------------------------


def home(user: Portal) -> None:
    user.call("GET", "/", "home", check=_html)


def dataset_list(user: Portal) -> None:
    user.call("GET", f"/datasets?page={random.randint(1, 2)}", "dataset list", check=_html)


def dataset_page(user: Portal) -> None:
    user.call("GET", f"/datasets/{random.choice(PLAN['datasets'])}", "dataset page", check=_html)


def ckan_package_search(user: Portal) -> None:
    start = random.choice((0, 10, 20))
    user.call("GET", f"/api/3/action/package_search?rows=10&start={start}", "CKAN package_search", check=_ckan)


def ckan_package_show(user: Portal) -> None:
    path = f"/api/3/action/package_show?id={random.choice(PLAN['datasets'])}"
    user.call("GET", path, "CKAN package_show", check=_ckan)


def service_list(user: Portal) -> None:
    user.call("GET", "/services", "service list", check=_html)


def service_guide(user: Portal) -> None:
    user.call("GET", f"/services/{random.choice(PLAN['services'])}", "service guide", check=_html)


# --- searching -----------------------------------------------------------------------------------------------------


def search_datasets(user: Portal) -> None:
    user.call("GET", f"/datasets?q={quote(random.choice(DATASET_QUERIES))}", "search datasets (page)", check=_html)


def search_datasets_ckan(user: Portal) -> None:
    path = f"/api/3/action/package_search?q={quote(random.choice(DATASET_QUERIES))}&rows=20"
    user.call("GET", path, "search datasets (CKAN)", check=_ckan)


def search_services(user: Portal) -> None:
    user.call("GET", f"/services?q={quote(random.choice(SERVICE_QUERIES))}", "search services (page)", check=_html)


def search_services_api(user: Portal) -> None:
    path = f"/api/v1/services?q={quote(random.choice(SERVICE_QUERIES))}"
    user.call("GET", path, "search services (API)", check=_json)


# --- downloading ---------------------------------------------------------------------------------------------------


def download_csv(user: Portal) -> None:
    """Open a dataset's page, then download its CSV: streamed by the server, read to its end here."""
    name = random.choice(PLAN["downloads"])
    if user.call("GET", f"/datasets/{name}", "dataset page", check=_html) is not None:
        user.call("GET", f"/datasets/{name}/download.csv", "download CSV", check=_csv)


# --- applying ------------------------------------------------------------------------------------------------------


class Applicant(Portal):
    abstract = True
    citizen: tuple[str, str] = ("", "")
    applications: list[int]


def apply(user: Applicant) -> None:
    """Read the guide, then submit the item's example form with a small file per material."""
    code = random.choice(PLAN["services"])
    user.call("GET", f"/services/{code}", "service guide", check=_html)
    item = user.call("GET", f"/api/v1/services/{code}", "service (API)", check=_json, token=user.citizen[1])
    if item is None:
        return
    body = _with_small_files(code, item.json()["example_application"])
    submitted = user.call(
        "POST",
        f"/api/v1/services/{code}/applications",
        "submit application",
        expected=(201,),
        json=body,
        token=user.citizen[1],
        check=_json,
    )
    if submitted is not None:
        user.applications.append(int(submitted.json()["id"]))
        COUNTS["applications submitted"] += 1


def _with_small_files(code: str, example: dict[str, Any]) -> dict[str, Any]:
    """The example's files grown to the plan's size (their first bytes, which name the type, kept): scans are
    not 40 bytes long."""
    if code not in _padded:
        size = int(PLAN["material_bytes"])
        materials = {}
        for material, upload in example["materials"].items():
            content = base64.b64decode(upload["content_base64"])
            grown = content + bytes(i % 251 for i in range(max(0, size - len(content))))
            materials[material] = {**upload, "content_base64": base64.b64encode(grown).decode()}
        _padded[code] = {**example, "materials": materials}
    return _padded[code]


def follow_application(user: Applicant) -> None:
    if not user.applications:
        apply(user)
        return
    application = random.choice(user.applications[-5:])
    path = f"/api/v1/applications/{application}"
    user.call("GET", path, "application status", check=_json, token=user.citizen[1])


def my_applications(user: Applicant) -> None:
    user.call("GET", "/api/v1/applications?state=in_progress", "my applications", check=_json, token=user.citizen[1])


# --- handling ------------------------------------------------------------------------------------------------------


class Handler(Portal):
    abstract = True
    staff: tuple[str, str] = ("", "")


def handle_task(user: Handler) -> None:
    """Open the inbox, take a task at random (not always the first: colleagues share the inbox), read its
    application, claim it and decide."""
    username, token = user.staff
    inbox = user.call("GET", "/api/v1/tasks", "inbox", check=_json, token=token)
    if inbox is None:
        return
    tasks = [t for t in inbox.json() if t["state"] == "open" or t["claimed_by"] == username]
    if not tasks:
        return
    chosen = random.choice(tasks)
    application = f"/api/v1/applications/{chosen['application_id']}"
    user.call("GET", application, "application (staff)", check=_json, token=token)
    claimed = user.call(
        "POST", f"/api/v1/tasks/{chosen['id']}/claim", "claim task", expected=(200, 409), check=_conflict, token=token
    )
    if claimed is None:
        return
    if claimed.status_code == 409:
        COUNTS["claims a colleague won"] += 1
        return
    rejects = random.randrange(REJECT_ONE_IN) == 0
    decision = (
        {"decision": "reject", "comment": "材料不齐全，请补正后重新申请。"}
        if rejects
        else {"decision": "approve", "comment": "材料齐全，同意。"}
    )
    path = f"/api/v1/tasks/{chosen['id']}/complete"
    done = user.call("POST", path, "complete task", expected=(200, 409), check=_conflict, token=token, json=decision)
    if done is not None:
        outcome = ("rejected" if rejects else "approved") if done.status_code == 200 else "finished by a colleague"
        COUNTS[f"tasks {outcome}"] += 1


def _conflict(answer: FastResponse) -> str | None:
    """A 409 must be a colleague's claim or decision, nothing else."""
    if answer.status_code != 409:
        return _json(answer)
    try:
        code = answer.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return f"409 without an error code: {_start(answer)}"
    return None if code in EXPECTED_CONFLICTS else f"unexpected conflict {code}"


# --- the users -----------------------------------------------------------------------------------------------------

BROWSING = {home: 3, dataset_list: 2, dataset_page: 3, ckan_package_search: 1, ckan_package_show: 1}
BROWSING_SERVICES = {service_list: 1, service_guide: 2}
SEARCHING = {search_datasets: 2, search_datasets_ckan: 1, search_services: 2, search_services_api: 1}


class Visitor(Portal):
    """Looks around: the home page, the catalogue, datasets, CKAN API calls of harvesters, service guides."""

    weight = 50
    wait_time = between(1, 4)
    tasks = {**BROWSING, **BROWSING_SERVICES}


class Searcher(Portal):
    """Searches datasets and services in Chinese, on the pages and over the APIs."""

    weight = 20
    wait_time = between(1, 4)
    tasks = SEARCHING


class Downloader(Portal):
    """Finds an open dataset and downloads it as CSV."""

    weight = 10
    wait_time = between(2, 6)
    tasks = [download_csv]


_citizens = itertools.count()
_staff = itertools.count()


class Citizen(Applicant):
    """Signs in once, then applies for services and follows the applications."""

    weight = 15
    wait_time = between(2, 6)
    tasks = {apply: 2, follow_application: 3, my_applications: 1}

    def on_start(self) -> None:
        self.applications = []
        self.citizen = self.sign_in(PLAN["citizens"][next(_citizens) % len(PLAN["citizens"])])


class Staff(Handler):
    """A department's staff member: signs in once, then works through the department's inbox. A department has
    the staff it has, whatever the traffic: their number is fixed by the plan, not a share of the users."""

    fixed_count = int(PLAN["staff_users"])
    wait_time = between(1, 3)
    tasks = [handle_task]

    def on_start(self) -> None:
        self.staff = self.sign_in(PLAN["staff"][next(_staff) % len(PLAN["staff"])])


class Alone(Applicant, Handler):
    """The reference: one user doing every request type in turn, with nobody else on the server. Run on its own
    (`locust … Alone -u 1`); the load run names the other classes (bench/load.py)."""

    wait_time = constant(0.1)

    def on_start(self) -> None:
        self.applications = []
        self.citizen = self.sign_in(PLAN["citizens"][0])
        self.staff = self.sign_in(PLAN["staff"][0])

    @task
    def every_request_type(self) -> None:
        for step in (*BROWSING, *BROWSING_SERVICES, *SEARCHING, download_csv):
            step(self)
        for applying in (apply, follow_application, my_applications):
            applying(self)
        handle_task(self)


@events.quitting.add_listener
def _write_counts(**_: Any) -> None:
    if PLAN.get("counters"):
        Path(PLAN["counters"]).write_text(json.dumps(dict(COUNTS), ensure_ascii=False), encoding="utf-8")
