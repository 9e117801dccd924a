"""ACC-REACT-1 on the link's last step: a link requested inside the window is refused once
five years have passed, even on a record kept without the window's deadline.

The deadline normally closes the account for good first (ADR 0015; see test_edges.py);
here the record lost that deadline, so the guard on ``confirm_reactivation`` itself is
what refuses, while the link is still within its 4 hours (ACC-REACT-2 passes).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from statemachines import ManualClock
from statemachines.machines.account.table import AccountLifecycle, AccountState
from statemachines.rules.account import reactivation_deadline
from tests.conftest import START
from tests.machines.account.conftest import FL, freelancer
from tests.machines.account.test_rules import close, refusal

S = AccountState


@pytest.mark.rule("ACC-REACT-1", "ACC-REACT-2")
def test_acc_react_1_a_live_link_is_refused_once_five_years_have_passed(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    acc = freelancer()
    close(life, acc, FL)
    life.settle(acc)
    assert acc.state is S.DEACTIVATED
    acc.deadlines = ()  # kept elsewhere, or written by an older version
    until = reactivation_deadline(START)
    clock.set(until - timedelta(hours=1))
    life.fire(acc, "request_reactivation_link", FL)
    clock.set(until)  # the link has 3 hours left; the window has none

    reasons = refusal(life, acc, FL, "confirm_reactivation", token="fl-1-link-1")

    assert reasons == {
        "ACC-REACT-1": "account fl-1 was closed on 2026-03-02 09:00:00 UTC; it could be "
        "restored until 2031-03-02 09:00:00 UTC and now cannot"
    }
    assert (acc.state, acc.visible) == (S.DEACTIVATED, False)


@pytest.mark.rule("ACC-REACT-1", "ACC-REACT-2")
def test_acc_react_1_the_same_link_works_one_second_before_five_years(
    life: AccountLifecycle, clock: ManualClock
) -> None:
    acc = freelancer()
    close(life, acc, FL)
    life.settle(acc)
    acc.deadlines = ()
    until = reactivation_deadline(START)
    clock.set(until - timedelta(hours=1))
    life.fire(acc, "request_reactivation_link", FL)
    clock.set(until - timedelta(seconds=1))

    life.fire(acc, "confirm_reactivation", FL, token="fl-1-link-1")

    assert (acc.state, acc.visible) == (S.ACTIVE, True)
