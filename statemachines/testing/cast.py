"""The cast and the world of the testing kit: named actors of every role, and a marketplace.

The actors are plain :class:`~statemachines.core.actors.Actor` values with memorable names:
``ANA`` owns client company ``co-1``, ``FL`` is freelancer ``fl-1``, ``AO`` owns agency
``ag-1``, ``SUP`` is support. :func:`standard_marketplace` builds the world they act in
(accounts of every type, a team on each company, job posts, proposals, an hourly, a
fixed-price and an agency contract), the world :class:`~statemachines.testing.MarketplaceMachine`
starts from. :func:`parties_of` and :func:`wrong_parties_of` list, for any marketplace, the
people who may act on it and people who should be turned away.

>>> from statemachines import ManualClock
>>> market = standard_marketplace(ManualClock(START))
>>> [c.id for c in market.all("contract")]
['C-h', 'C-f', 'C-a']
>>> FL in parties_of(market), FL in wrong_parties_of(market)
(True, False)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from statemachines.core.actors import Actor, Role
from statemachines.core.clock import UTC, Clock
from statemachines.core.money import Money
from statemachines.machines.account.table import Account, AccountType
from statemachines.machines.contract.table import Contract
from statemachines.marketplace.market import Marketplace, Store, Terms

__all__ = [
    "ACTOR_GROUPS",
    "ADA",
    "AM",
    "AM_FL",
    "ANA",
    "AO",
    "AO_FL",
    "BM",
    "CAST",
    "ENT",
    "EVA",
    "EVE",
    "FL",
    "HAL",
    "OTHER_FL",
    "OZ",
    "PAT_CO",
    "PAT_FL",
    "PAT_HM",
    "SAM",
    "START",
    "SUP",
    "TOM",
    "parties_of",
    "related",
    "standard_marketplace",
    "wrong_parties_of",
]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
"""A Monday morning, 09:00 UTC: the kit's clocks start here."""

FL = Actor("fl-1", Role.FREELANCER, party="fl-1")
"""Freelancer ``fl-1``, on their own account."""
OTHER_FL = Actor("fl-2", Role.FREELANCER, party="fl-2")
"""A freelancer with no account in the standard world: a stranger to everything in it."""
ANA = Actor("ana", Role.CLIENT_OWNER, party="co-1")
"""Ana, the owner of client company ``co-1``."""
ADA = Actor("ada", Role.CLIENT_ADMIN, party="co-1")
"""Ada, an admin of ``co-1``."""
HAL = Actor("hal", Role.HIRING_MANAGER, party="co-1")
"""Hal, a hiring manager of ``co-1``."""
SAM = Actor("sam", Role.SOURCING_MEMBER, party="co-1")
"""Sam, a "source talent only" member of ``co-1`` (may not hire, end or pay)."""
TOM = Actor("tom", Role.TEAM_MEMBER, party="co-1")
"""Tom, a colleague on ``co-1`` without admin rights."""
OZ = Actor("oz", Role.CLIENT_OWNER, party="co-2")
"""Oz, the owner of another company: a client who is a party to nothing in the world."""
PAT_FL = Actor("pat", Role.FREELANCER, party="pat")
"""Pat, whose combined account is also a freelancer profile, acting as a freelancer."""
PAT_CO = Actor("pat", Role.CLIENT_OWNER, party="co-9")
"""Pat acting as the owner of their client company ``co-9``."""
PAT_HM = Actor("hal", Role.HIRING_MANAGER, party="co-9")
"""Hal claiming to hire for ``co-9``, where he is no member: a wrong party."""
AO = Actor("ao", Role.AGENCY_OWNER, party="ag-1")
"""Ao, the owner of agency ``ag-1``."""
AO_FL = Actor("ao", Role.FREELANCER, party="ao")
"""Ao on their own freelancer account ``ao``."""
BM = Actor("bm", Role.BUSINESS_MANAGER, party="ag-1")
"""Bm, the business manager of ``ag-1``."""
AM = Actor("am", Role.AGENCY_MEMBER, party="ag-1")
"""Am, a member of ``ag-1`` who does the agency's work."""
AM_FL = Actor("am", Role.FREELANCER, party="am")
"""Am on their own freelancer account ``am``."""
EVE = Actor("eve", Role.CLIENT_OWNER, party="ent-1")
"""Eve, the owner of Enterprise company ``ent-1``."""
EVA = Actor("eva", Role.CLIENT_ADMIN, party="ent-1")
"""Eva, an admin of ``ent-1``."""
ENT = Actor("acct", Role.ACCOUNT_TEAM, party="ent-1")
"""The platform's account team for ``ent-1`` (it closes Enterprise accounts)."""
SUP = Actor("sup", Role.SUPPORT)
"""Support."""

