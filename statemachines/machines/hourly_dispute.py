"""Hourly dispute: draft -> awaiting_freelancer -> support_review -> resolved, or cancelled (§5.5).

A client disputes hours billed for the week just invoiced, while that week's
review window is open (HDSP-1, BILL-4). Filing holds the disputed hours out of
the week's payment and pauses the contract with a weekly limit of 0 (HDSP-2: the
marketplace fires the contract's ``dispute_hours``, and ``settle_held_hours``
when the dispute is over; see :mod:`statemachines.machines.contract.disputed`). The freelancer side
(on an agency's contract, the member who worked or the agency's managers,
HDSP-8) has 3 days to answer (HDSP-3): accepting refunds every disputed hour
(HDSP-4); declining, or silence under the default policy (HDSP-6, C-10), sends
it to support, who decide which hours Hourly Payment Protection covers
(CTR-HR-5, HDSP-5). The client may withdraw it until support decides (HDSP-7).

A dispute is its own aggregate and moves no money itself: when it is over,
:attr:`HourlyDispute.refund_amount` goes back to the client and
:attr:`HourlyDispute.paid_amount` joins the week's payment (INV-MONEY-4: the two
add up to the disputed amount).

>>> from datetime import datetime
>>> from statemachines import Actor, ManualClock, Money, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 9, 15, 0, tzinfo=UTC))  # Monday after the week
>>> disputes = HourlyDisputes(clock=clock)
>>> d = HourlyDispute(id="D-1", contract="C-1", client="co-1", freelancer="fl-1",
...                   week=datetime(2026, 3, 2, tzinfo=UTC), billed=600, rate=Money(3_000))
>>> _ = disputes.fire(d, "file", Actor("ana", Role.CLIENT_OWNER, party="co-1"), minutes=120)
>>> d.state.value, d.pauses_contract, d.held
('awaiting_freelancer', True, 120)
>>> _ = disputes.fire(d, "accept", Actor("fl-1", Role.FREELANCER))
>>> d.state.value, d.refund_amount, d.paid_amount
('resolved', Money(6000, 'USD'), Money(0, 'USD'))
"""

from __future__ import annotations

import enum
from datetime import datetime
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
    Guard,
    MachineSpec,
    Param,
    Reason,
    Timer,
    Workflow,
    fail,
)
from statemachines.core.money import Money
from statemachines.errors import Violation
from statemachines.machines.contract.values import BillingWeek, hours
from statemachines.rules.hourly_dispute import (
    HOURLY_DISPUTE_RESPONSE,
    HOURLY_NO_RESPONSE_POLICY,
    SUSPEND_ON_NO_RESPONSE,
    NoResponsePolicy,
)

__all__ = [
    "HOURLY_DISPUTE",
    "HourlyDispute",
    "HourlyDisputeState",
    "HourlyDisputes",
    "NoResponsePolicy",
    "protected_minutes",
]

RESPONSE = "response"
"""The key of the freelancer side's 3-day deadline (HDSP-3)."""


class HourlyDisputeState(enum.Enum):
    """Where an hourly dispute is; the values are the persisted form."""

    DRAFT = "draft"
    """The client is choosing hours of an invoiced week; nothing is filed yet."""
    AWAITING_FREELANCER = "awaiting_freelancer"
    """Filed: the freelancer side has 3 days to accept or decline (HDSP-3)."""
    SUPPORT_REVIEW = "support_review"
    """Declined or unanswered: support checks the diary (HDSP-5, HDSP-6)."""
    RESOLVED = "resolved"
    """Over: some hours refunded to the client, the rest paid (final)."""
    CANCELLED = "cancelled"
    """The client withdrew it; every disputed hour is paid (HDSP-7, final)."""


H = HourlyDisputeState
OPEN = (H.AWAITING_FREELANCER, H.SUPPORT_REVIEW)
"""States in which the contract stays paused and the hours stay held (HDSP-2)."""


