"""Team membership: invited -> member -> left or removed (rulebook §3.8, §5.1.2).

A membership ties one person to one team: a client company (or one of its
teams) or an agency. The owner's own membership is created as ``member`` and can
never end (TEAM-OWNER-D, INV-TEAM-2). Removing a member or leaving is a checked
transition, which is how a company or agency clears the "other members" that
block its closure (ACC-CLOSE-CL-2, ACC-CLOSE-AG-2).

>>> from datetime import datetime
>>> from statemachines import Actor, ManualClock, Role, UTC
>>> clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
>>> owner = Actor("ana", Role.CLIENT_OWNER, party="co-1")
>>> m = invite("co-1", "bo", Role.HIRING_MANAGER, by=owner)
>>> work = MembershipFacts(contact_on=("C-1",))
>>> teams = TeamMembership(clock=clock, facts=lambda m, now: work)
>>> _ = teams.fire(m, "accept", Actor("bo", Role.HIRING_MANAGER, party="co-1"))
>>> print(teams.explain(m, "remove", owner).error.violations[0])
[TEAM-2] bo is the contact person on 1 active contract: C-1; make someone else the contact
person or end it first
"""

from __future__ import annotations

import enum
from typing import Any

import attrs

from statemachines.core.actors import Actor, Role
from statemachines.core.engine import (
    Context,
    Deadline,
    Decision,
    Edge,
    Effect,
    Guard,
    MachineSpec,
    Param,
    Reason,
    fail,
)
from statemachines.core.fields import check_fields
from statemachines.errors import NotPermitted, TransitionRefused, Violation
from statemachines.machines.facts import FactsWorkflow

__all__ = [
    "AGENCY_ROLES",
    "CLIENT_ROLES",
    "MEMBERSHIP",
    "Membership",
    "MembershipFacts",
    "MembershipState",
    "TeamMembership",
    "invite",
    "owner_membership",
]


class MembershipState(enum.Enum):
    """Where a person's place on a team stands; the values are the persisted form."""

    INVITED = "invited"
    MEMBER = "member"
    LEFT = "left"
    REMOVED = "removed"
    DECLINED = "declined"


T = MembershipState
OWNERS = frozenset({Role.CLIENT_OWNER, Role.AGENCY_OWNER})
TEAM_ADMINS = frozenset(
    {Role.CLIENT_OWNER, Role.CLIENT_ADMIN, Role.AGENCY_OWNER, Role.BUSINESS_MANAGER}
)
"""Who may invite and remove members (TEAM-1; 5.1.2 adds the agency business manager)."""
CLIENT_ROLES = frozenset(
    {
        Role.CLIENT_OWNER,
        Role.CLIENT_ADMIN,
        Role.HIRING_MANAGER,
        Role.SOURCING_MEMBER,
        Role.TEAM_MEMBER,
    }
)
AGENCY_ROLES = frozenset({Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.AGENCY_MEMBER})


@attrs.frozen
class MembershipFacts:
    """What a membership's guards need to know about the member's work."""

    contact_on: tuple[str, ...] = ()
    """Active or paused contracts on which the member is the client's contact person."""
    agency_work: tuple[str, ...] = ()
    """The member's agency contracts not yet ended and proposals not yet closed."""
    last_team_of_colleague: bool = False
    """The member holds only a colleague's account (a team member without admin rights) and
    this is their last team: leaving it would close that account (ACC-CLOSE-TM-2)."""


NO_FACTS = MembershipFacts()


