"""Client refund request: draft -> requested -> granted (full or part), declined, expired (§5.9).

A client asks for money back from a payment the contract made (REF-REQ-1).
Up to 180 days after the payment the request goes to the freelancer side
(``requested``); from 181 to 365 days only support can settle it
(``needs_support``, C-11). The freelancer side grants all of it or part of it
through its own refund, under the same limits as any refund (REF-180-1..3), or
declines (REF-180-2); a request nobody answers lapses when the payment turns
180 days old (REF-REQ-EXPIRE-D). On an agency's contract, support files the
request for the client (REF-REQ-4).

The request moves no money itself: :attr:`ClientRefundRequest.granted` is what
the contract's ``give_refund`` must refund, in the same transaction, with the
contract's own checks. Waiting for an answer never extends the contract's
feedback window (REF-REQ-3, kept by the contract).

>>> from datetime import datetime, timedelta
>>> from statemachines import Actor, ManualClock, Money, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> requests = RefundRequests(clock=clock)
>>> r = ClientRefundRequest(id="R-1", contract="C-1", client="co-1", freelancer="fl-1",
...                         payment="C-1-P1", paid_at=clock.now() - timedelta(days=20),
...                         refundable=Money(40_000))
>>> _ = requests.fire(r, "request", Actor("ana", Role.CLIENT_OWNER, party="co-1"),
...                   amount=Money(10_000))
>>> r.state.value, r.deadlines[0].due.isoformat()
('requested', '2026-08-09T09:00:00+00:00')
>>> _ = requests.fire(r, "give_refund", Actor("fl-1", Role.FREELANCER), amount=Money(4_000),
...                   balance=Money(50_000))
>>> r.state.value, r.granted
('granted_partial', Money(4000, 'USD'))
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from math import ceil
from typing import Any

import attrs

from statemachines.core.actors import CLIENT_DECIDERS, Actor, Role
from statemachines.core.clock import format_utc
from statemachines.core.engine import (
    Branch,
    Context,
    Deadline,
    Decision,
    Edge,
    Effect,
    Forbidden,
    Guard,
    MachineSpec,
    Param,
    Reason,
    Timer,
    Workflow,
    fail,
)
from statemachines.core.money import Money
from statemachines.errors import Violation
from statemachines.rules.contract import (
    IN_PRODUCT_REQUEST_WINDOW,
    REFUND_WINDOW,
    SUPPORT_REQUEST_WINDOW,
)

__all__ = ["REFUND_REQUEST", "ClientRefundRequest", "RefundRequestState", "RefundRequests"]

EXPIRY = "expiry"
"""The key of the deadline at which an unanswered request lapses (REF-REQ-EXPIRE-D)."""


class RefundRequestState(enum.Enum):
    """Where a client's refund request is; the values are the persisted form."""

    DRAFT = "draft"
    """The client is writing it; nothing is asked yet."""
    REQUESTED = "requested"
    """Waiting for the freelancer side, until the payment is 180 days old."""
    NEEDS_SUPPORT = "needs_support"
    """The payment was 181 to 365 days old: support settles it outside the product (final)."""
    GRANTED_FULL = "granted_full"
    """The freelancer side refunded everything asked (final)."""
    GRANTED_PARTIAL = "granted_partial"
    """The freelancer side refunded part of it (final)."""
    DECLINED = "declined"
    """The freelancer side said no (final)."""
    EXPIRED = "expired"
    """Nobody answered before the payment turned 180 days old (final)."""


R = RefundRequestState


def _zero() -> Money:
    return Money(0)


@attrs.define(eq=True)
class ClientRefundRequest:
    """A client's request for a refund of one payment of a contract."""

    id: str
    contract: str
    client: str
    freelancer: str
    """The freelancer's account, or the agency that holds the contract."""
    payment: str
    """The id of the payment (``C-1-P3``)."""
    paid_at: datetime
    refundable: Money
    """What is still refundable of the payment when the request is made (REF-180-2)."""
    agency: bool = False
    state: RefundRequestState = RefundRequestState.DRAFT
    amount: Money = attrs.field(factory=_zero)
    """What the client asks back."""
    reason: str = ""
    requested_at: datetime | None = None
    requested_by: str | None = None
    requested_age: int = 0
    """How many days old the payment was when the refund was asked for (REF-REQ-1)."""
    granted: Money = attrs.field(factory=_zero)
    """What the freelancer side refunded; the contract refunds it (REF-180-4)."""
    answered_at: datetime | None = None
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def currency(self) -> str:
        """The payment's currency."""
        return self.refundable.currency

    def age_days(self, now: datetime) -> int:
        """How old the payment is, in started days: one second past 180 days is day 181."""
        return ceil((now - self.paid_at) / timedelta(days=1))

    @property
    def answer_by(self) -> datetime:
        """When the freelancer side can no longer refund it: the payment is 180 days old."""
        return self.paid_at + REFUND_WINDOW


