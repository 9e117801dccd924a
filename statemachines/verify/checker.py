"""An explicit-state checker: every state of a bounded marketplace, every event, every role.

The world is small and fixed by :class:`Bounds`: one freelancer (``fl-1``), one
client company (``co-1``, owned by ``ana``) with an admin (``ada``) and a hiring
manager (``hal``), optionally an agency (``ag-1``, owned by ``ao``), and *N*
contracts between them (fixed-price, or hourly for the last ``hourly`` of them)
that may each get up to *M* milestones, with amounts from a small set. With
``agency_contracts`` the agency holds the last of them, worked by its member ``am``; with
``jobs`` the client has draft job posts with draft proposals, and an accepted offer
starts a contract through the marketplace.

From every reachable state the checker (:func:`check`):

* tries every event of every aggregate for one actor of every role (with a few
  arguments per event, see :func:`payloads`) through
  :meth:`~statemachines.marketplace.market.Marketplace.fire`, and checks that the
  outcome agrees with the machine tables: it fires iff an edge exists, the
  role may fire it and every guard passes (an independent reading of the
  table, :func:`predict`); ``IllegalTransition`` iff there is neither an edge
  nor a forbidden row; and a refused, illegal or not-permitted event changes
  nothing;
* moves time, only to the next moment that matters: the next due deadline, the
  next rule threshold after a timestamp of the world (every ``timedelta`` the
  rule modules define: 4 hours, 7, 14, 180 and 365 days, ...; five calendar
  years), and one second before it; due deadlines fire as the platform's
  scheduler fires them (:meth:`~statemachines.marketplace.market.Marketplace.advance`);
* checks the rulebook §6 invariants that apply in v0.1 in every new state
  (:data:`statemachines.machines.invariants.CONTRACT_INVARIANTS`,
  :data:`statemachines.marketplace.invariants.ACCOUNT_INVARIANTS`, and the
  step-wise ones, :data:`STEP_INVARIANTS`).

States are stored under a canonical key (:func:`world_key`): every field of every
aggregate, times relative to now, histories left out (except the three sums the
marketplace reads from them). With symmetry reduction (the default) contracts
of the same terms, and funded or settled milestones of the same amount, are
interchangeable, so their order is dropped from the key.

A violation stops the search; :attr:`Report.trace` is the shortest trace from the
initial world (breadth-first order), and :func:`scenario_yaml` writes it as a
scenario file for ``python -m statemachines run``.

>>> report = check(Bounds(contracts=1, milestones=1, team=False, depth=1))
>>> report.ok, report.states > 5, report.invariants > report.states
(True, True, True)
"""

from __future__ import annotations

import bisect
import enum
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

import attrs
import yaml

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.clock import UTC
from statemachines.core.engine import SPECS_BY_MODEL, Context, Decision, Edge, MachineSpec, Workflow
from statemachines.core.money import Money
from statemachines.errors import (
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    StatemachinesError,
    TransitionRefused,
)
from statemachines.machines.account.table import (
    Account,
    AccountState,
    AccountType,
    SuspensionReason,
)
from statemachines.machines.contract.table import Contract
from statemachines.machines.contract.values import PauseReason
from statemachines.machines.invariants import CONTRACT_INVARIANTS, TIMED_CONTRACT_INVARIANTS
from statemachines.machines.milestone import MilestoneState
from statemachines.machines.proposal import ProposalState
from statemachines.marketplace.invariants import (
    ACCOUNT_INVARIANTS,
    inv_acc_3_settled_with_nothing_left,
    inv_acc_9_no_activity_while_frozen,
)
from statemachines.marketplace.market import FREEZING, KINDS, Marketplace
from statemachines.rules import account as rules_account
from statemachines.rules import contract as rules_contract
from statemachines.rules import milestone as rules_milestone
from statemachines.rules.account import (
    REACTIVATION_YEARS,
    client_review_end,
    reactivation_deadline,
)

__all__ = [
    "ACTORS",
    "START",
    "STEP_INVARIANTS",
    "Bounds",
    "Coverage",
    "Progress",
    "Report",
    "Step",
    "World",
    "check",
    "moneys_of",
    "offers_start_contracts",
    "payloads",
    "predict",
    "replay",
    "scenario_yaml",
    "states_of",
    "step_closed_stays_closed",
    "step_money_never_shrinks",
    "step_no_way_back",
    "verdicts",
    "world_key",
]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""The initial world's time: a Monday morning."""

SECOND = timedelta(seconds=1)


def _rule_spans() -> tuple[timedelta, ...]:
    spans = {REACTIVATION_YEARS * timedelta(days=365)}
    for module in (rules_account, rules_contract, rules_milestone):
        spans.update(v for v in vars(module).values() if isinstance(v, timedelta) and v)
    return tuple(sorted(spans))


THRESHOLDS: tuple[timedelta, ...] = _rule_spans()
"""Rule spans after a timestamp at which behaviour may change (read from the rule modules)."""


# --------------------------------------------------------------------------- the world

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


T = TypeVar("T")


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
    """Try every illegal or unauthorised attempt in every state, not once per state name."""
    audit: bool = False
    """Check the abstraction: whenever a step reaches a key already seen, the table's
    verdict on every attempt (:func:`verdicts`) must be the same as in the state first
    stored under that key (a soundness test; slower)."""
    agency_contracts: int = 0
    """How many of the contracts (the last ones) agency ``ag-1`` holds, worked by its member
    ``am`` (implies the agency; with the team, ``am`` is a member of ``ag-1``). The agency's
    owner ``ao`` and business manager ``bm`` decide for it."""
    jobs: int = 0
    """Draft job posts of ``co-1`` (``J-1`` ...), each with a draft proposal by ``fl-1``
    (``P-1`` ...) and, when the agency is in the world, one by ``ag-1`` written by ``am``
    (``P-1-ag`` ...); accepting an offer starts a contract through the marketplace."""

    @property
    def has_agency(self) -> bool:
        """True when agency ``ag-1`` is in the world."""
        return self.agency or self.agency_contracts > 0


class _Clock:
    """A clock the checker sets freely (states are revisited out of time order)."""

    __slots__ = ("_now",)

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        self._now = now


def _save(agg: Any) -> tuple[Any, ...]:
    spec = SPECS_BY_MODEL[type(agg)]
    kids = tuple(tuple(_save(kid) for kid in getattr(agg, name)) for name in spec.children)
    return (agg, spec._get(agg), tuple(agg.history), kids)


def _load(saved: tuple[Any, ...]) -> None:
    agg, values, history, kids = saved
    spec = SPECS_BY_MODEL[type(agg)]
    for name, value in zip(_NAMES_OF[spec.name], values, strict=True):
        setattr(agg, name, value)
    agg.history[:] = history
    for captured in kids:
        for kid_saved in captured:
            _load(kid_saved)


_NAMES_OF = {spec.name: (*spec.fields, "state") for spec in SPECS_BY_MODEL.values()}


Snapshot = tuple[datetime, tuple[tuple[Any, ...], ...]]
"""The time, and every aggregate with its field values, history and children."""


class _Snapshot(tuple[datetime, tuple[tuple[Any, ...], ...]]):
    """A :data:`Snapshot` that also carries the store's items by kind (what exists)."""

    items: dict[str, dict[str, Any]] | None

    def __new__(
        cls,
        now: datetime,
        saved: tuple[tuple[Any, ...], ...],
        items: dict[str, dict[str, Any]] | None,
    ) -> _Snapshot:
        snap = super().__new__(cls, (now, saved))
        snap.items = items
        return snap


