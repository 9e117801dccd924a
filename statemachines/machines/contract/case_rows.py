"""The contract table's rows for the cases around a contract (rulebook helper, issue 17).

:data:`statemachines.machines.contract.table.CONTRACT` includes these rows; their guards and
effects are in :mod:`statemachines.machines.contract.disputed`. The marketplace fires them
for a case (:mod:`statemachines.marketplace.cases`):

* an hourly dispute holds billed hours out of the week's payment and pauses the contract
  with a weekly limit of 0, then pays or refunds them (HDSP-2, ADR 0073);
* a fixed-price dispute of a milestone not released disputes it and pays its shares
  (MS-DSP-1, FPD-5, ADR 0074);
* a dormant contract's money is released as its watch or a mediator decided (DORM-1,
  ADR 0075).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from statemachines.core.actors import Role
from statemachines.core.engine import Branch, Edge, Effect, Guard, Param
from statemachines.core.money import Money
from statemachines.machines.contract import after, disputed, escrow, hourly
from statemachines.machines.contract.model import ContractState

__all__ = [
    "DUE",
    "FIXED",
    "HOURLY",
    "MILESTONE_DISPUTE",
    "NOT_DISPUTED",
    "NO_DISPUTE_PAUSE",
    "NO_MILESTONE_DISPUTED",
    "held_hours",
    "loops",
]

S = ContractState
SYSTEM = frozenset({Role.SYSTEM})
SUPPORT = frozenset({Role.SUPPORT})
RUNNING = (S.ACTIVE, S.PAUSED)
MONEY = (Money,)
HOURLY = Guard("CTR-TYPE-D", hourly.hourly_only)
FIXED = Guard("CTR-TYPE-D", escrow.fixed_only)

NO_DISPUTE_PAUSE = Guard("HDSP-2", disputed.not_paused_by_dispute)
"""HDSP-2: restarting and raising the weekly limit wait for the dispute (on ``restart`` and
``set_weekly_limit``)."""
NOT_DISPUTED = Guard("MS-DSP-1", disputed.not_disputed)
"""MS-DSP-1: no work is submitted on a disputed milestone (on ``submit_work``)."""
NO_MILESTONE_DISPUTED = Guard("MS-DSP-1", disputed.no_milestone_disputed)
"""MS-DSP-1: the sides end a contract once its disputed milestone is decided (ADR 0074)."""
DUE = Param("due", (datetime,), None, "when the milestone is due, if a date was agreed")
"""DORM-1: kept in the history; a dormancy watch counts from the latest date still to come
(``links.milestone_due_dates``; on ``add_milestone``)."""


def loops(event: str, states: Sequence[S], roles: frozenset[Role], **kw: Any) -> list[Edge[S]]:
    """One self-loop per state: an event that changes data but not the state."""
    return [Edge(event, (state,), state, roles, **kw) for state in states]


HOLD_EFFECTS = (Effect("HDSP-2", disputed.hold_hours),)
PAUSE_FOR_DISPUTE = Effect("HDSP-2", disputed.pause_for_dispute)
HOLD: dict[str, Any] = {
    "roles": SYSTEM,
    "role_rules": ("HDSP-2",),
    "guards": (
        HOURLY,
        Guard("HDSP-1", disputed.week_in_review, uses=("week",)),
        Guard("HDSP-1", disputed.hours_to_hold, uses=("week", "minutes")),
    ),
    "params": (
        Param("week", (datetime,), None, "the disputed week's Monday; default: the week in review"),
        Param("minutes", (int,), 0, "the billed minutes disputed"),
    ),
    "summary": "A client's dispute holds billed hours out of the week's payment; work pauses.",
}
SETTLE: dict[str, Any] = {
    "role_rules": ("HDSP-4", "HDSP-5", "HDSP-7"),
    "guards": (Guard("HDSP-2", disputed.hours_held, uses=("week", "minutes", "refunded")),),
    "effects": (
        Effect("HDSP-5", disputed.settle_hours),
        Effect("HDSP-2", disputed.dispute_over),
    ),
    "params": (
        Param("week", (datetime,), None, "the week's Monday; default: the oldest with hours held"),
        Param("minutes", (int,), None, "the held minutes settled; default: all of that week's"),
        Param("refunded", (int,), 0, "how many of them are refunded to the client"),
    ),
    "summary": "The dispute is over: held hours are paid to the freelancer or refunded.",
}


def held_hours(net_ok: str, net_low: str) -> tuple[Edge[S], ...]:
    """The hourly dispute's rows; *net_ok* and *net_low* are the table's branch labels."""
    return (
        Edge(
            "dispute_hours", RUNNING, S.PAUSED, effects=(*HOLD_EFFECTS, PAUSE_FOR_DISPUTE), **HOLD
        ),
        Edge("dispute_hours", (S.ENDING,), S.ENDING, effects=HOLD_EFFECTS, **HOLD),
        *loops("settle_held_hours", (S.PAUSED, S.ENDING, S.ENDED), SYSTEM, **SETTLE),
        Edge(
            "settle_held_hours",
            (S.REFUNDED,),
            S.ENDED,
            SYSTEM,
            branch=Branch(net_ok, disputed.settled_pay_restores),
            **{**SETTLE, "effects": (*SETTLE["effects"], Effect("FB-4", after.restore_feedback))},
        ),
        Edge(
            "settle_held_hours",
            (S.REFUNDED,),
            S.REFUNDED,
            SYSTEM,
            branch=Branch(net_low, disputed.settled_pay_keeps_refunded),
            **SETTLE,
        ),
    )


MILESTONE_DISPUTE: tuple[Edge[S], ...] = (
    *loops(
        "dispute_milestone",
        (S.ACTIVE,),
        SUPPORT,
        role_rules=("MS-DSP-1",),
        guards=(FIXED, Guard("MS-DSP-1", disputed.milestone_delivered)),
        effects=(Effect("MS-DSP-1", disputed.dispute_milestone),),
        summary="Support opens the freelancer side's dispute of a milestone not released.",
    ),
    *loops(
        "settle_milestone_dispute",
        (S.ACTIVE,),
        SUPPORT,
        role_rules=("MS-DSP-1", "FPD-5"),
        guards=(
            FIXED,
            Guard("MS-DSP-1", disputed.milestone_disputed),
            Guard("FPD-5", disputed.shares_add_up, uses=("to_freelancer", "to_client")),
        ),
        effects=(Effect("FPD-5", disputed.settle_milestone),),
        params=(
            Param("to_freelancer", MONEY, None, "released; default: what the client's is not"),
            Param("to_client", MONEY, None, "left in escrow for the client; default: the rest"),
        ),
        summary="The dispute's shares: release the freelancer's, keep the client's in escrow.",
    ),
    *loops(
        "release_dormant_funds",
        (S.ACTIVE,),
        SYSTEM | SUPPORT,
        role_rules=("DORM-1",),
        guards=(
            FIXED,
            Guard("DORM-1", disputed.live_funds),
            Guard("DORM-1", disputed.dormant_shares, uses=("to_freelancer", "to_client")),
        ),
        effects=(Effect("DORM-1", disputed.release_dormant),),
        params=(
            Param("to_freelancer", MONEY, None, "released; default: what the client's is not"),
            Param("to_client", MONEY, None, "left in escrow for the client; default: the rest"),
        ),
        summary="A dormant contract's money is released as its watch or a mediator decided.",
    ),
)
