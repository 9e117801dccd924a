"""The work diary's bounds (``--hours-per-week``, ``--diary-weeks``), and one hourly
contract explored to the end with them.

The diary takes any number of hours in a week (BILL-1: the weekly limit of CTR-HR-3 caps what
is billed, not what is logged), so without a bound one hourly contract has no end. A state
whose diary is beyond the bounds is checked, not expanded, as a payment beyond
``--payments`` is.
"""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from statemachines.cli import main
from statemachines.core.money import Money
from statemachines.machines.contract.table import Contract
from statemachines.machines.contract.values import BillingWeek, week_of
from statemachines.verify import key
from statemachines.verify.search import check
from statemachines.verify.world import DIARY_DEFAULT, START, Bounds, World
from tests.verify.test_search import engine_ignores

HOURLY = Bounds(contracts=1, hourly=1, milestones=0, payments=0, amounts=(500,), team=False)
"""``check --contracts 1 --hourly 1 --milestones 0 --payments 0 --amounts 5.00 --no-team``."""


def _diary(*minutes: int) -> Contract:
    c = Contract.hourly(
        "C-1", client="co-1", freelancer="fl-1", rate=Money(2_000), started_at=START
    )
    start = week_of(START)
    weeks = (BillingWeek(start + i * timedelta(days=7), logged=m) for i, m in enumerate(minutes))
    return attrs.evolve(c, weeks=tuple(weeks))


@pytest.mark.rule("BILL-1")
def test_the_diary_bounds_hold_hours_per_week_and_weeks() -> None:
    bounds = Bounds(hourly=1, depth=None, hours_per_week=2, diary_weeks=1)
    assert bounds.diary_within(_diary(60))
    assert bounds.diary_within(_diary(120))
    assert not bounds.diary_within(_diary(121))  # more than two hours in the week
    assert not bounds.diary_within(_diary(60, 60))  # a second week


@pytest.mark.rule("BILL-1")
def test_the_diary_bounds_default_to_none_at_a_depth_and_two_without() -> None:
    # at a depth, the depth bounds the diary (a step logs one hour): today's bounded checks
    # mean what they meant
    at_depth = Bounds(hourly=1, depth=3)
    assert at_depth.diary_within(_diary(600, 60, 60, 60))
    # without one, two hours a week and two weeks
    assert DIARY_DEFAULT == 2
    to_the_end = Bounds(hourly=1, depth=None)
    assert to_the_end.diary_within(_diary(120, 60))
    assert not to_the_end.diary_within(_diary(180))
    assert not to_the_end.diary_within(_diary(60, 60, 60))


def test_the_command_refuses_diary_bounds_that_make_no_sense(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--contracts", "1", "--hours-per-week", "2"]) == 2
    err = capsys.readouterr().err
    assert "--hours-per-week 2: it bounds an hourly contract's diary, and there is none" in err
    assert main(["check", "--contracts", "1", "--hourly", "1", "--diary-weeks", "0"]) == 2
    assert "--diary-weeks 0 would leave no time logged to explore" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["check", "--hourly", "1", "--hours-per-week", "-1"])


@pytest.mark.rule("BILL-1")
def test_a_contracts_start_is_keyed_as_set_and_checked_never_ahead_of_now() -> None:
    # BILL-1 reads started_at only as ``at < started_at`` for time logged at now: the key
    # holds that it is set, and its premise that it is never ahead of now is checked
    world = World(attrs.evolve(HOURLY, depth=None))
    c = world.market.get("contract", "C-1")
    first = key.world_key(world)[0]
    c.started_at = START - timedelta(days=40)
    assert key.world_key(world)[0] == first
    assert key.key_premises(world.market, world.clock.now()) == []
    c.started_at = START + timedelta(seconds=1)
    assert key.key_premises(world.market, world.clock.now()) == [
        "contract C-1: its started_at (2026-03-02T09:00:01+00:00) is ahead of now"
    ]


@pytest.mark.rule("CTR-END-2")
def test_the_weeks_position_is_keyed_while_an_hourly_contract_can_log_time() -> None:
    world = World(attrs.evolve(HOURLY, depth=None))
    c = world.market.get("contract", "C-1")
    monday = key.world_key(world)[0]
    world.clock.set(START + timedelta(hours=1))
    assert key.world_key(world)[0] != monday  # 10:00 and 09:00 log into other weeks later
    c.ended_at = START  # ended (its diary locked): no week is read from now's position
    at_ten = key.world_key(world)[0]
    world.clock.set(START + timedelta(hours=2))
    assert key.world_key(world)[0] == at_ten


@pytest.mark.rule("BILL-1", "CTR-END-2")
def test_one_hourly_contract_ends_and_its_merges_have_the_same_successors() -> None:
    # one hour a week in one week (scripts/test runs the default bound, two and two, to the
    # end beside the tests)
    bounds = attrs.evolve(HOURLY, depth=None, hours_per_week=1, diary_weeks=1)
    report = check(attrs.evolve(bounds, audit_successors=40))

    assert report.ok, report.summary()
    assert report.exhaustive
    assert 1_000 < report.states < 10_000
    pairs, successors, _ = report.audited
    assert pairs == 40
    assert successors > 60
    fired = {(kind, event) for kind, event, _ in report.fired}
    assert {("contract", "log_time"), ("contract", "delete_time"), ("contract", "pause")} <= fired
    assert ("contract", "end_contract") in fired


@pytest.mark.rule("BILL-2")
def test_the_bounded_diary_still_catches_an_engine_that_deletes_time_never_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine_ignores(monkeypatch, "BILL-2")

    report = check(attrs.evolve(HOURLY, depth=None))

    assert not report.ok
    assert "BILL-2" in (report.violation or "")
    assert "delete_time" in (report.violation or "")
    assert len(report.trace) <= 2


@pytest.mark.rule("FB-1", "CTR-END-2")
def test_an_engine_that_ignores_the_feedback_window_is_caught_after_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # After the end the week's position is no longer keyed: the ended contract's states are
    # still tried, and an engine that closes the feedback window early is caught there.
    engine_ignores(monkeypatch, "FB-1")

    report = check(attrs.evolve(HOURLY, depth=None, hours_per_week=1, diary_weeks=1))

    assert not report.ok
    assert "FB-1" in (report.violation or "")
    assert report.trace[0].event == "end_contract"
    assert len(report.trace) <= 3
