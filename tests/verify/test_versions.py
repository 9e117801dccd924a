"""Versions of saved aggregates are given by content, and restoring writes back only what
differs (issue 18).

The checker's caches (plans, key parts, invariants passed, outcomes put back) are keyed by
the version of each aggregate a snapshot holds. A version is given by what the aggregate
holds (fields, history, children) and which object it is, so the same aggregate reached by
another path, or by the same event fired from another state, shares the caches of the
first. These tests show that equal content gets one version, that any difference gets
another, and that a search with content versions reaches exactly what one with a new
version for every save reaches. The world also knows which entry each aggregate holds
(until the marketplace fires anything), so restoring a snapshot writes back only the
aggregates a step changed; a search that writes back everything reaches the same.
"""

from __future__ import annotations

from typing import Any

import pytest

from statemachines.core.engine import SPECS_BY_MODEL
from statemachines.machines.account.table import SuspensionReason
from statemachines.marketplace.market import Marketplace
from statemachines.testing.cast import SUP as SUPPORT
from statemachines.verify import world as world_module
from statemachines.verify.search import check
from statemachines.verify.world import SECOND, Bounds, Saved, World, same


def versions(world: World) -> dict[str, int]:
    snap = world.snapshot()
    return {entry.agg.id: entry.version for entry in snap[1]}


def suspend(world: World, account: str = "fl-1") -> None:
    world.market.fire("account", account, "suspend", SUPPORT, reason=SuspensionReason.TERMS)


def test_the_same_event_fired_again_from_the_same_state_gives_the_same_versions() -> None:
    world = World(Bounds(contracts=1, milestones=1, team=False))
    start = versions(world)

    suspend(world)
    first = versions(world)
    world.restore(world.initial)
    suspend(world)  # a new decision object, with the same content
    again = versions(world)

    assert first == again
    assert first["fl-1"] != start["fl-1"]
    assert first["co-1"] == start["co-1"]


def test_two_orders_of_the_same_events_meet_in_the_same_versions() -> None:
    world = World(Bounds(contracts=1, milestones=1, team=False))
    suspend(world, "fl-1")
    suspend(world, "co-1")
    one = versions(world)
    world.restore(world.initial)
    suspend(world, "co-1")
    suspend(world, "fl-1")

    assert versions(world) == one


def test_any_difference_gets_another_version() -> None:
    world = World(Bounds(contracts=1, milestones=1, team=False))
    suspend(world)
    suspended = versions(world)["fl-1"]

    world.restore(world.initial)
    world.clock.set(world.clock.now() + SECOND)  # the same fields, a history a second later
    suspend(world)
    later = versions(world)["fl-1"]

    world.restore(world.initial)
    world.market.fire(
        "account", "fl-1", "suspend", SUPPORT, reason=SuspensionReason.BILLING
    )  # another reason: another field value
    other = versions(world)["fl-1"]

    assert len({suspended, later, other}) == 3


def test_a_version_met_again_holds_what_the_aggregate_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever the search saves, the entry it gets back (perhaps saved by another state)
    holds exactly the aggregate's fields, history and children."""
    save = world_module._save
    shared = 0
    seen: set[int] = set()

    def checked(agg: Any, base: Saved | None = None) -> Saved:
        nonlocal shared
        got = save(agg, base)
        fresh = Saved(agg, *_fresh(agg))
        assert same(got, fresh), agg
        if got is not base and got.version in seen:
            shared += 1  # an entry saved before, from another state
        seen.add(got.version)
        return got

    monkeypatch.setattr(world_module, "_save", checked)
    report = check(Bounds(contracts=1, milestones=1, team=False, amounts=(500,), depth=4))
    assert report.ok
    assert shared > 0


def _fresh(agg: Any) -> tuple[Any, ...]:
    spec = SPECS_BY_MODEL[type(agg)]
    kids = tuple(
        tuple(Saved(kid, *_fresh(kid)) for kid in getattr(agg, name)) for name in spec.children
    )
    return spec._get(agg), tuple(agg.history), kids, 0


