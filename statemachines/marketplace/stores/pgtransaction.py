"""A unit of work's transaction on PostgreSQL: its reads, and its commit in one pipeline.

Split from :mod:`statemachines.marketplace.stores.postgres` (the store), whose
documentation says how a transaction runs and how many round trips it costs (ADR 0081).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import psycopg
from psycopg import pq
from psycopg.pq import TransactionStatus

from statemachines.marketplace.events import StoredEvent
from statemachines.marketplace.model import RANK, due_of, from_micros, load_record, micros
from statemachines.marketplace.stores.base import (
    Batch,
    Check,
    CommandSeen,
    Due,
    Glimpse,
    Loaded,
    Preempted,
)
from statemachines.marketplace.stores.pgsql import (
    CHECK,
    CLAIM,
    INSERT_COMMAND,
    JOINED,
    LOAD,
    UPDATE,
    UPDATE_CLAIMED,
    any_of,
    columns,
    insert,
    insert_events,
    insert_record,
    joint,
    load_glancing_sql,
    outcome_of,
    sequence,
    stored,
    values,
)

if TYPE_CHECKING:
    from statemachines.marketplace.stores.postgres import PostgresStore

__all__ = ["CONFLICTS", "PostgresTransaction", "pipeline", "rollback"]

DUE_CHANNEL = "statemachines_due"
"""The channel a commit notifies when it sets a deadline due soon (workers LISTEN on it)."""

CONFLICTS = frozenset({"40001", "40P01"})
"""Serialization failure and deadlock: another transaction got there first."""


def rollback(conn: psycopg.Connection[Any]) -> None:
    """``ROLLBACK`` sent through libpq rather than psycopg's ``execute`` (ADR 0083).

    psycopg forgets every statement it prepared when it sees a rollback and sends
    ``DEALLOCATE ALL`` (a round trip), lest a rolled-back schema change leave a plan
    pointing nowhere; the server keeps prepared statements across a rollback, and no
    transaction of the store changes the schema, so they stay prepared.
    """
    result = conn.pgconn.exec_(b"ROLLBACK")
    if result.status != pq.ExecStatus.COMMAND_OK:
        raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)


@contextlib.contextmanager
def pipeline(conn: psycopg.Connection[Any]) -> Iterator[None]:
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
    """A due deadline claimed by a worker's transaction, with its row and where it lies."""

    due: Due
    loaded: Loaded
    ctid: str