class World:
    """The bounded marketplace, with a clock the checker can set and restore."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.clock = _Clock(START)
        self.market = Marketplace(clock=self.clock)
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
        self.initial = self.snapshot()

    def aggregates(self) -> Iterator[Any]:
        """Every aggregate, in store order."""
        for kind in _ACTING:
            yield from self.market.store.values(kind)

    def snapshot(self) -> Snapshot:
        """The world as it is now: field values are immutable, so references are a copy.

        The aggregates themselves are reused: :meth:`restore` writes every field back. The
        snapshot also holds what the store holds (a contract started by an offer, its
        contact person), so that restoring it also takes out what was added since.
        """
        store = self.market.store
        items = getattr(store, "_items", None)
        return _Snapshot(
            self.clock.now(),
            tuple(_save(agg) for agg in self.aggregates()),
            {k: dict(v) for k, v in items.items()} if items is not None else None,
        )

    def restore(self, snap: Snapshot) -> None:
        """Put the world back as *snap* captured it."""
        now, saved = snap
        items = getattr(snap, "items", None)
        if items is not None:
            self.market.store._items = {k: dict(v) for k, v in items.items()}  # type: ignore[attr-defined]
        for item in saved:
            _load(item)
        self.clock.set(now)
        self.market.audit.clear()
        self.market.stuck.clear()
        self.on_restore()


def _actor(role: Role) -> Actor:
    return next(a for a in ACTORS if a.role is role)


# --------------------------------------------------------------------------- keys


_FIELDS: dict[type, tuple[str, ...]] = {}

_UNREAD = frozenset({"history", "id", "contract", "submissions"})
"""Fields no guard, effect or invariant reads (``submissions`` only counts; ids are keyed
by position, histories by the sums read from them)."""

WRITE_ONLY: dict[str, frozenset[str]] = {
    "Account": frozenset(
        {
            "visible",
            "profile_deleted",
            "close_requested_at",
            "suspension",
            "export_offered_at",
            "exported_at",
            "jss_basis",
        }
    ),
    "Contract": frozenset({"title", "ended_by", "refunded_at", "end_suggested"}),
    "Milestone": frozenset({"title", "approved_at", "auto_approved"}),
    "Membership": frozenset({"whole_company", "keeps_history"}),
    "Job": frozenset({"title", "last_activity_at", "warned_at"}),
    "Proposal": frozenset({"penalty"}),
    "RefundRequest": frozenset({"requested_at", "via_support"}),
}
"""Fields that only effects write and that nothing deciding reads (no guard, effect,
invariant or marketplace rule; only snapshots, diagrams and messages show them): left out
of the key (``tests/verify/test_exhaustive.py`` scans the package for reads)."""

READ_ONLY_WHILE: dict[tuple[str, str], str] = {
    ("Account", "suspended_at"): "suspended",
}
"""Fields read only while the aggregate is in one state, and written by every edge into
that state from another (``suspend`` sets ``suspended_at``): the state already says
whether they are set, and what they are compared with is keyed beside the account (which
contracts the suspension paused). Left out of the key; :func:`key_premises` checks in
every state the checker reaches that the field is set in that state."""


ONLY_SET: dict[str, frozenset[str]] = {
    "Contract": frozenset(
        {
            "client_feedback_at",
            "freelancer_feedback_at",
            "feedback_published_at",
        }
    ),
    "Job": frozenset({"posted_at"}),
}
"""Timestamps that code only tests for being set: keyed as set or not
(``tests/verify/test_exhaustive.py`` checks that no module compares them)."""


def _secs(*spans: timedelta) -> tuple[int, ...]:
    return tuple(sorted({0, *(int(s.total_seconds()) for s in spans)}))


def _since(*spans: timedelta) -> tuple[int, ...]:
    # for a moment that is never ahead of now (see PAST_ONLY): 0 would only tell "just now"
    # from "a second ago", which no guard does
    return tuple(sorted({int(s.total_seconds()) for s in spans}))


FIELD_SPANS: dict[tuple[str, str], tuple[int, ...]] = {
    # read only through a derived moment the key holds (the reactivation deadline), or as
    # set or not
    ("Account", "closed_at"): (),
    # compared only with a contract's paused_at (keyed as the comparison's outcome)
    ("Account", "suspended_at"): (),
    ("Contract", "paused_at"): (),
    # ACC-REACT-2: the link expires 4 hours after it was issued
    ("Account", "link_issued_at"): _since(rules_account.REACTIVATION_LINK_TTL),
    # PAY-2: bonuses for 365 days after the end; the feedback window and the company's
    # last billing review are derived moments the key holds
    ("Contract", "ended_at"): _since(rules_contract.BONUS_AFTER_END),
    # REF-180, REF-REQ: refunds and refund requests within 180 and 365 days of a payment
    ("Payment", "paid_at"): _since(
        rules_contract.REFUND_WINDOW,
        rules_contract.IN_PRODUCT_REQUEST_WINDOW,
        rules_contract.SUPPORT_REQUEST_WINDOW,
    ),
    # a payment's day label (the week or day it paid for) is read only by the invariant
    # that no week is invoiced twice, which compares labels with each other: keyed as set
    # or not here, and the contract key adds which payments share a label
    ("Payment", "source"): (),
    # moments compared with now only: due or not, available or not
    ("Payment", "available_at"): (0,),
    ("Milestone", "available_at"): (0,),
    ("Deadline", "due"): (0,),
    ("EscrowRefund", "due"): (0,),
    # read only in reasons and in invariants that relate them to a deadline the key holds
    ("Milestone", "submitted_at"): (),
    ("EscrowRefund", "opened_at"): (),
    ("EscrowRefund", "closed_at"): (),
    # only written (a milestone's submitted_at is compared, so these are not in ONLY_SET,
    # whose test looks for comparisons by field name)
    ("Proposal", "submitted_at"): (),
    ("Proposal", "closed_at"): (),
}
"""Per timestamp field (class and field name): the elapsed times, in seconds, that some
guard, effect or invariant compares ``now - t`` with, from the rule modules' spans;
``()``: only whether it is set matters. A field not listed is compared with every span
of :data:`THRESHOLDS` (the safe default). The fields of :data:`PAST_ONLY` leave out 0."""

COMPARED: dict[tuple[str, str], str] = {
    # ACC-REACT-2: the link stops working once 4 hours have passed (now >= issued + 4h)
    ("Account", "link_issued_at"): ">=",
    # PAY-2: a bonus is refused once more than 365 days have passed (now - ended > 365d)
    ("Contract", "ended_at"): ">",
    # REF-180, REF-REQ: refused once more than 180 or 365 days have passed
    ("Payment", "paid_at"): ">",
    # available from that moment on (now >= available_at)
    ("Payment", "available_at"): ">=",
    ("Milestone", "available_at"): ">=",
    # a deadline fires from its due moment (due <= now); ESC-2 refuses an answer from then
    ("Deadline", "due"): ">=",
    ("EscrowRefund", "due"): ">=",
}
"""How every rule compares ``now - t`` with the spans of a field in :data:`FIELD_SPANS`:
``">="`` (from the moment ``t + s`` on) or ``">"`` (once it has passed). One bucket then
holds both the moment itself and the side it belongs to, and the moment where the outcome
changes (``t + s``, or ``t + s`` plus a second) is the one time moves to. A field not
listed keeps three buckets per span (before, at, after), which serves either comparison.
The moments derived for calendar rules (the end of the reactivation window, of the feedback
window and of the company's billing review) are all compared ``now >= moment``.
``tests/verify/test_exhaustive.py`` checks the listed comparisons in the source."""

PAST_ONLY: tuple[tuple[str, str], ...] = (
    ("Account", "link_issued_at"),
    ("Contract", "ended_at"),
    ("Payment", "paid_at"),
)
"""Moments stamped with the time they happen and never ahead of now: their spans leave
out 0 (no guard tells "just now" from "a second ago"), so a payment made now and one made
earlier fall in one bucket until 180 days have passed. :func:`key_premises` checks in
every state that none of them is in the future."""


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        unread = _UNREAD | WRITE_ONLY.get(cls.__name__, frozenset())
        unread |= {f for c, f in READ_ONLY_WHILE if c == cls.__name__}
        names = tuple(f.name for f in attrs.fields(cls) if f.name not in unread)
        _FIELDS[cls] = names
    return names


_SPANS = (0, *(int(s.total_seconds()) for s in THRESHOLDS))
"""Elapsed times (seconds) at which a guard's comparison with a timestamp may change: 0 (the
moment itself) and every rule span."""
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Keyer:
    """Turns values into hashable keys: times bucketed by the rule spans, ids relative to
    their owner, reactivation tokens by what they are (the live link, or an old one).

    A past time *t* becomes its bucket: how many rule spans *s* (0 included) have
    ``t + s < now``, and whether ``t + s == now`` for one of them; every guard compares
    ``now - t`` only with a rule span (or, for calendar rules, reads a derived moment the
    key also holds: see :func:`world_key`), so the bucket decides every such comparison.
    A field every rule compares one way (:data:`COMPARED`) needs less: the number of spans
    the rules see passed (``>=`` or ``>``), the moment itself on the side the comparison
    puts it.
    A time also carries its next crossing ``t + s > now`` (for a future time: itself), as
    an :class:`_At` that :func:`world_key` turns into the rank of that moment among all such
    moments of the world, so that states under one key see their next moments in the same
    order.
    """

    __slots__ = ("link", "moments", "now", "own", "spans", "strict")

    def __init__(self, now: datetime, *, own: str = "") -> None:
        self.now = now
        self.own = own
        self.link: str | None = None
        self.moments: set[datetime] = set()
        self.spans: tuple[int, ...] = _SPANS
        self.strict: bool | None = None
        """How the spans are compared (:data:`COMPARED`): ``>`` (True), ``>=`` (False), or
        either (None: three buckets per span)."""

    def __call__(self, value: Any) -> Any:
        cls = value.__class__
        handler = _HANDLERS.get(cls)
        if handler is None:
            handler = _HANDLERS[cls] = _handler_for(cls)
        return handler(self, value)

    def string(self, value: str) -> Any:
        own = self.own
        if own and value.startswith(own):
            return "@" + value[len(own) :]
        if "-link-" in value:  # a reactivation token: only equality with the live one matters
            return "link" if value == self.link else "old-link"
        if _DATE.match(value):  # a day label (payment sources): a time like any other
            return self(datetime.fromisoformat(value).replace(tzinfo=UTC))
        return value

    def record(self, value: Any) -> tuple[Any, ...]:
        outer = self.spans, self.strict
        out: list[Any] = []
        for name, mode in _plan(value.__class__):
            v = getattr(value, name)
            if mode is None:
                out.append(v is not None)
            elif mode == "tokens":  # which tokens were used, not how often
                out.append(tuple(sorted({self(t) for t in v})))
            else:
                self.spans, self.strict = mode
                out.append(self(v))
        self.spans, self.strict = outer
        return tuple(out)

    def compare(self, cls: str, name: str) -> None:
        """Key the next times as *cls*'s field *name* is compared."""
        self.spans, self.strict = _how(cls, name)

    def derived(self) -> None:
        """Key the next times as a moment compared with now (``now >= moment``)."""
        self.spans = (0,)
        self.strict = False

    def reset(self) -> None:
        self.spans = _SPANS
        self.strict = None

    def time(self, value: datetime) -> Any:
        spans = self.spans
        if not spans:
            return True
        elapsed = int((self.now - value).total_seconds())
        nxt: datetime | None
        bucket: tuple[Any, ...]
        if self.strict is not None:
            # one comparison: the bucket is how many spans the rules see passed
            if self.strict:  # now - t > s
                crossed = bisect.bisect_left(spans, elapsed)
                later = spans[crossed] + 1 if crossed < len(spans) else None
            else:  # now - t >= s
                crossed = bisect.bisect_right(spans, elapsed)
                later = spans[crossed] if crossed < len(spans) else None
            nxt = None if later is None else value + timedelta(seconds=later)
            bucket = (crossed,)
        elif elapsed < 0:
            nxt = value
            bucket = ("future",)
        else:
            crossed = bisect.bisect_left(spans, elapsed)
            after = bisect.bisect_right(spans, elapsed)
            nxt = value + timedelta(seconds=spans[after]) if after < len(spans) else None
            bucket = (crossed, spans[crossed] == elapsed if crossed < len(spans) else False)
        if nxt is None:
            return bucket
        self.moments.add(nxt)
        return (*bucket, _At(nxt))


