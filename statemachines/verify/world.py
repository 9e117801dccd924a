"""The checker's world: its bounds, its cast of actors, and a marketplace it can rewind.

:class:`Bounds` sets the size of the world; :class:`World` builds it (freelancer ``fl-1``,
client company ``co-1`` owned by ``ana`` with its admin ``ada`` and hiring manager ``hal``,
optionally agency ``ag-1``, *N* contracts, job posts with proposals) on a clock the checker
sets freely, and takes and restores snapshots of it. :data:`ACTORS` is one actor of every
role; :func:`payloads` the arguments tried for each event; :class:`Step` one step of a
trace, and :func:`replay` runs a trace on a fresh world.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import attrs

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.clock import UTC
from statemachines.core.engine import SPECS_BY_MODEL, Decision
from statemachines.core.money import Money
from statemachines.machines.account.model import Obligations
from statemachines.machines.account.table import Account, AccountType, SuspensionReason
from statemachines.machines.contract.table import Contract
from statemachines.marketplace.commands import Command
from statemachines.marketplace.events import Outcome
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores.memory import MemoryStore, MemoryTransaction

__all__ = [
    "ACTING",
    "ACTORS",
    "DIARY_DEFAULT",
    "KEEP_OBLIGATIONS",
    "SECOND",
    "START",
    "Bounds",
    "PremiseBroken",
    "Saved",
    "Snapshot",
    "Step",
    "World",
    "payloads",
    "play",
    "replay",
]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""The initial world's time: a Monday morning."""

SECOND = timedelta(seconds=1)


ACTORS: tuple[Actor, ...] = (
    Actor("fl-1", Role.FREELANCER, party="fl-1"),
    Actor("ao", Role.AGENCY_OWNER, party="ag-1"),
    Actor("bm", Role.BUSINESS_MANAGER, party="ag-1"),
    Actor("am", Role.AGENCY_MEMBER, party="ag-1"),
    Actor("ana", Role.CLIENT_OWNER, party="co-1"),
    Actor("ada", Role.CLIENT_ADMIN, party="co-1"),
    Actor("hal", Role.HIRING_MANAGER, party="co-1"),
    Actor("sam", Role.SOURCING_MEMBER, party="co-1"),
    Actor("tom", Role.TEAM_MEMBER, party="co-1"),
    SYSTEM,
    Actor("sup", Role.SUPPORT),
    Actor("acct", Role.ACCOUNT_TEAM, party="co-1"),
)
"""One actor of every role (the checker tries every event for each)."""

_NAMES = {a: f"{a.id}-{a.role.value}" if a.id != "system" else "system" for a in ACTORS}

ACTING = ("account", "membership", "job", "proposal", "contract")
"""Every kind of aggregate the checker tries events on (the marketplace's order)."""