class PostgresTransaction:
    """One unit of work's reads on a :class:`PostgresStore`, and its commit."""

    def __init__(
        self, store: PostgresStore, conn: psycopg.Connection[Any], check: Check | None = None
    ) -> None:
        self.store = store
        self.conn = conn
        self.open = True
        self.begun = False
        self.check = check
        """What to look at with the first read (ADR 0030), ``None`` once looked at."""
        self.read: list[tuple[str, str, int]] = []
        """(kind, key, revision) of what was loaded: names the aggregate in a conflict."""
        self._claimed: _Pending | None = None

    # ------------------------------------------------------------------ reading

    def _rows(self, sql: str, params: Sequence[Any], what: tuple[str, str]) -> list[Any]:
        return self._many(((sql, params),), what)[0]

    def _many(
        self, statements: Sequence[tuple[str, Sequence[Any]]], what: tuple[str, str]
    ) -> list[list[Any]]:
        """The rows of each of *statements*, sent in one pipeline (one round trip); the
        first reads of the transaction go with its ``BEGIN`` and its check (ADR 0030)."""
        conn = self.conn
        check = checked = None
        try:
            with pipeline(conn):  # a statement prepared now costs no extra wait either
                if not self.begun:
                    self.begun = True
                    check, self.check = self.check, None
                    conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE", prepare=False)
                    if check is not None:
                        checked = conn.execute(CHECK, (check.command_id,))
                cursors = [conn.execute(sql, params) for sql, params in statements]
            if check is not None and checked is not None:
                self._preempt(check, checked.fetchall())
            return [cur.fetchall() for cur in cursors]
        except psycopg.Error as err:
            if conn.broken:
                raise self.store._lost(err) from None
            if err.sqlstate in CONFLICTS:
                rollback(conn)
                raise self.store._conflict(self.read, what, err) from None
            raise

    def _preempt(self, check: Check, rows: list[Any]) -> None:
        """Roll back and raise :class:`Preempted` if *check* found the command handled, or a
        deadline due by its moment."""
        seen = outcome_of(rows, check.command_id)
        first = rows[0][0] if rows else None
        due = check.due_by is not None and first is not None and first <= micros(check.due_by)
        if seen is not None or due:
            self._abandon()
            raise Preempted(seen)

    def claim(self, limit: datetime) -> Due | None:
        """Take the first deadline due by *limit* that no other transaction holds, and hold
        it (``FOR UPDATE SKIP LOCKED``) until this transaction ends: a worker's first read."""
        rows = self._rows(CLAIM, (micros(limit),), ("aggregate", "-"))
        if not rows:
            return None
        row_id, kind, key, revision, due_us, data, ctid = rows[0]
        agg = self.store._aggregate(kind, key, revision, data)
        due = Due(kind, key, from_micros(due_us), revision)
        self._claimed = _Pending(due, Loaded(row_id, revision, agg), ctid)
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

    def load_glancing(
        self, kind: str, key: str, glance: str, fields: Sequence[str]
    ) -> tuple[Loaded | None, list[tuple[str, Glimpse]]]:
        """The aggregate *key* of *kind*, and the glimpses of the aggregates of *glance*
        naming the values of its *fields*, in one round trip (ADR 0029)."""
        claimed = self._claimed
        if claimed is not None and (claimed.due.kind, claimed.due.key) == (kind, key):
            agg = claimed.loaded.aggregate
            names = [v for f in fields if (v := getattr(agg, f)) is not None]
            return self.load(kind, key), self.glimpse(glance, names) if names else []
        store = self.store
        rows = self._rows(
            load_glancing_sql(fields), (store._cached(kind, key), glance, kind, key), (kind, key)
        )
        if not rows:
            return None, []
        row_id, revision, data = rows[0][:3]
        self.read.append((kind, key, revision))
        loaded = Loaded(row_id, revision, store._aggregate(kind, key, revision, data))
        return loaded, self._glimpses(glance, [row[3:] for row in rows if row[3] is not None])

    def load_related(
        self, kind: str, names: Sequence[str], state: str | None = None
    ) -> list[Loaded]:
        """Aggregates of *kind* that name any of *names* (in *state*), through the party index."""
        only = "" if state is None else " AND a.state = %s"
        rows = self._rows(
            "SELECT a.id, a.key, a.revision, a.data FROM aggregates a WHERE a.id IN "
            "(SELECT p.aggregate FROM parties p WHERE p.kind = %s "
            f"AND p.party {any_of(len(names))}){only} ORDER BY a.id",
            (kind, *values(names)) if state is None else (kind, *values(names), state),
            (kind, names[0] if names else "-"),
        )
        aggregate = self.store._aggregate
        found = []
        for row_id, key, revision, data in rows:
            self.read.append((kind, key, revision))
            found.append(Loaded(row_id, revision, aggregate(kind, key, revision, data)))
        return found

    def glimpse(self, kind: str, names: Sequence[str]) -> list[tuple[str, Glimpse]]:
        """(party, glimpse) of the aggregates of *kind* naming any of *names*: the state
        column and two fields of the stored snapshot, no snapshot sent (ADR 0029)."""
        rows = self._rows(
            "SELECT p.party, a.id, a.key, a.revision, a.state, a.data->>'company', "
            "a.data->>'type' FROM parties p JOIN aggregates a ON a.id = p.aggregate "
            f"WHERE p.kind = %s AND p.party {any_of(len(names))}",
            (kind, *values(names)),
            (kind, names[0] if names else "-"),
        )
        return self._glimpses(kind, rows)

    def _glimpses(self, kind: str, rows: list[Any]) -> list[tuple[str, Glimpse]]:
        read = self.read
        found = []
        for row in rows:
            g = Glimpse._make(row[1:])
            read.append((kind, g.key, g.revision))
            found.append((row[0], g))
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
            if self.check is not None:  # nothing was read: look first (a round trip of its own)
                self._rows("SELECT 1", (), fallback)
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
        with pipeline(conn):
            if not self.begun:
                conn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE", prepare=False)
            for what, sql, params in statements:
                cur = conn.execute(sql, params)
                if "event" in what.split("+"):
                    events = cur
            if hook is None:
                conn.execute("COMMIT", prepare=False)
        if hook is not None:  # the writes reached the server: now a crash test may strike
            for what, _, _ in statements:
                for part in what.split("+"):
                    hook(part)
            conn.execute("COMMIT", prepare=False)
        return sorted(row[0] for row in events.fetchall()) if events is not None else []

    def _abandon(self) -> None:
        """Roll back what is left of a failed transaction (nothing, if the server ended it).

        If the connection breaks now (the server went away just after refusing the
        commit), that is :class:`ConnectionLost`: nothing was committed, and the command
        may be sent again with its ``command_id``.
        """
        conn = self.conn
        if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                rollback(conn)
            except psycopg.Error as err:
                lost = self.store._lost(err)  # ConnectionLost if the connection broke
                if lost is err:
                    raise  # pragma: no cover
                raise lost from None

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
        """The commit's statements: new rows and records each on their own (they are
        ``WITH`` statements already), then the updates, the events and the command's
        outcome joined in one statement of data-modifying ``WITH`` parts (ADR 0083), then
        the wake-up for the workers."""
        statements = self._parts(batch)
        joined = [s for s in statements if s[0] in JOINED]
        if len(joined) < 2:
            return statements
        rest = [s for s in statements if s[0] not in JOINED]
        notify = [s for s in rest if s[0] == "notify"]
        rest = [s for s in rest if s[0] != "notify"]
        return [*rest, joint(joined), *notify]

    def _parts(self, batch: Batch) -> list[tuple[str, str, tuple[Any, ...]]]:
        out: list[tuple[str, str, tuple[Any, ...]]] = []
        soon = False
        now = batch.events[-1].at if batch.events else None
        horizon = None if now is None else now + self.store.notify_within
        claimed = self._claimed
        for w in batch.writes:
            if w.expected == 0:
                out.append(("insert", *insert(w.kind, w.key, w.aggregate)))
            elif claimed is not None and (claimed.due.kind, claimed.due.key) == (w.kind, w.key):
                state, due, data = columns(w.aggregate)  # held since the claim: by its place
                out.append(("update", UPDATE_CLAIMED, (state, due, data, claimed.ctid)))
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
        except Exception:  # psycopg's error, or ConnectionLost from it
            if not conn.broken:
                raise  # pragma: no cover
            # the server ended the transaction with the connection
        finally:
            self._end()

    def _end(self) -> None:
        if self.open:
            self.open = False
            self.store._lock.release()
