"""Dormancy: idle -> watching (two notices) -> the client's, freelancer's and review windows (§5.8).

One :class:`Dormancy` watches one fixed-price contract while it holds money
(DORM-1). The count starts at the later of the latest activity and the latest
milestone due date, so a milestone due in the future keeps the contract from
going dormant, let alone closing. On day 76 and day 83 the parties are warned;
on day 90 the contract is dormant and the client has 7 days to release the
money or take it back; then the freelancer side has 7 days to ask for release;
then the client has 14 days to approve or dispute it. Silence in the last window
releases the money to the freelancer; a dispute goes to mediation (the
fixed-price dispute machine); if nobody acts at all, everything held goes back to
the client and the contract ends.

The contract reports what happens on it: ``activity`` (anything done with its
milestones or money, with what it now holds) restarts the count, or stops it
when nothing is held; ``added=True`` (a milestone was added) also pushes the date
90 days further than it was.
The outcome says what the contract must do: :attr:`Dormancy.to_freelancer`,
:attr:`Dormancy.to_client` and :attr:`Dormancy.ends_contract`.

>>> from datetime import datetime, timedelta
>>> from statemachines import Actor, ManualClock, Money, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> watch = DormancyWatch(clock=clock)
>>> d = Dormancy(id="D-1", contract="C-1", client="co-1", freelancer="fl-1")
>>> _ = watch.fire(d, "activity", Actor("system", Role.SYSTEM), held=Money(30_000))
>>> d.state.value, d.dormant_at.isoformat()
('watching', '2026-05-31T09:00:00+00:00')
>>> [x.event for x in watch.advance(d, d.dormant_at + timedelta(days=14))]
['first_notice', 'second_notice', 'go_dormant', 'client_window_lapse', 'freelancer_window_lapse']
>>> d.state.value, d.to_client, d.ends_contract
('closed', Money(30000, 'USD'), True)
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs

from statemachines.core.actors import CLIENT_DECIDERS, Actor, Role
from statemachines.core.clock import format_utc
from statemachines.core.engine import (
    Branch,
    Context,
    Deadline,
    Decision,
    Edge,
    Effect,
    Forbidden,
    MachineSpec,
    Param,
    Reason,
    Timer,
    Workflow,
    fail,
)
from statemachines.core.money import Money
from statemachines.machines.sides import side_problem
from statemachines.rules.dormancy import (
    CLIENT_WINDOW,
    DORMANT_AFTER,
    FIRST_NOTICE,
    FREELANCER_WINDOW,
    MILESTONE_EXTENSION,
    RELEASE_REVIEW,
    SECOND_NOTICE,
)

__all__ = ["DORMANCY", "Dormancy", "DormancyOutcome", "DormancyState", "DormancyWatch"]

WINDOW = "window"
"""The key of the deadline that closes the current window (client, freelancer, review)."""


class DormancyState(enum.Enum):
    """Where a contract's dormancy watch is; the values are the persisted form."""

    IDLE = "idle"
    """The contract holds no money: nothing to watch."""
    WATCHING = "watching"
    """Money is held; the 90 days count from the latest activity or due date; the parties are
    warned on day 76 and day 83."""
    CLIENT_WINDOW = "client_window"
    """Dormant: the client has 7 days to release the money or take it back."""
    FREELANCER_WINDOW = "freelancer_window"
    """The client did nothing: the freelancer side has 7 days to ask for release."""
    RELEASE_REVIEW = "release_review"
    """Release asked: the client has 14 days to approve or dispute; silence releases."""
    SETTLED = "settled"
    """The client acted in its window (final)."""
    RELEASED = "released"
    """The money went to the freelancer side (final)."""
    MEDIATION = "mediation"
    """The client disputed the release: a mediator decides (final here)."""
    CLOSED = "closed"
    """Nobody acted: the money went back to the client and the contract ended (final)."""


D = DormancyState
RUNNING = (D.WATCHING,)
WINDOWS = (D.CLIENT_WINDOW, D.FREELANCER_WINDOW, D.RELEASE_REVIEW)
LIVE = (D.IDLE, *RUNNING, *WINDOWS)


