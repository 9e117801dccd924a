"""Contract lifecycle: active <-> paused -> ending -> ended <-> refunded, for both contract types.

Hourly and fixed-price contracts share one table; guards refuse the events of
the other type (CTR-TYPE-D) and branches pick the target from the money:

* ending with money still to settle (hourly weeks in review, CTR-END-3; or a
  client paying less than is held, ESC-1) goes to ``ending``, which the
  platform or the freelancer's answer moves on;
* a settled contract is ``ended``, or ``refunded`` when its net pay is below
  US$1.00 (REF-180-7); bonuses and refunds move it between the two.

Nothing leaves ``ending``, ``ended`` or ``refunded`` for ``active`` or
``paused`` (CTR-END-9): the forbidden rows say why.

>>> from datetime import datetime
>>> from statemachines import Actor, ManualClock, Money, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> lifecycle = ContractLifecycle(clock=clock)
>>> c = Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=clock.now())
>>> owner = Actor("ana", Role.CLIENT_OWNER, party="co-1")
>>> fl = Actor("fl-1", Role.FREELANCER)
>>> _ = lifecycle.fire(c, "add_milestone", owner, amount=Money(20_000))
>>> _ = lifecycle.fire(c, "fund_milestone", owner)
>>> _ = lifecycle.fire(c, "end_contract", owner, payment=Money(5_000))
>>> c.state, c.escrow_refund.amount, c.escrow_refund.due.isoformat()
(<ContractState.ENDING: 'ending'>, Money(15000, 'USD'), '2026-03-09T09:00:00+00:00')
>>> _ = lifecycle.advance(c, datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
>>> c.state, c.escrow_returned, c.escrow_held
(<ContractState.ENDED: 'ended'>, Money(15000, 'USD'), Money(0, 'USD'))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from statemachines.core.actors import CLIENT_DECIDERS, FREELANCER_SIDE, Actor, Role
from statemachines.core.clock import Clock
from statemachines.core.engine import (
    AuditSink,
    Branch,
    Context,
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
from statemachines.errors import InvalidPayload
from statemachines.machines.contract import after, case_rows, escrow, hourly
from statemachines.machines.contract.case_rows import FIXED, loops
from statemachines.machines.contract.model import Contract, ContractState
from statemachines.machines.contract.pauses import HOURLY, PAUSE_EDGES
from statemachines.machines.contract.values import Balance

__all__ = ["CONTRACT", "Contract", "ContractLifecycle", "ContractState"]

S = ContractState

CLIENT = CLIENT_DECIDERS
"""Client members who hire, pay and end (TEAM-5)."""
DECIDERS = frozenset({Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER})
"""The freelancer side's deciders: end, refund, answer refund requests (CTR-GEN-1, TEAM-8)."""
WORKERS = FREELANCER_SIDE
"""Who submits milestones: the freelancer or an agency's people (MS-SUBMIT-1, TEAM-8)."""
LOGGERS = frozenset({Role.FREELANCER, Role.AGENCY_MEMBER})
"""Who logs time: the freelancer, or the agency member on the contract (TEAM-8)."""
SIDES = CLIENT | DECIDERS
SYSTEM = frozenset({Role.SYSTEM})
ENDERS = SIDES | SYSTEM
"""Either side ends a contract; the platform ends it when it closes an account for good."""
SUPPORT = frozenset({Role.SUPPORT})
AFTER_END = (S.ENDING, S.ENDED, S.REFUNDED)
RUNNING = (S.ACTIVE, S.PAUSED)

NET_OK = "net pay US$1.00 or more"
NET_LOW = "net pay below US$1.00"

HIDE = (
    Effect("REF-180-7", after.leave_work_history),
    Effect("FB-4", after.withdraw_feedback),
)
"""What entering ``refunded`` does."""


def _settles(
    event: str,
    sources: tuple[S, ...],
    roles: frozenset[Role],
    ok: Callable[[Any, Context], bool],
    low: Callable[[Any, Context], bool],
    *,
    effects: tuple[Effect, ...] = (),
    **kw: Any,
) -> list[Edge[S]]:
    # Money settled: ended if net pay is at least US$1.00, refunded otherwise (REF-180-7).
    return [
        Edge(event, sources, S.ENDED, roles, branch=Branch(NET_OK, ok), effects=effects, **kw),
        Edge(
            event,
            sources,
            S.REFUNDED,
            roles,
            branch=Branch(NET_LOW, low),
            effects=effects + HIDE,
            **kw,
        ),
    ]


