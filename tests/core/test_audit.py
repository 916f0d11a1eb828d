"""The audit chain: appends, tamper detection (edit, delete, reorder) and concurrent writers on both databases."""

from __future__ import annotations

import threading

import pytest
from factories import UserFactory
from sqlalchemy import delete, select, text, update

from yiwang.core import audit
from yiwang.core.db import Database
from yiwang.core.errors import AuthenticationRequired
from yiwang.core.identity import Actor
from yiwang.core.models import AuditEntry, AuditHead
from yiwang.core.settings import Settings


def append(database: Database, count: int, actor: Actor | None = None) -> None:
    with database.session() as session:
        for i in range(count):
            audit.record(
                session,
                actor or Actor.operator(),
                "test.event",
                resource_type="thing",
                resource_id=str(i),
                detail={"i": i},
            )


def check(database: Database) -> audit.VerifyReport:
    with database.read_session() as session:
        return audit.verify(session, Actor.operator())


def test_an_intact_chain_verifies(database: Database) -> None:
    append(database, 25)
    report = check(database)
    assert report.ok and report.checked == report.head_seq == 25


def test_entries_link_to_their_predecessor_and_name_their_algorithm(database: Database) -> None:
    append(database, 3)
    with database.read_session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert entries[0].prev_hash == audit.GENESIS_HASH
    assert [e.prev_hash for e in entries[1:]] == [e.entry_hash for e in entries[:-1]]
    assert {e.algorithm for e in entries} == {"sm3"}  # cryptography 50 on this platform offers SM3


def test_sha256_can_be_chosen_and_both_verify_in_one_chain(settings: Settings, database: Database) -> None:
    append(database, 2)
    sha = Database(settings.resolved_database_url, audit_algorithm="sha256")
    append(sha, 2)
    sha.dispose()
    with database.read_session() as session:
        algorithms = session.scalars(select(AuditEntry.algorithm).order_by(AuditEntry.seq)).all()
    assert algorithms == ["sm3", "sm3", "sha256", "sha256"]
    assert check(database).ok


@pytest.mark.parametrize(
    "column, value",
    [("action", "user.delete"), ("actor_name", "someone-else"), ("result", "denied"), ("detail", '{"i":99}')],
)
def test_an_edited_entry_is_named(database: Database, column: str, value: str) -> None:
    append(database, 10)
    with database.session() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 6).values({column: value}))
    report = check(database)
    assert not report.ok and report.first_bad_seq == 6 and report.problem == "audit.hash_mismatch"
    assert report.checked == 5


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(database: Database) -> None:
    append(database, 10)
    with database.session() as session:
        row = session.execute(select(AuditEntry).where(AuditEntry.seq == 4)).scalar_one()
        fields = {c: getattr(row, c) for c in audit._FIELDS}
        fields["action"] = "covered.up"
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == 4)
            .values(action="covered.up", entry_hash=audit.entry_hash(fields))
        )
    report = check(database)
    assert not report.ok and report.first_bad_seq == 5 and report.problem == "audit.link_broken"


def test_a_deleted_entry_is_named(database: Database) -> None:
    append(database, 10)
    with database.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq == 7))
    report = check(database)
    assert not report.ok and report.first_bad_seq == 7 and report.problem == "audit.seq_gap"


def test_entries_removed_from_the_end_are_noticed(database: Database) -> None:
    append(database, 10)
    with database.session() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq >= 9))
    report = check(database)
    assert not report.ok and report.problem == "audit.head_mismatch" and report.first_bad_seq == 9


def test_reordered_entries_are_named(database: Database) -> None:
    append(database, 10)
    with database.session() as session:  # swap the positions of entries 3 and 4
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(seq=-3))
        session.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(seq=3))
        session.execute(update(AuditEntry).where(AuditEntry.seq == -3).values(seq=4))
    report = check(database)
    assert not report.ok and report.first_bad_seq == 3


def test_a_missing_head_is_reported(database: Database) -> None:
    with database.session() as session:
        session.execute(delete(AuditHead))
    assert check(database).problem == "audit.head_missing"


def test_an_entry_rolls_back_with_the_work_it_describes(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        audit.record(session, Actor.operator(), "test.event")
        raise RuntimeError("the work failed")
    assert check(database).checked == 0


def test_entries_are_appended_only_in_writing_sessions(database: Database) -> None:
    with database.read_session() as session, pytest.raises(RuntimeError, match="writing session"):
        audit.record(session, Actor.operator(), "test.event")


def test_personal_data_is_masked_before_it_is_written(database: Database) -> None:
    with database.session() as session:
        audit.record(
            session,
            Actor.operator(),
            "test.lookup",
            resource_id="11010519491231002X",
            purpose="核验 11010519491231002X",
            detail={"phone": "13812345678", "nested": ["11010519491231002X"]},
        )
    with database.read_session() as session:
        entry = session.scalars(select(AuditEntry)).one()
    raw = entry.resource_id + entry.purpose + entry.detail
    assert "11010519491231002X" not in raw and "13812345678" not in raw
    assert check(database).ok


def test_reading_the_trail_needs_the_auditor_role_and_is_itself_recorded(
    database: Database, make_user: UserFactory
) -> None:
    auditor = make_user("aud", "auditor")
    staff = make_user("staff", "dept_staff", department="海南省公安厅")
    with database.session() as session:
        page = audit.search(session, auditor, audit.AuditFilter(action="user."), page=1, page_size=10)
    assert page.total == 2 and {e.resource_id for e in page.entries} == {"aud", "staff"}
    with pytest.raises(audit.AccessRefused), database.session() as session:
        audit.search(session, staff, audit.AuditFilter())
    with pytest.raises(AuthenticationRequired), database.session() as session:
        audit.search(session, Actor.anonymous(), audit.AuditFilter())
    with database.session() as session:
        reads = audit.search(session, auditor, audit.AuditFilter(action="audit.read"))
        refusals = audit.search(session, auditor, audit.AuditFilter(result="denied"))
    assert reads.total == 2  # the first search, and this one
    assert [(e.actor_name, e.action) for e in refusals.entries] == [("staff", "audit.read")]
    assert check(database).ok


def test_concurrent_writers_leave_one_unbroken_chain(database: Database) -> None:
    writers, per_writer = 8, 25
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                with database.session() as session:
                    audit.record(session, Actor.operator(), "test.concurrent", resource_id=f"{n}-{i}")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = check(database)
    assert report.ok and report.checked == writers * per_writer
    with database.read_session() as session:
        ids = session.scalars(select(AuditEntry.resource_id)).all()
        assert session.execute(text("SELECT COUNT(DISTINCT prev_hash) FROM audit_entries")).scalar_one() == len(ids)
    assert len(set(ids)) == writers * per_writer
