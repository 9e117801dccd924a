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

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.pq import TransactionStatus

from statemachines.core.snapshots import from_dict
from statemachines.errors import InvalidInput, StatemachinesError
from statemachines.marketplace.errors import ConcurrentModification
from statemachines.marketplace.events import NewEvent, Outcome, StoredEvent, dump_error
from statemachines.marketplace.model import (
    RANK,
    dump_record,
    from_micros,
    load_record,
    micros,
    parties,
)
from statemachines.marketplace.stores import schema
from statemachines.marketplace.stores.base import Check, Due
from statemachines.marketplace.stores.pgsql import (
    CHECK,
    EVENT_COLUMNS,
    FIRST_DUE,
    HORIZON,
    LOAD,
    UPDATE_ANY,
    columns,
    created,
    event,
    insert,
    insert_events,
    insert_record,
    json_text,
    outcome_of,
    sequence,
)
from statemachines.marketplace.stores.pgtransaction import (
    DUE_CHANNEL,
    PostgresTransaction,
    pipeline,
    rollback,
)

__all__ = ["DUE_CHANNEL", "ConnectionLost", "PostgresStore", "PostgresTransaction"]

MIGRATING = 0x5EA7_0001
"""The advisory lock a process holds while it migrates (one migrates; the others wait)."""


def _prepare_in(url: str, default: int | None) -> tuple[str, int | None]:
    """*url* without its ``prepare_threshold`` parameter (the store's, not libpq's), and
    that threshold (``none``: prepare nothing), or *default* when it has none."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    given = [v for k, v in query if k == "prepare_threshold"]
    if not given:
        return url, default
    rest = urlencode([(k, v) for k, v in query if k != "prepare_threshold"], quote_via=quote)
    value = given[-1].strip().lower()
    try:
        threshold = None if value in ("none", "off", "") else int(value)
    except ValueError:
        msg = f"prepare_threshold={given[-1]!r} in {url}: give a whole number or none"
        raise InvalidInput(msg) from None
    return urlunsplit(parts._replace(query=rest)), threshold


class ConnectionLost(StatemachinesError):
    """The connection to PostgreSQL broke (a restart, a network failure).

    Whether a command that was committing when it broke committed is unknown: send it
    again with the same ``command_id`` (it runs once). The store connects again on
    its next use.
    """


class PostgresStore:
    """A marketplace in a PostgreSQL database (see the module's documentation)."""

    def __init__(
        self,
        url: str,
        *,
        cache: int = 20_000,
        connect_timeout: int = 10,
        prepare_threshold: int | None = 0,
    ) -> None:
        self.url = url
        self.cache_size = cache
        self.connect_timeout = connect_timeout
        self._conninfo, prepare_threshold = _prepare_in(url, prepare_threshold)
        self.prepare_threshold = prepare_threshold
        """psycopg prepares a statement it has sent this many times before (ADR 0083: a
        third less server CPU per command here). 0, the default, prepares each statement
        the first time, which psycopg 3.3 checks (a later preparation riding in a pipeline
        that fails before it is not checked, and leaves psycopg believing in a statement
        the server never made). ``None`` prepares none: behind a PgBouncer older than 1.21
        in transaction mode."""
        self._cache: OrderedDict[tuple[str, str], tuple[int, Any]] = OrderedDict()
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
        except psycopg.Error as err:
            broken = conn.broken or conn.closed
            conn.close()
            if not broken:
                raise
            msg = f"the connection to PostgreSQL at {self.url} broke while the store opened: {err}"
            raise ConnectionLost(msg.strip()) from err
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
                    self._conninfo,
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
                conn = self.connection()
                with pipeline(conn):  # a statement prepared now costs no extra wait
                    cur = conn.execute(sql, params)
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
            cache.popitem(last=False)  # the oldest: O(1), where a dict's first key is not

    # ------------------------------------------------------------------ units of work

    def begin(self, check: Check | None = None) -> PostgresTransaction:
        """Start a unit of work's transaction (its ``BEGIN``, and *check*, go with its
        first read: ADR 0030)."""
        self._lock.acquire()
        try:
            conn = self.connection()
            if conn.info.transaction_status != TransactionStatus.IDLE:  # pragma: no cover
                rollback(conn)
        except BaseException:
            self._lock.release()
            raise
        return PostgresTransaction(self, conn, check)

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
        rows = self._run(FIRST_DUE)
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
            f" ({FIRST_DUE}),"
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
        return outcome_of(self._run(CHECK, (command_id,)), command_id)

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
                "SELECT setval(pg_get_serial_sequence('aggregates', 'id'), %s)",
                (first + len(batch) - 1,),
            )
            for kind, n in added.items():
                conn.execute(
                    "SELECT setval(%s::regclass, coalesce(pg_sequence_last_value(%s::regclass), 0)"
                    " + %s)",
                    (sequence(kind), sequence(kind), n),
                )
        return len(batch)
