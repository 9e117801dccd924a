"""Stores: where a marketplace keeps its aggregates, events and outcomes.

:func:`open_store` turns what a user gives into a store:

* nothing, or ``"memory://"``: a new :class:`~statemachines.marketplace.stores.memory.MemoryStore`;
* a path (``"market.db"``, a :class:`~pathlib.Path`) or a ``sqlite:///`` URL
  (``sqlite:///market.db`` is relative, ``sqlite:////var/lib/market.db`` absolute):
  a :class:`~statemachines.marketplace.stores.sqlite.SqliteStore` on that file, created
  and migrated when needed;
* a ``postgresql://`` (or ``postgres://``) URL: a
  :class:`~statemachines.marketplace.stores.postgres.PostgresStore` on that database,
  migrated when needed (needs psycopg: ``pip install 'statemachines[postgres]'``);
* a store object: itself.

>>> open_store(None).url
'memory://'
>>> open_store("mysql://localhost/market")
Traceback (most recent call last):
...
statemachines.errors.InvalidInput: mysql://localhost/market: unknown kind of store; ...
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from statemachines.errors import InvalidInput
from statemachines.marketplace.stores.base import Store
from statemachines.marketplace.stores.memory import MemoryStore
from statemachines.marketplace.stores.sqlite import SqliteStore

__all__ = ["MemoryStore", "SqliteStore", "Store", "open_store", "sqlite_path"]


def sqlite_path(target: str | os.PathLike[str]) -> Path | None:
    """The SQLite file *target* names (a path or a ``sqlite:///`` URL), or ``None``."""
    text = os.fspath(target)
    if text.startswith("sqlite:///"):
        return Path(text[len("sqlite:///") :])
    if text.startswith("sqlite:"):
        msg = f"{text}: a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db"
        raise InvalidInput(msg)
    if "://" in text:
        return None
    return Path(text)


def open_store(target: Any) -> Store:
    """The store *target* names (see the module's documentation)."""
    if target is None or target == "memory://":
        return MemoryStore()
    if not isinstance(target, str | os.PathLike):
        store: Store = target
        return store
    text = os.fspath(target)
    if text.startswith(("postgresql:", "postgres:")):
        try:
            from statemachines.marketplace.stores.postgres import PostgresStore  # noqa: PLC0415
        except ImportError as err:  # pragma: no cover  (psycopg is a test dependency)
            msg = f"{text}: PostgreSQL needs psycopg: pip install 'statemachines[postgres]'"
            raise InvalidInput(msg) from err
        return PostgresStore(text)
    path = sqlite_path(text)
    if path is None:
        msg = (
            f"{text}: unknown kind of store; give a file path, sqlite:///path, "
            "postgresql://... or memory://"
        )
        raise InvalidInput(msg)
    return SqliteStore(path)
