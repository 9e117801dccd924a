"""How the machines around a contract start from it and act on it, both or neither.

Disputes, refund requests and dormancy watches are machines of their own; each
reads what it needs from the contract when it is created, and some of their
decisions are also decisions of the contract. This module holds both halves, so
a marketplace (or a test) composes them the same way everywhere:

* builders: :func:`hourly_dispute_for`, :func:`escrow_dispute_for`,
  :func:`milestone_dispute_for`, :func:`refund_request_for`,
  :func:`assistance_for` and :func:`dormancy_report` read the contract's facts
  (an invoiced week, the escrow-refund request, a milestone, a payment, what is
  held);
* pairs: :func:`grant_refund` (the request's ``give_refund`` and the contract's,
  under the contract's REF-180 guards as well), :func:`dispute_escrow_refund`
  (the contract's ``dispute_refund``, ESC-4, and the fixed-price dispute's
  ``file``) and :func:`settle_escrow_dispute` (a resolved or awarded fixed-price
  dispute settles the contract's escrow-refund request: the dispute machine
  replaces the support split of ADR 0053). A pair fires both decisions or, if
  the second is refused, puts the first aggregate back and raises: nothing changes.

Nothing here moves money the machines do not: every amount goes through an event
whose guards check it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from statemachines.core.actors import Actor, Role
from statemachines.core.clock import ensure_utc
from statemachines.core.engine import Decision, Workflow
from statemachines.core.money import Money
from statemachines.errors import InvalidInput
from statemachines.machines.assistance import MediationAssistance
from statemachines.machines.contract.model import LIVE_MILESTONE, Contract
from statemachines.machines.contract.values import (
    ContractKind,
    PaymentKind,
    RefundStatus,
    day_label,
)
from statemachines.machines.fixed_dispute import (
    DisputeCase,
    FixedDispute,
    FixedDisputes,
    FixedDisputeState,
)
from statemachines.machines.hourly_dispute import HourlyDispute
from statemachines.machines.milestone import MilestoneState
from statemachines.machines.refund_request import ClientRefundRequest, RefundRequests

__all__ = [
    "DISPUTE_DESK",
    "assistance_for",
    "dispute_escrow_refund",
    "dormancy_report",
    "dormant_dispute_for",
    "escrow_dispute_for",
    "grant_refund",
    "hourly_dispute_for",
    "milestone_dispute_for",
    "milestone_due_dates",
    "refund_request_for",
    "settle_escrow_dispute",
]

DISPUTE_DESK = Actor("dispute-desk", Role.SUPPORT)
"""Support's dispute desk: records on the contract what a fixed-price dispute decided."""

T = TypeVar("T")


def _refuse(text: str) -> InvalidInput:
    return InvalidInput(text)


# --------------------------------------------------------------------------- builders


def _sides(contract: Contract, key: str) -> dict[str, Any]:
    """The fields every case about *contract* copies from it: its id and its parties."""
    return {
        "id": key,
        "contract": contract.id,
        "client": contract.client,
        "freelancer": contract.freelancer,
        "agency": contract.agency,
    }


def hourly_dispute_for(contract: Contract, week: datetime, key: str) -> HourlyDispute:
    """A draft dispute of the hours *contract* invoiced for *week* (its Monday, BILL-1)."""
    if contract.kind is not ContractKind.HOURLY or contract.rate is None:
        msg = f"contract {contract.id} is not an hourly contract: its hours cannot be disputed"
        raise _refuse(msg)
    billed = contract.week(week)
    if billed.invoiced_at is None:
        msg = f"contract {contract.id} has no invoice for week {day_label(week)}"
        raise _refuse(msg)
    return HourlyDispute(
        **_sides(contract, key),
        week=billed.start,
        billed=billed.billable,
        rate=contract.rate,
        member=contract.member,
    )


