"""Account lifecycle: active -> closing -> deactivated (restorable for 5 years) -> closed.

One machine serves every account type (rulebook §3.1-3.6, §5.1): an individual
freelancer, a client company, an agency, an admin or manager with no other role,
a colleague without admin rights, an Enterprise company, and a person with both
freelancer and client profiles (one account, closed as a whole, ACC-GEN-2).

The guards read the account's obligations (contracts, proposals, job posts,
team members, balances) as :class:`Obligations`, facts that the workflow is
given by whoever holds those aggregates (the marketplace, or a test). They are
read afresh for each attempt and never stored on the account.

* **Hard blockers** refuse ``request_close``: every one is listed, by name and
  count, with what to do about it.
* **Soft blockers** (contracts still ending, pending money, the last hourly
  billing week, money left to withdraw) are waited out in ``closing``; the
  platform fires ``settle`` once the last one clears.

>>> from datetime import datetime
>>> from statemachines import Actor, ManualClock, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> jobs = Obligations(jobs=("J-4", "J-7", "J-9"))
>>> life = AccountLifecycle(clock=clock, obligations=lambda account, now: jobs)
>>> company = Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1")
>>> ana = Actor("ana", Role.CLIENT_OWNER, party="co-1")
>>> print(life.explain(company, "request_close", ana).error.violations[0])
[ACC-CLOSE-CL-5] 3 job posts still open: J-4, J-7, J-9; remove them under Jobs > Open Jobs
>>> jobs = Obligations()
>>> _ = life.fire(company, "request_close", ana, confirm=True)
>>> life.settle(company) is not None, company.state.value
(True, 'deactivated')
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import attrs

from statemachines._engine import (
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
from statemachines.actors import SYSTEM, Actor, Role
from statemachines.clock import Clock, format_utc
from statemachines.errors import TransitionError
from statemachines.money import Money
from statemachines.rules.account import (
    REACTIVATION_LINK_TTL,
    client_review_end,
    reactivation_deadline,
)

__all__ = [
    "ACCOUNT",
    "Account",
    "AccountLifecycle",
    "AccountState",
    "AccountType",
    "ContractFact",
    "Obligations",
    "Side",
    "SuspensionReason",
]

BILLING = "billing-cycle"
"""Key of the deadline at which the last hourly billing week stops blocking (CL-4)."""
WINDOW = "reactivation-window"
"""Key of the deadline at which a deactivated account can no longer be restored."""


class AccountState(enum.Enum):
    """Where an account is in its life; the values are the persisted form."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    """Held by the platform (ToS, billing, circumvention); cannot be closed meanwhile."""
    CLOSING = "closing"
    """Every hard blocker is clear; waiting for settlement and withdrawals."""
    DEACTIVATED = "deactivated"
    """Closed but restorable for 5 years (shown to users as "closed", C-01)."""
    CLOSED = "closed"
    """Final: nothing leaves it (INV-ACC-1)."""


class AccountType(enum.Enum):
    """The kinds of account the rulebook closes differently (§5.1.1)."""

    FREELANCER = "freelancer"
    """An individual freelancer."""
    CLIENT = "client"
    """A client company, held by its owner."""
    COMBINED = "combined"
    """A person with both freelancer and client profiles: one account (ACC-GEN-2)."""
    AGENCY = "agency"
    """An agency, held by its owner (whose freelancer account is separate)."""
    TEAM_ADMIN = "team_admin"
    """An admin or manager with no other role: closes by leaving every team."""
    TEAM_MEMBER = "team_member"
    """A colleague without admin rights: cannot close; is removed by an admin."""
    ENTERPRISE = "enterprise"
    """An Enterprise company: only the Upwork account team closes it."""

    @property
    def freelancer_side(self) -> bool:
        """True when the freelancer closing rules apply (FL-2..5)."""
        return self in {AccountType.FREELANCER, AccountType.COMBINED}

    @property
    def client_side(self) -> bool:
        """True when the client-company closing rules apply (CL-2..8, ENT-2)."""
        return self in {AccountType.CLIENT, AccountType.COMBINED, AccountType.ENTERPRISE}

    @property
    def team_only(self) -> bool:
        """True for admins, managers and colleagues with no role of their own."""
        return self in {AccountType.TEAM_ADMIN, AccountType.TEAM_MEMBER}

    @property
    def organisation(self) -> bool:
        """True for agencies and Enterprise companies, which close for good (AG-10, C-26)."""
        return self in {AccountType.AGENCY, AccountType.ENTERPRISE}


HOLDER_ROLES: dict[AccountType, frozenset[Role]] = {
    AccountType.FREELANCER: frozenset({Role.FREELANCER}),
    AccountType.CLIENT: frozenset({Role.CLIENT_OWNER}),
    AccountType.COMBINED: frozenset({Role.FREELANCER, Role.CLIENT_OWNER}),
    AccountType.AGENCY: frozenset({Role.AGENCY_OWNER}),
    AccountType.TEAM_ADMIN: frozenset(
        {Role.CLIENT_ADMIN, Role.HIRING_MANAGER, Role.BUSINESS_MANAGER}
    ),
    AccountType.TEAM_MEMBER: frozenset(
        {Role.TEAM_MEMBER, Role.SOURCING_MEMBER, Role.AGENCY_MEMBER}
    ),
    AccountType.ENTERPRISE: frozenset({Role.CLIENT_OWNER}),
}
"""The roles in which an account's holder acts on it."""


