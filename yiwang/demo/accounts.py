"""The demo's departments and accounts (演示账号). Passwords are public: never use these on a real installation."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from yiwang.core import accounts
from yiwang.core.identity import Actor

DEMO_PASSWORD = "yiwang2026"

# (name, GB/T 2260 division code) — a Hainan-like province.
DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("海南省大数据管理局", "460000"),
    ("海南省公安厅", "460000"),
    ("海南省市场监督管理局", "460000"),
    ("海南省人力资源和社会保障厅", "460000"),
    ("海南省自然资源和规划厅", "460000"),
    ("海南省卫生健康委员会", "460000"),
    ("海南省民政厅", "460000"),
    ("海南省旅游和文化广电体育厅", "460000"),
    ("海南省气象局", "460000"),
    ("海南省应急管理厅", "460000"),
    ("海南省税务局", "460000"),
    ("海口市政务服务中心", "460100"),
    ("海南省教育厅", "460000"),
    ("海南省交通运输厅", "460000"),
    ("海南省生态环境厅", "460000"),
    ("海南省财政厅", "460000"),
    ("海口海关", "460100"),
    ("国家外汇管理局海南省分局", "460000"),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str | None
    password: str = DEMO_PASSWORD


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount("admin", "数据管理员 王海", ("admin",), "海南省大数据管理局"),
    DemoAccount("auditor", "审计员 林审", ("auditor",), "海南省大数据管理局"),
    DemoAccount("gongan", "公安厅 陈警官", ("dept_staff",), "海南省公安厅"),
    DemoAccount("shichang", "市场监管局 符科长", ("dept_staff",), "海南省市场监督管理局"),
    DemoAccount("renshe", "人社厅 吴科员", ("dept_staff",), "海南省人力资源和社会保障厅"),
    DemoAccount("ziran", "自然资源和规划厅 李工", ("dept_staff",), "海南省自然资源和规划厅"),
    DemoAccount("weijian", "卫健委 黎医生", ("dept_staff",), "海南省卫生健康委员会"),
    DemoAccount("haikou", "海口市政务服务中心 周窗口", ("dept_staff",), "海口市政务服务中心"),
    DemoAccount("minzheng", "民政厅 郑科长", ("dept_staff",), "海南省民政厅"),
    DemoAccount("shuiwu", "税务局 韩专管员", ("dept_staff",), "海南省税务局"),
    DemoAccount("jiaoyu", "教育厅 冯老师", ("dept_staff",), "海南省教育厅"),
    DemoAccount("yingji", "应急管理厅 邢值班员", ("dept_staff",), "海南省应急管理厅"),
    DemoAccount("shujuju", "大数据管理局 严专员", ("dept_staff",), "海南省大数据管理局"),
    DemoAccount("lvyou", "旅文厅 羊科员", ("dept_staff",), "海南省旅游和文化广电体育厅"),
    DemoAccount("qixiang", "气象局 云工程师", ("dept_staff",), "海南省气象局"),
    DemoAccount("jiaotong", "交通运输厅 冼科员", ("dept_staff",), "海南省交通运输厅"),
    DemoAccount("shengtai", "生态环境厅 麦工", ("dept_staff",), "海南省生态环境厅"),
    DemoAccount("caizheng", "财政厅 蔡科员", ("dept_staff",), "海南省财政厅"),
    DemoAccount("haiguan", "海口海关 蒙关员", ("dept_staff",), "海口海关"),
    DemoAccount("waihui", "外汇管理局 潘科员", ("dept_staff",), "国家外汇管理局海南省分局"),
    DemoAccount("qiye", "海南椰林数据科技有限公司", ("enterprise",), None),
    DemoAccount("zhengxin", "海南信用服务有限公司", ("enterprise",), None),
    DemoAccount("baoxian", "海南财产保险股份有限公司", ("enterprise",), None),
    DemoAccount("shimin", "市民 张小明", ("citizen",), None),
    DemoAccount("touzi", "投资者 李安娜 (Anna Li)", ("enterprise",), None),
)


def load_accounts(session: Session, actor: Actor) -> None:
    """Create the demo departments and accounts through the same service functions everyone uses."""
    for name, division in DEPARTMENTS:
        accounts.create_department(session, actor, name, division)
    for account in ACCOUNTS:
        accounts.create_user(
            session, actor, account.username, account.password, account.roles, account.department, account.display_name
        )