class _At:
    """A moment in a key being built, before :func:`world_key` replaces it with its rank.

    Its ``repr`` has a fixed width and sorts in time order, so units sorted by ``repr``
    (contracts, milestones, jobs) come out in the same order in every state whose moments
    have the same ranks.
    """

    __slots__ = ("at",)

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __repr__(self) -> str:
        return f"@{int(self.at.timestamp()):015d}"


def _ranked(value: Any, ranks: Mapping[datetime, int]) -> Any:
    """*value* with every :class:`_At` in it replaced by its moment's rank."""
    cls = value.__class__
    if cls is tuple:
        return tuple([_ranked(v, ranks) for v in value])
    if cls is _At:
        return ranks[value.at]
    assert cls is not list, "keys are built of tuples"
    return value


_PLANS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _plan(cls: type) -> tuple[tuple[str, Any], ...]:
    """Per field of an attrs class: how it is keyed (None: set or not; spans and how they
    are compared: a value)."""
    plan = _PLANS.get(cls)
    if plan is None:
        only = ONLY_SET.get(cls.__name__, frozenset())
        plan = _PLANS[cls] = tuple(
            (
                f,
                None if f in only else "tokens" if f == "used_tokens" else _how(cls.__name__, f),
            )
            for f in _fields(cls)
        )
    return plan


def _same(_: _Keyer, value: Any) -> Any:
    return value


def _handler_for(cls: type) -> Callable[[_Keyer, Any], Any]:  # noqa: PLR0911  (one per kind)
    if cls is type(None) or issubclass(cls, bool | int):
        return _same
    if issubclass(cls, str):
        return _Keyer.string
    if issubclass(cls, datetime):
        return _Keyer.time
    if issubclass(cls, Money):
        return lambda _, v: v.cents
    if issubclass(cls, enum.Enum):
        return lambda _, v: v.value
    if issubclass(cls, tuple | list):
        return lambda k, v: tuple([k(x) for x in v])
    if issubclass(cls, Mapping):
        return lambda k, v: tuple(sorted((a, k(b)) for a, b in v.items()))
    if attrs.has(cls):
        return _Keyer.record
    return lambda _, v: repr(v)


_HANDLERS: dict[type, Callable[[_Keyer, Any], Any]] = {}
_STRICT: dict[tuple[str, str], bool] = {field: op == ">" for field, op in COMPARED.items()}


def _how(cls: str, name: str) -> tuple[tuple[int, ...], bool | None]:
    """How field *name* of class *cls* is keyed: its spans (:data:`FIELD_SPANS`) and how the
    rules compare them (:data:`COMPARED`; None: either way)."""
    return FIELD_SPANS.get((cls, name), _SPANS), _STRICT.get((cls, name))


def _history_sums(acc: Account) -> tuple[int, int]:
    # What the marketplace reads from an account's history: withdrawals and past dues paid
    # (both bounded by the money the bounded world can pay). Reactivation links issued are
    # only counted to name the next token, which is new whatever the count.
    withdrawn = paid = 0
    for d in acc.history:
        if d.event == "withdraw":
            withdrawn += d.payload["amount"]["cents"]
        elif d.event == "pay_owed":
            paid += d.payload["amount"]["cents"]
    return withdrawn, paid


def world_key(world: World, *, symmetry: bool = True) -> tuple[Any, list[datetime]]:
    """The canonical key of the world's state, and the moments that matter next (the next
    rule span crossed after each timestamp, and every future time), in time order.

    A finite abstraction (see :class:`_Keyer`): times are bucketed by the rule spans
    and ordered by their next crossings; counters and names that no guard compares
    (reactivation links issued, token numbers, day labels) are left out; moments that
    calendar rules derive from a timestamp (the end of the 5-year reactivation window,
    the end of the feedback window, the end of a company's last billing review) are keyed
    as times; the one comparison between two timestamps a rule makes (a contract paused
    for billing at or after its client's suspension) is keyed as its outcome. With
    *symmetry*, contracts are keyed without their ids and sorted, and within a contract
    the funded, in-review, approved and cancelled milestones are sorted (drafts keep
    their order: the first draft is funded next).
    """
    keyer = _Keyer(world.clock.now())
    raw = _world_key(world, keyer, symmetry)
    moments = sorted(keyer.moments)
    return _ranked(raw, {m: i for i, m in enumerate(moments)}), moments


