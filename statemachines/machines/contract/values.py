"""Values a contract keeps: billing weeks, payments, refund requests, the escrow-refund request.

Every value here is frozen: a contract replaces them, never changes them in
place, so that the engine's save and restore keep each event atomic. The week
arithmetic of the hourly billing cycle (BILL-1..5) lives here too.

>>> from datetime import datetime
>>> from statemachines.core.clock import UTC
>>> start = week_of(datetime(2026, 3, 4, 15, 30, tzinfo=UTC))
>>> week = BillingWeek(start)
>>> for moment in (start, week.edits_close, week.review_closes, week.available_at):
...     print(format_utc(moment))
2026-03-02 00:00:00 UTC
2026-03-09 12:00:00 UTC
2026-03-14 00:00:00 UTC
2026-03-18 00:00:00 UTC
>>> hours(150)
'2 hours 30 minutes'
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs

from statemachines.core.actors import CLIENT_DECIDERS, FREELANCER_SIDE, Actor
from statemachines.core.clock import format_utc
from statemachines.core.money import Money
from statemachines.rules.contract import (
    CLIENT_REVIEW_END,
    FREELANCER_EDIT_END,
    WEEK,
    WEEK_AVAILABLE,
)

__all__ = [
    "Balance",
    "BillingWeek",
    "ContractKind",
    "EscrowRefund",
    "PauseReason",
    "Payment",
    "PaymentKind",
    "RefundRequest",
    "RefundStatus",
    "Side",
    "day_label",
    "hours",
    "side_of",
    "week_of",
]


class ContractKind(enum.Enum):
    """How the freelancer is paid; the value is the persisted form."""

    HOURLY = "hourly"
    """Time logged in a work diary, invoiced weekly (BILL-*)."""
    FIXED = "fixed"
    """Milestones paid from escrow (MS-*, ESC-*)."""


class PauseReason(enum.Enum):
    """Why an hourly contract is paused (CTR-HR-1, CTR-HR-2, HDSP-2)."""

    CLIENT = "client"
    """The client paused it and may restart it."""
    BILLING = "billing"
    """The platform paused it for a problem with the client's billing method (SUSP-1)."""
    CLIENT_SUSPENDED = "client_suspended"
    """The platform paused it while the client's account is suspended for another reason
    (SUSP-1)."""
    FREELANCER_SUSPENDED = "freelancer_suspended"
    """The platform paused it while the freelancer's (or agency's) account is suspended
    (SUSP-D)."""
    DISPUTE = "dispute"
    """The client disputed billed hours; the client restarts it once the dispute is over
    (HDSP-2)."""

    def paused(self, since: str = "") -> str:
        """``paused by the platform on <since> because ...``, for a reason read aloud."""
        who, why = _PAUSE_CAUSES[self]
        return f"paused {who}{f' on {since}' if since else ''}{f' {why}' if why else ''}"

    @property
    def resumes(self) -> str:
        """When the contract restarts, for a reason read aloud."""
        if self is PauseReason.CLIENT:
            return "when the client restarts it"
        if self is PauseReason.DISPUTE:
            return "when the client restarts it, once the dispute is over"
        if self is PauseReason.BILLING:
            return "when that is fixed"
        return "when that account is reinstated"


_PAUSE_CAUSES = {
    PauseReason.CLIENT: ("by the client", ""),
    PauseReason.DISPUTE: ("by the client", "because it disputed billed hours"),
    PauseReason.BILLING: (
        "by the platform",
        "because of a problem with the client's billing method",
    ),
    PauseReason.CLIENT_SUSPENDED: ("by the platform", "because the client's account is suspended"),
    PauseReason.FREELANCER_SUSPENDED: (
        "by the platform",
        "because the freelancer's account is suspended",
    ),
}


class Side(enum.Enum):
    """A side of a contract."""

    CLIENT = "client"
    FREELANCER = "freelancer"


def side_of(actor: Actor) -> Side | None:
    """The side *actor* acts for, or ``None`` for the platform, support and bystanders."""
    if actor.role in CLIENT_DECIDERS:
        return Side.CLIENT
    if actor.role in FREELANCER_SIDE:
        return Side.FREELANCER
    return None


def week_of(moment: datetime) -> datetime:
    """The Monday 00:00 UTC that starts the billing week holding *moment* (BILL-1)."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=midnight.weekday())


def day_label(moment: datetime) -> str:
    """A date as support says it: ``2026-03-02``."""
    return f"{moment:%Y-%m-%d}"


def hours(minutes: int) -> str:
    """Minutes of work in words: ``2 hours``, ``1 hour 30 minutes``, ``45 minutes``."""
    whole, rest = divmod(minutes, 60)
    parts = []
    if whole:
        parts.append(f"{whole} hour{'s' if whole != 1 else ''}")
    if rest or not whole:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


@attrs.frozen
class BillingWeek:
    """One week of an hourly contract's work diary, from Monday 00:00 UTC (BILL-1)."""

    start: datetime
    """Monday 00:00 UTC."""
    logged: int = 0
    """Minutes logged in the diary for this week."""
    billable: int = 0
    """Minutes invoiced: the logged time capped by the weekly limit (CTR-HR-3)."""
    limit: int | None = None
    """The weekly limit in force when the week was invoiced, in minutes (``None``: no limit)."""
    invoiced_at: datetime | None = None
    """When the week was invoiced (Monday 12:00 UTC after it, BILL-3), once."""
    amount: Money | None = None
    """What the invoice charged; ``None`` until invoiced."""

    @property
    def label(self) -> str:
        """``week 2026-03-02``."""
        return f"week {day_label(self.start)}"

    @property
    def edits_close(self) -> datetime:
        """BILL-2 and BILL-3: the Monday 12:00 UTC after the week, when it is invoiced."""
        return self.start + FREELANCER_EDIT_END

    @property
    def review_closes(self) -> datetime:
        """BILL-4: the Saturday 00:00 UTC that ends the client's review (exclusive)."""
        return self.start + CLIENT_REVIEW_END

    @property
    def available_at(self) -> datetime:
        """BILL-5: the Wednesday its earnings become available."""
        return self.start + WEEK_AVAILABLE

    @property
    def end(self) -> datetime:
        """The next Monday 00:00 UTC (exclusive)."""
        return self.start + WEEK


