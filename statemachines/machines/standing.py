"""Standing: an account's Terms of Service notices and dispute-driven suspension (SUSP-3, SUSP-5).

Support may send an account a compliance notice (SUSP-5): client satisfaction is
low and the account may be closed if it stays low. The notice itself restricts
nothing: the account machine is not touched, and only after the 30 days may
support recommend closing it. For an agency, the platform records each hourly
dispute filed against its freelancers; support may suspend the whole agency
when they are excessive (SUSP-3; the threshold is a documented parameter).

The standing suspends and closes nothing itself: :attr:`Standing.suspend` and
:attr:`Standing.close` say what the account machine must do.

>>> from datetime import datetime, timedelta
>>> from statemachines import Actor, ManualClock, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> desk = StandingDesk(clock=clock)
>>> s = Standing(id="fl-1")
>>> _ = desk.fire(s, "issue_notice", Actor("sue", Role.SUPPORT))
>>> print(desk.explain(s, "recommend_closure", Actor("sue", Role.SUPPORT)).error.reasons[0])
the compliance notice of 2026-03-02 09:00:00 UTC gives fl-1 until 2026-04-01 09:00:00 UTC to \
improve; nothing is restricted before then
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from statemachines.core.actors import Role
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
    Reason,
    Timer,
    Workflow,
    fail,
)
from statemachines.rules.standing import DISPUTE_WINDOW, EXCESSIVE_DISPUTES, NOTICE_REVIEW

__all__ = ["STANDING", "Standing", "StandingDesk", "StandingState"]

REVIEW = "notice-review"


class StandingState(enum.Enum):
    """An account's standing; the values are the persisted form."""

    GOOD = "good"
    """No notice is open."""
    NOTICED = "noticed"
    """A compliance notice was sent; 30 days to improve, nothing restricted (SUSP-5)."""
    REVIEW_DUE = "review_due"
    """The 30 days passed: support decides."""
    CLOSURE = "closure"
    """Support recommended closing the account (final)."""


S = StandingState


@attrs.define(eq=True)
class Standing:
    """The standing of one account (a freelancer, a client company or an agency)."""

    id: str
    """The account."""
    agency: bool = False
    state: StandingState = StandingState.GOOD
    noticed_at: datetime | None = None
    disputes: tuple[datetime, ...] = ()
    """When hourly disputes were filed against the agency's freelancers (SUSP-3)."""
    suspend: tuple[str, ...] = ()
    """Accounts the platform must suspend (SUSP-3)."""
    close: bool = False
    """True when support recommended closing the account (SUSP-5)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    def recent_disputes(self, now: datetime) -> int:
        """Disputes against the agency's freelancers in the last :data:`DISPUTE_WINDOW`."""
        return sum(1 for at in self.disputes if now - at < DISPUTE_WINDOW)


def _excessive(s: Standing, ctx: Context) -> Reason | None:
    if not s.agency:
        return fail(f"{s.id} is not an agency; dispute counts suspend whole agencies only")
    recent = s.recent_disputes(ctx.now)
    if recent < EXCESSIVE_DISPUTES:
        return fail(
            f"{recent} hourly disputes against {s.id}'s freelancers in the last "
            f"{DISPUTE_WINDOW.days} days; {EXCESSIVE_DISPUTES} are needed to suspend the agency",
            disputes=recent,
            needed=EXCESSIVE_DISPUTES,
        )
    return None


def _notice_period(s: Standing, ctx: Context) -> Reason:
    since = s.noticed_at or ctx.now
    return fail(
        f"the compliance notice of {format_utc(since)} gives {s.id} until "
        f"{format_utc(since + NOTICE_REVIEW)} to improve; nothing is restricted before then",
        noticed_at=since.isoformat(),
    )


def _notice(s: Standing, ctx: Context) -> None:
    s.noticed_at = ctx.now
    s.deadlines = (Deadline(REVIEW, "notice_period_ends", ctx.now + NOTICE_REVIEW),)


def _clear(s: Standing, ctx: Context) -> None:
    s.noticed_at = None
    s.deadlines = ()


def _recommend(s: Standing, ctx: Context) -> None:
    s.close = True


def _record(s: Standing, ctx: Context) -> None:
    s.disputes = (*s.disputes, ctx.now)


def _suspend(s: Standing, ctx: Context) -> None:
    s.suspend = (*s.suspend, s.id)


SUPPORT = frozenset({Role.SUPPORT})
SYS = frozenset({Role.SYSTEM})
ANY = (S.GOOD, S.NOTICED, S.REVIEW_DUE)

STANDING: MachineSpec[StandingState, Standing] = MachineSpec(
    name="standing",
    description="An account's standing: compliance notices, their 30 days, dispute counts.",
    states=StandingState,
    initial=S.GOOD,
    terminal=(S.CLOSURE,),
    model=Standing,
    edges=(
        Edge(
            "issue_notice",
            (S.GOOD,),
            S.NOTICED,
            SUPPORT,
            ("SUSP-5",),
            effects=(Effect("SUSP-5", _notice),),
            summary="Support sends a compliance notice: 30 days to improve, nothing restricted.",
        ),
        Edge(
            "notice_period_ends",
            (S.NOTICED,),
            S.REVIEW_DUE,
            SYS,
            timer=Timer("SUSP-5", "30 days after the notice"),
            summary="The notice's 30 days passed: support reviews the account.",
        ),
        Edge(
            "clear",
            (S.NOTICED, S.REVIEW_DUE),
            S.GOOD,
            SUPPORT,
            ("SUSP-5",),
            effects=(Effect("SUSP-5", _clear),),
            summary="Satisfaction improved: the notice is lifted.",
        ),
        Edge(
            "recommend_closure",
            (S.REVIEW_DUE,),
            S.CLOSURE,
            SUPPORT,
            ("SUSP-5",),
            effects=(Effect("SUSP-5", _recommend),),
            summary="Satisfaction stayed low: support recommends closing the account.",
        ),
        *(
            Edge(
                "record_dispute",
                (state,),
                state,
                SYS,
                ("SUSP-3",),
                effects=(Effect("SUSP-3", _record),),
                summary="An hourly dispute was filed against one of the agency's freelancers.",
            )
            for state in ANY
        ),
        *(
            Edge(
                "suspend_for_disputes",
                (state,),
                state,
                SUPPORT,
                ("SUSP-3",),
                guards=(Guard("SUSP-3", _excessive),),
                effects=(Effect("SUSP-3", _suspend),),
                summary="Excessive disputes: support suspends the whole agency.",
            )
            for state in ANY
        ),
    ),
    forbidden=(Forbidden("recommend_closure", (S.NOTICED,), SUPPORT, "SUSP-5", _notice_period),),
)


class StandingDesk(Workflow[StandingState, Standing]):
    """Fires standing events: ``desk.fire(s, "issue_notice", support)``."""

    spec = STANDING
