"""The demo's 一网通办: service items with guides and BPMN processes, halls, licences already held, and applications
in every state (in progress, nearly due, overdue, completed with licences, rejected, rated well and badly).

Everything goes through the same service functions the web and API use; only the clock is set back afterwards
so some applications are overdue, as sharing's demo does for its requests.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select

from yiwang.core import accounts
from yiwang.core.db import Database
from yiwang.core.errors import DomainError
from yiwang.core.identity import Actor
from yiwang.core.models import User, utcnow
from yiwang.core.workdays import load_calendar
from yiwang.services import applications, halls, handling, items, licences, ratings
from yiwang.services.models import Application, ApplicationTask, TaskState

DATA = Path(__file__).resolve().parent / "data"
SINGLE_WINDOW = "investment-single-window"
# Fields auto-filled from the population registry under 海口市政务服务中心's grant (免证办), with consent.
AUTOFILL_ITEM = "newborn-bundle"


@cache
def service_items() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads((DATA / "service_items.json").read_text(encoding="utf-8"))
    return loaded


@cache
def service_halls() -> list[dict[str, Any]]:
    loaded: list[dict[str, Any]] = json.loads((DATA / "service_halls.json").read_text(encoding="utf-8"))
    return loaded


def item_input(spec: dict[str, Any]) -> items.ServiceItemInput:
    """The item's elements as the service layer takes them (its process is imported separately)."""
    data = {k: v for k, v in spec.items() if k != "process"}
    steps = list(spec["process"]["steps"])
    if spec["process"].get("condition"):
        steps.append(spec["process"]["condition"]["then_step"])
    data["clock_paused_steps"] = [s["id"] for s in steps if s.get("clock_paused")]
    if spec["code"] == AUTOFILL_ITEM:
        _with_autofill(data)
    return items.ServiceItemInput.model_validate(data)


def _with_autofill(data: dict[str, Any]) -> None:
    form = json.loads(json.dumps(data["form"]))
    key = next(name for name, field in form["properties"].items() if field.get("format") == "id-number")
    form["properties"]["household_address"] = {
        "type": "string",
        "title": "户籍地址",
        "x-title-en": "Household registration address",
        "maxLength": 200,
        "description": "同意授权后由公安户籍数据自动填写，无需提交户口簿",
    }
    data["form"] = form
    data["autofill"] = [
        {
            "field": "household_address",
            "dataset": "population-registry",
            "key_field": "person_id",
            "key_from": key,
            "value_field": "household_address",
        }
    ]


def process_xml(spec: dict[str, Any]) -> bytes:
    process = spec["process"]
    return items.steps_process(
        spec["code"],
        spec["name"],
        process["steps"],
        parallel=process["kind"] == "parallel",
        condition=process.get("condition"),
    )


def load_service_catalogue(database: Database, actor: Actor, codes: Collection[str] | None = None) -> None:
    """The demo items (those in `codes`, or all) with their processes, and every hall (listing those items)."""
    chosen = [spec for spec in service_items() if codes is None or spec["code"] in codes]
    with database.session() as session:
        for spec in chosen:
            items.create_item(session, actor, item_input(spec))
            items.import_process(session, actor, spec["code"], process_xml(spec))
        loaded = {spec["code"] for spec in chosen}
        for hall in service_halls():
            data = halls.HallInput.model_validate({**hall, "services": [c for c in hall["services"] if c in loaded]})
            halls.save_hall(session, actor, data)


def _actor(database: Database, username: str) -> Actor:
    with database.read_session() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        return accounts.actor_for(user)


def _staff_by_department(database: Database) -> dict[int, Actor]:
    with database.read_session() as session:
        staff: dict[int, Actor] = {}
        for user in session.scalars(select(User).order_by(User.id)):
            actor = accounts.actor_for(user)
            if actor.department_id is not None and "dept_staff" in actor.roles:
                staff.setdefault(actor.department_id, actor)
        return staff


