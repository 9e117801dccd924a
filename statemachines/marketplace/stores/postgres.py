"""The PostgreSQL store: one database shared by many processes on many machines.

Opened on a URL (``postgresql://user@host:5432/market``), it connects with psycopg 3
and applies the migrations it lacks (``stores/migrations/postgresql/``, the same
numbers as SQLite's), under an advisory lock so that processes starting together
migrate once. The tables are SQLite's; ADR 0080 says where they differ.

A unit of work is one ``SERIALIZABLE`` transaction: every command that commits was
decided on facts no other committed command changed, including facts it only read
(no write skew), as on SQLite. The server reports a lost race as a serialization
failure, a deadlock, or a write whose revision moved (``UPDATE ... SET revision =
CASE WHEN revision = :read THEN revision + 1 END``: NULL, refused by the column);
the store turns each into
:class:`~statemachines.marketplace.errors.ConcurrentModification` and writes nothing.

Round trips (ADR 0081): the transaction's ``BEGIN`` travels with its first read;
each read is one query (an aggregate by key; the aggregates naming some parties);
the commit sends every write, the events, the command's outcome and ``COMMIT`` in
one pipeline. An aggregate already in the identity map at the revision stored is
not sent again (the read asks for its snapshot only if the revision moved).

Deadline workers (:mod:`statemachines.marketplace.worker`) claim due aggregates with
``SELECT ... FOR UPDATE SKIP LOCKED`` inside the transaction that fires them
(:meth:`PostgresTransaction.claim`).

The outbox is read only below the oldest running transaction (ADR 0080): a consumer
reading after its cursor never skips an event that commits later.

>>> PostgresStore("postgresql://nobody@127.0.0.1:9/market?connect_timeout=2")
Traceback (most recent call last):
...
statemachines.marketplace.stores.postgres.ConnectionLost: cannot connect to PostgreSQL at ...
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import psycopg
from psycopg.pq import TransactionStatus

from statemachines.core.snapshots import from_dict
from statemachines.errors import StatemachinesError
from statemachines.marketplace.errors import ConcurrentModification
from statemachines.marketplace.events import NewEvent, Outcome, StoredEvent, dump_error, load_error
from statemachines.marketplace.model import (
    RANK,
    due_of,
    dump_record,
    from_micros,
    load_record,
    micros,
    parties,
)
from statemachines.marketplace.stores import schema
from statemachines.marketplace.stores.base import Batch, CommandSeen, Due, Loaded
from statemachines.marketplace.stores.pgsql import (
    CLAIM,
    EVENT_COLUMNS,
    HORIZON,
    INSERT_COMMAND,
    LOAD,
    UPDATE,
    UPDATE_ANY,
    columns,
    created,
    event,
    insert,
    insert_events,
    insert_record,
    json_text,
    sequence,
    stored,
)

__all__ = ["ConnectionLost", "PostgresStore", "PostgresTransaction"]

MIGRATING = 0x5EA7_0001
"""The advisory lock a process holds while it migrates (one migrates; the others wait)."""

CONFLICTS = frozenset({"40001", "40P01"})
"""Serialization failure and deadlock: another transaction got there first."""

DUE_CHANNEL = "statemachines_due"
"""The channel a commit notifies when it sets a deadline due soon (workers LISTEN on it)."""


class ConnectionLost(StatemachinesError):
    """The connection to PostgreSQL broke (a restart, a network failure).

    Whether a command that was committing when it broke committed is unknown: send it
    again with the same ``command_id`` (it runs once). The store connects again on
    its next use.
    """


@contextlib.contextmanager
def _pipeline(conn: psycopg.Connection[Any]) -> Iterator[None]:
    """``conn.pipeline()`` that raises the statement's own error when one fails.

    psycopg may report a failed statement while the block still runs; leaving the block
    then fails again ("pipeline aborted"). The first error is the one that says why.
    """
    failed: psycopg.Error | None = None
    try:
        with conn.pipeline():
            try:
                yield
            except psycopg.Error as err:
                failed = err
    except psycopg.Error as err:
        raise failed or err from None
    if failed is not None:  # pragma: no cover  (the pipeline's end reports it too)
        raise failed


class _Pending(NamedTuple):
    """A due deadline claimed by a worker's transaction, with its row."""

    due: Due
    loaded: Loaded


