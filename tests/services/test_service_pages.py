"""The pages of 一网通办 over HTTP: finding a service, its plain guide and nearest halls, applying with field errors
in the user's language, the staff workbench, and the applicant's rating."""

from __future__ import annotations

import re
from pathlib import Path

from factories import csrf_from, sign_in
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from yiwang.core.db import Database
from yiwang.core.i18n import translator
from yiwang.core.settings import Settings
from yiwang.demo.accounts import DEMO_PASSWORD
from yiwang.demo.services import service_halls, service_items
from yiwang.services import forms
from yiwang.services.models import Application

ITEM = "no-criminal-record-certificate"  # a citizen service, one step at 海南省公安厅
PDF = b"%PDF-1.4\n% test material\n%%EOF\n"
zh, en = translator("zh_CN"), translator("en")


def _spec(code: str) -> dict[str, object]:
    return next(s for s in service_items() if s["code"] == code)


def _as(client: TestClient, username: str) -> None:
    client.cookies.clear()
    assert sign_in(client, username, DEMO_PASSWORD).status_code == 303  # type: ignore[attr-defined]


def _between(html: str, start: str, end: str = "</table>") -> str:
    at = html.index(start)
    return html[at : html.index(end, at)]


def _application_count(database: Database) -> int:
    with database.read_session() as session:
        return session.scalar(select(func.count()).select_from(Application)) or 0


def _post_application(client: TestClient, form: dict[str, str], path: str = f"/services/{ITEM}/apply") -> object:
    page = client.get(f"/services/{ITEM}/apply")
    assert page.status_code == 200
    data = {"csrf_token": csrf_from(page.text), **{f"field:{k}": v for k, v in form.items()}}
    return client.post(
        path, data=data, files={"material:id_card": ("身份证.pdf", PDF, "application/pdf")}, follow_redirects=False
    )


def test_find_services_by_life_event_and_by_words(client: TestClient, services: Database) -> None:
    tiles = client.get("/services")
    assert tiles.status_code == 200
    newborn = re.search(r"新生儿出生 <span class=\"count\">(.*?)</span>", tiles.text)
    assert newborn is not None and newborn.group(1) == zh("{count} services").format(count=1)

    by_event = client.get("/services", params={"life_event": "newborn"})
    results = _between(by_event.text, 'id="results-title"', "</section>")
    assert "出生一件事" in results or "newborn-bundle" in results
    assert "个体工商户设立登记" not in results and "无犯罪记录证明" not in results

    by_words = client.get("/services", params={"q": "开办企业"})
    results = _between(by_words.text, 'id="results-title"', "</section>")
    assert "/services/individual-business-registration" in results
    assert "/services/food-business-licence" in results
    assert f"/services/{ITEM}" not in results, "a criminal-record certificate has nothing to do with starting a firm"

    online = client.get("/services", params={"q": "开办企业", "audience": "investor"})
    results = _between(online.text, 'id="results-title"', "</section>")
    assert "/services/investment-single-window" in results and "/services/food-business-licence" not in results


def test_the_guide_puts_the_plain_words_first_and_lists_the_nearest_halls_first(
    client: TestClient, services: Database
) -> None:
    spec = _spec(ITEM)
    tianya = next(h for h in service_halls() if h["code"] == "sanya-tianya")
    page = client.get(f"/services/{ITEM}", params={"lat": str(tianya["lat"]), "lon": str(tianya["lon"])})
    assert page.status_code == 200
    html = page.text
    guide = spec["guide"]
    assert isinstance(guide, dict)
    assert html.index(guide["summary"]) < html.index('data-testid="formal-guide"'), "the plain guide comes first"
    for step in guide["steps"]:
        assert f"<li>{step}</li>" in _between(html, 'data-testid="plain-guide"', "</section>")
    assert "460000-" in _between(html, 'data-testid="formal-guide"', "</dl>")  # 事项编码
    materials = _between(html, 'data-testid="materials"')
    assert "申请人居民身份证" in materials
    assert "查询核实 — 海南省公安厅" in _between(html, 'data-testid="process-steps"', "</ol>")
    assert f'href="/api/v1/services/{ITEM}/process.bpmn"' in html

    halls = _between(html, 'data-testid="halls"')
    km = re.escape(zh("{km} km")).replace(re.escape("{km}"), r"([\d.]+)")
    rows = re.findall(rf"<tr>\s*<td>(.*?)</td>\s*<td class=\"num\">{km}</td>", halls)
    assert rows[0] == ("三亚市天涯区政务服务中心", "0.0")
    distances = [float(distance) for _name, distance in rows]
    assert distances == sorted(distances) and distances[-1] > 100, "Haikou is far from Sanya"

    in_haikou = client.get(f"/services/{ITEM}", params={"division": "460100"})
    halls = _between(in_haikou.text, 'data-testid="halls"')
    assert "海口市龙华区政务服务中心" in halls and "三亚" not in halls

    english = client.get(f"/services/{ITEM}", params={"lang": "en"})
    guide_en = spec["guide_en"]
    assert isinstance(guide_en, dict) and guide_en["summary"] in english.text and guide["summary"] not in english.text


