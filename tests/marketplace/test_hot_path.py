"""The command's hot path does less per call and answers the same (ADR 0045).

Each test pins an answer a shortcut of that ADR must not change: the account types'
sides, the refusal a closing account's ``settle`` leaves in the audit trail after every
command, the obligations (money owed, withdrawn, none), the party reads of a unit of
work that added aggregates, and the memory store's deadline index rebuilt in place (with
the cases' deadlines, which it dropped before).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from statemachines import SYSTEM, UTC, Contract, ManualClock, Money, TransitionRefused
from statemachines.machines.account.table import Account, AccountState, AccountType
from statemachines.marketplace.commands import DisputeEscrowRefund
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores.memory import MemoryStore
from statemachines.marketplace.unit_of_work import UnitOfWork
from tests.conftest import START
from tests.machines.account.conftest import ANA, FL
from tests.marketplace.conftest import work_submitted

T = AccountType


@pytest.fixture
def market(clock: ManualClock) -> Marketplace:
    """co-1 (owner ana) and freelancer fl-1, in memory (the checker's store)."""
    m = Marketplace(clock=clock)
    m.open_account(Account(id="co-1", type=T.CLIENT, owner="ana", company="co-1"))
    m.open_account(Account(id="fl-1", type=T.FREELANCER, owner="fl-1"))
    return m


def test_the_sides_of_each_account_type() -> None:
    sides = {
        t: (t.freelancer_side, t.client_side, t.team_only, t.organisation) for t in AccountType
    }

    assert sides == {
        T.FREELANCER: (True, False, False, False),
        T.CLIENT: (False, True, False, False),
        T.COMBINED: (True, True, False, False),
        T.AGENCY: (False, False, False, True),
        T.TEAM_ADMIN: (False, False, True, False),
        T.TEAM_MEMBER: (False, False, True, False),
        T.ENTERPRISE: (False, True, False, True),
    }


def _closing_client_with_a_billing_week_open(market: Marketplace, clock: ManualClock) -> None:
    c = Contract.hourly(
        "C-1", client="co-1", freelancer="fl-1", rate=Money(5_000), started_at=START
    )
    market.add_contract(c, contact="ana")
    clock.set(datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    market.fire("contract", "C-1", "log_time", FL, minutes=120)
    market.fire("contract", "C-1", "end_contract", ANA)
    market.fire("account", "co-1", "request_close", ANA, confirm=True)


def test_a_command_touching_a_closing_account_audits_the_settle_it_refused(
    market: Marketplace, clock: ManualClock
) -> None:
    _closing_client_with_a_billing_week_open(market, clock)
    clock.set(clock.now() + timedelta(hours=1))
    market.audit.clear()

    market.fire("contract", "C-1", "leave_feedback", ANA)
    after_command = list(market.audit)
    asked = market.explain("account", "co-1", "settle", SYSTEM)
    with pytest.raises(TransitionRefused) as fired:
        market.fire("account", "co-1", "settle", SYSTEM)

    assert market.account("co-1").state is AccountState.CLOSING
    assert [(a.event, a.outcome, a.rule_ids) for a in after_command] == [
        ("settle", "refused", ("ACC-CLOSE-CL-3", "ACC-CLOSE-CL-4"))
    ]
    assert after_command[0].at == clock.now()
    assert after_command[0].actor == SYSTEM
    assert after_command[0].message == str(fired.value) == str(asked.error)
    assert str(fired.value) == (  # as the code before ADR 0045 wrote it
        "account 'co-1' cannot 'settle': [ACC-CLOSE-CL-3] 1 contract still ending: C-1; the "
        "account closes once they are settled; [ACC-CLOSE-CL-4] the last billing week of 1 "
        "hourly contract is still open to disputes: C-1 until 2026-03-14 00:00:00 UTC; the "
        "company closes when it is over"
    )
    assert market.audit[-1].message == after_command[0].message  # the fire's own refusal


def test_settle_asked_directly_refuses_without_raising(
    market: Marketplace, clock: ManualClock
) -> None:
    _closing_client_with_a_billing_week_open(market, clock)
    acc = market.account("co-1")
    history = list(acc.history)
    market.audit.clear()

    assert market.accounts.settle(acc, clock.now()) is None
    assert acc.history == history
    assert [(a.event, a.outcome) for a in market.audit] == [("settle", "refused")]


def test_obligations_count_money_owed_and_withdrawn(
    market: Marketplace, clock: ManualClock
) -> None:
    market.record_past_due("co-1", Money(3_000))
    none = market.obligations(market.account("fl-1"), clock.now())
    owed = market.obligations(market.account("co-1"), clock.now())
    market.fire("account", "co-1", "pay_owed", ANA, amount=Money(1_000))
    part = market.obligations(market.account("co-1"), clock.now())
    market.fire("account", "co-1", "pay_owed", ANA, amount=Money(2_000))
    paid = market.obligations(market.account("co-1"), clock.now())

    assert (none.owed, none.pending, none.available) == (Money(0), Money(0), Money(0))
    assert (owed.owed, part.owed, paid.owed) == (Money(3_000), Money(2_000), Money(0))


def test_a_unit_of_work_finds_the_aggregates_it_added(market: Marketplace) -> None:
    store = market.store
    c = Contract.fixed("C-9", client="co-1", freelancer="fl-1", started_at=START)
    with UnitOfWork(store) as uow:
        before = uow.related("contract", "co-1")
        uow.add("contract", "C-9", c, START)
        added = uow.related("contract", "fl-1")
        both = uow.related("contract", "co-1", "fl-1")
        live = uow.related("contract", "fl-1", state="active")
        ended = uow.related("contract", "fl-1", state="ended")

    assert (before, added, both, live, ended) == ([], [c], [c], [c], [])


def test_the_deadline_index_rebuilt_in_place_answers_as_before(
    market: Marketplace, clock: ManualClock
) -> None:
    _closing_client_with_a_billing_week_open(market, clock)
    store = market.store
    assert isinstance(store, MemoryStore)
    later = clock.now() + timedelta(days=30)
    first = store.next_due(later)

    store._items = store._items  # what the checker does when it restores a world
    again = store.next_due(later)

    assert first is not None
    assert again == first


@pytest.mark.rule("FPD-8")
def test_a_cases_deadline_stays_in_the_index_rebuilt_in_place(clock: ManualClock) -> None:
    # A fixed-price dispute declined by the client waits for the fees (FPD-8): its deadline
    # is a case's, not a contract's, and must survive the index being rebuilt.
    market = work_submitted(Marketplace(clock=clock))
    market.fire("contract", "C-1", "end_contract", ANA, payment=Money(0))
    market.fire("contract", "C-1", "leave_feedback", FL)
    market.handle(DisputeEscrowRefund("C-1", "FD-1", FL)).result()
    market.fire("fixed_dispute", "FD-1", "decline", ANA, reason="not done", evidence="log")
    store = market.store
    assert isinstance(store, MemoryStore)
    due = market.get("fixed_dispute", "FD-1").deadlines[0].due
    assert store.next_due(due) is not None
    indexed = store._due.get(("fixed_dispute", "FD-1"))

    store._items = store._items  # what the checker does when it restores a world
    store.next_due(due)  # rebuilds the index

    assert indexed == due
    assert store._due.get(("fixed_dispute", "FD-1")) == due
