"""The checker's state key: a finite abstraction of the world, and the premises it rests on.

:func:`world_key` turns the world into a hashable key. Times are bucketed by the rule spans
each field is compared with (:data:`FIELD_SPANS`, :data:`COMPARED`, :data:`PAST_ONLY`),
fields that nothing deciding reads are left out (:data:`WRITE_ONLY`,
:data:`READ_ONLY_WHILE`), timestamps only tested for being set are keyed as set or not
(:data:`ONLY_SET`), and with symmetry interchangeable units are sorted.
:func:`key_premises` checks, in every state, what the key assumes. Why the abstraction is
sound, and how that is checked, is in ``docs/verification.md``.
"""

from __future__ import annotations

import bisect
import enum
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

import attrs

from statemachines.core.clock import UTC
from statemachines.core.money import Money
from statemachines.machines.account.table import Account, AccountState
from statemachines.machines.contract.table import Contract
from statemachines.machines.contract.values import PauseReason
from statemachines.machines.milestone import MilestoneState
from statemachines.marketplace.market import KINDS, Marketplace
from statemachines.rules import account as rules_account
from statemachines.rules import contract as rules_contract
from statemachines.rules import milestone as rules_milestone
from statemachines.rules.account import (
    REACTIVATION_YEARS,
    client_review_end,
    reactivation_deadline,
)
from statemachines.verify.world import World

__all__ = [
    "COMPARED",
    "FIELD_SPANS",
    "ONLY_SET",
    "PAST_ONLY",
    "READ_ONLY_WHILE",
    "STARTED",
    "THRESHOLDS",
    "WRITE_ONLY",
    "KeyCache",
    "key_premises",
    "world_key",
]


def _rule_spans() -> tuple[timedelta, ...]:
    spans = {REACTIVATION_YEARS * timedelta(days=365)}
    for module in (rules_account, rules_contract, rules_milestone):
        spans.update(v for v in vars(module).values() if isinstance(v, timedelta) and v)
    return tuple(sorted(spans))


THRESHOLDS: tuple[timedelta, ...] = _rule_spans()
"""Rule spans after a timestamp at which behaviour may change (read from the rule modules)."""


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


STARTED: tuple[tuple[str, str], ...] = (("Contract", "started_at"),)
"""Moments never ahead of now that are keyed as set or not: the only comparison that
reads a contract's start is BILL-1's ``at < c.started_at`` for time logged at *at*, and the
checker logs time at now. :func:`key_premises` checks in every state that none of them is
in the future, so that comparison is false in every state the checker reaches."""


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

    The key is built of parts, one per aggregate (a job with its proposals is one), each
    with its moments in slots (:class:`_Slot`); the moments' ranks among all the world's
    moments follow the parts. :class:`KeyCache` builds the same key from parts it keeps.
    """
    return _assemble(world, symmetry, _fresh)


class _Part(NamedTuple):
    """One aggregate's share of a key: its moments replaced by slots, and those moments."""

    template: Any
    moments: tuple[datetime, ...]
    order: str
    """How units sort under symmetry (the part with its moments in time order)."""


class _Slot:
    """The *i*-th moment of a part, in a key's template (its rank follows the parts)."""

    __slots__ = ("i",)

    def __init__(self, i: int) -> None:
        self.i = i

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Slot) and other.i == self.i

    def __hash__(self) -> int:
        return hash((_Slot, self.i))

    def __repr__(self) -> str:
        return f"#{self.i}"


def _part(raw: Any) -> _Part:
    slots: dict[datetime, int] = {}
    template = _slotted(raw, slots)
    return _Part(template, tuple(slots), repr(raw))


def _slotted(value: Any, slots: dict[datetime, int]) -> Any:
    """*value* with every :class:`_At` in it replaced by its moment's slot."""
    cls = value.__class__
    if cls is tuple:
        return tuple([_slotted(v, slots) for v in value])
    if cls is _At:
        at = value.at
        i = slots.get(at)
        if i is None:
            i = slots[at] = len(slots)
        return _Slot(i)
    assert cls is not list, "keys are built of tuples"
    return value


def _fresh(kind: str, agg: Any, compute: Callable[..., _Part], *args: Any) -> _Part:
    return compute(*args)