# Licences the demo's enterprises and citizen held before the platform (from the existing licence library).
HELD_LICENCES = (
    ("qiye", "business-licence", "营业执照", "海南椰林数据科技有限公司", "海南省市场监督管理局"),
    ("zhengxin", "business-licence", "营业执照", "海南信用服务有限公司", "海南省市场监督管理局"),
    ("baoxian", "business-licence", "营业执照", "海南财产保险股份有限公司", "海南省市场监督管理局"),
    ("shimin", "marriage-certificate", "结婚证", "张小明", "海南省民政厅"),
    ("shimin", "social-security-card", "社会保障卡", "张小明", "海南省人力资源和社会保障厅"),
    ("shimin", "driving-licence", "机动车驾驶证", "张小明", "海南省公安厅"),
    ("shimin", "real-estate-certificate", "不动产权证书", "张小明", "海南省自然资源和规划厅"),
    ("shimin", "birth-medical-certificate", "出生医学证明", "张小明", "海南省卫生健康委员会"),
    ("shimin", "residence-permit", "居住证", "张小明", "海南省公安厅"),
)


def _import_licences(database: Database, actor: Actor) -> None:
    with database.session() as session:
        for index, (username, kind, name, holder, issuer) in enumerate(HELD_LICENCES, start=1):
            user = session.scalar(select(User).where(User.username == username))
            assert user is not None
            code = licences.new_credit_code("460100", 7000 + index) if kind == "business-licence" else ""
            licences.import_licence(
                session,
                actor,
                licence_type=kind,
                name=name,
                number=f"{kind.upper()}-2024-{index:06d}",
                holder_name=holder,
                holder_code=code or f"DEMO-{username}",
                holder_user_id=user.id,
                issuer_department_id=accounts.get_department(session, issuer).id,
                valid_from=date(2024, 3, 1),
                valid_to=date(2034, 2, 28),
            )


@contextmanager
def example_uploads(item: dict[str, Any]) -> Iterator[dict[str, applications.UploadedMaterial]]:
    """A tiny file of an accepted type for every material the platform cannot verify itself (no licence type)."""
    with tempfile.TemporaryDirectory(prefix="yiwang-demo-") as directory:
        uploads = {}
        for material in item["materials"]:
            if not material.get("licence_type"):
                kind = material.get("formats", ["pdf"])[0]
                path = Path(directory) / f"{material['code']}.{kind}"
                path.write_bytes(applications.EXAMPLE_FILES[kind])
                uploads[material["code"]] = applications.UploadedMaterial(path.name, path)
        yield uploads


def _applicant(spec: dict[str, Any], rng: random.Random) -> str:
    if spec["code"] == SINGLE_WINDOW:
        return "touzi"
    if "citizen" in spec["audience"]:
        return "shimin"
    return rng.choice(("qiye", "zhengxin", "baoxian"))


def _submit(database: Database, data_dir: Path, username: str, spec: dict[str, Any]) -> int | None:
    applicant = _actor(database, username)
    with example_uploads(spec) as uploads, database.session() as session:
        try:
            return applications.submit(
                session, applicant, spec["code"], spec["example_form"], uploads, data_dir=data_dir
            ).id
        except DomainError:
            return None  # an item whose government-issued material this applicant does not hold


def _open_tasks(database: Database, application_id: int) -> list[tuple[int, int]]:
    with database.read_session() as session:
        return [
            (task.id, task.department_id)
            for task in session.scalars(
                select(ApplicationTask).where(
                    ApplicationTask.application_id == application_id,
                    ApplicationTask.state.in_([TaskState.OPEN.value, TaskState.CLAIMED.value]),
                )
            )
        ]


def _advance(database: Database, staff: dict[int, Actor], application_id: int, outcome: str, steps: int) -> None:
    """Complete up to `steps` rounds of open tasks (all approve), or reject at the first task."""
    for _ in range(steps):
        open_tasks = _open_tasks(database, application_id)
        if not open_tasks:
            return
        for task_id, department_id in open_tasks:
            with database.session() as session:
                if outcome == "reject":
                    handling.complete_task(
                        session, staff[department_id], task_id, "reject", "申请材料与实际情况不符，不予许可"
                    )
                    return
                handling.complete_task(session, staff[department_id], task_id, "approve", "材料齐全，符合条件")


def _claim_first(database: Database, staff: dict[int, Actor], application_id: int) -> None:
    open_tasks = _open_tasks(database, application_id)
    if open_tasks:
        task_id, department_id = open_tasks[0]
        with database.session() as session:
            handling.claim_task(session, staff[department_id], task_id)


