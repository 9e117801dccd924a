"""Mid-contract feedback: idle -> requested -> idle (given or lapsed); closed at the end (FB-5).

The freelancer side may ask the client for feedback while the contract runs,
once the contract is 30 days old, a payment was made in the last 30 days and
the client has left no feedback in the last 30 days. A request lapses after 14
days, and only one is open at a time. What the client leaves is public and does
not count towards the Job Success Score. The contract tells the machine of its
payments (``payment_made``) and of its end (``contract_ended``).

>>> from datetime import datetime, timedelta
>>> from statemachines import SYSTEM, Actor, ManualClock, Role, UTC
>>> clock = ManualClock(datetime(2026, 4, 6, 9, 0, tzinfo=UTC))
>>> flow = MidFeedbackRequests(clock=clock)
>>> m = MidFeedback(id="F-1", contract="C-1", client="co-1", freelancer="fl-1",
...                 started_at=clock.now() - timedelta(days=35))
>>> print(flow.explain(m, "request", Actor("fl-1", Role.FREELANCER)).error.reasons[0])
contract C-1 has had no payment in the last 30 days; feedback can be asked for within 30 days \
of a payment
>>> _ = flow.fire(m, "payment_made", SYSTEM)
>>> _ = flow.fire(m, "request", Actor("fl-1", Role.FREELANCER))
>>> m.state.value, m.deadlines[0].due.isoformat()
('requested', '2026-04-20T09:00:00+00:00')
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
    Forbidden,
    Guard,
    MachineSpec,
    Param,
    Reason,
    Timer,
    Workflow,
    fail,
)
from statemachines.machines.sides import side_problem
from statemachines.rules.mid_feedback import MID_FEEDBACK_EXPIRY, MID_FEEDBACK_GAP

__all__ = ["MID_FEEDBACK", "MidFeedback", "MidFeedbackRequests", "MidFeedbackState"]

EXPIRY = "expiry"


class MidFeedbackState(enum.Enum):
    """Where a contract's mid-contract feedback is; the values are the persisted form."""

    IDLE = "idle"
    """No request open."""
    REQUESTED = "requested"
    """The freelancer side asked; the client has 14 days."""
    CLOSED = "closed"
    """The contract ended: feedback goes through the end-of-contract window (final)."""


M = MidFeedbackState


