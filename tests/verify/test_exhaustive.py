"""The checker without a depth: bounds whose abstract state space it explores to the end.

The state key (:func:`statemachines.verify.key.world_key`) is a finite abstraction: times
bucketed by the rule spans, counters and names no guard compares left out. These tests
run the exhaustive CI bounds to the end (no ``depth``), and check the abstraction is
sound on them: every step that reaches a key already seen reaches a state on which the
table gives the same verdict for every attempt as on the state first stored under it.
The key's own premises are tested in ``test_key.py``.
"""

from __future__ import annotations

import attrs
import pytest

from statemachines.verify.search import check
from statemachines.verify.world import Bounds

EXHAUSTIVE_BOUNDS = {
    "accounts": Bounds(contracts=0, team=False),
    "accounts-with-a-contract": Bounds(contracts=1, milestones=1, team=False, focus=("account",)),
}
"""Explored to the end in CI: the freelancer and the client company with every account
event; and the same with one fixed-price contract in the world (accounts act, time moves
the contract)."""


@pytest.mark.parametrize("name", sorted(EXHAUSTIVE_BOUNDS))
def test_the_exhaustive_bound_ends_with_no_violation(name: str) -> None:
    report = check(EXHAUSTIVE_BOUNDS[name])

    assert report.ok, report.summary()
    assert report.complete
    assert report.bounds.depth is None
    assert 30 < report.states < 2_000
    assert report.merged > report.states  # the key folds many paths together
    assert report.invariants > report.states


def test_the_whole_team_ends_without_contracts() -> None:
    # The cast: freelancer fl-1, company co-1 (owner ana) with its admin ada and
    # hiring manager hal, their accounts and memberships, every account and membership
    # event for every role, to the end (~55 s).
    report = check(Bounds(contracts=0, depth=None))

    assert report.ok, report.summary()
    assert report.complete
    assert 1_000 < report.states < 50_000
    fired = {(kind, event, role) for kind, event, role in report.fired}
    # the team acts on its memberships, and on its own accounts
    assert {
        ("membership", "leave", "hiring_manager"),
        ("membership", "remove", "client_owner"),
        ("membership", "remove", "client_admin"),
        ("account", "delete_permanently", "hiring_manager"),
    } <= fired
    # the owner closes the company, the freelancer comes back through the link
    assert {
        ("account", "request_close", "client_owner"),
        ("account", "confirm_reactivation", "freelancer"),
    } <= fired


@pytest.mark.parametrize("name", sorted(EXHAUSTIVE_BOUNDS))
def test_states_merged_under_one_key_get_the_same_verdicts(name: str) -> None:
    bounds = EXHAUSTIVE_BOUNDS[name]
    report = check(attrs.evolve(bounds, audit=True))

    assert report.ok, report.summary()
    assert report.complete
    assert report.merged > 0


def test_contract_states_merged_without_ended_by_or_late_feedback_order_agree() -> None:
    # The contract acting alone, cut short: the key folds which side ended it and the order
    # late feedback was allowed in; every merge is audited (same verdicts on every attempt).
    report = check(
        Bounds(
            contracts=1,
            milestones=1,
            team=False,
            amounts=(500,),
            focus=("contract",),
            audit=True,
            max_states=250,
        )
    )

    assert report.ok, report.summary()
    assert report.merged > report.states


def test_the_whole_marketplace_ends_at_its_smallest_bound() -> None:
    # Every kind acting (fl-1, co-1, one fixed-price contract without milestones, no
    # payment expanded): the first whole-marketplace bound explored to the end (~25 s).
    report = check(Bounds(contracts=1, milestones=0, team=False, amounts=(500,), payments=0))

    assert report.ok, report.summary()
    assert report.complete
    assert 1_000 < report.states < 20_000
    assert report.depth > 10
    fired_kinds = {kind for kind, _, _ in report.fired}
    assert {"account", "contract"} <= fired_kinds