class DormancyOutcome(enum.Enum):
    """How a dormant contract's money was settled."""

    CLIENT_RELEASED = "client_released"
    """The client released it to the freelancer side in its window."""
    CLIENT_TOOK_BACK = "client_took_back"
    """The client ended the contract asking for it back (the escrow-refund request follows)."""
    RELEASED_ON_REQUEST = "released_on_request"
    """The freelancer asked and the client approved, or let 14 days pass."""
    DISPUTED = "disputed"
    """The client disputed the freelancer's request: mediation decides."""
    NOBODY_ACTED = "nobody_acted"
    """Every window passed: it all went back to the client and the contract ended."""


def _zero() -> Money:
    return Money(0)


@attrs.define(eq=True)
class Dormancy:
    """The dormancy watch of one fixed-price contract."""

    id: str
    contract: str
    client: str
    freelancer: str
    """The freelancer's account, or the agency that holds the contract."""
    agency: bool = False
    state: DormancyState = DormancyState.IDLE
    held: Money = attrs.field(factory=_zero)
    """What the contract holds in escrow, as last reported."""
    last_activity: datetime | None = None
    latest_due: datetime | None = None
    """The latest due date of the contract's milestones."""
    dormant_at: datetime | None = None
    """When the contract goes dormant if nothing happens (day 90)."""
    notices: int = 0
    """Notices sent since the count last restarted: 1 on day 76, 2 on day 83."""
    release_requested_at: datetime | None = None
    outcome: DormancyOutcome | None = None
    to_freelancer: Money = attrs.field(factory=_zero)
    """What the contract must release to the freelancer side."""
    to_client: Money = attrs.field(factory=_zero)
    """What goes back to the client."""
    ends_contract: bool = False
    """True when the contract must end (nobody acted, or the client took the money back)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def currency(self) -> str:
        """The contract's currency."""
        return self.held.currency

    @property
    def window_closes(self) -> datetime | None:
        """When the current window (client, freelancer or review) closes."""
        return next((d.due for d in self.deadlines if d.key == WINDOW), None)


# --------------------------------------------------------------------------- branches


def _holds(d: Dormancy, ctx: Context) -> bool:
    held: Money | None = ctx.payload.get("held")
    return held is None or bool(held)


def _empty(d: Dormancy, ctx: Context) -> bool:
    return not _holds(d, ctx)


# --------------------------------------------------------------------------- guards


def _not_dormant_yet(d: Dormancy, ctx: Context) -> Reason:
    if d.state is D.CLIENT_WINDOW:
        closes = d.window_closes
        until = format_utc(closes) if closes else "the end of its window"
        return fail(
            f"contract {d.contract} is dormant and the client has until {until} to act; the "
            "freelancer can ask for release after that",
            client_window_closes=closes.isoformat() if closes else None,
        )
    when = format_utc(d.dormant_at) if d.dormant_at else "later"
    return fail(
        f"contract {d.contract} is not dormant; if nothing happens it goes dormant at {when}",
        dormant_at=d.dormant_at.isoformat() if d.dormant_at else None,
    )


# --------------------------------------------------------------------------- effects


def _watch(d: Dormancy, ctx: Context, *, extend: bool) -> None:
    held: Money = ctx.payload["held"]
    due: datetime | None = ctx.payload["due"]
    d.held = held
    d.last_activity = ctx.now
    if due is not None and (d.latest_due is None or due > d.latest_due):
        d.latest_due = due
    start = ctx.now if d.latest_due is None else max(ctx.now, d.latest_due)
    dormant = start + DORMANT_AFTER
    if extend and d.dormant_at is not None:
        dormant = max(dormant, d.dormant_at + MILESTONE_EXTENSION)
    d.dormant_at = dormant
    d.notices = 0
    d.release_requested_at = None
    d.deadlines = (
        Deadline("notice-14", "first_notice", dormant - DORMANT_AFTER + FIRST_NOTICE),
        Deadline("notice-7", "second_notice", dormant - DORMANT_AFTER + SECOND_NOTICE),
        Deadline("dormant", "go_dormant", dormant),
    )


