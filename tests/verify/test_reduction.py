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

from statemachines.core.actors import Role
from statemachines.verify import key
from statemachines.verify.reduction import SuccessorAudit, _differences
from statemachines.verify.search import check
from statemachines.verify.world import ACTORS, Bounds, World
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

    def no_week(*args: Any) -> tuple[Any, Any]:
        found, moments = assemble(*args)
        return (*found[:3], 0, *found[4:]), moments  # (parts, ranks, extra, week, shape)

    monkeypatch.setattr(key, "_assemble", no_week)
    bounds = attrs.evolve(HOURLY, depth=None, hours_per_week=1, diary_weeks=1)
    report = check(attrs.evolve(bounds, audit_successors=500))

    assert not report.ok
    # the pair's verdicts agreed (the audit compares them first, and says so when they do
    # not): only their successors tell them apart
    assert "the key merges states with other successors" in (report.violation or "")
    assert "other verdicts" not in (report.violation or "")
    assert "log_time" in (report.violation or "")


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


@pytest.mark.rule("TEAM-2")
def test_the_key_holds_who_sent_the_offer_which_names_the_contracts_contact() -> None:
    # Found by the successor audit on the job bound: the marketplace reads the first offer's
    # sender from the proposal's history and makes that member the contact person of the
    # contract the offer starts, so offers sent by ana and by hal must not merge.
    def offered_by(role: Role) -> Any:
        world = World(Bounds(contracts=0, jobs=1, team=False))
        market = world.market
        sender = next(a for a in ACTORS if a.role is role)
        owner = next(a for a in ACTORS if a.role is Role.CLIENT_OWNER)
        freelancer = next(a for a in ACTORS if a.role is Role.FREELANCER)
        market.fire("job", "J-1", "post", owner)
        market.fire("proposal", "P-1", "submit", freelancer)
        market.fire("proposal", "P-1", "send_offer", sender)
        return key.world_key(world)[0], world

    by_owner, _ = offered_by(Role.CLIENT_OWNER)
    by_manager, world = offered_by(Role.HIRING_MANAGER)
    assert by_owner != by_manager
    freelancer = next(a for a in ACTORS if a.role is Role.FREELANCER)
    world.market.fire("proposal", "P-1", "accept_offer", freelancer)
    assert world.market.store._items["contact"] == {"C-1": "hal"}
