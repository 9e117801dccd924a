"""Account and team invariants of rulebook §6.1 (and INV-TIME-4) as named predicates.

Each predicate reads a :class:`~statemachines.marketplace.market.Marketplace` (and, for
the step-wise ones, what a step did) and returns a list of problems: an empty
list means the invariant holds. The property tests call :func:`check_accounts`
after every step.

>>> from datetime import datetime
>>> from statemachines import ManualClock, UTC
>>> from statemachines.machines.account.table import Account, AccountType
>>> from statemachines.marketplace.market import Marketplace
>>> market = Marketplace(clock=ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)))
>>> co = Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1")
>>> _ = market.open_account(co)
>>> check_accounts(market)
[]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from statemachines.core.actors import Role
from statemachines.core.engine import Decision
from statemachines.machines.account.table import (
    ENDING,
    HOLDER_ROLES,
    LIVE,
    Account,
    AccountState,
    AccountType,
)
from statemachines.machines.contract.table import Contract
from statemachines.machines.job import Job
from statemachines.machines.proposal import OPEN as OPEN_PROPOSALS
from statemachines.machines.proposal import Proposal
from statemachines.machines.team import Membership, MembershipState
from statemachines.marketplace import reads
from statemachines.marketplace.market import CURRENT, Marketplace
from statemachines.rules.account import (
    REACTIVATION_LINK_TTL,
    client_review_end,
    reactivation_deadline,
)

__all__ = [
    "ACCOUNT_INVARIANTS",
    "check_accounts",
    "inv_acc_1_closed_is_absorbing",
    "inv_acc_2_only_owners_close",
    "inv_acc_3_no_closure_with_live_obligations",
    "inv_acc_3_settled_with_nothing_left",
    "inv_acc_4_combined_accounts_move_together",
    "inv_acc_5_agency_closure_keeps_the_owner",
    "inv_acc_6_reactivation_is_bounded",
    "inv_acc_7_reactivation_token",
    "inv_acc_8_team_accounts",
    "inv_acc_9_no_activity_while_frozen",
    "inv_money_10_balances",
    "inv_team_1_contact_person_never_removed",
    "inv_team_2_owner_always_a_member",
    "inv_time_4_company_closure_timing",
]

A = AccountState
FROZEN = frozenset({A.CLOSING, A.SUSPENDED, A.DEACTIVATED, A.CLOSED})
STARTS = {
    "job": frozenset({"post", "repost"}),
    "proposal": frozenset({"submit", "send_offer", "accept_offer"}),
    "contract": frozenset({"add_milestone", "fund_milestone"}),
}
"""Events that start new activity, by machine (INV-ACC-9)."""


def _accounts(market: Marketplace) -> list[Account]:
    return market.all("account")


def _contracts(market: Marketplace) -> list[Contract]:
    return market.all("contract")


def inv_acc_1_closed_is_absorbing(market: Marketplace) -> list[str]:
    """INV-ACC-1: once an account is ``closed`` nothing changes its state again."""
    problems = []
    for acc in _accounts(market):
        closed = [i for i, d in enumerate(acc.history) if d.target is A.CLOSED]
        if closed and closed[0] != len(acc.history) - 1:
            later = acc.history[closed[0] + 1]
            problems.append(f"{acc.id} was closed, then accepted {later.event!r}")
        if closed and acc.state is not A.CLOSED:
            problems.append(f"{acc.id} was closed but is {acc.state.value}")
    return problems


def _may_close(acc: Account, role: Role, actor_id: str) -> bool:
    if acc.type is AccountType.ENTERPRISE:
        return role is Role.ACCOUNT_TEAM
    if role is Role.SUPPORT:  # support-mediated closure (ACC-GEN-4, ACC-GEN-5)
        return not acc.type.team_only
    return actor_id == acc.owner and role in HOLDER_ROLES[acc.type] and not acc.type.team_only


def inv_acc_2_only_owners_close(market: Marketplace) -> list[str]:
    """INV-ACC-2: only the holder or owner (support for them; the account team for Enterprise)
    ever starts a closing; nobody else's request changed a state."""
    return [
        f"{acc.id} ({acc.type.value}) started closing for {d.actor}"
        for acc in _accounts(market)
        for d in acc.history
        if d.event == "request_close" and not _may_close(acc, d.actor.role, d.actor.id)
    ]


def _closed_by_request(acc: Account) -> bool:
    return not any(d.event == "permanent_close" for d in acc.history)


def inv_acc_3_no_closure_with_live_obligations(market: Marketplace) -> list[str]:
    """INV-ACC-3 (hard part): a closing, deactivated or closed account has no active or paused
    contract, no open proposal or offer, no open job post, no member but its owner, owes nothing.

    Accounts the platform closed for good from suspension are left out: that path ends
    their contracts rather than waiting for them (rulebook §5.1 A11).
    """
    problems = []
    now = market.clock.now()
    for acc in _accounts(market):
        if acc.state not in (A.CLOSING, A.DEACTIVATED, A.CLOSED) or not _closed_by_request(acc):
            continue
        if acc.type.team_only:
            continue
        ob = market.obligations(acc, now)
        live = [c.id for c in ob.contracts if c.state in LIVE]
        for what, items in (
            ("live contracts", live),
            ("open proposals", ob.proposals),
            ("pending offers", ob.offers),
            ("open jobs", ob.jobs),
            ("members", ob.members),
        ):
            if items:
                problems.append(f"{acc.id} is {acc.state.value} with {what}: {list(items)}")
        if ob.owed:
            problems.append(f"{acc.id} is {acc.state.value} and owes {ob.owed}")
    return problems