def _assemble(
    world: World, symmetry: bool, part_of: Callable[..., _Part]
) -> tuple[Any, list[datetime]]:
    # part_of(kind, aggregate, compute, *args) is the aggregate's part: compute(*args), or
    # one kept from before (KeyCache's _Kept)
    now = world.clock.now()
    # a part_of that keeps parts may keep a job's unit too (KeyCache's _Kept.unit)
    unit_of = getattr(part_of, "unit", None)
    store = world.market.store
    items = store._items  # type: ignore[attr-defined]  # read in place, not copied
    contracts_all = list((items.get("contract") or _NONE).values())
    parts: list[_Part] = []
    extra: list[Any] = []
    for acc in (items.get("account") or _NONE).values():
        parts.append(part_of("account", acc, _account_part, acc, now))
        if acc.state is _SUSPENDED and acc.suspended_at is not None:
            # read only while suspended (SUSP-1 resumes what the suspension paused), and
            # only for contracts paused for billing
            since = acc.suspended_at
            extra.append(
                tuple(
                    c.paused_at >= since
                    for c in contracts_all
                    if c.paused_at is not None and c.pause_reason is PauseReason.BILLING
                )
            )
        else:
            extra.append(())
    for m in (items.get("membership") or _NONE).values():
        parts.append(part_of("membership", m, _membership_part, m, now))
    contacts = items.get("contact") or _NONE
    units = [
        part_of("contract", c, _contract_part, c, now, symmetry, contacts.get(c.id))
        for c in contracts_all
    ]
    if symmetry:
        units.sort(key=_ORDER)
    parts.extend(units)
    jobs = _job_units(world, now, symmetry, unit_of)
    parts.extend(jobs)
    past_due = items.get("past_due")
    if past_due:
        keyer = _Keyer(now)
        parts.append(_part(tuple(("past_due", k, keyer(v)) for k, v in past_due.items())))
    week = 0
    if any(c.is_hourly and c.ended_at is None for c in contracts_all):
        # the calendar position is read through week_of(now) by logging and deleting time
        # (which week of the diary, BILL-1), which an ended contract's locked diary refuses
        # (CTR-END-2); what else reads a week (its invoice, its review, a dispute of its
        # hours) reads a diary week, keyed by its own times
        week = int((now - now.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds())
        week += now.weekday() * 86_400
    every = [m for p in parts for m in p.moments]
    moments = sorted(set(every))
    rank = {m: i for i, m in enumerate(moments)}
    ranks = tuple([rank[m] for m in every])
    shape = (len(contracts_all), len(jobs))  # where the accounts' parts end and the others begin
    return (tuple([p.template for p in parts]), ranks, tuple(extra), week, shape), moments


_ORDER = operator.attrgetter("order")


def _account_part(acc: Account, now: datetime) -> _Part:
    keyer = _Keyer(now)
    if acc.state is _CLOSED:
        # Closed is absorbing and has no edge out (INV-ACC-1): no guard reads a closed
        # account's fields again, and other machines read only its state and parties
        # (which its id fixes). Its timestamps would only add moments to stop at.
        return _part((acc.id, _CLOSED.value, keyer(acc.deadlines), _history_sums(acc)))
    keyer.link = acc.link_token
    derived: Any = None
    if acc.state is AccountState.DEACTIVATED and acc.closed_at is not None:
        keyer.derived()
        derived = keyer(reactivation_deadline(acc.closed_at))
        keyer.reset()
    return _part((acc.id, acc.state.value, keyer(acc), _history_sums(acc), derived))


def _membership_part(m: Any, now: datetime) -> _Part:
    keyer = _Keyer(now)
    return _part((m.id, m.state.value, keyer(m)))


def _contract_part(c: Contract, now: datetime, symmetry: bool, contact: Any) -> _Part:
    keyer = _Keyer(now, own=c.id if symmetry else "")
    fields: list[Any] = [contact]
    for name in _fields(Contract):
        value = getattr(c, name)
        if name in _CONTRACT_ONLY_SET or name == "started_at":
            # started_at: read only by BILL-1's ``at < c.started_at`` (time logged before
            # the start is refused), and the checker logs time at now (no ``on``), which
            # is never before the start (STARTED, checked by key_premises)
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
    raw = (c.state.value, tuple(fields)) if symmetry else (c.id, c.state.value, *fields)
    return _part(raw)


def _job_units(
    world: World,
    now: datetime,
    symmetry: bool,
    unit_of: Callable[[Any, list[Any], Callable[[], _Part]], _Part] | None = None,
) -> list[_Part]:
    """Each job post with the proposals on it (and their terms), as one unit.

    With *symmetry*, a job and its proposals are keyed without their ids and the units
    sorted: the job's id is only read through the proposals' ``job`` field (the facts
    give a proposal its own job's state), and a contract an offer starts does not refer
    to its proposal, so swapping two jobs together with their proposals changes nothing
    any guard reads.

    *unit_of*, when given, is asked for the part of a job with its proposals (in store
    order), with a function that computes it (:class:`KeyCache` keeps them by version).
    """
    store = world.market.store
    items = store._items  # type: ignore[attr-defined]
    if not items.get("job") and not items.get("proposal"):
        return []
    terms = items.get("terms") or _NONE
    by_job: dict[str, list[Any]] = {}
    for p in store.values("proposal"):
        by_job.setdefault(p.job, []).append(p)
    units = []
    for job in store.values("job"):
        mine = by_job.pop(job.id, [])
        compute = partial(_job_unit, job, mine, terms, now, symmetry)
        units.append(compute() if unit_of is None else unit_of(job, mine, compute))
    if by_job:
        keyer = _Keyer(now)
        rest = [
            ("no-job", k, tuple(_proposal_unit(keyer, p, terms, symmetry) for p in v))
            for k, v in by_job.items()
        ]
        units.extend(_part(unit) for unit in rest)
    if symmetry:
        units.sort(key=_ORDER)
    return units


def _offer_sender(p: Any) -> str | None:
    """Who sent the proposal's first offer: read from its history by the marketplace, which
    makes that member the contact person of the contract the offer starts (TEAM-2,
    ``handlers.offer_accepted``). Found by the successor audit: two states that differed
    only in the sender had the same verdicts, but accepting started other contracts."""
    return next((d.actor.id for d in p.history if d.event == "send_offer"), None)


def _proposal_unit(keyer: _Keyer, p: Any, terms: Mapping[str, Any], symmetry: bool) -> Any:
    keyer.own = p.job if symmetry else ""
    unit = (p.state.value, keyer(p), keyer(terms.get(p.id)), _offer_sender(p))
    keyer.own = ""
    return unit if symmetry else (p.id, *unit)


def _job_unit(
    job: Any, proposals: list[Any], terms: Mapping[str, Any], now: datetime, symmetry: bool
) -> _Part:
    keyer = _Keyer(now)
    mine = tuple(_proposal_unit(keyer, p, terms, symmetry) for p in proposals)
    keyer.own = job.id if symmetry else ""
    unit = (job.state.value, keyer(job), mine)
    return _part(unit if symmetry else (job.id, *unit))


_KEEP_PARTS = 2_000_000
"""How many parts a :class:`KeyCache` keeps at most (all are dropped when there are more)."""


class KeyCache:
    """Builds :func:`world_key`'s key from parts kept per aggregate version.

    A part depends only on its aggregate's fields (and history sums), on the time, and for
    a contract on its contact person; the checker's snapshots give every aggregate a
    version that changes whenever any of those does
    (:attr:`~statemachines.verify.world.Saved.version`).
    A step changes one or two aggregates: the others' parts are reused. Parts are interned,
    so a key holds small numbers where :func:`world_key` holds the parts themselves: keys of
    one cache compare as :func:`world_key`'s do (``tests/verify/test_key.py``).
    """

    def __init__(self, symmetry: bool) -> None:
        self.symmetry = symmetry
        self.parts: dict[tuple[Any, ...], _Part] = {}
        self.ids: dict[Any, int] = {}
        self.versions: dict[int, int] = {}

    def key(self, world: World, versions: Mapping[int, int]) -> tuple[Any, list[datetime]]:
        """The key of *world*, whose aggregates have *versions* (by ``id`` of the aggregate)."""
        return _assemble(world, self.symmetry, _Kept(self, world, versions))


class _Kept:
    """A :class:`KeyCache`'s parts for one state: what ``part_of`` of :func:`_assemble` is,
    and (:meth:`unit`) a job's unit with its proposals, kept by version too."""

    __slots__ = ("cache", "contacts", "now", "terms", "versions")

    def __init__(self, cache: KeyCache, world: World, versions: Mapping[int, int]) -> None:
        self.cache = cache
        self.versions = versions
        self.now = world.clock.now()
        items = world.market.store._items  # type: ignore[attr-defined]
        self.contacts = items.get("contact", {})
        self.terms = items.get("terms", {})

    def __call__(self, kind: str, agg: Any, compute: Callable[..., _Part], *args: Any) -> _Part:
        contact = self.contacts.get(agg.id) if kind == "contract" else None
        memo = (self.versions[id(agg)], self.now, contact)
        cache = self.cache
        found = cache.parts.get(memo)
        if found is None:
            if len(cache.parts) >= _KEEP_PARTS:
                cache.parts.clear()  # the interned templates stay: keys keep comparing
            computed = compute(*args)
            template = cache.ids.setdefault(computed.template, len(cache.ids))
            found = cache.parts[memo] = _Part(template, computed.moments, computed.order)
        return found

    def unit(self, job: Any, proposals: list[Any], compute: Callable[[], _Part]) -> _Part:
        """A job's unit: it reads the job, its proposals (in store order) and their terms."""
        versions = self.versions
        terms = self.terms
        memo = (
            "job",
            versions[id(job)],
            self.now,
            tuple([(versions[id(p)], terms.get(p.id)) for p in proposals]),
        )
        cache = self.cache
        found = cache.parts.get(memo)
        if found is None:
            if len(cache.parts) >= _KEEP_PARTS:
                cache.parts.clear()
            found = cache.parts[memo] = compute()
        return found


_DRAFT = MilestoneState.DRAFT
_CLOSED = AccountState.CLOSED
_SUSPENDED = AccountState.SUSPENDED
_CONTRACT_ONLY_SET = ONLY_SET["Contract"]


_NONE: Mapping[str, Any] = {}
"""No records of a kind (read only)."""


def key_premises(market: Marketplace, now: datetime) -> list[str]:
    """What the state key assumes of every state: a field read only in one state is set
    whenever the aggregate is in it (:data:`READ_ONLY_WHILE`), and no moment of
    :data:`PAST_ONLY` or :data:`STARTED` is ahead of *now*."""
    problems = []
    for (cls_name, name), state in READ_ONLY_WHILE.items():
        kind = cls_name.lower()
        for agg in market.store.values(kind):
            if agg.state.value == state and getattr(agg, name) is None:
                problems.append(f"{kind} {agg.id} is {state} but its {name} is not set")
    for cls_name, name in (*PAST_ONLY, *STARTED):
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