def escrow_dispute_for(contract: Contract, key: str) -> FixedDispute:
    """A draft dispute (case a) of *contract*'s escrow-refund request (FPD-1, ESC-4)."""
    request = contract.escrow_refund
    if request is None:
        msg = f"contract {contract.id} has no escrow-refund request to dispute"
        raise _refuse(msg)
    return FixedDispute(
        **_sides(contract, key),
        case=DisputeCase.ENDED_WITH_FUNDS,
        amount=request.amount,
        ended_at=contract.ended_at,
        freelancer_feedback_at=contract.freelancer_feedback_at,
    )


def milestone_dispute_for(contract: Contract, milestone: str, key: str) -> FixedDispute:
    """A draft dispute (case b) of *milestone* of *contract*, not released (MS-DSP-1)."""
    ms = next((m for m in contract.milestones if m.id == milestone), None)
    if ms is None:
        msg = f"contract {contract.id} has no milestone {milestone!r}"
        raise _refuse(msg)
    return FixedDispute(
        **_sides(contract, key),
        case=DisputeCase.NOT_RELEASED,
        amount=ms.held if ms.held else ms.funded,
        milestone=ms.id,
        milestone_state=ms.state.value,
        ended_at=contract.ended_at,
    )


def dormant_dispute_for(contract: Contract, key: str) -> FixedDispute:
    """A draft dispute of a dormant contract's release, which goes straight to mediation
    (DORM-1): about what its live milestone holds."""
    ms = contract.live_milestone
    if ms is None or not ms.held:
        msg = f"contract {contract.id} has no milestone holding money to mediate about"
        raise _refuse(msg)
    return FixedDispute(
        **_sides(contract, key),
        case=DisputeCase.DORMANT,
        amount=ms.held,
        milestone=ms.id,
        milestone_state=ms.state.value,
    )


def refund_request_for(contract: Contract, payment: str, key: str) -> ClientRefundRequest:
    """A draft request for a refund of *payment* of *contract* (REF-REQ-1)."""
    paid = contract.payment(payment)
    if paid is None:
        msg = f"contract {contract.id} made no payment {payment!r}"
        raise _refuse(msg)
    return ClientRefundRequest(
        **_sides(contract, key),
        payment=paid.id,
        paid_at=paid.paid_at,
        refundable=paid.left,
    )


RELEASED_ESCROW = frozenset({PaymentKind.MILESTONE, PaymentKind.FINAL})
"""Payments that released escrow: a milestone released (by the client or when its review
lapsed) and a client's final payment on ending (MS-DSP-2, FPD-9)."""


def assistance_for(contract: Contract, payment: str, key: str) -> MediationAssistance:
    """A draft request for mediation assistance about *payment* of *contract*, escrow that
    was released (FPD-9); its 30 days run from the release."""
    paid = contract.payment(payment)
    if paid is None:
        msg = f"contract {contract.id} made no payment {payment!r}"
        raise _refuse(msg)
    if contract.kind is not ContractKind.FIXED or paid.kind not in RELEASED_ESCROW:
        msg = (
            f"{paid.describe()} ({paid.id}) did not release escrow of a fixed-price contract; "
            "mediation assistance is about released escrow, and a refund request covers "
            "other payments"
        )
        raise _refuse(msg)
    return MediationAssistance(**_sides(contract, key), payment=paid.id, released_at=paid.paid_at)


def milestone_due_dates(contract: Contract) -> dict[str, datetime]:
    """The due date agreed for each milestone of *contract* that has one (DORM-1).

    ``add_milestone`` records it (its ``due`` argument); the n-th milestone added is
    ``<contract>-M<n>`` (milestones are never removed, a deleted one stays listed).
    """
    out: dict[str, datetime] = {}
    added = 0
    for d in contract.history:
        if d.event == "add_milestone":
            added += 1
            due = d.payload.get("due")
            if due is not None:
                out[f"{contract.id}-M{added}"] = ensure_utc(datetime.fromisoformat(str(due)))
    return out