class Side(enum.Enum):
    """Which side of a contract an account is on."""

    FREELANCER = "freelancer"
    CLIENT = "client"
    AGENCY = "agency"


class SuspensionReason(enum.Enum):
    """Why the platform suspends an account."""

    BILLING = "billing"
    """A failed or expired billing method or a past-due balance (SUSP-1)."""
    CIRCUMVENTION = "circumvention"
    """Work or payment taken off the platform (CIRC-4)."""
    TERMS = "terms"
    """Another breach of the Terms of Service (ACC-GEN-8)."""


LIVE = frozenset({"active", "paused"})
"""Contract states that block entry into ``closing``."""
ENDING = "ending"
"""The contract state that is waited out in ``closing`` (C-04)."""


@attrs.frozen
class ContractFact:
    """What an account's closure needs to know about one of its contracts."""

    id: str
    state: str
    """The contract machine's state value: active, paused, ending, ended or refunded."""
    side: Side
    hourly: bool = False
    ended_at: datetime | None = None
    dispute_open: bool = False
    """An hourly dispute, escrow refund or fixed-price dispute is still open on it."""
    contact: str | None = None
    """The client member who is the contact person on it."""


def _zero() -> Money:
    return Money(0)


@attrs.frozen
class Obligations:
    """The obligations that may block an account's closure, as seen at one moment."""

    contracts: tuple[ContractFact, ...] = ()
    proposals: tuple[str, ...] = ()
    """Proposals submitted and not answered."""
    offers: tuple[str, ...] = ()
    """Offers received and not answered."""
    jobs: tuple[str, ...] = ()
    """Open job posts of the company."""
    members: tuple[str, ...] = ()
    """Members of the owned company or agency other than the owner (invited or joined)."""
    owed: Money = attrs.field(factory=_zero)
    """A past-due or negative balance."""
    pending: Money = attrs.field(factory=_zero)
    """Money in review or in the security hold."""
    pending_until: datetime | None = None
    """When the last pending money becomes available."""
    available: Money = attrs.field(factory=_zero)
    """Money the holder can withdraw."""
    agencies: tuple[str, ...] = ()
    """Agencies the person owns that are not closed."""
    teams: int = 0
    """Team invitations and memberships of a team-only account (ACC-TEAMS-D)."""
    personal_contracts: tuple[str, ...] = ()
    """Contracts on which the person was the one hired (for the JSS, AG-8)."""

    def on(self, *sides: Side) -> tuple[ContractFact, ...]:
        """The contracts on which the account is on one of *sides*."""
        return tuple(c for c in self.contracts if c.side in sides)


NONE = Obligations()