@attrs.define(eq=True)
class Membership:
    """One person's place on one team."""

    id: str
    team: str
    """The company, company team or agency."""
    person: str
    role: Role
    """The role the person holds on this team."""
    agency: bool = False
    state: MembershipState = MembershipState.INVITED
    whole_company: bool = False
    """Removed from the whole company rather than one team (TEAM-3)."""
    keeps_history: bool = True
    """A member who leaves keeps their profile and work history (TEAM-7)."""
    deadlines: tuple[Deadline, ...] = ()
    history: list[Decision] = attrs.field(factory=list, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        check_fields(self)

    @property
    def is_owner(self) -> bool:
        """True for the owner's own membership."""
        return self.role in OWNERS


def invite(
    team: str,
    person: str,
    role: Role,
    *,
    by: Actor,
    agency: bool = False,
    agency_plus: bool = True,
) -> Membership:
    """Create an invitation, or raise: only owners and admins invite (TEAM-1), and an agency
    needs the Agency Plus plan to add members (TEAM-6)."""
    problem = None
    if by.role not in TEAM_ADMINS or by.party != team:
        problem = Violation("TEAM-1", f"only the owner or an admin of {team} invites its members")
    elif role not in (AGENCY_ROLES if agency else CLIENT_ROLES) - OWNERS:
        where = "agency" if agency else "company"
        problem = Violation("TEAM-1", f"a {role.label} cannot be invited to {where} {team}")
    if problem is not None:
        msg = f"{by} may not invite {person!r} to {team!r}: {problem}"
        raise NotPermitted(
            msg,
            machine="membership",
            state="none",
            event="invite",
            actor=by.id,
            allowed_roles=sorted(r.value for r in TEAM_ADMINS),
            violations=(problem,),
        )
    if agency and not agency_plus:
        violation = Violation(
            "TEAM-6", f"agency {team} is not on the Agency Plus plan, which adding members needs"
        )
        msg = f"membership cannot 'invite': {violation}"
        raise TransitionRefused(
            msg,
            machine="membership",
            state="none",
            event="invite",
            violations=[violation],
        )
    return Membership(id=f"{team}/{person}", team=team, person=person, role=role, agency=agency)


def owner_membership(team: str, person: str, *, agency: bool = False) -> Membership:
    """The owner's membership of their own company or agency (never ends, INV-TEAM-2)."""
    role = Role.AGENCY_OWNER if agency else Role.CLIENT_OWNER
    return Membership(
        id=f"{team}/{person}", team=team, person=person, role=role, agency=agency, state=T.MEMBER
    )


# --------------------------------------------------------------------------- guards


def _facts(ctx: Context) -> MembershipFacts:
    return ctx.facts if isinstance(ctx.facts, MembershipFacts) else NO_FACTS


def _not_owner(m: Membership, ctx: Context) -> Reason | None:
    if m.is_owner:
        return fail(f"{m.person} owns {m.team} and always stays a member of it")
    return None


def _not_contact_person(m: Membership, ctx: Context) -> Reason | None:
    contracts = _facts(ctx).contact_on
    if m.agency or not contracts:
        return None
    n = len(contracts)
    return fail(
        f"{m.person} is the contact person on {n} active contract{'s' if n != 1 else ''}: "
        f"{', '.join(contracts)}; make someone else the contact person or end "
        f"{'it' if n == 1 else 'them'} first",
        contracts=contracts,
    )


def _not_closing_a_colleague(m: Membership, ctx: Context) -> Reason | None:
    if not _facts(ctx).last_team_of_colleague:
        return None
    return fail(
        f"{m.person} has no admin rights and {m.team} is their last team, so leaving it "
        f"would close their account; only the owner or an admin of {m.team} can do that, "
        "by removing them"
    )


def _no_agency_work(m: Membership, ctx: Context) -> Reason | None:
    work = _facts(ctx).agency_work
    if not m.agency or not work:
        return None
    n = len(work)
    return fail(
        f"{m.person} still has {n} open agency contract{'s' if n != 1 else ''} or "
        f"proposal{'s' if n != 1 else ''}: {', '.join(work)}; close "
        f"{'it' if n == 1 else 'them'} first",
        work=work,
    )


# --------------------------------------------------------------------------- effects


def _note_scope(m: Membership, ctx: Context) -> None:
    m.whole_company = bool(ctx.payload["whole_company"])


def _keep_history(m: Membership, ctx: Context) -> None:
    m.keeps_history = True


def _authorize(m: Membership, actor: Actor, edge: Edge[Any] | None) -> str | Violation | None:
    event = edge.event if edge is not None else ""
    if actor.role is Role.SYSTEM or actor.role is Role.SUPPORT:
        return None
    if event == "remove":
        if actor.role in TEAM_ADMINS and actor.party == m.team:
            return None
        return Violation("TEAM-1", f"only the owner or an admin of {m.team} removes its members")
    if actor.id != m.person:
        what = "leave" if event == "leave" else "answer"
        return f"only {m.person} can {what} their own place on {m.team}"
    return None


PEOPLE = frozenset(Role) - {Role.SYSTEM, Role.ACCOUNT_TEAM}

MEMBERSHIP: MachineSpec[MembershipState, Membership] = MachineSpec(
    name="membership",
    description="A person's membership of a client company team or an agency.",
    states=MembershipState,
    initial=T.INVITED,
    terminal=(T.LEFT, T.REMOVED, T.DECLINED),
    model=Membership,
    authorize=_authorize,
    edges=(
        Edge(
            "accept",
            (T.INVITED,),
            T.MEMBER,
            PEOPLE,
            ("TEAM-1",),
            summary="The invitee joins the team.",
        ),
        Edge(
            "decline",
            (T.INVITED,),
            T.DECLINED,
            PEOPLE,
            ("TEAM-1",),
            summary="The invitee says no.",
        ),
        Edge(
            "remove",
            (T.INVITED, T.MEMBER),
            T.REMOVED,
            PEOPLE,
            ("TEAM-1",),
            guards=(
                Guard("TEAM-OWNER-D", _not_owner),
                Guard("TEAM-2", _not_contact_person),
                Guard("TEAM-6", _no_agency_work),
            ),
            effects=(Effect("TEAM-3", _note_scope),),
            params=(Param("whole_company", (bool,), False, "remove from the whole company"),),
            summary="An owner or admin removes the member from a team or the whole company.",
        ),
        Edge(
            "leave",
            (T.MEMBER,),
            T.LEFT,
            PEOPLE,
            ("TEAM-4",),
            guards=(
                Guard("TEAM-OWNER-D", _not_owner),
                Guard("TEAM-CONTACT-D", _not_contact_person),
                Guard("TEAM-7", _no_agency_work),
                Guard("ACC-CLOSE-TM-2", _not_closing_a_colleague),
            ),
            effects=(Effect("TEAM-7", _keep_history),),
            summary="The member leaves (Settings > My Teams > Leave Team).",
        ),
    ),
)


class TeamMembership(FactsWorkflow[MembershipState, Membership]):
    """Fires membership events; its guards read :class:`MembershipFacts`."""

    spec = MEMBERSHIP
