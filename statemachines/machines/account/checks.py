"""Guards and effects of the account table (rulebook §3.1-3.6, §5.1).

Every guard answers only for the account types its rule concerns, so the table
can list them all on one edge: a combined account meets the union of the
freelancer and client-company guards (ACC-GEN-2). Guards read the account's
:class:`~statemachines.machines.account.model.Obligations` from ``ctx.facts``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from statemachines.core.actors import Role
from statemachines.core.clock import format_utc
from statemachines.core.engine import Context, Deadline, Reason, fail
from statemachines.core.money import Money
from statemachines.machines.account.model import (
    BILLING,
    ENDING,
    LIVE,
    NONE,
    WINDOW,
    Account,
    AccountType,
    Obligations,
    Side,
)
from statemachines.rules.account import (
    REACTIVATION_LINK_TTL,
    client_review_end,
    reactivation_deadline,
)

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


def no_money_owed_freelancer(acc: Account, ctx: Context) -> Reason | None:
    owed = _facts(ctx).owed
    if acc.type in (AccountType.FREELANCER, AccountType.AGENCY) and owed:
        return fail(f"{owed} is owed on the account; pay it under Billing first", owed=owed.cents)
    return None


def security_question_set(acc: Account, ctx: Context) -> Reason | None:
    if acc.security_question or ctx.actor.role in (Role.SUPPORT, Role.ACCOUNT_TEAM):
        return None
    return fail("no security question is set; add one under Settings > Password & Security")


def not_support_only(acc: Account, ctx: Context) -> Reason | None:
    if acc.support_required and ctx.actor.role is not Role.SUPPORT:
        return fail(f"account {acc.id} must be closed by support; contact support to go on")
    return None


def support_checklist(acc: Account, ctx: Context) -> Reason | None:
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


def confirmed(acc: Account, ctx: Context) -> Reason | None:
    # Said beside any blocker, so it claims nothing about the other requirements.
    if ctx.payload["confirm"]:
        return None
    return fail(
        f"closing account {acc.id} needs your confirmation once nothing else stands in the "
        "way (you may export your records first)"
    )


def fl_no_live_contracts(acc: Account, ctx: Context) -> Reason | None:
    if not acc.type.freelancer_side:
        return None
    ids = _contracts_in(_facts(ctx), (Side.FREELANCER,), LIVE)
    return _blocking_contracts(ids, "active or paused", f"end {_them(len(ids))} under My Jobs")


def fl_no_open_proposals(acc: Account, ctx: Context) -> Reason | None:
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


def fl_no_open_agency(acc: Account, ctx: Context) -> Reason | None:
    agencies = _facts(ctx).agencies
    if not acc.type.freelancer_side or not agencies:
        return None
    n = len(agencies)
    return fail(
        f"{_n(n, 'agency', 'agencies')} you own still open: {_list(agencies)}; "
        f"close {_them(n)} first under Settings > Agency Profile",
        agencies=agencies,
    )


def cl_only_owner_left(acc: Account, ctx: Context) -> Reason | None:
    members = _facts(ctx).members
    if not acc.type.client_side or not members:
        return None
    n = len(members)
    return fail(
        f"{_n(n, 'other team member')} still in the company: {_list(members)}; "
        f"remove {_them(n)} under Settings > Members",
        members=members,
    )


def cl_no_live_contracts(acc: Account, ctx: Context) -> Reason | None:
    if not acc.type.client_side:
        return None
    ids = _contracts_in(_facts(ctx), (Side.CLIENT,), LIVE)
    return _blocking_contracts(
        ids, "active or paused", f"end {_them(len(ids))} under Jobs > Contracts"
    )


def cl_no_open_jobs(acc: Account, ctx: Context) -> Reason | None:
    jobs = _facts(ctx).jobs
    if not acc.type.client_side or not jobs:
        return None
    n = len(jobs)
    return fail(
        f"{_n(n, 'job post')} still open: {_list(jobs)}; remove {_them(n)} under Jobs > Open Jobs",
        jobs=jobs,
    )


def cl_billing_paid(acc: Account, ctx: Context) -> Reason | None:
    owed = _facts(ctx).owed
    if not acc.type.client_side or not owed:
        return None
    return fail(f"{owed} of billing is outstanding; pay it under Billing", owed=owed.cents)


def cl_no_contact_persons(acc: Account, ctx: Context) -> Reason | None:
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


def ag_no_members(acc: Account, ctx: Context) -> Reason | None:
    members = _facts(ctx).members
    if acc.type is not AccountType.AGENCY or not members:
        return None
    n = len(members)
    return fail(
        f"{_n(n, 'agency member')} still in the agency: {_list(members)}; "
        f"remove {_them(n)} under Settings > Members",
        members=members,
    )


def ag_no_live_contracts(acc: Account, ctx: Context) -> Reason | None:
    if acc.type is not AccountType.AGENCY:
        return None
    ids = _contracts_in(_facts(ctx), (Side.AGENCY,), LIVE)
    return _blocking_contracts(ids, "active or paused", f"end {_them(len(ids))} under My Jobs")


def ag_no_open_proposals(acc: Account, ctx: Context) -> Reason | None:
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


def _ending(acc: Account, ctx: Context, side: Side) -> Reason | None:
    ids = _contracts_in(_facts(ctx), (side,), (ENDING,))
    return _blocking_contracts(ids, "ending", "the account closes once they are settled")


def fl_nothing_ending(acc: Account, ctx: Context) -> Reason | None:
    return _ending(acc, ctx, Side.FREELANCER) if acc.type.freelancer_side else None


def cl_nothing_ending(acc: Account, ctx: Context) -> Reason | None:
    return _ending(acc, ctx, Side.CLIENT) if acc.type.client_side else None


def ag_nothing_ending(acc: Account, ctx: Context) -> Reason | None:
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


def fl_paid_and_withdrawn(acc: Account, ctx: Context) -> Reason | None:
    return _balances_clear(ctx) if acc.type.freelancer_side else None


def ag_paid_and_withdrawn(acc: Account, ctx: Context) -> Reason | None:
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


def cl_billing_week_over(acc: Account, ctx: Context) -> Reason | None:
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


def no_live_contracts_at_all(acc: Account, ctx: Context) -> Reason | None:
    ids = tuple(c.id for c in _facts(ctx).contracts if c.state in LIVE)
    return _blocking_contracts(ids, "active or paused", "an account with work cannot deactivate")


# --------------------------------------------------------------------------- other guards


def window_open(acc: Account, ctx: Context) -> Reason | None:
    # The window's deadline closes the account for good when it lapses, before any later
    # decision (ADR 0015); this refuses an account kept without that deadline.
    until = acc.restorable_until
    if until is not None and ctx.now >= until:
        return fail(
            f"account {acc.id} was closed on {format_utc(acc.closed_at or until)}; it could be "
            f"restored until {format_utc(until)} and now cannot",
            until=until.isoformat(),
        )
    return None


def not_flagged(acc: Account, ctx: Context) -> Reason | None:
    if acc.support_required:
        return fail(f"account {acc.id} is flagged by the platform; ask support to restore it")
    return None


def token_valid(acc: Account, ctx: Context) -> Reason | None:
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


def deletion_confirmed(acc: Account, ctx: Context) -> Reason | None:
    if ctx.payload["confirm"]:
        return None
    return fail(
        f"deleting account {acc.id} cannot be undone; export your contracts, invoices, "
        "messages and work submissions first, then confirm"
    )


def freelancer_withdrawal_covered(acc: Account, ctx: Context) -> Reason | None:
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


def agency_withdrawal_covered(acc: Account, ctx: Context) -> Reason | None:
    return _money_available(acc, ctx) if acc.type is AccountType.AGENCY else None


def payment_needed(acc: Account, ctx: Context) -> Reason | None:
    amount: Money = ctx.payload["amount"]
    owed = _facts(ctx).owed
    if not amount or amount > owed:
        return fail(f"{amount} does not match what is owed ({owed})", owed=owed.cents)
    return None


def no_team_left(acc: Account, ctx: Context) -> Reason | None:
    teams = _facts(ctx).teams
    if teams:
        return fail(f"{acc.owner} is still on {_n(teams, 'team')}")
    return None


def team_only(acc: Account, ctx: Context) -> Reason | None:
    if acc.type.team_only:
        return None
    return fail(f"account {acc.id} is a {acc.type.value} account; leaving teams does not close it")


def has_a_team(acc: Account, ctx: Context) -> Reason | None:
    if acc.type.team_only and not _facts(ctx).teams:
        return fail(
            f"{acc.owner} has no team left; invite them to a team before restoring the account"
        )
    return None


# --------------------------------------------------------------------------- effects


def start_closing(acc: Account, ctx: Context) -> None:
    acc.close_requested_at = ctx.now
    acc.export_offered_at = ctx.now
    schedule_billing_check(acc, ctx)


def schedule_billing_check(acc: Account, ctx: Context) -> None:
    ends = [end for _, end in _open_billing_weeks(_facts(ctx), ctx.now) if end is not None]
    acc.deadlines = Deadline.drop(acc.deadlines, BILLING)
    if acc.type.client_side and ends:
        acc.deadlines = Deadline.put(
            acc.deadlines, Deadline(BILLING, "billing_cycle_over", max(ends))
        )


def stop_closing(acc: Account, ctx: Context) -> None:
    acc.close_requested_at = None
    acc.deadlines = Deadline.drop(acc.deadlines, BILLING)


def record_export(acc: Account, ctx: Context) -> None:
    acc.exported_at = ctx.now


def set_security_question(acc: Account, ctx: Context) -> None:
    acc.security_question = True


def deactivate(acc: Account, ctx: Context) -> None:
    acc.visible = False
    acc.closed_at = ctx.now
    acc.close_requested_at = None
    acc.deadlines = Deadline.put(
        Deadline.drop(acc.deadlines, BILLING),
        Deadline(WINDOW, "reactivation_window_expired", reactivation_deadline(ctx.now)),
    )


def close_for_good(acc: Account, ctx: Context) -> None:
    acc.visible = False
    acc.closed_at = ctx.now
    acc.close_requested_at = None
    acc.link_token = None
    acc.deadlines = ()


def delete_profile(acc: Account, ctx: Context) -> None:
    acc.profile_deleted = True


def suspend(acc: Account, ctx: Context) -> None:
    acc.suspended_at = ctx.now
    acc.suspension = ctx.payload["reason"]
    stop_closing(acc, ctx)


def lift_suspension(acc: Account, ctx: Context) -> None:
    acc.suspended_at = None
    acc.suspension = None


def issue_link(acc: Account, ctx: Context) -> None:
    count = sum(1 for d in acc.history if d.event == "request_reactivation_link") + 1
    acc.link_token = f"{acc.id}-link-{count}"
    acc.link_issued_at = ctx.now


def use_link(acc: Account, ctx: Context) -> None:
    acc.used_tokens = (*acc.used_tokens, ctx.payload["token"])
    acc.link_token = None
    acc.link_issued_at = None


def restore(acc: Account, ctx: Context) -> None:
    acc.visible = True
    acc.closed_at = None
    acc.link_token = None
    acc.link_issued_at = None
    acc.deadlines = Deadline.drop(acc.deadlines, WINDOW)


def unlink_agency(acc: Account, ctx: Context) -> None:
    acc.agency = None


def recompute_jss(acc: Account, ctx: Context) -> None:
    acc.jss_basis = _facts(ctx).personal_contracts


# --------------------------------------------------------------------------- branches, refusals


def stays_closed(acc: Account, ctx: Context) -> bool:
    return acc.type.team_only and not _facts(ctx).teams


def refused_while_suspended(acc: Account, ctx: Context) -> Reason:
    return fail(
        f"account {acc.id} is suspended; it cannot be closed until the suspension is resolved, "
        "so contact support to escalate"
    )
