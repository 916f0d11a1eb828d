"""Editing 一网通办 on the web: staff edit their department's items through the page as a browser posts it, a bad
form schema comes back with the message, and only the admin uploads BPMN processes (hostile ones refused)."""

from __future__ import annotations

import json
from html.parser import HTMLParser

from factories import csrf_from, sign_in
from fastapi.testclient import TestClient

from yiwang.core.db import Database
from yiwang.core.i18n import translator
from yiwang.demo.accounts import DEMO_PASSWORD
from yiwang.services import bpmn

ITEM = "no-criminal-record-certificate"  # of 海南省公安厅, whose staff is "gongan"
POLICE = "海南省公安厅"
zh = translator("zh_CN")


class FormReader(HTMLParser):
    """The fields one form of a page would post, as a browser collects them (checked boxes, selected options)."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid, self.inside = testid, False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._option_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("data-testid") == self.testid:
            self.inside = True
        if not self.inside or not a.get("name") and tag != "option":
            return
        if tag == "input" and (a.get("type") not in ("checkbox", "radio") or "checked" in a):
            self.fields.append((a["name"], a.get("value", "on" if a.get("type") == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
            self._option_text = [] if "value" not in a else None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)
        elif self._option_text is not None:
            self._option_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "option" and self._option_text is not None:
            value, selected = self._options[-1]
            self._options[-1] = ("".join(self._option_text).strip(), selected)
            self._option_text = None
        elif tag == "select" and self._select is not None:
            first = self._options[0][0] if self._options else ""
            chosen = next((value for value, selected in self._options if selected), first)
            self.fields.append((self._select, chosen))
            self._select = None
        elif tag == "form":
            self.inside = False


def form_of(html: str, testid: str = "edit-service") -> dict[str, str | list[str]]:
    reader = FormReader(testid)
    reader.feed(html)
    fields: dict[str, str | list[str]] = {}
    for name, value in reader.fields:
        if name in ("audience", "life_events"):
            listed = fields.setdefault(name, [])
            assert isinstance(listed, list)
            listed.append(value)
        else:
            fields[name] = value
    return fields


def _as(client: TestClient, username: str) -> None:
    client.cookies.clear()
    assert sign_in(client, username, DEMO_PASSWORD).status_code == 303  # type: ignore[attr-defined]


def _version(client: TestClient) -> str:
    page = client.get(f"/services/{ITEM}/process")
    assert page.status_code == 200
    start = page.text.index('data-testid="process-version"')
    return page.text[start : page.text.index("</p>", start)]


def test_staff_edit_their_item_and_the_api_shows_the_change(client: TestClient, services: Database) -> None:
    before = client.get(f"/api/v1/services/{ITEM}").json()
    _as(client, "gongan")
    page = client.get(f"/services/{ITEM}/edit")
    assert page.status_code == 200
    posted = form_of(page.text)
    assert posted["name"] == before["name"] and posted["department"] == POLICE
    assert posted["steps"] == "\n".join(before["guide"]["steps"])
    posted["name"] = "无犯罪记录证明（网办）"
    posted["steps"] = "手机上填表\n\n上传身份证  \n三天后下载证明"

    saved = client.post(f"/services/{ITEM}/edit", data=posted, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].startswith(f"/services/{ITEM}")

    after = client.get(f"/api/v1/services/{ITEM}").json()
    assert after["name"] == "无犯罪记录证明（网办）"
    assert after["guide"]["steps"] == ["手机上填表", "上传身份证", "三天后下载证明"]
    unchanged = ("form_schema", "materials", "autofill", "issues_licence", "clock_paused_steps", "guide_en")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}, "what the page did not touch stays"
    assert {k: sorted(after[k]) for k in ("audience", "life_events")} == {
        k: sorted(before[k]) for k in ("audience", "life_events")
    }


def test_staff_of_another_department_are_refused(client: TestClient, services: Database) -> None:
    _as(client, "gongan")
    posted = form_of(client.get(f"/services/{ITEM}/edit").text)
    _as(client, "weijian")
    assert client.get(f"/services/{ITEM}/edit").status_code == 403
    posted["name"] = "卫健委改的名字"
    posted["csrf_token"] = csrf_from(client.get("/services").text)
    assert client.post(f"/services/{ITEM}/edit", data=posted, follow_redirects=False).status_code == 403
    assert client.get(f"/api/v1/services/{ITEM}").json()["name"] != "卫健委改的名字"


def test_a_bad_form_schema_comes_back_with_the_message_and_the_values_kept(
    client: TestClient, services: Database
) -> None:
    _as(client, "gongan")
    posted = form_of(client.get(f"/services/{ITEM}/edit").text)
    posted["name"] = "暂不保存的名字"
    posted["form"] = json.dumps({"type": "object", "properties": {"Bad Name": {"type": "string"}}})
    refused = client.post(f"/services/{ITEM}/edit", data=posted, follow_redirects=False)
    assert refused.status_code == 422
    message = zh("Field name {name} must be lower-case letters, digits and underscores").format(name="Bad Name")
    assert message in refused.text and 'data-testid="error-form"' in refused.text
    assert form_of(refused.text)["name"] == "暂不保存的名字"

    posted["form"] = '{"type": "object",'
    broken = client.post(f"/services/{ITEM}/edit", data=posted, follow_redirects=False)
    assert broken.status_code == 422 and 'data-testid="error-form"' in broken.text
    assert client.get(f"/api/v1/services/{ITEM}").json()["name"] != "暂不保存的名字"


def test_staff_create_an_item_of_their_department_only(client: TestClient, services: Database) -> None:
    _as(client, "gongan")
    page = client.get("/services/new")
    assert page.status_code == 200 and "海南省卫生健康委员会" not in page.text
    posted = form_of(page.text)
    posted.update(
        code="residence-certificate",
        item_code="460000-GG-00099",
        name="居住证明",
        category="公共服务",
        legal_days="5",
        promised_days="10",
        summary="网上申请居住证明。",
    )
    too_slow = client.post("/services/new", data=posted, follow_redirects=False)
    assert too_slow.status_code == 422 and "promised time limit" in too_slow.text
    assert client.get("/api/v1/services/residence-certificate").status_code == 404

    posted["promised_days"] = "3"
    created = client.post("/services/new", data=posted, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/services/residence-certificate"
    item = client.get("/api/v1/services/residence-certificate").json()
    assert item["department"] == POLICE and item["guide"]["summary"] == "网上申请居住证明。"

    posted.update(department="海南省卫生健康委员会", code="health-certificate", item_code="460000-GG-00100")
    assert client.post("/services/new", data=posted, follow_redirects=False).status_code == 403


def test_the_admin_uploads_a_process_and_a_hostile_one_is_refused(client: TestClient, services: Database) -> None:
    exported = client.get(f"/api/v1/services/{ITEM}/process.bpmn").content
    _as(client, "admin")
    before = _version(client)
    csrf = csrf_from(client.get(f"/services/{ITEM}/process").text)
    uploaded = client.post(
        f"/services/{ITEM}/process",
        data={"csrf_token": csrf},
        files={"file": ("process.bpmn", exported, "application/xml")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303
    shown = client.get(uploaded.headers["location"])
    after = _version(client)
    assert after != before and 'data-testid="notice"' in shown.text
    assert f'href="/api/v1/services/{ITEM}/process.bpmn"' in shown.text and POLICE in shown.text

    check = bpmn.Step("check", "核查", POLICE)
    hostile = bpmn.build(
        "Process_hostile",
        "恶意流程",
        [check],
        conditional=[bpmn.ConditionalStep(bpmn.Step("extra", "复核", POLICE), "__import__('os')", "check")],
    )
    refused = client.post(
        f"/services/{ITEM}/process",
        data={"csrf_token": csrf},
        files={"file": ("hostile.bpmn", hostile, "application/xml")},
        follow_redirects=False,
    )
    assert refused.status_code == 422 and 'data-testid="process-error"' in refused.text
    assert "__import__" in refused.text
    assert _version(client) == after

    too_big = client.post(
        f"/services/{ITEM}/process",
        data={"csrf_token": csrf},
        files={"file": ("big.bpmn", exported + b" " * bpmn.MAX_BPMN_BYTES, "application/xml")},
        follow_redirects=False,
    )
    nothing = client.post(
        f"/services/{ITEM}/process",
        data={"csrf_token": csrf},
        files={"file": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )
    assert nothing.status_code == 422 and zh("Choose a BPMN file to upload") in nothing.text
    limit = zh("The BPMN file is larger than {limit} KiB").format(limit=bpmn.MAX_BPMN_BYTES // 1024)
    assert too_big.status_code == 422 and limit in too_big.text
    assert _version(client) == after


def test_only_the_admin_opens_the_process_page(client: TestClient, services: Database) -> None:
    assert client.get(f"/services/{ITEM}/process", follow_redirects=False).status_code == 303  # to sign in
    for username in ("shimin", "gongan"):
        _as(client, username)
        assert client.get(f"/services/{ITEM}/process").status_code == 403
        posted = client.post(
            f"/services/{ITEM}/process",
            data={"csrf_token": csrf_from(client.get("/services").text)},
            files={"file": ("p.bpmn", b"<x/>", "application/xml")},
        )
        assert posted.status_code == 403
