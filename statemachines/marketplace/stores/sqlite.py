"""The SQLite store: the embedded default, a marketplace in one file that survives a restart.

Opened on a path, it creates the file if needed, switches it to write-ahead
logging (``journal_mode=WAL``, ``synchronous=NORMAL``: a commit is durable once the
log is synced at a checkpoint, and a crash never leaves half a transaction) and
applies the migrations it lacks (:mod:`statemachines.marketplace.stores.schema`).

A unit of work is one transaction. It reads in a deferred transaction (a
consistent snapshot), then writes every change at commit: each changed
aggregate with ``UPDATE ... SET revision = revision + 1 WHERE ... AND revision =
:read``, new aggregates with their party rows, the events, and the command's
outcome. SQLite allows one writer at a time and refuses to write from a snapshot
that another commit has made stale, so a command that lost a race raises
:class:`~statemachines.marketplace.errors.ConcurrentModification` (naming the
aggregate that changed) and writes nothing; every command that commits was
decided on current facts.

Loaded aggregates are kept in an identity map by revision: an aggregate read
again at the same revision is the same object, and its snapshot is not parsed
again. A row the store wrote after its machine's registered invariants held (its
``checked`` column, the CRC-32 of its snapshot) is read without running them again;
any other row, or one whose snapshot changed outside the library, gets every check
(ADR 0028).

>>> import tempfile, pathlib
>>> folder = tempfile.mkdtemp()
>>> store = SqliteStore(pathlib.Path(folder) / "market.db")
>>> store.schema_versions()
[1, 2, 3, 4, 5, 7]
>>> store.close()
"""

from __future__ import annotations

import json
import sqlite3
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from statemachines.core.clock import UTC
from statemachines.core.convert import iso
from statemachines.core.engine import SPECS
from statemachines.core.snapshots import broken_invariants, from_dict, has_invariants, to_dict
from statemachines.errors import StatemachinesError
from statemachines.marketplace.errors import ConcurrentModification
from statemachines.marketplace.events import (
    CREATED,
    NewEvent,
    Outcome,
    StoredEvent,
    dump_decision,
    dump_error,
    load_decision,
    load_error,
)
from statemachines.marketplace.model import (
    RANK,
    due_of,
    dump_record,
    from_micros,
    json_text,
    load_record,
    micros,
    parties,
)
from statemachines.marketplace.stores import schema
from statemachines.marketplace.stores.base import (
    Batch,
    Check,
    CommandSeen,
    Due,
    Glimpse,
    Loaded,
    Preempted,
    load_then_glance,
)

__all__ = ["SqliteStore", "SqliteTransaction"]

PRAGMAS = (
    "PRAGMA page_size=8192",  # a new file only (ADR 0029): rows that grow split pages less
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA cache_size=-65536",  # 64 MiB of pages in this connection's cache
    "PRAGMA mmap_size=268435456",  # reads of the first 256 MiB through the page cache of the OS
    "PRAGMA wal_autocheckpoint=5000",  # checkpoint (and sync the file) every ~40 MB of log
)
"""How every connection is set up: 8 KiB pages for a new file (an existing one keeps its
own), write-ahead log, a sync at checkpoints only, a larger page cache, memory-mapped
reads, and checkpoints rarer than the default (every 40 MB of log, not 4 MB)."""

BUSY = frozenset({5, 6, 517})
"""SQLITE_BUSY, SQLITE_LOCKED and SQLITE_BUSY_SNAPSHOT: another connection got there first."""


_json = json_text


