"""Every account type against every blocker: which rule refuses, and whether it is waited out.

The table below is the rulebook's §5.1.1 restated as data: for each blocker, the
rule that names it for each account type (absent: the blocker does not concern
that type). Hard blockers refuse ``request_close``; soft ones refuse ``settle``
but let the account wait in ``closing``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import SYSTEM, Money, NotPermitted, TransitionRefused
from statemachines.machines.account.table import (
    AccountLifecycle,
    AccountState,
    AccountType,
    ContractFact,
    Obligations,
    Side,
)
from tests.conftest import START
from tests.machines.account.conftest import CLOSERS, MAKERS, Facts

T = AccountType
FL, CL, CO, AG, EN = T.FREELANCER, T.CLIENT, T.COMBINED, T.AGENCY, T.ENTERPRISE
CLOSABLE = (FL, CL, CO, AG, EN)


def _contract(state: str, side: Side, **kw: object) -> Obligations:
    return Obligations(contracts=(ContractFact("C-1", state, side, **kw),))  # type: ignore[arg-type]


HARD: dict[str, tuple[Obligations, dict[AccountType, str]]] = {
    "active freelancer contract": (
        _contract("active", Side.FREELANCER),
        {FL: "ACC-CLOSE-FL-2", CO: "ACC-CLOSE-FL-2"},
    ),
    "paused client contract": (
        _contract("paused", Side.CLIENT),
        {CL: "ACC-CLOSE-CL-3", CO: "ACC-CLOSE-CL-3", EN: "ACC-CLOSE-CL-3"},
    ),
    "active agency contract": (_contract("active", Side.AGENCY), {AG: "ACC-CLOSE-AG-3"}),
    "open proposal": (
        Obligations(proposals=("P-1",)),
        {FL: "ACC-CLOSE-FL-3", CO: "ACC-CLOSE-FL-3", AG: "ACC-CLOSE-AG-4"},
    ),
    "pending offer": (
        Obligations(offers=("P-2",)),
        {FL: "ACC-CLOSE-FL-3", CO: "ACC-CLOSE-FL-3", AG: "ACC-CLOSE-AG-4"},
    ),
    "open job post": (
        Obligations(jobs=("J-1",)),
        {CL: "ACC-CLOSE-CL-5", CO: "ACC-CLOSE-CL-5", EN: "ACC-CLOSE-CL-5"},
    ),
    "other member": (
        Obligations(members=("hal",)),
        {CL: "ACC-CLOSE-CL-2", CO: "ACC-CLOSE-CL-2", EN: "ACC-CLOSE-CL-2", AG: "ACC-CLOSE-AG-2"},
    ),
    "money owed": (
        Obligations(owed=Money(100)),
        {
            FL: "ACC-GEN-1",
            AG: "ACC-GEN-1",
            CL: "ACC-CLOSE-CL-6",
            CO: "ACC-CLOSE-CL-6",
            EN: "ACC-CLOSE-CL-6",
        },
    ),
    "open agency": (
        Obligations(agencies=("ag-9",)),
        {FL: "ACC-CLOSE-FL-5", CO: "ACC-CLOSE-FL-5"},
    ),
}

SOFT: dict[str, tuple[Obligations, dict[AccountType, str]]] = {
    "freelancer contract ending": (
        _contract("ending", Side.FREELANCER),
        {FL: "ACC-CLOSE-FL-2", CO: "ACC-CLOSE-FL-2"},
    ),
    "client contract ending": (
        _contract("ending", Side.CLIENT),
        {CL: "ACC-CLOSE-CL-3", CO: "ACC-CLOSE-CL-3", EN: "ACC-CLOSE-CL-3"},
    ),
    "agency contract ending": (_contract("ending", Side.AGENCY), {AG: "ACC-CLOSE-AG-3"}),
    "pending money": (
        Obligations(pending=Money(100)),
        {FL: "ACC-CLOSE-FL-4", CO: "ACC-CLOSE-FL-4", AG: "ACC-CLOSE-AG-5"},
    ),
    "money to withdraw": (
        Obligations(available=Money(100)),
        {FL: "ACC-CLOSE-FL-4", CO: "ACC-CLOSE-FL-4", AG: "ACC-CLOSE-AG-5"},
    ),
    "last hourly billing week": (
        _contract("ended", Side.CLIENT, hourly=True, ended_at=START - timedelta(days=1)),
        {CL: "ACC-CLOSE-CL-4", CO: "ACC-CLOSE-CL-4", EN: "ACC-CLOSE-CL-4"},
    ),
}


def _cases(
    table: dict[str, tuple[Obligations, dict[AccountType, str]]],
) -> list[tuple[str, AccountType]]:
    return [(blocker, kind) for blocker in table for kind in CLOSABLE]


@pytest.mark.parametrize(("blocker", "kind"), _cases(HARD), ids=lambda v: getattr(v, "value", v))
def test_a_hard_blocker_refuses_closing_for_the_types_it_concerns(
    life: AccountLifecycle, facts: Facts, blocker: str, kind: AccountType
) -> None:
    obligations, rules = HARD[blocker]
    acc = MAKERS[kind][0]()
    facts.value = obligations

    if kind in rules:
        with pytest.raises(TransitionRefused) as info:
            life.fire(acc, "request_close", CLOSERS[kind], confirm=True)
        assert info.value.rule_ids == (rules[kind],)
        assert acc.state is AccountState.ACTIVE
    else:
        life.fire(acc, "request_close", CLOSERS[kind], confirm=True)
        assert acc.state is AccountState.CLOSING


@pytest.mark.parametrize(("blocker", "kind"), _cases(SOFT), ids=lambda v: getattr(v, "value", v))
def test_a_soft_blocker_is_waited_out_in_closing(
    life: AccountLifecycle, facts: Facts, blocker: str, kind: AccountType
) -> None:
    obligations, rules = SOFT[blocker]
    acc = MAKERS[kind][0]()
    facts.value = obligations

    life.fire(acc, "request_close", CLOSERS[kind], confirm=True)
    verdict = life.explain(acc, "settle", SYSTEM)

    assert acc.state is AccountState.CLOSING
    assert verdict.rule_ids == ((rules[kind],) if kind in rules else ())
    facts.value = Obligations()
    life.settle(acc)
    assert acc.state in {AccountState.DEACTIVATED, AccountState.CLOSED}


@pytest.mark.parametrize("kind", [T.TEAM_ADMIN, T.TEAM_MEMBER])
def test_team_only_accounts_cannot_request_closure_at_all(
    life: AccountLifecycle, kind: AccountType
) -> None:
    make, holder = MAKERS[kind]
    acc = make()

    with pytest.raises(NotPermitted, match="ACC-CLOSE-TM-"):
        life.fire(acc, "request_close", holder, confirm=True)
