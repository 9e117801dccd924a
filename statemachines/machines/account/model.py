"""The account aggregate and the facts its guards read: types, states, obligations.

Split from :mod:`statemachines.machines.account.table` (which holds the table) so that the
guards in :mod:`statemachines.machines.account.checks` can import the model without a cycle.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from statemachines.core.actors import Role
from statemachines.core.engine import Deadline, Decision
from statemachines.core.fields import check_fields
from statemachines.core.money import Money
from statemachines.rules.account import reactivation_deadline

__all__ = [
    "BILLING",
    "ENDING",
    "HOLDER_ROLES",
    "LIVE",
    "NONE",
    "WINDOW",
    "Account",
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
        return self in _FREELANCER_SIDE

    @property
    def client_side(self) -> bool:
        """True when the client-company closing rules apply (CL-2..8, ENT-2)."""
        return self in _CLIENT_SIDE

    @property
    def team_only(self) -> bool:
        """True for admins, managers and colleagues with no role of their own."""
        return self in _TEAM_ONLY

    @property
    def organisation(self) -> bool:
        """True for agencies and Enterprise companies, which close for good (AG-10, C-26)."""
        return self in _ORGANISATION


# Tuples, not sets: a member is found by identity, without hashing it (``Enum.__hash__`` is
# Python code, and these properties are read by every account guard and fact).
_FREELANCER_SIDE = (AccountType.FREELANCER, AccountType.COMBINED)
_CLIENT_SIDE = (AccountType.CLIENT, AccountType.COMBINED, AccountType.ENTERPRISE)
_TEAM_ONLY = (AccountType.TEAM_ADMIN, AccountType.TEAM_MEMBER)
_ORGANISATION = (AccountType.AGENCY, AccountType.ENTERPRISE)

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
    ARBITRATION = "arbitration"
    """An arbitration award not complied with: the accounting entity is suspended, which
    blocks its payments and withdrawals (SUSP-2, FPD-8; rulebook helper, issue 17)."""


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

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    @property
    def restorable_until(self) -> datetime | None:
        """The end of the 5-year reactivation window, while deactivated."""
        if self.state is not AccountState.DEACTIVATED or self.closed_at is None:
            return None
        return reactivation_deadline(self.closed_at)
