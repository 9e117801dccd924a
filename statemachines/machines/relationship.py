"""Relationship: protected for 24 months, exempt, under review, penalised (CIRC-1..3).

A client and a freelancer who met on the platform must keep paying through it
for 24 months from the start of their relationship; asking or agreeing to pay
outside it already counts (CIRC-1). The exceptions are a paid conversion fee, a
relationship that started off the platform, and 24 months passed (CIRC-2): an
exempt relationship cannot be reported. Support confirms or dismisses a report;
confirmed circumvention suspends the account that took part and may charge the
conversion fee (CIRC-3). Ending a contract to take the work off the platform is
CIRC-4, on the account.

The relationship moves no money and suspends no one itself: :attr:`Relationship.suspend`
and :attr:`Relationship.fee_charged` say what the platform must do.

>>> from datetime import datetime
>>> from statemachines import SYSTEM, Actor, ManualClock, Money, Role, UTC
>>> clock = ManualClock(datetime(2024, 2, 29, 9, 0, tzinfo=UTC))
>>> cases = Relationships(clock=clock)
>>> r = Relationship(id="R-1", client="co-1", freelancer="fl-1")
>>> _ = cases.fire(r, "start", SYSTEM)
>>> r.state.value, r.protected_until.isoformat()
('protected', '2026-02-28T09:00:00+00:00')
"""

from __future__ import annotations

