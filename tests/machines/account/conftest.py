"""Fixtures for the account tests: accounts of every type, their holders, and their obligations."""

from __future__ import annotations

from datetime import datetime

import pytest

from statemachines import Actor, ManualClock, Role
from statemachines.machines.account.table import Account, AccountLifecycle, AccountType, Obligations

FL = Actor("fl-1", Role.FREELANCER, party="fl-1")
OTHER_FL = Actor("fl-2", Role.FREELANCER, party="fl-2")
ANA = Actor("ana", Role.CLIENT_OWNER, party="co-1")
ADA = Actor("ada", Role.CLIENT_ADMIN, party="co-1")
HAL = Actor("hal", Role.HIRING_MANAGER, party="co-1")
SAM = Actor("sam", Role.SOURCING_MEMBER, party="co-1")
TOM = Actor("tom", Role.TEAM_MEMBER, party="co-1")
OZ = Actor("oz", Role.CLIENT_OWNER, party="co-2")
PAT_FL = Actor("pat", Role.FREELANCER, party="pat")
PAT_CO = Actor("pat", Role.CLIENT_OWNER, party="co-9")
AO = Actor("ao", Role.AGENCY_OWNER, party="ag-1")
BM = Actor("bm", Role.BUSINESS_MANAGER, party="ag-1")
AM = Actor("am", Role.AGENCY_MEMBER, party="ag-1")
EVE = Actor("eve", Role.CLIENT_OWNER, party="ent-1")
EVA = Actor("eva", Role.CLIENT_ADMIN, party="ent-1")
ENT = Actor("acct", Role.ACCOUNT_TEAM, party="ent-1")
SUP = Actor("sup", Role.SUPPORT)
ADA_SELF = Actor("ada", Role.CLIENT_ADMIN, party="co-1")
TOM_SELF = Actor("tom", Role.TEAM_MEMBER, party="co-1")


def freelancer() -> Account:
    """An individual freelancer's account."""
    return Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1")


def company() -> Account:
    """A client company held by its owner, ana."""
    return Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1")


def combined() -> Account:
    """Pat's account, with a freelancer profile and client company co-9."""
    return Account(id="pat", type=AccountType.COMBINED, owner="pat", company="co-9")


def agency() -> Account:
    """Agency ag-1, owned by ao."""
    return Account(id="ag-1", type=AccountType.AGENCY, owner="ao", company="ag-1")


def team_admin() -> Account:
    """Ada, an admin of co-1 with no other role."""
    return Account(id="ada", type=AccountType.TEAM_ADMIN, owner="ada")


def team_member() -> Account:
    """Tom, a colleague on co-1 without admin rights."""
    return Account(id="tom", type=AccountType.TEAM_MEMBER, owner="tom")


def enterprise() -> Account:
    """Enterprise company ent-1, owned by eve."""
    return Account(id="ent-1", type=AccountType.ENTERPRISE, owner="eve", company="ent-1")


MAKERS = {
    AccountType.FREELANCER: (freelancer, FL),
    AccountType.CLIENT: (company, ANA),
    AccountType.COMBINED: (combined, PAT_FL),
    AccountType.AGENCY: (agency, AO),
    AccountType.TEAM_ADMIN: (team_admin, ADA_SELF),
    AccountType.TEAM_MEMBER: (team_member, TOM_SELF),
    AccountType.ENTERPRISE: (enterprise, EVE),
}
"""Each account type: how to make one, and its holder."""

CLOSERS = {
    AccountType.FREELANCER: FL,
    AccountType.CLIENT: ANA,
    AccountType.COMBINED: PAT_CO,
    AccountType.AGENCY: AO,
    AccountType.ENTERPRISE: ENT,
}
"""Who closes each account type that can be closed by request."""


class Facts:
    """The obligations the workflow reads; tests replace ``value`` as the world changes."""

    def __init__(self) -> None:
        self.value = Obligations()

    def __call__(self, account: Account, now: datetime) -> Obligations:
        return self.value


@pytest.fixture
def facts() -> Facts:
    """No obligations, until a test sets some."""
    return Facts()


@pytest.fixture
def life(clock: ManualClock, facts: Facts) -> AccountLifecycle:
    """The account workflow on the test clock, reading *facts*."""
    return AccountLifecycle(clock=clock, obligations=facts)