class PaymentKind(enum.Enum):
    """What a payment to the freelancer side paid for."""

    HOURLY = "hourly"
    """An invoiced billing week."""
    MILESTONE = "milestone"
    """A milestone released by the client or automatically."""
    FINAL = "final"
    """The final payment of a client ending a fixed-price contract (CTR-END-5)."""
    SETTLEMENT = "settlement"
    """The freelancer's share of a disputed escrow-refund request (ESC-SPLIT-D)."""
    BONUS = "bonus"
    """A bonus (PAY-2)."""


@attrs.frozen
class Payment:
    """Money paid to the freelancer side on a contract, and what was refunded of it."""

    id: str
    """``C-1-P3``: unique within the contract."""
    kind: PaymentKind
    amount: Money
    paid_at: datetime
    source: str = ""
    """The week (``2026-03-02``) or milestone (``C-1-M1``) it paid for."""
    available_at: datetime | None = None
    """When it leaves the security hold (BILL-5, BILL-6, PAY-1, MS-PAY-1)."""
    refunded: Money = attrs.field(factory=Money.zero)
    """Refunded to the client so far (REF-180-2); never decreases (REF-180-4)."""

    @property
    def left(self) -> Money:
        """What is still refundable of it."""
        return self.amount - self.refunded

    def describe(self) -> str:
        """``the payment of US$40.00 on 2026-01-02``."""
        return f"the payment of {self.amount} on {day_label(self.paid_at)}"


@attrs.frozen
class RefundRequest:
    """A client's request for a refund of a payment (REF-REQ-1)."""

    payment: str
    amount: Money
    requested_at: datetime
    via_support: bool = False
    """True when the payment was over 180 days old: only support can handle it (C-11)."""


class RefundStatus(enum.Enum):
    """Where an escrow-refund request stands (rulebook §5.6)."""

    PENDING = "pending"
    """Waiting for the freelancer side, 7 days at most (ESC-2)."""
    APPROVED = "approved"
    """The freelancer side approved; the money went back to the client (ESC-3)."""
    AUTO_APPROVED = "auto_approved"
    """Nobody answered in 7 days; the money went back to the client (ESC-3)."""
    DISPUTED = "disputed"
    """The freelancer disputed it; support decides (ESC-4, ESC-SPLIT-D)."""
    RESOLVED = "resolved"
    """Support split the amount between the sides (ESC-SPLIT-D)."""


@attrs.frozen
class EscrowRefund:
    """The request a client opens by ending a fixed-price contract paying less than is held."""

    amount: Money
    """The held money the client asks back (ESC-5: never released earnings)."""
    opened_at: datetime
    due: datetime
    """When silence approves it (ESC-2, ESC-3)."""
    status: RefundStatus = RefundStatus.PENDING
    to_freelancer: Money | None = None
    """Support's split: paid to the freelancer side (ESC-SPLIT-D)."""
    to_client: Money | None = None
    """Support's split: returned to the client (ESC-SPLIT-D)."""
    closed_at: datetime | None = None

    @property
    def label(self) -> str:
        """``the escrow-refund request of US$150.00 opened 2026-03-02 09:00:00 UTC``."""
        return f"the escrow-refund request of {self.amount} opened {format_utc(self.opened_at)}"


@attrs.frozen
class Balance:
    """A freelancer's (or agency's) money on the platform, from the platform's records
    (INV-MONEY-10): what can be withdrawn, what is still on hold, and what was taken out
    beyond both (an overdraft, which the invariant forbids; it is shown, never hidden).

    >>> b = Balance(Money(1_000), Money(250))
    >>> b.total, b.describe()
    (Money(1250, 'USD'), 'US$12.50 (US$10.00 available, US$2.50 pending)')
    """

    available: Money
    pending: Money
    overdraft: Money = attrs.field(factory=Money.zero)

    @property
    def total(self) -> Money:
        """Available plus pending: the most a refund may take (REF-180-3)."""
        return self.available + self.pending

    def describe(self) -> str:
        """The total and its parts, for a reason read aloud."""
        text = f"{self.total} ({self.available} available, {self.pending} pending"
        if self.overdraft:
            text += f", overdrawn by {self.overdraft}"
        return text + ")"

    @classmethod
    def of(
        cls, payments: list[Payment], withdrawn: Money, now: datetime, currency: str = "USD"
    ) -> Balance:
        """The balance that *payments* (less their refunds) and *withdrawn* leave at *now*.

        What was refunded or withdrawn comes out of the available money first, then out
        of the money on hold; anything beyond both is the overdraft.
        """
        available = pending = 0
        for pay in payments:
            if pay.amount.currency != currency:
                continue
            net = pay.amount.cents - pay.refunded.cents
            if pay.available_at is not None and pay.available_at > now:
                pending += net
            else:
                available += net
        available -= withdrawn.cents
        if available < 0:
            moved = min(-available, pending)
            available += moved
            pending -= moved
        overdraft = max(-available, 0)
        return cls(
            Money(available + overdraft, currency),
            Money(pending, currency),
            Money(overdraft, currency),
        )