class PostgresStore:
    """A marketplace in a PostgreSQL database (see the module's documentation)."""

    def __init__(
        self,
        url: str,
        *,
        cache: int = 20_000,
        connect_timeout: int = 10,
        prepare_threshold: int | None = None,
    ) -> None:
        self.url = url
        self.cache_size = cache
        self.connect_timeout = connect_timeout
        self.prepare_threshold = prepare_threshold
        """psycopg prepares a statement run this many times; by default never (ADR 0081:
        no gain measured here; works behind any PgBouncer in transaction mode; and psycopg
        3.3 may think a statement prepared whose ``Parse`` an aborted pipeline skipped)."""
        self._cache: dict[tuple[str, str], tuple[int, Any]] = {}
        self._lock = threading.RLock()
        self.notify_within = timedelta(seconds=1)
        """A commit that sets a deadline due this soon after its moment notifies the
        workers (``NOTIFY statemachines_due``), which otherwise sleep up to their *poll*
        (one second by default) before looking again."""
        self.on_write: Callable[[str], None] | None = None
        """Called after the writes of a commit reached the server, before ``COMMIT``, once
        per statement (for crash tests; the commit then takes two round trips)."""
        self._conn: psycopg.Connection[Any] | None = None
        conn = self.connection()
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATING,))
            try:
                schema.apply(conn, "postgresql", placeholder="%s")
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATING,))
        except BaseException:
            conn.close()
            raise

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r})"

    def connection(self) -> psycopg.Connection[Any]:
        """The store's connection (in autocommit mode), opened again if it broke."""
        conn = self._conn
        if conn is None or conn.closed or conn.broken:
            if conn is not None:
                conn.close()
            try:
                conn = psycopg.connect(
                    self.url,
                    autocommit=True,
                    connect_timeout=self.connect_timeout,
                    prepare_threshold=self.prepare_threshold,
                )
            except psycopg.OperationalError as err:
                msg = f"cannot connect to PostgreSQL at {self.url}: {err}".strip()
                raise ConnectionLost(msg) from None
            self._conn = conn
        return conn

    def _lost(self, err: psycopg.Error) -> Exception:
        """*err* as a :class:`ConnectionLost` if the connection broke, else *err*."""
        conn = self._conn
        if conn is None or not (conn.broken or conn.closed):
            return err
        lost = ConnectionLost(
            "the connection to PostgreSQL broke; if a command was committing, send it "
            f"again with the same command_id ({str(err).strip()})"
        )
        lost.__cause__ = err
        return lost

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """One statement in autocommit mode: its rows (empty for a write)."""
        with self._lock:
            try:
                cur = self.connection().execute(sql, params)
                return cur.fetchall() if cur.description is not None else []
            except psycopg.Error as err:
                raise self._lost(err) from None

    def schema_versions(self) -> list[int]:
        """The migrations applied to this database, in order."""
        return [v for (v,) in self._run("SELECT version FROM schema_migrations ORDER BY version")]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()

    # ------------------------------------------------------------------ identity map

    def _cached(self, kind: str, key: str) -> int:
        cached = self._cache.get((kind, key))
        return -1 if cached is None else cached[0]

    def _aggregate(self, kind: str, key: str, revision: int, data: Any) -> Any:
        k = (kind, key)
        cached = self._cache.get(k)
        if cached is not None and cached[0] == revision:
            return cached[1]
        if data is None:  # pragma: no cover  (asked for the cached revision, which moved since)
            data = self._run(
                "SELECT data FROM aggregates WHERE kind = %s AND key = %s", (kind, key)
            )[0][0]
        agg = from_dict(data)
        self._remember(k, revision, agg)
        return agg

    def _remember(self, k: tuple[str, str], revision: int, agg: Any) -> None:
        cache = self._cache
        cache.pop(k, None)
        cache[k] = (revision, agg)
        if len(cache) > self.cache_size:
            del cache[next(iter(cache))]

    # ------------------------------------------------------------------ units of work

    def begin(self) -> PostgresTransaction:
        """Start a unit of work's transaction (its ``BEGIN`` goes with its first read)."""
        self._lock.acquire()
        try:
            conn = self.connection()
            if conn.info.transaction_status != TransactionStatus.IDLE:  # pragma: no cover
                conn.execute("ROLLBACK")
        except BaseException:
            self._lock.release()
            raise
        return PostgresTransaction(self, conn)

    def _which(self, reads: Sequence[tuple[str, str, int]]) -> tuple[str, str, int, int] | None:
        """The first of *reads* (kind, key, revision) whose stored revision moved."""
        if not reads:
            return None
        rows = self._run(
            "SELECT r.n, a.revision FROM unnest(%s::text[], %s::text[]) "
            "WITH ORDINALITY AS r(kind, key, n) "
            "LEFT JOIN aggregates a ON a.kind = r.kind AND a.key = r.key ORDER BY r.n",
            ([k for k, _, _ in reads], [k for _, k, _ in reads]),
        )
        for n, found in rows:
            kind, key, revision = reads[n - 1]
            if found != revision:
                return kind, key, revision, found
        return None

    def _conflict(
        self, reads: Sequence[tuple[str, str, int]], fallback: tuple[str, str], err: Exception
    ) -> ConcurrentModification:
        """Which aggregate another commit changed while this unit of work read it."""
        moved = self._which(reads)
        if moved is not None:
            conflict = ConcurrentModification(*moved)
        else:
            kind, key, revision = reads[0] if reads else (*fallback, 0)
            conflict = ConcurrentModification(kind, key, revision, revision)
        conflict.__cause__ = err
        return conflict

    # ------------------------------------------------------------------ deadlines

    def next_due(self, limit: datetime) -> Due | None:
        """The first deadline due at or before *limit* that no worker is firing now."""
        rows = self._run(
            "SELECT kind, key, due_us, revision FROM aggregates "
            "WHERE due_us IS NOT NULL AND due_us <= %s ORDER BY due_us, rank, key LIMIT 1 "
            "FOR UPDATE SKIP LOCKED",
            (micros(limit),),
        )
        if not rows:
            return None
        kind, key, due, revision = rows[0]
        return Due(kind, key, from_micros(due), revision)

    def first_due(self) -> datetime | None:
        """When the first deadline falls due (parked ones aside), due or not."""
        rows = self._run(
            "SELECT due_us FROM aggregates WHERE due_us IS NOT NULL "
            "ORDER BY due_us, rank, key LIMIT 1"
        )
        return from_micros(rows[0][0]) if rows else None

    def park(self, due: Due, error: str, at: datetime) -> None:
        """Record the failed deadline and take it off the due index until its aggregate
        changes; nothing is recorded if the aggregate moved on since (another process
        fired or changed it, so this failure is out of date)."""
        self._run(
            "WITH parked AS (UPDATE aggregates SET due_us = NULL "
            "WHERE kind = %s AND key = %s AND revision = %s AND due_us = %s RETURNING kind) "
            "INSERT INTO stuck (kind, key, due_us, revision, error, at) "
            "SELECT %s, %s, %s, %s, %s, %s FROM parked",
            (
                due.kind,
                due.key,
                due.revision,
                micros(due.due),
                *(due.kind, due.key, micros(due.due), due.revision, error, at),
            ),
        )

    @property
    def stuck(self) -> list[tuple[str, str, str]]:
        """Deadlines that failed: (kind, key, error), oldest first."""
        rows = self._run("SELECT kind, key, error FROM stuck ORDER BY id")
        return [(kind, key, error) for kind, key, error in rows]

    def lag(self, now: datetime) -> dict[str, Any]:
        """What a dashboard watches: deadlines due by *now* and not fired (how many, the
        oldest), parked ones, and the newest event seq a consumer can read."""
        (due, oldest, parked, horizon) = self._run(
            "SELECT (SELECT count(*) FROM aggregates WHERE due_us IS NOT NULL AND due_us <= %s),"
            " (SELECT min(due_us) FROM aggregates WHERE due_us IS NOT NULL),"
            " (SELECT count(*) FROM stuck),"
            f" ({HORIZON})",
            (micros(now),),
        )[0]
        return {
            "due": due,
            "oldest_due": None if not due else from_micros(oldest),
            "stuck": parked,
            "readable_below": horizon,
        }

    # ------------------------------------------------------------------ commands, events

    def outcome(self, command_id: str) -> Outcome | None:
        """The stored outcome of *command_id*, or ``None`` (one query)."""
        rows = self._run(
            f"SELECT c.error, {EVENT_COLUMNS} FROM commands c "
            "LEFT JOIN events e ON e.seq = ANY(c.events) WHERE c.command_id = %s ORDER BY e.seq",
            (command_id,),
        )
        if not rows:
            return None
        error = rows[0][0]
        events = tuple(event(row[1:]) for row in rows if row[1] is not None)
        return Outcome(
            events,
            None if error is None else load_error(error),
            command_id=command_id,
            repeated=True,
        )

    def save_refusal(self, command_id: str, error: StatemachinesError, at: datetime) -> None:
        """Remember that *command_id* was refused with *error* (its own transaction)."""
        self._run(
            "INSERT INTO commands (command_id, at, error) VALUES (%s, %s, %s::jsonb) "
            "ON CONFLICT (command_id) DO NOTHING",
            (command_id, at, json_text(dump_error(error))),
        )

    def events_after(
        self, cursor: int, limit: int | None = None, *, wait: float = 2.0
    ) -> list[StoredEvent]:
        """Events numbered above *cursor*, in order (at most *limit*).

        Only events below the oldest running transaction are final (one that commits
        later may have a smaller number): if a committed event lies above it, this
        waits up to *wait* seconds for the transactions before it to end, so a reader
        sees at least every event committed before it asked. After *wait*, it returns
        what is final (the rest comes with the next read).
        """
        deadline = time.monotonic() + wait
        pause = 0.001
        while True:
            rows = self._run(
                f"SELECT ({HORIZON}), {EVENT_COLUMNS} FROM events e "
                "WHERE e.seq > %s ORDER BY e.seq LIMIT %s",
                (cursor, limit),
            )
            horizon = rows[0][0] if rows else 0
            final = [event(row[1:]) for row in rows if row[1] < horizon]
            if len(final) == len(rows) or time.monotonic() >= deadline:
                return final
            time.sleep(pause)
            pause = min(pause * 2, 0.05)

    def history(self, kind: str, key: str) -> list[StoredEvent]:
        """The events of one aggregate: its ``created`` snapshot, then its decisions.

        A scan of the outbox (it has no index by aggregate, migration 0002): for audits.
        """
        rows = self._run(
            f"SELECT {EVENT_COLUMNS} FROM events e WHERE e.kind = %s AND e.key = %s "
            "ORDER BY e.position, e.seq",
            (kind, key),
        )
        return [event(r) for r in rows]

    # ------------------------------------------------------------------ consumers

    def cursor(self, consumer: str) -> int:
        """Where *consumer* has read the outbox up to (0 before its first ``save_cursor``)."""
        rows = self._run("SELECT position FROM consumers WHERE name = %s", (consumer,))
        return int(rows[0][0]) if rows else 0

    def save_cursor(self, consumer: str, seq: int, at: datetime) -> None:
        """Move *consumer*'s cursor to *seq* (never backwards)."""
        self._run(
            "INSERT INTO consumers (name, position, at) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET position = excluded.position, at = excluded.at "
            "WHERE consumers.position < excluded.position",
            (consumer, seq, at),
        )

    def consumers(self) -> dict[str, int]:
        """Every consumer's cursor."""
        return {name: int(p) for name, p in self._run("SELECT name, position FROM consumers")}

    # ------------------------------------------------------------------ direct access

    def values(self, kind: str) -> list[Any]:
        """Every aggregate or record of *kind*, in the order they were added (a scan)."""
        if kind in RANK:
            rows = self._run(
                "SELECT key, revision, data FROM aggregates WHERE kind = %s ORDER BY id", (kind,)
            )
            with self._lock:
                return [self._aggregate(kind, *row) for row in rows]
        rows = self._run("SELECT data FROM records WHERE kind = %s ORDER BY id", (kind,))
        return [load_record(kind, data) for (data,) in rows]

    def get(self, kind: str, key: str) -> Any:
        """The aggregate or record *key* of *kind*; raises ``KeyError``."""
        if kind in RANK:
            with self._lock:
                rows = self._run(LOAD, (self._cached(kind, key), kind, key))
                if not rows:
                    msg = f"no {kind} {key!r}"
                    raise KeyError(msg)
                _, revision, data = rows[0]
                return self._aggregate(kind, key, revision, data)
        rows = self._run("SELECT data FROM records WHERE kind = %s AND key = %s", (kind, key))
        if not rows:
            msg = f"no {kind} {key!r}"
            raise KeyError(msg)
        return load_record(kind, rows[0][0])

    def revision(self, kind: str, key: str) -> int:
        """The aggregate's revision (0 when there is none)."""
        rows = self._run(
            "SELECT revision FROM aggregates WHERE kind = %s AND key = %s", (kind, key)
        )
        return int(rows[0][0]) if rows else 0

    def put(self, kind: str, key: str, value: Any) -> None:
        """Import *value* outside any command (loading a world); replaces what was there.

        A new aggregate gets its ``created`` event; *value* is the object the store's
        identity map keeps for it.
        """
        with self._lock:
            conn = self.connection()
            revision = 0
            try:
                with conn.transaction():
                    if kind in RANK:
                        row = conn.execute(
                            "SELECT revision FROM aggregates WHERE kind = %s AND key = %s "
                            "FOR UPDATE",
                            (kind, key),
                        ).fetchone()
                        if row is None:
                            conn.execute(*insert(kind, key, value))
                            events = (NewEvent(kind, key, *created(value)),)
                            conn.execute(*insert_events(events, None))
                            revision = 1
                        else:
                            conn.execute(UPDATE_ANY, (*columns(value), kind, key))
                            revision = row[0] + 1
                    else:
                        data = json_text(dump_record(kind, value))
                        replaced = conn.execute(
                            "UPDATE records SET data = %s::jsonb WHERE kind = %s AND key = %s",
                            (data, kind, key),
                        ).rowcount
                        if not replaced:
                            conn.execute(*insert_record(kind, key, value))
            except psycopg.Error as err:
                raise self._lost(err) from None
            if revision:
                self._remember((kind, key), revision, value)

    def bulk_load(self, items: Iterable[tuple[str, Any]], *, chunk: int = 50_000) -> int:
        """Import many aggregates at once, (kind, aggregate) pairs, with ``COPY`` in
        transactions of *chunk*: for benchmarks and imports. No events are recorded.
        Returns the count."""
        count = 0
        with self._lock:
            conn = self.connection()
            batch: list[tuple[str, Any]] = []
            for item in items:
                batch.append(item)
                if len(batch) >= chunk:
                    count += self._load_chunk(conn, batch)
                    batch = []
            count += self._load_chunk(conn, batch)
        return count

    def _load_chunk(self, conn: psycopg.Connection[Any], batch: list[tuple[str, Any]]) -> int:
        if not batch:
            return 0
        with conn.transaction():
            conn.execute("LOCK TABLE aggregates IN EXCLUSIVE MODE")
            start = conn.execute("SELECT coalesce(max(id), 0) FROM aggregates").fetchone()
            first = int(start[0]) + 1 if start else 1
            added: dict[str, int] = {}
            cur = conn.cursor()
            with cur.copy(
                "COPY aggregates (id, kind, key, revision, state, due_us, rank, data) FROM STDIN"
            ) as copy:
                for n, (kind, agg) in enumerate(batch, start=first):
                    state, due, data = columns(agg)
                    copy.write_row((n, kind, agg.id, 1, state, due, RANK[kind], data))
                    added[kind] = added.get(kind, 0) + 1
            with cur.copy("COPY parties (party, kind, aggregate) FROM STDIN") as copy:
                for n, (kind, agg) in enumerate(batch, start=first):
                    for party in parties(kind, agg):
                        copy.write_row((party, kind, n))
            conn.execute(
                "SELECT setval(pg_get_serialsequence('aggregates', 'id'), %s)",
                (first + len(batch) - 1,),
            )
            for kind, n in added.items():
                conn.execute(
                    "SELECT setval(%s::regclass, coalesce(pg_sequence_last_value(%s::regclass), 0)"
                    " + %s)",
                    (sequence(kind), sequence(kind), n),
                )
        return len(batch)