def inv_acc_3_settled_with_nothing_left(market: Marketplace, acc: Account) -> list[str]:
    """INV-ACC-3 (soft part), at the moment *acc* settled: nothing ending, nothing pending,
    nothing left to withdraw."""
    ob = market.obligations(acc, market.clock.now())
    problems = []
    ending = [c.id for c in ob.contracts if c.state == ENDING]
    if ending:
        problems.append(f"{acc.id} settled with contracts still ending: {ending}")
    earns = acc.type.freelancer_side or acc.type is AccountType.AGENCY
    if earns and (ob.pending or ob.available):
        problems.append(f"{acc.id} settled with {ob.pending} pending and {ob.available} available")
    return problems


def inv_acc_4_combined_accounts_move_together(market: Marketplace) -> list[str]:
    """INV-ACC-4: a person's freelancer and client profiles are one account, so one state."""
    problems = []
    for acc in _accounts(market):
        if acc.type is not AccountType.COMBINED or acc.company is None:
            continue
        holder = market.account_of(acc.company)
        if holder is not acc:
            problems.append(f"client profile {acc.company} of {acc.id} lives in another account")
    return problems


def inv_acc_5_agency_closure_keeps_the_owner(market: Marketplace) -> list[str]:
    """INV-ACC-5: a closed agency has no members, running contracts or open proposals, and its
    owner's freelancer account kept its state and lost the agency link."""
    problems = []
    for ag in _accounts(market):
        if ag.type is not AccountType.AGENCY or ag.state is not A.CLOSED:
            continue
        if not _closed_by_request(ag):
            continue
        members = [
            m.person
            for m in market.all("membership")
            if m.team == ag.company and m.state in CURRENT and not m.is_owner
        ]
        running = [
            c.id
            for c in _contracts(market)
            if c.agency and c.freelancer == ag.id and c.state.value in LIVE | {ENDING}
        ]
        proposals = [
            p.id
            for p in market.all("proposal")
            if p.freelancer == ag.id and p.state in OPEN_PROPOSALS
        ]
        for what, items in (("members", members), ("contracts", running), ("proposals", proposals)):
            if items:
                problems.append(f"closed agency {ag.id} still has {what}: {items}")
        for owner in _accounts(market):
            if owner.owner != ag.owner or not owner.type.freelancer_side:
                continue
            if owner.agency == ag.id:
                problems.append(f"{owner.id} is still linked to closed agency {ag.id}")
            for d in owner.history:
                if d.event == "unlink_agency" and d.source is not d.target:
                    problems.append(f"unlinking agency {ag.id} changed {owner.id}'s state")
    return problems


def _entered_deactivated(history: list[Decision], upto: int) -> Decision | None:
    for i in range(upto - 1, -1, -1):
        d: Decision = history[i]
        if d.target is A.DEACTIVATED and d.source is not A.DEACTIVATED:
            return d
    return None


def inv_acc_6_reactivation_is_bounded(market: Marketplace) -> list[str]:
    """INV-ACC-6: restoring happens within 5 years of the closure, by the holder only for a
    freelancer-only account and by support otherwise; nothing goes from closed to deactivated."""
    problems = []
    for acc in _accounts(market):
        for i, d in enumerate(acc.history):
            if d.source is A.CLOSED:
                problems.append(f"{acc.id} left closed by {d.event!r}")
            if not (d.source is A.DEACTIVATED and d.target is A.ACTIVE):
                continue
            entered = _entered_deactivated(acc.history, i)
            if entered is None or d.at >= reactivation_deadline(entered.at):
                problems.append(f"{acc.id} was restored at {d.at} after its 5-year window")
            if d.event == "confirm_reactivation":
                if acc.type is not AccountType.FREELANCER or d.actor.id != acc.owner:
                    problems.append(f"{acc.id} ({acc.type.value}) restored itself")
            elif d.actor.role is not Role.SUPPORT:
                problems.append(f"{acc.id} restored by {d.actor} through {d.event!r}")
    return problems


def inv_acc_7_reactivation_token(market: Marketplace) -> list[str]:
    """INV-ACC-7: a reactivation link is accepted only within 4 hours of being issued, once."""
    problems = []
    for acc in _accounts(market):
        issued: dict[str, Any] = {}
        used: set[str] = set()
        for d in acc.history:
            if d.event == "request_reactivation_link":
                issued[f"{acc.id}-link-{len(issued) + 1}"] = d.at
            elif d.event == "confirm_reactivation":
                token = str(d.payload.get("token"))
                at = issued.get(token)
                if at is None or d.at >= at + REACTIVATION_LINK_TTL:
                    problems.append(f"{acc.id} accepted link {token!r} at {d.at}")
                if token in used:
                    problems.append(f"{acc.id} accepted link {token!r} twice")
                used.add(token)
    return problems