class SqliteStore:
    """A marketplace in a SQLite file (see the module's documentation)."""

    def __init__(self, path: str | Path, *, cache: int = 20_000, timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.cache_size = cache
        self._conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=timeout
        )
        for pragma in PRAGMAS:
            self._conn.execute(pragma)
        schema.apply(self._conn, "sqlite")
        self._cache: OrderedDict[tuple[str, str], tuple[int, Any, bool]] = OrderedDict()
        """(kind, key): (revision, aggregate, whether it passed every check)."""
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    def schema_versions(self) -> list[int]:
        """The migrations applied to this file, in order."""
        with self._lock:
            rows = self._conn.execute("SELECT version FROM schema_migrations ORDER BY version")
            return [v for (v,) in rows]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ identity map

    def _aggregate(self, kind: str, key: str, revision: int, data: str, checked: int | None) -> Any:
        k = (kind, key)
        cached = self._cache.get(k)
        if cached is not None and cached[0] == revision:
            return cached[1]
        # the invariants held when the store wrote this very text: every other check runs
        trusted = checked is not None and checked == _crc(data) and _checkable(kind)
        agg = from_dict(json.loads(data), invariants=not trusted)
        self._remember(k, revision, agg, verified=True)
        return agg

    def _remember(self, k: tuple[str, str], revision: int, agg: Any, *, verified: bool) -> None:
        cache = self._cache
        cache.pop(k, None)
        cache[k] = (revision, agg, verified)
        if len(cache) > self.cache_size:
            cache.popitem(last=False)  # the oldest: O(1), where a dict's first key is not

    def _verified(self, kind: str, key: str, revision: int, agg: Any) -> bool:
        """True when *agg*, read at *revision*, passed every check (it was loaded, or
        imported holding its invariants), so that accepted transitions keep them."""
        cached = self._cache.get((kind, key))
        return cached is not None and cached[0] == revision and cached[1] is agg and cached[2]

    # ------------------------------------------------------------------ units of work

    def begin(self, check: Check | None = None) -> SqliteTransaction:
        """Start a unit of work's (deferred) transaction; with *check*, its first statement
        reads whether the command was handled and when the first deadline falls due, in
        the transaction's snapshot (ADR 0030)."""
        self._lock.acquire()
        try:
            self._conn.execute("BEGIN")
            if check is not None:
                self._check(check)
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            self._lock.release()
            raise
        return SqliteTransaction(self)

    def _check(self, check: Check) -> None:
        first, seen, seqs, error = self._conn.execute(_CHECK, (check.command_id,)).fetchone()
        if seen is not None:
            raise Preempted(self._outcome(seen, seqs, error))
        if check.due_by is not None and first is not None and first <= micros(check.due_by):
            raise Preempted(None)

    def _conflict(self, batch: Batch, err: Exception) -> ConcurrentModification:
        """Which aggregate another commit changed while this unit of work read it."""
        for kind, key, revision in batch.reads:
            found = self.revision(kind, key)
            if found != revision:
                return ConcurrentModification(kind, key, revision, found)
        if batch.reads:
            kind, key, revision = batch.reads[0]
        elif batch.writes:
            kind, key, revision = batch.writes[0].kind, batch.writes[0].key, 0
        else:
            kind, key, revision = "marketplace", "-", 0
        conflict = ConcurrentModification(kind, key, revision, revision)
        conflict.__cause__ = err
        return conflict

    # ------------------------------------------------------------------ deadlines

    def next_due(self, limit: datetime) -> Due | None:
        """The first deadline due at or before *limit*, from the due index."""
        with self._lock:
            row = self._conn.execute(
                "SELECT kind, key, due_us, revision FROM aggregates "
                "WHERE due_us IS NOT NULL AND due_us <= ? ORDER BY due_us, rank, key LIMIT 1",
                (micros(limit),),
            ).fetchone()
        if row is None:
            return None
        return Due(row[0], row[1], from_micros(row[2]), row[3])

    def park(self, due: Due, error: str, at: datetime) -> None:
        """Record the failed deadline and take it off the due index until its aggregate changes."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "INSERT INTO stuck (kind, key, due_us, revision, error, at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (due.kind, due.key, micros(due.due), due.revision, error, at.isoformat()),
                )
                conn.execute(
                    "UPDATE aggregates SET due_us = NULL "
                    "WHERE kind = ? AND key = ? AND revision = ? AND due_us = ?",
                    (due.kind, due.key, due.revision, micros(due.due)),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    @property
    def stuck(self) -> list[tuple[str, str, str]]:
        """Deadlines that failed: (kind, key, error), oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT kind, key, error FROM stuck ORDER BY id")
            return [(kind, key, error) for kind, key, error in rows]

    # ------------------------------------------------------------------ commands, events

    def outcome(self, command_id: str) -> Outcome | None:
        """The stored outcome of *command_id*, or ``None``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT events, error FROM commands WHERE command_id = ?", (command_id,)
            ).fetchone()
            return None if row is None else self._outcome(command_id, *row)

    def _outcome(self, command_id: str, seqs: str | None, error: str | None) -> Outcome:
        events: tuple[StoredEvent, ...] = ()
        if seqs:
            wanted = json.loads(seqs)
            marks = ",".join("?" * len(wanted))
            rows = self._conn.execute(
                f"SELECT {_EVENT} FROM events WHERE seq IN ({marks}) ORDER BY seq", wanted
            )
            events = tuple(_event(r) for r in rows)
        return Outcome(
            events,
            None if error is None else load_error(json.loads(error)),
            command_id=command_id,
            repeated=True,
        )

    def save_refusal(self, command_id: str, error: StatemachinesError, at: datetime) -> None:
        """Remember that *command_id* was refused with *error* (its own transaction)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO commands (command_id, at, error) VALUES (?, ?, ?)",
                (command_id, at.isoformat(), _json(dump_error(error))),
            )

    def events_after(self, cursor: int, limit: int | None = None) -> list[StoredEvent]:
        """Events numbered above *cursor*, in order (at most *limit*)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_EVENT} FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (cursor, -1 if limit is None else limit),
            ).fetchall()
        return [_event(r) for r in rows]

    def history(self, kind: str, key: str) -> list[StoredEvent]:
        """The events of one aggregate: its ``created`` snapshot, then its decisions.

        A scan of the outbox (it has no index by aggregate, migration 0002): for audits.
        """
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_EVENT} FROM events WHERE kind = ? AND key = ? ORDER BY position, seq",
                (kind, key),
            ).fetchall()
        return [_event(r) for r in rows]

    # ------------------------------------------------------------------ consumers

    def cursor(self, consumer: str) -> int:
        """Where *consumer* has read the outbox up to (0 before its first ``save_cursor``)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT position FROM consumers WHERE name = ?", (consumer,)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def save_cursor(self, consumer: str, seq: int, at: datetime) -> None:
        """Move *consumer*'s cursor to *seq* (never backwards)."""
        with self._lock:
            self._conn.execute(
                "INSERT INTO consumers (name, position, at) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET position = excluded.position, at = excluded.at "
                "WHERE consumers.position < excluded.position",
                (consumer, seq, at.isoformat()),
            )

    def consumers(self) -> dict[str, int]:
        """Every consumer's cursor."""
        with self._lock:
            rows = self._conn.execute("SELECT name, position FROM consumers").fetchall()
        return {name: int(position) for name, position in rows}

    # ------------------------------------------------------------------ direct access

    def values(self, kind: str) -> list[Any]:
        """Every aggregate or record of *kind*, in the order they were added (a scan)."""
        with self._lock:
            if kind in RANK:
                rows = self._conn.execute(
                    "SELECT key, revision, data, checked FROM aggregates WHERE kind = ? "
                    "ORDER BY id",
                    (kind,),
                ).fetchall()
                return [self._aggregate(kind, *row) for row in rows]
            rows = self._conn.execute(
                "SELECT data FROM records WHERE kind = ? ORDER BY id", (kind,)
            ).fetchall()
            return [load_record(kind, json.loads(data)) for (data,) in rows]

    def get(self, kind: str, key: str) -> Any:
        """The aggregate or record *key* of *kind*; raises ``KeyError``."""
        with self._lock:
            if kind in RANK:
                row = self._conn.execute(
                    "SELECT revision, data, checked FROM aggregates WHERE kind = ? AND key = ?",
                    (kind, key),
                ).fetchone()
                if row is None:
                    msg = f"no {kind} {key!r}"
                    raise KeyError(msg)
                return self._aggregate(kind, key, *row)
            row = self._conn.execute(
                "SELECT data FROM records WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
            if row is None:
                msg = f"no {kind} {key!r}"
                raise KeyError(msg)
            return load_record(kind, json.loads(row[0]))

    def revision(self, kind: str, key: str) -> int:
        """The aggregate's revision (0 when there is none)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT revision FROM aggregates WHERE kind = ? AND key = ?", (kind, key)
            ).fetchone()
        return 0 if row is None else int(row[0])

    def put(self, kind: str, key: str, value: Any) -> None:
        """Import *value* outside any command (loading a world); replaces what was there.

        A new aggregate gets its ``created`` event; *value* is the object the store's
        identity map keeps for it.
        """
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                revision = 0
                verified = False
                if kind in RANK:
                    verified = _holds(kind, value)
                    row = conn.execute(
                        "SELECT revision FROM aggregates WHERE kind = ? AND key = ?", (kind, key)
                    ).fetchone()
                    if row is None:
                        _insert(conn, kind, key, value, verified=verified)
                        conn.execute(_INSERT_EVENT, _created_row(kind, key, value, None))
                        revision = 1
                    else:
                        columns = _columns(kind, value, verified=verified)
                        conn.execute(_UPDATE_ANY, (*columns, kind, key))
                        revision = row[0] + 1
                else:
                    replaced = conn.execute(
                        "UPDATE records SET data = ? WHERE kind = ? AND key = ?",
                        (_json(dump_record(kind, value)), kind, key),
                    ).rowcount
                    if not replaced:
                        _insert_record(conn, kind, key, value)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            if revision:
                self._remember((kind, key), revision, value, verified=verified)

    def bulk_load(self, items: Iterable[tuple[str, Any]], *, chunk: int = 10_000) -> int:
        """Import many aggregates at once, (kind, aggregate) pairs, in transactions of
        *chunk*: for benchmarks and imports. No events are recorded. Returns the count."""
        count = 0
        with self._lock:
            conn = self._conn
            batch: list[tuple[str, Any]] = []
            for item in items:
                batch.append(item)
                if len(batch) >= chunk:
                    count += self._load_chunk(conn, batch)
                    batch = []
            count += self._load_chunk(conn, batch)
        return count

    def _load_chunk(self, conn: sqlite3.Connection, batch: list[tuple[str, Any]]) -> int:
        if not batch:
            return 0
        conn.execute("BEGIN IMMEDIATE")
        try:
            start = conn.execute("SELECT coalesce(max(id), 0) FROM aggregates").fetchone()[0]
            rows = []
            links: list[tuple[str, str, int]] = []
            added: dict[str, int] = {}
            for n, (kind, agg) in enumerate(batch, start=start + 1):
                state, due, data, checked = _columns(kind, agg, verified=_holds(kind, agg))
                rows.append((n, kind, agg.id, state, due, RANK[kind], data, checked))
                links.extend((party, kind, n) for party in parties(kind, agg))
                added[kind] = added.get(kind, 0) + 1
            conn.executemany(
                "INSERT INTO aggregates (id, kind, key, revision, state, due_us, rank, data, "
                "checked) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)",
                rows,
            )
            conn.executemany(_INSERT_PARTY, links)
            conn.executemany(_COUNT, list(added.items()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(batch)


# --------------------------------------------------------------------------- SQL

_EPOCH = from_micros(0)
_CHECK = (
    "SELECT (SELECT due_us FROM aggregates WHERE due_us IS NOT NULL "
    "ORDER BY due_us, rank, key LIMIT 1), c.command_id, c.events, c.error "
    "FROM (SELECT 1) LEFT JOIN commands c ON c.command_id = ?"
)
_EVENT = "seq, kind, key, position, name, at, command_id, data"
_INSERT_AGGREGATE = (
    "INSERT INTO aggregates (kind, key, revision, state, due_us, rank, data, checked) "
    "VALUES (?, ?, 1, ?, ?, ?, ?, ?)"
)
_UPDATE = (
    "UPDATE aggregates SET revision = revision + 1, state = ?, due_us = ?, data = ?, "
    "checked = ? WHERE kind = ? AND key = ? AND revision = ?"
)
_UPDATE_ROW = (
    "UPDATE aggregates SET revision = revision + 1, state = ?, due_us = ?, data = ?, "
    "checked = ? WHERE id = ? AND revision = ?"
)
_UPDATE_SAME_DUE = (
    "UPDATE aggregates SET revision = revision + 1, state = ?, data = ?, checked = ? "
    "WHERE id = ? AND revision = ?"
)
_UNREAD = object()
"""A row whose ``due_us`` this transaction did not read."""
_UPDATE_ANY = (
    "UPDATE aggregates SET revision = revision + 1, state = ?, due_us = ?, data = ?, "
    "checked = ? WHERE kind = ? AND key = ?"
)
_INSERT_PARTY = "INSERT OR IGNORE INTO parties (party, kind, aggregate) VALUES (?, ?, ?)"
_COUNT = (
    "INSERT INTO counts (kind, added) VALUES (?, ?) "
    "ON CONFLICT (kind) DO UPDATE SET added = added + excluded.added"
)
_INSERT_EVENT = (
    "INSERT INTO events (kind, key, position, name, at, command_id, data) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


_new = tuple.__new__
"""Named tuples built on the hot path skip their generated (Python) ``__new__``."""


def _glimpse_sql(n: int) -> str:
    return (
        "SELECT p.party, a.id, a.key, a.revision, a.state, "
        "json_extract(a.data, '$.company'), json_extract(a.data, '$.type') "
        "FROM parties p JOIN aggregates a ON a.id = p.aggregate "
        f"WHERE p.kind = ? AND p.party IN ({','.join('?' * n)})"
    )


_GLIMPSE = [_glimpse_sql(n) for n in range(8)]
"""The glimpse's statement for 0 to 7 parties, made once (the same text finds the same
prepared statement in the connection's cache without being built again)."""

_CHECKABLE: dict[str, bool] = {}


def _checkable(kind: str) -> bool:
    """True when *kind*'s machine registered invariants (the ``checked`` column matters)."""
    known = _CHECKABLE.get(kind)
    if known is None:
        known = _CHECKABLE[kind] = has_invariants(SPECS[kind].model)
    return known


def _crc(data: str) -> int:
    return zlib.crc32(data.encode())


def _holds(kind: str, agg: Any) -> bool:
    """True when *agg*, coming from outside a command, holds its registered invariants."""
    return _checkable(kind) and not broken_invariants(agg)


def _columns(kind: str, agg: Any, *, verified: bool) -> tuple[str, int | None, str, int | None]:
    due = due_of(agg)
    data = _json(to_dict(agg))
    checked = _crc(data) if verified and _checkable(kind) else None
    return agg.state._value_, None if due is None else micros(due), data, checked


def _insert(conn: sqlite3.Connection, kind: str, key: str, agg: Any, *, verified: bool) -> int:
    state, due, data, checked = _columns(kind, agg, verified=verified)
    cursor = conn.execute(_INSERT_AGGREGATE, (kind, key, state, due, RANK[kind], data, checked))
    row_id = int(cursor.lastrowid or 0)
    conn.executemany(_INSERT_PARTY, [(p, kind, row_id) for p in parties(kind, agg)])
    conn.execute(_COUNT, (kind, 1))
    return row_id


def _insert_record(conn: sqlite3.Connection, kind: str, key: str, value: Any) -> None:
    party = value.account if kind == "past_due" else None
    conn.execute(
        "INSERT INTO records (kind, key, party, data) VALUES (?, ?, ?, ?)",
        (kind, key, party, _json(dump_record(kind, value))),
    )
    conn.execute(_COUNT, (kind, 1))


def _created_row(
    kind: str, key: str, agg: Any, command_id: str | None
) -> tuple[str, str, int, str, str, str | None, str]:
    snapshot = to_dict(agg)
    history = agg.history
    at = history[-1].at if history else _EPOCH
    return (kind, key, len(history), CREATED, at.isoformat(), command_id, _json(snapshot))


def _event(row: Sequence[Any]) -> StoredEvent:
    seq, kind, key, position, name, at, command_id, data = row
    body = json.loads(data)
    if name == CREATED:
        when = datetime.fromisoformat(at).astimezone(UTC)
        return StoredEvent(seq, kind, key, position, name, when, None, body, command_id)
    decision = load_decision(kind, body)
    return StoredEvent(seq, kind, key, position, name, decision.at, decision, None, command_id)


class SqliteTransaction:
    """One unit of work's reads on a :class:`SqliteStore`, and its commit."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.conn = store._conn
        self.open = True
        self.dues: dict[int, int | None] = {}
        """The stored ``due_us`` of each row read (by row id), in this transaction's
        snapshot: a write that leaves it unchanged does not touch the due index (ADR 0044)."""

    def load(self, kind: str, key: str) -> Loaded | None:
        """The aggregate *key* of *kind*, or ``None``."""
        row = self.conn.execute(
            "SELECT id, revision, data, checked, due_us FROM aggregates WHERE kind = ? AND key = ?",
            (kind, key),
        ).fetchone()
        if row is None:
            return None
        row_id, revision, data, checked, self.dues[row_id] = row
        aggregate = self.store._aggregate(kind, key, revision, data, checked)
        return _new(Loaded, (row_id, revision, aggregate))

    def load_related(
        self, kind: str, names: Sequence[str], state: str | None = None
    ) -> list[Loaded]:
        """Aggregates of *kind* that name any of *names* (in *state*), through the party index."""
        marks = ",".join("?" * len(names))
        only = "" if state is None else " AND a.state = ?"
        rows = self.conn.execute(
            "SELECT DISTINCT a.id, a.key, a.revision, a.data, a.checked, a.due_us FROM parties p "
            "JOIN aggregates a ON a.id = p.aggregate "
            f"WHERE p.kind = ? AND p.party IN ({marks}){only}",
            (kind, *names) if state is None else (kind, *names, state),
        ).fetchall()
        aggregate = self.store._aggregate
        dues = self.dues
        out = []
        for i, key, rev, data, checked, due in rows:
            dues[i] = due
            out.append(Loaded(i, rev, aggregate(kind, key, rev, data, checked)))
        return out

    def load_glancing(
        self, kind: str, key: str, glance: str, fields: Sequence[str]
    ) -> tuple[Loaded | None, list[tuple[str, Glimpse]]]:
        """The aggregate, then the glimpses of what its *fields* name."""
        return load_then_glance(self, kind, key, glance, fields)

    def glimpse(self, kind: str, names: Sequence[str]) -> list[tuple[str, Glimpse]]:
        """(party, glimpse) of the aggregates of *kind* naming any of *names*: the state
        column, and the company and type read from the stored text by SQLite (ADR 0029)."""
        n = len(names)
        sql = _GLIMPSE[n] if n < len(_GLIMPSE) else _glimpse_sql(n)
        rows = self.conn.execute(sql, (kind, *names)).fetchall()
        return [(row[0], _new(Glimpse, row[1:])) for row in rows]

    def count(self, kind: str) -> int:
        """How many aggregates or records of *kind* were ever added."""
        row = self.conn.execute("SELECT added FROM counts WHERE kind = ?", (kind,)).fetchone()
        return 0 if row is None else int(row[0])

    def exists(self, kind: str, key: str) -> bool:
        """True when *key* of *kind* exists."""
        table = "aggregates" if kind in RANK else "records"
        row = self.conn.execute(
            f"SELECT 1 FROM {table} WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return row is not None

    def record(self, kind: str, key: str) -> Any:
        """The record *key* of *kind*, or ``None``."""
        row = self.conn.execute(
            "SELECT data FROM records WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return None if row is None else load_record(kind, json.loads(row[0]))

    def records(self, kind: str, party: str) -> list[Any]:
        """The records of *kind* indexed by *party*, in the order they were added."""
        rows = self.conn.execute(
            "SELECT data FROM records WHERE kind = ? AND party = ? ORDER BY id", (kind, party)
        ).fetchall()
        return [load_record(kind, json.loads(data)) for (data,) in rows]

    def commit(self, batch: Batch) -> tuple[StoredEvent, ...]:
        """Write the batch and commit; on a lost race, roll back and raise."""
        conn = self.conn
        store = self.store
        cid = batch.command_id
        try:
            try:
                written = self._write(batch)
                events = _insert_events(conn, batch.events, cid)
                seqs = [e.seq for e in events]
                if cid is not None:
                    conn.execute(
                        "INSERT INTO commands (command_id, at, events) VALUES (?, ?, ?)",
                        (cid, _now_of(batch), f"[{','.join(map(str, seqs))}]"),
                    )
                conn.execute("COMMIT")
            except sqlite3.IntegrityError as err:
                conn.execute("ROLLBACK")
                if cid is not None and "commands.command_id" in str(err):
                    raise CommandSeen(cid) from None
                raise store._conflict(batch, err) from None
            except sqlite3.OperationalError as err:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if getattr(err, "sqlite_errorcode", None) in BUSY:
                    raise store._conflict(batch, err) from None
                raise
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            for (kind, key), (revision, agg, ok) in written.items():
                store._remember((kind, key), revision, agg, verified=ok)
            return events
        finally:
            self._end()

    def _write(self, batch: Batch) -> dict[tuple[str, str], tuple[int, Any, bool]]:
        conn = self.conn
        written: dict[tuple[str, str], tuple[int, Any, bool]] = {}
        verified = self.store._verified
        dues = self.dues
        for w in batch.writes:
            if w.expected == 0:  # new: its invariants are checked here, once
                ok = _holds(w.kind, w.aggregate)
                _insert(conn, w.kind, w.key, w.aggregate, verified=ok)
            else:  # loaded checked, changed by accepted transitions only (ADR 0028)
                ok = verified(w.kind, w.key, w.expected, w.aggregate)
                columns = _columns(w.kind, w.aggregate, verified=ok)
                if w.seq and dues.get(w.seq, _UNREAD) == columns[1]:
                    # its next due moment is the one stored: the due index stays as it is
                    state, _, data, checked = columns
                    cursor = conn.execute(
                        _UPDATE_SAME_DUE, (state, data, checked, w.seq, w.expected)
                    )
                elif w.seq:  # by its row id: no look in the (kind, key) index
                    cursor = conn.execute(_UPDATE_ROW, (*columns, w.seq, w.expected))
                else:
                    cursor = conn.execute(_UPDATE, (*columns, w.kind, w.key, w.expected))
                if cursor.rowcount != 1:
                    found = conn.execute(
                        "SELECT revision FROM aggregates WHERE kind = ? AND key = ?",
                        (w.kind, w.key),
                    ).fetchone()
                    raise ConcurrentModification(
                        w.kind, w.key, w.expected, None if found is None else found[0]
                    )
            written[w.kind, w.key] = (w.expected + 1, w.aggregate, ok)
        for r in batch.records:
            _insert_record(conn, r.kind, r.key, r.value)
        return written

    def rollback(self) -> None:
        """End the transaction without writing."""
        try:
            if self.open and self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        finally:
            self._end()

    def _end(self) -> None:
        if self.open:
            self.open = False
            self.store._lock.release()


def _now_of(batch: Batch) -> str:
    return iso(batch.events[-1].at) if batch.events else ""


_EVENT_ROW = "(?, ?, ?, ?, ?, ?, ?)"
_ROWS_AT_MOST = 100
"""Events one ``INSERT`` statement takes (7 parameters each, well under SQLite's limit)."""


def _insert_events(
    conn: sqlite3.Connection, events: Sequence[NewEvent], command_id: str | None
) -> tuple[StoredEvent, ...]:
    """Insert *events* (one statement for up to a hundred) and return them numbered.

    A new row's ``seq`` is one more than the largest in the table, and this transaction is
    the only writer: the rows of one statement are numbered in order, the last being the
    cursor's ``lastrowid``.
    """
    if len(events) == 1:  # most commands: one decision, one row, no list to build
        kind, key, position, at, d, snapshot = events[0]
        if d is None:
            name, data = CREATED, _json(snapshot)
        else:
            name, data = d.event, _json(dump_decision(d))
        row = (kind, key, position, name, iso(at), command_id, data)
        seq = int(conn.execute(_INSERT_EVENT, row).lastrowid or 0)
        return (StoredEvent(seq, kind, key, position, name, at, d, snapshot, command_id),)
    out: list[StoredEvent] = []
    for start in range(0, len(events), _ROWS_AT_MOST):
        chunk = events[start : start + _ROWS_AT_MOST]
        params: list[Any] = []
        names = []
        for kind, key, position, at, d, snapshot in chunk:
            if d is None:
                name, data = CREATED, _json(snapshot)
            else:
                name, data = d.event, _json(dump_decision(d))
            names.append(name)
            params += (kind, key, position, name, iso(at), command_id, data)
        sql = _INSERT_EVENT if len(chunk) == 1 else _insert_many(len(chunk))
        seq = int(conn.execute(sql, params).lastrowid or 0) - len(chunk)
        for (kind, key, position, at, d, snapshot), name in zip(chunk, names, strict=True):
            seq += 1
            out.append(StoredEvent(seq, kind, key, position, name, at, d, snapshot, command_id))
    return tuple(out)


def _insert_many(n: int) -> str:
    return _INSERT_EVENT + (", " + _EVENT_ROW) * (n - 1)
