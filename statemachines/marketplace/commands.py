"""Commands: what someone asks the marketplace to do, one small frozen value per intent.

A command is handled in one unit of work (:mod:`statemachines.marketplace.messagebus`):
everything it causes is committed together, or nothing is. A command that carries
a ``command_id`` is handled once; sending it again returns the stored outcome
(a refusal included) without running it again.

>>> from statemachines import Actor, Role
>>> ana = Actor("ana", Role.CLIENT_OWNER, party="co-1")
>>> Fire("job", "J-4", "post", ana, command_id="req-7")
Fire(kind='job', key='J-4', event='post', actor=Actor(...), payload={}, command_id='req-7', \
expected_revision=None)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import Actor, Role
from statemachines.core.money import Money
from statemachines.machines.account.table import Account
from statemachines.machines.contract.table import Contract
from statemachines.machines.job import Job
from statemachines.marketplace.model import Terms

__all__ = [
    "AddContract",
    "Command",
    "DisputeEscrowRefund",
    "DraftJob",
    "DraftProposal",
    "Fire",
    "FireDeadline",
    "Invite",
    "OpenAccount",
    "OpenCase",
    "OpenWallet",
    "RecordPastDue",
    "RequestAssistance",
]


@attrs.frozen(kw_only=True)
class Command:
    """Every command may carry an id that makes it idempotent."""

    command_id: str | None = None


@attrs.frozen
class Fire(Command):
    """Fire *event* on aggregate *key* of *kind* for *actor*, with the event's arguments.

    With *expected_revision*, the command is refused with a
    :class:`~statemachines.marketplace.errors.ConcurrentModification` unless the
    aggregate is still at that revision (what a client read before deciding).
    """

    kind: str
    key: str
    event: str
    actor: Actor
    payload: Mapping[str, Any] = attrs.field(factory=dict)
    command_id: str | None = attrs.field(default=None, kw_only=True)
    expected_revision: int | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class FireDeadline(Command):
    """Fire the next deadline of *kind* *key* if it is due by *limit* (the platform acts)."""

    kind: str
    key: str
    limit: datetime


@attrs.frozen
class OpenAccount(Command):
    """Add an account; a company or agency gets its owner's membership (INV-TEAM-2)."""

    account: Account


@attrs.frozen
class Invite(Command):
    """Invite *person* to *team* (TEAM-1, TEAM-6); a newcomer gets a team-only account."""

    team: str
    person: str
    role: Role
    by: Actor
    agency_plus: bool = True


@attrs.frozen
class DraftJob(Command):
    """Add a draft job post; posting it is the checked step."""

    job: Job


@attrs.frozen
class DraftProposal(Command):
    """A draft proposal on *job*; submitting it is the checked step."""

    key: str
    job: str
    freelancer: str
    agency: bool = False
    author: str | None = None
    terms: Terms = attrs.field(factory=Terms)


@attrs.frozen
class AddContract(Command):
    """Add a contract started elsewhere; *contact* is the client's contact person."""

    contract: Contract
    contact: str | None = None


@attrs.frozen
class RecordPastDue(Command):
    """The platform could not charge *account*: *amount* is owed (CL-6, ACC-GEN-1)."""

    account: str
    amount: Money


@attrs.frozen
class OpenCase(Command):
    """Open a draft *kind* of case around *contract*, from the contract's facts.

    ``refund_request`` needs *payment*, ``hourly_dispute`` the Monday of an invoiced
    *week*, ``fixed_dispute`` a *milestone* not released (case b, filed through support);
    ``dormancy`` starts a watch on a fixed-price contract. The case's own checked event
    (``request``, ``file``, ``activity``) comes next, as a :class:`Fire`.
    """

    kind: str
    contract: str
    key: str
    week: datetime | None = None
    payment: str | None = None
    milestone: str | None = None


@attrs.frozen
class DisputeEscrowRefund(Command):
    """The freelancer side disputes the escrow-refund request of *contract*: the contract's
    ``dispute_refund`` (ESC-4) and a fixed-price dispute *key* filed (FPD-1), or neither."""

    contract: str
    key: str
    actor: Actor


@attrs.frozen
class OpenWallet(Command):
    """Open the Connects wallet of *owner*, a freelancer's account or an agency, empty; its
    ``add`` event fills it, and submitting a proposal spends from it (ADR 0077)."""

    owner: str


@attrs.frozen
class RequestAssistance(Command):
    """A side asks support for mediation assistance about *payment*, escrow released on
    fixed-price *contract*: case *key* is opened and requested in one unit of work, or
    neither (FPD-9, ADR 0078)."""

    contract: str
    payment: str
    key: str
    actor: Actor
    summary: str = ""
