"""The demo's sharing (一网协同): ten departments asking each other for data, requests in every state, live grants
with a month of use, and a few real exchange calls (lookups by ID number) in the audit chain.

Everything goes through the same service functions departments use; only the clock is set back afterwards (requests
filed weeks ago, a grant that has run out, past call counters), since a demo cannot wait for time to pass.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import select

from yiwang.catalog.rows import RowFilter, RowQuery
from yiwang.catalog.service import version_file
from yiwang.core import accounts
from yiwang.core.analytics import Analytics
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.models import User, utcnow
from yiwang.core.workdays import load_calendar
from yiwang.sharing import exchange, service
from yiwang.sharing.models import Grant, GrantCalls, SharingRequest

POPULATION = "population-registry"
INSURED = "insured-persons"
ENTERPRISES = "enterprise-registry"
USAGE_DAYS = 30


@dataclass(frozen=True)
class DemoRequest:
    """One request of the demo and what becomes of it."""

    consumer: str  # username of the asking staff member
    dataset: str
    fields: tuple[str, ...]
    purpose: str
    legal_basis: str
    days: int
    outcome: str  # approve, refuse, withdraw, revoke, expire, pending, automatic
    filed_days_ago: int
    decider: str = ""  # username of the owner's staff who decides
    masking: dict[str, str] = field(default_factory=dict)
    approved_fields: tuple[str, ...] | None = None
    row_filter: dict[str, str] = field(default_factory=dict)
    raw_id_number: bool = False
    note: str = ""
    calls_a_day: int = 0  # past use of the grant, for the usage charts


REQUESTS: tuple[DemoRequest, ...] = (
    DemoRequest(
        "weijian",
        POPULATION,
        ("person_id", "name", "sex", "birth_date", "household_division"),
        "出生医学证明签发前核验父母户籍身份",
        "《出生医学证明管理办法》；《海南省政务数据共享管理办法》",
        365,
        "approve",
        40,
        "gongan",
        {"person_id": "withheld", "name": "masked"},
        approved_fields=("person_id", "name", "sex", "birth_date"),
        note="户籍地字段非必需，不予提供",
        calls_a_day=180,
    ),
    DemoRequest(
        "haikou",
        POPULATION,
        ("person_id", "name", "household_division", "household_address"),
        "海口市一网通办户籍类事项免证办理（户籍证明免提交）",
        "《国务院关于加快推进全国一体化在线政务服务平台建设的指导意见》",
        365,
        "approve",
        35,
        "gongan",
        {"person_id": "raw", "name": "raw", "household_address": "masked"},
        row_filter={"household_division__startswith": "4601"},
        raw_id_number=True,
        note="限海口市户籍人口；身份证号原文仅用于办件核验",
        calls_a_day=420,
    ),
    DemoRequest(
        "shichang",
        POPULATION,
        ("person_id", "name"),
        "个体工商户设立登记核验经营者身份",
        "《市场主体登记管理条例》第十九条",
        180,
        "approve",
        28,
        "gongan",
        {"person_id": "withheld", "name": "masked"},
        calls_a_day=95,
    ),
    DemoRequest(
        "renshe",
        POPULATION,
        ("person_id", "name", "birth_date"),
        "社会保险参保登记身份核验",
        "《社会保险法》第五十八条",
        90,
        "revoke",
        50,
        "gongan",
        {"person_id": "pseudonym", "name": "masked"},
        calls_a_day=60,
    ),
    DemoRequest(
        "gongan",
        INSURED,
        ("person_id", "name", "status", "employer"),
        "流动人口服务管理中核对就业参保情况",
        "《居住证暂行条例》",
        180,
        "approve",
        21,
        "renshe",
        {"person_id": "pseudonym", "name": "masked"},
        calls_a_day=40,
    ),
    DemoRequest(
        "weijian",
        INSURED,
        ("person_id", "insurance_type", "status"),
        "医疗救助对象参保状态核验",
        "《社会救助暂行办法》",
        30,
        "expire",
        70,
        "renshe",
        {"person_id": "pseudonym"},
        calls_a_day=25,
    ),
    DemoRequest(
        "minzheng",
        POPULATION,
        ("person_id", "name", "marital_status", "household_division"),
        "最低生活保障申请家庭成员户籍与婚姻状况核对",
        "《社会救助暂行办法》第十一条；《最低生活保障审核确认办法》",
        365,
        "pending",
        18,
    ),
    DemoRequest(
        "minzheng",
        INSURED,
        ("person_id", "status", "contribution_base"),
        "低保家庭收入核对（社保缴费基数）",
        "《最低生活保障审核确认办法》第十六条",
        365,
        "pending",
        2,
    ),
    DemoRequest(
        "jiaoyu",
        POPULATION,
        ("person_id", "name", "birth_date", "household_division", "household_address", "phone"),
        "义务教育入学资格审核",
        "《义务教育法》第十二条",
        365,
        "refuse",
        25,
        "gongan",
        note="申请字段超出入学审核所需范围（联系电话、详细地址），请缩减为身份与户籍地字段后重新申请",
    ),
    DemoRequest(
        "jiaoyu",
        POPULATION,
        ("person_id", "name", "household_division"),
        "义务教育入学资格审核（按驳回意见缩减字段后重新申请）",
        "《义务教育法》第十二条",
        365,
        "approve",
        20,
        "gongan",
        {"person_id": "withheld", "name": "masked"},
        calls_a_day=150,
    ),
    DemoRequest(
        "yingji",
        POPULATION,
        ("name", "phone", "household_division"),
        "台风预警短信精准推送",
        "《突发事件应对法》",
        30,
        "withdraw",
        12,
    ),
    DemoRequest(
        "shuiwu",
        ENTERPRISES,
        ("credit_code", "name", "legal_representative", "registered_capital", "status"),
        "新办纳税人信息确认与税务登记免填单",
        "《税收征收管理法》第十五条",
        365,
        "automatic",
        45,
        calls_a_day=260,
    ),
    DemoRequest(
        "ziran",
        ENTERPRISES,
        ("credit_code", "name", "status"),
        "建设用地出让竞买人主体资格核验",
        "《招标拍卖挂牌出让国有建设用地使用权规定》",
        180,
        "automatic",
        15,
        calls_a_day=12,
    ),
)


def _actor(database: Database, username: str) -> Actor:
    with database.read_session() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        return accounts.actor_for(user)


def _file_and_decide(database: Database, spec: DemoRequest, policy: service.SharingPolicy) -> SharingRequest:
    consumer = _actor(database, spec.consumer)
    data = service.RequestInput(spec.dataset, spec.fields, spec.purpose, spec.legal_basis, spec.days, spec.row_filter)
    with database.session() as session:
        request_id = service.create_request(session, consumer, data, policy).id
    owner = _actor(database, spec.decider) if spec.decider else None
    with database.session() as session:
        if spec.outcome in ("approve", "revoke", "expire") and owner is not None:
            decision = service.Decision(
                fields=spec.approved_fields,
                disclosures=spec.masking,
                raw_id_number=spec.raw_id_number,
                note=spec.note,
            )
            grant = service.approve_request(session, owner, request_id, decision, policy)
            if spec.outcome == "revoke":
                session.flush()
                service.revoke_grant(session, owner, grant.id, "授权用途已完成，按最小必要原则收回")
        elif spec.outcome == "refuse" and owner is not None:
            service.refuse_request(session, owner, request_id, spec.note)
        elif spec.outcome == "withdraw":
            service.withdraw_request(session, consumer, request_id, "改由气象部门预警平台直接推送")
    with database.read_session() as session:
        request = session.get(SharingRequest, request_id)
        assert request is not None
        return request


def _set_back(database: Database, request_id: int, spec: DemoRequest, review_days: int) -> None:
    """Move a request's history (and its grant) `filed_days_ago` days into the past; an expired one runs out."""
    shift = timedelta(days=spec.filed_days_ago)
    with database.session() as session:
        request = session.get(SharingRequest, request_id)
        assert request is not None
        request.created_at -= shift
        request.review_due_at = load_calendar(session).add_working_days(request.created_at, review_days)
        decided = min(spec.filed_days_ago, 3)  # owners decide within days
        for number, event in enumerate(request.events):
            event.occurred_at = request.created_at + (timedelta(days=decided, hours=number) if number else timedelta())
        if request.decided_at is not None:
            request.decided_at = request.created_at + timedelta(days=decided)
        grant = request.grant
        if grant is not None:
            grant.created_at = grant.valid_from = request.created_at + timedelta(days=decided)
            grant.valid_to = grant.valid_from + timedelta(days=request.days)
            if grant.revoked_at is not None:
                grant.revoked_at = utcnow() - timedelta(days=5)


