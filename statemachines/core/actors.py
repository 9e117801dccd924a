"""Who acts: roles from the rulebook (§2.1) and the :class:`Actor` that fires an event.

An actor is a person or the platform acting *for a party*: a freelancer acts
for themselves, a hiring manager for a client company, a business manager for an
agency. The tables say which roles may fire an event; the machine then checks
that the actor acts for the right party of the aggregate.
"""

from __future__ import annotations

import enum

import attrs

__all__ = [
    "CLIENT_DECIDERS",
    "FREELANCER_SIDE",
    "SYSTEM",
    "Actor",
    "Role",
    "one_of",
    "who_tried",
]


class Role(enum.Enum):
    """A role from the rulebook's actor table (§2.1); the value is the persisted form."""

    FREELANCER = "freelancer"
    """FL: an individual freelancer acting on their own account."""
    AGENCY_OWNER = "agency_owner"
    """AO: the owner of an agency."""
    BUSINESS_MANAGER = "business_manager"
    """ABM: an agency business manager (admin inside the agency)."""
    AGENCY_MEMBER = "agency_member"
    """AMB: a freelancer on an agency's team."""
    CLIENT_OWNER = "client_owner"
    """CO: the owner of a client company."""
    CLIENT_ADMIN = "client_admin"
    """CA: a client team admin with full permissions."""
    HIRING_MANAGER = "hiring_manager"
    """HM: a client hiring manager with full hiring permission."""
    SOURCING_MEMBER = "sourcing_member"
    """HMS: a "source talent only" client member; may not hire, end or pay (TEAM-5)."""
    TEAM_MEMBER = "team_member"
    """TM: a colleague without admin rights."""
    SYSTEM = "system"
    """SYS: platform automation (deadlines, scheduled jobs)."""
    SUPPORT = "support"
    """SUP: support, trust and safety, mediation staff."""
    ACCOUNT_TEAM = "account_team"
    """ENT: an enterprise customer's account team."""

    @property
    def label(self) -> str:
        """The role as people say it: ``hiring manager``."""
        return self.value.replace("_", " ")

    # Roles are checked against sets on every event. Members are singletons compared
    # by identity, so the identity hash (in C) is as correct as Enum's hash of the
    # name (in Python) and much cheaper; set order was never stable across runs anyway.
    __hash__ = object.__hash__


FREELANCER_SIDE = frozenset(
    {Role.FREELANCER, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.AGENCY_MEMBER}
)
"""Roles that act for the freelancer side of a contract."""

CLIENT_DECIDERS = frozenset({Role.CLIENT_OWNER, Role.CLIENT_ADMIN, Role.HIRING_MANAGER})
"""Client roles that may hire, pay, approve and end (TEAM-5); source-talent-only may not."""


@attrs.frozen(slots=True)
class Actor:
    """A person or the platform firing an event.

    >>> Actor("u-7", Role.HIRING_MANAGER, party="co-1")
    Actor(id='u-7', role=<Role.HIRING_MANAGER: 'hiring_manager'>, party='co-1')
    >>> str(Actor("u-7", Role.HIRING_MANAGER, party="co-1"))
    "'u-7' (hiring manager for 'co-1')"
    """

    id: str = attrs.field(validator=attrs.validators.min_len(1))
    """Stable id of the person (or ``"system"``)."""

    role: Role = attrs.field(validator=attrs.validators.instance_of(Role))
    """The role they act in."""

    party: str | None = None
    """The account they act for: a company, an agency, or their own freelancer account."""

    def __str__(self) -> str:
        if self.party is None or self.party == self.id:
            return f"{self.id!r} ({self.role.label})"
        return f"{self.id!r} ({self.role.label} for {self.party!r})"

    def to_dict(self) -> dict[str, str | None]:
        """JSON-safe form."""
        return {"id": self.id, "role": self.role.value, "party": self.party}


SYSTEM = Actor("system", Role.SYSTEM)
"""The platform itself: fires deadlines and scheduled effects."""


_CLIENT_WORDS = (
    (Role.CLIENT_OWNER, "owner"),
    (Role.CLIENT_ADMIN, "admins"),
    (Role.HIRING_MANAGER, "hiring managers"),
    (Role.SOURCING_MEMBER, "source-talent members"),
    (Role.TEAM_MEMBER, "colleagues"),
)
_AGENCY_WORDS = (
    (Role.AGENCY_OWNER, "owner"),
    (Role.BUSINESS_MANAGER, "business managers"),
    (Role.AGENCY_MEMBER, "members"),
)


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def one_of(roles: frozenset[Role], *, agency: bool | None = None) -> str:
    """Who among *roles* may act, in words a support agent reads aloud.

    *agency* says who holds the aggregate: ``True`` an agency (the freelancer role is left
    out), ``False`` a freelancer (the agency's roles are left out), ``None`` either. The
    platform is named only when it alone may act.

    >>> one_of(CLIENT_DECIDERS | {Role.FREELANCER, Role.SYSTEM}, agency=False)
    "the client company's owner, admins or hiring managers, or the freelancer"
    >>> one_of(frozenset({Role.SYSTEM}))
    'the platform itself'
    """
    parts = []
    client = [word for role, word in _CLIENT_WORDS if role in roles]
    if client:
        parts.append(f"the client company's {_or(client)}")
    if Role.FREELANCER in roles and agency is not True:
        parts.append("the freelancer")
    agency_side = [word for role, word in _AGENCY_WORDS if role in roles]
    if agency_side and agency is not False:
        parts.append(f"the agency's {_or(agency_side)}")
    if Role.SUPPORT in roles:
        parts.append("support")
    if Role.ACCOUNT_TEAM in roles:
        parts.append("the Enterprise account team")
    if not parts:
        return "the platform itself" if Role.SYSTEM in roles else "nobody"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])}, or {parts[-1]}"


def who_tried(actor: Actor) -> str:
    """*actor*'s role as a person says it, with its article: ``a hiring manager``."""
    role = actor.role
    if role is Role.SYSTEM:
        return "the platform itself"
    if role is Role.SUPPORT:
        return "support"
    if role is Role.ACCOUNT_TEAM:
        return "the Enterprise account team"
    label = role.label
    return f"{'an' if label[0] in 'aeiou' else 'a'} {label}"