def _freelancer_side(c: Contract, actor: Actor, edge: Edge[Any] | None) -> str | None:
    if actor.role is Role.FREELANCER:
        if c.agency:
            return f"an agency ({c.freelancer!r}) holds contract {c.id}; its members act for it"
        if actor.id != c.freelancer:
            return f"contract {c.id} is held by {c.freelancer!r}, not by {actor.id!r}"
        return None
    if not c.agency or actor.party != c.freelancer:
        return f"contract {c.id} is held by {c.freelancer!r}, not by agency {actor.party!r}"
    logs = edge is not None and edge.event in {"log_time", "delete_time"}
    if logs and actor.id != c.member:
        return f"only the agency member on contract {c.id} ({c.member!r}) logs its time"
    return None


def _authorize(c: Contract, actor: Actor, edge: Edge[Any] | None) -> str | None:
    role = actor.role
    if role in (Role.SYSTEM, Role.SUPPORT):
        return None
    if role in CLIENT_DECIDERS:
        if actor.party != c.client:
            return f"contract {c.id} belongs to client {c.client!r}, not {actor.party!r}"
        return None
    if role in FREELANCER_SIDE:
        return _freelancer_side(c, actor, edge)
    return f"a {role.label} takes no part in contract {c.id}"


def _ended_already(c: Contract, ctx: Context) -> Reason:
    return fail(
        f"contract {c.id} {c.ended_label()}; a contract ends once and is never reopened, so "
        "more work needs a new contract",
        ended_at=c.ended_at.isoformat() if c.ended_at else None,
    )


MONEY = (Money,)
MINUTES = Param("minutes", (int,), doc="minutes of work")
ON = Param("on", (datetime,), None, "when the work was done; default: now")
PAYMENT_ID = Param("payment", (str,), doc="the id of a payment of this contract")
RELEASE = Param("amount", MONEY, None, "amount to pay; default: the milestone's funded amount")
TITLE = Param("title", (str,), "", "what the milestone delivers")
CHOSEN = Param("milestone", (str,), None, "a milestone not funded yet; default: the next one")
MESSAGE = Param("message", (str,), "", "a note for the other side")

REFUND_GUARDS = (
    Guard("REF-180-5", after.billed_payment, uses=("payment",)),
    Guard("REF-180-2", after.within_payment, uses=("payment", "amount")),
    Guard("REF-180-3", after.within_cap, uses=("amount",)),
)
REFUND: dict[str, Any] = {
    "role_rules": ("REF-180-1", "BILL-7", "TEAM-8"),
    "effects": (
        Effect("REF-180-4", after.refund_payment),
        Effect("REF-180-6", after.count_refund),
    ),
    "params": (
        PAYMENT_ID,
        Param("amount", MONEY, doc="how much to refund"),
        Param(
            "balance",
            MONEY,
            None,
            "the freelancer's available plus pending balance, for a contract used alone; "
            "a marketplace computes it from its records and does not read this",
        ),
    ),
    "summary": "The freelancer side refunds all or part of a payment up to 180 days old.",
}
BONUS: dict[str, Any] = {
    "role_rules": ("TEAM-5",),
    "guards": (
        Guard("PAY-2", after.positive_bonus, uses=("amount",)),
        Guard("PAY-2", after.bonus_in_time),
    ),
    "params": (Param("amount", MONEY, doc="the bonus"),),
    "summary": "The client pays a bonus (up to 365 days after the end).",
}
BONUS_HOLD = Effect("PAY-1", escrow.hold_manual_payments)
FEEDBACK: dict[str, Any] = {
    "role_rules": ("CTR-END-6", "TEAM-5", "TEAM-8"),
    "guards": (
        Guard("FB-1", after.window_open),
        Guard("REF-REQ-3", after.not_extended_by_request),
        Guard("FB-1", after.feedback_once),
    ),
    "effects": (Effect("FB-2", after.leave_feedback),),
    "params": (Param("text", (str,), "", "the feedback"),),
    "summary": "One side leaves feedback for the other, double-blind.",
}
END_EFFECTS = (
    Effect("CTR-GEN-1", after.record_end),
    Effect("CTR-END-2", hourly.lock_diary),
    Effect("MS-END-D", escrow.cancel_milestones),
    Effect("CTR-END-4", escrow.return_everything),
    Effect("CTR-END-5", escrow.pay_final),
    Effect("BILL-6", escrow.hold_manual_payments),
    Effect("ESC-1", escrow.open_escrow_refund),
    Effect("BILL-4", hourly.await_last_review),
    Effect("CTR-END-6", after.open_feedback),
)
END: dict[str, Any] = {
    "role_rules": ("CTR-GEN-1", "TEAM-5", "TEAM-8", "ACC-GEN-8"),
    "guards": (
        Guard("CTR-END-5", escrow.final_payment_by_client, uses=("payment",)),
        case_rows.NO_MILESTONE_DISPUTED,
    ),
    "params": (
        Param("payment", MONEY, None, "fixed-price, client: the final payment; default: all held"),
    ),
    "summary": "Either side ends the contract (or the platform, closing an account for good).",
}
WORK_AFTER_END = (
    "add_milestone",
    "edit_milestone",
    "delete_milestone",
    "fund_milestone",
    "submit_work",
    "request_changes",
    "approve_milestone",
    "release_milestone",
    "end_contract",
    "pause",
    "restart",
)