def _set_back(database: Database, application_id: int, working_days: int) -> None:
    """Move an application's submission (and its deadlines and open tasks) `working_days` into the past."""
    with database.session() as session:
        calendar = load_calendar(session)
        application = session.get(Application, application_id)
        assert application is not None
        submitted = utcnow() - timedelta(days=1)
        while calendar.working_days_between(submitted, utcnow()) < working_days:
            submitted -= timedelta(days=1)
        shift = application.submitted_at - submitted
        application.submitted_at = submitted
        application.promised_due_at = calendar.add_working_days(submitted, application.service_item.promised_days)
        application.legal_due_at = calendar.add_working_days(submitted, application.service_item.legal_days)
        for task in application.tasks:
            task.opened_at -= shift
            if task.completed_at is not None:
                task.completed_at -= shift
        if application.finished_at is not None:
            application.finished_at -= shift


RATINGS = (
    (5, "全程网上办，一次都没跑，非常方便！"),
    (5, "材料免提交，几天就办好了，点赞。"),
    (4, "办理顺利，希望页面说明再简单一点。"),
    (5, "工作人员电话指导很耐心。"),
    (3, "整体还行，审核时间有点长。"),
    (1, "补正材料要求前后不一致，来回改了三次。"),
    (2, "进度长时间不更新，也没有电话通知。"),
    (4, "比去大厅排队快多了。"),
)


def _rate(database: Database, username: str, application_id: int, level: int, comment: str) -> None:
    with database.session() as session:
        ratings.rate(session, _actor(database, username), application_id, level, comment, rectification_days=5)


def load_services(database: Database, data_dir: Path, seed: int) -> None:
    """Items, processes, halls, held licences and a set of applications in every state."""
    operator = Actor.operator()
    load_service_catalogue(database, operator)
    _import_licences(database, operator)
    staff = _staff_by_department(database)
    rng = random.Random(seed)
    specs = sorted(service_items(), key=lambda s: (s["code"] != SINGLE_WINDOW, s["code"]))
    # (outcome, rounds of tasks done, working days ago): completed, rejected, half done, claimed, overdue, nearly due
    plans = [
        ("complete", 9, 6),
        ("complete", 9, 12),
        ("reject", 1, 8),
        ("progress", 1, 2),
        ("claim", 0, 1),
        ("progress", 0, 30),
        ("progress", 0, 0),
    ]
    rated: list[tuple[str, int]] = []
    for index, spec in enumerate(specs):
        username = _applicant(spec, rng)
        application_id = _submit(database, data_dir, username, spec)
        if application_id is None:
            continue
        outcome, rounds, days_ago = plans[index % len(plans)]
        if outcome in ("complete", "reject", "progress"):
            _advance(database, staff, application_id, "reject" if outcome == "reject" else "approve", rounds)
        elif outcome == "claim":
            _claim_first(database, staff, application_id)
        if days_ago:
            _set_back(database, application_id, days_ago)
        if outcome in ("complete", "reject"):
            rated.append((username, application_id))
    _half_done_single_window(database, data_dir, staff)
    for (username, application_id), (level, comment) in zip(rated, RATINGS, strict=False):
        _rate(database, username, application_id, level, comment)
    _rectify(database, staff)


def _half_done_single_window(database: Database, data_dir: Path, staff: dict[int, Actor]) -> None:
    """A second single-window application that two of its four departments have approved so far."""
    spec = next(s for s in service_items() if s["code"] == SINGLE_WINDOW)
    application_id = _submit(database, data_dir, "touzi", spec)
    assert application_id is not None
    for task_id, department_id in _open_tasks(database, application_id)[:2]:
        with database.session() as session:
            handling.complete_task(session, staff[department_id], task_id, "approve", "同意")
    _set_back(database, application_id, 3)


def _rectify(database: Database, staff: dict[int, Actor]) -> None:
    """One 差评 explained by its department, one appealed and dismissed by the admin."""
    admin = _actor(database, "admin")
    with database.read_session() as session:
        waiting = [(r.id, r.department_id) for r in ratings.list_rectifications(session, admin)]
    if waiting:
        rectification_id, department_id = waiting[0]
        with database.session() as session:
            ratings.explain(
                session,
                staff[department_id],
                rectification_id,
                "已统一补正材料清单并在办事指南中逐项列明，窗口人员已培训；感谢您的反馈。",
            )
    if len(waiting) > 1:
        rectification_id, department_id = waiting[1]
        with database.session() as session:
            ratings.appeal(
                session, staff[department_id], rectification_id, "该件已按期办结，短信通知记录可查，申请复核。"
            )
        with database.session() as session:
            ratings.review_appeal(session, admin, rectification_id, False, "进度推送确有延迟，申诉不成立，请按期整改。")
