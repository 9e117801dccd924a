"""Handlers for the cases around a contract: refund requests, disputes, dormancy watches.

The machines are built from the contract's facts and act back on it through
:mod:`statemachines.machines.links`; here those links run inside the command's unit of
work, so a case and its contract change together or not at all:

* ``OpenCase`` adds a draft case built from the contract (a refund request for a payment,
  an hourly dispute of an invoiced week, a fixed-price dispute of a milestone not
  released, a dormancy watch), and ``DisputeEscrowRefund`` fires the contract's
  ``dispute_refund`` and files a fixed-price dispute for the freelancer side;
* an hourly dispute filed holds its hours out of the week's payment and pauses the
  contract with a weekly limit of 0; when it is over the contract pays the hours kept and
  leaves the refunded ones out (HDSP-2, HDSP-4, HDSP-5, HDSP-7);
* a refund request granted is the freelancer's refund on the contract, with the
  contract's own guards (REF-180-1..5);
* a fixed-price dispute over held money that is resolved or awarded pays its shares
  out of the contract's escrow-refund request (the dispute replaces the support split);
  one about a milestone not released (FPD-1 b) disputes the milestone when filed and
  pays its shares on it when settled (MS-DSP-1);
* an award not complied with suspends the accounting entity named, for that reason
  (FPD-8, SUSP-2);
* every decision on a fixed-price contract is reported to its dormancy watch, if it has
  one, with the latest due date of its open milestones (DORM-1); the client releasing a
  dormant contract's money (in its window, or approving the freelancer's request) releases
  the live milestone, taking it back ends the contract paying nothing more (ESC-1), the
  client's silence on the freelancer's request releases it as the platform, a dispute of
  the request opens a fixed-price dispute in mediation whose shares are then paid, and a
  watch that closes with nobody acting ends the contract as the platform, which returns
  what is held to the client;
* ``RequestAssistance`` opens mediation assistance about escrow released up to 30 days
  ago and requests it in one unit of work (FPD-9); support closes it with a note and no
  money moves, since it rules on nothing (CTR-END-11);
* a contract's payments and its end reach its mid-contract feedback (FB-5); confirmed
  circumvention suspends the account that took part (CIRC-3); an hourly dispute of an
  agency's contract is counted on the agency's standing, and support suspending the agency
  for excessive disputes suspends its account (SUSP-3).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from statemachines.core.actors import SYSTEM, Actor
from statemachines.core.money import Money
from statemachines.errors import InvalidInput
from statemachines.machines.account.model import AccountState, SuspensionReason
from statemachines.machines.contract.model import Contract
from statemachines.machines.contract.values import ContractKind
from statemachines.machines.dormancy import Dormancy, DormancyOutcome
from statemachines.machines.fixed_dispute import DisputeCase, FixedDisputeState
from statemachines.machines.hourly_dispute import HourlyDispute, HourlyDisputeState
from statemachines.machines.links import (
    DISPUTE_DESK,
    assistance_for,
    dormancy_report,
    dormant_dispute_for,
    escrow_dispute_for,
    hourly_dispute_for,
    milestone_dispute_for,
    refund_request_for,
)
from statemachines.machines.mid_feedback import MidFeedback
from statemachines.machines.milestone import MilestoneState
from statemachines.machines.relationship import Relationship
from statemachines.machines.standing import Standing
from statemachines.marketplace import commands as c
from statemachines.marketplace.events import Change
from statemachines.marketplace.reads import account_of

if TYPE_CHECKING:
    from statemachines.marketplace.handlers import Handling

__all__ = ["COMMAND_HANDLERS", "EVENT_HANDLERS"]


def _fire(h: Handling, kind: str, agg: Any, event: str, actor: Actor, **payload: Any) -> None:
    """*actor* fires *event* on *agg* as part of the command's cascade."""
    history = agg.history
    at = max(h.now, history[-1].at) if history else h.now  # time never runs backwards
    h.uow.changing(kind, agg.id)
    decision = h.flows.by_kind[kind].fire_at(agg, event, actor, at, **payload)
    h.accepted(kind, agg, decision)


def _money(value: Any) -> Money:
    return Money(value["cents"], value["currency"]) if isinstance(value, dict) else value


# --------------------------------------------------------------------------- commands


