"""Versioned migrations: ordered SQL files, applied when a store opens, recorded in a table.

Each dialect has a folder of files named ``NNNN_what.sql`` under
``statemachines/marketplace/stores/migrations/<dialect>/``; the same number means the
same change in every dialect. Opening a store applies, in order and in one
transaction, every file whose number is not yet in ``schema_migrations``, and
refuses a database that a newer version of the library migrated further.

>>> [m.version for m in migrations("sqlite")]
[1, 2, 3, 4, 5, 7]
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any, NamedTuple, Protocol

from statemachines.errors import InvalidInput

__all__ = ["Migration", "SchemaTooNew", "apply", "migrations", "statements"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class Migration(NamedTuple):
    """One migration file: its number, its name, its SQL."""

    version: int
    name: str
    sql: str


class SchemaTooNew(InvalidInput):
    """The database was migrated by a newer version of the library than this one."""


class Connection(Protocol):
    """The part of a DB-API connection (sqlite3 in autocommit mode) that migrating uses."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any:
        """Run one statement."""


def migrations(dialect: str) -> list[Migration]:
    """Every migration of *dialect*, in order."""
    folder = resources.files("statemachines.marketplace.stores") / "migrations" / dialect
    found = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


def statements(sql: str) -> list[str]:
    """The statements of a migration file: each ends with ``;`` at the end of a line."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def apply(conn: Connection, dialect: str, *, placeholder: str = "?") -> list[int]:
    """Bring *conn*'s database up to date; returns the versions applied now.

    *conn* is in autocommit mode; this runs its own transaction (``BEGIN IMMEDIATE``
    on SQLite, so two processes opening a new file migrate it once).
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    known = migrations(dialect)
    conn.execute("BEGIN IMMEDIATE" if dialect == "sqlite" else "BEGIN")
    try:
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        newest = max((m.version for m in known), default=0)
        if done and max(done) > newest:
            msg = (
                f"the database is at schema version {max(done)}, newer than this library "
                f"knows ({newest}); upgrade statemachines to open it"
            )
            raise SchemaTooNew(msg)
        applied = []
        for m in known:
            if m.version in done:
                continue
            for statement in statements(m.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) "
                f"VALUES ({placeholder}, {placeholder}, CURRENT_TIMESTAMP)",
                (m.version, m.name),
            )
            applied.append(m.version)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied
