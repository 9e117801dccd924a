"""The unit of work: one transaction around one command, and the retry helper.

``with UnitOfWork(store) as uow:`` opens a transaction on *store*. Inside, the
handlers load only the aggregates they touch (by key, or through the party
index), fire events on them in place, and add new aggregates and records. Then
``uow.commit()`` writes every aggregate whose history grew, every new aggregate
and record, and one domain event per accepted decision (and per aggregate
created), in the order they happened, together; leaving the block without
committing rolls back, and every loaded aggregate gets every field back, so a
command that raised changed nothing, in memory or in a database.

Every aggregate carries a revision. A commit writes an aggregate only if it is
still at the revision it was read at; otherwise it raises
:class:`~statemachines.marketplace.errors.ConcurrentModification` and writes
nothing. :func:`retry` runs a command again on fresh state:

>>> from statemachines.marketplace.stores.memory import MemoryStore
>>> calls = []
>>> def flaky():
...     calls.append(1)
...     if len(calls) < 3:
...         raise ConcurrentModification("job", "J-1", 2, 3)
...     return "done"
>>> retry(flaky), len(calls)
('done', 3)
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from statemachines.core.engine import SPECS_BY_MODEL, Decision, MachineSpec
from statemachines.core.snapshots import to_dict
from statemachines.marketplace.errors import AlreadyExists, ConcurrentModification
from statemachines.marketplace.events import Change, NewEvent, StoredEvent
from statemachines.marketplace.model import names_any, record_party
from statemachines.marketplace.reads import GLANCED
from statemachines.marketplace.stores.base import (
    Batch,
    Check,
    Glimpse,
    Loaded,
    Record,
    Store,
    Transaction,
    Write,
    glimpse_of,
)

__all__ = ["UnitOfWork", "retry"]

T = TypeVar("T")

_FIRST = operator.itemgetter(0)
_new = tuple.__new__
"""Named tuples built on the hot path skip their generated (Python) ``__new__``."""

_NEW = 1 << 62
"""Creation order given to aggregates added in this unit of work (after every stored one)."""


class _Tracked:
    __slots__ = ("agg", "key", "kind", "length", "revision", "saved", "seq")

    def __init__(self, kind: str, key: str, loaded: Loaded) -> None:
        self.kind = kind
        self.key = key
        self.agg = loaded.aggregate
        self.revision = loaded.revision
        self.seq = loaded.seq
        self.length = len(self.agg.history)
        self.saved: tuple[MachineSpec[Any, Any], tuple[Any, ...]] | None = None

    @property
    def changed(self) -> bool:
        return len(self.agg.history) > self.length


class UnitOfWork:
    """One transaction on a store: indexed reads, in-place changes, one commit or none."""

    def __init__(self, store: Store, check: Check | None = None) -> None:
        self.store = store
        self.check = check
        """What the transaction looks at first (a command's id, due deadlines: ADR 0030)."""
        self._txn: Transaction | None = None
        self._seen: dict[tuple[str, str], _Tracked] = {}
        self._added: dict[tuple[str, str], tuple[Any, int, int, datetime, dict[str, Any]]] = {}
        self._records: dict[tuple[str, str], Record] = {}
        self._log: list[Change | tuple[str, str]] = []
        self._asked: set[tuple[str, str]] = set()
        """(kind, party) pairs whose every aggregate this unit of work has loaded."""
        self._glanced: dict[tuple[str, str], list[Glimpse]] = {}
        """(kind, party): the stored glimpse of every aggregate naming the party, as read."""
        self.events: tuple[StoredEvent, ...] = ()
        """The events the commit recorded, numbered (empty until then)."""

    def __enter__(self) -> UnitOfWork:
        self._txn = self.store.begin(self.check) if self.check else self.store.begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._txn is not None:
            self.rollback()

    @property
    def txn(self) -> Transaction:
        """The open transaction (a unit of work is used inside ``with``)."""
        if self._txn is None:
            msg = "the unit of work is not open: use it as `with UnitOfWork(store) as uow:`"
            raise RuntimeError(msg)
        return self._txn

    # ------------------------------------------------------------------ reading

    def _track(self, kind: str, key: str, loaded: Loaded) -> Any:
        tracked = self._seen.get((kind, key))
        if tracked is None:
            tracked = self._seen[kind, key] = _Tracked(kind, key, loaded)
        return tracked.agg

    def find(self, kind: str, key: str) -> Any:
        """The aggregate *key* of *kind*, or ``None``."""
        tracked = self._seen.get((kind, key))
        if tracked is not None:
            return tracked.agg
        added = self._added.get((kind, key))
        if added is not None:
            return added[0]
        txn = self._txn or self.txn
        fields = GLANCED.get(kind)
        if fields is None:
            loaded = txn.load(kind, key)
        else:  # its guards read the states of the accounts it names: glance at them now
            loaded, near = txn.load_glancing(kind, key, "account", fields)
            if loaded is not None:
                self._glanced_at(loaded.aggregate, fields, near)
        if loaded is None:
            return None
        tracked = self._seen[kind, key] = _Tracked(kind, key, loaded)
        return tracked.agg

    def _glanced_at(self, agg: Any, fields: tuple[str, ...], near: list[Any]) -> None:
        glanced = self._glanced
        fresh = set()
        for f in fields:
            party = getattr(agg, f)
            k = ("account", party)
            if party is not None and k not in glanced and k not in self._asked:
                glanced[k] = []
                fresh.add(party)
        for party, g in near:
            if party in fresh:
                glanced["account", party].append(g)

    def get(self, kind: str, key: str) -> Any:
        """The aggregate *key* of *kind*; raises ``KeyError`` when there is none."""
        agg = self.find(kind, key)
        if agg is None:
            msg = f"no {kind} {key!r}"
            raise KeyError(msg)
        return agg

    def related(  # noqa: PLR0912  (the hot path: each case its own branch)
        self, kind: str, *names: str | None, state: str | None = None
    ) -> list[Any]:
        """Aggregates of *kind* that name any of *names* (party index), oldest first; only
        those in *state* (its value) when it is given.

        A candidate list: callers check the exact field they mean (client or freelancer).
        Once every aggregate naming a party is loaded, asking again is answered here.
        """
        wanted = [n for n in names if n is not None]
        if not wanted:
            return []
        asked = self._asked
        glanced = self._glanced
        loaded_all = known = True
        for n in wanted:
            if (kind, n) not in asked:
                loaded_all = False
                if (kind, n) not in glanced:
                    known = False
                    break
        if loaded_all:  # all loaded already (one snapshot)
            found = self._here(kind, wanted, state, set(), loaded=True)
        elif state is not None and known:
            # the stored states are known: load only the aggregates stored in *state*
            stored = {
                g.key: g.seq
                for n in wanted
                for g in self._glanced.get((kind, n), ())
                if g.state == state
            }
            if not stored and not self._holds(kind):  # the common case: nothing to load
                return []
            found = [(seq, self.get(kind, key)) for key, seq in stored.items()]
            listed = {id(agg) for _, agg in found}
            found += self._here(kind, wanted, state, listed, loaded=True)
        else:
            seen = self._seen
            found = []
            for loaded in (self._txn or self.txn).load_related(kind, wanted, state):
                agg = loaded.aggregate
                tracked = seen.get((kind, agg.id))
                if tracked is None:
                    tracked = seen[kind, agg.id] = _Tracked(kind, agg.id, loaded)
                found.append((loaded.seq, tracked.agg))
            if state is None:
                for n in wanted:
                    asked.add((kind, n))
                if self._added:  # what this unit of work added is not in the store
                    listed = {id(agg) for _, agg in found}
                    found += self._here(kind, wanted, state, listed, loaded=False)
            else:  # the store filtered on stored states: add what moved into *state* here
                listed = {id(agg) for _, agg in found}
                found += self._here(kind, wanted, state, listed, loaded=True)
        if len(found) > 1:
            found.sort(key=_FIRST)
        return [agg for _, agg in found]

    def glimpse(self, kind: str, *names: str | None) -> list[Glimpse]:
        """The stored state of every aggregate of *kind* that names any of *names* (party
        index), oldest first, without loading them (ADR 0029): for guards that need only
        states. An aggregate this unit of work loaded or added answers from memory, as it
        is now."""
        wanted = [n for n in names if n is not None]
        if not wanted:
            return []
        glanced = self._glanced
        missing = [n for n in wanted if (kind, n) not in glanced and (kind, n) not in self._asked]
        if missing:
            for n in missing:
                glanced[kind, n] = []
            for party, g in (self._txn or self.txn).glimpse(kind, missing):
                glanced[kind, party].append(g)
        seen = self._seen
        out: dict[str, Glimpse] = {}
        for n in wanted:
            for g in glanced.get((kind, n), ()):
                if (kind, g.key) not in seen:
                    out[g.key] = g
        for seq, agg in self._here(kind, wanted, None, set(), loaded=True):
            tracked = seen.get((kind, agg.id))
            revision = 0 if tracked is None else tracked.revision
            out[agg.id] = glimpse_of(seq, agg, revision)
        found = list(out.values())
        if len(found) > 1:
            found.sort(key=_FIRST)
        return found

    def _holds(self, kind: str) -> bool:
        """True when this unit of work loaded or added an aggregate of *kind*."""
        for k, _ in self._seen:
            if k == kind:
                return True
        for k, _ in self._added:  # noqa: SIM110  (a loop: no generator on the hot path)
            if k == kind:
                return True
        return False

    def _here(
        self, kind: str, wanted: list[str], state: str | None, skip: set[int], *, loaded: bool
    ) -> list[tuple[int, Any]]:
        """Aggregates of this unit of work (loaded ones too, if *loaded*) that match."""
        out: list[tuple[int, Any]] = []
        if loaded:
            for (k, _), t in self._seen.items():
                if k == kind and _matches(kind, t.agg, wanted, state, skip):
                    out.append((t.seq, t.agg))
        for (k, _), (agg, seq, *_) in self._added.items():
            if k == kind and _matches(kind, agg, wanted, state, skip):
                out.append((seq, agg))
        return out

    def revision(self, kind: str, key: str) -> int:
        """The revision *key* of *kind* was read at (0 for one added in this unit of work)."""
        self.get(kind, key)
        tracked = self._seen.get((kind, key))
        return 0 if tracked is None else tracked.revision

    def record(self, kind: str, key: str) -> Any:
        """The record *key* of *kind* (terms, contact, past due), or ``None``."""
        added = self._records.get((kind, key))
        return added.value if added is not None else self.txn.record(kind, key)

    def records(self, kind: str, party: str) -> list[Any]:
        """The records of *kind* indexed by *party*, oldest first."""
        found = self.txn.records(kind, party)
        found.extend(r.value for r in self._records.values() if r.kind == kind and r.party == party)
        return found

    def exists(self, kind: str, key: str) -> bool:
        """True when an aggregate or record *key* of *kind* exists or was added here."""
        k = (kind, key)
        return k in self._seen or k in self._added or k in self._records or self.txn.exists(*k)

    def new_key(self, kind: str, prefix: str) -> str:
        """A key for a new aggregate or record: *prefix* and one more than the count, or the
        next number not taken (keys are never reused)."""
        n = self.txn.count(kind) + sum(1 for k, _ in (*self._added, *self._records) if k == kind)
        while True:
            n += 1
            key = f"{prefix}{n}"
            if not self.exists(kind, key):
                return key

    # ------------------------------------------------------------------ changing

    def add(self, kind: str, key: str, aggregate: Any, at: datetime) -> None:
        """Add a new aggregate; raises :class:`AlreadyExists` if *key* is taken."""
        if self.exists(kind, key):
            raise AlreadyExists(kind, key)
        seq = _NEW + len(self._added)
        first = to_dict(aggregate)  # the first snapshot, which its ``created`` event carries
        self._added[kind, key] = (aggregate, seq, len(aggregate.history), at, first)
        self._log.append((kind, key))

    def add_record(self, kind: str, key: str, value: Any) -> None:
        """Add a record; raises :class:`AlreadyExists` if *key* is taken."""
        if self.exists(kind, key):
            raise AlreadyExists(kind, key)
        self._records[kind, key] = Record(kind, key, record_party(kind, value), value)

    def changing(self, kind: str, key: str) -> None:
        """Say that an event is about to be fired on *key*: its fields are saved once, so
        that a rollback puts them back. Every change goes through here first."""
        tracked = self._seen.get((kind, key))
        if tracked is not None and tracked.saved is None:
            spec = SPECS_BY_MODEL[type(tracked.agg)]
            tracked.saved = (spec, spec.save(tracked.agg))

    def accepted(self, kind: str, key: str, decision: Decision) -> Change:
        """Note an accepted decision: it becomes a domain event, in this order."""
        change = _new(Change, (kind, key, decision))
        self._log.append(change)
        return change

    # ------------------------------------------------------------------ ending

    def _batch(self, command_id: str | None) -> Batch:
        seen = self._seen
        added = self._added
        nxt: dict[tuple[str, str], int] = {}  # the position of each aggregate's next event
        events: list[NewEvent] = []
        for entry in self._log:
            if isinstance(entry, Change):
                kind, key, d = entry
                k = (kind, key)
                pos = nxt.get(k)
                if pos is None:
                    tracked = seen.get(k)
                    pos = tracked.length if tracked is not None else added[k][2]
                events.append(_new(NewEvent, (kind, key, pos, d.at, d, None)))
                nxt[k] = pos + 1
            else:
                _, _, length, at, first = added[entry]
                nxt.setdefault(entry, length)
                events.append(NewEvent(*entry, length, at, None, first))
        writes = [
            _new(Write, (t.kind, t.key, t.agg, t.revision, t.seq))
            for t in seen.values()
            if len(t.agg.history) > t.length
        ]
        writes.extend(Write(*k, a[0], 0) for k, a in added.items())
        for w in writes:  # a decision nobody reported still becomes an event
            history = w.aggregate.history
            start = nxt.get((w.kind, w.key))
            if start is None:
                tracked = seen.get((w.kind, w.key))
                start = tracked.length if tracked is not None else len(history)
            for pos in range(start, len(history)):
                d = history[pos]
                events.append(NewEvent(w.kind, w.key, pos, d.at, d, None))
        return Batch(
            tuple(writes),
            tuple(self._records.values()),
            tuple(events),
            command_id,
            self._reads,
        )

    def _reads(self) -> tuple[tuple[str, str, int], ...]:
        """(kind, key, revision) of every aggregate loaded or glimpsed, once each."""
        reads = [(t.kind, t.key, t.revision) for t in self._seen.values()]
        if self._glanced:
            listed = set(self._seen)
            for (kind, _), found in self._glanced.items():
                for g in found:
                    if (kind, g.key) not in listed:
                        listed.add((kind, g.key))
                        reads.append((kind, g.key, g.revision))
        return tuple(reads)

    def commit(self, command_id: str | None = None) -> tuple[StoredEvent, ...]:
        """Write everything, together, with *command_id*'s outcome; or raise and write nothing."""
        txn = self.txn
        try:
            batch = self._batch(command_id)
            self.events = txn.commit(batch)
        except BaseException:
            self._txn = None
            self._restore()
            raise
        self._txn = None
        return self.events

    def rollback(self) -> None:
        """Put every loaded aggregate back as it was read and end the transaction."""
        txn, self._txn = self._txn, None
        try:
            self._restore()
        finally:
            if txn is not None:
                txn.rollback()

    def _restore(self) -> None:
        lost = []
        for tracked in reversed(self._seen.values()):
            if not tracked.changed:  # a refused event has already put its aggregate back
                continue
            if tracked.saved is None:  # pragma: no cover  (a handler bypassed `changing`)
                lost.append(f"{tracked.kind} {tracked.key!r}")
                continue
            spec, saved = tracked.saved
            spec.restore(tracked.agg, saved)
        if lost:  # pragma: no cover
            msg = f"changed without `UnitOfWork.changing`, so not put back: {', '.join(lost)}"
            raise RuntimeError(msg)


def _matches(kind: str, agg: Any, wanted: list[str], state: str | None, skip: set[int]) -> bool:
    if id(agg) in skip or (state is not None and agg.state._value_ != state):
        return False
    return names_any(kind, agg, wanted)  # *wanted* holds no None


def retry(
    action: Callable[[], T],
    *,
    attempts: int = 3,
    on_conflict: Callable[[ConcurrentModification, int], None] | None = None,
) -> T:
    """Run *action*; when it raises :class:`ConcurrentModification`, run it again.

    Each run opens a new unit of work, so it reads the state the other command
    left. After *attempts* runs in all, the last conflict is raised.
    *on_conflict(err, attempt)* is called before each new run (to log or back off).
    """
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except ConcurrentModification as err:
            if attempt == attempts:
                raise
            if on_conflict is not None:
                on_conflict(err, attempt)
    msg = f"attempts must be at least 1, got {attempts}"
    raise ValueError(msg)
