"""Mediation assistance: draft -> open -> closed or withdrawn (FPD-9, MS-DSP-2, CTR-END-11).

Money released from escrow is not disputed: a client who released it is taken
to have reviewed the work and agreed to pay (CTR-END-11, MS-DSP-2). Within 30
days of a release either side may still ask support for mediation assistance
(FPD-9). Support helps the sides talk; it rules on nothing and moves no money,
so closing the case leaves the payment as it was. After 30 days only a refund
request remains (the refund request machine).

>>> from datetime import datetime, timedelta
>>> from statemachines import Actor, ManualClock, Money, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> cases = AssistanceDesk(clock=clock)
>>> a = MediationAssistance(id="A-1", contract="C-1", client="co-1", freelancer="fl-1",
...                         payment="C-1-P2", released_at=clock.now() - timedelta(days=31))
>>> print(cases.explain(a, "request", Actor("ana", Role.CLIENT_OWNER, party="co-1")))
request: TransitionRefused: ... [FPD-9] payment C-1-P2 was released on 2026-01-30 09:00:00 UTC; \
mediation assistance can be asked for until 2026-03-01 09:00:00 UTC, and a refund request after that
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import CLIENT_DECIDERS, Actor, Role
from statemachines.core.clock import format_utc
from statemachines.core.engine import (
    Context,
    Deadline,
    Decision,
    Edge,
    Effect,
    Guard,
    MachineSpec,
    Param,
    Reason,
    Workflow,
    fail,
)
from statemachines.machines.contract.values import side_of
from statemachines.machines.sides import side_problem
from statemachines.rules.fixed_dispute import MEDIATION_ASSIST_WINDOW

__all__ = ["ASSISTANCE", "AssistanceDesk", "AssistanceState", "MediationAssistance"]


class AssistanceState(enum.Enum):
    """Where a request for mediation assistance is; the values are the persisted form."""

    DRAFT = "draft"
    """A side is writing its request; nothing is asked yet."""
    OPEN = "open"
    """Support is helping the sides talk about a released payment."""
    CLOSED = "closed"
    """Support closed it; nothing was ruled and the payment stands (final)."""
    WITHDRAWN = "withdrawn"
    """The side that asked withdrew it (final)."""


A = AssistanceState


@attrs.define(eq=True)
class MediationAssistance:
    """A request for support's help about one released payment of a fixed-price contract."""

    id: str
    contract: str
    client: str
    freelancer: str
    payment: str
    """The released payment (``C-1-P2``)."""
    released_at: datetime
    agency: bool = False
    state: AssistanceState = AssistanceState.DRAFT
    requested_by: str | None = None
    requested_side: str | None = None
    """``client`` or ``freelancer``: the side that asked (and may withdraw)."""
    summary: str = ""
    """What the side asks about."""
    note: str = ""
    """Support's closing note: advice given, never a ruling."""
    closed_at: datetime | None = None
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def closes(self) -> datetime:
        """The last moment assistance can be asked for (FPD-9)."""
        return self.released_at + MEDIATION_ASSIST_WINDOW


def _within_30_days(a: MediationAssistance, ctx: Context) -> Reason | None:
    if ctx.now > a.closes:
        return fail(
            f"payment {a.payment} was released on {format_utc(a.released_at)}; mediation "
            f"assistance can be asked for until {format_utc(a.closes)}, and a refund request "
            "after that",
            released_at=a.released_at.isoformat(),
        )
    return None


def _same_side(a: MediationAssistance, ctx: Context) -> Reason | None:
    side = side_of(ctx.actor)
    if side is None or side.value != a.requested_side:
        return fail(f"only the {a.requested_side} side, which asked, may withdraw it")
    return None


def _request(a: MediationAssistance, ctx: Context) -> None:
    side = side_of(ctx.actor)
    assert side is not None
    a.requested_by = ctx.actor.id
    a.requested_side = side.value
    a.summary = ctx.payload["summary"]


def _close_without_ruling(a: MediationAssistance, ctx: Context) -> None:
    # CTR-END-11: the release stands whatever was discussed; no money moves.
    a.note = ctx.payload["note"]
    a.closed_at = ctx.now


def _withdraw(a: MediationAssistance, ctx: Context) -> None:
    a.closed_at = ctx.now


SIDES = CLIENT_DECIDERS | {Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER}


def _authorize(a: MediationAssistance, actor: Actor, edge: Edge[Any] | None) -> str | None:
    return side_problem(
        actor,
        client=a.client,
        freelancer=a.freelancer,
        agency=a.agency,
        what=f"payment {a.payment}",
    )


ASSISTANCE: MachineSpec[AssistanceState, MediationAssistance] = MachineSpec(
    name="assistance",
    description="Mediation assistance about a released payment: help, never a ruling.",
    states=AssistanceState,
    initial=A.DRAFT,
    terminal=(A.CLOSED, A.WITHDRAWN),
    model=MediationAssistance,
    authorize=_authorize,
    edges=(
        Edge(
            "request",
            (A.DRAFT,),
            A.OPEN,
            SIDES,
            ("FPD-9", "MS-DSP-2", "TEAM-5", "TEAM-8"),
            guards=(Guard("FPD-9", _within_30_days),),
            effects=(Effect("FPD-9", _request),),
            params=(Param("summary", (str,), "", "what the side asks help with"),),
            summary="A side asks support for help about a payment released up to 30 days ago.",
        ),
        Edge(
            "close",
            (A.OPEN,),
            A.CLOSED,
            frozenset({Role.SUPPORT}),
            ("FPD-9",),
            effects=(Effect("CTR-END-11", _close_without_ruling),),
            params=(Param("note", (str,), "", "what support advised"),),
            summary="Support closes it; the payment stands and nothing is ruled.",
        ),
        Edge(
            "withdraw",
            (A.OPEN,),
            A.WITHDRAWN,
            SIDES,
            ("FPD-9",),
            guards=(Guard("FPD-9", _same_side),),
            effects=(Effect(None, _withdraw),),
            summary="The side that asked withdraws the request.",
        ),
    ),
)


class AssistanceDesk(Workflow[AssistanceState, MediationAssistance]):
    """Fires mediation-assistance events: ``desk.fire(a, "request", client)``."""

    spec = ASSISTANCE
