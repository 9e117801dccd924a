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

This module holds the table and who may act; the aggregate and its facts are in
:mod:`statemachines.machines.account.model`, the guards and effects in
:mod:`statemachines.machines.account.checks`.

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

from collections.abc import Callable
from datetime import datetime
from typing import Any

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.clock import Clock
from statemachines.core.engine import (
    Branch,
    Decision,
    Edge,
    Effect,
    Forbidden,
    Guard,
    MachineSpec,
    Param,
    Timer,
    Workflow,
)
from statemachines.core.money import Money
from statemachines.errors import TransitionError, Violation
from statemachines.machines.account import checks
from statemachines.machines.account.model import (
    BILLING,
    ENDING,
    HOLDER_ROLES,
    LIVE,
    NONE,
    WINDOW,
    Account,
    AccountState,
    AccountType,
    ContractFact,
    Obligations,
    Side,
    SuspensionReason,
)

__all__ = [
    "ACCOUNT",
    "BILLING",
    "ENDING",
    "HOLDER_ROLES",
    "LIVE",
    "NONE",
    "WINDOW",
    "Account",
    "AccountLifecycle",
    "AccountState",
    "AccountType",
    "ContractFact",
    "Obligations",
    "Side",
    "SuspensionReason",
]


# --------------------------------------------------------------------------- who may act


def _is_holder(acc: Account, actor: Actor) -> bool:
    return actor.id == acc.owner and actor.role in HOLDER_ROLES[acc.type]


_HOLDER = {
    AccountType.FREELANCER: ("ACC-CLOSE-FL-1", "the holder of freelancer account {id}"),
    AccountType.CLIENT: ("ACC-CLOSE-CL-1", "the owner of company {id}"),
    AccountType.COMBINED: ("ACC-GEN-2", "the holder of account {id}"),
    AccountType.AGENCY: ("ACC-CLOSE-AG-1", "the owner of agency {id}"),
    AccountType.TEAM_ADMIN: ("ACC-CLOSE-TM-1", "{owner}"),
    AccountType.TEAM_MEMBER: ("ACC-CLOSE-TM-2", "{owner}"),
    AccountType.ENTERPRISE: ("ACC-CLOSE-ENT-1", "the owner of Enterprise account {id}"),
}
"""Per type: the rule that says who closes it, and who holds it."""

_NO_CLOSE = {
    AccountType.TEAM_ADMIN: Violation(
        "ACC-CLOSE-TM-1",
        "an admin or manager with no other role closes the account by leaving every team "
        "(Settings > My Teams > Leave Team)",
    ),
    AccountType.TEAM_MEMBER: Violation(
        "ACC-CLOSE-TM-2",
        "a colleague without admin rights cannot close the account; ask your admin or "
        "manager to remove you",
    ),
}
"""Holders who may not ask to close: a team-only account closes through its teams."""

_SUPPORT_NO_CLOSE = {
    AccountType.ENTERPRISE: Violation(
        "ACC-CLOSE-ENT-1", "an Enterprise account is closed by its account team, not by support"
    ),
    AccountType.TEAM_ADMIN: Violation(
        "ACC-CLOSE-TM-1", "a team admin's account closes when they leave every team"
    ),
    AccountType.TEAM_MEMBER: Violation(
        "ACC-CLOSE-TM-2", "a team member's account closes when an admin removes them"
    ),
}

_REACTIVATION = frozenset({"request_reactivation_link", "confirm_reactivation"})


def _staff_problem(acc: Account, actor: Actor, event: str) -> Violation | None:
    if actor.role is Role.ACCOUNT_TEAM:
        if acc.type is not AccountType.ENTERPRISE:
            return Violation(
                "ACC-CLOSE-ENT-1",
                f"the Enterprise account team acts only on Enterprise accounts, and {acc.id} is "
                "not one",
            )
        if actor.party not in {acc.id, acc.company}:
            return Violation(
                "ACC-CLOSE-ENT-1", f"this account team does not look after account {acc.id}"
            )
        return None
    return _SUPPORT_NO_CLOSE.get(acc.type) if event == "request_close" else None


