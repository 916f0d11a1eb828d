"""The catalogue service: publish, ingest versions atomically, classify, confirm field kinds, visibility."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from factories import UserFactory
from sqlalchemy import select

from yiwang.catalog import service
from yiwang.catalog.models import Dataset
from yiwang.catalog.rules import CatalogAction, view_resource, visible_datasets
from yiwang.catalog.search import CatalogueQuery, search_catalogue
from yiwang.core import audit
from yiwang.core.authz import AccessRefused, can
from yiwang.core.db import Database
from yiwang.core.errors import Conflict, InvalidInput, NotFound
from yiwang.core.identity import Actor, Role
from yiwang.core.models import AuditEntry
from yiwang.core.settings import Settings

POLICE = "海南省公安厅"
ROWS = [
    ("姓名", "身份证号", "户籍地址", "年龄"),
    ("张三", "11010519491231002X", "海南省海口市龙华区滨海大道1号", "76"),
    ("李四", "460100199001011237", "海南省三亚市吉阳区迎宾路2号", "34"),
]


def gbk_csv(path: Path, rows: list[tuple[str, ...]] = ROWS) -> Path:
    path.write_bytes("\n".join(",".join(r) for r in rows).encode("gbk") + b"\n")
    return path


@pytest.fixture
def publisher(make_user: UserFactory) -> Actor:
    return make_user("gongan", "dept_staff", department=POLICE)


def publish(database: Database, actor: Actor, name: str = "household", **changes: str) -> None:
    with database.session() as session:
        service.create_dataset(
            session, actor, service.DatasetInput(name=name, title="户籍人口", department=POLICE, **changes)
        )  # type: ignore[arg-type]


def test_a_department_publishes_and_ingests_a_gbk_csv(
    database: Database,
    settings: Settings,
    publisher: Actor,
    tmp_path: Path,
) -> None:
    publish(database, publisher)
    version = service.ingest_version(database, publisher, settings.data_dir, "household", gbk_csv(tmp_path / "a.csv"))
    assert version.number == 1 and version.row_count == 2 and version.encoding == "gb18030"
    kinds = {f.name: f.kind for f in version.fields}
    assert kinds["身份证号"] == "id_number" and kinds["姓名"] == "name" and kinds["年龄"] == "none"
    with database.read_session() as session:
        dataset = service.get_dataset(session, publisher, "household")
        current = dataset.current_version
        assert current is not None and current.number == 1
        stored = pq.read_table(service.version_file(settings.data_dir, current))
    assert stored.column("姓名").to_pylist() == ["张三", "李四"]
    assert current.quality["row_count"] == 2
    with database.read_session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "dataset.ingest")).one()
    assert sorted(json.loads(entry.detail)["personal_fields"]) == sorted(["姓名", "户籍地址", "身份证号"])


def test_a_new_version_becomes_current_and_the_old_one_stays_readable(
    database: Database,
    settings: Settings,
    publisher: Actor,
    tmp_path: Path,
) -> None:
    publish(database, publisher)
    first = service.ingest_version(database, publisher, settings.data_dir, "household", gbk_csv(tmp_path / "a.csv"))
    second = service.ingest_version(
        database, publisher, settings.data_dir, "household", gbk_csv(tmp_path / "b.csv", ROWS[:2])
    )
    assert (first.number, second.number) == (1, 2)
    with database.read_session() as session:
        dataset = service.get_dataset(session, publisher, "household")
        assert dataset.current_version is not None and dataset.current_version.number == 2
        old = next(v for v in dataset.versions if v.number == 1)
        assert pq.read_table(service.version_file(settings.data_dir, old)).num_rows == 2


def test_a_failed_ingest_changes_nothing(
    database: Database,
    settings: Settings,
    publisher: Actor,
    tmp_path: Path,
) -> None:
    publish(database, publisher)
    service.ingest_version(database, publisher, settings.data_dir, "household", gbk_csv(tmp_path / "a.csv"))
    folder = settings.data_dir / "datasets" / "household"
    before = sorted(p.name for p in folder.iterdir())
    broken = tmp_path / "broken.json"
    broken.write_text('[{"a": 1}, {"a": ', encoding="utf-8")
    with pytest.raises(InvalidInput, match="ingest."):
        service.ingest_version(database, publisher, settings.data_dir, "household", broken)
    assert sorted(p.name for p in folder.iterdir()) == before
    with database.read_session() as session:
        dataset = service.get_dataset(session, publisher, "household")
        assert [v.number for v in dataset.versions] == [1]


def test_only_the_owner_department_or_the_admin_publishes(
    database: Database,
    settings: Settings,
    make_user: UserFactory,
    publisher: Actor,
    tmp_path: Path,
) -> None:
    other = make_user("shichang", "dept_staff", department="海南省市场监督管理局")
    citizen = make_user("shimin", "citizen")
    for actor in (other, citizen):
        with pytest.raises(AccessRefused), database.session() as session:
            service.create_dataset(session, actor, service.DatasetInput(name="x1", title="x", department=POLICE))
    publish(database, publisher)
    with pytest.raises(AccessRefused):
        service.ingest_version(database, other, settings.data_dir, "household", gbk_csv(tmp_path / "a.csv"))
    folder = settings.data_dir / "datasets" / "household"
    assert not folder.exists() or list(folder.iterdir()) == []


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"name": "Bad Name"}, "dataset.bad_name"),
        ({"title": " "}, "dataset.bad_title"),
        ({"open_type": "sometimes"}, "dataset.bad_open_type"),
        ({"security_level": "core", "open_type": "unconditional"}, "dataset.core_not_open"),
    ],
)
def test_bad_dataset_input_is_refused(database: Database, publisher: Actor, changes: dict[str, str], code: str) -> None:
    data = {"name": "ok-name", "title": "标题", "department": POLICE, **changes}
    with pytest.raises(InvalidInput) as refused, database.session() as session:
        service.create_dataset(session, publisher, service.DatasetInput(**data))  # type: ignore[arg-type]
    assert refused.value.code == code


def test_names_are_unique(database: Database, publisher: Actor) -> None:
    publish(database, publisher)
    with pytest.raises(Conflict):
        publish(database, publisher)


def test_the_public_sees_open_datasets_only(database: Database, publisher: Actor, make_user: UserFactory) -> None:
    publish(database, publisher, "closed")
    publish(database, publisher, "open-one", open_type="unconditional")
    citizen = make_user("shimin", "citizen")
    with database.read_session() as session:
        assert [d.name for d in search_catalogue(session, citizen, CatalogueQuery()).datasets] == ["open-one"]
        assert [d.name for d in search_catalogue(session, Actor.anonymous(), CatalogueQuery()).datasets] == ["open-one"]
        assert search_catalogue(session, publisher, CatalogueQuery()).total == 2
        with pytest.raises(NotFound):
            service.get_dataset(session, citizen, "closed")


def test_classification_is_the_admins_and_is_audited(
    database: Database, publisher: Actor, make_user: UserFactory
) -> None:
    admin = make_user("admin", "admin", department="海南省大数据管理局")
    publish(database, publisher)
    with pytest.raises(AccessRefused), database.session() as session:
        service.classify_dataset(
            session,
            publisher,
            "household",
            share_type="unconditional",
            open_type="unconditional",
            security_level="general",
        )
    with database.session() as session:
        dataset = service.classify_dataset(
            session, admin, "household", share_type="unconditional", open_type="conditional", security_level="important"
        )
        assert (dataset.share_type, dataset.open_type) == ("unconditional", "conditional")
    with pytest.raises(InvalidInput, match="core_not_open"), database.session() as session:
        service.classify_dataset(
            session, admin, "household", share_type="none", open_type="conditional", security_level="core"
        )
    with database.session() as session:
        trail = audit.search(session, make_user("aud", "auditor"), audit.AuditFilter(action="dataset.classify"))
    assert [e.result for e in trail.entries] == ["success", "denied"]  # newest first; invalid input is not a change


def test_the_publisher_confirms_field_kinds(
    database: Database,
    settings: Settings,
    publisher: Actor,
    tmp_path: Path,
) -> None:
    publish(database, publisher)
    service.ingest_version(database, publisher, settings.data_dir, "household", gbk_csv(tmp_path / "a.csv"))
    with database.session() as session:
        version = service.confirm_field_kinds(session, publisher, "household", {"户籍地址": "address", "年龄": "none"})
        by_name = {f.name: f for f in version.fields}
    assert by_name["户籍地址"].kind_confirmed and by_name["户籍地址"].kind == "address"
    with pytest.raises(InvalidInput, match="unknown_field"), database.session() as session:
        service.confirm_field_kinds(session, publisher, "household", {"nope": "none"})
    with pytest.raises(InvalidInput, match="bad_kind"), database.session() as session:
        service.confirm_field_kinds(session, publisher, "household", {"年龄": "secret"})


def test_datasets_are_listed_newest_first(database: Database, publisher: Actor) -> None:
    for name in ("a-one", "b-two", "c-three"):
        publish(database, publisher, name)
    with database.read_session() as session:
        names = [d.name for d in search_catalogue(session, publisher, CatalogueQuery()).datasets]
        assert names == ["c-three", "b-two", "a-one"]
        assert session.scalar(select(Dataset.name).where(Dataset.name == "a-one")) == "a-one"


@pytest.mark.parametrize("role", sorted(Role))
def test_the_visible_datasets_query_is_the_view_rule(database: Database, make_user: UserFactory, role: Role) -> None:
    """Lists filter in SQL; they must agree with `can(actor, VIEW, ...)` for every role and classification."""
    admin = make_user("admin", "admin")
    for i, department in enumerate(("海南省公安厅", "海南省市场监督管理局")):
        make_user(f"staff{i}", "dept_staff", department=department)
        for open_type in ("unconditional", "conditional", "none"):
            with database.session() as session:
                service.create_dataset(
                    session,
                    admin,
                    service.DatasetInput(
                        name=f"d{i}-{open_type}",
                        title="x",
                        department=department,
                        open_type=open_type,
                    ),
                )
    actor = make_user("who", role.value, department="海南省公安厅" if role is Role.DEPT_STAFF else None)
    with database.read_session() as session:
        everything = session.scalars(select(Dataset)).all()
        expected = {d.name for d in everything if can(actor, CatalogAction.VIEW, view_resource(d))}
        listed = {d.name for d in session.scalars(visible_datasets(actor))}
        anonymous = {d.name for d in session.scalars(visible_datasets(Actor.anonymous()))}
    assert listed == expected
    assert anonymous == {d.name for d in everything if can(Actor.anonymous(), CatalogAction.VIEW, view_resource(d))}