@attrs.frozen
class Bounds:
    """The size of the world the checker explores."""

    contracts: int = 1
    milestones: int = 1
    agency: bool = False
    """Add agency ``ag-1`` (owned by ``ao``)."""
    team: bool = True
    """Give the client company its admin (``ada``) and hiring manager (``hal``)."""
    invited: bool = False
    """Leave the hiring manager's invitation unanswered (so it can be accepted or declined)."""
    hourly: int = 0
    """How many of the contracts are hourly (the last ones); the others are fixed-price."""
    amounts: tuple[int, ...] = (500, 2_000)
    """Milestone amounts, in cents."""
    depth: int | None = None
    """Stop expanding states this many steps from the initial world (None: no limit)."""
    symmetry: bool = True
    """Store interchangeable contracts and milestones in a canonical order."""
    payments: int | None = None
    """Most payments per contract that are expanded (default: milestones + 2)."""
    max_states: int | None = None
    """Stop after this many states (the report says the search was cut short)."""
    focus: tuple[str, ...] = ()
    """Only these kinds of aggregate (``account``, ``membership``, ``contract``) are tried
    and moved by events (time still moves everything); empty: all of them."""
    thorough: bool = False
    """Try every illegal or unauthorised attempt in every state, not once per state name, and
    fire every attempt (none is decided by the oracle alone)."""
    full_check: float = 0.05
    """The share of the steps whose invariants of a state are all checked. In the others, a
    state seen for the first time is checked where something an invariant reads changed
    (:mod:`~statemachines.verify.checks`), and a state already seen is left to the first
    state stored under its key, which passed them. The initial state is checked in full,
    and the invariants of the step on every step."""
    cross_check: float = 0.01
    """The share of the attempts the oracle says do not fire (illegal, not permitted,
    refused) that are fired anyway to check it (besides the first of each kind, always
    fired; where the plan of their aggregate is used again, a tenth of the share:
    :data:`~statemachines.verify.search.REUSED_SHARE`), and of the attempts whose outcome
    is known from another state that are fired again and compared; the others are taken
    as said or known. 1.0 fires them all."""
    audit: bool = False
    """Check the abstraction: whenever a step reaches a key already seen, the table's
    verdict on every attempt (:func:`~statemachines.verify.oracle.verdicts`) must be the
    same as in the state first stored under that key (a soundness test; slower)."""
    audit_successors: int = 0
    """Check the abstraction further: draw this many merged pairs (a step reaching a key
    already seen, and the state first stored under it) from the whole search and, at its
    end, compare their successors attempt by attempt and move of time by move of time (the
    same verdicts, the same attempts firing, the same keys reached; see
    :mod:`~statemachines.verify.reduction`). 0: no such audit."""
    agency_contracts: int = 0
    """How many of the contracts (the last ones) agency ``ag-1`` holds, worked by its member
    ``am`` (implies the agency; with the team, ``am`` is a member of ``ag-1``). The agency's
    owner ``ao`` and business manager ``bm`` decide for it."""
    jobs: int = 0
    """Draft job posts of ``co-1`` (``J-1`` ...), each with a draft proposal by ``fl-1``
    (``P-1`` ...) and, when the agency is in the world, one by ``ag-1`` written by ``am``
    (``P-1-ag`` ...); accepting an offer starts a contract through the marketplace."""

    hours_per_week: int | None = None
    """Most hours logged in one week of an hourly contract's diary that are expanded
    (default: :data:`DIARY_DEFAULT` without a depth, no limit at a depth, where the depth
    bounds them: a step logs one hour). The diary takes any number of hours in a week (the
    weekly limit caps what is billed, not what is logged), so without a bound one hourly
    contract has no end."""
    diary_weeks: int | None = None
    """Most weeks with time in an hourly contract's diary that are expanded (default as
    :attr:`hours_per_week`)."""

    def diary_within(self, c: Contract) -> bool:
        """Whether contract *c*'s work diary is within :attr:`hours_per_week` and
        :attr:`diary_weeks` (a state beyond them is checked, not expanded, as a payment
        beyond :attr:`payments` is)."""
        weeks = _diary_bound(self.diary_weeks, self.depth)
        if weeks is not None and len(c.weeks) > weeks:
            return False
        hours = _diary_bound(self.hours_per_week, self.depth)
        return hours is None or all(w.logged <= hours * 60 for w in c.weeks)

    @property
    def has_agency(self) -> bool:
        """True when agency ``ag-1`` is in the world."""
        return self.agency or self.agency_contracts > 0


DIARY_DEFAULT = 2
"""Hours per week and weeks of an hourly contract's diary expanded by a search with no depth,
unless :attr:`Bounds.hours_per_week` and :attr:`Bounds.diary_weeks` say otherwise: two
hours (logging again, deleting one), two weeks (the week just closed, open for edits until
its invoice on Monday 12:00 UTC, beside the new one)."""


def _diary_bound(given: int | None, depth: int | None) -> int | None:
    if given is not None or depth is not None:
        return given
    return DIARY_DEFAULT


class _Clock:
    """A clock the checker sets freely (states are revisited out of time order)."""

    __slots__ = ("_now",)

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now


class Saved(NamedTuple):
    """One aggregate as a snapshot holds it: its field values, history and children."""

    agg: Any
    values: tuple[Any, ...]
    history: tuple[Decision, ...]
    kids: tuple[tuple[Saved, ...], ...]
    """Per child collection of the machine (a contract's milestones): each child, saved."""
    version: int
    """Changes whenever anything of the aggregate does (fields, history, children), and
    only then: equal content gets the same entry and version (:func:`_save`). A snapshot
    taken after a step shares the entries of what the step left alone."""
    history_id: int = 0
    """The content of :attr:`history` as a number (equal histories, equal numbers)."""


