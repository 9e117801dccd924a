"""The contract aggregate: one class for hourly and fixed-price contracts.

The machine and its table are in :mod:`statemachines.machines.contract.table`; the guards and
effects by topic in ``contract_hourly``, ``contract_escrow`` and
``contract_after``. This module holds only the data and what can be read from
it.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

import attrs

from statemachines.core.engine import Deadline, Decision
from statemachines.core.fields import check_fields
from statemachines.core.money import Money
from statemachines.machines.contract.values import (
    BillingWeek,
    ContractKind,
    EscrowRefund,
    PauseReason,
    Payment,
    RefundRequest,
    Side,
    day_label,
    week_of,
)
from statemachines.machines.milestone import Milestone, MilestoneState
from statemachines.rules.contract import FEEDBACK_DAYS, WORK_HISTORY_MIN

__all__ = ["LIVE_MILESTONE", "Contract", "ContractState"]


class ContractState(enum.Enum):
    """Where a contract is in its life; the values are the persisted form."""

    ACTIVE = "active"
    """Work goes on: time is logged or milestones are funded and reviewed."""
    PAUSED = "paused"
    """Hourly only: no time can be logged (by the client, CTR-HR-1, or for billing, CTR-HR-2)."""
    ENDING = "ending"
    """Ended for work, money not settled: the last billed week is in review (CTR-END-3), or an
    escrow-refund request is open (ESC-1)."""
    ENDED = "ended"
    """Settled. Refunds, bonuses, refund requests and feedback still happen here."""
    REFUNDED = "refunded"
    """Settled with net pay below US$1.00: hidden from work histories (REF-180-7)."""


LIVE_MILESTONE = frozenset(
    {
        MilestoneState.FUNDED,
        MilestoneState.SUBMITTED,
        MilestoneState.CHANGES_REQUESTED,
        MilestoneState.RESUBMITTED,
        MilestoneState.DISPUTED,  # MS-DSP-1, MS-2 (rulebook helper, issue 17)
    }
)
"""Milestone states that hold the client's money for work in progress (MS-2, C-14)."""


def _zero(contract: Contract) -> Money:
    return Money(0, contract.currency)


_NOTHING = attrs.Factory(_zero, takes_self=True)
"""Default for amounts: nothing, in the contract's currency."""


