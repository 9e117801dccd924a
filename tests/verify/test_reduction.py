"""The successor audit (``check --audit-successors N``): merged states have the same successors.

The verdict audit (``--audit``) compares what the table says of every attempt in two states
the key merges; this one also compares where the search goes from them: every attempt that
fires and every move of time must reach the same key from both
(:mod:`statemachines.verify.reduction`). It passes on the bounds CI runs to the end, and it
catches a key that merges states whose successors differ although their verdicts agree.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from statemachines.verify import key
from statemachines.verify.reduction import SuccessorAudit, _differences
from statemachines.verify.search import check
from statemachines.verify.world import Bounds, World
from tests.verify.test_bounds import HOURLY

SMALLEST = Bounds(contracts=1, milestones=0, payments=0, amounts=(500,), team=False)
"""``check --contracts 1 --milestones 0 --payments 0 --amounts 5.00 --no-team --depth 0``."""


def test_the_smallest_whole_marketplace_bound_passes_the_successor_audit() -> None:
    report = check(attrs.evolve(SMALLEST, depth=None, audit_successors=150))

    assert report.ok, report.summary()
    assert report.exhaustive
    pairs, successors, ranks = report.audited
    assert pairs == 150
    assert successors > 10 * pairs  # both states of every pair, a dozen successors each
    assert ranks < successors
    assert "successors compared:" in report.summary()


@pytest.mark.rule("BILL-1", "CTR-END-2")
def test_the_audit_catches_a_key_that_forgets_the_weeks_position(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Monday 09:00 and Saturday 00:00 get the same verdicts before anything is logged, but
    # time logged then goes into a week with other times to come: the successors differ.
    assemble = key._assemble

    def no_week(world: World, symmetry: bool, part_of: Any) -> tuple[Any, Any]:
        found, moments = assemble(world, symmetry, part_of)
        return (*found[:3], 0, *found[4:]), moments

    monkeypatch.setattr(key, "_assemble", no_week)
    bounds = attrs.evolve(HOURLY, depth=None, hours_per_week=1, diary_weeks=1)
    report = check(attrs.evolve(bounds, audit_successors=500))

    assert not report.ok
    assert "the key merges states with other successors" in (report.violation or "")
    assert "log_time" in (report.violation or "")
    # the verdict audit alone does not see it: the merged states' verdicts agree
    assert check(attrs.evolve(bounds, audit=True)).ok


def test_a_successor_a_state_lacks_is_the_state_itself() -> None:
    own = ("templates", (0, 1), (), 0, (1, 0))
    other = ("other", (0, 1), (), 0, (1, 0))
    reordered = ("templates", (1, 0), (), 0, (1, 0))
    # the search leaves out a step back to the same key (and the second before the next
    # moment when that second is now): a missing successor is the state itself
    assert _differences(own, {("time", 1): own}, {}) == ([], 0)
    assert _differences(own, {("time", 1): other}, {}) == (["('time', 1): reaches another key"], 0)
    # keys that differ only in the ranks of their moments are counted apart, not failed
    assert _differences(own, {("time", 0): own}, {("time", 0): reordered}) == ([], 1)


def test_the_audit_draws_its_pairs_from_the_whole_search() -> None:
    audit = SuccessorAudit(3)
    parents: dict[Any, Any] = {"root": (None, None)}
    for n in range(1, 301):
        parents[n] = ("root", f"step {n}")
    for n in range(1, 301):
        audit.note(parents, n, f"to {n}", n)  # type: ignore[arg-type]
    assert audit.merges == 300
    assert len(audit.held) == 3
    # reservoir sampling: not simply the first three merges
    drawn: list[Any] = [merged[-1] for _, merged in audit.held]
    assert drawn != ["to 1", "to 2", "to 3"]