_VERSIONS = itertools.count(1)

KEEP = 3_000_000
"""How many saved aggregates :func:`_save` keeps by content at most (all are forgotten when
there are more: a state met again then gets a new version, which only costs the caches)."""

_BY_CONTENT: dict[tuple[Any, ...], Saved] = {}
"""Saved aggregates by their content (see :func:`_content`)."""
_HISTORIES: dict[tuple[int, Any], int] = {}
"""A history by its content: (the history without its last decision, that decision) -> id."""
_HISTORY_IDS = itertools.count(1)


def _save(agg: Any, base: Saved | None = None) -> Saved:
    """*agg* as it is now; *base* itself when nothing changed since *base* was saved.

    Versions are given by content: an aggregate saved again with the same fields, history
    and children (reached by another path, or by the same event fired from another state)
    gets the saved entry, and so the version, it got the first time. So every cache keyed
    by versions (plans, key parts, invariants passed) is shared by every state that holds
    the aggregate as it is, not only by the states one step apart.
    """
    spec = SPECS_BY_MODEL[type(agg)]
    values = spec._get(agg)
    history = agg.history
    same = (
        base is not None
        and base.agg is agg
        and len(history) == len(base.history)
        and base.values == values
    )
    kids: tuple[tuple[Saved, ...], ...] = ()
    if spec.children:
        groups = []
        for i, name in enumerate(spec.children):
            old = base.kids[i] if base is not None else ()
            group = []
            for j, kid in enumerate(getattr(agg, name)):
                kid_base = old[j] if j < len(old) and old[j].agg is kid else None
                saved = _save(kid, kid_base)
                same = same and saved is kid_base
                group.append(saved)
            same = same and len(group) == len(old)
            groups.append(tuple(group))
        kids = tuple(groups)
    if same:
        assert base is not None
        return base
    hist = _history_id(history, base)
    versions = tuple(tuple(k.version for k in group) for group in kids)
    content = (id(agg), _hashable(spec, values), hist, versions)
    found = _BY_CONTENT.get(content)
    if found is not None and found.agg is agg:
        return found
    if len(_BY_CONTENT) >= KEEP:
        _BY_CONTENT.clear()
        _HISTORIES.clear()
    saved = Saved(agg, values, tuple(history), kids, next(_VERSIONS), hist)
    _BY_CONTENT[content] = saved
    return saved


_CHILD_FIELDS: dict[type, tuple[int, ...]] = {}


def _hashable(spec: Any, values: tuple[Any, ...]) -> tuple[Any, ...]:
    """*values* with each child collection (a contract's milestones, objects whose content
    the children's versions hold) replaced by the children's identities."""
    where = _CHILD_FIELDS.get(spec.model)
    if where is None:
        names = (*spec.fields, "state")
        where = _CHILD_FIELDS[spec.model] = tuple(names.index(c) for c in spec.children)
    if not where:
        return values
    out = list(values)
    for i in where:
        out[i] = tuple(map(id, out[i]))
    return tuple(out)


def _history_id(history: list[Any], base: Saved | None) -> int:
    """An id for the content of *history* (equal histories get equal ids), extending
    *base*'s when it is a prefix of *history* (histories only grow)."""
    start, hist = 0, 0
    if base is not None and base.history_id and len(base.history) <= len(history):
        prefix = base.history
        if all(a is b for a, b in zip(prefix, history, strict=False)):
            start, hist = len(prefix), base.history_id
    for d in history[start:]:
        step = (hist, _decision(d))
        found = _HISTORIES.get(step)
        if found is None:
            found = _HISTORIES[step] = next(_HISTORY_IDS)
        hist = found
    return hist


def _decision(d: Decision) -> tuple[Any, ...]:
    return (d.at, d.actor, d.event, d.source, d.target, _frozen(d.payload), d.deadline)


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


def _holds(saved: Saved) -> bool:
    """Whether the aggregate still holds the fields, history length and children *saved*
    has."""
    agg = saved.agg
    if len(agg.history) != len(saved.history):
        return False
    if SPECS_BY_MODEL[type(agg)]._get(agg) != saved.values:
        return False
    return all(_holds(kid) for group in saved.kids for kid in group)


