"""Handlers for Connects: a wallet per freelancer or agency, spent by proposals, returned by
JOB-4 (ADR 0077).

* ``OpenWallet`` adds the empty wallet of a freelancer's account or of an agency; its own
  ``add`` event fills it.
* A proposal submitted with a price (its ``connects`` argument) spends that many from the
  wallet of its freelancer or agency, as the person who submitted it (TEAM-8): the
  proposal's guard has already checked that the balance holds them (CONNECTS-D), and the
  wallet checks again; both change in the same unit of work, or neither.
* A job post removed before any contract was made on it returns, once, what its
  proposals still standing (sent, or with an offer pending) spent: the client removing it
  cancels the project, support removing it takes it down for breaking the terms (JOB-4).
  Nothing is returned for a post that expires or is filled, nor for a proposal withdrawn
  or declined (PROP-3): no handler asks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from statemachines.core.actors import SYSTEM, Actor, Role
from statemachines.errors import InvalidInput
from statemachines.machines.account.model import AccountType
from statemachines.machines.connects import ConnectsState, ConnectsWallet, ReturnReason
from statemachines.machines.proposal import OPEN, Proposal, ProposalState
from statemachines.marketplace import commands as c
from statemachines.marketplace.events import Change
from statemachines.marketplace.reads import account_of

if TYPE_CHECKING:
    from statemachines.marketplace.handlers import Handling

__all__ = ["COMMAND_HANDLERS", "EVENT_HANDLERS"]


def _fire(h: Handling, kind: str, agg: Any, event: str, actor: Actor, **payload: Any) -> None:
    history = agg.history
    at = max(h.now, history[-1].at) if history else h.now  # time never runs backwards
    h.fire(kind, agg, event, actor, at=at, payload=payload)


def open_wallet(cmd: c.OpenWallet, h: Handling) -> None:
    """An empty wallet for a freelancer's account or an agency (TEAM-8: an agency's members
    share it)."""
    acc = account_of(h.uow, cmd.owner)
    agency = acc is not None and acc.type is AccountType.AGENCY
    if acc is None or not (agency or acc.type.freelancer_side):
        msg = (
            f"{cmd.owner} is not a freelancer's account or an agency, so it has no Connects "
            "(they pay for proposals)"
        )
        raise InvalidInput(msg)
    # keyed by the name its proposals give as their freelancer: the agency, or the account
    owner = acc.company if agency and acc.company is not None else acc.id
    wallet = ConnectsWallet(id=owner, owner=owner, agency=agency)
    h.uow.add("connects", owner, wallet, h.now)


COMMAND_HANDLERS: dict[type[c.Command], Callable[[Any, Handling], None]] = {
    c.OpenWallet: open_wallet,
}


def proposal_spends(change: Change, h: Handling) -> None:
    """CONNECTS-D, TEAM-8: a proposal sent spends its price from its side's wallet."""
    decision = change.decision
    price: int = decision.payload.get("connects", 0)
    if not price:
        return
    p: Proposal = h.uow.get("proposal", change.key)
    wallet: ConnectsWallet = h.uow.get("connects", p.freelancer)
    _fire(h, "connects", wallet, "spend", decision.actor, proposal=p.id, connects=price)


def post_removed_returns(change: Change, h: Handling) -> None:
    """JOB-4: a post removed before any contract was made on it gives back, once, what the
    proposals still standing on it spent; PROP-3: a proposal withdrawn or declined keeps
    nothing, and a post on which someone was hired returns nothing."""
    job = h.uow.get("job", change.key)
    proposals = [p for p in h.uow.related("proposal", job.company) if p.job == job.id]
    if any(p.state is ProposalState.ACCEPTED for p in proposals):
        return
    removed_by_support = change.decision.actor.role is Role.SUPPORT
    reason = ReturnReason.REMOVED_FOR_TERMS if removed_by_support else ReturnReason.CLIENT_CANCELLED
    for p in proposals:
        if p.state not in OPEN:
            continue
        wallet: ConnectsWallet | None = h.uow.find("connects", p.freelancer)
        if (
            wallet is not None
            and wallet.state is ConnectsState.OPEN
            and wallet.spent_on(p.id)
            and p.id not in wallet.returned
        ):
            _fire(h, "connects", wallet, "return_connects", SYSTEM, proposal=p.id, reason=reason)


EVENT_HANDLERS: dict[tuple[str, str | None], tuple[Callable[[Change, Handling], None], ...]] = {
    ("proposal", "submit"): (proposal_spends,),
    ("job", "remove_posting"): (post_removed_returns,),
}
"""(kind, event) -> handlers."""