CONTRACT: MachineSpec[ContractState, Contract] = MachineSpec(
    name="contract",
    description="Hourly and fixed-price contracts: work, ending, settlement, refunds, feedback.",
    states=ContractState,
    initial=S.ACTIVE,
    terminal=(),
    model=Contract,
    children=("milestones",),
    authorize=_authorize,
    edges=(
        # -- hourly: the diary and the weekly cycle
        *loops(
            "log_time",
            (S.ACTIVE,),
            LOGGERS,
            role_rules=("TEAM-8",),
            guards=(
                HOURLY,
                Guard("BILL-1", hourly.time_in_contract),
                Guard("BILL-2", hourly.diary_week_open),
            ),
            effects=(Effect("BILL-1", hourly.log_time),),
            params=(MINUTES, ON),
            summary="The freelancer logs time into the week it was worked in (over the limit too).",
        ),
        *loops(
            "delete_time",
            (S.ACTIVE,),
            LOGGERS,
            role_rules=("TEAM-8",),
            guards=(
                HOURLY,
                Guard("BILL-1", hourly.time_in_contract),
                Guard("BILL-2", hourly.diary_week_open),
                Guard("BILL-2", hourly.enough_time_logged, uses=("minutes",)),
            ),
            effects=(Effect("BILL-2", hourly.delete_time),),
            params=(MINUTES, ON),
            summary="The freelancer deletes time not invoiced yet.",
        ),
        *loops(
            "set_weekly_limit",
            RUNNING,
            CLIENT,
            role_rules=("TEAM-5",),
            guards=(
                HOURLY,
                Guard("CTR-HR-3", hourly.limit_not_negative, uses=("hours",)),
                case_rows.NO_DISPUTE_PAUSE,
            ),
            effects=(Effect("CTR-HR-3", hourly.set_weekly_limit),),
            params=(Param("hours", (int,), None, "billable hours per week; default: no limit"),),
            summary="The client sets the weekly limit.",
        ),
        *loops(
            "invoice",
            (S.ACTIVE, S.PAUSED, S.ENDING),
            SYSTEM,
            timer=Timer("BILL-3", "Monday 12:00 UTC after a week with time"),
            effects=(
                Effect("CTR-HR-3", hourly.cap_week),
                Effect("BILL-3", hourly.charge_week),
                Effect("BILL-5", hourly.hold_until_wednesday),
            ),
            summary="Invoice the week just closed, once; available on the Wednesday after.",
        ),
        *PAUSE_EDGES,
        *case_rows.held_hours(NET_OK, NET_LOW),  # HDSP-2
        # -- fixed-price: milestones in escrow
        *loops(
            "add_milestone",
            (S.ACTIVE,),
            CLIENT,
            role_rules=("TEAM-5",),
            guards=(FIXED, Guard("MS-1", escrow.milestone_minimum, uses=("amount",))),
            effects=(Effect("MS-3", escrow.add_milestone),),
            params=(Param("amount", MONEY, doc="the milestone's amount"), TITLE, case_rows.DUE),
            summary="The client adds a milestone, not funded yet.",
        ),
        *loops(
            "edit_milestone",
            (S.ACTIVE,),
            CLIENT,
            role_rules=("MS-3", "TEAM-5"),
            guards=(
                FIXED,
                Guard("MS-2", escrow.draft_waiting),
                Guard("MS-3", escrow.draft_chosen, uses=("milestone",)),
                Guard("MS-1", escrow.edited_minimum, uses=("amount",)),
            ),
            effects=(Effect("MS-3", escrow.edit_milestone),),
            params=(
                CHOSEN,
                Param("amount", MONEY, None, "the new amount"),
                Param("title", (str,), None, "the new title"),
            ),
            summary="The client edits a milestone not funded yet.",
        ),
        *loops(
            "delete_milestone",
            (S.ACTIVE,),
            CLIENT,
            role_rules=("MS-3", "TEAM-5"),
            guards=(
                FIXED,
                Guard("MS-2", escrow.draft_waiting),
                Guard("MS-3", escrow.draft_chosen, uses=("milestone",)),
            ),
            effects=(Effect("MS-3", escrow.delete_milestone),),
            params=(CHOSEN,),
            summary="The client deletes a milestone not funded yet.",
        ),
        *loops(
            "fund_milestone",
            (S.ACTIVE,),
            CLIENT,
            role_rules=("TEAM-5",),
            guards=(
                FIXED,
                Guard("MS-2", escrow.none_live),
                Guard("MS-2", escrow.draft_waiting),
                Guard("MS-3", escrow.draft_chosen, uses=("milestone",)),
            ),
            effects=(Effect("MS-2", escrow.fund_next),),
            params=(CHOSEN,),
            summary="The client funds the milestone it chooses (the next one by default).",
        ),
        *loops(
            "submit_work",
            (S.ACTIVE,),
            WORKERS,
            role_rules=("MS-SUBMIT-1", "TEAM-8"),
            guards=(
                FIXED,
                Guard("MS-4", escrow.work_expected),
                case_rows.NOT_DISPUTED,
            ),
            effects=(Effect("MS-REVIEW-1", escrow.submit),),
            params=(MESSAGE,),
            summary="The freelancer side submits (or resubmits) the live milestone.",
        ),
        *loops(
            "request_changes",
            (S.ACTIVE,),
            CLIENT,
            role_rules=("MS-REVIEW-3", "TEAM-5"),
            guards=(FIXED, Guard("MS-REVIEW-1", escrow.in_review)),
            effects=(Effect("MS-REVIEW-3", escrow.request_changes),),
            params=(MESSAGE,),
            summary="The client asks for changes; the review clock stops.",
        ),
        *loops(
            "approve_milestone",
            (S.ACTIVE,),
            CLIENT,
            role_rules=("TEAM-5",),
            guards=(
                FIXED,
                Guard("MS-REVIEW-1", escrow.in_review),
                Guard("MS-REVIEW-5", escrow.positive_release, uses=("amount",)),
            ),
            effects=(
                Effect("MS-REVIEW-5", escrow.approve),
                Effect("CTR-END-10", escrow.suggest_end),
            ),
            params=(RELEASE,),
            summary="The client approves and pays the milestone in review.",
        ),
        *loops(
            "release_milestone",
            (S.ACTIVE,),
            CLIENT,
            role_rules=("TEAM-5",),
            guards=(
                FIXED,
                Guard("MS-REVIEW-6", escrow.funded_unsubmitted),
                Guard("MS-REVIEW-5", escrow.positive_release, uses=("amount",)),
            ),
            effects=(
                Effect("MS-REVIEW-6", escrow.release),
                Effect("CTR-END-10", escrow.suggest_end),
            ),
            params=(RELEASE,),
            summary="The client pays a funded milestone without a submission.",
        ),
        *loops(
            "milestone_review_lapse",
            (S.ACTIVE,),
            SYSTEM,
            timer=Timer("MS-REVIEW-2", "14 days after the latest submission"),
            effects=(Effect("MS-REVIEW-2", escrow.lapse),),
            summary="The client's review lapsed: the milestone is paid in full.",
        ),
        *case_rows.MILESTONE_DISPUTE,  # MS-DSP-1, FPD-5, DORM-1 (rulebook helper)
        # -- the end
        Edge(
            "end_contract",
            RUNNING,
            S.ENDING,
            ENDERS,
            branch=Branch("money still to settle", after.unsettled_at_end),
            effects=END_EFFECTS,
            **END,
        ),
        Edge(
            "end_contract",
            RUNNING,
            S.ENDED,
            ENDERS,
            branch=Branch(f"settled, {NET_OK}", after.ends_paid),
            effects=END_EFFECTS,
            **END,
        ),
        Edge(
            "end_contract",
            RUNNING,
            S.REFUNDED,
            ENDERS,
            branch=Branch(f"settled, {NET_LOW}", after.ends_unpaid),
            effects=END_EFFECTS + HIDE,
            **END,
        ),
        *_settles(
            "settle",
            (S.ENDING,),
            SYSTEM,
            after.paid_enough,
            after.paid_too_little,
            timer=Timer("CTR-END-3", "Saturday 00:00 UTC after the last billed week's review"),
            summary="The last client review closed: the hourly contract is settled.",
        ),
        # -- fixed-price: the escrow-refund request (ESC) and its minimal dispute
        *_settles(
            "approve_refund",
            (S.ENDING,),
            DECIDERS,
            after.paid_enough,
            after.paid_too_little,
            role_rules=("ESC-2", "TEAM-8"),
            guards=(Guard("ESC-1", escrow.request_pending),),
            effects=(Effect("ESC-3", escrow.refund_held),),
            summary="The freelancer side approves the escrow refund.",
        ),
        *_settles(
            "refund_request_lapse",
            (S.ENDING,),
            SYSTEM,
            after.paid_enough,
            after.paid_too_little,
            timer=Timer("ESC-3", "7 days after the escrow-refund request"),
            effects=(Effect("ESC-3", escrow.refund_held),),
            summary="Nobody answered in 7 days: the escrow refund is approved.",
        ),
        Edge(
            "dispute_refund",
            (S.ENDING,),
            S.ENDING,
            DECIDERS,
            ("ESC-2", "TEAM-8"),
            guards=(
                Guard("ESC-1", escrow.request_pending),
                Guard("ESC-4", escrow.freelancer_feedback_first),
            ),
            effects=(Effect("ESC-4", escrow.dispute),),
            summary="The freelancer side disputes the escrow refund; support decides.",
        ),
        *_settles(
            "resolve_dispute",
            (S.ENDING,),
            SUPPORT,
            after.paid_enough,
            after.paid_too_little,
            role_rules=("ESC-SPLIT-D",),
            guards=(
                Guard("ESC-4", escrow.disputed),
                Guard("ESC-SPLIT-D", escrow.split_adds_up, uses=("to_freelancer", "to_client")),
                Guard("ESC-5", escrow.only_held_money, uses=("to_client",)),
            ),
            effects=(Effect("ESC-SPLIT-D", escrow.split), BONUS_HOLD),
            params=(
                Param("to_freelancer", MONEY, doc="paid to the freelancer side"),
                Param("to_client", MONEY, doc="returned to the client"),
            ),
            summary="Support splits the disputed amount between the sides.",
        ),
        # -- money after the fact: refunds, bonuses, refund requests
        *loops(
            "give_refund",
            RUNNING,
            DECIDERS,
            guards=(Guard("REF-180-1", after.payment_recent, uses=("payment",)), *REFUND_GUARDS),
            **REFUND,
        ),
        *loops(
            "give_refund",
            (S.ENDING,),
            DECIDERS,
            guards=(Guard("CTR-END-7", after.payment_recent, uses=("payment",)), *REFUND_GUARDS),
            **REFUND,
        ),
        *_settles(
            "give_refund",
            (S.ENDED,),
            DECIDERS,
            after.refund_keeps_pay,
            after.refund_drops_pay,
            guards=(Guard("CTR-END-7", after.payment_recent, uses=("payment",)), *REFUND_GUARDS),
            **REFUND,
        ),
        *loops(
            "give_refund",
            (S.REFUNDED,),
            DECIDERS,
            guards=(Guard("CTR-END-7", after.payment_recent, uses=("payment",)), *REFUND_GUARDS),
            **REFUND,
        ),
        *loops(
            "pay_bonus",
            (*RUNNING, S.ENDING),
            CLIENT,
            effects=(Effect("PAY-2", after.pay_bonus), BONUS_HOLD),
            **BONUS,
        ),
        *loops(
            "pay_bonus",
            (S.ENDED,),
            CLIENT,
            effects=(Effect("CTR-END-8", after.pay_bonus), BONUS_HOLD),
            **BONUS,
        ),
        Edge(
            "pay_bonus",
            (S.REFUNDED,),
            S.ENDED,
            CLIENT,
            branch=Branch(NET_OK, after.bonus_restores_pay),
            effects=(
                Effect("CTR-END-8", after.pay_bonus),
                BONUS_HOLD,
                Effect("FB-4", after.restore_feedback),
            ),
            **BONUS,
        ),
        Edge(
            "pay_bonus",
            (S.REFUNDED,),
            S.REFUNDED,
            CLIENT,
            branch=Branch(NET_LOW, after.bonus_leaves_unpaid),
            effects=(Effect("CTR-END-8", after.pay_bonus), BONUS_HOLD),
            **BONUS,
        ),
        *loops(
            "request_refund",
            (*RUNNING, *AFTER_END),
            CLIENT,
            role_rules=("TEAM-5",),
            guards=(
                Guard("REF-REQ-2", after.platform_payment, uses=("payment",)),
                Guard("REF-REQ-1", after.request_in_time, uses=("payment",)),
                Guard("REF-180-2", after.within_payment, uses=("payment", "amount")),
            ),
            effects=(Effect("REF-REQ-1", after.record_request),),
            params=(PAYMENT_ID, Param("amount", MONEY, doc="how much the client asks back")),
            summary="The client asks for a refund (support handles payments over 180 days old).",
        ),
        # -- feedback
        *loops("leave_feedback", AFTER_END, SIDES, **FEEDBACK),
        *loops(
            "allow_late_feedback",
            AFTER_END,
            SIDES,
            role_rules=("FB-3", "TEAM-5", "TEAM-8"),
            guards=(Guard("FB-3", after.window_closed),),
            effects=(Effect("FB-3", after.allow_late),),
            summary="After the window, one side lets the other leave feedback late.",
        ),
        *loops(
            "close_feedback",
            AFTER_END,
            SYSTEM,
            timer=Timer("FB-1", "00:00 UTC after the 14th day following the end"),
            effects=(Effect("FB-2", after.publish_feedback),),
            summary="The feedback window closed: publish what was left.",
        ),
    ),
    forbidden=(
        Forbidden("log_time", (S.PAUSED,), LOGGERS, "CTR-HR-1", hourly.diary_paused),
        Forbidden("delete_time", (S.PAUSED,), LOGGERS, "CTR-HR-1", hourly.diary_paused),
        Forbidden("log_time", AFTER_END, LOGGERS, "CTR-END-2", hourly.diary_locked),
        Forbidden("delete_time", AFTER_END, LOGGERS, "CTR-END-2", hourly.diary_locked),
        *(
            Forbidden(event, AFTER_END, SIDES | WORKERS, "CTR-END-9", _ended_already)
            for event in WORK_AFTER_END
        ),
        *(
            Forbidden(event, (S.ENDED, S.REFUNDED), DECIDERS, "ESC-2", escrow.request_answered)
            for event in ("approve_refund", "dispute_refund")
        ),
    ),
)