@attrs.define(eq=True)
class HourlyDispute:
    """A client's dispute of hours billed for one week of an hourly contract."""

    id: str
    contract: str
    client: str
    """The client company that was billed."""
    freelancer: str
    """The freelancer's account, or the agency that holds the contract."""
    week: datetime
    """Monday 00:00 UTC of the billed week (BILL-1)."""
    billed: int
    """Minutes invoiced for that week (BILL-3): at most this many can be disputed."""
    rate: Money
    """The contract's hourly rate."""
    agency: bool = False
    member: str | None = None
    """On an agency's contract, the member who logged the time (HDSP-8)."""
    policy: NoResponsePolicy = HOURLY_NO_RESPONSE_POLICY
    """What silence leads to, as set when the dispute was opened (HDSP-6, C-10)."""
    suspend_on_silence: bool = SUSPEND_ON_NO_RESPONSE
    """With the refund-all policy, also suspend the silent freelancer (SUSP-4)."""
    state: HourlyDisputeState = HourlyDisputeState.DRAFT
    minutes: int = 0
    """The disputed minutes."""
    reason: str = ""
    filed_at: datetime | None = None
    held: int = 0
    """Minutes held out of the week's payment while the dispute is open (HDSP-2)."""
    notified: tuple[str, ...] = ()
    """Who was told and may answer: the freelancer, or the member and the agency (HDSP-8)."""
    answered_by: str | None = None
    silent: bool = False
    """True when the 3 days passed without an answer (HDSP-6)."""
    excluded: int = 0
    """Minutes support found not covered by Hourly Payment Protection (CTR-HR-5)."""
    refunded: int = 0
    """Minutes refunded to the client."""
    paid: int = 0
    """Minutes paid to the freelancer side after all."""
    suspend: tuple[str, ...] = ()
    """Accounts the platform must suspend because of this dispute (SUSP-4)."""
    closed_at: datetime | None = None
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def currency(self) -> str:
        """The contract's currency."""
        return self.rate.currency

    @property
    def billing_week(self) -> BillingWeek:
        """The disputed week's calendar (its review window, BILL-4)."""
        return BillingWeek(self.week)

    @property
    def respond_by(self) -> datetime | None:
        """When the freelancer side's 3 days end, while they run."""
        return next((d.due for d in self.deadlines if d.key == RESPONSE), None)

    @property
    def is_open(self) -> bool:
        """Filed and not over yet."""
        return self.state in OPEN

    @property
    def pauses_contract(self) -> bool:
        """HDSP-2: while open, the contract is paused with a weekly limit of 0."""
        return self.is_open

    def amount_of(self, minutes: int) -> Money:
        """What *minutes* of the week were billed at, to the cent (as the invoice rounds)."""
        return Money(self.rate.cents * minutes // 60, self.currency)

    @property
    def disputed_amount(self) -> Money:
        """The billed amount of the disputed minutes."""
        return self.amount_of(self.minutes)

    @property
    def refund_amount(self) -> Money:
        """What goes back to the client."""
        return self.amount_of(self.refunded)

    @property
    def paid_amount(self) -> Money:
        """What the freelancer side keeps of the disputed amount (the rest of it, INV-MONEY-4)."""
        if self.state not in (H.RESOLVED, H.CANCELLED):
            return Money(0, self.currency)
        return self.disputed_amount - self.refund_amount


def protected_minutes(
    disputed: int,
    *,
    manual: int = 0,
    idle: int = 0,
    over_limit: int = 0,
    unsupported: int = 0,
    id_verified: bool = True,
    billing_verified: bool = True,
    good_standing: bool = True,
) -> int:
    """CTR-HR-5: how many of *disputed* minutes Hourly Payment Protection covers.

    Nothing is covered unless the freelancer is ID-verified, the client's billing
    method is verified and both accounts are in good standing. Otherwise every
    minute is covered except manual time, idle time, time over the weekly limit,
    and time without memos or with too little activity (*unsupported*).

    >>> protected_minutes(300, manual=60, idle=15)
    225
    >>> protected_minutes(300, id_verified=False)
    0
    """
    if not (id_verified and billing_verified and good_standing):
        return 0
    return max(disputed - (manual + idle + over_limit + unsupported), 0)


# --------------------------------------------------------------------------- guards


def _in_window(d: HourlyDispute, ctx: Context) -> Reason | None:
    week = d.billing_week
    opens, closes = week.edits_close, week.review_closes
    if ctx.now < opens:
        return fail(
            f"{week.label} is invoiced at {format_utc(opens)}; its hours can be disputed from "
            "then until the end of that Friday",
            opens=opens.isoformat(),
        )
    if ctx.now >= closes:
        return fail(
            f"the review window of {week.label} closed at {format_utc(closes)}; hours can be "
            "disputed only until the end of the Friday after they were invoiced",
            closed=closes.isoformat(),
        )
    return None


def _billed_hours(d: HourlyDispute, ctx: Context) -> Reason | None:
    minutes: int = ctx.payload["minutes"]
    if minutes <= 0:
        return fail(f"a dispute is about some hours, more than 0 minutes, not {minutes}")
    if minutes > d.billed:
        return fail(
            f"{hours(minutes)} is more than the {hours(d.billed)} billed for "
            f"{d.billing_week.label}",
            billed_minutes=d.billed,
        )
    return None


def _review_adds_up(d: HourlyDispute, ctx: Context) -> Reason | None:
    p = ctx.payload
    excluded = p["manual"] + p["idle"] + p["over_limit"] + p["unsupported"]
    negative = [n for n in ("manual", "idle", "over_limit", "unsupported") if p[n] < 0]
    if negative:
        return fail(
            f"minutes found not covered cannot be negative ({', '.join(negative)})",
            negative=negative,
        )
    if excluded > d.minutes:
        return fail(
            f"the review finds {hours(excluded)} not covered, but only {hours(d.minutes)} "
            "are disputed",
            excluded_minutes=excluded,
            disputed_minutes=d.minutes,
        )
    return None


def _answered_already(d: HourlyDispute, ctx: Context) -> Reason:
    if d.silent:
        why = "nobody answered it within 3 days"
    else:
        when = format_utc(d.history[-1].at) if d.history else "earlier"
        why = f"the freelancer side declined it on {when}"
    return fail(f"dispute {d.id} is with support because {why}; support decides it now")


def _over(d: HourlyDispute, ctx: Context) -> Reason:
    when = format_utc(d.closed_at) if d.closed_at else "earlier"
    what = "withdrawn" if d.state is H.CANCELLED else "decided"
    return fail(f"dispute {d.id} was {what} on {when}; it can no longer be withdrawn")


# --------------------------------------------------------------------------- effects


def _file(d: HourlyDispute, ctx: Context) -> None:
    d.minutes = ctx.payload["minutes"]
    d.reason = ctx.payload["reason"]
    d.filed_at = ctx.now


def _hold(d: HourlyDispute, ctx: Context) -> None:
    # HDSP-2: the hours leave the week's payment; the contract pauses with a limit of 0.
    d.held = d.minutes


def _start_response_clock(d: HourlyDispute, ctx: Context) -> None:
    due = ctx.now + HOURLY_DISPUTE_RESPONSE
    d.deadlines = Deadline.put(d.deadlines, Deadline(RESPONSE, "response_lapse", due))


def _notify(d: HourlyDispute, ctx: Context) -> None:
    d.notified = (d.member, d.freelancer) if d.agency and d.member else (d.freelancer,)


def _close(d: HourlyDispute, ctx: Context, *, refunded: int) -> None:
    d.refunded = refunded
    d.paid = d.minutes - refunded
    d.held = 0
    d.closed_at = ctx.now
    d.deadlines = ()


def _refund_all(d: HourlyDispute, ctx: Context) -> None:
    d.answered_by = ctx.actor.id
    _close(d, ctx, refunded=d.minutes)


def _to_support(d: HourlyDispute, ctx: Context) -> None:
    d.answered_by = ctx.actor.id
    d.deadlines = Deadline.drop(d.deadlines, RESPONSE)


def _silence_to_support(d: HourlyDispute, ctx: Context) -> None:
    d.silent = True


def _silence_refunds_all(d: HourlyDispute, ctx: Context) -> None:
    d.silent = True
    _close(d, ctx, refunded=d.minutes)


def _suspend_silent_freelancer(d: HourlyDispute, ctx: Context) -> None:
    if d.suspend_on_silence:
        d.suspend = (d.freelancer,)


def _decide(d: HourlyDispute, ctx: Context) -> None:
    p = ctx.payload
    covered = protected_minutes(
        d.minutes,
        manual=p["manual"],
        idle=p["idle"],
        over_limit=p["over_limit"],
        unsupported=p["unsupported"],
        id_verified=p["id_verified"],
        billing_verified=p["billing_verified"],
        good_standing=p["good_standing"],
    )
    d.excluded = d.minutes - covered
    _close(d, ctx, refunded=d.minutes - covered)


def _withdraw(d: HourlyDispute, ctx: Context) -> None:
    _close(d, ctx, refunded=0)


# --------------------------------------------------------------------------- permissions


ANSWERERS = frozenset(
    {Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.AGENCY_MEMBER}
)
"""HDSP-8: the freelancer, or on an agency's contract its member on it and its managers."""
CLIENT = CLIENT_DECIDERS
SUPPORT = frozenset({Role.SUPPORT})
SYS = frozenset({Role.SYSTEM})


def _authorize(  # noqa: PLR0911
    d: HourlyDispute, actor: Actor, edge: Edge[Any] | None
) -> str | Violation | None:
    role = actor.role
    if role in (Role.SYSTEM, Role.SUPPORT):
        return None
    if role in CLIENT:
        if actor.party != d.client:
            return f"dispute {d.id} is about a contract of {d.client!r}, not {actor.party!r}"
        return None
    if role is Role.FREELANCER:
        if d.agency:
            return f"an agency ({d.freelancer!r}) holds contract {d.contract}; its people answer"
        if actor.id != d.freelancer:
            return f"dispute {d.id} is about the hours of {d.freelancer!r}"
        return None
    if not d.agency or actor.party != d.freelancer:
        return f"dispute {d.id} is about the hours of {d.freelancer!r}, not of {actor.party!r}"
    if role is Role.AGENCY_MEMBER and actor.id != d.member:
        return Violation(
            "HDSP-8",
            f"only the member who logged the hours ({d.member!r}) or the agency's managers "
            f"answer dispute {d.id}",
        )
    return None


def _policy_is(policy: NoResponsePolicy) -> Branch:
    return Branch(f"{policy.value.replace('_', ' ')} policy", lambda d, ctx: d.policy is policy)


REVIEW_PARAMS = (
    Param("manual", (int,), 0, "minutes of manual time"),
    Param("idle", (int,), 0, "minutes of idle time"),
    Param("over_limit", (int,), 0, "minutes over the weekly limit"),
    Param("unsupported", (int,), 0, "minutes without memos or with too little activity"),
    Param("id_verified", (bool,), True, "the freelancer has the ID Verification badge"),
    Param("billing_verified", (bool,), True, "the client's billing method is verified"),
    Param("good_standing", (bool,), True, "both accounts are in good standing"),
)
ANSWER: dict[str, Any] = {"role_rules": ("HDSP-3", "HDSP-8", "TEAM-8")}

HOURLY_DISPUTE: MachineSpec[HourlyDisputeState, HourlyDispute] = MachineSpec(
    name="hourly_dispute",
    description="A client's dispute of an invoiced hourly week, answered, reviewed or withdrawn.",
    states=HourlyDisputeState,
    initial=H.DRAFT,
    terminal=(H.RESOLVED, H.CANCELLED),
    model=HourlyDispute,
    authorize=_authorize,
    edges=(
        Edge(
            "file",
            (H.DRAFT,),
            H.AWAITING_FREELANCER,
            CLIENT,
            ("HDSP-1", "TEAM-5"),
            guards=(Guard("HDSP-1", _in_window), Guard("HDSP-1", _billed_hours, uses=("minutes",))),
            effects=(
                Effect("HDSP-1", _file),
                Effect("HDSP-2", _hold),
                Effect("HDSP-3", _start_response_clock),
                Effect("HDSP-8", _notify),
            ),
            params=(
                Param("minutes", (int,), doc="how many billed minutes are disputed"),
                Param("reason", (str,), "", "what the client says about the hours"),
            ),
            summary="The client disputes billed hours of the week in review; the contract pauses.",
        ),
        Edge(
            "accept",
            (H.AWAITING_FREELANCER,),
            H.RESOLVED,
            ANSWERERS,
            effects=(Effect("HDSP-4", _refund_all),),
            summary="The freelancer side accepts: every disputed hour is refunded.",
            **ANSWER,
        ),
        Edge(
            "decline",
            (H.AWAITING_FREELANCER,),
            H.SUPPORT_REVIEW,
            ANSWERERS,
            effects=(Effect("HDSP-5", _to_support),),
            summary="The freelancer side declines: support reviews the work diary.",
            **ANSWER,
        ),
        Edge(
            "response_lapse",
            (H.AWAITING_FREELANCER,),
            H.SUPPORT_REVIEW,
            SYS,
            timer=Timer("HDSP-3", "3 days after filing"),
            branch=_policy_is(NoResponsePolicy.REVIEW),
            effects=(Effect("HDSP-6", _silence_to_support),),
            summary="No answer in 3 days: support reviews the diary (the default policy).",
        ),
        Edge(
            "response_lapse",
            (H.AWAITING_FREELANCER,),
            H.RESOLVED,
            SYS,
            timer=Timer("HDSP-3", "3 days after filing"),
            branch=_policy_is(NoResponsePolicy.REFUND_ALL),
            effects=(
                Effect("HDSP-6", _silence_refunds_all),
                Effect("SUSP-4", _suspend_silent_freelancer),
            ),
            summary="No answer in 3 days, older policy: every disputed hour is refunded.",
        ),
        Edge(
            "decide",
            (H.SUPPORT_REVIEW,),
            H.RESOLVED,
            SUPPORT,
            ("HDSP-5",),
            guards=(
                Guard(
                    "CTR-HR-5",
                    _review_adds_up,
                    uses=("manual", "idle", "over_limit", "unsupported"),
                ),
            ),
            effects=(Effect("CTR-HR-5", _decide),),
            params=REVIEW_PARAMS,
            summary="Support pays the hours the protection covers and refunds the rest.",
        ),
        Edge(
            "cancel",
            OPEN,
            H.CANCELLED,
            CLIENT,
            ("HDSP-7", "TEAM-5"),
            effects=(Effect("HDSP-7", _withdraw),),
            summary="The client withdraws the dispute: the hours are paid as usual.",
        ),
    ),
    forbidden=(
        Forbidden("accept", (H.SUPPORT_REVIEW,), ANSWERERS, "HDSP-3", _answered_already),
        Forbidden("decline", (H.SUPPORT_REVIEW,), ANSWERERS, "HDSP-3", _answered_already),
        Forbidden("cancel", (H.RESOLVED, H.CANCELLED), CLIENT, "HDSP-7", _over),
    ),
)


class HourlyDisputes(Workflow[HourlyDisputeState, HourlyDispute]):
    """Fires hourly-dispute events: ``disputes.fire(d, "file", client, minutes=120)``."""

    spec = HOURLY_DISPUTE
