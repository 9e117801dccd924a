"""A PostgreSQL server for the tests: each test's marketplace in a schema of its own.

``scripts/test`` starts a throwaway cluster and sets ``STATEMACHINES_PG_URL`` (and
``STATEMACHINES_PG_BIN``/``STATEMACHINES_PG_DATA``, which the restart test uses); a
developer may point ``STATEMACHINES_PG_URL`` at a server of their own. Without it the
PostgreSQL tests are skipped, saying why, except in CI (``CI=true``), where they fail:
CI never passes without having run them.

:func:`new_database` makes an empty schema and returns a URL whose connections use it
(``options=-c search_path=...``), so every process given that URL shares one fresh
marketplace; :func:`drop_all` removes the schemas made.
"""

from __future__ import annotations

import itertools
import os
import uuid

import psycopg
import pytest

from statemachines.testing.plugin import with_schema

URL = os.environ.get("STATEMACHINES_PG_URL")
"""The server the tests use, or ``None``."""

REASON = (
    "no PostgreSQL server: set STATEMACHINES_PG_URL=postgresql://user@host:port/db, or run "
    "bash scripts/test, which starts a throwaway one"
)

_made: list[str] = []
_numbers = itertools.count(1)
_run = uuid.uuid4().hex[:8]


def server() -> str:
    """The server's URL; skips the test without one (fails it in CI)."""
    if URL:
        return URL
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the PostgreSQL tests: {REASON}")
    pytest.skip(REASON)


def new_database() -> str:
    """A URL on a new, empty schema of the server (a fresh marketplace once opened)."""
    url = server()
    name = f"t_{_run}_{next(_numbers)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    _made.append(name)
    return with_schema(url, name)


def drop_all() -> None:
    """Drop every schema :func:`new_database` made."""
    if not _made or not URL:
        return
    with psycopg.connect(URL, autocommit=True) as conn:
        while _made:
            conn.execute(f"DROP SCHEMA IF EXISTS {_made.pop()} CASCADE")