def _past_use(database: Database, grant_id: str, spec: DemoRequest, rng: random.Random) -> None:
    """A month of call counters (weekdays busier), until the grant stopped."""
    if not spec.calls_a_day:
        return
    now_minute = int(time.time() // 60)
    with database.session() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None
        start = int(grant.valid_from.timestamp() // 60)
        end = min(now_minute, int(grant.valid_to.timestamp() // 60))
        if grant.revoked_at is not None:
            end = min(end, int(grant.revoked_at.timestamp() // 60))
        for day in range(USAGE_DAYS, 0, -1):
            minute = now_minute - day * 24 * 60 + 9 * 60 + rng.randrange(8 * 60)  # office hours
            if not start <= minute < end:
                continue
            weekday = (minute // (24 * 60) + 3) % 7 < 5  # 1970-01-01 was a Thursday
            calls = max(1, int(spec.calls_a_day * (1.0 if weekday else 0.2) * rng.uniform(0.7, 1.3)))
            session.add(GrantCalls(grant_id=grant_id, minute=minute, calls=calls, rows=calls * rng.randint(1, 2)))


def _live_lookups(database: Database, analytics: Analytics, data_dir: Path, grant_id: str, secret: str) -> None:
    """A few real calls of 卫健委's birth-certificate service: look parents up by ID number (audited as such)."""
    with database.read_session() as session:
        grant = session.get(Grant, grant_id)
        assert grant is not None and grant.dataset.current_version is not None
        parquet = version_file(data_dir, grant.dataset.current_version)
    people = pq.read_table(parquet, columns=["person_id"]).column("person_id").to_pylist()[:3]
    consumer = _actor(database, "weijian")
    for person in people:
        query = RowQuery(filters=(RowFilter("person_id", "exact", str(person)),), size=10)
        exchange.read_granted_rows(database, analytics, consumer, data_dir, grant_id, query, secret=secret, lookup=True)
    exchange.read_granted_rows(database, analytics, consumer, data_dir, grant_id, RowQuery(size=20), secret=secret)


def load_sharing(database: Database, data_dir: Path, secret: str, seed: int, policy: service.SharingPolicy) -> None:
    """File the demo's requests, decide them, set their clocks back and give the grants a month of use."""
    rng = random.Random(f"sharing-{seed}")
    first_live: str | None = None
    for spec in REQUESTS:
        request = _file_and_decide(database, spec, policy)
        _set_back(database, request.id, spec, policy.review_days)
        if request.grant is not None:
            _past_use(database, request.grant.id, spec, rng)
            if spec.consumer == "weijian" and spec.outcome == "approve":
                first_live = request.grant.id
    if first_live is not None:
        with Analytics(temp_directory=data_dir / "tmp" / "analytics") as analytics:
            _live_lookups(database, analytics, data_dir, first_live, secret)