@attrs.define(eq=True)
class Contract:
    """A contract between a client company and a freelancer or an agency.

    ``state`` and every field below ``state`` change only through
    :class:`~statemachines.machines.contract.table.ContractLifecycle` events.
    """

    id: str
    """Stable id, e.g. ``"C-1"``."""
    kind: ContractKind
    client: str
    """The client company that pays."""
    freelancer: str
    """The freelancer's account, or the agency that holds the contract."""
    started_at: datetime
    agency: bool = False
    """True when an agency holds the contract; its members act for it (TEAM-8)."""
    member: str | None = None
    """The agency member on the contract, the only one who logs time (TEAM-8)."""
    currency: str = "USD"
    rate: Money | None = None
    """Hourly rate (hourly contracts)."""
    weekly_limit: int | None = None
    """Billable hours per week (hourly contracts); ``None``: no limit (CTR-HR-3)."""
    title: str = ""
    state: ContractState = ContractState.ACTIVE
    pause_reason: PauseReason | None = None
    paused_at: datetime | None = None
    ended_at: datetime | None = None
    """Set once, by the end (INV-CTR-1)."""
    ended_by: Side | None = None
    diary_locked: bool = False
    """True from the end of an hourly contract (CTR-END-2)."""
    weeks: tuple[BillingWeek, ...] = ()
    """The hourly work diary, one entry per week with time, oldest first."""
    milestones: tuple[Milestone, ...] = ()
    """Fixed-price milestones, in the order they are funded."""
    escrow_charged: Money = attrs.field(default=_NOTHING)
    """Charged to the client into escrow: fundings, over-releases, final payments above held."""
    escrow_released: Money = attrs.field(default=_NOTHING)
    """Paid from escrow to the freelancer side."""
    escrow_returned: Money = attrs.field(default=_NOTHING)
    """Given back from escrow to the client."""
    unallocated: Money = attrs.field(default=_NOTHING)
    """Held but not for a live milestone: leftovers of partial releases (MS-2) and, at the
    end, the money of cancelled milestones until it is settled."""
    escrow_refund: EscrowRefund | None = None
    payments: tuple[Payment, ...] = ()
    refunds_total: Money = attrs.field(default=_NOTHING)
    """Refunded by the freelancer side so far; never decreases (REF-180-4, REF-180-6)."""
    refund_requests: tuple[RefundRequest, ...] = ()
    client_feedback_at: datetime | None = None
    """When the client left feedback for the freelancer side."""
    freelancer_feedback_at: datetime | None = None
    """When the freelancer side left feedback for the client."""
    feedback_published_at: datetime | None = None
    """When feedback became public (FB-2)."""
    late_feedback: tuple[Side, ...] = ()
    """The sides the other side let leave feedback after the window closed (FB-3)."""
    feedback_withdrawn: bool = False
    """True while the contract is ``refunded``: its feedback is not shown (FB-4, REF-180-7)."""
    refunded_at: datetime | None = None
    """When it last became ``refunded`` (REF-180-7)."""
    end_suggested: bool = False
    """The client was offered to end after paying the last milestone (CTR-END-10)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    # -- constructors

    @classmethod
    def hourly(
        cls,
        id: str,
        *,
        client: str,
        freelancer: str,
        rate: Money,
        started_at: datetime,
        weekly_limit: int | None = None,
        agency: bool = False,
        member: str | None = None,
    ) -> Contract:
        """A new, active hourly contract."""
        return cls(
            id,
            ContractKind.HOURLY,
            client,
            freelancer,
            started_at,
            agency=agency,
            member=member,
            currency=rate.currency,
            rate=rate,
            weekly_limit=weekly_limit,
        )

    @classmethod
    def fixed(
        cls,
        id: str,
        *,
        client: str,
        freelancer: str,
        started_at: datetime,
        agency: bool = False,
        currency: str = "USD",
    ) -> Contract:
        """A new, active fixed-price contract without milestones yet."""
        return cls(
            id, ContractKind.FIXED, client, freelancer, started_at, agency=agency, currency=currency
        )

    # -- reading

    @property
    def is_hourly(self) -> bool:
        """True for hourly contracts."""
        return self.kind is ContractKind.HOURLY

    @property
    def live_milestone(self) -> Milestone | None:
        """The milestone funded or in review, if any (at most one, MS-2)."""
        return next((m for m in self.milestones if m.state in LIVE_MILESTONE), None)

    @property
    def next_draft(self) -> Milestone | None:
        """The first milestone not funded yet."""
        return next((m for m in self.milestones if m.state is MilestoneState.DRAFT), None)

    @property
    def escrow_held(self) -> Money:
        """Money in escrow now: the live milestone's and the unallocated remainder."""
        held = self.unallocated
        for ms in self.milestones:
            if ms.state in LIVE_MILESTONE:
                held += ms.held
        return held

    @property
    def paid(self) -> Money:
        """Everything paid to the freelancer side on this contract."""
        total = Money(0, self.currency)
        for payment in self.payments:
            total += payment.amount
        return total

    @property
    def net_paid(self) -> Money:
        """Paid to the freelancer side, less refunds."""
        return self.paid - self.refunds_total

    @property
    def lifetime_billings(self) -> Money:
        """What counts towards the fee tier with this client: paid less refunded (REF-180-6)."""
        return self.net_paid

    @property
    def in_work_history(self) -> bool:
        """Shown in both work histories: net pay of at least US$1.00 (REF-180-7, C-13)."""
        return self.net_paid.cents >= WORK_HISTORY_MIN.cents

    @property
    def feedback_closes(self) -> datetime | None:
        """FB-1, C-27: 00:00 UTC after the 14th day following the end (exclusive)."""
        if self.ended_at is None:
            return None
        midnight = self.ended_at.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight + timedelta(days=FEEDBACK_DAYS + 1)

    @property
    def feedback_visible(self) -> bool:
        """Public feedback shows: published, and net pay of at least US$1.00 (FB-2, FB-4)."""
        return self.feedback_published_at is not None and not self.feedback_withdrawn

    def feedback_at(self, side: Side) -> datetime | None:
        """When *side* left its feedback."""
        if side is Side.CLIENT:
            return self.client_feedback_at
        return self.freelancer_feedback_at

    def week(self, start: datetime) -> BillingWeek:
        """The diary week starting at *start* (empty if nothing was logged)."""
        for week in self.weeks:
            if week.start == start:
                return week
        return BillingWeek(start)

    def week_at(self, moment: datetime) -> BillingWeek:
        """The diary week holding *moment* (BILL-1)."""
        return self.week(week_of(moment))

    def payment(self, payment_id: str) -> Payment | None:
        """The payment with id *payment_id*, if this contract made it."""
        return next((p for p in self.payments if p.id == payment_id), None)

    def weeks_in_review(self, now: datetime) -> tuple[BillingWeek, ...]:
        """Weeks with time whose client review has not closed yet (CTR-END-3, BILL-4)."""
        return tuple(w for w in self.weeks if w.logged and w.review_closes > now)

    def ended_label(self) -> str:
        """``ended on 2026-03-02``."""
        return f"ended on {day_label(self.ended_at)}" if self.ended_at else "not ended"