def _world_key(world: World, keyer: _Keyer, symmetry: bool) -> Any:  # noqa: PLR0912, PLR0915
    now = keyer.now
    parts: list[Any] = []
    store = world.market.store
    contracts_all = store.values("contract")
    for acc in store.values("account"):
        if acc.state is _CLOSED:
            # Closed is absorbing and has no edge out (INV-ACC-1): no guard reads a closed
            # account's fields again, and other machines read only its state and parties
            # (which its id fixes). Its timestamps would only add moments to stop at.
            parts.append((acc.id, _CLOSED.value, keyer(acc.deadlines), _history_sums(acc)))
            continue
        keyer.link = acc.link_token
        derived: Any = None
        if acc.state is AccountState.DEACTIVATED and acc.closed_at is not None:
            keyer.derived()
            derived = keyer(reactivation_deadline(acc.closed_at))
            keyer.reset()
        paused: Any = ()
        if acc.state is _SUSPENDED and acc.suspended_at is not None:
            # read only while suspended (SUSP-1 resumes what the suspension paused), and
            # only for contracts paused for billing
            since = acc.suspended_at
            paused = tuple(
                c.paused_at >= since
                for c in contracts_all
                if c.paused_at is not None and c.pause_reason is PauseReason.BILLING
            )
        parts.append((acc.id, acc.state.value, keyer(acc), _history_sums(acc), derived, paused))
    keyer.link = None
    for m in store.values("membership"):
        parts.append((m.id, m.state.value, keyer(m)))
    jobs = _job_keys(world, keyer, symmetry)
    contacts = dict(_items(store, "contact"))
    contracts = []
    for c in contracts_all:
        keyer.own = c.id if symmetry else ""
        fields: list[Any] = [contacts.get(c.id)]
        for name in _fields(Contract):
            value = getattr(c, name)
            if name in _CONTRACT_ONLY_SET or (name == "started_at" and not c.is_hourly):
                # started_at: only logging time reads it (hourly contracts)
                fields.append(value is not None)
            elif name == "late_feedback":
                # read only by membership tests (``side in c.late_feedback``), and a side is
                # added at most once (FB-3): the set, not the order it was allowed in
                fields.append(tuple(sorted(side.value for side in value)))
            elif name == "milestones":
                keys = [keyer(ms) for ms in value]
                if symmetry:
                    done = sorted(
                        (k for k, ms in zip(keys, value, strict=True) if ms.state is not _DRAFT),
                        key=repr,
                    )
                    drafts = [k for k, ms in zip(keys, value, strict=True) if ms.state is _DRAFT]
                    fields.append((tuple(done), tuple(drafts)))
                else:
                    fields.append(tuple(keys))
            else:
                keyer.compare("Contract", name)
                fields.append(keyer(value))
                keyer.reset()
        if c.payments:
            # which payments share a day label (the only way labels are compared)
            labels = [p.source for p in c.payments]
            fields.append(tuple(labels.index(x) for x in labels))
        if c.ended_at is not None:
            keyer.derived()
            fields.append(keyer(c.feedback_closes))
            if c.is_hourly:
                fields.append(keyer(client_review_end(c.ended_at)))
            keyer.reset()
        contracts.append(
            (c.state.value, tuple(fields)) if symmetry else (c.id, c.state.value, *fields)
        )
    keyer.own = ""
    if symmetry:
        contracts.sort(key=repr)
    parts.extend(("past_due", k, keyer(v)) for k, v in _items(store, "past_due"))
    week = 0
    if any(c.is_hourly for c in contracts_all):
        week = int((now - now.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds())
        week += now.weekday() * 86_400
    if jobs:
        return (tuple(parts), tuple(contracts), week, jobs)
    return (tuple(parts), tuple(contracts), week)


def _job_keys(world: World, keyer: _Keyer, symmetry: bool) -> tuple[Any, ...]:
    """Each job post with the proposals on it (and their terms), as one unit.

    With *symmetry*, a job and its proposals are keyed without their ids and the units
    sorted: the job's id is only read through the proposals' ``job`` field (the facts
    give a proposal its own job's state), and a contract an offer starts does not refer
    to its proposal, so swapping two jobs together with their proposals changes nothing
    any guard reads.
    """
    store = world.market.store
    terms = dict(_items(store, "terms"))
    proposals: dict[str, list[Any]] = {}
    for p in store.values("proposal"):
        keyer.own = p.job if symmetry else ""
        proposals.setdefault(p.job, []).append(
            (p.state.value, keyer(p), keyer(terms.get(p.id)))
            if symmetry
            else (p.id, p.state.value, keyer(p), keyer(terms.get(p.id)))
        )
    units = []
    for job in store.values("job"):
        keyer.own = job.id if symmetry else ""
        unit = (job.state.value, keyer(job), tuple(proposals.pop(job.id, ())))
        units.append(unit if symmetry else (job.id, *unit))
    keyer.own = ""
    units.extend(("no-job", k, tuple(v)) for k, v in proposals.items())
    if symmetry:
        units.sort(key=repr)
    return tuple(units)


_DRAFT = MilestoneState.DRAFT
_CLOSED = AccountState.CLOSED
_SUSPENDED = AccountState.SUSPENDED
_CONTRACT_ONLY_SET = ONLY_SET["Contract"]


def _items(store: Any, kind: str) -> list[tuple[str, Any]]:
    items = store._items.get(kind, {})
    return list(items.items())


# --------------------------------------------------------------------------- steps


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
    "suspend": ({"reason": SuspensionReason.BILLING},),
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
    if event == "pay_bonus":
        return [{"amount": Money(bounds.amounts[0])}]
    return [{}]


# --------------------------------------------------------------------------- the oracle


@attrs.frozen
class Expected:
    """What the table says an attempt must do."""

    outcome: str
    """``fires``, ``illegal``, ``not_permitted``, ``refused`` or ``invalid``."""
    edge: Edge[Any] | None = None
    refusing: tuple[str, ...] = ()


def predict(  # noqa: PLR0911, PLR0917  (one return per outcome; the attempt spelled out)
    flow: Workflow[Any, Any],
    agg: Any,
    event: str,
    actor: Actor,
    payload: Mapping[str, Any],
    now: datetime,
    seen: Callable[[str, Edge[Any], str, bool], None] | None = None,
) -> Expected:
    """Read the outcome of firing *event* off the table, without firing it.

    The edge (or forbidden row) for the state and event, the edge's roles and the
    machine's authorisation, its timer and every guard decide it; *seen* is told
    each guard's result (for coverage).
    """
    spec = flow.spec
    state = agg.state
    edges = spec.edges_from(state, event)
    row = spec.forbidden_from(state, event)
    if not edges and row is None:
        return Expected("illegal")
    try:
        given = flow._payload(agg, event, payload)
    except InvalidInput:
        return Expected("invalid")
    ctx = Context(now, actor, given, flow.facts(agg, now))
    if not edges:
        assert row is not None
        if actor.role not in row.roles or (
            spec.authorize is not None and spec.authorize(agg, actor, None) is not None
        ):
            return Expected("not_permitted")
        return Expected("refused", refusing=(row.rule_id,))
    matching = [e for e in edges if e.branch is None or e.branch.test(agg, ctx)]
    if len(matching) != 1:
        return Expected("ambiguous")
    edge = matching[0]
    if actor.role not in edge.roles or (
        spec.authorize is not None and spec.authorize(agg, actor, edge) is not None
    ):
        return Expected("not_permitted", edge)
    refusing: list[str] = []
    if edge.timer is not None:
        due = next((d for d in agg.deadlines if d.event == event), None)
        if due is None or due.due > now:
            refusing.append(edge.timer.rule_id)
    for guard in edge.guards:
        ok = guard.check(agg, ctx) is None
        if seen is not None:
            seen(spec.name, edge, guard.rule_id, ok)
        if not ok:
            refusing.append(guard.rule_id)
    if refusing:
        return Expected("refused", edge, tuple(dict.fromkeys(refusing)))
    return Expected("fires", edge)


_ROLES: dict[tuple[str, str, str], frozenset[Role]] = {}


def _roles_for(spec: MachineSpec[Any, Any], state: enum.Enum, event: str) -> frozenset[Role]:
    """Every role that some edge or forbidden row lets fire *event* in *state*."""
    key = (spec.name, state.name, event)
    roles = _ROLES.get(key)
    if roles is None:
        roles = frozenset().union(*(e.roles for e in spec.edges_from(state, event)))
        row = spec.forbidden_from(state, event)
        if row is not None:
            roles |= row.roles
        _ROLES[key] = roles
    return roles


def verdicts(world: World) -> tuple[Any, ...]:
    """What the table says every attempt the checker makes in the world's state would do.

    Per aggregate (contracts as a sorted multiset, so that symmetric states compare
    equal): for every event, actor and argument set (by position), the outcome, the
    refusing rule IDs and the target. Two states under one key must give the same.
    """
    market = world.market
    now = world.clock.now()
    out: list[Any] = []
    for kind in _ACTING:
        flow = market._flows[kind]
        per: list[Any] = []
        for agg in market.store.values(kind):
            sig = []
            for event in flow.spec.events:
                for actor in ACTORS:
                    for i, payload in enumerate(payloads(world, kind, agg, event)):
                        e = _frozen_client(market, kind, agg, event) or predict(
                            flow, agg, event, actor, payload, now
                        )
                        target = e.edge.target.value if e.edge is not None else None
                        sig.append((event, actor.role.value, i, e.outcome, e.refusing, target))
            anonymous = kind in {"contract", "job", "proposal"}  # symmetric: a multiset
            per.append(("" if anonymous else agg.id, agg.state.value, tuple(sig)))
        out.append(tuple(sorted(per, key=repr)))
    return tuple(out)


def _frozen_client(market: Marketplace, kind: str, agg: Any, event: str) -> Expected | None:
    """The marketplace's own refusal: no new funded work for a frozen client (ACC-FREEZE-D)."""
    if kind != "contract" or event not in FREEZING:
        return None
    client = market.account_of(agg.client)
    if client is None or client.state is AccountState.ACTIVE:
        return None
    return Expected("refused", refusing=("ACC-FREEZE-D",))


def _outcome(err: StatemachinesError) -> str:
    if isinstance(err, TransitionRefused):
        return "refused"
    if isinstance(err, NotPermitted):
        return "not_permitted"
    if isinstance(err, IllegalTransition):
        return "illegal"
    if isinstance(err, InvalidInput):
        return "invalid"
    return type(err).__name__


# --------------------------------------------------------------------------- invariants


def step_closed_stays_closed(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """INV-ACC-1, step-wise: an account closed before a step is closed after it."""
    return [
        f"account {k} left closed for {after.get(k)}"
        for k, v in before.items()
        if v == "closed" and after.get(k) != "closed"
    ]


_AFTER_END = {"ending", "ended", "refunded"}
_DONE_MS = {"approved", "cancelled"}


def step_no_way_back(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """INV-CTR-1 and MS-6, step-wise: no contract goes back to work after its end, and an
    approved or cancelled milestone stays so."""
    problems = []
    for k, v in before.items():
        now = after.get(k)
        if v in _AFTER_END and now not in _AFTER_END:
            problems.append(f"contract {k} went from {v} back to {now}")
        if v in _DONE_MS and now != v:
            problems.append(f"milestone {k} went from {v} to {now}")
    return problems


def step_money_never_shrinks(
    before: Mapping[str, tuple[int, int]], after: Mapping[str, tuple[int, int]]
) -> list[str]:
    """INV-MONEY-6, step-wise: what escrow released and what was refunded never go down."""
    return [
        f"contract {k}: released/refunded went from {v} to {after[k]}"
        for k, v in before.items()
        if k in after and (after[k][0] < v[0] or after[k][1] < v[1])
    ]


STEP_INVARIANTS: tuple[Callable[..., list[str]], ...] = (
    step_closed_stays_closed,
    step_no_way_back,
    step_money_never_shrinks,
)
"""Invariants of one step, defined here because they compare two states: each takes the
states (or amounts) by aggregate id before and after the step (see :func:`states_of`)."""


def offers_start_contracts(market: Marketplace, initial: int) -> list[str]:
    """Every accepted offer started exactly one contract, with the proposal's parties and
    the member who sent the offer as its contact person (TEAM-2); the world's first
    *initial* contracts were there from the start."""
    started = sorted(
        (
            (c.client, c.freelancer, c.agency, c.member, market._contact(c.id))
            for c in list(market.store.values("contract"))[initial:]
        ),
        key=repr,
    )
    accepted = sorted(
        (
            (
                p.company,
                p.freelancer,
                p.agency,
                p.author,
                next((d.actor.id for d in p.history if d.event == "send_offer"), None),
            )
            for p in market.store.values("proposal")
            if p.state is ProposalState.ACCEPTED
        ),
        key=repr,
    )
    if started == accepted:
        return []
    return [f"accepted offers {accepted} but contracts started {started}"]


def key_premises(market: Marketplace, now: datetime) -> list[str]:
    """What the state key assumes of every state: a field read only in one state is set
    whenever the aggregate is in it (:data:`READ_ONLY_WHILE`), and no moment of
    :data:`PAST_ONLY` is ahead of *now*."""
    problems = []
    for (cls_name, name), state in READ_ONLY_WHILE.items():
        kind = cls_name.lower()
        for agg in market.store.values(kind):
            if agg.state.value == state and getattr(agg, name) is None:
                problems.append(f"{kind} {agg.id} is {state} but its {name} is not set")
    for cls_name, name in PAST_ONLY:
        for record in _records(market, cls_name):
            at = getattr(record, name)
            if at is not None and at > now:
                problems.append(
                    f"{cls_name.lower()} {record.id}: its {name} ({at.isoformat()}) is ahead of now"
                )
    return problems


def _records(market: Marketplace, cls_name: str) -> Iterable[Any]:
    """Every record of the class *cls_name* in the world (aggregates, and the payments
    inside contracts)."""
    if cls_name == "Payment":
        return [p for c in market.store.values("contract") for p in c.payments]
    if cls_name.lower() not in KINDS:
        msg = f"the checker does not know where to find {cls_name} records"
        raise ValueError(msg)
    return market.store.values(cls_name.lower())


def states_of(market: Marketplace) -> dict[str, str]:
    """The state of every account, membership, contract and milestone, by id (for
    :data:`STEP_INVARIANTS`)."""
    out: dict[str, str] = {}
    for kind in _KINDS:
        for agg in market.store.values(kind):
            out[agg.id] = agg.state.value
            if isinstance(agg, Contract):
                for ms in agg.milestones:
                    out[ms.id] = ms.state.value
    return out


def moneys_of(market: Marketplace) -> dict[str, tuple[int, int]]:
    """Per contract: cents released from escrow and refunded (for
    :func:`step_money_never_shrinks`)."""
    return {
        c.id: (c.escrow_released.cents, c.refunds_total.cents)
        for c in market.store.values("contract")
    }


# --------------------------------------------------------------------------- coverage


@attrs.define
class Coverage:
    """Which states were reached, which edges fired, which guards passed and refused."""

    states: set[tuple[str, str]] = attrs.Factory(set)
    edges: set[tuple[str, int]] = attrs.Factory(set)
    guards: dict[tuple[str, int, str], set[bool]] = attrs.Factory(dict)

    def guard(self, machine: str, edge: Edge[Any], rule_id: str, ok: bool) -> None:
        """Record one guard result."""
        index = _edge_index(machine, edge)
        self.guards.setdefault((machine, index, rule_id), set()).add(ok)

    def fired(self, machine: str, edge: Edge[Any]) -> None:
        """Record an edge that fired."""
        self.edges.add((machine, _edge_index(machine, edge)))

    def merge(self, other: Coverage) -> None:
        """Add *other*'s observations to these."""
        self.states |= other.states
        self.edges |= other.edges
        for k, v in other.guards.items():
            self.guards.setdefault(k, set()).update(v)


_EDGE_INDEX: dict[tuple[str, int], int] = {}


def _edge_index(machine: str, edge: Edge[Any]) -> int:
    key = (machine, id(edge))
    index = _EDGE_INDEX.get(key)
    if index is None:
        from statemachines.core.engine import SPECS  # noqa: PLC0415  (the registry, late)

        edges = SPECS[machine].edges
        index = next((i for i, e in enumerate(edges) if e is edge), -1)
        if index < 0:  # an edited copy of a row (tests that break a guard): same place
            index = next(
                (
                    i
                    for i, e in enumerate(edges)
                    if (e.event, e.sources, e.target, e.branch)
                    == (edge.event, edge.sources, edge.target, edge.branch)
                ),
                -1,
            )
        _EDGE_INDEX[key] = index
    return index


# --------------------------------------------------------------------------- the search


@attrs.define
class Report:
    """What a check found."""

    bounds: Bounds
    states: int = 0
    transitions: int = 0
    attempts: int = 0
    invariants: int = 0
    seconds: float = 0.0
    complete: bool = True
    """False when ``max_states`` cut the search short."""
    depth: int = 0
    merged: int = 0
    """Steps that reached a key already seen (with ``audit``: each one's verdicts compared)."""
    violation: str | None = None
    trace: tuple[Step, ...] = ()
    coverage: Coverage = attrs.Factory(Coverage)
    paths: dict[tuple[str, int], tuple[Step, ...]] = attrs.Factory(dict)
    """For every edge that fired: the shortest trace from the initial world that fires it."""
    tried: dict[tuple[str, str, str], int] = attrs.Factory(dict)
    """Attempts made, by kind of aggregate, event and role."""
    fired: dict[tuple[str, str, str], int] = attrs.Factory(dict)
    """Attempts that fired, by kind of aggregate, event and role (deadlines not counted)."""

    def by(
        self, counts: Mapping[tuple[str, str, str], int], *, kind: str = "", role: str = ""
    ) -> int:
        """The sum of *counts* (:attr:`tried` or :attr:`fired`) for a kind and/or a role."""
        return sum(
            n
            for (k, _, r), n in counts.items()
            if (not kind or k == kind) and (not role or r == role)
        )

    @property
    def ok(self) -> bool:
        """True when no violation was found."""
        return self.violation is None

    @property
    def rate(self) -> float:
        """States per second."""
        return self.states / self.seconds if self.seconds else 0.0

    @property
    def exhaustive(self) -> bool:
        """True when every reachable state of the bound was explored: neither
        ``max_states`` nor ``depth`` stopped the search (a depth the search never reached
        stopped nothing)."""
        depth = self.bounds.depth
        return self.complete and (depth is None or self.depth < depth)

    def reach(self) -> str:
        """How far the search went, in words."""
        if not self.complete:
            return "cut short by --max-states: states still queued were not explored"
        if not self.exhaustive:
            return (
                f"explored to depth {self.bounds.depth}: states further from the start, if "
                "any, were not explored (--depth 0 runs to the end)"
            )
        return "explored to the end: every reachable state of this bound"

    def summary(self) -> str:
        """The report in a few lines."""
        b = self.bounds
        lines = [
            f"bounds: {b.contracts} contract(s) ({b.hourly} hourly), up to {b.milestones} "
            f"milestone(s) each, amounts {', '.join(str(Money(a)) for a in b.amounts)}, "
            f"agency {'yes' if b.has_agency else 'no'}"
            + (f" (holds {b.agency_contracts} contract(s))" if b.agency_contracts else "")
            + (f", {b.jobs} job post(s) with proposals" if b.jobs else "")
            + f", symmetry {'on' if b.symmetry else 'off'}, "
            f"depth {b.depth if b.depth is not None else 'unbounded'}",
            f"states: {self.states}   transitions: {self.transitions}   attempts: {self.attempts}"
            f"   invariants checked: {self.invariants}   merges: {self.merged}",
            f"CPU time: {self.seconds:.2f} s   states/s: {self.rate:,.0f}   "
            f"max depth: {self.depth}",
            self.reach(),
        ]
        kinds = [k for k in _ACTING if self.by(self.tried, kind=k)]
        lines.append(
            "fired/tried by kind: "
            + ", ".join(
                f"{k} {self.by(self.fired, kind=k):,}/{self.by(self.tried, kind=k):,}"
                for k in kinds
            )
        )
        if b.has_agency:
            lines.append(
                "fired/tried by the agency's people: "
                + ", ".join(
                    f"{r.value} {self.by(self.fired, role=r.value):,}/"
                    f"{self.by(self.tried, role=r.value):,}"
                    for r in _AGENCY_ROLES
                )
            )
        if self.violation is None:
            lines.append("no violation found")
        else:
            lines.append(f"VIOLATION: {self.violation}")
            lines.append(f"shortest trace ({len(self.trace)} steps):")
            lines.extend(f"  {i}. {s}" for i, s in enumerate(self.trace, 1))
        return "\n".join(lines)


_AGENCY_ROLES = (Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.AGENCY_MEMBER)

BOOKKEEPING = frozenset({"export_records"})
"""Events that only record that something was done (checked in every state, never expanded:
no guard of v0.1 reads what they write)."""


class _Found(Exception):
    def __init__(self, step: Step | None, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.step = step


_KINDS = ("account", "membership", "contract")
"""The kinds :func:`states_of` and :func:`moneys_of` read (job states are not comparable
with the step invariants' names: a job is ``closed`` and reposted)."""
_ACTING = ("account", "membership", "job", "proposal", "contract")
"""Every kind of aggregate the checker tries events on (the marketplace's order)."""


def _next_times(world: World, moments: Iterable[datetime]) -> list[datetime]:
    """Where time moves from now: the next moment that matters (a deadline, or a rule span
    crossed after a timestamp, see :func:`world_key`), and one second before it."""
    now = world.clock.now()
    due = [agg.deadlines[0].due for agg in world.aggregates() if agg.deadlines]
    later = [m for m in moments if m > now]
    if due:
        later.append(min(due))
    if not later:
        return []
    moment = min(later)
    return [at for at in (moment, moment - SECOND) if at > now]


class _Facts:
    """Caches an account's obligations while the world does not change.

    The checker tries dozens of events on an unchanged world, and reading the
    obligations is the dearest part of each. The cache is used by the checker's
    own reading and by the first reading of an account event it fires (made
    before anything changes, and only when *token* names that account); every
    other reading (after a change, during the marketplace's effects) is fresh.
    """

    def __init__(self, compute: Callable[[Account, datetime], Any]) -> None:
        self.compute = compute
        self.cache: dict[tuple[str, datetime], Any] = {}
        self.token: str | None = None
        self.reading = False

    def __call__(self, acc: Account, now: datetime) -> Any:
        use = self.reading or self.token == acc.id
        self.token = None
        if not use:
            return self.compute(acc, now)
        key = (acc.id, now)
        value = self.cache.get(key)
        if value is None:
            value = self.cache[key] = self.compute(acc, now)
        return value


class _Search:
    def __init__(
        self,
        bounds: Bounds,
        *,
        progress: Callable[[Progress], None] | None = None,
        every: float = 10.0,
    ) -> None:
        self.bounds = bounds
        self.world = World(bounds)
        self.report = Report(bounds)
        self.first: dict[tuple[str, int], tuple[Any, Step]] = {}
        self.seen_once: set[tuple[Any, ...]] = set()
        self.denied: set[tuple[Any, ...]] = set()
        self.max_payments = (
            bounds.payments if bounds.payments is not None else bounds.milestones + 2
        )
        market = self.world.market
        self.facts = _Facts(market.obligations)
        market.accounts.obligations = self.facts
        self.world.on_restore = self.facts.cache.clear
        self.progress = progress
        self.every = every

    def key(self) -> tuple[Any, list[datetime]]:
        return world_key(self.world, symmetry=self.bounds.symmetry)

    def in_bound(self) -> bool:
        for c in self.world.market.store.values("contract"):
            if len(c.milestones) > self.bounds.milestones or len(c.payments) > self.max_payments:
                return False
            if len(c.refund_requests) > 1:
                return False
        return True

    def invariants(self, step: Step | None, before: tuple[Any, ...] | None, decision: Any) -> None:
        world = self.world
        market = world.market
        now = world.clock.now()
        problems: list[str] = []
        count = 0
        for c in market.store.values("contract"):
            for inv in CONTRACT_INVARIANTS:
                problems += inv(c)
            for timed in TIMED_CONTRACT_INVARIANTS:
                problems += timed(c, now)
            count += len(CONTRACT_INVARIANTS) + len(TIMED_CONTRACT_INVARIANTS)
        for inv_m in ACCOUNT_INVARIANTS:
            problems += inv_m(market)
        count += len(ACCOUNT_INVARIANTS)
        if self.bounds.jobs:
            problems += offers_start_contracts(market, self.bounds.contracts)
            count += 1
        problems += key_premises(market, now)
        count += 1
        if before is not None:
            states_before, moneys_before, accounts_before, lengths = before
            after = states_of(market)
            problems += step_closed_stays_closed(states_before, after)
            problems += step_no_way_back(states_before, after)
            problems += step_money_never_shrinks(moneys_before, moneys_of(market))
            count += 3
            for acc in market.store.values("account"):
                if any(d.event == "settle" for d in acc.history[lengths[acc.id] :]):
                    problems += inv_acc_3_settled_with_nothing_left(market, acc)
                    count += 1
            if decision is not None and step is not None:
                agg = market.get(step.kind, step.target)
                problems += inv_acc_9_no_activity_while_frozen(
                    accounts_before, step.kind, agg, decision
                )
                count += 1
        self.report.invariants += count
        if problems:
            raise _Found(step, "; ".join(problems))

    def before(self) -> tuple[Any, ...]:
        accounts: dict[str, AccountState] = {}
        for acc in self.world.market.store.values("account"):
            accounts[acc.id] = acc.state
            if acc.company is not None:
                accounts[acc.company] = acc.state
        lengths = {acc.id: len(acc.history) for acc in self.world.market.store.values("account")}
        return states_of(self.world.market), moneys_of(self.world.market), accounts, lengths

    def run(self) -> Report:
        report = self.report
        world = self.world
        started = time.process_time()
        key, moments = self.key()
        parents: dict[Any, tuple[Any, Step | None]] = {key: (None, None)}
        depth_of = {key: 0}
        queue: deque[tuple[Any, Snapshot, list[datetime]]] = deque([(key, world.initial, moments)])
        report.states = 1
        current = key
        audit: dict[Any, tuple[Any, ...]] | None = None
        if self.bounds.audit:
            audit = {key: verdicts(world)}
        tell = started + self.every
        try:
            self.invariants(None, None, None)
            while queue:
                current, snap, moments = queue.popleft()
                depth = depth_of[current]
                report.depth = max(report.depth, depth)
                if self.progress is not None and time.process_time() >= tell:
                    spent = time.process_time() - started
                    self.progress(Progress(report.states, len(queue), depth, spent))
                    tell = started + spent + self.every
                expand = self.bounds.depth is None or depth < self.bounds.depth
                for step, new_snap in self.successors(current, snap, moments, expand=expand):
                    if not expand:
                        continue
                    new_key, new_moments = step[0]
                    if audit is not None:
                        self.audit(audit, new_key, step[1])
                    if new_key in parents:
                        report.merged += 1
                        continue
                    parents[new_key] = (current, step[1])
                    depth_of[new_key] = depth + 1
                    report.states += 1
                    queue.append((new_key, new_snap, new_moments))
                    if (
                        self.bounds.max_states is not None
                        and report.states >= self.bounds.max_states
                    ):
                        report.complete = False
                        queue.clear()
                        break
        except _Found as found:
            report.violation = found.problem
            last = () if found.step is None else (found.step,)
            report.trace = _trace(parents, current) + last
        report.paths = {
            edge: (*_trace(parents, node), step) for edge, (node, step) in self.first.items()
        }
        report.seconds = time.process_time() - started
        return report

    def audit(self, seen: dict[Any, tuple[Any, ...]], key: Any, step: Step) -> None:
        """Compare the verdicts of the state a step reached (the world now) with those of
        the state first stored under its key."""
        mine = verdicts(self.world)
        first = seen.setdefault(key, mine)
        if first != mine:
            diff = next((a, b) for a, b in zip(_flat(first), _flat(mine), strict=False) if a != b)
            raise _Found(step, f"{step}: the key merges states with different verdicts: {diff}")

    def record_new(self, snap: Snapshot, key: Any, step: Step) -> None:
        """Note every edge the step fired (cascades and child aggregates included)."""
        cov = self.report.coverage
        pending = list(snap[1])
        while pending:
            agg, _, history, kids = pending.pop()
            for captured in kids:
                pending.extend(captured)
            if len(agg.history) == len(history):
                continue
            spec = SPECS_BY_MODEL[type(agg)]
            for d in agg.history[len(history) :]:
                for edge in spec.edges_from(d.source, d.event):
                    if edge.target is d.target:
                        index = (spec.name, _edge_index(spec.name, edge))
                        cov.edges.add(index)
                        self.first.setdefault(index, (key, step))
                        break

    def successors(  # noqa: PLR0912, PLR0915  (every attempt and every time step)
        self, key: Any, snap: Snapshot, moments: list[datetime], *, expand: bool
    ) -> Iterator[tuple[tuple[tuple[Any, list[datetime]], Step], Snapshot]]:
        """Every state one step from *snap* (whose key is *key*, and *moments* the moments
        that matter next there): each attempt that fires, then each move of time; with
        *expand* false, the attempts are only checked."""
        world = self.world
        market = world.market
        report = self.report
        cov = report.coverage
        world.restore(snap)
        now = world.clock.now()
        before = self.before()
        for agg in world.aggregates():
            cov.states.add((SPECS_BY_MODEL[type(agg)].name, agg.state._name_))
            if isinstance(agg, Contract):
                for ms in agg.milestones:
                    cov.states.add(("milestone", ms.state._name_))
        kinds = self.bounds.focus or _ACTING
        targets = [(kind, agg.id) for kind in kinds for agg in market.store.values(kind)]
        dirty = False
        seen_once = self.seen_once
        thorough = self.bounds.thorough
        for kind, agg_id in targets:
            flow = market._flows[kind]
            spec: MachineSpec[Any, Any] = flow.spec
            # an event fired on this aggregate is undone before the next attempt, so its
            # state and parties are those of the snapshot throughout
            state = market.get(kind, agg_id).state
            parties = _parties(market.get(kind, agg_id))
            for event in spec.events:
                roles = _roles_for(spec, state, event)
                for actor in ACTORS:
                    if actor.role not in roles:
                        # Illegal, or a role the table never lets fire it here: the engine
                        # decides from the state's name and the role alone, so once is enough.
                        memo: tuple[Any, ...] = (spec.name, state._name_, event, actor.role)
                        if memo in seen_once and not thorough:
                            continue
                        seen_once.add(memo)
                    elif not thorough:
                        # A role the table lets fire it, refused by the machine's authorisation
                        # (not this account's holder, not a party): that depends on who the actor
                        # is and on the aggregate's parties, which never change.
                        memo = (spec.name, parties, state._name_, event, actor)
                        if memo in self.denied:
                            continue
                    if dirty:
                        world.restore(snap)
                        dirty = False
                    agg = market.get(kind, agg_id)
                    for payload in payloads(world, kind, agg, event):
                        if dirty:
                            world.restore(snap)
                            dirty = False
                            agg = market.get(kind, agg_id)
                        report.attempts += 1
                        tally = (kind, event, actor.role.value)
                        report.tried[tally] = report.tried.get(tally, 0) + 1
                        self.facts.reading = True
                        try:
                            expected = _frozen_client(market, kind, agg, event) or predict(
                                flow, agg, event, actor, payload, now, cov.guard
                            )
                        finally:
                            self.facts.reading = False
                        saved = spec._get(agg)
                        length = len(agg.history)
                        if kind == "account":
                            self.facts.token = agg_id
                        try:
                            decision = market.fire(kind, agg_id, event, actor, **payload)
                        except StatemachinesError as err:
                            got = _outcome(err)
                            if spec._get(agg) != saved or len(agg.history) != length:
                                step = Step(
                                    now, kind, agg_id, event, actor, tuple(payload.items()), got
                                )
                                raise _Found(
                                    step, f"{step}: {got}, but the aggregate changed"
                                ) from None
                            if got != expected.outcome:
                                step = Step(
                                    now, kind, agg_id, event, actor, tuple(payload.items()), got
                                )
                                raise _Found(
                                    step,
                                    f"{step}: the table says {expected.outcome}"
                                    f"{list(expected.refusing) or ''} but it was {got}: {err}",
                                ) from None
                            if isinstance(err, TransitionRefused):
                                _check_rules(
                                    err, expected, now, kind, agg_id, event, actor, payload
                                )
                            elif got == "not_permitted" and expected.edge is not None:
                                self.denied.add((spec.name, parties, state._name_, event, actor))
                            continue
                        dirty = True
                        self.facts.cache.clear()
                        edge = expected.edge
                        step = Step(
                            now, kind, agg_id, event, actor, tuple(payload.items()), agg.state.value
                        )
                        if expected.outcome != "fires" or edge is None:
                            raise _Found(
                                step,
                                f"{step}: fired, but the table says {expected.outcome}"
                                f"{list(expected.refusing) or ''}",
                            )
                        if decision.target is not edge.target:
                            raise _Found(
                                step,
                                f"{step}: went to {decision.target.value}, but the table's target "
                                f"is {edge.target.value}",
                            )
                        self.record_new(snap, key, step)
                        report.transitions += 1
                        report.fired[tally] = report.fired.get(tally, 0) + 1
                        # The platform fires system events itself (effects, deadlines): they
                        # are checked against the table and the invariants here, but start
                        # no new states.
                        if actor.role is Role.SYSTEM:
                            self.invariants(step, before, decision)
                            continue
                        if event in BOOKKEEPING or not expand or not self.in_bound():
                            continue
                        new = self.key()
                        if new[0] == key:
                            continue
                        self.invariants(step, before, decision)
                        yield (new, step), world.snapshot()
        if not expand:
            return
        world.restore(snap)
        for at in _next_times(world, moments):
            world.restore(snap)
            world.clock.set(at)
            step = Step(at)
            try:
                fired = market.advance(at)
            except StatemachinesError as err:
                raise _Found(step, f"{step}: a deadline failed: {err}") from None
            if market.stuck:
                raise _Found(step, f"{step}: deadlines were refused: {market.stuck}")
            report.transitions += len(fired)
            step = attrs.evolve(step, result=", ".join(f"{d.event}" for d in fired))
            self.record_new(snap, key, step)
            if not self.in_bound():
                continue
            new = self.key()
            self.invariants(step, before, None)
            yield (new, step), world.snapshot()


_PARTY_FIELDS = ("client", "freelancer", "agency", "member", "company", "team", "person", "owner")


def _parties(agg: Any) -> tuple[Any, ...]:
    """What a machine's authorisation reads of an aggregate (its id and its parties): a
    contract an offer starts gets the next free id whoever holds it."""
    return (agg.id, *(getattr(agg, name, None) for name in _PARTY_FIELDS))


def _flat(sig: tuple[Any, ...]) -> Iterator[Any]:
    for group in sig:
        for agg_id, state, attempts in group:
            yield agg_id, state
            for attempt in attempts:
                yield agg_id, attempt


def _trace(parents: Mapping[Any, tuple[Any, T | None]], node: Any) -> tuple[T, ...]:
    """The steps from the root of a breadth-first search to *node*, following *parents*."""
    steps: list[T] = []
    while True:
        parent, step_in = parents[node]
        if step_in is None:
            return tuple(reversed(steps))
        steps.append(step_in)
        node = parent


def replay(bounds: Bounds, steps: Iterable[Step]) -> tuple[World, list[Decision]]:
    """Run *steps* on a fresh world of *bounds*; returns it and the last step's decisions."""
    world = World(bounds)
    market = world.market
    last: list[Decision] = []
    for step in steps:
        before = {id(a): len(a.history) for a in _all_aggregates(world)}
        world.clock.set(step.at)
        if step.event:
            assert step.actor is not None
            market.fire(step.kind, step.target, step.event, step.actor, **dict(step.payload))
        else:
            market.advance(step.at)
        last = [d for a in _all_aggregates(world) for d in a.history[before.get(id(a), 0) :]]
    return world, last


def _all_aggregates(world: World) -> Iterator[Any]:
    for agg in world.aggregates():
        yield agg
        if isinstance(agg, Contract):
            yield from agg.milestones


def _check_rules(  # noqa: PLR0917  (the attempt, for the message)
    err: TransitionRefused,
    expected: Expected,
    now: datetime,
    kind: str,
    agg_id: str,
    event: str,
    actor: Actor,
    payload: Mapping[str, Any],
) -> None:
    if set(err.rule_ids) != set(expected.refusing):
        step = Step(now, kind, agg_id, event, actor, tuple(payload.items()), "refused")
        raise _Found(
            step,
            f"{step}: refused by {list(err.rule_ids)}, but the table's guards refuse "
            f"{list(expected.refusing)}",
        )


@attrs.frozen
class Progress:
    """Where a long search is (see :func:`check`'s *progress*)."""

    states: int
    queued: int
    depth: int
    seconds: float
    """CPU seconds since the search started."""

    def line(self) -> str:
        """One line for a terminal."""
        rate = self.states / self.seconds if self.seconds else 0.0
        return (
            f"{self.states:,} states, {self.queued:,} queued, depth {self.depth}, "
            f"{self.seconds:,.0f} s CPU ({rate:,.0f} states/s)"
        )


def check(
    bounds: Bounds, *, progress: Callable[[Progress], None] | None = None, every: float = 10.0
) -> Report:
    """Explore every state of the bounded marketplace; stop at the first violation.

    *progress*, when given, is called about every *every* CPU seconds while the search runs
    (``python -m statemachines check --progress`` prints each call on standard error).
    """
    _ROLES.clear()  # tables may have been edited since the last run (tests break guards)
    _EDGE_INDEX.clear()
    return _Search(bounds, progress=progress, every=every).run()


# --------------------------------------------------------------------------- scenario files


def _yaml_value(value: Any) -> Any:
    if isinstance(value, Money):
        return f"{value.cents // 100}.{value.cents % 100:02d} {value.currency}"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_yaml_value(v) for v in value]
    if attrs.has(type(value)):
        return _fields_of(value)
    return value


def _fields_of(agg: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in attrs.fields(type(agg)):
        if f.name == "history":
            continue
        value = getattr(agg, f.name)
        default = f.default
        factory = getattr(default, "factory", None)
        if factory is not None:  # an attrs.Factory
            default = factory(agg) if default.takes_self else factory()
        if default is not attrs.NOTHING and value == default:
            continue
        out[f.name] = _yaml_value(value)
    return out


def scenario_yaml(report: Report, title: str | None = None) -> str:
    """The report's trace as a scenario file for ``python -m statemachines run``."""
    world = World(report.bounds)
    aggregates: dict[str, Any] = {}
    for agg in world.aggregates():
        fields = _fields_of(agg)
        fields.pop("id", None)
        aggregates[agg.id] = {"machine": SPECS_BY_MODEL[type(agg)].name, **fields}
    used = {s.actor for s in report.trace if s.actor is not None}
    actors = {
        _NAMES[a]: f"{a.role.value}:{a.id}" + (f":{a.party}" if a.party else "")
        for a in ACTORS
        if a in used and a.role is not Role.SYSTEM
    }
    steps: list[dict[str, Any]] = []
    now = START
    for s in report.trace:
        entry: dict[str, Any] = {}
        if s.at != now:
            entry["at"] = _yaml_value(s.at)
            now = s.at
        if s.event:
            entry["actor"] = _NAMES[s.actor] if s.actor is not None else "system"
            entry["do"] = s.event
            entry["on"] = s.target
            if s.payload:
                entry["with"] = {k: _yaml_value(v) for k, v in s.payload}
            if s.result:
                entry["expect"] = {"state": s.result}
        else:
            entry["note"] = f"time moves; deadlines fire: {s.result or 'none'}"
        steps.append(entry)
    doc = {
        "scenario": title or f"Checker counterexample: {report.violation}",
        "start": _yaml_value(START),
        "actors": actors,
        "world": aggregates,
        "steps": steps,
    }
    header = (
        "# Written by `python -m statemachines check`: the shortest trace to a violation.\n"
        f"# {report.violation}\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, width=100)
