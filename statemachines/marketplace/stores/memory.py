"""The in-memory store: dictionaries of live aggregates, with the indexes a command reads.

For tests, the property tests and the checker. It keeps what the SQLite store
keeps, in dictionaries: aggregates by kind and key (in the order they were
added), a party index ("the contracts of co-1"), a heap of next-due deadlines, a
revision per aggregate, the domain events (the last *keep_events* of them), the
outcome of every command that carried an id, and the deadlines that failed.

One unit of work runs at a time: :meth:`MemoryStore.begin` takes the store's lock
(another thread waits; the same thread opening a second one is a programming
error), and the unit of work puts back every field of what it changed if it rolls
back. Commit checks every write, then applies them all.

>>> from statemachines.core.clock import UTC
>>> store = MemoryStore()
>>> store.next_due(datetime(2026, 3, 2, tzinfo=UTC)) is None
True
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from statemachines.errors import StatemachinesError
from statemachines.marketplace.errors import AlreadyExists, ConcurrentModification
from statemachines.marketplace.events import (
    CREATED,
    NewEvent,
    Outcome,
    StoredEvent,
    dump_error,
    load_error,
)
from statemachines.marketplace.model import RANK, due_of, parties, record_party
from statemachines.marketplace.stores.base import (
    Batch,
    Check,
    CommandSeen,
    Due,
    Glimpse,
    Loaded,
    Preempted,
    glimpse_of,
    load_then_glance,
)

__all__ = ["MemoryStore", "MemoryTransaction"]

_Key = tuple[str, str]

_new = tuple.__new__
"""Named tuples built on the hot path skip their generated (Python) ``__new__``."""


class MemoryStore:
    """Aggregates and records in dictionaries, indexed by party and by next deadline.

    ``_items`` (kind -> key -> object) is the store's content; code that replaces
    it wholesale (the checker restoring a world) makes the store rebuild its
    deadline index before the next read of it.
    """

    url = "memory://"

    def __init__(self, *, keep_events: int = 100_000) -> None:
        self._data: dict[str, dict[str, Any]] = {}
        self._seq: dict[_Key, int] = {}
        self._next_seq = 0
        self._rev: dict[_Key, int] = {}
        self._parties: dict[_Key, dict[str, None]] = {}
        self._heap: list[tuple[datetime, int, str, str]] = []
        self._due: dict[_Key, datetime] = {}
        self._dirty = False
        self.keep_events = keep_events
        self._events: list[StoredEvent] = []
        self._last_seq = 0
        self._outcomes: dict[str, tuple[tuple[StoredEvent, ...], dict[str, Any] | None]] = {}
        self._stuck: list[tuple[str, str, str]] = []
        self._cursors: dict[str, int] = {}
        self._lock = threading.Lock()
        self._holder: int | None = None

    # ------------------------------------------------------------------ content

    @property
    def _items(self) -> dict[str, dict[str, Any]]:
        return self._data

    @_items.setter
    def _items(self, value: dict[str, dict[str, Any]]) -> None:
        self._data = value
        self._dirty = True

    def reindex(self) -> None:
        """Rebuild the deadline index from the aggregates (after writing fields directly)."""
        # the checker restores a world before most commands: this runs that often
        heap: list[tuple[datetime, int, str, str]] = []
        due_at: dict[_Key, datetime] = {}
        seqs = self._seq
        for kind in RANK:  # the aggregates and the cases: every kind with deadlines
            items = self._data.get(kind)
            if not items:
                continue
            rank = RANK[kind]
            for key, agg in items.items():
                if (kind, key) not in seqs:
                    self._index_new(kind, key, agg)
                deadlines = agg.deadlines  # due_of, inlined
                if deadlines:
                    due = deadlines[0].due
                    due_at[kind, key] = due
                    heap.append((due, rank, key, kind))
        heapq.heapify(heap)
        self._heap = heap
        self._due = due_at
        self._dirty = False

    def _index_new(self, kind: str, key: str, value: Any) -> None:
        self._next_seq += 1
        self._seq[kind, key] = self._next_seq
        if kind in RANK:
            found = parties(kind, value)
        else:
            party = record_party(kind, value)
            found = (party,) if party is not None else ()
        for party in found:
            self._parties.setdefault((kind, party), {})[key] = None

    def _index_due(self, kind: str, key: str, agg: Any) -> None:
        due = due_of(agg)
        k = (kind, key)
        if due is None:
            self._due.pop(k, None)
        elif self._due.get(k) != due:
            self._due[k] = due
            heapq.heappush(self._heap, (due, RANK[kind], key, kind))

    def _add(self, kind: str, key: str, value: Any) -> None:
        self._data.setdefault(kind, {})[key] = value
        self._index_new(kind, key, value)
        if kind in RANK:
            self._rev[kind, key] = self._rev.get((kind, key), 0) + 1
            if not self._dirty:
                self._index_due(kind, key, value)

    # ------------------------------------------------------------------ units of work

    def begin(self, check: Check | None = None) -> MemoryTransaction:
        """Take the store for one unit of work (after *check*: see :class:`Check`)."""
        me = threading.get_ident()
        if not self._lock.acquire(blocking=False):
            if self._holder == me:
                msg = "a unit of work is already open on this memory store in this thread"
                raise RuntimeError(msg)
            self._lock.acquire()
        self._holder = me
        if check is not None:
            try:
                self._check(check)
            except BaseException:
                self._release()
                raise
        return MemoryTransaction(self)

    def _check(self, check: Check) -> None:
        if check.command_id is not None:
            outcome = self.outcome(check.command_id)
            if outcome is not None:
                raise Preempted(outcome)
        if check.due_by is not None and self.next_due(check.due_by) is not None:
            raise Preempted(None)

    def _release(self) -> None:
        self._holder = None
        self._lock.release()

    def _commit(self, batch: Batch) -> tuple[StoredEvent, ...]:
        data = self._data
        for w in batch.writes:
            found = self._rev.get((w.kind, w.key), 0)
            if w.expected == 0 and w.key in data.get(w.kind, {}):
                raise AlreadyExists(w.kind, w.key)
            if w.expected and found != w.expected:
                raise ConcurrentModification(w.kind, w.key, w.expected, found)
        for r in batch.records:
            if r.key in data.get(r.kind, {}):
                raise AlreadyExists(r.kind, r.key)
        cid = batch.command_id
        if cid is not None and cid in self._outcomes:
            raise CommandSeen(cid)
        # every check passed: apply all
        for w in batch.writes:
            if w.expected == 0:
                self._add(w.kind, w.key, w.aggregate)
            else:
                self._rev[w.kind, w.key] = w.expected + 1
                if not self._dirty:
                    self._index_due(w.kind, w.key, w.aggregate)
        for r in batch.records:
            self._add(r.kind, r.key, r.value)
        events = tuple(self._event(e, cid) for e in batch.events)
        if cid is not None:
            self._outcomes[cid] = (events, None)
        return events

    def _event(self, e: NewEvent, command_id: str | None) -> StoredEvent:
        self._last_seq += 1
        d = e.decision
        stored = StoredEvent(
            self._last_seq,
            e.kind,
            e.key,
            e.position,
            d.event if d is not None else CREATED,
            e.at,
            d,
            e.snapshot,
            command_id,
        )
        self._events.append(stored)
        if len(self._events) > 2 * self.keep_events:
            del self._events[: len(self._events) - self.keep_events]
        return stored

    # ------------------------------------------------------------------ deadlines

    def next_due(self, limit: datetime) -> Due | None:
        """The first deadline due at or before *limit*, from the heap (stale entries skipped)."""
        if self._dirty:
            self.reindex()
        heap = self._heap
        while heap:
            due, _, key, kind = heap[0]
            if self._due.get((kind, key)) != due:
                heapq.heappop(heap)
                continue
            if due > limit:
                return None
            return Due(kind, key, due, self._rev.get((kind, key), 0))
        return None

    def park(self, due: Due, error: str, at: datetime) -> None:
        """Take a failed deadline off the index until its aggregate changes; record why."""
        k = (due.kind, due.key)
        if self._rev.get(k, 0) == due.revision and self._due.get(k) == due.due:
            del self._due[k]
        self._stuck.append((due.kind, due.key, error))

    @property
    def stuck(self) -> list[tuple[str, str, str]]:
        """Deadlines that failed: (kind, key, error), oldest first."""
        return self._stuck

    # ------------------------------------------------------------------ commands, events

    def outcome(self, command_id: str) -> Outcome | None:
        """The stored outcome of *command_id*, or ``None``."""
        stored = self._outcomes.get(command_id)
        if stored is None:
            return None
        events, error = stored
        return Outcome(
            events,
            None if error is None else load_error(error),
            command_id=command_id,
            repeated=True,
        )

    def save_refusal(self, command_id: str, error: StatemachinesError, at: datetime) -> None:
        """Remember that *command_id* was refused with *error*."""
        self._outcomes.setdefault(command_id, ((), dump_error(error)))

    def events_after(self, cursor: int, limit: int | None = None) -> list[StoredEvent]:
        """Events numbered above *cursor*, in order (only the last *keep_events* are kept)."""
        events = self._events
        if not events:
            return []
        first = events[0].seq
        if cursor < first - 1:
            msg = (
                f"events {cursor + 1} to {first - 1} are no longer kept: the memory store keeps "
                f"the last {self.keep_events}; read more often or use a database"
            )
            raise LookupError(msg)
        start = max(cursor - first + 1, 0)
        end = None if limit is None else start + limit
        return events[start:end]

    def history(self, kind: str, key: str) -> list[StoredEvent]:
        """The kept events of one aggregate: its ``created`` snapshot, then its decisions."""
        return [e for e in self._events if e.kind == kind and e.key == key]

    # ------------------------------------------------------------------ consumers

    def cursor(self, consumer: str) -> int:
        """Where *consumer* has read the outbox up to (0 before its first ``save_cursor``)."""
        return self._cursors.get(consumer, 0)

    def save_cursor(self, consumer: str, seq: int, at: datetime) -> None:
        """Move *consumer*'s cursor to *seq* (never backwards)."""
        self._cursors[consumer] = max(seq, self._cursors.get(consumer, 0))

    def consumers(self) -> dict[str, int]:
        """Every consumer's cursor."""
        return dict(self._cursors)

    # ------------------------------------------------------------------ direct access

    def values(self, kind: str) -> list[Any]:
        """Every aggregate or record of *kind*, in the order they were added."""
        items = self._data.get(kind)  # the checker asks this for every kind of every state
        return [*items.values()] if items else []

    def get(self, kind: str, key: str) -> Any:
        """The aggregate or record *key* of *kind*; raises ``KeyError``."""
        return self._data[kind][key]

    def put(self, kind: str, key: str, value: Any) -> None:
        """Import *value* outside any command (loading a world); replaces what was there."""
        items = self._data.get(kind, {})
        if key in items:
            items[key] = value
            if kind in RANK:
                self._rev[kind, key] += 1
                if not self._dirty:
                    self._index_due(kind, key, value)
            return
        self._add(kind, key, value)

    def revision(self, kind: str, key: str) -> int:
        """The aggregate's revision (0 when there is none)."""
        return self._rev.get((kind, key), 0) if key in self._data.get(kind, {}) else 0

    def close(self) -> None:
        """Nothing to release."""