def _load(saved: Saved) -> None:
    agg, values, history, kids, *_ = saved
    _SETTERS[type(agg)](agg, values)
    agg.history[:] = history
    for captured in kids:
        for kid_saved in captured:
            _load(kid_saved)


_NAMES_OF = {spec.name: (*spec.fields, "state") for spec in SPECS_BY_MODEL.values()}


def _setter(names: tuple[str, ...]) -> Callable[[Any, tuple[Any, ...]], None]:
    """A function that writes a tuple of values (in :data:`_NAMES_OF` order, as a spec's
    ``_get`` reads them) into an aggregate's fields: one assignment statement a field,
    which Python runs faster than a ``setattr`` call a field (restoring states writes
    millions of fields)."""
    assert all(name.isidentifier() for name in names)
    body = "".join(f"    agg.{name} = values[{i}]\n" for i, name in enumerate(names))
    scope: dict[str, Any] = {}
    exec(f"def load(agg, values):\n{body}", scope)  # the names are the specs' own fields
    load: Callable[[Any, tuple[Any, ...]], None] = scope["load"]
    return load


_SETTERS = {model: _setter(_NAMES_OF[spec.name]) for model, spec in SPECS_BY_MODEL.items()}
"""By model class: the function that writes its saved values back (:func:`_setter`)."""


Snapshot = tuple[datetime, tuple[Saved, ...]]
"""The time, and every aggregate with its field values, history and children."""


class _Snapshot(tuple[datetime, tuple[Saved, ...]]):
    """A :data:`Snapshot` that also carries the store's items by kind (what exists), and
    each aggregate's version by its ``id``."""

    items: dict[str, dict[str, Any]] | None
    versions: dict[int, int]

    def __new__(
        cls,
        now: datetime,
        saved: tuple[Saved, ...],
        items: dict[str, dict[str, Any]] | None,
        versions: dict[int, int] | None = None,
    ) -> _Snapshot:
        snap = super().__new__(cls, (now, saved))
        snap.items = items
        snap.versions = {id(s.agg): s.version for s in saved} if versions is None else versions
        return snap


class _Direct:
    """The reads of a unit of work that has changed nothing, straight from a memory store.

    What :meth:`Flows.read <statemachines.marketplace.flows.Flows.read>` opens when asked
    outside a command (the checker's predictor reading facts, the invariants reading
    obligations) is a unit of work of its own that only reads: it finds what the store
    holds, in creation order, as this does, without taking the store or tracking what it
    read. Inside a command, the command's own unit of work is read, as always.
    """

    __slots__ = ("txn",)

    def __init__(self, store: MemoryStore) -> None:
        self.txn = MemoryTransaction(store)

    def find(self, kind: str, key: str) -> Any:
        loaded = self.txn.load(kind, key)
        return None if loaded is None else loaded.aggregate

    def get(self, kind: str, key: str) -> Any:
        agg = self.find(kind, key)
        if agg is None:
            msg = f"no {kind} {key!r}"
            raise KeyError(msg)
        return agg

    def related(self, kind: str, *names: str | None, state: str | None = None) -> list[Any]:
        wanted = [n for n in names if n is not None]
        if not wanted:
            return []
        found = self.txn.load_related(kind, wanted, state)
        if len(found) > 1:
            found.sort(key=_seq)
        return [loaded.aggregate for loaded in found]

    def record(self, kind: str, key: str) -> Any:
        return self.txn.record(kind, key)

    def records(self, kind: str, party: str) -> list[Any]:
        return self.txn.records(kind, party)


def _seq(loaded: Any) -> int:
    return int(loaded.seq)


