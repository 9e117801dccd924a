"""Invariants re-checked only where a step changed something, and still every bug caught.

:class:`statemachines.verify.checks.Checks` skips an invariant when nothing it reads
(:data:`~statemachines.verify.checks.READS`) changed since a check it passed, in a state seen
for the first time as in the others. A share of the steps is checked in full, so a read the
table forgets is still caught there: with every read forgotten, the broken guards are caught
by the sampled full checks alone (and with none sampled, they are not: the sample is what
catches them).
"""

from __future__ import annotations

import attrs
import pytest

from statemachines.machines.account.table import ACCOUNT
from statemachines.marketplace.invariants import ACCOUNT_INVARIANTS
from statemachines.verify import checks
from statemachines.verify.search import check
from statemachines.verify.world import Bounds
from tests.verify.conftest import drop_guard, release_escrow_twice


def forget_every_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Say no whole-marketplace invariant reads anything: once passed, never run again
    (except in the full checks)."""
    monkeypatch.setattr(checks, "READS", {name: frozenset() for name in checks.READS})


def test_every_invariant_of_the_marketplace_says_what_it_reads() -> None:
    names = {inv.__name__ for inv in ACCOUNT_INVARIANTS}
    assert names | {"offers_start_contracts", "key_premises"} == set(checks.READS)
    kinds = {"account", "membership", "job", "proposal", "contract", "contact", "past_due", "now"}
    assert set().union(*checks.READS.values()) <= kinds


def test_most_checks_are_reused_and_the_bound_still_passes() -> None:
    bounds = Bounds(contracts=1, milestones=0, team=False, amounts=(500,), depth=4)
    report = check(bounds)
    every = check(attrs.evolve(bounds, full_check=1.0))

    assert report.ok, report.summary()
    assert report.reused > 0
    # what is skipped (reused, merged states and system events left to their key) is most
    # of what checking every step in full runs
    assert report.invariants < every.invariants / 2
    assert every.reused == 0


@pytest.mark.rule("ACC-CLOSE-CL-3")
def test_acc_close_cl_3_dropped_is_caught_with_every_read_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forget_every_read(monkeypatch)
    drop_guard(monkeypatch, ACCOUNT, "ACC-CLOSE-CL-3")
    bounds = Bounds(contracts=1, milestones=1, team=False, depth=4)

    sampled = check(bounds)  # a share of the steps checked in full (the default, 5%)
    unsampled = check(attrs.evolve(bounds, full_check=0.0))

    assert not sampled.ok
    assert "live contracts" in (sampled.violation or "")
    assert len(sampled.trace) <= 2
    # with no full check, the state invariant never runs again: only a step invariant
    # catches the bug, later
    assert "live contracts" not in (unsampled.violation or "")
    assert len(unsampled.trace) > len(sampled.trace)


def test_escrow_released_twice_is_caught_with_every_read_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    forget_every_read(monkeypatch)
    release_escrow_twice(monkeypatch)

    report = check(Bounds(contracts=1, milestones=1, team=False, depth=4, full_check=0.0))

    assert not report.ok
    assert "INV-MONEY" in (report.violation or "") or "escrow" in (report.violation or "")


def test_merged_states_are_left_to_their_key_and_a_sample_is_checked() -> None:
    bounds = Bounds(contracts=1, milestones=0, team=False, amounts=(500,), depth=5)
    sampled = check(bounds)
    every = check(attrs.evolve(bounds, full_check=1.0))

    assert sampled.ok, sampled.summary()
    assert every.ok, every.summary()  # the premise holds here: every merged state passes
    assert (sampled.states, sampled.merged) == (every.states, every.merged)
    assert every.unchecked == 0
    assert 0 < sampled.unchecked < sampled.merged  # most merged states left to their key


@pytest.mark.rule("ACC-CLOSE-CL-3")
def test_acc_close_cl_3_dropped_is_caught_with_no_merged_state_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drop_guard(monkeypatch, ACCOUNT, "ACC-CLOSE-CL-3")

    report = check(Bounds(contracts=1, milestones=1, team=False, depth=4, full_check=0.0))

    assert not report.ok
    assert "live contracts" in (report.violation or "")