# --------------------------------------------------------------------------- branches


def _in_product(r: ClientRefundRequest, ctx: Context) -> bool:
    return ctx.now - r.paid_at <= IN_PRODUCT_REQUEST_WINDOW


def _through_support(r: ClientRefundRequest, ctx: Context) -> bool:
    return not _in_product(r, ctx)


def _asked(ctx: Context) -> Money | None:
    amount: Money | None = ctx.payload.get("amount")
    return amount


def _full(r: ClientRefundRequest, ctx: Context) -> bool:
    amount = _asked(ctx)
    return amount is None or amount >= r.amount


def _partial(r: ClientRefundRequest, ctx: Context) -> bool:
    return not _full(r, ctx)


# --------------------------------------------------------------------------- guards


def _request_in_time(r: ClientRefundRequest, ctx: Context) -> Reason | None:
    if ctx.now - r.paid_at > SUPPORT_REQUEST_WINDOW:
        return fail(
            f"the payment {r.payment} is {r.age_days(ctx.now)} days old; a refund can be "
            "requested for 365 days (through support after 180 days)",
            paid_at=r.paid_at.isoformat(),
        )
    return None


def _within_payment(r: ClientRefundRequest, ctx: Context) -> Reason | None:
    amount: Money = ctx.payload["amount"]
    if not amount:
        return fail(f"a refund request asks for more than {amount}", amount=0)
    if amount > r.refundable:
        return fail(
            f"{amount} is more than the {r.refundable} that can still be refunded of payment "
            f"{r.payment}",
            left=r.refundable.cents,
        )
    return None


def _within_request(r: ClientRefundRequest, ctx: Context) -> Reason | None:
    amount: Money = ctx.payload["amount"]
    if not amount:
        return fail(
            f"a refund must be more than {amount}; to refund nothing, decline the request",
            amount=0,
        )
    if amount > r.amount:
        return fail(
            f"{amount} is more than the {r.amount} the client asked for", requested=r.amount.cents
        )
    return None


def _within_balance(r: ClientRefundRequest, ctx: Context) -> Reason | None:
    amount: Money = ctx.payload["amount"]
    balance: Money = ctx.payload["balance"]
    if amount > balance:
        return fail(
            f"{amount} is more than the freelancer's balance of {balance} (available and pending)",
            balance=balance.cents,
        )
    return None


def _with_support(r: ClientRefundRequest, ctx: Context) -> Reason:
    return fail(
        f"the payment {r.payment} was {r.requested_age} days old when the "
        "refund was asked for; support settles it, not the product",
        paid_at=r.paid_at.isoformat(),
    )


def _lapsed(r: ClientRefundRequest, ctx: Context) -> Reason:
    return fail(
        f"the request lapsed on {format_utc(r.answer_by)}, when payment {r.payment} turned 180 "
        "days old; it can no longer be refunded",
        paid_at=r.paid_at.isoformat(),
    )


# --------------------------------------------------------------------------- effects


def _record(r: ClientRefundRequest, ctx: Context) -> None:
    r.amount = ctx.payload["amount"]
    r.reason = ctx.payload["reason"]
    r.requested_at = ctx.now
    r.requested_by = ctx.actor.id
    r.requested_age = r.age_days(ctx.now)


def _lapse_at_180_days(r: ClientRefundRequest, ctx: Context) -> None:
    r.deadlines = Deadline.put(r.deadlines, Deadline(EXPIRY, "expire", r.answer_by))


def _grant(r: ClientRefundRequest, ctx: Context) -> None:
    r.granted = ctx.payload["amount"]
    r.answered_at = ctx.now
    r.deadlines = ()


def _decline(r: ClientRefundRequest, ctx: Context) -> None:
    r.answered_at = ctx.now
    r.deadlines = ()


# --------------------------------------------------------------------------- permissions


CLIENT = CLIENT_DECIDERS
DECIDERS = frozenset({Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER})
"""Who refunds: the freelancer, or the agency's owner or business manager (TEAM-8)."""
ASKERS = CLIENT | {Role.SUPPORT}
SYS = frozenset({Role.SYSTEM})