class _Market(Marketplace):
    """The marketplace of a :class:`World`: it tells the world when anything fires, and
    reads facts outside commands straight from its memory store (:class:`_Direct`)."""

    def __init__(self, world: World, *, clock: _Clock) -> None:
        super().__init__(clock=clock)
        self._checker_world = world
        flows = self.flows
        current = flows._reader
        direct = _Direct(self.store)  # type: ignore[arg-type]

        def read(read: Callable[[Any], Any]) -> Any:
            reader = current.get()
            return read(direct if reader is None else reader)

        flows.read = read  # type: ignore[method-assign]

    def advance(self, now: datetime | None = None) -> list[Decision]:
        self._checker_world.changed()
        return super().advance(now)

    def handle(self, command: Command) -> Outcome:
        self._checker_world.changed()  # every command, fired events included
        return super().handle(command)

    def obligations(self, acc: Account, now: datetime) -> Obligations:
        """The obligations of *acc* now, kept by what they read while the world is as a
        snapshot holds it (see :meth:`World.reads_of`)."""
        world = self._checker_world
        memo = world.reads_of(acc, now, world.holds if world.known else None)
        if memo is None:
            return super().obligations(acc, now)
        return world.kept(memo, acc, now)


KEEP_OBLIGATIONS = 1_000_000
"""How many obligations :meth:`_Market.obligations` keeps at most (all are dropped when
there are more; a dropped one is read again)."""


class PremiseBroken(Exception):
    """Something the checker's caches rest on was found false (the search reports it)."""