def _restart(d: Dormancy, ctx: Context) -> None:
    # An added milestone pushes the date 90 days further; anything else restarts the count.
    _watch(d, ctx, extend=ctx.payload["added"])


def _stop(d: Dormancy, ctx: Context) -> None:
    d.held = ctx.payload["held"]
    d.last_activity = ctx.now
    due: datetime | None = ctx.payload["due"]
    if due is not None and (d.latest_due is None or due > d.latest_due):
        d.latest_due = due
    d.dormant_at = None
    d.notices = 0
    d.release_requested_at = None
    d.deadlines = ()


def _open_window(length: timedelta, lapse: str) -> Callable[[Dormancy, Context], None]:
    def open_window(d: Dormancy, ctx: Context) -> None:
        d.deadlines = Deadline.put(d.deadlines, Deadline(WINDOW, lapse, ctx.now + length))

    return open_window


def _settle(
    outcome: DormancyOutcome, *, to_freelancer: bool, ends: bool = False
) -> Callable[[Dormancy, Context], None]:
    def settle(d: Dormancy, ctx: Context) -> None:
        d.outcome = outcome
        if to_freelancer:
            d.to_freelancer = d.held
        else:
            d.to_client = d.held
        d.ends_contract = ends
        d.deadlines = ()

    return settle


def _warn(d: Dormancy, ctx: Context) -> None:
    d.notices += 1


def _ask_release(d: Dormancy, ctx: Context) -> None:
    d.release_requested_at = ctx.now
    d.deadlines = Deadline.put(
        Deadline.drop(d.deadlines, WINDOW),
        Deadline(WINDOW, "release_review_lapse", ctx.now + RELEASE_REVIEW),
    )


def _to_mediation(d: Dormancy, ctx: Context) -> None:
    d.outcome = DormancyOutcome.DISPUTED
    d.deadlines = ()


# --------------------------------------------------------------------------- permissions


CLIENT = CLIENT_DECIDERS
DECIDERS = frozenset({Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER})
SYS = frozenset({Role.SYSTEM})


def _authorize(d: Dormancy, actor: Actor, edge: Edge[Any] | None) -> str | None:
    return side_problem(
        actor,
        client=d.client,
        freelancer=d.freelancer,
        agency=d.agency,
        what=f"contract {d.contract}",
    )


REPORT = (
    Param("held", (Money,), doc="what the contract holds in escrow now"),
    Param("due", (datetime,), None, "the due date of the milestone concerned, if any"),
    Param("added", (bool,), False, "a milestone was added (it extends the date by 90 days)"),
)
ACTIVITY: dict[str, Any] = {"role_rules": ("DORM-1",), "params": REPORT}
WHEN_HELD = Branch("money held", _holds)
WHEN_EMPTY = Branch("nothing held", _empty)

