"""The kit's strategies: boundaries on both sides, wrong parties turned away, worlds sound."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statemachines import Contract, ManualClock, Marketplace, Money
from statemachines.errors import NaiveDatetime, StatemachinesError
from statemachines.machines.account.table import Account, AccountType
from statemachines.machines.invariants import CONTRACT_INVARIANTS, TIMED_CONTRACT_INVARIANTS
from statemachines.marketplace.invariants import check_accounts
from statemachines.rules.milestone import MILESTONE_MIN
from statemachines.testing import (
    START,
    actors,
    assert_refused,
    assert_unchanged,
    bounds,
    money_near,
    money_near_boundaries,
    times_near_window_edges,
    worlds,
)
from statemachines.testing.cast import ANA
from statemachines.testing.strategies import (
    RULE_AMOUNTS,
    amounts_near,
    moments_near_window_edges,
    people,
    spans_near_windows,
)
from statemachines.verify.world import Bounds, World

SECOND = timedelta(seconds=1)


def test_money_sits_a_cent_either_side_of_every_rule_amount() -> None:
    cents = {m.cents for m in amounts_near(0, *RULE_AMOUNTS)}

    assert {499, 500, 501, 99, 100, 101, 0, 1} <= cents
    assert {a.cents for a in RULE_AMOUNTS} == {100, 500}  # read from the rule modules
    assert [m.cents for m in amounts_near(Money(1), spread=2)] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="at least one anchor"):
        money_near()


def test_times_sit_a_second_either_side_of_every_window_edge() -> None:
    moments = set(moments_near_window_edges(START))
    four_hours = timedelta(hours=4)

    assert {START + four_hours - SECOND, START + four_hours, START + four_hours + SECOND} <= moments
    assert START + timedelta(days=180) + SECOND in moments
    # the billing calendar of the week holding START (a Monday 09:00): noon next Monday,
    # the Saturday after, the Wednesday ten days after the week
    monday = START.replace(hour=0)
    assert {monday + timedelta(days=7, hours=12), monday + timedelta(days=12)} <= moments
    assert monday + timedelta(days=16) - SECOND in moments
    assert timedelta(days=14) - SECOND in spans_near_windows()
    with pytest.raises(NaiveDatetime, match="aware datetime"):
        times_near_window_edges(datetime(2026, 3, 2))  # noqa: DTZ001  (naive on purpose)


def fresh_contract() -> Marketplace:
    market = Marketplace(clock=ManualClock(START))
    market.open_account(Account(id="co-1", type=AccountType.CLIENT, owner="ana", company="co-1"))
    market.open_account(Account(id="fl-1", type=AccountType.FREELANCER, owner="fl-1"))
    market.add_contract(Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=START))
    return market


@pytest.mark.rule("MS-1")
@given(amount=money_near_boundaries())
def test_ms_1_a_milestone_is_accepted_from_five_dollars(amount: Money) -> None:
    market = fresh_contract()
    if amount >= MILESTONE_MIN:
        market.fire("contract", "C-1", "add_milestone", ANA, amount=amount)
        return
    with assert_unchanged(market):
        try:
            market.fire("contract", "C-1", "add_milestone", ANA, amount=amount)
        except StatemachinesError as err:
            if amount.cents:
                assert_refused(err, "MS-1")
        else:
            pytest.fail(f"a milestone of {amount} was accepted")


@given(data=st.data(), world=worlds(bounds(contracts=2, milestones=1, jobs=1), steps=6))
def test_a_wrong_party_never_changes_anything(data: st.DataObject, world: World) -> None:
    market = world.market
    kind = data.draw(st.sampled_from(["account", "membership", "job", "proposal", "contract"]))
    aggregates = market.all(kind)
    if not aggregates:
        return
    agg = data.draw(st.sampled_from(aggregates))
    event = data.draw(st.sampled_from(market._flows[kind].spec.events))
    stranger = data.draw(actors(market, of=agg, right=False))
    with assert_unchanged(market), pytest.raises(StatemachinesError):
        market.fire(kind, agg.id, event, stranger)


@given(world=worlds(bounds(contracts=2, milestones=2, jobs=1), steps=10))
def test_every_world_of_a_bound_keeps_the_invariants(world: World) -> None:
    market = world.market
    now = world.clock.now()
    assert check_accounts(market) == []
    for c in market.all("contract"):
        for inv in CONTRACT_INVARIANTS:
            assert inv(c) == [], inv.__name__
        for timed in TIMED_CONTRACT_INVARIANTS:
            assert timed(c, now) == [], timed.__name__


def test_right_and_wrong_people_of_a_world() -> None:
    market = World(Bounds()).market
    contract = market.get("contract", "C-1")
    right, wrong = map(set, people(market, of=contract))

    assert {a.id for a in right} >= {"fl-1", "ana", "ada", "hal", "sup"}
    assert not right & wrong
    assert any(a.id == "stranger" for a in wrong)
    with pytest.raises(ValueError, match="right or wrong"):
        actors(market, right=False, wrong=False)