def open_case(cmd: c.OpenCase, h: Handling) -> None:
    """Add a draft case built from the contract's facts."""
    contract: Contract = h.uow.get("contract", cmd.contract)
    if cmd.kind == "refund_request" and cmd.payment is not None:
        case: Any = refund_request_for(contract, cmd.payment, cmd.key)
    elif cmd.kind == "hourly_dispute" and cmd.week is not None:
        case = hourly_dispute_for(contract, cmd.week, cmd.key)
    elif cmd.kind == "fixed_dispute" and cmd.milestone is not None:
        case = milestone_dispute_for(contract, cmd.milestone, cmd.key)
    elif cmd.kind == "dormancy" and contract.kind is ContractKind.FIXED:
        case = Dormancy(
            id=cmd.key,
            contract=contract.id,
            client=contract.client,
            freelancer=contract.freelancer,
            agency=contract.agency,
            held=Money(0, contract.currency),
        )
    elif cmd.kind in _AROUND:
        case = _AROUND[cmd.kind](contract, cmd.key)
    else:
        msg = (
            f"cannot open a {cmd.kind!r} case on contract {contract.id} with these facts "
            "(a refund request needs a payment, an hourly dispute a week, a fixed-price "
            "dispute a milestone, a dormancy watch a fixed-price contract; mid-contract "
            "feedback, a relationship and a standing need only the contract)"
        )
        raise InvalidInput(msg)
    h.uow.add(cmd.kind, cmd.key, case, h.now)


_AROUND: dict[str, Callable[[Contract, str], Any]] = {
    "mid_feedback": lambda contract, key: MidFeedback(
        id=key,
        contract=contract.id,
        client=contract.client,
        freelancer=contract.freelancer,
        started_at=contract.started_at,
        agency=contract.agency,
    ),
    "relationship": lambda contract, key: Relationship(
        id=key, client=contract.client, freelancer=contract.freelancer, agency=contract.agency
    ),
    "standing": lambda contract, key: Standing(id=key, agency=contract.agency),
}
"""Cases built from a contract's parties: its mid-contract feedback (FB-5), the working
relationship of its client and freelancer side (CIRC-1..3), and the standing of an account
(SUSP-3, SUSP-5; *key* is the account's id, as the standing's own)."""


def dispute_escrow_refund(cmd: c.DisputeEscrowRefund, h: Handling) -> None:
    """The contract's ``dispute_refund`` and a fixed-price dispute filed, in one unit of work."""
    contract: Contract = h.uow.get("contract", cmd.contract)
    _fire(h, "contract", contract, "dispute_refund", cmd.actor)
    dispute = escrow_dispute_for(contract, cmd.key)
    h.uow.add("fixed_dispute", cmd.key, dispute, h.now)
    _fire(h, "fixed_dispute", dispute, "file", cmd.actor)


def request_assistance(cmd: c.RequestAssistance, h: Handling) -> None:
    """FPD-9: a case of mediation assistance about released escrow, opened and requested in
    one unit of work; after 30 days the request is refused and no case is left behind."""
    contract: Contract = h.uow.get("contract", cmd.contract)
    case = assistance_for(contract, cmd.payment, cmd.key)
    h.uow.add("assistance", cmd.key, case, h.now)
    _fire(h, "assistance", case, "request", cmd.actor, summary=cmd.summary)


COMMAND_HANDLERS: dict[type[c.Command], Callable[[Any, Handling], None]] = {
    c.OpenCase: open_case,
    c.DisputeEscrowRefund: dispute_escrow_refund,
    c.RequestAssistance: request_assistance,
}


# --------------------------------------------------------------------------- events


def refund_granted(change: Change, h: Handling) -> None:
    """REF-REQ-1, REF-180-*: a granted request is the freelancer side's refund on the contract."""
    request = h.uow.get("refund_request", change.key)
    contract = h.uow.get("contract", request.contract)
    _fire(
        h,
        "contract",
        contract,
        "give_refund",
        change.decision.actor,
        payment=request.payment,
        amount=request.granted,
        balance=_money(change.decision.payload["balance"]),
    )


def hours_disputed(change: Change, h: Handling) -> None:
    """HDSP-2: the disputed hours leave the week's payment; the contract pauses, limit 0."""
    dispute: HourlyDispute = h.uow.get("hourly_dispute", change.key)
    contract = h.uow.get("contract", dispute.contract)
    _fire(
        h,
        "contract",
        contract,
        "dispute_hours",
        SYSTEM,
        week=dispute.week,
        minutes=dispute.minutes,
    )


_HOURLY_OVER = (HourlyDisputeState.RESOLVED, HourlyDisputeState.CANCELLED)


def hourly_dispute_over(change: Change, h: Handling) -> None:
    """HDSP-4, HDSP-5, HDSP-7: the contract pays the hours kept; the rest stays refunded."""
    decision = change.decision
    if decision.target not in _HOURLY_OVER or decision.source in _HOURLY_OVER:
        return
    dispute: HourlyDispute = h.uow.get("hourly_dispute", change.key)
    contract = h.uow.get("contract", dispute.contract)
    _fire(
        h,
        "contract",
        contract,
        "settle_held_hours",
        SYSTEM,
        week=dispute.week,
        minutes=dispute.minutes,
        refunded=dispute.refunded,
    )


