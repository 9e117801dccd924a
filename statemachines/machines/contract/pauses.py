"""The rows that pause an hourly contract and restart it, each pause for its own cause.

The client pauses and restarts (CTR-HR-1); the platform pauses for a problem with the
client's billing method and restarts once it is fixed (CTR-HR-2, SUSP-1), and pauses while
the client's account (SUSP-1) or the freelancer's (SUSP-D) is suspended, restarting when that
account is reinstated (ADR 0021). Each restart refuses a pause of another cause, saying who
paused the contract, why and since when. The pause for a dispute of hours is in the table,
beside the rest of the dispute (HDSP-2).
"""

from __future__ import annotations

from collections.abc import Callable

from statemachines.core.actors import CLIENT_DECIDERS, Role
from statemachines.core.engine import Context, Edge, Effect, Guard, Reason
from statemachines.machines.contract import hourly
from statemachines.machines.contract.case_rows import HOURLY, NO_DISPUTE_PAUSE
from statemachines.machines.contract.model import Contract, ContractState

__all__ = ["HOURLY", "NO_DISPUTE_PAUSE", "PAUSE_EDGES"]

S = ContractState
SYSTEM = frozenset({Role.SYSTEM})


def _platform(
    event: str,
    rule_id: str,
    pause: Callable[[Contract, Context], None] | None,
    paused_for: Callable[[Contract, Context], Reason | None],
    summary: str,
) -> Edge[ContractState]:
    """The platform pauses (*pause* given) or restarts a contract, citing *rule_id*."""
    if pause is not None:
        return Edge(
            event,
            (S.ACTIVE,),
            S.PAUSED,
            SYSTEM,
            (rule_id,),
            guards=(HOURLY,),
            effects=(Effect(rule_id, pause),),
            summary=summary,
        )
    return Edge(
        event,
        (S.PAUSED,),
        S.ACTIVE,
        SYSTEM,
        (rule_id,),
        guards=(Guard(rule_id, paused_for),),
        effects=(Effect(rule_id, hourly.unpause),),
        summary=summary,
    )


PAUSE_EDGES: tuple[Edge[ContractState], ...] = (
    Edge(
        "pause",
        (S.ACTIVE,),
        S.PAUSED,
        CLIENT_DECIDERS,
        ("CTR-HR-1", "TEAM-5"),
        guards=(HOURLY,),
        effects=(Effect("CTR-HR-1", hourly.pause_by_client),),
        summary="The client pauses an hourly contract.",
    ),
    Edge(
        "restart",
        (S.PAUSED,),
        S.ACTIVE,
        CLIENT_DECIDERS,
        ("CTR-HR-1", "TEAM-5"),
        guards=(Guard("CTR-HR-2", hourly.paused_by_client), NO_DISPUTE_PAUSE),
        effects=(Effect("CTR-HR-1", hourly.unpause),),
        summary="The client restarts a contract it paused.",
    ),
    _platform(
        "billing_problem",
        "CTR-HR-2",
        hourly.pause_for_billing,
        hourly.paused_for_billing,
        "The platform pauses an hourly contract: the client's billing failed.",
    ),
    _platform(
        "billing_fixed",
        "CTR-HR-2",
        None,
        hourly.paused_for_billing,
        "The platform restarts the contract once billing works again.",
    ),
    _platform(
        "client_suspended",
        "SUSP-1",
        hourly.pause_for_client_suspension,
        hourly.paused_for_client_suspension,
        "The platform pauses an hourly contract: the client's account is suspended.",
    ),
    _platform(
        "client_reinstated",
        "SUSP-1",
        None,
        hourly.paused_for_client_suspension,
        "The platform restarts the contract: the client's account is reinstated.",
    ),
    _platform(
        "freelancer_suspended",
        "SUSP-D",
        hourly.pause_for_freelancer_suspension,
        hourly.paused_for_freelancer_suspension,
        "The platform pauses an hourly contract: the freelancer is suspended.",
    ),
    _platform(
        "freelancer_reinstated",
        "SUSP-D",
        None,
        hourly.paused_for_freelancer_suspension,
        "The platform restarts the contract: the freelancer is reinstated.",
    ),
)