DORMANCY: MachineSpec[DormancyState, Dormancy] = MachineSpec(
    name="dormancy",
    description="A fixed-price contract holding money with no activity: notices, windows, outcome.",
    states=DormancyState,
    initial=D.IDLE,
    terminal=(D.SETTLED, D.RELEASED, D.MEDIATION, D.CLOSED),
    model=Dormancy,
    authorize=_authorize,
    edges=(
        Edge(
            "activity",
            LIVE,
            D.WATCHING,
            SYS,
            branch=WHEN_HELD,
            effects=(Effect("DORM-1", _restart),),
            summary="Activity on the contract: the count restarts (a new milestone: +90 days).",
            **ACTIVITY,
        ),
        Edge(
            "activity",
            LIVE,
            D.IDLE,
            SYS,
            branch=WHEN_EMPTY,
            effects=(Effect("DORM-1", _stop),),
            summary="The contract holds nothing any more: nothing to watch.",
            **ACTIVITY,
        ),
        Edge(
            "first_notice",
            (D.WATCHING,),
            D.WATCHING,
            SYS,
            timer=Timer("DORM-1", "day 76 without activity"),
            effects=(Effect("DORM-1", _warn),),
            summary="Warn both sides: the contract goes dormant in 14 days.",
        ),
        Edge(
            "second_notice",
            (D.WATCHING,),
            D.WATCHING,
            SYS,
            timer=Timer("DORM-1", "day 83 without activity"),
            effects=(Effect("DORM-1", _warn),),
            summary="Warn both sides again: 7 days to go.",
        ),
        Edge(
            "go_dormant",
            (D.WATCHING,),
            D.CLIENT_WINDOW,
            SYS,
            timer=Timer("DORM-1", "day 90 without activity"),
            effects=(Effect("DORM-1", _open_window(CLIENT_WINDOW, "client_window_lapse")),),
            summary="The contract is dormant: the client has 7 days to act.",
        ),
        Edge(
            "release_funds",
            (D.CLIENT_WINDOW,),
            D.SETTLED,
            CLIENT,
            ("DORM-1", "TEAM-5"),
            effects=(
                Effect("DORM-1", _settle(DormancyOutcome.CLIENT_RELEASED, to_freelancer=True)),
            ),
            summary="The client releases the held money to the freelancer side.",
        ),
        Edge(
            "take_back_funds",
            (D.CLIENT_WINDOW,),
            D.SETTLED,
            CLIENT,
            ("DORM-1", "TEAM-5"),
            effects=(
                Effect(
                    "DORM-1",
                    _settle(DormancyOutcome.CLIENT_TOOK_BACK, to_freelancer=False, ends=True),
                ),
            ),
            summary="The client ends the contract and asks for the held money back.",
        ),
        Edge(
            "client_window_lapse",
            (D.CLIENT_WINDOW,),
            D.FREELANCER_WINDOW,
            SYS,
            timer=Timer("DORM-1", "7 days after going dormant"),
            effects=(Effect("DORM-1", _open_window(FREELANCER_WINDOW, "freelancer_window_lapse")),),
            summary="The client did nothing: the freelancer side has 7 days to ask for release.",
        ),
        Edge(
            "request_release",
            (D.FREELANCER_WINDOW,),
            D.RELEASE_REVIEW,
            DECIDERS,
            ("DORM-1", "TEAM-8"),
            effects=(Effect("DORM-1", _ask_release),),
            summary="The freelancer side asks for release: the client has 14 days.",
        ),
        Edge(
            "freelancer_window_lapse",
            (D.FREELANCER_WINDOW,),
            D.CLOSED,
            SYS,
            timer=Timer("DORM-1", "7 days after the client's window"),
            effects=(
                Effect(
                    "DORM-1",
                    _settle(DormancyOutcome.NOBODY_ACTED, to_freelancer=False, ends=True),
                ),
            ),
            summary="Nobody acted: the held money goes back to the client; the contract ends.",
        ),
        Edge(
            "approve_release",
            (D.RELEASE_REVIEW,),
            D.RELEASED,
            CLIENT,
            ("DORM-1", "TEAM-5"),
            effects=(
                Effect("DORM-1", _settle(DormancyOutcome.RELEASED_ON_REQUEST, to_freelancer=True)),
            ),
            summary="The client approves: the money goes to the freelancer side.",
        ),
        Edge(
            "dispute_release",
            (D.RELEASE_REVIEW,),
            D.MEDIATION,
            CLIENT,
            ("DORM-1", "TEAM-5"),
            effects=(Effect("DORM-1", _to_mediation),),
            summary="The client disputes the release: it goes to mediation.",
        ),
        Edge(
            "release_review_lapse",
            (D.RELEASE_REVIEW,),
            D.RELEASED,
            SYS,
            timer=Timer("DORM-1", "14 days after the release request"),
            effects=(
                Effect("DORM-1", _settle(DormancyOutcome.RELEASED_ON_REQUEST, to_freelancer=True)),
            ),
            summary="The client stayed silent for 14 days: the money is released.",
        ),
    ),
    forbidden=(
        Forbidden(
            "request_release", (*RUNNING, D.CLIENT_WINDOW), DECIDERS, "DORM-1", _not_dormant_yet
        ),
    ),
)


class DormancyWatch(Workflow[DormancyState, Dormancy]):
    """Fires dormancy events: the contract reports activity, the parties act in their windows."""

    spec = DORMANCY
