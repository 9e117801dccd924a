"""Who acts for which side of a contract: the permission check the contract's satellites share.

The machines built around a contract (disputes, refund requests, dormancy, mid-contract
feedback, circumvention cases) all ask the same question of an actor: does a client member
act for this contract's client company, and does a freelancer-side actor act for the
freelancer, or for the agency that holds the contract (TEAM-5, TEAM-8)? The platform and
support act for no side and may act on any of them, as each table's roles allow.
"""

from __future__ import annotations

from statemachines.core.actors import CLIENT_DECIDERS, FREELANCER_SIDE, Actor, Role

__all__ = ["side_problem"]


def side_problem(  # noqa: PLR0911  (one return per way an actor can be on the wrong side)
    actor: Actor, *, client: str, freelancer: str, agency: bool, what: str
) -> str | None:
    """Why *actor* may not act on *what* (a contract of *client* and *freelancer*), or ``None``.

    A client member must act for *client*. A freelancer must be *freelancer* itself, on a
    contract no agency holds; an agency's owner, business manager or member must act for
    the agency *freelancer* names, on an agency's contract. Other roles are for the table
    to allow or not.

    >>> side_problem(Actor("oz", Role.CLIENT_OWNER, party="co-2"), client="co-1",
    ...              freelancer="fl-1", agency=False, what="contract C-1")
    "contract C-1 belongs to client 'co-1', not 'co-2'"
    """
    role = actor.role
    if role in CLIENT_DECIDERS or role in (Role.SOURCING_MEMBER, Role.TEAM_MEMBER):
        if actor.party != client:
            return f"{what} belongs to client {client!r}, not {actor.party!r}"
        return None
    if role is Role.FREELANCER:
        if agency:
            return f"an agency ({freelancer!r}) holds {what}; its people act for it"
        if actor.id != freelancer:
            return f"{what} is held by {freelancer!r}, not by {actor.id!r}"
        return None
    if role in FREELANCER_SIDE and (not agency or actor.party != freelancer):
        return f"{what} is held by {freelancer!r}, not by agency {actor.party!r}"
    return None
