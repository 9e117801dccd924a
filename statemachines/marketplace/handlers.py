"""Handlers: one function per command, and one per event that has effects on other aggregates.

A command handler loads what the command touches and fires or adds. Each
accepted decision is then an event, and the handlers named after it apply what it
means for other aggregates, in the same unit of work (so all of it commits, or
none of it):

* an account suspended pauses its active hourly contracts, each for its true reason
  (the client's billing or suspension, SUSP-1; the freelancer's suspension, SUSP-D),
  and reinstated restarts the ones that suspension paused;
* an account closed for good from suspension ends its running contracts as the
  platform, which returns held escrow to the client (CTR-END-4; rulebook §5.1 A11);
* an agency settled unlinks its owner's freelancer account and recomputes their
  JSS (AG-7, AG-8);
* a membership changed deactivates a team-only person left without a team
  (ACC-CLOSE-TM-1);
* an offer accepted starts a contract, whose contact person is the member who
  sent the offer (TEAM-2);
* a proposal sent spends its Connects, and a post removed before any hire returns
  them (JOB-4, PROP-3; :mod:`statemachines.marketplace.connects`);
* after every command, each closing account named by what changed is checked
  again and settles as soon as nothing blocks it (:func:`closing_accounts_settle`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.core.engine import EMPTY, Attempt, AuditSink, Decision
from statemachines.errors import StatemachinesError, TransitionRefused, Violation
from statemachines.machines.account.table import (
    Account,
    AccountState,
    AccountType,
    SuspensionReason,
)
from statemachines.machines.contract.table import Contract, ContractState
from statemachines.machines.contract.values import PauseReason
from statemachines.machines.milestone import MilestoneState
from statemachines.machines.proposal import Proposal
from statemachines.machines.team import invite, owner_membership
from statemachines.marketplace import cases, connects
from statemachines.marketplace import commands as c
from statemachines.marketplace.errors import ConcurrentModification
from statemachines.marketplace.events import Change
from statemachines.marketplace.flows import Flows
from statemachines.marketplace.model import PastDue, Terms, parties
from statemachines.marketplace.reads import account_of, running_contracts, team_count
from statemachines.marketplace.unit_of_work import UnitOfWork

__all__ = [
    "COMMAND_HANDLERS",
    "EVENT_HANDLERS",
    "FREEZING",
    "Handling",
    "NothingDue",
    "closing_accounts_settle",
    "contract_for_offer",
    "frozen_party",
]

FREEZING = frozenset({"add_milestone", "fund_milestone"})
"""Contract events that start new activity, refused when either party is frozen
(ACC-FREEZE-D)."""

ADMIN_ROLES = frozenset({Role.CLIENT_ADMIN, Role.HIRING_MANAGER, Role.BUSINESS_MANAGER})
"""Invitees with these roles and no account of their own get a team-admin account."""


class NothingDue(StatemachinesError):
    """The deadline index named an aggregate whose next deadline is not due (it moved)."""


class Handling:
    """What every handler works with: the unit of work, the workflows, the command's moment.

    :meth:`accepted` turns a decision into an event; :meth:`drain` runs the handlers of
    every event in order, including the events those handlers cause.
    """

    def __init__(self, uow: UnitOfWork, flows: Flows, now: datetime, audit: AuditSink) -> None:
        self.uow = uow
        self.flows = flows
        self.now = now
        self.audit = audit
        self.queue: deque[Change] = deque()
        self.touched: dict[str, None] = {}
        """The parties of every aggregate a decision changed (whose closing accounts to check)."""

    def run(self, command: c.Command) -> None:
        """Handle *command*: its handler, the handlers of every event it causes, then the
        closing accounts it concerns."""
        COMMAND_HANDLERS[type(command)](command, self)
        self.drain()
        closing_accounts_settle(self)

    def accepted(self, kind: str, agg: Any, decision: Decision) -> None:
        """Record *decision* on *agg* as an event of this command."""
        self.queue.append(self.uow.accepted(kind, agg.id, decision))
        for party in parties(kind, agg):
            self.touched[party] = None

    def fire(
        self,
        kind: str,
        agg: Any,
        event: str,
        actor: Actor,
        *,
        at: datetime,
        payload: Mapping[str, Any] = EMPTY,
    ) -> Decision:
        """Fire *event* on *agg*; every decision it adds is an event of this command (the
        engine first fires the aggregate's own deadlines due by *at*)."""
        self.uow.changing(kind, agg.id)
        before = len(agg.history)
        decision = self.flows.by_kind[kind].fire_at(agg, event, actor, at, **payload)
        for d in agg.history[before:]:
            self.accepted(kind, agg, d)
        return decision

    def cascade(self, kind: str, agg: Any, event: str, at: datetime) -> Decision:
        """The platform fires *event* on *agg* as an effect of another decision."""
        history = agg.history
        when = max(at, history[-1].at) if history else at  # time never runs backwards
        return self.fire(kind, agg, event, SYSTEM, at=when)

    def drain(self) -> None:
        """Run the handlers of every event so far, and of the events they cause, in order."""
        while self.queue:
            change = self.queue.popleft()
            for handler in EVENT_HANDLERS.get((change.kind, change.decision.event), ()):
                handler(change, self)
            for handler in EVENT_HANDLERS.get((change.kind, None), ()):
                handler(change, self)

    def refuse(
        self, kind: str, key: str, event: str, actor: Actor, *, acc: Account, what: str
    ) -> None:
        """Refuse with ACC-FREEZE-D: *acc* is frozen, so it cannot do *what*."""
        reason = f"account {acc.id} is {acc.state.value}, so it cannot {what}"
        self.reject(kind, key, event, actor, rule_id="ACC-FREEZE-D", reason=reason)

    def reject(
        self, kind: str, key: str, event: str, actor: Actor, *, rule_id: str, reason: str
    ) -> None:
        """Refuse a command the marketplace itself judges, citing *rule_id*, before it
        changes anything; the attempt is audited like a machine's refusal."""
        violation = Violation(rule_id, reason)
        err = TransitionRefused(
            f"{kind} {key!r} cannot {event!r}: {violation}",
            machine=kind,
            state="-",
            event=event,
            violations=[violation],
        )
        self.audit.append(
            Attempt(self.now, key, actor, event, "-", "refused", (rule_id,), str(err))
        )
        raise err


# --------------------------------------------------------------------------- commands


def fire(cmd: c.Fire, h: Handling) -> None:
    """Fire the command's event on its aggregate, as its actor, now."""
    uow = h.uow
    agg = uow.get(cmd.kind, cmd.key)
    if cmd.expected_revision is not None:
        found = uow.revision(cmd.kind, cmd.key)
        if found != cmd.expected_revision:
            raise ConcurrentModification(cmd.kind, cmd.key, cmd.expected_revision, found)
    if cmd.kind == "contract" and cmd.event in FREEZING:
        frozen = frozen_party(lambda party: account_of(uow, party), agg)
        if frozen is not None:
            acc, what = frozen
            h.refuse(cmd.kind, cmd.key, cmd.event, cmd.actor, acc=acc, what=what)
    h.fire(cmd.kind, agg, cmd.event, cmd.actor, at=h.now, payload=cmd.payload)


def frozen_party(
    account_of: Callable[[str], Account | None], contract: Contract
) -> tuple[Account, str] | None:
    """ACC-FREEZE-D, INV-ACC-9: the first party of *contract* whose account is not active
    (the client, then the freelancer or agency), and what it may not do; ``None`` when both
    may start new work on it."""
    for party, what in ((contract.client, "fund work"), (contract.freelancer, "take on work")):
        acc = account_of(party)
        if acc is not None and acc.state is not AccountState.ACTIVE:
            return acc, what
    return None


def fire_deadline(cmd: c.FireDeadline, h: Handling) -> None:
    """Fire the aggregate's next deadline as the platform, at the moment it fell due."""
    agg = h.uow.get(cmd.kind, cmd.key)
    deadlines = agg.deadlines
    if not deadlines or deadlines[0].due > cmd.limit:
        msg = f"{cmd.kind} {cmd.key!r} has no deadline due by {cmd.limit.isoformat()}"
        raise NothingDue(msg)
    deadline = deadlines[0]
    h.now = deadline.due
    h.fire(cmd.kind, agg, deadline.event, SYSTEM, at=deadline.due)


def _two_profiles(a: Account, b: Account) -> bool:
    return (a.type.freelancer_side and b.type.client_side) or (
        a.type.client_side and b.type.freelancer_side
    )


def open_account(cmd: c.OpenAccount, h: Handling) -> None:
    """Add the account; a company or agency gets its owner's membership (INV-TEAM-2).

    ACC-GEN-2, ADR 0019: one person's freelancer and client profiles are one account
    (a combined one), so an account that would split them over two is refused.
    """
    account = cmd.account
    for other in h.uow.related("account", account.owner):
        if (
            other.owner == account.owner
            and other.state is not AccountState.CLOSED
            and _two_profiles(account, other)
        ):
            reason = (
                f"{account.owner} already holds account {other.id} ({other.type.value}); "
                "one person's freelancer and client profiles are one account, closed as a "
                "whole: open a combined account instead"
            )
            h.reject("account", account.id, "open", SYSTEM, rule_id="ACC-GEN-2", reason=reason)
    h.uow.add("account", account.id, account, h.now)
    if account.company is not None and account.type is not AccountType.TEAM_ADMIN:
        agency = account.type is AccountType.AGENCY
        m = owner_membership(account.company, account.owner, agency=agency)
        h.uow.add("membership", m.id, m, h.now)


def invite_member(cmd: c.Invite, h: Handling) -> None:
    """Invite a person (TEAM-1, TEAM-6); a newcomer gets a team-only account."""
    uow = h.uow
    owner = account_of(uow, cmd.team)
    agency = owner is not None and owner.type is AccountType.AGENCY
    m = invite(
        cmd.team, cmd.person, cmd.role, by=cmd.by, agency=agency, agency_plus=cmd.agency_plus
    )
    if owner is not None and owner.state is not AccountState.ACTIVE:
        h.refuse("membership", m.id, "invite", cmd.by, acc=owner, what="invite members")
    uow.add("membership", m.id, m, h.now)
    if account_of(uow, cmd.person) is None:
        kind = AccountType.TEAM_ADMIN if cmd.role in ADMIN_ROLES else AccountType.TEAM_MEMBER
        uow.add("account", cmd.person, Account(id=cmd.person, type=kind, owner=cmd.person), h.now)


def draft_job(cmd: c.DraftJob, h: Handling) -> None:
    """A draft job post; posting it is the checked step."""
    h.uow.add("job", cmd.job.id, cmd.job, h.now)


def draft_proposal(cmd: c.DraftProposal, h: Handling) -> None:
    """A draft proposal on a job, and the terms an offer on it would start."""
    company = h.uow.get("job", cmd.job).company
    p = Proposal(
        id=cmd.key,
        job=cmd.job,
        company=company,
        freelancer=cmd.freelancer,
        agency=cmd.agency,
        author=cmd.author,
    )
    h.uow.add("proposal", cmd.key, p, h.now)
    h.uow.add_record("terms", cmd.key, cmd.terms)


def add_contract(cmd: c.AddContract, h: Handling) -> None:
    """A contract started elsewhere, with its contact person."""
    h.uow.add("contract", cmd.contract.id, cmd.contract, h.now)
    if cmd.contact is not None:
        h.uow.add_record("contact", cmd.contract.id, cmd.contact)


def record_past_due(cmd: c.RecordPastDue, h: Handling) -> None:
    """An amount the platform could not charge (CL-6, ACC-GEN-1)."""
    key = h.uow.new_key("past_due", f"{cmd.account}-")
    h.uow.add_record("past_due", key, PastDue(key, cmd.account, cmd.amount))


COMMAND_HANDLERS: dict[type[c.Command], Callable[[Any, Handling], None]] = {
    c.Fire: fire,
    c.FireDeadline: fire_deadline,
    c.OpenAccount: open_account,
    c.Invite: invite_member,
    c.DraftJob: draft_job,
    c.DraftProposal: draft_proposal,
    c.AddContract: add_contract,
    c.RecordPastDue: record_past_due,
    **cases.COMMAND_HANDLERS,
    **connects.COMMAND_HANDLERS,
}


# --------------------------------------------------------------------------- events


def _pause_event(acc: Account, reason: SuspensionReason | None, contract: Contract) -> str | None:
    """The event that pauses *contract* when *acc* is suspended for *reason* (ADR 0021)."""
    names = {acc.id, acc.company} - {None}
    if contract.client in names:  # SUSP-1: the client's account
        if reason is SuspensionReason.BILLING:
            return "billing_problem"
        return "client_suspended"
    if contract.freelancer in names:  # SUSP-D: the freelancer's or agency's account
        return "freelancer_suspended"
    return None


_PAUSED_BY = {
    "billing_problem": PauseReason.BILLING,
    "client_suspended": PauseReason.CLIENT_SUSPENDED,
    "freelancer_suspended": PauseReason.FREELANCER_SUSPENDED,
}
_RESTART = {
    "billing_problem": "billing_fixed",
    "client_suspended": "client_reinstated",
    "freelancer_suspended": "freelancer_reinstated",
}


def account_suspended(change: Change, h: Handling) -> None:
    """SUSP-1, SUSP-D: a suspended account's active hourly contracts pause, each for its
    true reason: the client's billing, the client's suspension, the freelancer's."""
    acc = h.uow.get("account", change.key)
    reason = SuspensionReason(change.decision.payload["reason"])
    for contract in running_contracts(h.uow, acc):
        event = _pause_event(acc, reason, contract)
        if event and contract.is_hourly and contract.state is ContractState.ACTIVE:
            h.cascade("contract", contract, event, change.decision.at)


def _suspension(acc: Account, reinstated: Decision) -> Decision | None:
    """The ``suspend`` decision that *reinstated* lifts."""
    seen = False
    for d in reversed(acc.history):
        if d is reinstated:
            seen = True
        elif seen and d.event == "suspend":
            found: Decision = d
            return found
    return None


def account_reinstated(change: Change, h: Handling) -> None:
    """SUSP-1, SUSP-D: reinstating restarts the contracts this account's suspension
    paused (not those paused by the client, or for the other side's suspension)."""
    acc = h.uow.get("account", change.key)
    suspend = _suspension(acc, change.decision)
    if suspend is None or change.decision.source is not AccountState.SUSPENDED:
        return
    since: datetime = suspend.at
    reason = SuspensionReason(suspend.payload["reason"])
    for contract in running_contracts(h.uow, acc):
        event = _pause_event(acc, reason, contract)
        if (
            event is not None
            and contract.state is ContractState.PAUSED
            and contract.pause_reason is _PAUSED_BY[event]
            and contract.paused_at is not None
            and contract.paused_at >= since
        ):
            h.cascade("contract", contract, _RESTART[event], change.decision.at)
            _pause_for_the_other_side(h, acc, contract, change.decision.at)


def _pause_for_the_other_side(h: Handling, acc: Account, contract: Contract, at: datetime) -> None:
    """SUSP-1, SUSP-D: a contract restarted for *acc* pauses again at once when the account
    of its other side is still suspended, for that account's reason (ADR 0021)."""
    names = {acc.id, acc.company} - {None}
    party = contract.freelancer if contract.client in names else contract.client
    other = account_of(h.uow, party) if party else None
    if other is None or other.state is not AccountState.SUSPENDED:
        return
    suspend = next((d for d in reversed(other.history) if d.event == "suspend"), None)
    reason = SuspensionReason(suspend.payload["reason"]) if suspend is not None else None
    event = _pause_event(other, reason, contract)
    if event is not None and contract.state is ContractState.ACTIVE:
        h.cascade("contract", contract, event, at)


def account_closed_for_good(change: Change, h: Handling) -> None:
    """Rulebook §5.1 A11, ADR 0038: the platform ends the running contracts (ACC-GEN-8),
    except one whose milestone is in dispute: that process runs to its normal conclusion
    (A11; MS-DSP-1, ADR 0074)."""
    acc = h.uow.get("account", change.key)
    for contract in running_contracts(h.uow, acc):
        if any(ms.state is MilestoneState.DISPUTED for ms in contract.milestones):
            continue
        h.cascade("contract", contract, "end_contract", change.decision.at)


def account_settled(change: Change, h: Handling) -> None:
    """AG-7, AG-8: a closed agency unlinks its owner; their JSS is recomputed, state kept."""
    agency = h.uow.get("account", change.key)
    if agency.type is not AccountType.AGENCY:
        return
    for acc in h.uow.related("account", agency.owner):
        if (
            acc.owner == agency.owner
            and acc.type.freelancer_side
            and acc.state is not AccountState.CLOSED
        ):
            h.cascade("account", acc, "unlink_agency", change.decision.at)


def membership_changed(change: Change, h: Handling) -> None:
    """ACC-CLOSE-TM-1: a team-only person left without any team is deactivated."""
    person = h.uow.get("membership", change.key).person
    acc = h.uow.find("account", person)
    if acc is None or not acc.type.team_only or acc.state is not AccountState.ACTIVE:
        return
    if team_count(h.uow, person) == 0:
        h.cascade("account", acc, "teams_left", change.decision.at)


def contract_for_offer(p: Proposal, terms: Terms, key: str, at: datetime) -> Contract:
    """The contract an accepted offer on *p* starts, on *terms*."""
    if terms.hourly and terms.rate is not None:
        return Contract.hourly(
            key,
            client=p.company,
            freelancer=p.freelancer,
            rate=terms.rate,
            started_at=at,
            agency=p.agency,
            member=p.author,
        )
    contract = Contract.fixed(key, client=p.company, freelancer=p.freelancer, started_at=at)
    contract.agency = p.agency
    contract.member = p.author
    return contract


def offer_accepted(change: Change, h: Handling) -> None:
    """An accepted offer starts a contract; the member who sent the offer is its contact."""
    uow = h.uow
    p = uow.get("proposal", change.key)
    terms = uow.record("terms", p.id) or Terms()
    key = uow.new_key("contract", "C-")
    contract = contract_for_offer(p, terms, key, change.decision.at)
    uow.add("contract", key, contract, change.decision.at)
    offer = next((d for d in p.history if d.event == "send_offer"), None)
    if offer is not None:  # TEAM-2
        uow.add_record("contact", key, offer.actor.id)


EVENT_HANDLERS: dict[tuple[str, str | None], tuple[Callable[[Change, Handling], None], ...]] = {
    ("account", "suspend"): (account_suspended,),
    ("account", "reinstate"): (account_reinstated,),
    ("account", "permanent_close"): (account_closed_for_good,),
    ("account", "settle"): (account_settled,),
    ("membership", None): (membership_changed,),
    ("proposal", "accept_offer"): (offer_accepted,),
    **cases.EVENT_HANDLERS,
    **connects.EVENT_HANDLERS,
}
"""(kind, event) -> handlers; (kind, None) reacts to every decision of that kind."""


_CLOSING = AccountState.CLOSING.value


def closing_accounts_settle(h: Handling) -> None:
    """Each closing account named by what the command changed settles if nothing blocks it.

    Settling is itself an event (an agency's unlinks its owner), so this repeats until
    no account settles.
    """
    while h.touched:
        settled = False
        # candidates read closing from the store; one of them may have moved on since
        for acc in h.uow.related("account", *h.touched, state=_CLOSING):
            if acc.state is not AccountState.CLOSING:
                continue
            h.uow.changing("account", acc.id)
            before = len(acc.history)
            if h.flows.accounts.settle(acc, h.now) is not None:
                for d in acc.history[before:]:
                    h.accepted("account", acc, d)
                h.drain()
                settled = True
        if not settled:
            return