def inv_acc_8_team_accounts(market: Marketplace) -> list[str]:
    """INV-ACC-8: an admin, manager or colleague with no team and no other role is never active."""
    problems = []
    for acc in _accounts(market):
        if not acc.type.team_only or acc.state is not A.ACTIVE:
            continue
        teams = [
            m for m in market.all("membership") if m.person == acc.owner and m.state in CURRENT
        ]
        if not teams:
            problems.append(f"team-only account {acc.id} is active without a team")
    return problems


def inv_acc_9_no_activity_while_frozen(
    states_before: Mapping[str, AccountState], kind: str, agg: Any, decision: Decision
) -> list[str]:
    """INV-ACC-9: no job, proposal, offer, contract funding starts for a frozen account.

    Checked on one accepted step: *states_before* are the account states (by account
    and company id) just before it.
    """
    if decision.event not in STARTS.get(kind, frozenset()):
        return []
    parties: list[str] = []
    if isinstance(agg, Job):
        parties = [agg.company]
    elif isinstance(agg, Proposal):
        parties = [agg.freelancer] if decision.event == "submit" else [agg.freelancer, agg.company]
    elif isinstance(agg, Contract):
        parties = [agg.client, agg.freelancer]
    return [
        f"{decision.event!r} on {kind} {agg.id} while account {p} was {states_before[p].value}"
        for p in parties
        if states_before.get(p) in FROZEN
    ]


def inv_money_10_balances(market: Marketplace) -> list[str]:
    """INV-MONEY-10: no freelancer's or agency's balance is overdrawn: refunds and
    withdrawals never took out more than the money available and pending."""
    problems = []
    now = market.clock.now()
    for acc in _accounts(market):
        agency = acc.type is AccountType.AGENCY
        if not (acc.type.freelancer_side or agency):
            continue
        b = market.flows.read(
            functools.partial(reads.balance, party=acc.id, now=now, agency=agency)
        )
        if b.overdraft:
            problems.append(f"{acc.id}'s balance is overdrawn by {b.overdraft}")
    return problems


def inv_team_1_contact_person_never_removed(market: Marketplace) -> list[str]:
    """INV-TEAM-1: a member who is the contact person on an active contract is never removed."""
    problems = []
    removed = [m for m in market.all("membership") if m.state is MembershipState.REMOVED]
    for m in removed:
        for c in _contracts(market):
            if c.client == m.team and c.state.value in LIVE and market._contact(c.id) == m.person:
                problems.append(f"{m.person} was removed from {m.team} but is contact on {c.id}")
    return problems


def inv_team_2_owner_always_a_member(market: Marketplace) -> list[str]:
    """INV-TEAM-2: the owner of a company or agency is its member while it is not closed."""
    problems = []
    memberships: list[Membership] = market.all("membership")
    for acc in _accounts(market):
        if acc.company is None or acc.type.team_only or acc.state is A.CLOSED:
            continue
        if not any(
            m.team == acc.company and m.person == acc.owner and m.state is MembershipState.MEMBER
            for m in memberships
        ):
            problems.append(f"owner {acc.owner} is not a member of {acc.company}")
    return problems


def inv_time_4_company_closure_timing(market: Marketplace) -> list[str]:
    """INV-TIME-4: a company is not deactivated or closed before the client review window of
    the last billed week of every hourly contract it ended has passed (C-05)."""
    problems = []
    for acc in _accounts(market):
        if not acc.type.client_side:
            continue
        for d in acc.history:
            if d.event != "settle":
                continue
            for c in _contracts(market):
                if c.client not in {acc.id, acc.company} or not c.is_hourly:
                    continue
                if c.ended_at is not None and c.ended_at <= d.at < client_review_end(c.ended_at):
                    problems.append(
                        f"{acc.id} settled at {d.at}, before the review window of {c.id} ended"
                    )
    return problems


ACCOUNT_INVARIANTS: tuple[Callable[[Marketplace], list[str]], ...] = (
    inv_acc_1_closed_is_absorbing,
    inv_acc_2_only_owners_close,
    inv_acc_3_no_closure_with_live_obligations,
    inv_acc_4_combined_accounts_move_together,
    inv_acc_5_agency_closure_keeps_the_owner,
    inv_acc_6_reactivation_is_bounded,
    inv_acc_7_reactivation_token,
    inv_acc_8_team_accounts,
    inv_money_10_balances,
    inv_team_1_contact_person_never_removed,
    inv_team_2_owner_always_a_member,
    inv_time_4_company_closure_timing,
)
"""Every invariant that reads the whole marketplace."""


def check_accounts(market: Marketplace) -> list[str]:
    """Run every whole-marketplace account invariant; an empty list means all hold."""
    return [problem for inv in ACCOUNT_INVARIANTS for problem in inv(market)]