class MemoryTransaction:
    """One unit of work's reads on a :class:`MemoryStore`, and its commit."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self.open = True

    def load(self, kind: str, key: str) -> Loaded | None:
        """The aggregate *key* of *kind*, or ``None``."""
        store = self.store
        agg = store._data.get(kind, {}).get(key)
        if agg is None:
            return None
        k = (kind, key)
        return _new(Loaded, (store._seq.get(k, 0), store._rev.get(k, 0), agg))

    def load_related(
        self, kind: str, names: Sequence[str], state: str | None = None
    ) -> list[Loaded]:
        """Aggregates of *kind* that name any of *names* (in *state*), from the party index."""
        store = self.store
        items = store._data.get(kind)
        if not items:
            return []
        index = store._parties
        seqs = store._seq
        revs = store._rev
        found: dict[str, Loaded] = {}
        for party in names:
            keys = index.get((kind, party))
            if not keys:
                continue
            for key in keys:
                if key not in found:
                    agg = items.get(key)
                    if agg is not None and (state is None or agg.state._value_ == state):
                        k = (kind, key)
                        found[key] = _new(Loaded, (seqs[k], revs.get(k, 0), agg))
        return list(found.values())

    def load_glancing(
        self, kind: str, key: str, glance: str, fields: Sequence[str]
    ) -> tuple[Loaded | None, list[tuple[str, Glimpse]]]:
        """The aggregate, then the glimpses of what its *fields* name."""
        return load_then_glance(self, kind, key, glance, fields)

    def glimpse(self, kind: str, names: Sequence[str]) -> list[tuple[str, Glimpse]]:
        """(party, glimpse) of the aggregates of *kind* naming any of *names*."""
        store = self.store
        items = store._data.get(kind)
        if not items:
            return []
        found = []
        for party in names:
            for key in store._parties.get((kind, party), ()):
                agg = items.get(key)
                if agg is not None:
                    k = (kind, key)
                    found.append((party, glimpse_of(store._seq[k], agg, store._rev.get(k, 0))))
        return found

    def count(self, kind: str) -> int:
        """How many aggregates or records of *kind* there are."""
        return len(self.store._data.get(kind, {}))

    def exists(self, kind: str, key: str) -> bool:
        """True when *key* of *kind* exists."""
        return key in self.store._data.get(kind, {})

    def record(self, kind: str, key: str) -> Any:
        """The record *key* of *kind*, or ``None``."""
        return self.store._data.get(kind, {}).get(key)

    def records(self, kind: str, party: str) -> list[Any]:
        """The records of *kind* indexed by *party*, in the order they were added."""
        return [loaded.aggregate for loaded in self.load_related(kind, (party,))]

    def commit(self, batch: Batch) -> tuple[StoredEvent, ...]:
        """Check every write, then apply them all; release the store."""
        try:
            return self.store._commit(batch)
        finally:
            self._end()

    def rollback(self) -> None:
        """Release the store; the unit of work has put its aggregates back."""
        self._end()

    def _end(self) -> None:
        if self.open:
            self.open = False
            self.store._release()