def test_a_bad_id_number_is_named_next_to_its_field_in_either_language_and_nothing_is_stored(
    client: TestClient, services: Database, settings: Settings
) -> None:
    _as(client, "shimin")
    form = dict(_spec(ITEM)["example_form"])  # type: ignore[call-overload]
    form["id_number"] = form["id_number"][:-1] + ("0" if form["id_number"][-1] != "0" else "1")
    schema = _spec(ITEM)["form"]
    assert isinstance(schema, dict)
    template, _params = forms.field_problems(schema, form)[1]["id_number"]
    assert zh(template) != en(template), "the message is translated"
    for lang, translate in (("zh_CN", zh), ("en", en)):
        answer = _post_application(client, form, f"/services/{ITEM}/apply?lang={lang}")
        assert answer.status_code == 422  # type: ignore[attr-defined]
        html = answer.text  # type: ignore[attr-defined]
        message = _between(html, 'data-testid="error-id_number"', "</p>")
        template, params = forms.field_problems(schema, form)[1]["id_number"]
        assert translate(template).format(**params) in message
        assert 'aria-invalid="true"' in html and 'href="#field-id_number"' in _between(
            html, 'data-testid="error-summary"', "</div>"
        )
        assert f'value="{form["applicant_name"]}"' in html, "what the applicant typed is kept"
        assert translate("{count} fields of the form need correcting").format(count=1) in html
    assert _application_count(services) == 0
    assert not (settings.data_dir / "applications").exists() or not any((settings.data_dir / "applications").iterdir())


def test_apply_handle_and_rate(client: TestClient, services: Database, settings: Settings) -> None:
    _as(client, "shimin")
    form = dict(_spec(ITEM)["example_form"])  # type: ignore[call-overload]
    submitted = _post_application(client, form)
    assert submitted.status_code == 303  # type: ignore[attr-defined]
    location = submitted.headers["location"]  # type: ignore[attr-defined]
    application_id = int(re.fullmatch(r"/applications/(\d+)\?submitted=1", location).group(1))  # type: ignore[union-attr]
    page = client.get(location)
    receipt = re.search(r'data-testid="receipt">(YW\d+)<', page.text)
    assert receipt is not None and zh("In progress") in page.text
    assert client.get(f"/applications/{application_id}/materials/id_card").content == PDF
    assert receipt.group(1) in client.get("/applications").text

    _as(client, "gongan")
    inbox = client.get("/workbench")
    assert receipt.group(1) in inbox.text
    task = re.search(rf'href="/workbench/tasks/(\d+)"><code>{receipt.group(1)}</code>', inbox.text)
    assert task is not None
    task_id = int(task.group(1))
    csrf = csrf_from(inbox.text)
    claimed = client.post(f"/workbench/tasks/{task_id}/claim", data={"csrf_token": csrf}, follow_redirects=False)
    assert claimed.status_code == 303
    refused = client.post(
        f"/workbench/tasks/{task_id}/complete", data={"csrf_token": csrf, "decision": "reject", "comment": " "}
    )
    assert refused.status_code == 422 and zh("Say why the application is rejected") in refused.text
    done = client.post(
        f"/workbench/tasks/{task_id}/complete",
        data={"csrf_token": csrf, "decision": "approve", "comment": "核查无犯罪记录"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert zh("Completed") in client.get(f"/applications/{application_id}").text

    _as(client, "shimin")
    page = client.get(f"/applications/{application_id}")
    assert 'data-testid="rating-form"' in page.text and "核查无犯罪记录" in page.text
    csrf = csrf_from(page.text)
    bad = client.post(f"/applications/{application_id}/rating", data={"csrf_token": csrf, "level": "2"})
    assert bad.status_code == 422 and 'data-testid="rating-form"' in bad.text
    rated = client.post(
        f"/applications/{application_id}/rating",
        data={"csrf_token": csrf, "level": "5", "comment": "一天就办好了"},
        follow_redirects=False,
    )
    assert rated.status_code == 303
    page = client.get(f"/applications/{application_id}")
    assert "一天就办好了" in _between(page.text, 'data-testid="rating"', "</p>")
    assert 'data-testid="rating-form"' not in page.text, "one rating per application"
    stats = client.get("/services/ratings")
    assert "海南省公安厅" in _between(stats.text, 'data-testid="by-department-table"')
    assert 'data-testid="ratings-chart"' in stats.text


def test_pages_need_the_right_people(client: TestClient, services: Database, tmp_path: Path) -> None:
    assert client.get("/workbench", follow_redirects=False).headers["location"].startswith("/login")
    assert client.get(f"/services/{ITEM}/apply", follow_redirects=False).status_code == 303
    _as(client, "shimin")
    assert client.get("/workbench").status_code == 403
    assert client.get("/licences").status_code == 200
    _as(client, "gongan")
    guide = client.get(f"/services/{ITEM}")
    assert f'href="/services/{ITEM}/apply"' not in guide.text, "staff do not apply online"
