"""The statemachines pytest plugin: a manual clock, a marketplace on each store.

Installed with the package and registered through the ``pytest11`` entry point (named
``statemachines``), so a project that installs statemachines gets these fixtures in every
test without importing anything (``-p no:statemachines`` turns it off):

* ``manual_clock``: a :class:`~statemachines.core.clock.ManualClock` at
  :data:`~statemachines.testing.cast.START` (a Monday, 09:00 UTC);
* ``marketplace``: an empty :class:`~statemachines.marketplace.market.Marketplace` on that
  clock, once per store of :data:`STORES` (the test runs on each, its id says which): in
  memory; in a new SQLite file in the test's ``tmp_path``; and, when the environment
  variable ``STATEMACHINES_PG_URL`` names a PostgreSQL server
  (``postgresql://user@host:port/db``), in a new schema of that server, dropped after the
  test. The marketplace is closed after the test.

The assertion helpers (``assert_refused``, ``assert_not_permitted``, ...) are plain
functions: ``from statemachines.testing import assert_refused``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

from statemachines.core.clock import ManualClock
from statemachines.marketplace.market import Marketplace, MemoryStore, Store
from statemachines.testing.cast import START

__all__ = ["PG_URL", "STORES", "manual_clock", "marketplace", "new_store", "with_schema"]

PG_URL = "STATEMACHINES_PG_URL"
"""The environment variable naming the PostgreSQL server the ``marketplace`` fixture also
runs on (unset: memory and SQLite only)."""

STORES: tuple[str, ...] = ("memory", "sqlite", *(("postgres",) if os.environ.get(PG_URL) else ()))
"""The stores the ``marketplace`` fixture runs each test on, by name (the test id)."""


def with_schema(url: str, schema: str) -> str:
    """*url* with every connection's search path set to *schema*."""
    glue = "&" if "?" in url else "?"
    return f"{url}{glue}options={quote(f'-c search_path={schema}')}"


@contextmanager
def new_store(kind: str, folder: Path) -> Iterator[Store | Path | str]:
    """A new, empty store of *kind* (one of :data:`STORES`), as
    :class:`~statemachines.marketplace.market.Marketplace` takes it: a memory store, a
    SQLite file in *folder*, or a URL on a new schema of the server :data:`PG_URL` names
    (dropped when the block ends)."""
    if kind == "memory":
        yield MemoryStore()
    elif kind == "sqlite":
        yield folder / f"marketplace-{uuid.uuid4().hex[:8]}.db"
    elif kind == "postgres":
        url = os.environ.get(PG_URL)
        if not url:
            msg = f"the postgres store needs {PG_URL}=postgresql://user@host:port/db"
            raise ValueError(msg)
        import psycopg  # noqa: PLC0415  (the postgres extra)

        schema = f"statemachines_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            yield with_schema(url, schema)
        finally:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    else:
        msg = f"unknown store {kind!r}; the stores are {', '.join(STORES)}"
        raise ValueError(msg)


@pytest.fixture
def manual_clock() -> ManualClock:
    """A manual clock at :data:`~statemachines.testing.cast.START`: it moves when told."""
    return ManualClock(START)


@pytest.fixture(params=STORES)
def marketplace(
    request: pytest.FixtureRequest, manual_clock: ManualClock, tmp_path: Path
) -> Iterator[Marketplace]:
    """An empty marketplace on ``manual_clock``, once on each store of :data:`STORES`
    (closed after the test)."""
    with (
        new_store(request.param, tmp_path) as store,
        Marketplace(clock=manual_clock, store=store) as market,
    ):
        yield market