ACTOR_GROUPS: dict[str, tuple[Actor, ...]] = {
    "client": (ANA, ADA, HAL, SAM, TOM, PAT_CO, PAT_HM, EVE, EVA),
    "freelancer": (FL, PAT_FL, AO_FL, AM_FL),
    "agency": (AO, BM, AM),
    "staff": (SUP, ENT),
    "stranger": (OTHER_FL, OZ),
}
"""Every person of the standard world, by group (the platform acts through time)."""

CAST: tuple[Actor, ...] = tuple(a for group in ACTOR_GROUPS.values() for a in group)
"""Every actor of :data:`ACTOR_GROUPS`."""


def standard_marketplace(clock: Clock, *, store: Store | None = None) -> Marketplace:
    """The kit's world on *clock* (and *store*, default in memory).

    Accounts: client ``co-1`` (owner ``ana``; ``ada``, ``hal``, ``sam`` and ``tom``
    invited), freelancer ``fl-1``, combined ``pat`` (company ``co-9``), agency ``ag-1``
    (owner ``ao``, whose freelancer account is ``ao``; ``am`` and ``bm`` invited),
    freelancer ``am`` linked to the agency, Enterprise ``ent-1`` (owner ``eve``, ``eva``
    invited). Draft jobs ``J-1`` (of ``co-1``), ``J-2`` (``co-9``), ``J-3`` (``ent-1``)
    with draft proposals ``P-1`` (``fl-1``, hourly terms), ``P-2`` (agency ``ag-1``,
    written by ``am``), ``P-3`` (``fl-1`` on ``J-2``), ``P-4`` (``ao`` on ``J-3``).
    Contracts: ``C-h`` hourly between ``co-1`` and ``fl-1`` (contact ``hal``), ``C-f``
    fixed-price between ``co-9`` and ``fl-1``, ``C-a`` hourly between ``ent-1`` and the
    agency, worked by ``am``.
    """
    m = Marketplace(clock=clock, store=store)
    now = clock.now()
    for acc in (
        Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"),
        Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"),
        Account(id="pat", type=AccountType.COMBINED, owner="pat", company="co-9"),
        Account(id="ao", type=AccountType.FREELANCER, owner="ao", agency="ag-1"),
        Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1"),
        Account(id="am", type=AccountType.FREELANCER, owner="am", agency="ag-1"),
        Account(id="ent-1", type=AccountType.ENTERPRISE, owner="eve", company="ent-1"),
    ):
        m.open_account(acc)
    m.invite("co-1", "ada", Role.CLIENT_ADMIN, ANA)
    m.invite("co-1", "hal", Role.HIRING_MANAGER, ANA)
    m.invite("co-1", "sam", Role.SOURCING_MEMBER, ANA)
    m.invite("co-1", "tom", Role.TEAM_MEMBER, ANA)
    m.invite("ag-1", "am", Role.AGENCY_MEMBER, AO)
    m.invite("ag-1", "bm", Role.BUSINESS_MANAGER, AO)
    m.invite("ent-1", "eva", Role.CLIENT_ADMIN, EVE)
    m.draft_job("J-1", "co-1")
    m.draft_job("J-2", "co-9")
    m.draft_job("J-3", "ent-1")
    m.draft_proposal("P-1", "J-1", "fl-1", terms=Terms(hourly=True, rate=Money(3_000)))
    m.draft_proposal("P-2", "J-1", "ag-1", agency=True, author="am")
    m.draft_proposal("P-3", "J-2", "fl-1")
    m.draft_proposal("P-4", "J-3", "ao")
    m.add_contract(
        Contract.hourly("C-h", client="co-1", freelancer="fl-1", rate=Money(5_000), started_at=now),
        contact="hal",
    )
    m.add_contract(Contract.fixed("C-f", client="co-9", freelancer="fl-1", started_at=now))
    m.add_contract(
        Contract.hourly(
            "C-a",
            client="ent-1",
            freelancer="ag-1",
            rate=Money(4_000),
            started_at=now,
            agency=True,
            member="am",
        ),
    )
    return m