class ContractLifecycle(Workflow[ContractState, Contract]):
    """Fires contract events: ``lifecycle.fire(contract, "end_contract", client)``.

    *balances*, when given, supplies the freelancer's balance for a contract at a moment
    (a marketplace computes it from its records, INV-MONEY-10); refunds are capped by it
    (REF-180-3) and a ``balance`` argument is not read. Without it, ``give_refund``
    needs the ``balance`` argument.
    """

    spec = CONTRACT

    def __init__(
        self,
        *,
        clock: Clock,
        audit: AuditSink | None = None,
        balances: Callable[[Contract, datetime], Balance] | None = None,
    ) -> None:
        super().__init__(clock=clock, audit=audit)
        self.balances = balances

    def facts(self, aggregate: Contract, now: datetime) -> Balance | None:
        """The freelancer's balance (a value: the checker keys its plans by it); none for a
        contract that paid nothing, which has nothing to refund."""
        source = self.balances
        return None if source is None or not aggregate.payments else source(aggregate, now)

    def _payload(
        self,
        aggregate: Contract,
        event: str,
        given: Mapping[str, Any],
        *,
        partial: bool = False,
    ) -> Mapping[str, Any]:
        out = super()._payload(aggregate, event, given, partial=partial)
        if (
            event == "give_refund"
            and not partial
            and self.balances is None
            and out.get("balance") is None
        ):
            msg = (
                "'give_refund' needs the argument 'balance' (the freelancer's available plus "
                "pending balance) when the contract is used without a marketplace"
            )
            raise InvalidPayload(msg)
        return out