class PostgresTransaction:
    """One unit of work's reads on a :class:`PostgresStore`, and its commit."""

    def __init__(self, store: PostgresStore, conn: psycopg.Connection[Any]) -> None:
        self.store = store
        self.conn = conn
        self.open = True
        self.begun = False
        self.read: list[tuple[str, str, int]] = []
        """(kind, key, revision) of what was loaded: names the aggregate in a conflict."""
        self._claimed: _Pending | None = None

    # ------------------------------------------------------------------ reading

    def _rows(self, sql: str, params: Sequence[Any], what: tuple[str, str]) -> list[Any]:
        conn = self.conn
        try:
            if self.begun:
                return conn.execute(sql, params).fetchall()
            self.begun = True
            with _pipeline(conn):  # BEGIN and the first read: one round trip
                conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
                cur = conn.execute(sql, params)
            return cur.fetchall()
        except psycopg.Error as err:
            if conn.broken:
                raise self.store._lost(err) from None
            if err.sqlstate in CONFLICTS:
                conn.execute("ROLLBACK")
                raise self.store._conflict(self.read, what, err) from None
            raise

    def claim(self, limit: datetime) -> Due | None:
        """Take the first deadline due by *limit* that no other transaction holds, and hold
        it (``FOR UPDATE SKIP LOCKED``) until this transaction ends: a worker's first read."""
        rows = self._rows(CLAIM, (micros(limit),), ("aggregate", "-"))
        if not rows:
            return None
        row_id, kind, key, revision, due_us, data = rows[0]
        agg = self.store._aggregate(kind, key, revision, data)
        due = Due(kind, key, from_micros(due_us), revision)
        self._claimed = _Pending(due, Loaded(row_id, revision, agg))
        return due

    def load(self, kind: str, key: str) -> Loaded | None:
        """The aggregate *key* of *kind*, or ``None``."""
        claimed = self._claimed
        if claimed is not None and (claimed.due.kind, claimed.due.key) == (kind, key):
            self.read.append((kind, key, claimed.loaded.revision))
            return claimed.loaded
        store = self.store
        rows = self._rows(LOAD, (store._cached(kind, key), kind, key), (kind, key))
        if not rows:
            return None
        row_id, revision, data = rows[0]
        self.read.append((kind, key, revision))
        return Loaded(row_id, revision, store._aggregate(kind, key, revision, data))

    def load_related(
        self, kind: str, names: Sequence[str], state: str | None = None
    ) -> list[Loaded]:
        """Aggregates of *kind* that name any of *names* (in *state*), through the party index."""
        only = "" if state is None else " AND a.state = %s"
        rows = self._rows(
            "SELECT a.id, a.key, a.revision, a.data FROM aggregates a WHERE a.id IN "
            "(SELECT p.aggregate FROM parties p WHERE p.kind = %s AND p.party = ANY(%s))"
            f"{only} ORDER BY a.id",
            (kind, list(names)) if state is None else (kind, list(names), state),
            (kind, names[0] if names else "-"),
        )
        aggregate = self.store._aggregate
        found = []
        for row_id, key, revision, data in rows:
            self.read.append((kind, key, revision))
            found.append(Loaded(row_id, revision, aggregate(kind, key, revision, data)))
        return found

    def count(self, kind: str) -> int:
        """How many aggregates or records of *kind* were ever added (or more: a number a
        transaction that rolled back took is not given again)."""
        rows = self._rows(
            "SELECT coalesce(pg_sequence_last_value(%s::regclass), 0)",
            (sequence(kind),),
            (kind, "-"),
        )
        return int(rows[0][0])

    def exists(self, kind: str, key: str) -> bool:
        """True when *key* of *kind* exists."""
        table = "aggregates" if kind in RANK else "records"
        rows = self._rows(
            f"SELECT 1 FROM {table} WHERE kind = %s AND key = %s", (kind, key), (kind, key)
        )
        return bool(rows)

    def record(self, kind: str, key: str) -> Any:
        """The record *key* of *kind*, or ``None``."""
        rows = self._rows(
            "SELECT data FROM records WHERE kind = %s AND key = %s", (kind, key), (kind, key)
        )
        return load_record(kind, rows[0][0]) if rows else None

    def records(self, kind: str, party: str) -> list[Any]:
        """The records of *kind* indexed by *party*, in the order they were added."""
        rows = self._rows(
            "SELECT data FROM records WHERE kind = %s AND party = %s ORDER BY id",
            (kind, party),
            (kind, party),
        )
        return [load_record(kind, data) for (data,) in rows]

    # ------------------------------------------------------------------ writing

    def commit(self, batch: Batch) -> tuple[StoredEvent, ...]:
        """Write the batch and commit, in one pipeline; on a lost race, raise and write
        nothing."""
        conn = self.conn
        store = self.store
        fallback = (batch.writes[0].kind, batch.writes[0].key) if batch.writes else ("-", "-")
        try:
            try:
                seqs = self._send(self._statements(batch))
            except psycopg.Error as err:
                if conn.broken:
                    raise store._lost(err) from None
                self._abandon()
                raise self._failed(err, batch, fallback) from None
            except BaseException:
                self._abandon()
                raise
            for w in batch.writes:
                store._remember((w.kind, w.key), w.expected + 1, w.aggregate)
        finally:
            self._end()
        cid = batch.command_id
        return tuple(stored(e, seq, cid) for e, seq in zip(batch.events, seqs, strict=True))

    def _send(self, statements: list[tuple[str, str, tuple[Any, ...]]]) -> list[int]:
        """Run *statements* and ``COMMIT`` in one pipeline; the events' seqs, in order."""
        conn = self.conn
        hook = self.store.on_write
        events = None
        with _pipeline(conn):
            if not self.begun:
                conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
            for what, sql, params in statements:
                cur = conn.execute(sql, params)
                if what == "event":
                    events = cur
            if hook is None:
                conn.execute("COMMIT")
        if hook is not None:  # the writes reached the server: now a crash test may strike
            for what, _, _ in statements:
                hook(what)
            conn.execute("COMMIT")
        return sorted(row[0] for row in events.fetchall()) if events is not None else []

    def _abandon(self) -> None:
        """Roll back what is left of a failed transaction (nothing, if the server ended it)."""
        conn = self.conn
        if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")

    def _failed(self, err: psycopg.Error, batch: Batch, fallback: tuple[str, str]) -> Exception:
        state = err.sqlstate
        diag = err.diag
        if state == "23505" and diag.constraint_name == "commands_pkey" and batch.command_id:
            return CommandSeen(batch.command_id)
        revision_moved = state == "23502" and diag.column_name == "revision"
        if state in CONFLICTS or state == "23505" or revision_moved:
            reads = batch.reads or tuple(self.read)
            return self.store._conflict(reads, fallback, err)
        return err

    def _statements(self, batch: Batch) -> list[tuple[str, str, tuple[Any, ...]]]:
        out: list[tuple[str, str, tuple[Any, ...]]] = []
        soon = False
        now = batch.events[-1].at if batch.events else None
        horizon = None if now is None else now + self.store.notify_within
        for w in batch.writes:
            if w.expected == 0:
                out.append(("insert", *insert(w.kind, w.key, w.aggregate)))
            else:
                state, due, data = columns(w.aggregate)
                out.append(("update", UPDATE, (w.expected, state, due, data, w.kind, w.key)))
            due_at = due_of(w.aggregate)
            soon = soon or (due_at is not None and horizon is not None and due_at <= horizon)
        out.extend(("record", *insert_record(r.kind, r.key, r.value)) for r in batch.records)
        if batch.events:
            out.append(("event", *insert_events(batch.events, batch.command_id)))
        if batch.command_id is not None:
            out.append(("command", INSERT_COMMAND, (batch.command_id, now, len(batch.events))))
        if soon:  # wake the workers: a deadline falls due before they would look
            out.append(("notify", "SELECT pg_notify(%s, '')", (DUE_CHANNEL,)))
        return out

    def rollback(self) -> None:
        """End the transaction without writing."""
        conn = self.conn
        try:
            if self.open:
                self._abandon()
        except psycopg.Error:
            if not conn.broken:
                raise  # pragma: no cover
            # the server ended the transaction with the connection
        finally:
            self._end()

    def _end(self) -> None:
        if self.open:
            self.open = False
            self.store._lock.release()
