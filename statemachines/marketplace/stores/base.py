"""What a store offers the unit of work: a transaction with indexed reads and one commit.

A store keeps aggregates beside the columns that index them (kind and key, the
parties they involve, the moment their next deadline falls due, a revision), the
records that never change, the domain events in a global order, the outcome of
every command that carried an id, and the deadlines that failed.

Reading happens inside a :class:`Transaction`; writing happens once, when the
unit of work commits a :class:`Batch`: every changed aggregate (checked against the
revision it was read at), every new aggregate and record, the events, and the
command's outcome, all or nothing.

Aggregates are *identity-mapped*: loading the same aggregate twice in one store
returns the same object while its revision has not changed. The unit of work
changes loaded objects in place and puts every field back if it rolls back
(:meth:`statemachines.core.engine.MachineSpec.restore`), so an object in the map
always matches the revision it is kept at.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import attrs

from statemachines.errors import StatemachinesError
from statemachines.marketplace.events import NewEvent, Outcome, StoredEvent

__all__ = [
    "Batch",
    "Check",
    "CommandSeen",
    "Due",
    "Glimpse",
    "Loaded",
    "Preempted",
    "Record",
    "Store",
    "Transaction",
    "Write",
    "glimpse_of",
    "load_then_glance",
]


class Loaded(NamedTuple):
    """An aggregate as read: its creation order, its revision and the object."""

    seq: int
    revision: int
    aggregate: Any


class Glimpse(NamedTuple):
    """An aggregate's stored state without its snapshot: what a guard that needs only the
    state of other aggregates reads (ADR 0029). *company* and *type* are the snapshot's
    top-level fields of those names (an account's company and type), ``None`` for kinds
    without them."""

    seq: int
    key: str
    revision: int
    state: str
    company: str | None
    type: str | None


def glimpse_of(seq: int, agg: Any, revision: int) -> Glimpse:
    """An aggregate in memory seen as a :class:`Glimpse`."""
    kind = getattr(agg, "type", None)
    return Glimpse(
        seq,
        agg.id,
        revision,
        agg.state.value,
        getattr(agg, "company", None),
        None if kind is None else getattr(kind, "value", kind),
    )


def load_then_glance(
    txn: Transaction, kind: str, key: str, glance: str, fields: Sequence[str]
) -> tuple[Loaded | None, list[tuple[str, Glimpse]]]:
    """:meth:`Transaction.load_glancing` as a load, then a glimpse (for a store in the same
    process, where a statement more costs no round trip)."""
    loaded = txn.load(kind, key)
    if loaded is None:
        return None, []
    agg = loaded.aggregate
    names = [v for f in fields if (v := getattr(agg, f)) is not None]
    return loaded, txn.glimpse(glance, names) if names else []


class Write(NamedTuple):
    """An aggregate to write: new (*expected* 0) or changed since revision *expected*."""

    kind: str
    key: str
    aggregate: Any
    expected: int
    seq: int = 0
    """Its creation order as loaded (the store's row id), 0 for a new one."""


class Record(NamedTuple):
    """A record to add (terms, contact, past due), indexed by *party* when it has one."""

    kind: str
    key: str
    party: str | None
    value: Any


class Due(NamedTuple):
    """The aggregate whose deadline falls due first, and when."""

    kind: str
    key: str
    due: datetime
    revision: int


@attrs.frozen
class Batch:
    """Everything one unit of work writes, committed together or not at all."""

    writes: tuple[Write, ...] = ()
    records: tuple[Record, ...] = ()
    events: tuple[NewEvent, ...] = ()
    command_id: str | None = None
    read: Callable[[], tuple[tuple[str, str, int], ...]] = tuple
    """Lists what :attr:`reads` returns, when it is asked (on a conflict only)."""

    @property
    def reads(self) -> tuple[tuple[str, str, int], ...]:
        """(kind, key, revision) of every aggregate read: a store that cannot check them
        all at commit uses them to say which one changed."""
        return self.read()


class Check(NamedTuple):
    """What a command's transaction looks at first, with its first read (ADR 0030): whether
    *command_id* was handled already, and whether a deadline falls due by *due_by*."""

    command_id: str | None
    due_by: datetime | None


class Preempted(Exception):
    """A :class:`Check` found that the command must not run in this transaction: it was
    handled already (*outcome* is what it did), or a deadline is due first (*outcome* is
    ``None``: fire the due deadlines, then run the command). The transaction was rolled
    back; nothing was written."""

    def __init__(self, outcome: Outcome | None) -> None:
        super().__init__("handled already" if outcome is not None else "a deadline is due first")
        self.outcome = outcome


class CommandSeen(Exception):
    """The command id was committed by someone else while this unit of work ran."""


class Transaction(Protocol):
    """Reads inside one unit of work, and its single commit."""

    def load(self, kind: str, key: str) -> Loaded | None:
        """The aggregate *key* of *kind*, or ``None``."""

    def load_related(
        self, kind: str, parties: Sequence[str], state: str | None = None
    ) -> list[Loaded]:
        """Aggregates of *kind* that name any of *parties* (from the party index); only those
        stored in *state* when it is given."""

    def load_glancing(
        self, kind: str, key: str, glance: str, fields: Sequence[str]
    ) -> tuple[Loaded | None, list[tuple[str, Glimpse]]]:
        """:meth:`load`, and :meth:`glimpse` of the aggregates of *glance* naming the values
        of the loaded aggregate's *fields*, together (one round trip where it matters)."""

    def glimpse(self, kind: str, parties: Sequence[str]) -> list[tuple[str, Glimpse]]:
        """(party, glimpse) for every aggregate of *kind* that names any of *parties*, from
        the party index, without reading or parsing snapshots (an aggregate naming two
        of them comes twice)."""

    def count(self, kind: str) -> int:
        """How many aggregates or records of *kind* were ever added."""

    def exists(self, kind: str, key: str) -> bool:
        """True when an aggregate or record *key* of *kind* exists."""

    def record(self, kind: str, key: str) -> Any:
        """The record *key* of *kind*, or ``None``."""

    def records(self, kind: str, party: str) -> list[Any]:
        """The records of *kind* indexed by *party*, in the order they were added."""

    def commit(self, batch: Batch) -> tuple[StoredEvent, ...]:
        """Write *batch* and end the transaction; raise and write nothing on a conflict."""

    def rollback(self) -> None:
        """End the transaction without writing."""


class Store(Protocol):
    """A marketplace's storage: the memory store, SQLite or PostgreSQL."""

    url: str

    def begin(self, check: Check | None = None) -> Transaction:
        """Start a unit of work's transaction; with *check*, look at it first (at the latest
        with the first read): raise :class:`Preempted`, after rolling back, if the command
        was handled already or a deadline is due by then."""

    def next_due(self, limit: datetime) -> Due | None:
        """The first deadline due at or before *limit* (time, then kind, then key)."""

    def park(self, due: Due, error: str, at: datetime) -> None:
        """Record that *due* failed with *error*; it is not taken again until its aggregate
        changes. Other deadlines go on."""

    @property
    def stuck(self) -> list[tuple[str, str, str]]:
        """Deadlines that failed: (kind, key, error), oldest first."""

    def outcome(self, command_id: str) -> Outcome | None:
        """The stored outcome of the command *command_id*, if it was handled."""

    def save_refusal(self, command_id: str, error: StatemachinesError, at: datetime) -> None:
        """Store that the command *command_id* was refused with *error*."""

    def events_after(self, cursor: int, limit: int | None = None) -> list[StoredEvent]:
        """Events with a sequence number above *cursor*, in order."""

    def history(self, kind: str, key: str) -> list[StoredEvent]:
        """The events of one aggregate, in history order: ``created``, then its decisions."""

    def cursor(self, consumer: str) -> int:
        """Where the outbox consumer *consumer* has read up to (0 at first)."""

    def save_cursor(self, consumer: str, seq: int, at: datetime) -> None:
        """Move *consumer*'s cursor to *seq* (never backwards)."""

    def consumers(self) -> dict[str, int]:
        """Every consumer's cursor, by name."""

    def values(self, kind: str) -> list[Any]:
        """Every aggregate (or record) of *kind*, in the order they were added. A scan:
        for reports and tests, never on a command's path."""

    def get(self, kind: str, key: str) -> Any:
        """The aggregate or record *key* of *kind*; raises ``KeyError``."""

    def put(self, kind: str, key: str, value: Any) -> None:
        """Import an aggregate or record directly, outside any command (loading a world)."""

    def revision(self, kind: str, key: str) -> int:
        """The aggregate's revision (0 when there is none)."""

    def close(self) -> None:
        """Release the store's resources."""