@attrs.define(eq=True)
class Account:
    """One account. ``state`` and the dated fields change only through events."""

    id: str
    type: AccountType
    owner: str
    """The person who holds it: the freelancer, the owner, or the team member themself."""
    company: str | None = None
    """The company or agency (team) this account owns, if any."""
    agency: str | None = None
    """The agency the freelancer profile is linked to (cleared by AG-7)."""
    security_question: bool = True
    """A security question and answer are on file (ACC-GEN-3)."""
    support_required: bool = False
    """The platform answers this account's requests with "contact support" (GEN-4, REACT-4)."""
    state: AccountState = AccountState.ACTIVE
    visible: bool = True
    """The profile is shown to others (hidden once deactivated, ACC-DEACT-1)."""
    profile_deleted: bool = False
    """The profile and personal data are gone (AG-6, ACC-DEL-1)."""
    close_requested_at: datetime | None = None
    closed_at: datetime | None = None
    suspended_at: datetime | None = None
    suspension: SuspensionReason | None = None
    export_offered_at: datetime | None = None
    exported_at: datetime | None = None
    link_token: str | None = None
    """The live reactivation link, if one was requested (ACC-REACT-2)."""
    link_issued_at: datetime | None = None
    used_tokens: tuple[str, ...] = ()
    jss_basis: tuple[str, ...] = ()
    """Contracts the Job Success Score is computed from (AG-8)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    @property
    def restorable_until(self) -> datetime | None:
        """The end of the 5-year reactivation window, while deactivated."""
        if self.state is not AccountState.DEACTIVATED or self.closed_at is None:
            return None
        return reactivation_deadline(self.closed_at)


# --------------------------------------------------------------------------- wording


def _n(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _list(ids: Iterable[str]) -> str:
    return ", ".join(ids)


def _them(count: int) -> str:
    return "it" if count == 1 else "them"


def _facts(ctx: Context) -> Obligations:
    facts = ctx.facts
    return facts if isinstance(facts, Obligations) else NONE


def _contracts_in(
    facts: Obligations, sides: tuple[Side, ...], states: Iterable[str]
) -> tuple[str, ...]:
    wanted = frozenset(states)
    return tuple(c.id for c in facts.on(*sides) if c.state in wanted)


def _blocking_contracts(ids: tuple[str, ...], what: str, remedy: str) -> Reason | None:
    if not ids:
        return None
    return fail(
        f"{_n(len(ids), 'contract')} still {what}: {_list(ids)}; {remedy}",
        contracts=ids,
    )


# --------------------------------------------------------------------------- hard guards


def _no_money_owed_freelancer(acc: Account, ctx: Context) -> Reason | None:
    owed = _facts(ctx).owed
    if acc.type in {AccountType.FREELANCER, AccountType.AGENCY} and owed:
        return fail(f"{owed} is owed on the account; pay it under Billing first", owed=owed.cents)
    return None


def _security_question_set(acc: Account, ctx: Context) -> Reason | None:
    if acc.security_question or ctx.actor.role in {Role.SUPPORT, Role.ACCOUNT_TEAM}:
        return None
    return fail("no security question is set; add one under Settings > Password & Security")


def _not_support_only(acc: Account, ctx: Context) -> Reason | None:
    if acc.support_required and ctx.actor.role is not Role.SUPPORT:
        return fail(f"account {acc.id} must be closed by support; contact support to go on")
    return None


def _support_checklist(acc: Account, ctx: Context) -> Reason | None:
    if ctx.actor.role is not Role.SUPPORT:
        return None
    facts = _facts(ctx)
    problems = []
    ending = [c.id for c in facts.contracts if c.state == ENDING]
    if ending:
        problems.append(f"{_n(len(ending), 'contract')} not ended: {_list(ending)}")
    disputes = [c.id for c in facts.contracts if c.dispute_open]
    if disputes:
        problems.append(f"{_n(len(disputes), 'dispute')} open on {_list(disputes)}")
    if facts.pending:
        problems.append(f"{facts.pending} still pending")
    if facts.available:
        problems.append(f"{facts.available} not withdrawn")
    if not problems:
        return None
    return fail("support's checklist is not clear: " + "; ".join(problems))


def _confirmed(acc: Account, ctx: Context) -> Reason | None:
    if ctx.payload["confirm"]:
        return None
    return fail(
        f"account {acc.id} meets the requirements; confirm to start closing "
        "(you may export your records first)"
    )


def _fl_no_live_contracts(acc: Account, ctx: Context) -> Reason | None:
    if not acc.type.freelancer_side:
        return None
    ids = _contracts_in(_facts(ctx), (Side.FREELANCER,), LIVE)
    return _blocking_contracts(ids, "active or paused", f"end {_them(len(ids))} under My Jobs")


def _fl_no_open_proposals(acc: Account, ctx: Context) -> Reason | None:
    if not acc.type.freelancer_side:
        return None
    facts = _facts(ctx)
    parts = []
    if facts.proposals:
        n = len(facts.proposals)
        parts.append(
            f"{_n(n, 'proposal')} still open: {_list(facts.proposals)}; "
            f"withdraw {_them(n)} under Proposals"
        )
    if facts.offers:
        n = len(facts.offers)
        parts.append(
            f"{_n(n, 'offer')} waiting for an answer: {_list(facts.offers)}; "
            f"decline or accept {_them(n)}"
        )
    if not parts:
        return None
    return fail("; ".join(parts), proposals=facts.proposals, offers=facts.offers)


def _fl_no_open_agency(acc: Account, ctx: Context) -> Reason | None:
    agencies = _facts(ctx).agencies
    if not acc.type.freelancer_side or not agencies:
        return None
    n = len(agencies)
    return fail(
        f"{_n(n, 'agency', 'agencies')} you own still open: {_list(agencies)}; "
        f"close {_them(n)} first under Settings > Agency Profile",
        agencies=agencies,
    )


def _cl_only_owner_left(acc: Account, ctx: Context) -> Reason | None:
    members = _facts(ctx).members
    if not acc.type.client_side or not members:
        return None
    n = len(members)
    return fail(
        f"{_n(n, 'other team member')} still in the company: {_list(members)}; "
        f"remove {_them(n)} under Settings > Members",
        members=members,
    )


def _cl_no_live_contracts(acc: Account, ctx: Context) -> Reason | None:
    if not acc.type.client_side:
        return None
    ids = _contracts_in(_facts(ctx), (Side.CLIENT,), LIVE)
    return _blocking_contracts(
        ids, "active or paused", f"end {_them(len(ids))} under Jobs > Contracts"
    )


def _cl_no_open_jobs(acc: Account, ctx: Context) -> Reason | None:
    jobs = _facts(ctx).jobs
    if not acc.type.client_side or not jobs:
        return None
    n = len(jobs)
    return fail(
        f"{_n(n, 'job post')} still open: {_list(jobs)}; remove {_them(n)} under Jobs > Open Jobs",
        jobs=jobs,
    )


def _cl_billing_paid(acc: Account, ctx: Context) -> Reason | None:
    owed = _facts(ctx).owed
    if not acc.type.client_side or not owed:
        return None
    return fail(f"{owed} of billing is outstanding; pay it under Billing", owed=owed.cents)


def _cl_no_contact_persons(acc: Account, ctx: Context) -> Reason | None:
    facts = _facts(ctx)
    if not acc.type.client_side:
        return None
    stuck = [
        f"{c.contact} ({c.id})"
        for c in facts.on(Side.CLIENT)
        if c.state in LIVE and c.contact is not None and c.contact in facts.members
    ]
    if not stuck:
        return None
    return fail(
        f"{_n(len(stuck), 'member')} cannot be removed while they are the contact person on "
        f"an active contract: {_list(stuck)}; end or reassign those contracts first"
    )


def _ag_no_members(acc: Account, ctx: Context) -> Reason | None:
    members = _facts(ctx).members
    if acc.type is not AccountType.AGENCY or not members:
        return None
    n = len(members)
    return fail(
        f"{_n(n, 'agency member')} still in the agency: {_list(members)}; "
        f"remove {_them(n)} under Settings > Members",
        members=members,
    )


def _ag_no_live_contracts(acc: Account, ctx: Context) -> Reason | None:
    if acc.type is not AccountType.AGENCY:
        return None
    ids = _contracts_in(_facts(ctx), (Side.AGENCY,), LIVE)
    return _blocking_contracts(ids, "active or paused", f"end {_them(len(ids))} under My Jobs")


def _ag_no_open_proposals(acc: Account, ctx: Context) -> Reason | None:
    facts = _facts(ctx)
    if acc.type is not AccountType.AGENCY:
        return None
    open_ = facts.proposals + facts.offers
    if not open_:
        return None
    n = len(open_)
    return fail(
        f"{_n(n, 'agency proposal')} still open: {_list(open_)}; "
        f"withdraw or answer {_them(n)} under Proposals",
        proposals=open_,
    )


def _enterprise_needs_account_team(acc: Account, ctx: Context) -> Reason | None:
    if acc.type is AccountType.ENTERPRISE and ctx.actor.role is not Role.ACCOUNT_TEAM:
        return fail(
            f"closing Enterprise account {acc.id} requires the account team; "
            "contact your Upwork account team"
        )
    return None


# --------------------------------------------------------------------------- soft guards


def _ending(acc: Account, ctx: Context, side: Side) -> Reason | None:
    ids = _contracts_in(_facts(ctx), (side,), (ENDING,))
    return _blocking_contracts(ids, "ending", "the account closes once they are settled")


def _fl_nothing_ending(acc: Account, ctx: Context) -> Reason | None:
    return _ending(acc, ctx, Side.FREELANCER) if acc.type.freelancer_side else None


def _cl_nothing_ending(acc: Account, ctx: Context) -> Reason | None:
    return _ending(acc, ctx, Side.CLIENT) if acc.type.client_side else None


def _ag_nothing_ending(acc: Account, ctx: Context) -> Reason | None:
    return _ending(acc, ctx, Side.AGENCY) if acc.type is AccountType.AGENCY else None


def _balances_clear(ctx: Context) -> Reason | None:
    facts = _facts(ctx)
    parts = []
    if facts.pending:
        until = f" until {format_utc(facts.pending_until)}" if facts.pending_until else ""
        parts.append(f"{facts.pending} is still pending{until}")
    if facts.available:
        parts.append(f"{facts.available} is available; withdraw it under Payments")
    if not parts:
        return None
    return fail("; ".join(parts), pending=facts.pending.cents, available=facts.available.cents)


def _fl_paid_and_withdrawn(acc: Account, ctx: Context) -> Reason | None:
    return _balances_clear(ctx) if acc.type.freelancer_side else None


def _ag_paid_and_withdrawn(acc: Account, ctx: Context) -> Reason | None:
    return _balances_clear(ctx) if acc.type is AccountType.AGENCY else None


def _open_billing_weeks(facts: Obligations, now: datetime) -> list[tuple[str, datetime | None]]:
    out: list[tuple[str, datetime | None]] = []
    for c in facts.on(Side.CLIENT):
        if not c.hourly or c.ended_at is None:
            continue
        end = client_review_end(c.ended_at)
        if now < end:
            out.append((c.id, end))
        elif c.dispute_open:
            out.append((c.id, None))
    return out


def _cl_billing_week_over(acc: Account, ctx: Context) -> Reason | None:
    if not acc.type.client_side:
        return None
    weeks = _open_billing_weeks(_facts(ctx), ctx.now)
    if not weeks:
        return None
    parts = [
        f"{cid} until {format_utc(end)}" if end else f"{cid} (an hourly dispute is open)"
        for cid, end in weeks
    ]
    return fail(
        f"the last billing week of {_n(len(weeks), 'hourly contract')} is still open to "
        f"disputes: {_list(parts)}; the company closes when it is over",
        contracts=tuple(cid for cid, _ in weeks),
    )


def _no_live_contracts_at_all(acc: Account, ctx: Context) -> Reason | None:
    ids = tuple(c.id for c in _facts(ctx).contracts if c.state in LIVE)
    return _blocking_contracts(ids, "active or paused", "an account with work cannot deactivate")


# --------------------------------------------------------------------------- other guards


def _window_open(acc: Account, ctx: Context) -> Reason | None:
    until = acc.restorable_until
    if until is not None and ctx.now >= until:
        return fail(
            f"account {acc.id} was closed on {format_utc(acc.closed_at or until)}; it could be "
            f"restored until {format_utc(until)} and now cannot",
            until=until.isoformat(),
        )
    return None


def _self_service_type(acc: Account, ctx: Context) -> Reason | None:
    if acc.type is AccountType.FREELANCER:
        return None
    why = {
        AccountType.COMBINED: "it had both freelancer and client profiles",
    }.get(acc.type, f"it is a {acc.type.value.replace('_', ' ')} account")
    return fail(f"account {acc.id} can be reactivated only by support because {why}")


def _not_flagged(acc: Account, ctx: Context) -> Reason | None:
    if acc.support_required:
        return fail(f"account {acc.id} is flagged by the platform; ask support to restore it")
    return None


def _token_valid(acc: Account, ctx: Context) -> Reason | None:
    token = ctx.payload["token"]
    if token in acc.used_tokens:
        return fail("this reactivation link was already used; log in again for a new one")
    if acc.link_token is None or token != acc.link_token or acc.link_issued_at is None:
        return fail("this reactivation link is not valid; log in again to request a new one")
    expires = acc.link_issued_at + REACTIVATION_LINK_TTL
    if ctx.now >= expires:
        return fail(
            f"this reactivation link expired at {format_utc(expires)}; log in again to "
            "request a new one",
            expired=expires.isoformat(),
        )
    return None


def _deletion_confirmed(acc: Account, ctx: Context) -> Reason | None:
    if ctx.payload["confirm"]:
        return None
    return fail(
        f"deleting account {acc.id} cannot be undone; export your contracts, invoices, "
        "messages and work submissions first, then confirm"
    )


def _freelancer_withdrawal_covered(acc: Account, ctx: Context) -> Reason | None:
    return None if acc.type is AccountType.AGENCY else _money_available(acc, ctx)


def _money_available(acc: Account, ctx: Context) -> Reason | None:
    amount: Money = ctx.payload["amount"]
    available = _facts(ctx).available
    if not amount:
        return fail("a withdrawal must be a positive amount")
    if amount > available:
        return fail(
            f"cannot withdraw {amount}: only {available} is available",
            amount=amount.cents,
            available=available.cents,
        )
    return None


def _agency_withdrawal_covered(acc: Account, ctx: Context) -> Reason | None:
    return _money_available(acc, ctx) if acc.type is AccountType.AGENCY else None


def _payment_needed(acc: Account, ctx: Context) -> Reason | None:
    amount: Money = ctx.payload["amount"]
    owed = _facts(ctx).owed
    if not amount or amount > owed:
        return fail(f"{amount} does not match what is owed ({owed})", owed=owed.cents)
    return None


def _no_team_left(acc: Account, ctx: Context) -> Reason | None:
    teams = _facts(ctx).teams
    if teams:
        return fail(f"{acc.owner} is still on {_n(teams, 'team')}")
    return None


def _team_only(acc: Account, ctx: Context) -> Reason | None:
    if acc.type.team_only:
        return None
    return fail(f"account {acc.id} is a {acc.type.value} account; leaving teams does not close it")


def _has_a_team(acc: Account, ctx: Context) -> Reason | None:
    if acc.type.team_only and not _facts(ctx).teams:
        return fail(
            f"{acc.owner} has no team left; invite them to a team before restoring the account"
        )
    return None


# --------------------------------------------------------------------------- effects


def _start_closing(acc: Account, ctx: Context) -> None:
    acc.close_requested_at = ctx.now
    acc.export_offered_at = ctx.now
    _schedule_billing_check(acc, ctx)


def _schedule_billing_check(acc: Account, ctx: Context) -> None:
    ends = [end for _, end in _open_billing_weeks(_facts(ctx), ctx.now) if end is not None]
    acc.deadlines = Deadline.drop(acc.deadlines, BILLING)
    if acc.type.client_side and ends:
        acc.deadlines = Deadline.put(
            acc.deadlines, Deadline(BILLING, "billing_cycle_over", max(ends))
        )


def _stop_closing(acc: Account, ctx: Context) -> None:
    acc.close_requested_at = None
    acc.deadlines = Deadline.drop(acc.deadlines, BILLING)


def _offer_export(acc: Account, ctx: Context) -> None:
    acc.export_offered_at = ctx.now


def _export(acc: Account, ctx: Context) -> None:
    acc.exported_at = ctx.now


def _set_security_question(acc: Account, ctx: Context) -> None:
    acc.security_question = True


def _deactivate(acc: Account, ctx: Context) -> None:
    acc.visible = False
    acc.closed_at = ctx.now
    acc.close_requested_at = None
    acc.deadlines = Deadline.put(
        Deadline.drop(acc.deadlines, BILLING),
        Deadline(WINDOW, "reactivation_window_expired", reactivation_deadline(ctx.now)),
    )


def _close_for_good(acc: Account, ctx: Context) -> None:
    acc.visible = False
    acc.closed_at = ctx.now
    acc.close_requested_at = None
    acc.link_token = None
    acc.deadlines = ()


def _delete_profile(acc: Account, ctx: Context) -> None:
    acc.profile_deleted = True


def _suspend(acc: Account, ctx: Context) -> None:
    acc.suspended_at = ctx.now
    acc.suspension = ctx.payload["reason"]
    _stop_closing(acc, ctx)


def _lift_suspension(acc: Account, ctx: Context) -> None:
    acc.suspended_at = None
    acc.suspension = None


def _issue_link(acc: Account, ctx: Context) -> None:
    count = sum(1 for d in acc.history if d.event == "request_reactivation_link") + 1
    acc.link_token = f"{acc.id}-link-{count}"
    acc.link_issued_at = ctx.now


def _use_link(acc: Account, ctx: Context) -> None:
    acc.used_tokens = (*acc.used_tokens, ctx.payload["token"])
    acc.link_token = None
    acc.link_issued_at = None


def _restore(acc: Account, ctx: Context) -> None:
    acc.visible = True
    acc.closed_at = None
    acc.link_token = None
    acc.link_issued_at = None
    acc.deadlines = Deadline.drop(acc.deadlines, WINDOW)


def _unlink_agency(acc: Account, ctx: Context) -> None:
    acc.agency = None


def _recompute_jss(acc: Account, ctx: Context) -> None:
    acc.jss_basis = _facts(ctx).personal_contracts


# --------------------------------------------------------------------------- who may act


def _is_holder(acc: Account, actor: Actor) -> bool:
    return actor.id == acc.owner and actor.role in HOLDER_ROLES[acc.type]


_NOT_HOLDER = {
    AccountType.FREELANCER: "[ACC-CLOSE-FL-1] only the holder of freelancer account {id} may",
    AccountType.CLIENT: "[ACC-CLOSE-CL-1] only the company owner of {id} may",
    AccountType.COMBINED: "[ACC-GEN-2] only the holder of account {id} may",
    AccountType.AGENCY: "[ACC-CLOSE-AG-1] only the owner of agency {id} may",
    AccountType.TEAM_ADMIN: "only {owner} may",
    AccountType.TEAM_MEMBER: "only {owner} may",
    AccountType.ENTERPRISE: "[ACC-CLOSE-ENT-1] only the account team or the owner of {id} may",
}


def _staff_problem(acc: Account, actor: Actor, event: str) -> str | None:
    if actor.role is Role.ACCOUNT_TEAM:
        if acc.type is not AccountType.ENTERPRISE:
            return (
                f"[ACC-CLOSE-ENT-1] the account team acts only on Enterprise accounts, not {acc.id}"
            )
        if actor.party not in {acc.id, acc.company}:
            return f"[ACC-CLOSE-ENT-1] {actor} is not the account team of {acc.id}"
        return None
    if event != "request_close":
        return None
    return {
        AccountType.ENTERPRISE: "[ACC-CLOSE-ENT-1] an Enterprise account is closed by its "
        "account team",
        AccountType.AGENCY: None,
        AccountType.TEAM_ADMIN: "[ACC-CLOSE-TM-1] a team admin's account closes when they "
        "leave every team",
        AccountType.TEAM_MEMBER: "[ACC-CLOSE-TM-2] a team member's account closes when an "
        "admin removes them",
    }.get(acc.type)


_NO_CLOSE = {
    AccountType.TEAM_ADMIN: "[ACC-CLOSE-TM-1] an admin or manager with no other role closes "
    "the account by leaving every team (Settings > My Teams > Leave Team)",
    AccountType.TEAM_MEMBER: "[ACC-CLOSE-TM-2] a colleague without admin rights cannot close "
    "the account; ask your admin or manager to remove you",
}


def _authorize(acc: Account, actor: Actor, edge: Edge[Any] | None) -> str | None:
    event = edge.event if edge is not None else "request_close"
    if actor.role is Role.SYSTEM:
        return None
    if actor.role in STAFF:
        return _staff_problem(acc, actor, event)
    if not _is_holder(acc, actor):
        return _NOT_HOLDER[acc.type].format(id=acc.id, owner=acc.owner) + f" {event!r}"
    if event == "request_close":
        return _NO_CLOSE.get(acc.type)
    return None


# --------------------------------------------------------------------------- the table

A = AccountState
ANYONE = frozenset(Role) - {Role.SYSTEM}
HOLDERS = frozenset(r for roles in HOLDER_ROLES.values() for r in roles)
STAFF = frozenset({Role.SUPPORT, Role.ACCOUNT_TEAM})
SYS = frozenset({Role.SYSTEM})
SUPPORT = frozenset({Role.SUPPORT})
CONFIRM = Param("confirm", (bool,), False, "True to go ahead after the requirements check")
AMOUNT = Param("amount", (Money,), doc="the amount")
NOT_CLOSED = (A.ACTIVE, A.SUSPENDED, A.CLOSING, A.DEACTIVATED)


def _stays_closed(acc: Account, ctx: Context) -> bool:
    return acc.type.team_only and not _facts(ctx).teams


def _suspended(acc: Account, ctx: Context) -> Reason:
    return fail(
        f"account {acc.id} is suspended; it cannot be closed until the suspension is resolved, "
        "so contact support to escalate"
    )


def _loop(
    event: str,
    states: tuple[AccountState, ...],
    roles: frozenset[Role],
    role_rules: tuple[str, ...] = (),
    **kw: Any,
) -> tuple[Edge[AccountState], ...]:
    """One self-loop per state: the event keeps the account where it is."""
    return tuple(Edge(event, (s,), s, roles, role_rules, **kw) for s in states)


_person = Branch("a person's account is deactivated", lambda a, c: not a.type.organisation)
_org = Branch("an agency or Enterprise closes for good", lambda a, c: a.type.organisation)
_back = Branch("the account has a role or a team", lambda a, c: not _stays_closed(a, c))
_teamless = Branch("a team-only account with no team left", _stays_closed)


SETTLE_GUARDS = (
    Guard("ACC-CLOSE-FL-2", _fl_nothing_ending),
    Guard("ACC-CLOSE-FL-4", _fl_paid_and_withdrawn),
    Guard("ACC-CLOSE-CL-3", _cl_nothing_ending),
    Guard("ACC-CLOSE-CL-4", _cl_billing_week_over),
    Guard("ACC-CLOSE-AG-3", _ag_nothing_ending),
    Guard("ACC-CLOSE-AG-5", _ag_paid_and_withdrawn),
    Guard("ACC-DEACT-2", _no_live_contracts_at_all),
)

ACCOUNT: MachineSpec[AccountState, Account] = MachineSpec(
    name="account",
    description="Account lifecycle for every account type, with closure blockers and restore.",
    states=AccountState,
    initial=A.ACTIVE,
    terminal=(A.CLOSED,),
    model=Account,
    authorize=_authorize,
    edges=(
        Edge(
            "request_close",
            (A.ACTIVE,),
            A.CLOSING,
            ANYONE,
            (
                "ACC-CLOSE-FL-1",
                "ACC-CLOSE-CL-1",
                "ACC-CLOSE-AG-1",
                "ACC-CLOSE-TM-2",
                "ACC-GEN-2",
                "ACC-CLOSE-ENT-2",
            ),
            guards=(
                Guard("ACC-CLOSE-ENT-1", _enterprise_needs_account_team),
                Guard("ACC-GEN-4", _not_support_only),
                Guard("ACC-GEN-3", _security_question_set),
                Guard("ACC-CLOSE-FL-2", _fl_no_live_contracts),
                Guard("ACC-CLOSE-FL-3", _fl_no_open_proposals),
                Guard("ACC-CLOSE-FL-5", _fl_no_open_agency),
                Guard("ACC-GEN-1", _no_money_owed_freelancer),
                Guard("ACC-CLOSE-CL-2", _cl_only_owner_left),
                Guard("ACC-CLOSE-CL-8", _cl_no_contact_persons),
                Guard("ACC-CLOSE-CL-3", _cl_no_live_contracts),
                Guard("ACC-CLOSE-CL-5", _cl_no_open_jobs),
                Guard("ACC-CLOSE-CL-6", _cl_billing_paid),
                Guard("ACC-CLOSE-AG-2", _ag_no_members),
                Guard("ACC-CLOSE-AG-3", _ag_no_live_contracts),
                Guard("ACC-CLOSE-AG-4", _ag_no_open_proposals),
                Guard("ACC-GEN-5", _support_checklist),
                Guard("ACC-GEN-7", _confirmed, uses=("confirm",)),
            ),
            effects=(Effect("ACC-EXPORT-D", _start_closing),),
            params=(CONFIRM,),
            summary="Check every hard blocker, then (confirmed) start closing; new work stops.",
        ),
        Edge(
            "cancel_close",
            (A.CLOSING,),
            A.ACTIVE,
            HOLDERS | STAFF,
            ("ACC-GEN-7",),
            effects=(Effect(None, _stop_closing),),
            summary="The holder changes their mind; the account is active again.",
        ),
        Edge(
            "settle",
            (A.CLOSING,),
            A.DEACTIVATED,
            SYS,
            ("ACC-GEN-1",),
            guards=SETTLE_GUARDS,
            effects=(Effect("ACC-DEACT-1", _deactivate), Effect("ACC-GEN-2", _offer_export)),
            branch=_person,
            summary="The last soft blocker cleared: hide the profile, keep every record.",
        ),
        Edge(
            "settle",
            (A.CLOSING,),
            A.CLOSED,
            SYS,
            ("ACC-CLOSE-AG-10",),
            guards=SETTLE_GUARDS,
            effects=(
                Effect("ACC-CLOSE-AG-6", _close_for_good),
                Effect("ACC-CLOSE-AG-6", _delete_profile),
            ),
            branch=_org,
            summary="The last soft blocker cleared: an agency or Enterprise closes for good.",
        ),
        Edge(
            "billing_cycle_over",
            (A.CLOSING,),
            A.CLOSING,
            SYS,
            timer=Timer("ACC-CLOSE-CL-4", "end of Friday after the last billed hourly week"),
            effects=(Effect("ACC-CLOSE-CL-4", _schedule_billing_check),),
            summary="The client review window of the last billed week is over.",
        ),
        *_loop(
            "withdraw",
            (A.ACTIVE, A.CLOSING),
            frozenset({Role.FREELANCER, Role.AGENCY_OWNER}),
            guards=(
                Guard("ACC-CLOSE-FL-4", _freelancer_withdrawal_covered, uses=("amount",)),
                Guard("ACC-CLOSE-AG-5", _agency_withdrawal_covered, uses=("amount",)),
            ),
            params=(AMOUNT,),
            summary="Withdraw available money (allowed while closing, C-29).",
        ),
        Edge(
            "pay_owed",
            (A.ACTIVE,),
            A.ACTIVE,
            HOLDERS,
            guards=(Guard("ACC-CLOSE-CL-6", _payment_needed, uses=("amount",)),),
            params=(AMOUNT,),
            summary="Pay an outstanding or negative balance.",
        ),
        Edge(
            "set_security_question",
            (A.ACTIVE,),
            A.ACTIVE,
            HOLDERS,
            effects=(Effect("ACC-GEN-3", _set_security_question),),
            summary="Put a security question and answer on file.",
        ),
        *_loop(
            "export_records",
            (A.ACTIVE, A.SUSPENDED, A.CLOSING, A.DEACTIVATED),
            HOLDERS | STAFF,
            effects=(Effect("ACC-EXPORT-D", _export),),
            summary="Download contracts, invoices, messages and work submissions.",
        ),
        Edge(
            "teams_left",
            (A.ACTIVE,),
            A.DEACTIVATED,
            SYS,
            ("ACC-CLOSE-TM-1",),
            guards=(
                Guard("ACC-CLOSE-TM-3", _team_only),
                Guard("ACC-CLOSE-TM-1", _no_team_left),
            ),
            effects=(Effect("ACC-CLOSE-TM-1", _deactivate),),
            summary="A team-only account with no team left is deactivated (C-25).",
        ),
        Edge(
            "suspend",
            (A.ACTIVE, A.CLOSING),
            A.SUSPENDED,
            SUPPORT,
            ("ACC-GEN-8", "SUSP-1", "CIRC-4"),
            effects=(Effect("ACC-GEN-8", _suspend),),
            params=(Param("reason", (SuspensionReason,), doc="why the platform suspends it"),),
            summary="The platform suspends the account (its contracts pause; closing stops).",
        ),
        Edge(
            "reinstate",
            (A.SUSPENDED,),
            A.ACTIVE,
            SUPPORT,
            ("SUSP-1",),
            effects=(Effect("SUSP-1", _lift_suspension),),
            branch=_back,
            summary="The problem is cleared; the account and its contracts resume.",
        ),
        Edge(
            "reinstate",
            (A.SUSPENDED,),
            A.DEACTIVATED,
            SUPPORT,
            ("ACC-TEAMS-D",),
            effects=(Effect("SUSP-1", _lift_suspension), Effect("ACC-TEAMS-D", _deactivate)),
            branch=_teamless,
            summary="Reinstated with no team left: a team-only account stays deactivated.",
        ),
        Edge(
            "permanent_close",
            (A.SUSPENDED,),
            A.CLOSED,
            SUPPORT,
            ("ACC-GEN-8", "CIRC-4"),
            effects=(Effect("ACC-GEN-8", _close_for_good),),
            summary="The platform closes the account for good; its open contracts end.",
        ),
        Edge(
            "request_reactivation_link",
            (A.DEACTIVATED,),
            A.DEACTIVATED,
            HOLDERS,
            guards=(
                Guard("ACC-REACT-3", _self_service_type),
                Guard("ACC-REACT-1", _window_open),
                Guard("ACC-REACT-4", _not_flagged),
            ),
            effects=(Effect("ACC-REACT-2", _issue_link),),
            summary="Email a reactivation link that works once, for 4 hours.",
        ),
        Edge(
            "confirm_reactivation",
            (A.DEACTIVATED,),
            A.ACTIVE,
            HOLDERS,
            guards=(
                Guard("ACC-REACT-3", _self_service_type),
                Guard("ACC-REACT-1", _window_open),
                Guard("ACC-REACT-4", _not_flagged),
                Guard("ACC-REACT-2", _token_valid, uses=("token",)),
            ),
            effects=(Effect("ACC-REACT-2", _use_link), Effect("ACC-DEACT-3", _restore)),
            params=(Param("token", (str,), doc="the token from the reactivation email"),),
            summary="Open the link: profile and work history come back.",
        ),
        Edge(
            "support_reactivate",
            (A.DEACTIVATED,),
            A.ACTIVE,
            SUPPORT,
            ("ACC-REACT-3",),
            guards=(Guard("ACC-REACT-1", _window_open), Guard("ACC-TEAMS-D", _has_a_team)),
            effects=(Effect("ACC-DEACT-3", _restore),),
            summary="Support restores an account within 5 years of its closure.",
        ),
        Edge(
            "reactivation_window_expired",
            (A.DEACTIVATED,),
            A.CLOSED,
            SYS,
            timer=Timer("ACC-REACT-1", "5 years after the account was closed"),
            effects=(Effect("ACC-DEL-1", _close_for_good), Effect("ACC-DEL-1", _delete_profile)),
            summary="Five years passed: the account can no longer be restored.",
        ),
        Edge(
            "delete_permanently",
            (A.DEACTIVATED,),
            A.CLOSED,
            HOLDERS | SUPPORT,
            guards=(Guard("ACC-DEL-1", _deletion_confirmed, uses=("confirm",)),),
            effects=(Effect("ACC-DEL-1", _close_for_good), Effect("ACC-DEL-1", _delete_profile)),
            params=(Param("confirm", (bool,), False, "True: delete for good"),),
            summary="Delete the account and its data for good.",
        ),
        *_loop(
            "unlink_agency",
            NOT_CLOSED,
            SYS,
            ("ACC-CLOSE-AG-6",),
            effects=(
                Effect("ACC-CLOSE-AG-7", _unlink_agency),
                Effect("ACC-CLOSE-AG-8", _recompute_jss),
            ),
            summary="The owner's agency closed: unlink it and recompute the JSS.",
        ),
    ),
    forbidden=(Forbidden("request_close", (A.SUSPENDED,), ANYONE, "ACC-GEN-6", _suspended),),
)


class AccountLifecycle(Workflow[AccountState, Account]):
    """Fires account events; guards read the obligations that *obligations* supplies.

    ``obligations(account, now)`` returns the account's :class:`Obligations`
    (the marketplace builds them from its contracts, proposals, jobs, teams and
    balances). Without it the account is taken to have none.
    """

    spec = ACCOUNT

    def __init__(
        self,
        *,
        clock: Clock,
        obligations: Callable[[Account, datetime], Obligations] | None = None,
        audit: Any = None,
    ) -> None:
        super().__init__(clock=clock, audit=audit)
        self.obligations = obligations

    def facts(self, aggregate: Account, now: datetime) -> Obligations:
        """The account's obligations at *now* (none when no source was given)."""
        return NONE if self.obligations is None else self.obligations(aggregate, now)

    def settle(self, account: Account, now: datetime | None = None) -> Decision | None:
        """Fire ``settle`` as the platform if the closing account has nothing left to wait for."""
        if account.state is not AccountState.CLOSING:
            return None
        at = self.clock.now() if now is None else now
        if account.history:
            at = max(at, account.history[-1].at)
        try:
            return self.fire_at(account, "settle", SYSTEM, at)
        except TransitionError:
            return None

    def advance(self, aggregate: Account, now: datetime | None = None) -> list[Decision]:
        """Fire due deadlines, then settle the account if it is closing and nothing blocks it."""
        fired = super().advance(aggregate, now)
        if fired:
            settled = self.settle(aggregate, fired[-1].at if now is None else now)
            if settled is not None:
                fired.append(settled)
        return fired