def _authorize(  # noqa: PLR0911
    r: ClientRefundRequest, actor: Actor, edge: Edge[Any] | None
) -> str | Violation | None:
    role = actor.role
    if role in (Role.SYSTEM, Role.SUPPORT):
        return None
    if role in CLIENT:
        if actor.party != r.client:
            return f"payment {r.payment} was made by {r.client!r}, not {actor.party!r}"
        if r.agency:
            return Violation(
                "REF-REQ-4",
                f"an agency ({r.freelancer!r}) holds contract {r.contract}; refund requests to "
                "an agency go through support",
            )
        return None
    if role is Role.FREELANCER:
        if r.agency or actor.id != r.freelancer:
            return f"payment {r.payment} was made to {r.freelancer!r}"
        return None
    if not r.agency or actor.party != r.freelancer:
        return f"payment {r.payment} was made to {r.freelancer!r}, not to {actor.party!r}"
    return None


REQUEST: dict[str, Any] = {
    "role_rules": ("REF-REQ-1", "REF-REQ-4", "TEAM-5"),
    "guards": (
        Guard("REF-REQ-1", _request_in_time),
        Guard("REF-180-2", _within_payment, uses=("amount",)),
    ),
    "params": (
        Param("amount", (Money,), doc="how much the client asks back"),
        Param("reason", (str,), "", "why"),
    ),
}
GRANT: dict[str, Any] = {
    "role_rules": ("REF-180-1", "TEAM-8"),
    "guards": (
        Guard("REF-180-2", _within_request, uses=("amount",)),
        Guard("REF-180-3", _within_balance, uses=("amount", "balance")),
    ),
    "effects": (Effect("REF-180-4", _grant),),
    "params": (
        Param("amount", (Money,), doc="how much the freelancer side refunds"),
        Param("balance", (Money,), doc="the freelancer's available plus pending balance"),
    ),
}

REFUND_REQUEST: MachineSpec[RefundRequestState, ClientRefundRequest] = MachineSpec(
    name="refund_request",
    description="A client's request for a refund of a payment, and the freelancer's answer.",
    states=RefundRequestState,
    initial=R.DRAFT,
    terminal=(R.NEEDS_SUPPORT, R.GRANTED_FULL, R.GRANTED_PARTIAL, R.DECLINED, R.EXPIRED),
    model=ClientRefundRequest,
    authorize=_authorize,
    edges=(
        Edge(
            "request",
            (R.DRAFT,),
            R.REQUESTED,
            ASKERS,
            branch=Branch("payment up to 180 days old", _in_product),
            effects=(Effect("REF-REQ-1", _record), Effect("REF-REQ-EXPIRE-D", _lapse_at_180_days)),
            summary="The client asks for a refund; the freelancer side answers.",
            **REQUEST,
        ),
        Edge(
            "request",
            (R.DRAFT,),
            R.NEEDS_SUPPORT,
            ASKERS,
            branch=Branch("payment 181 to 365 days old", _through_support),
            effects=(Effect("REF-REQ-1", _record),),
            summary="The client asks about an older payment: support settles it.",
            **REQUEST,
        ),
        Edge(
            "give_refund",
            (R.REQUESTED,),
            R.GRANTED_FULL,
            DECIDERS,
            branch=Branch("all that was asked", _full),
            summary="The freelancer side refunds everything asked.",
            **GRANT,
        ),
        Edge(
            "give_refund",
            (R.REQUESTED,),
            R.GRANTED_PARTIAL,
            DECIDERS,
            branch=Branch("part of it", _partial),
            summary="The freelancer side refunds part of what was asked.",
            **GRANT,
        ),
        Edge(
            "decline",
            (R.REQUESTED,),
            R.DECLINED,
            DECIDERS,
            ("REF-180-2", "TEAM-8"),
            effects=(Effect("REF-180-2", _decline),),
            summary="The freelancer side refunds nothing.",
        ),
        Edge(
            "expire",
            (R.REQUESTED,),
            R.EXPIRED,
            SYS,
            timer=Timer("REF-REQ-EXPIRE-D", "when the payment turns 180 days old"),
            summary="Unanswered until the payment is 180 days old: the request lapses.",
        ),
    ),
    forbidden=(
        Forbidden("give_refund", (R.NEEDS_SUPPORT,), DECIDERS, "REF-REQ-1", _with_support),
        Forbidden("give_refund", (R.EXPIRED,), DECIDERS, "REF-180-1", _lapsed),
    ),
)


class RefundRequests(Workflow[RefundRequestState, ClientRefundRequest]):
    """Fires refund-request events: ``requests.fire(r, "request", client, amount=...)``."""

    spec = REFUND_REQUEST