@pytest.mark.parametrize(
    "bounds",
    [
        Bounds(contracts=1, milestones=1, team=False, amounts=(500,), depth=5),
        Bounds(contracts=0, jobs=1, agency=True, team=False, focus=("job", "proposal")),
    ],
    ids=["milestone", "jobs"],
)
def test_content_versions_reach_what_a_new_version_per_save_reaches(
    monkeypatch: pytest.MonkeyPatch, bounds: Bounds
) -> None:
    shared = check(bounds)

    class Forgetful(dict[Any, Any]):
        def __setitem__(self, key: Any, value: Any) -> None:
            pass  # nothing is kept: every save gets a new version, as before issue 18

    monkeypatch.setattr(world_module, "_BY_CONTENT", Forgetful())
    apart = check(bounds)

    assert shared.ok
    assert apart.ok
    assert (shared.states, shared.merged, shared.transitions) == (
        apart.states,
        apart.merged,
        apart.transitions,
    )
    assert shared.coverage == apart.coverage
    assert shared.fired == apart.fired


def test_restore_writes_back_what_a_step_changed_and_only_that(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = World(Bounds(contracts=1, milestones=1, team=False))
    world.tracking = True
    start = world.snapshot()
    suspend(world)
    world.snapshot()
    loads: list[str] = []
    load = world_module._load

    def counted(saved: Saved) -> None:
        loads.append(saved.agg.id)
        load(saved)

    monkeypatch.setattr(world_module, "_load", counted)
    world.restore(start)

    assert loads == ["fl-1"]  # the suspended account alone is written back
    assert world.market.get("account", "fl-1").state.value == "active"
    assert world.snapshot()[1] == start[1]


def test_a_world_changed_by_hand_is_written_back_whole() -> None:
    world = World(Bounds(contracts=1, milestones=1, team=False))
    start = world.snapshot()
    account = world.market.get("account", "fl-1")
    flow = world.market._flows["account"]
    flow.fire(account, "suspend", SUPPORT, reason=SuspensionReason.TERMS)  # not the market's

    world.restore(start)

    assert account.state.value == "active"
    assert not account.history


def test_restoring_only_what_differs_reaches_what_restoring_everything_reaches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bounds = Bounds(contracts=1, milestones=1, team=False, amounts=(500,), depth=5)
    partly = check(bounds)
    restore = World.restore

    def everything(self: World, snap: Any) -> None:
        self.holds.clear()  # as before issue 18: every field of every aggregate written
        restore(self, snap)

    monkeypatch.setattr(World, "restore", everything)
    wholly = check(bounds)

    assert (partly.states, partly.merged, partly.transitions) == (
        wholly.states,
        wholly.merged,
        wholly.transitions,
    )
    assert partly.coverage == wholly.coverage


def test_time_moved_where_nothing_is_due_reaches_what_the_marketplace_reaches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Time moving to a moment before any deadline is due keeps the world as it is (the
    # marketplace would fire nothing); moving it through the marketplace every time must
    # reach the same states, and fire nothing there.
    bounds = Bounds(contracts=1, milestones=0, team=False, amounts=(500,), depth=5)
    shortcut = check(bounds)
    fired: list[int] = []

    def through_the_market(self: World, snap: Any, at: Any) -> Any:
        self.restore(snap)
        self.clock.set(at)
        fired.append(len(self.market.advance(at)))
        return self.snapshot()

    monkeypatch.setattr(World, "later", through_the_market)
    market = check(bounds)

    assert fired
    assert not any(fired)
    assert (shortcut.states, shortcut.merged, shortcut.transitions) == (
        market.states,
        market.merged,
        market.transitions,
    )
    assert shortcut.coverage == market.coverage


def test_a_refused_command_that_changes_another_aggregate_is_caught(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A refused command changes nothing, on any aggregate: after each failure the search
    # compares every aggregate with what it held when the command began (and, when nothing
    # changed, knows again what the world holds).
    handle = Marketplace.handle

    def leaky(self: Marketplace, command: Any) -> Any:
        outcome = handle(self, command)
        if outcome.error is not None and getattr(command, "event", "") == "request_close":
            client = self.store.get("account", "co-1")
            client.visible = not client.visible  # a change the refusal left behind
        return outcome

    monkeypatch.setattr(Marketplace, "handle", leaky)
    report = check(Bounds(contracts=1, milestones=0, team=False, amounts=(500,), depth=2))

    assert not report.ok
    assert "it failed, but it changed co-1" in (report.violation or "")