def _holder_problem(acc: Account, event: str) -> Violation | None:
    if event == "request_close":
        if acc.type is AccountType.ENTERPRISE:
            return Violation(
                "ACC-CLOSE-ENT-1",
                f"closing Enterprise account {acc.id} requires the account team; contact your "
                "Upwork account team",
            )
        return _NO_CLOSE.get(acc.type)
    if event in _REACTIVATION and acc.type is not AccountType.FREELANCER:
        why = (
            "it had both freelancer and client profiles"
            if acc.type is AccountType.COMBINED
            else f"it is a {acc.type.value.replace('_', ' ')} account"
        )
        return Violation(
            "ACC-REACT-3", f"account {acc.id} can be reactivated only by support because {why}"
        )
    return None


def _authorize(acc: Account, actor: Actor, edge: Edge[Any] | None) -> str | Violation | None:
    event = edge.event if edge is not None else "request_close"
    if actor.role is Role.SYSTEM:
        return None
    if actor.role in STAFF:
        return _staff_problem(acc, actor, event)
    if not _is_holder(acc, actor):
        rule_id, holder = _HOLDER[acc.type]
        text = f"only {holder.format(id=acc.id, owner=acc.owner)} can do this"
        # who may close is a rule of its own; other events cite the edge's role rule
        return Violation(rule_id, text) if event == "request_close" else text
    return _holder_problem(acc, event)


def _who(acc: Account, roles: frozenset[Role]) -> str:
    people = [_HOLDER[acc.type][1].format(id=acc.id, owner=acc.owner)] if roles & HOLDERS else []
    if Role.SUPPORT in roles:
        people.append("support")
    if Role.ACCOUNT_TEAM in roles and acc.type is AccountType.ENTERPRISE:
        people.append("its account team")
    if not people:
        return "the platform itself"
    return " or ".join(people)


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
_back = Branch("the account has a role or a team", lambda a, c: not checks.stays_closed(a, c))
_teamless = Branch("a team-only account with no team left", checks.stays_closed)


PURGE = (Effect("ACC-DEL-1", checks.close_for_good), Effect("ACC-DEL-1", checks.delete_profile))
"""Closing for good: the profile and personal data are gone (ACC-DEL-1)."""

_SETTLE_CLIENT = (
    Guard("ACC-CLOSE-CL-3", checks.cl_nothing_ending),
    Guard("ACC-CLOSE-CL-4", checks.cl_billing_week_over),
)
_SETTLE_ANY = (
    Guard("ACC-DEACT-2", checks.no_live_contracts_at_all),
    Guard("ACC-GEN-1", checks.no_money_owed_freelancer),
    Guard("ACC-CLOSE-CL-6", checks.cl_billing_paid),
)
SETTLE_PERSON = (
    Guard("ACC-CLOSE-FL-2", checks.fl_nothing_ending),
    Guard("ACC-CLOSE-FL-4", checks.fl_paid_and_withdrawn),
    *_SETTLE_CLIENT,
    *_SETTLE_ANY,
)
"""Soft blockers of a person's account (freelancer, client, combined), and the hard
ones that could come back while closing (a failed charge)."""
SETTLE_ORGANISATION = (
    *_SETTLE_CLIENT,
    Guard("ACC-CLOSE-AG-3", checks.ag_nothing_ending),
    Guard("ACC-CLOSE-AG-5", checks.ag_paid_and_withdrawn),
    *_SETTLE_ANY,
)
"""The same for an agency or Enterprise. Each branch of ``settle`` carries only the
guards that can refuse on it: the freelancer rules never apply to an organisation, and
the agency rules never to a person."""