import calendar
import enum
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import CLIENT_DECIDERS, FREELANCER_SIDE, Actor, Role
from statemachines.core.clock import format_utc
from statemachines.core.engine import (
    Branch,
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
from statemachines.core.money import Money
from statemachines.machines.contract.values import Side
from statemachines.machines.sides import side_problem
from statemachines.rules.circumvention import NON_CIRCUMVENTION_MONTHS

__all__ = [
    "RELATIONSHIP",
    "Exemption",
    "Relationship",
    "RelationshipState",
    "Relationships",
    "add_months",
]

PROTECTION = "protection"


class RelationshipState(enum.Enum):
    """Where a client-freelancer relationship is; the values are the persisted form."""

    DRAFT = "draft"
    """The first contract has not started yet."""
    PROTECTED = "protected"
    """Formed on the platform, under 24 months: payments must stay on it (CIRC-1)."""
    EXEMPT = "exempt"
    """An exception applies (CIRC-2): fee paid, started off the platform, or 24 months passed."""
    UNDER_REVIEW = "under_review"
    """Someone reported circumvention; support looks into it."""
    PENALISED = "penalised"
    """Support confirmed circumvention (CIRC-3, final)."""


R = RelationshipState


class Exemption(enum.Enum):
    """Why a relationship may continue off the platform (CIRC-2)."""

    FEE_PAID = "fee_paid"
    STARTED_OFF_PLATFORM = "started_off_platform"
    TWO_YEARS = "two_years"


def add_months(moment: datetime, months: int) -> datetime:
    """*moment* plus whole calendar months, on the last day of the month if the day is missing.

    >>> add_months(datetime(2024, 2, 29, 9, 0), 12).isoformat()
    '2025-02-28T09:00:00'
    """
    total = moment.month - 1 + months
    year, month = moment.year + total // 12, total % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _zero() -> Money:
    return Money(0)


@attrs.define(eq=True)
class Relationship:
    """The working relationship between one client company and one freelancer or agency."""

    id: str
    client: str
    freelancer: str
    agency: bool = False
    off_platform: bool = False
    """The relationship started off the platform (bring your own client, CIRC-2)."""
    state: RelationshipState = RelationshipState.DRAFT
    started_at: datetime | None = None
    protected_until: datetime | None = None
    exemption: Exemption | None = None
    conversion_fee: Money = attrs.field(factory=_zero)
    """Paid by the client to take the relationship off the platform (CIRC-2)."""
    report: str = ""
    reported_by: str | None = None
    protection_over: bool = False
    """True once 24 months passed, even while a report was under review."""
    penalised_side: Side | None = None
    suspend: tuple[str, ...] = ()
    """Accounts the platform must suspend (CIRC-3)."""
    fee_charged: Money = attrs.field(factory=_zero)
    """The conversion fee charged as a penalty (CIRC-3)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)


def _on_platform(r: Relationship, ctx: Context) -> bool:
    return not r.off_platform


def _brought(r: Relationship, ctx: Context) -> bool:
    return r.off_platform


def _protection_over(r: Relationship, ctx: Context) -> bool:
    return r.protection_over


def _still_protected(r: Relationship, ctx: Context) -> bool:
    return not r.protection_over


def _positive_fee(r: Relationship, ctx: Context) -> Reason | None:
    fee: Money = ctx.payload["fee"]
    if not fee:
        return fail(f"a conversion fee is more than {fee}", fee=0)
    return None


def _something_reported(r: Relationship, ctx: Context) -> Reason | None:
    if not ctx.payload["what"].strip():
        return fail("a report says what was asked or agreed outside the platform")
    return None


def _exempt(r: Relationship, ctx: Context) -> Reason:
    why = {
        Exemption.FEE_PAID: "the conversion fee was paid",
        Exemption.STARTED_OFF_PLATFORM: "the relationship started off the platform",
        Exemption.TWO_YEARS: (
            f"24 months passed on {format_utc(r.protected_until)}" if r.protected_until else ""
        ),
    }
    reason = why[r.exemption] if r.exemption else "an exception applies"
    return fail(
        f"working off the platform is allowed for {r.client} and {r.freelancer}: {reason}",
        exemption=r.exemption.value if r.exemption else None,
    )


def _start(r: Relationship, ctx: Context) -> None:
    r.started_at = ctx.now
    r.protected_until = add_months(ctx.now, NON_CIRCUMVENTION_MONTHS)
    r.deadlines = (Deadline(PROTECTION, "protection_ends", r.protected_until),)


def _start_exempt(r: Relationship, ctx: Context) -> None:
    r.started_at = ctx.now
    r.exemption = Exemption.STARTED_OFF_PLATFORM


def _pay_fee(r: Relationship, ctx: Context) -> None:
    r.conversion_fee = ctx.payload["fee"]
    r.exemption = Exemption.FEE_PAID
    r.deadlines = ()


def _two_years(r: Relationship, ctx: Context) -> None:
    r.protection_over = True
    r.exemption = Exemption.TWO_YEARS


def _report(r: Relationship, ctx: Context) -> None:
    r.report = ctx.payload["what"].strip()
    r.reported_by = ctx.actor.id


def _penalise(r: Relationship, ctx: Context) -> None:
    side: Side = ctx.payload["side"]
    r.penalised_side = side
    r.suspend = (r.client if side is Side.CLIENT else r.freelancer,)
    r.fee_charged = ctx.payload["fee"]
    r.deadlines = ()


def _dismiss(r: Relationship, ctx: Context) -> None:
    r.report = ""
    r.reported_by = None


def _authorize(r: Relationship, actor: Actor, edge: Edge[Any] | None) -> str | None:
    return side_problem(
        actor,
        client=r.client,
        freelancer=r.freelancer,
        agency=r.agency,
        what=f"the relationship of {r.client} and {r.freelancer}",
    )


SYS = frozenset({Role.SYSTEM})
SUPPORT = frozenset({Role.SUPPORT})
REPORTERS = CLIENT_DECIDERS | FREELANCER_SIDE | SUPPORT

RELATIONSHIP: MachineSpec[RelationshipState, Relationship] = MachineSpec(
    name="relationship",
    description="A client and a freelancer: 24 months on the platform, its exceptions, penalties.",
    states=RelationshipState,
    initial=R.DRAFT,
    terminal=(R.PENALISED,),
    model=Relationship,
    authorize=_authorize,
    edges=(
        Edge(
            "start",
            (R.DRAFT,),
            R.PROTECTED,
            SYS,
            ("CIRC-1",),
            branch=Branch("met on the platform", _on_platform),
            effects=(Effect("CIRC-1", _start),),
            summary="The first contract starts: 24 months on the platform begin.",
        ),
        Edge(
            "start",
            (R.DRAFT,),
            R.EXEMPT,
            SYS,
            ("CIRC-2",),
            branch=Branch("brought from outside", _brought),
            effects=(Effect("CIRC-2", _start_exempt),),
            summary="A client the freelancer brought along: no restriction.",
        ),
        Edge(
            "pay_conversion_fee",
            (R.PROTECTED,),
            R.EXEMPT,
            CLIENT_DECIDERS,
            ("CIRC-2", "TEAM-5"),
            guards=(Guard("CIRC-2", _positive_fee, uses=("fee",)),),
            effects=(Effect("CIRC-2", _pay_fee),),
            params=(Param("fee", (Money,), doc="the conversion fee paid"),),
            summary="The client pays the conversion fee to work off the platform.",
        ),
        Edge(
            "protection_ends",
            (R.PROTECTED,),
            R.EXEMPT,
            SYS,
            timer=Timer("CIRC-2", "24 months after the relationship started"),
            effects=(Effect("CIRC-2", _two_years),),
            summary="24 months passed: the relationship may continue anywhere.",
        ),
        Edge(
            "protection_ends",
            (R.UNDER_REVIEW,),
            R.UNDER_REVIEW,
            SYS,
            timer=Timer("CIRC-2", "24 months after the relationship started"),
            effects=(Effect("CIRC-2", _two_years),),
            summary="24 months passed during a review; what was reported happened before.",
        ),
        Edge(
            "report",
            (R.PROTECTED,),
            R.UNDER_REVIEW,
            REPORTERS,
            ("CIRC-1", "TEAM-5", "TEAM-8"),
            guards=(Guard("CIRC-1", _something_reported, uses=("what",)),),
            effects=(Effect("CIRC-1", _report),),
            params=(Param("what", (str,), doc="what was asked or agreed outside the platform"),),
            summary="Someone reports payments asked for or agreed outside the platform.",
        ),
        Edge(
            "confirm",
            (R.UNDER_REVIEW,),
            R.PENALISED,
            SUPPORT,
            ("CIRC-3",),
            effects=(Effect("CIRC-3", _penalise),),
            params=(
                Param("side", (Side,), doc="the side that circumvented"),
                Param("fee", (Money,), Money(0), "the conversion fee charged, if any"),
            ),
            summary="Support confirms it: the account is suspended, the fee may be charged.",
        ),
        Edge(
            "dismiss",
            (R.UNDER_REVIEW,),
            R.PROTECTED,
            SUPPORT,
            ("CIRC-1",),
            branch=Branch("within 24 months", _still_protected),
            effects=(Effect("CIRC-1", _dismiss),),
            summary="Support finds no circumvention; the protection goes on.",
        ),
        Edge(
            "dismiss",
            (R.UNDER_REVIEW,),
            R.EXEMPT,
            SUPPORT,
            ("CIRC-1",),
            branch=Branch("24 months passed", _protection_over),
            effects=(Effect("CIRC-1", _dismiss),),
            summary="Support finds no circumvention; 24 months have passed meanwhile.",
        ),
    ),
    forbidden=(Forbidden("report", (R.EXEMPT,), REPORTERS, "CIRC-2", _exempt),),
)


class Relationships(Workflow[RelationshipState, Relationship]):
    """Fires relationship events: ``cases.fire(r, "report", client, what="...")``."""

    spec = RELATIONSHIP