class World:
    """The bounded marketplace, with a clock the checker can set and restore."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.tracking = False
        """Whether every change of the world goes through the marketplace's ``fire`` and
        ``advance`` (the search's world): :meth:`restore` then writes back only what differs
        from what the world holds (:attr:`holds`). A world whose aggregates are also changed
        by hand (a workflow fired directly) leaves it false, and every restore writes back
        every aggregate."""
        self.holds: dict[int, Saved] = {}
        """By ``id`` of the aggregate: the saved entry it holds now, when known (set by
        :meth:`snapshot`, :meth:`restore` and :meth:`apply`; forgotten whenever the
        marketplace fires anything), so that :meth:`restore` writes back only what differs
        (with :attr:`tracking`)."""
        self.pending: dict[int, Saved] | None = None
        """What the world held when the marketplace began its last command, if known."""
        self.known = False
        """Whether :attr:`holds` says what every aggregate holds (after :meth:`snapshot` or
        :meth:`restore`, until the marketplace handles a command or fires a deadline)."""
        self.obligations: dict[tuple[Any, ...], Obligations] = {}
        self.sample = random.Random(1)
        self.clock = _Clock(START)
        self.market = _Market(self, clock=self.clock)
        m = self.market
        ana = _actor(Role.CLIENT_OWNER)
        m.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
        m.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
        team = (("ada", Role.CLIENT_ADMIN), ("hal", Role.HIRING_MANAGER)) if bounds.team else ()
        for person, role in team:
            membership = m.invite("co-1", person, role, ana)
            if not (bounds.invited and person == "hal"):
                m.fire("membership", membership.id, "accept", _actor(role))
        if bounds.has_agency:
            m.open_account(Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1"))
            if bounds.agency_contracts and bounds.team:
                membership = m.invite("ag-1", "am", Role.AGENCY_MEMBER, _actor(Role.AGENCY_OWNER))
                m.fire("membership", membership.id, "accept", _actor(Role.AGENCY_MEMBER))
        for n in range(1, bounds.contracts + 1):
            key = f"C-{n}"
            agency = n > bounds.contracts - bounds.agency_contracts
            held_by, member = ("ag-1", "am") if agency else ("fl-1", None)
            if n > bounds.contracts - bounds.hourly:
                c = Contract.hourly(
                    key,
                    client="co-1",
                    freelancer=held_by,
                    rate=Money(2_000),
                    started_at=START,
                    agency=agency,
                    member=member,
                )
            else:
                c = Contract.fixed(
                    key, client="co-1", freelancer=held_by, started_at=START, agency=agency
                )
                c.member = member
            m.add_contract(c)
        for n in range(1, bounds.jobs + 1):
            job = m.draft_job(f"J-{n}", "co-1")
            m.draft_proposal(f"P-{n}", job.id, "fl-1")
            if bounds.has_agency:
                m.draft_proposal(f"P-{n}-ag", job.id, "ag-1", agency=True, author="am")
        for agg in self.aggregates():
            agg.history.clear()  # the initial world starts with no past
        m.audit.clear()
        self.on_restore: Callable[[], None] = lambda: None
        self.base: Snapshot | None = None
        self.loaded: dict[int, Saved] = {}
        self.pure = False
        """True while nothing but :meth:`apply` changed the world since :meth:`restore`."""
        self.initial = self.snapshot()

    def changed(self) -> None:
        """The marketplace is about to change the world: what it holds is no longer known
        (what it held when the command began is kept in :attr:`pending`)."""
        self.pending = self.holds if self.known else None
        self.pure = False
        self.known = False
        self.holds = {}

    def after_failure(self) -> list[str]:
        """After a command that failed: the aggregates it changed all the same (none, when
        the marketplace keeps its word that a refused command changes nothing). When none
        changed, the world holds again what it held when the command began."""
        held = self.pending
        if held is None:
            return []
        changed = [e.agg.id for e in held.values() if not _holds(e)]
        if not changed:
            self.holds = held
            self.known = True
        return changed

    def obligations_before(self, acc: Account, now: datetime) -> Obligations:
        """The obligations of *acc* as a command reads them first, before it changes
        anything (the checker's :class:`~statemachines.verify.attempts.Facts` knows when):
        kept by what they read when the command began."""
        memo = None if self.pending is None else self.reads_of(acc, now, self.pending)
        if memo is None:
            return self.market.obligations(acc, now)
        return self.kept(memo, acc, now)

    def kept(self, memo: tuple[Any, ...], acc: Account, now: datetime) -> Obligations:
        """The obligations kept under *memo* (read now when not kept yet); a share
        (:attr:`Bounds.cross_check`) of those kept is read again and compared."""
        kept = self.obligations.get(memo)
        if kept is None:
            if len(self.obligations) >= KEEP_OBLIGATIONS:
                self.obligations.clear()
            kept = self.obligations[memo] = Marketplace.obligations(self.market, acc, now)
        elif self.sample.random() < self.bounds.cross_check:
            fresh = Marketplace.obligations(self.market, acc, now)
            if fresh != kept:
                msg = (
                    f"the obligations of {acc.id} read something other than the account, "
                    f"the other accounts of its owner, the memberships, job posts, proposals "
                    f"and contracts and the contact and past-due records: kept {kept}, "
                    f"read again {fresh}"
                )
                raise PremiseBroken(msg)
        return kept

    def reads_of(
        self, acc: Account, now: datetime, holds: Mapping[int, Saved] | None
    ) -> tuple[Any, ...] | None:
        """What the obligations of *acc* (:func:`statemachines.marketplace.reads.obligations`)
        read, as versions, at *now*, in a world that holds *holds* (entries by ``id`` of
        the aggregate): the account, the other accounts of its owner (agencies it owns),
        every membership, job post, proposal and contract, and the contact and past-due
        records; None when what the world holds is not known (*holds* None: while a command
        runs, or in a world changed by hand).

        *Premise*: the obligations read nothing else (not the other accounts). *Checked*: a
        share of the obligations kept is read again and compared (:class:`PremiseBroken`)."""
        if not self.tracking or holds is None:
            return None
        mine = holds.get(id(acc))
        if mine is None or mine.agg is not acc:
            return None
        owner = acc.owner
        read = tuple(
            [
                e.version
                for e in holds.values()
                if not isinstance(e.agg, Account) or e.agg.owner == owner
            ]
        )
        items = getattr(self.market.store, "_items", {})
        records = (
            tuple(items.get("contact", {}).items()),
            tuple((k, repr(v)) for k, v in items.get("past_due", {}).items()),
        )
        return (mine.version, now, read, records)

    def aggregates(self) -> Iterator[Any]:
        """Every aggregate, in store order (read straight from the store's dictionaries,
        not copied: nothing may be added to the store while the caller iterates)."""
        items = self.market.store._items  # type: ignore[attr-defined]
        for kind in ACTING:
            found = items.get(kind)
            if found:
                yield from found.values()

    def snapshot(self) -> Snapshot:
        """The world as it is now: field values are immutable, so references are a copy.

        The aggregates themselves are reused: :meth:`restore` writes every field back. The
        snapshot also holds what the store holds (a contract started by an offer, its
        contact person), so that restoring it also takes out what was added since.
        """
        restored = self.base
        if self.pure and restored is not None:
            # nothing but apply() changed the world since it was restored: what it holds
            # (self.holds, kept by restore, undo and apply) is the base with what was loaded
            loaded = self.loaded
            entries = tuple([loaded.get(id(e.agg), e) for e in restored[1]])
            versions = restored.versions.copy()  # type: ignore[attr-defined]
            for agg_id, entry in loaded.items():
                versions[agg_id] = entry.version
            self.known = True
            items = getattr(restored, "items", None)
            return _Snapshot(self.clock.now(), entries, items, versions)
        store = self.market.store
        items = getattr(store, "_items", None)
        base = self.base[1] if self.base is not None else ()
        saved = []
        loaded = self.loaded
        for i, agg in enumerate(self.aggregates()):
            old = base[i] if i < len(base) else None
            if old is None or old.agg is not agg:
                old = None
            known = loaded.get(id(agg)) if loaded else None
            saved.append(_save(agg, old if known is None else known))
        self.holds = {id(e.agg): e for e in saved}
        self.known = True
        return _Snapshot(
            self.clock.now(),
            tuple(saved),
            {k: dict(v) for k, v in items.items()} if items is not None else None,
        )

    def later(self, snap: Snapshot, at: datetime) -> Snapshot:
        """Put the world back as *snap* captured it, with the clock at *at*, and return that
        as a snapshot (the same aggregates at another time)."""
        self.restore(snap)
        self.clock.set(at)
        return _Snapshot(at, snap[1], getattr(snap, "items", None), snap.versions)  # type: ignore[attr-defined]

    def apply(self, saved: Saved) -> None:
        """Put one aggregate as *saved* holds it; the next snapshot shares *saved* (and its
        version) until the world is restored."""
        if not self.tracking or self.holds.get(id(saved.agg)) is not saved:
            _load(saved)
        self.loaded[id(saved.agg)] = saved
        self.holds[id(saved.agg)] = saved

    def undo(self, snap: Snapshot, keep: Any = None) -> None:
        """Put the world back as *snap* captured it, when *snap* was the last one restored and
        nothing but :meth:`apply` changed the world since (else as :meth:`restore`); with
        *keep*, an aggregate the caller writes whole next (with :meth:`apply`) is left as it
        is."""
        if not self.pure or self.base is not snap:
            self.restore(snap)
            return
        holds = self.holds
        for entry in snap[1]:
            if entry.agg is keep and self.tracking:
                continue
            if id(entry.agg) in self.loaded:
                if not self.tracking or holds.get(id(entry.agg)) is not entry:
                    _load(entry)
                holds[id(entry.agg)] = entry
        self.loaded.clear()
        store = self.market.store
        if hasattr(store, "_items"):  # the store's deadline index is rebuilt when next read
            store._items = store._items
        self.on_restore()

    def restore(self, snap: Snapshot) -> None:
        """Put the world back as *snap* captured it."""
        now, saved = snap
        items = getattr(snap, "items", None)
        if items is not None:
            self.market.store._items = {k: dict(v) for k, v in items.items()}  # type: ignore[attr-defined]
        holds = self.holds if self.tracking else {}
        for item in saved:
            if holds.get(id(item.agg)) is not item:
                _load(item)
        self.holds = {id(item.agg): item for item in saved}
        self.known = True
        self.base = snap
        self.loaded.clear()
        self.pure = True
        self.clock.set(now)
        self.market.audit.clear()
        self.market.stuck.clear()
        self.on_restore()


def same(a: Saved, b: Saved) -> bool:
    """Whether two saved aggregates hold the same fields, history and children (children
    made by two firings of one event are other objects with the same fields)."""
    return (
        type(a.agg) is type(b.agg)
        and a.values == b.values
        and a.history == b.history
        and len(a.kids) == len(b.kids)
        and all(
            len(x) == len(y) and all(same(i, j) for i, j in zip(x, y, strict=True))
            for x, y in zip(a.kids, b.kids, strict=True)
        )
    )


def _actor(role: Role) -> Actor:
    return next(a for a in ACTORS if a.role is role)


@attrs.frozen
class Step:
    """One step of a trace: time moving to *at*, or *actor* firing *event* on *target*."""

    at: datetime
    kind: str = ""
    target: str = ""
    event: str = ""
    actor: Actor | None = None
    payload: tuple[tuple[str, Any], ...] = ()
    result: str = ""
    """The target's state after the step (or the outcome), for the scenario's expectations."""

    def __str__(self) -> str:
        if not self.event:
            return f"time -> {self.at.isoformat()}"
        args = ", ".join(f"{k}={v}" for k, v in self.payload)
        who = _NAMES.get(self.actor, str(self.actor)) if self.actor else "?"
        return f"{who}: {self.event}({args}) on {self.kind} {self.target} -> {self.result}"


_FIXED_PAYLOADS: dict[str, tuple[dict[str, Any], ...]] = {
    "pay_owed": ({"amount": Money(100)},),
    # billing (SUSP-1's pause for billing) and another reason (a pause for the suspension
    # itself, ADR 0021)
    "suspend": ({"reason": SuspensionReason.BILLING}, {"reason": SuspensionReason.TERMS}),
    "log_time": ({"minutes": 60},),
    "delete_time": ({"minutes": 60},),
    "mark_candidate": ({"freelancer": "fl-1", "status": "shortlisted"},),
}
"""Events whose arguments do not depend on the world."""


def payloads(world: World, kind: str, agg: Any, event: str) -> list[dict[str, Any]]:  # noqa: PLR0911  (one case per event)
    """The arguments the checker tries for *event* on *agg* (a few per event)."""
    bounds = world.bounds
    if event == "add_milestone":
        return [{"amount": Money(a)} for a in bounds.amounts]
    if event in {"request_close", "delete_permanently"}:
        return [{}, {"confirm": True}] if event == "request_close" else [{"confirm": True}]
    if event == "withdraw" and kind == "account":  # a proposal's withdraw takes nothing
        available = world.market.obligations(agg, world.clock.now()).available
        return [{"amount": available if available.cents else Money(100)}]
    fixed = _FIXED_PAYLOADS.get(event)
    if fixed is not None:
        return [dict(p) for p in fixed]
    if event == "confirm_reactivation":
        return [{"token": agg.link_token or "no-such-link"}]
    if event == "resolve_dispute":
        held = agg.escrow_refund.amount if agg.escrow_refund is not None else Money(0)
        return [
            {"to_freelancer": held, "to_client": Money(0)},
            {"to_freelancer": Money(0), "to_client": held},
        ]
    if event == "give_refund":
        return [{"payment": p.id, "amount": p.left, "balance": p.left} for p in agg.payments] or [
            {"payment": "none", "amount": Money(100), "balance": Money(100)}
        ]
    if event == "request_refund":
        return [{"payment": p.id, "amount": p.left} for p in agg.payments] or [
            {"payment": "none", "amount": Money(100)}
        ]
    if event == "end_contract":
        return [{}, {"payment": Money(0)}]  # paying less than is held opens ESC-1
    if event == "release_dormant_funds":  # DORM-1: what the live milestone holds, released
        live = agg.live_milestone
        return [{"to_freelancer": live.held}] if live is not None and live.held else [{}]
    if event == "pay_bonus":
        return [{"amount": Money(bounds.amounts[0])}]
    return [{}]


def replay(bounds: Bounds, steps: Iterable[Step]) -> tuple[World, list[Decision]]:
    """Run *steps* on a fresh world of *bounds*; returns it and the last step's decisions."""
    world = World(bounds)
    last: list[Decision] = []
    for step in steps:
        before = {id(a): len(a.history) for a in _all_aggregates(world)}
        play(world, step)
        last = [d for a in _all_aggregates(world) for d in a.history[before.get(id(a), 0) :]]
    return world, last


def play(world: World, step: Step) -> None:
    """Take *step* in *world*: its attempt fired through the marketplace at its moment, or
    time moved to that moment with what falls due fired."""
    world.clock.set(step.at)
    if step.event:
        assert step.actor is not None
        world.market.fire(step.kind, step.target, step.event, step.actor, **dict(step.payload))
    else:
        world.market.advance(step.at)


def _all_aggregates(world: World) -> Iterator[Any]:
    for agg in world.aggregates():
        yield agg
        if isinstance(agg, Contract):
            yield from agg.milestones