_SETTLED = (FixedDisputeState.RESOLVED, FixedDisputeState.AWARDED)


def milestone_disputed(change: Change, h: Handling) -> None:
    """MS-DSP-1, FPD-1 (b): filing about a milestone not released disputes the milestone."""
    dispute = h.uow.get("fixed_dispute", change.key)
    if dispute.case is not DisputeCase.NOT_RELEASED:
        return
    contract = h.uow.get("contract", dispute.contract)
    _fire(h, "contract", contract, "dispute_milestone", DISPUTE_DESK)


_SETTLES = {
    DisputeCase.ENDED_WITH_FUNDS: "resolve_dispute",
    DisputeCase.NOT_RELEASED: "settle_milestone_dispute",
    DisputeCase.DORMANT: "release_dormant_funds",
}
"""The contract's event that pays a settled dispute's shares, per case of FPD-1."""


def fixed_dispute_settled(change: Change, h: Handling) -> None:
    """A settled dispute pays its shares on the contract: the escrow-refund request at the
    end (case a), or the disputed milestone (case b, MS-DSP-1)."""
    decision = change.decision
    if decision.target not in _SETTLED or decision.source in _SETTLED:
        return
    dispute = h.uow.get("fixed_dispute", change.key)
    event = _SETTLES.get(dispute.case)
    if event is None:
        return
    contract = h.uow.get("contract", dispute.contract)
    _fire(
        h,
        "contract",
        contract,
        event,
        DISPUTE_DESK,
        to_freelancer=dispute.to_freelancer,
        to_client=dispute.to_client,
    )


_SUSPENDABLE = frozenset({AccountState.ACTIVE, AccountState.CLOSING})


def award_not_complied(change: Change, h: Handling) -> None:
    """FPD-8, SUSP-2: the accounting entity of the side that does not comply with the award
    (the client's company, the agency, or the freelancer) is suspended for it.

    An account suspended already stays suspended as it is; one deactivated or closed has
    nothing left to suspend.
    """
    dispute = h.uow.get("fixed_dispute", change.key)
    acc = account_of(h.uow, dispute.suspend[-1])
    if acc is not None and acc.state in _SUSPENDABLE:
        reason = SuspensionReason.ARBITRATION
        _fire(h, "account", acc, "suspend", change.decision.actor, reason=reason)


def contract_activity_reported(change: Change, h: Handling) -> None:
    """DORM-1: a decision on a fixed-price contract restarts its dormancy watch, if any."""
    contract = h.uow.get("contract", change.key)
    if contract.kind is not ContractKind.FIXED:
        return
    for watch in h.uow.related("dormancy", contract.id):
        if watch.contract == contract.id and watch.state.value not in _FINAL_WATCH:
            added = change.decision.event == "add_milestone"
            _fire(
                h, "dormancy", watch, "activity", SYSTEM, **dormancy_report(contract, added=added)
            )


_FINAL_WATCH = frozenset({"settled", "released", "mediation", "closed"})


def dormant_contract_closed(change: Change, h: Handling) -> None:
    """DORM-1: nobody acted on a dormant contract: the platform ends it (held money returns)."""
    watch: Dormancy = h.uow.get("dormancy", change.key)
    if watch.outcome is not DormancyOutcome.NOBODY_ACTED:
        return
    contract = h.uow.get("contract", watch.contract)
    if contract.state.value in {"active", "paused"}:
        _fire(h, "contract", contract, "end_contract", SYSTEM)


def dormant_funds_released(change: Change, h: Handling) -> None:
    """DORM-1: the client releases a dormant contract's money (in its own window, or approving
    the freelancer's request): the live milestone is released, or approved if delivered."""
    watch: Dormancy = h.uow.get("dormancy", change.key)
    contract: Contract = h.uow.get("contract", watch.contract)
    live = contract.live_milestone
    funded = live is not None and live.state is MilestoneState.FUNDED
    event = "release_milestone" if funded else "approve_milestone"
    _fire(h, "contract", contract, event, change.decision.actor)


def dormant_funds_taken_back(change: Change, h: Handling) -> None:
    """DORM-1, ESC-1: the client takes a dormant contract's money back by ending it paying
    nothing more; what is held goes through the escrow-refund request."""
    watch: Dormancy = h.uow.get("dormancy", change.key)
    contract: Contract = h.uow.get("contract", watch.contract)
    _fire(h, "contract", contract, "end_contract", change.decision.actor, payment=Money(0))


