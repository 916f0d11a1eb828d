"""The demo's scenario tracks (赛道): three tracks over data opened on conditions, enterprises applying in every
state, and a history of private releases and a de-identified export — all through the service functions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from yiwang.core import accounts, divisions
from yiwang.core.db import Database
from yiwang.core.identity import Actor
from yiwang.core.models import User
from yiwang.sandbox import service


def _county_level_units() -> list[str]:
    """Hainan's county-level units (a prefecture-level city without counties, such as 儋州, counts as one): the
    division codes the registries use, declared as the public domain of `division`."""
    hainan = [d for d in divisions.all_divisions(current_only=True) if d.code.startswith("46")]
    return sorted(
        d.code
        for d in hainan
        if d.level == "county" or (d.level == "prefecture" and not divisions.children(d.code, current_only=True))
    )


DIVISIONS = _county_level_units()
INSURANCE_TYPES = ["企业职工基本养老保险", "失业保险", "工伤保险"]
INDUSTRIES = [chr(code) for code in range(ord("A"), ord("T"))]
HAZARDS = ["滑坡", "崩塌", "泥石流", "地面塌陷"]


@dataclass(frozen=True)
class DemoApplicant:
    username: str
    credit_code: str
    project: str
    outcome: str  # approve, refuse, pending
    note: str = ""
    queries: tuple[tuple[str, float], ...] = ()
    export: bool = False


TRACKS: tuple[tuple[service.TrackInput, tuple[DemoApplicant, ...]], ...] = (
    (
        service.TrackInput(
            name="普惠金融赛道",
            description="金融机构与科技企业在不接触个人明细的前提下，按区县、险种测算参保人群与缴费水平，评估小微信贷需求。",
            datasets=["insured-persons", "enterprise-registry"],
            epsilon=5.0,
            min_group_size=5,
            bounds={"contribution_base": [0, 40000], "registered_capital": [0, 100000]},
            public_domains={
                "division": DIVISIONS,
                "insurance_type": INSURANCE_TYPES,
                "sex": ["男", "女"],
                "industry_code": INDUSTRIES,
            },
            host_department="海南省人力资源和社会保障厅",
            export={
                "dataset": "insured-persons",
                "k": 5,
                "quasi_identifiers": ["birth_date", "sex", "division"],
                "sensitive": "insurance_type",
            },
        ),
        (
            DemoApplicant(
                "qiye",
                "91460100MA5T0A1B34",
                "小微企业主信贷需求测算：按区县统计参保人数与平均缴费基数",
                "approve",
                "同意，限于测算模型训练",
                (
                    ('SELECT insurance_type, count(*) AS 参保人数 FROM "insured-persons" GROUP BY insurance_type', 0.5),
                    ('SELECT sex, avg(contribution_base) AS 平均缴费基数 FROM "insured-persons" GROUP BY sex', 1.0),
                    ('SELECT industry_code, count(*) AS 企业数 FROM "enterprise-registry" GROUP BY industry_code', 0.5),
                ),
                export=True,
            ),
            DemoApplicant(
                "zhengxin",
                "91460000MA5R2K8H64",
                "个人征信评分模型",
                "refuse",
                "个人信用评分超出本赛道场景，请通过征信业务许可渠道申请",
            ),
        ),
    ),
    (
        service.TrackInput(
            name="旅游信用赛道",
            description="按行业与区县统计市场主体与注册资本，支持旅游企业信用评价和“信易游”服务。",
            datasets=["enterprise-registry"],
            epsilon=3.0,
            min_group_size=5,
            bounds={"registered_capital": [0, 100000]},
            public_domains={"industry_code": INDUSTRIES, "division": DIVISIONS},
        ),
        (
            DemoApplicant(
                "zhengxin",
                "91460000MA5R2K8H64",
                "旅游住宿与餐饮企业信用画像",
                "approve",
                queries=(
                    (
                        "SELECT industry_code, count(*) AS 企业数, avg(registered_capital) AS 平均注册资本 "
                        'FROM "enterprise-registry" GROUP BY industry_code ORDER BY industry_code',
                        1.0,
                    ),
                ),
            ),
            DemoApplicant("baoxian", "914600002017009170", "旅游意外险定价", "pending"),
        ),
    ),
    (
        service.TrackInput(
            name="防灾保险赛道",
            description="保险机构按区县、灾害类型统计地质灾害隐患点的威胁人数和财产，设计巨灾保险产品。",
            datasets=["geohazard-sites"],
            epsilon=2.0,
            min_group_size=3,
            bounds={"threatened_people": [0, 2000], "threatened_property_wan_yuan": [0, 10000]},
            public_domains={"hazard_type": HAZARDS, "division": DIVISIONS},
        ),
        (
            DemoApplicant(
                "baoxian",
                "914600002017009170",
                "地质灾害巨灾保险产品设计",
                "approve",
                queries=(
                    (
                        "SELECT hazard_type, count(*) AS 隐患点, sum(threatened_people) AS 威胁人数 "
                        'FROM "geohazard-sites" GROUP BY hazard_type',
                        1.0,
                    ),
                ),
            ),
            DemoApplicant("qiye", "91460100MA5T0A1B34", "灾害风险地图服务", "pending"),
        ),
    ),
)


def _actor(database: Database, username: str) -> Actor:
    with database.read_session() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        return accounts.actor_for(user)


def load_tracks(database: Database, data_dir: Path, secret: str) -> None:
    """Create the tracks, file and decide the applications, run the approved applicants' queries and exports."""
    admin = _actor(database, "admin")
    for data, applicants in TRACKS:
        with database.session() as session:
            track = service.create_track(session, admin, data)
            track_id, host = track.id, track.host.name
        reviewer = admin if host == "海南省人力资源和社会保障厅" else _reviewer(database, host) or admin
        for applicant in applicants:
            enterprise = _actor(database, applicant.username)
            with database.session() as session:
                application_id = service.apply_to_track(
                    session, enterprise, track_id, applicant.credit_code, applicant.project, enterprise.display_name
                ).id
            if applicant.outcome in ("approve", "refuse"):
                with database.session() as session:
                    service.decide_application(
                        session, reviewer, application_id, approve=applicant.outcome == "approve", note=applicant.note
                    )
            for sql, epsilon in applicant.queries:
                service.run_private_query(database, enterprise, data_dir, track_id, sql, epsilon)
            if applicant.export:
                service.export_deidentified(database, enterprise, data_dir, track_id, secret)


def _reviewer(database: Database, department: str) -> Actor | None:
    """A staff member of the track's host department, who decides its applications."""
    with database.read_session() as session:
        for user in session.scalars(select(User).order_by(User.id)):
            actor = accounts.actor_for(user)
            if actor.department_name == department and "dept_staff" in actor.roles:
                return actor
    return None