ACCOUNT: MachineSpec[AccountState, Account] = MachineSpec(
    name="account",
    description="Account lifecycle for every account type, with closure blockers and restore.",
    states=AccountState,
    initial=A.ACTIVE,
    terminal=(A.CLOSED,),
    model=Account,
    authorize=_authorize,
    who=_who,
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
                "ACC-CLOSE-ENT-1",
                "ACC-GEN-2",
                "ACC-CLOSE-ENT-2",
            ),
            guards=(
                Guard("ACC-GEN-4", checks.not_support_only),
                Guard("ACC-GEN-3", checks.security_question_set),
                Guard("ACC-CLOSE-FL-2", checks.fl_no_live_contracts),
                Guard("ACC-CLOSE-FL-3", checks.fl_no_open_proposals),
                Guard("ACC-CLOSE-FL-5", checks.fl_no_open_agency),
                Guard("ACC-GEN-1", checks.no_money_owed_freelancer),
                Guard("ACC-CLOSE-CL-2", checks.cl_only_owner_left),
                Guard("ACC-CLOSE-CL-8", checks.cl_no_contact_persons),
                Guard("ACC-CLOSE-CL-3", checks.cl_no_live_contracts),
                Guard("ACC-CLOSE-CL-5", checks.cl_no_open_jobs),
                Guard("ACC-CLOSE-CL-6", checks.cl_billing_paid),
                Guard("ACC-CLOSE-AG-2", checks.ag_no_members),
                Guard("ACC-CLOSE-AG-3", checks.ag_no_live_contracts),
                Guard("ACC-CLOSE-AG-4", checks.ag_no_open_proposals),
                Guard("ACC-GEN-5", checks.support_checklist),
                Guard("ACC-GEN-7", checks.confirmed, uses=("confirm",)),
            ),
            effects=(Effect("ACC-EXPORT-D", checks.start_closing),),
            params=(CONFIRM,),
            summary="Check every hard blocker, then (confirmed) start closing; new work stops.",
        ),
        Edge(
            "cancel_close",
            (A.CLOSING,),
            A.ACTIVE,
            HOLDERS | STAFF,
            ("ACC-GEN-7",),
            effects=(Effect(None, checks.stop_closing),),
            summary="The holder changes their mind; the account is active again.",
        ),
        Edge(
            "settle",
            (A.CLOSING,),
            A.DEACTIVATED,
            SYS,
            ("ACC-GEN-1", "ACC-GEN-2"),
            guards=SETTLE_PERSON,
            effects=(Effect("ACC-DEACT-1", checks.deactivate),),
            branch=_person,
            summary="The last soft blocker cleared: hide every profile, keep every record.",
        ),
        Edge(
            "settle",
            (A.CLOSING,),
            A.CLOSED,
            SYS,
            ("ACC-CLOSE-AG-10",),
            guards=SETTLE_ORGANISATION,
            effects=(
                Effect("ACC-CLOSE-AG-6", checks.close_for_good),
                Effect("ACC-CLOSE-AG-6", checks.delete_profile),
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
            effects=(Effect("ACC-CLOSE-CL-4", checks.schedule_billing_check),),
            summary="The client review window of the last billed week is over.",
        ),
        *_loop(
            "withdraw",
            (A.ACTIVE, A.CLOSING),
            frozenset({Role.FREELANCER, Role.AGENCY_OWNER}),
            ("ACC-CLOSE-FL-4", "ACC-CLOSE-AG-5"),
            guards=(
                Guard("ACC-CLOSE-FL-4", checks.freelancer_withdrawal_covered, uses=("amount",)),
                Guard("ACC-CLOSE-AG-5", checks.agency_withdrawal_covered, uses=("amount",)),
            ),
            params=(AMOUNT,),
            summary="Withdraw available money (allowed while closing, C-29).",
        ),
        *_loop(
            "pay_owed",
            (A.ACTIVE, A.CLOSING),
            HOLDERS,
            ("ACC-CLOSE-CL-6",),
            guards=(Guard("ACC-CLOSE-CL-6", checks.payment_needed, uses=("amount",)),),
            params=(AMOUNT,),
            summary="Pay an outstanding or negative balance.",
        ),
        Edge(
            "set_security_question",
            (A.ACTIVE,),
            A.ACTIVE,
            HOLDERS,
            ("ACC-GEN-3",),
            effects=(Effect("ACC-GEN-3", checks.set_security_question),),
            summary="Put a security question and answer on file.",
        ),
        *_loop(
            "export_records",
            (A.ACTIVE, A.SUSPENDED, A.CLOSING, A.DEACTIVATED),
            HOLDERS | STAFF,
            ("ACC-EXPORT-D",),
            effects=(Effect("ACC-EXPORT-D", checks.record_export),),
            summary="Download contracts, invoices, messages and work submissions.",
        ),
        Edge(
            "teams_left",
            (A.ACTIVE,),
            A.DEACTIVATED,
            SYS,
            ("ACC-CLOSE-TM-1",),
            guards=(
                Guard("ACC-CLOSE-TM-3", checks.team_only),
                Guard("ACC-CLOSE-TM-1", checks.no_team_left),
            ),
            effects=(Effect("ACC-CLOSE-TM-1", checks.deactivate),),
            summary="A team-only account with no team left is deactivated (C-25).",
        ),
        Edge(
            "suspend",
            (A.ACTIVE, A.CLOSING),
            A.SUSPENDED,
            SUPPORT,
            ("ACC-GEN-8", "SUSP-1", "CIRC-4", "SUSP-2"),
            effects=(Effect("ACC-GEN-8", checks.suspend),),
            params=(Param("reason", (SuspensionReason,), doc="why the platform suspends it"),),
            summary="The platform suspends the account (its contracts pause; closing stops).",
        ),
        Edge(
            "reinstate",
            (A.SUSPENDED,),
            A.ACTIVE,
            SUPPORT,
            ("SUSP-1",),
            effects=(Effect("SUSP-1", checks.lift_suspension),),
            branch=_back,
            summary="The problem is cleared; the account and its contracts resume.",
        ),
        Edge(
            "reinstate",
            (A.SUSPENDED,),
            A.DEACTIVATED,
            SUPPORT,
            ("ACC-TEAMS-D",),
            effects=(
                Effect("SUSP-1", checks.lift_suspension),
                Effect("ACC-TEAMS-D", checks.deactivate),
            ),
            branch=_teamless,
            summary="Reinstated with no team left: a team-only account stays deactivated.",
        ),
        Edge(
            "permanent_close",
            (A.SUSPENDED,),
            A.CLOSED,
            SUPPORT,
            ("ACC-GEN-8", "CIRC-4"),
            effects=(Effect("ACC-GEN-8", checks.close_for_good),),
            summary="The platform closes the account for good; its open contracts end.",
        ),
        Edge(
            "request_reactivation_link",
            (A.DEACTIVATED,),
            A.DEACTIVATED,
            HOLDERS,
            ("ACC-REACT-1", "ACC-REACT-3"),
            guards=(
                Guard("ACC-REACT-1", checks.window_open),
                Guard("ACC-REACT-4", checks.not_flagged),
            ),
            effects=(Effect("ACC-REACT-2", checks.issue_link),),
            summary="Email a reactivation link that works once, for 4 hours.",
        ),
        Edge(
            "confirm_reactivation",
            (A.DEACTIVATED,),
            A.ACTIVE,
            HOLDERS,
            ("ACC-REACT-1", "ACC-REACT-3"),
            guards=(
                Guard("ACC-REACT-1", checks.window_open),
                Guard("ACC-REACT-4", checks.not_flagged),
                Guard("ACC-REACT-2", checks.token_valid, uses=("token",)),
            ),
            effects=(Effect("ACC-REACT-2", checks.use_link), Effect("ACC-DEACT-3", checks.restore)),
            params=(Param("token", (str,), doc="the token from the reactivation email"),),
            summary="Open the link: profile and work history come back.",
        ),
        Edge(
            "support_reactivate",
            (A.DEACTIVATED,),
            A.ACTIVE,
            SUPPORT,
            ("ACC-REACT-3",),
            guards=(
                Guard("ACC-REACT-1", checks.window_open),
                Guard("ACC-TEAMS-D", checks.has_a_team),
            ),
            effects=(Effect("ACC-DEACT-3", checks.restore),),
            summary="Support restores an account within 5 years of its closure.",
        ),
        Edge(
            "reactivation_window_expired",
            (A.DEACTIVATED,),
            A.CLOSED,
            SYS,
            timer=Timer("ACC-REACT-1", "5 years after the account was closed"),
            effects=(
                Effect("ACC-DEL-1", checks.close_for_good),
                Effect("ACC-DEL-1", checks.delete_profile),
            ),
            summary="Five years passed: the account can no longer be restored.",
        ),
        Edge(
            "delete_permanently",
            (A.DEACTIVATED,),
            A.CLOSED,
            HOLDERS | SUPPORT,
            ("ACC-DEL-1",),
            guards=(Guard("ACC-DEL-1", checks.deletion_confirmed, uses=("confirm",)),),
            effects=(
                Effect("ACC-DEL-1", checks.close_for_good),
                Effect("ACC-DEL-1", checks.delete_profile),
            ),
            params=(Param("confirm", (bool,), False, "True: delete for good"),),
            summary="Delete the account and its data for good.",
        ),
        *_loop(
            "unlink_agency",
            NOT_CLOSED,
            SYS,
            ("ACC-CLOSE-AG-6",),
            effects=(
                Effect("ACC-CLOSE-AG-7", checks.unlink_agency),
                Effect("ACC-CLOSE-AG-8", checks.recompute_jss),
            ),
            summary="The owner's agency closed: unlink it and recompute the JSS.",
        ),
    ),
    forbidden=(
        Forbidden(
            "request_close", (A.SUSPENDED,), ANYONE, "ACC-GEN-6", checks.refused_while_suspended
        ),
    ),
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