def dormant_release_lapsed(change: Change, h: Handling) -> None:
    """DORM-1: the client let the freelancer's request lapse: the platform releases what the
    live milestone holds (money not allocated to a milestone stays until the end)."""
    watch: Dormancy = h.uow.get("dormancy", change.key)
    contract: Contract = h.uow.get("contract", watch.contract)
    live = contract.live_milestone
    if live is not None and live.held and live.state is not MilestoneState.DISPUTED:
        _fire(h, "contract", contract, "release_dormant_funds", SYSTEM, to_freelancer=live.held)


def dormant_release_disputed(change: Change, h: Handling) -> None:
    """DORM-1, FPD-5: the client disputed the release: a fixed-price dispute of the dormant
    case goes straight to mediation (key: the watch's, with ``-mediation``)."""
    watch: Dormancy = h.uow.get("dormancy", change.key)
    contract: Contract = h.uow.get("contract", watch.contract)
    key = f"{watch.id}-mediation"
    dispute = dormant_dispute_for(contract, key)
    h.uow.add("fixed_dispute", key, dispute, h.now)
    _fire(h, "fixed_dispute", dispute, "mediate", SYSTEM)


_RUNNING = frozenset({"active", "paused"})


def mid_feedback_told(change: Change, h: Handling) -> None:
    """FB-5: the contract's mid-contract feedback hears of its payments and of its end."""
    contract: Contract = h.uow.get("contract", change.key)
    decision = change.decision
    paid = bool(contract.payments) and contract.payments[-1].paid_at == decision.at
    ended = decision.source.value in _RUNNING and decision.target.value not in _RUNNING
    if not (paid or ended):
        return
    for case in h.uow.related("mid_feedback", contract.id):
        if case.contract != contract.id or case.state.value == "closed":
            continue
        if paid and not ended:
            _fire(h, "mid_feedback", case, "payment_made", SYSTEM)
        if ended:
            _fire(h, "mid_feedback", case, "contract_ended", SYSTEM)


def _suspend(h: Handling, party: str, actor: Actor, reason: SuspensionReason) -> None:
    acc = account_of(h.uow, party)
    if acc is not None and acc.state in _SUSPENDABLE:
        _fire(h, "account", acc, "suspend", actor, reason=reason)


def circumvention_confirmed(change: Change, h: Handling) -> None:
    """CIRC-3: the account that took the work off the platform is suspended for it."""
    relationship = h.uow.get("relationship", change.key)
    _suspend(h, relationship.suspend[-1], change.decision.actor, SuspensionReason.CIRCUMVENTION)


def agency_suspended_for_disputes(change: Change, h: Handling) -> None:
    """SUSP-3: support suspends the whole agency for excessive disputes against its people."""
    standing = h.uow.get("standing", change.key)
    _suspend(h, standing.suspend[-1], change.decision.actor, SuspensionReason.TERMS)


def dispute_counted_against_agency(change: Change, h: Handling) -> None:
    """SUSP-3: an hourly dispute of an agency's contract is recorded on its standing."""
    dispute: HourlyDispute = h.uow.get("hourly_dispute", change.key)
    if not dispute.agency:
        return
    for standing in h.uow.related("standing", dispute.freelancer):
        if standing.id == dispute.freelancer and standing.state.value != "closure":
            _fire(h, "standing", standing, "record_dispute", SYSTEM)


EVENT_HANDLERS: dict[tuple[str, str | None], tuple[Callable[[Change, Handling], None], ...]] = {
    ("refund_request", "give_refund"): (refund_granted,),
    ("hourly_dispute", "file"): (hours_disputed, dispute_counted_against_agency),
    ("hourly_dispute", None): (hourly_dispute_over,),
    ("fixed_dispute", "file"): (milestone_disputed,),
    ("fixed_dispute", None): (fixed_dispute_settled,),
    ("fixed_dispute", "report_non_compliance"): (award_not_complied,),
    ("contract", None): (contract_activity_reported, mid_feedback_told),
    ("relationship", "confirm"): (circumvention_confirmed,),
    ("standing", "suspend_for_disputes"): (agency_suspended_for_disputes,),
    ("dormancy", "freelancer_window_lapse"): (dormant_contract_closed,),
    ("dormancy", "release_funds"): (dormant_funds_released,),
    ("dormancy", "approve_release"): (dormant_funds_released,),
    ("dormancy", "take_back_funds"): (dormant_funds_taken_back,),
    ("dormancy", "release_review_lapse"): (dormant_release_lapsed,),
    ("dormancy", "dispute_release"): (dormant_release_disputed,),
}
"""(kind, event) -> handlers; (kind, None) reacts to every decision of that kind."""