@attrs.define(eq=True)
class MidFeedback:
    """The mid-contract feedback of one contract."""

    id: str
    contract: str
    client: str
    freelancer: str
    started_at: datetime
    agency: bool = False
    state: MidFeedbackState = MidFeedbackState.IDLE
    last_payment_at: datetime | None = None
    asked_at: datetime | None = None
    feedback: tuple[tuple[datetime, str], ...] = ()
    """(when, text) of every mid-contract feedback the client left; all public (FB-5)."""
    lapsed: int = 0
    """Requests that lapsed unanswered."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def counts_for_jss(self) -> bool:
        """FB-5: mid-contract feedback never counts towards the Job Success Score."""
        return False

    @property
    def last_feedback_at(self) -> datetime | None:
        """When the client last left mid-contract feedback."""
        return self.feedback[-1][0] if self.feedback else None


def _old_enough(m: MidFeedback, ctx: Context) -> Reason | None:
    if ctx.now - m.started_at < MID_FEEDBACK_GAP:
        since = m.started_at + MID_FEEDBACK_GAP
        return fail(
            f"contract {m.contract} started on {format_utc(m.started_at)}; feedback can be asked "
            f"for from {format_utc(since)}",
            started_at=m.started_at.isoformat(),
        )
    return None


def _paid_recently(m: MidFeedback, ctx: Context) -> Reason | None:
    if m.last_payment_at is None or ctx.now - m.last_payment_at > MID_FEEDBACK_GAP:
        return fail(
            f"contract {m.contract} has had no payment in the last 30 days; feedback can be "
            "asked for within 30 days of a payment"
        )
    return None


def _no_recent_feedback(m: MidFeedback, ctx: Context) -> Reason | None:
    last = m.last_feedback_at
    if last is not None and ctx.now - last < MID_FEEDBACK_GAP:
        return fail(
            f"the client left feedback on {format_utc(last)}; ask again from "
            f"{format_utc(last + MID_FEEDBACK_GAP)}",
            last_feedback_at=last.isoformat(),
        )
    return None


def _one_at_a_time(m: MidFeedback, ctx: Context) -> Reason:
    when = format_utc(m.asked_at) if m.asked_at else "earlier"
    return fail(f"a request made on {when} is still open; only one is open at a time")


def _pay(m: MidFeedback, ctx: Context) -> None:
    m.last_payment_at = ctx.now


def _ask(m: MidFeedback, ctx: Context) -> None:
    m.asked_at = ctx.now
    m.deadlines = (Deadline(EXPIRY, "request_lapse", ctx.now + MID_FEEDBACK_EXPIRY),)


def _give(m: MidFeedback, ctx: Context) -> None:
    m.feedback = (*m.feedback, (ctx.now, ctx.payload["text"]))
    m.deadlines = ()


def _lapse(m: MidFeedback, ctx: Context) -> None:
    m.lapsed += 1


def _close(m: MidFeedback, ctx: Context) -> None:
    m.deadlines = ()


def _authorize(m: MidFeedback, actor: Actor, edge: Edge[Any] | None) -> str | None:
    return side_problem(
        actor,
        client=m.client,
        freelancer=m.freelancer,
        agency=m.agency,
        what=f"contract {m.contract}",
    )


ASKERS = frozenset({Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER})
SYS = frozenset({Role.SYSTEM})

MID_FEEDBACK: MachineSpec[MidFeedbackState, MidFeedback] = MachineSpec(
    name="mid_feedback",
    description="Public mid-contract feedback the freelancer side asks for; not in the JSS.",
    states=MidFeedbackState,
    initial=M.IDLE,
    terminal=(M.CLOSED,),
    model=MidFeedback,
    authorize=_authorize,
    edges=(
        *(
            Edge(
                "payment_made",
                (state,),
                state,
                SYS,
                ("FB-5",),
                effects=(Effect("FB-5", _pay),),
                summary="The contract made a payment.",
            )
            for state in (M.IDLE, M.REQUESTED)
        ),
        Edge(
            "request",
            (M.IDLE,),
            M.REQUESTED,
            ASKERS,
            ("FB-5", "TEAM-8"),
            guards=(
                Guard("FB-5", _old_enough),
                Guard("FB-5", _paid_recently),
                Guard("FB-5", _no_recent_feedback),
            ),
            effects=(Effect("FB-5", _ask),),
            summary="The freelancer side asks the client for feedback; 14 days to answer.",
        ),
        Edge(
            "give",
            (M.REQUESTED,),
            M.IDLE,
            CLIENT_DECIDERS,
            ("FB-5", "TEAM-5"),
            effects=(Effect("FB-5", _give),),
            params=(Param("text", (str,), "", "the feedback, shown publicly"),),
            summary="The client leaves public feedback; it does not count towards the JSS.",
        ),
        Edge(
            "request_lapse",
            (M.REQUESTED,),
            M.IDLE,
            SYS,
            timer=Timer("FB-5", "14 days after the request"),
            effects=(Effect("FB-5", _lapse),),
            summary="The client did not answer in 14 days: the request lapses.",
        ),
        Edge(
            "contract_ended",
            (M.IDLE, M.REQUESTED),
            M.CLOSED,
            SYS,
            ("FB-5",),
            effects=(Effect(None, _close),),
            summary="The contract ended; any open request lapses with it.",
        ),
    ),
    forbidden=(Forbidden("request", (M.REQUESTED,), ASKERS, "FB-5", _one_at_a_time),),
)


class MidFeedbackRequests(Workflow[MidFeedbackState, MidFeedback]):
    """Fires mid-contract feedback events: ``flow.fire(m, "request", freelancer)``."""

    spec = MID_FEEDBACK
