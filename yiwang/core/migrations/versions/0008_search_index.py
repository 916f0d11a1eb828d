"""An index over the catalogue's search terms (SQLite FTS5 kept by triggers, a PostgreSQL GIN index on the tokens),
and one for counting the datasets a visitor may see.

Catalogue search used to narrow with ``search_terms LIKE '% term %'``, a scan of every dataset per query. Both
indexes hold the same whole tokens that LIKE matched (stored terms are jieba tokens of letters and digits separated
by single spaces, see `yiwang.catalog.search`), so results do not change; `yiwang.catalog.search` asks whichever
the database has.

SQLite's index is an external-content FTS5 table (the text stays in ``datasets``) kept in step by triggers, so every
writer — the ORM, migrations, bulk loads — updates it. A later migration that rebuilds ``datasets`` with
``batch_alter_table`` drops those triggers and must create them again (`create_sqlite_index`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SQLITE_INDEX = "dataset_search_index"
POSTGRES_INDEX = "ix_datasets_search_tokens"
# A function of our own rather than the bare expression: string_to_array is declared as cheap as an addition, so the
# planner would rather split every row's text in a scan (87 ms at 10,000 datasets) than ask the index (3 ms).
# PL/pgSQL, because SQL functions are inlined and lose their cost.
POSTGRES_TOKENS = (
    "CREATE FUNCTION yiwang_search_tokens(terms text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT "
    "PARALLEL SAFE COST 100 AS $$ BEGIN RETURN string_to_array(btrim(terms), ' '); END $$"
)


def create_sqlite_index() -> None:
    # remove_diacritics 0: LIKE told é from e, so must the index; the tokens are lower-cased already.
    op.execute(
        f"CREATE VIRTUAL TABLE {SQLITE_INDEX} USING fts5(search_terms, content='datasets', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0')"
    )
    forget = (
        f"INSERT INTO {SQLITE_INDEX}({SQLITE_INDEX}, rowid, search_terms) VALUES ('delete', old.id, old.search_terms);"
    )
    learn = f"INSERT INTO {SQLITE_INDEX}(rowid, search_terms) VALUES (new.id, new.search_terms);"
    op.execute(f"CREATE TRIGGER {SQLITE_INDEX}_insert AFTER INSERT ON datasets BEGIN {learn} END")
    op.execute(f"CREATE TRIGGER {SQLITE_INDEX}_delete AFTER DELETE ON datasets BEGIN {forget} END")
    op.execute(
        f"CREATE TRIGGER {SQLITE_INDEX}_update AFTER UPDATE OF search_terms ON datasets BEGIN {forget} {learn} END"
    )
    op.execute(f"INSERT INTO {SQLITE_INDEX}({SQLITE_INDEX}) VALUES ('rebuild')")


def upgrade() -> None:
    op.create_index("ix_datasets_visibility", "datasets", ["open_type", "deleted_at"])
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_index()
    else:
        op.execute(POSTGRES_TOKENS)
        op.execute(f"CREATE INDEX {POSTGRES_INDEX} ON datasets USING gin (yiwang_search_tokens(search_terms))")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER {SQLITE_INDEX}_{trigger}")
        op.execute(f"DROP TABLE {SQLITE_INDEX}")
    else:
        op.execute(f"DROP INDEX {POSTGRES_INDEX}")
        op.execute("DROP FUNCTION yiwang_search_tokens(text)")
    op.drop_index("ix_datasets_visibility", "datasets")