def dormancy_report(contract: Contract, *, added: bool = False) -> dict[str, Any]:
    """The arguments of the dormancy watch's ``activity`` after an event on *contract*.

    ``due`` is the latest due date of a milestone not paid, cancelled or deleted yet, if
    any: a milestone due later keeps the contract from going dormant before then (DORM-1).
    """
    dates = milestone_due_dates(contract)
    open_dates = [
        dates[m.id] for m in contract.milestones if m.id in dates and m.state in _OPEN_MILESTONE
    ]
    return {"held": contract.escrow_held, "added": added, "due": max(open_dates, default=None)}


_OPEN_MILESTONE = frozenset({MilestoneState.DRAFT, *LIVE_MILESTONE})


# --------------------------------------------------------------------------- pairs


def _both(
    first: Workflow[Any, Any],
    agg: Any,
    fire_first: Callable[[], Decision],
    fire_second: Callable[[], T],
) -> tuple[Decision, T]:
    saved = first.spec.save(agg)
    decision = fire_first()
    try:
        second = fire_second()
    except BaseException:
        first.spec.restore(agg, saved)
        raise
    return decision, second


def grant_refund(
    requests: RefundRequests,
    contracts: Workflow[Any, Any],
    request: ClientRefundRequest,
    contract: Contract,
    actor: Actor,
    *,
    amount: Money,
    balance: Money,
) -> tuple[Decision, Decision]:
    """The freelancer side grants *request* with its own refund of *amount*, or nothing happens.

    The request's guards (REF-180-1..3 as they read on the request) run first, then the
    contract's ``give_refund`` with the contract's own (REF-180-1..5 over all its payments).
    """
    if request.contract != contract.id:
        msg = f"request {request.id} is about contract {request.contract}, not {contract.id}"
        raise _refuse(msg)
    return _both(
        requests,
        request,
        lambda: requests.fire(request, "give_refund", actor, amount=amount, balance=balance),
        lambda: contracts.fire(
            contract,
            "give_refund",
            actor,
            payment=request.payment,
            amount=amount,
            balance=balance,
        ),
    )


def dispute_escrow_refund(
    contracts: Workflow[Any, Any],
    disputes: FixedDisputes,
    contract: Contract,
    actor: Actor,
    key: str,
) -> tuple[Decision, FixedDispute]:
    """The freelancer side disputes the escrow-refund request: the contract's ``dispute_refund``
    (ESC-2, ESC-4) and a fixed-price dispute filed (FPD-1, FPD-2, FB-6), or neither."""
    draft = escrow_dispute_for(contract, key)

    def file() -> FixedDispute:
        disputes.fire(draft, "file", actor)
        return draft

    return _both(
        contracts, contract, lambda: contracts.fire(contract, "dispute_refund", actor), file
    )


def settle_escrow_dispute(
    contracts: Workflow[Any, Any], contract: Contract, dispute: FixedDispute
) -> Decision:
    """A fixed-price dispute over the escrow refund is settled: the contract pays its shares.

    Support's dispute desk records the outcome with the contract's ``resolve_dispute``,
    whose guards check the shares again (they add up to the amount, ESC-5).
    """
    done = (FixedDisputeState.RESOLVED, FixedDisputeState.AWARDED)
    if dispute.state not in done or dispute.case is not DisputeCase.ENDED_WITH_FUNDS:
        msg = f"dispute {dispute.id} has not settled held money at the end of a contract"
        raise _refuse(msg)
    request = contract.escrow_refund
    if request is None or request.status is not RefundStatus.DISPUTED:
        msg = f"contract {contract.id} has no disputed escrow-refund request"
        raise _refuse(msg)
    return contracts.fire(
        contract,
        "resolve_dispute",
        DISPUTE_DESK,
        to_freelancer=dispute.to_freelancer,
        to_client=dispute.to_client,
    )