_PARTY_FIELDS = ("id", "owner", "company", "team", "person", "freelancer", "client", "author")


def related(agg: Any, actors: Iterable[Actor] = CAST) -> list[Actor]:
    """The actors of *actors* who take part in *agg* (its holder, owner, team, parties, the
    person who does an agency's work), and support."""
    names = {getattr(agg, field, None) for field in (*_PARTY_FIELDS, "member")} - {None}
    return [a for a in actors if a.id in names or a.party in names] + [SUP]


_HOLDERS = {
    AccountType.FREELANCER: Role.FREELANCER,
    AccountType.COMBINED: Role.FREELANCER,
    AccountType.CLIENT: Role.CLIENT_OWNER,
    AccountType.ENTERPRISE: Role.CLIENT_OWNER,
    AccountType.AGENCY: Role.AGENCY_OWNER,
}


def parties_of(market: Marketplace) -> tuple[Actor, ...]:
    """Everyone who acts in *market* in a role they hold: each account's holder (a combined
    account's holder both as freelancer and as company owner), each team member in their
    team role, and support."""
    found: dict[Actor, None] = {}
    for acc in market.all("account"):
        role = _HOLDERS.get(acc.type)
        if role is Role.FREELANCER:
            found[Actor(acc.owner, role, party=acc.id)] = None
        if acc.company is not None and acc.type is not AccountType.FREELANCER:
            owner = Role.AGENCY_OWNER if acc.type is AccountType.AGENCY else Role.CLIENT_OWNER
            found[Actor(acc.owner, owner, party=acc.company)] = None
    for m in market.all("membership"):
        found[Actor(m.person, m.role, party=m.team)] = None
    found[SUP] = None
    return tuple(found)


_CLIENT_TEAM = frozenset(
    {
        Role.CLIENT_OWNER,
        Role.CLIENT_ADMIN,
        Role.HIRING_MANAGER,
        Role.SOURCING_MEMBER,
        Role.TEAM_MEMBER,
    }
)
_AGENCY_TEAM = frozenset({Role.AGENCY_OWNER, Role.BUSINESS_MANAGER, Role.AGENCY_MEMBER})


def wrong_parties_of(market: Marketplace) -> tuple[Actor, ...]:
    """People who must be turned away: each member of a team claiming their role on another
    team of the same kind, where they are not (Hal hiring for Pat's company ``co-9``), and a
    stranger in every role (a person with no account, for a team that does not exist)."""
    right = parties_of(market)
    wrong: dict[Actor, None] = {}
    for roles in (_CLIENT_TEAM, _AGENCY_TEAM):
        members = [a for a in right if a.role in roles]
        teams = sorted({a.party for a in members if a.party is not None})
        for actor in members:
            for team in teams:
                impostor = Actor(actor.id, actor.role, party=team)
                if impostor not in right:
                    wrong[impostor] = None
    for role in Role:
        if role not in {Role.SYSTEM, Role.SUPPORT}:
            wrong[Actor("stranger", role, party="nowhere")] = None
    return tuple(wrong)
