"""The checker without a depth: bounds whose abstract state space it explores to the end.

The state key (:func:`statemachines.checker.world_key`) is a finite abstraction: times
bucketed by the rule spans, counters and names no guard compares left out. These tests
run the exhaustive CI bounds to the end (no ``depth``), and check the abstraction is
sound on them: every step that reaches a key already seen reaches a state on which the
table gives the same verdict for every attempt as on the state first stored under it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from statemachines import checker
from statemachines.checker import Bounds, check

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
    assert 50 < report.states < 2_000
    assert report.merged > report.states  # the key folds many paths together
    assert report.invariants > report.states


@pytest.mark.parametrize("name", sorted(EXHAUSTIVE_BOUNDS))
def test_states_merged_under_one_key_get_the_same_verdicts(name: str) -> None:
    bounds = EXHAUSTIVE_BOUNDS[name]
    report = check(attrs.evolve(bounds, audit=True))

    assert report.ok, report.summary()
    assert report.complete
    assert report.merged > 0


def test_the_audit_catches_a_key_that_forgets_what_a_guard_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Key the reactivation link's issue time as set or not: its 4-hour expiry is lost.
    spans = dict(checker.FIELD_SPANS)
    spans[("Account", "link_issued_at")] = ()
    monkeypatch.setattr(checker, "FIELD_SPANS", spans)
    monkeypatch.setattr(checker, "_PLANS", {})

    report = check(Bounds(contracts=0, team=False, audit=True))

    assert not report.ok
    assert "different verdicts" in (report.violation or "")


def test_timestamps_keyed_as_set_or_not_are_never_compared() -> None:
    root = Path(checker.__file__).parent
    sources = [
        p.read_text(encoding="utf-8") for p in root.glob("*.py") if not p.name.startswith("checker")
    ]
    for names in checker.ONLY_SET.values():
        for name in names:
            compared = re.compile(rf"\.{name}\s*(?:[<>+-]|==|!=)|(?:[<>+-]|==|!=)\s*\w+\.{name}\b")
            hits = [m.group(0) for text in sources for m in compared.finditer(text)]
            assert hits == [], (name, hits)


PRESENTING = ("checker", "diagrams", "snapshots", "render", "catalogue", "scenarios", "cli")
"""Modules that show or persist aggregates (and the checker itself), but decide nothing."""


def _reads(tree: ast.AST) -> Iterator[ast.Attribute]:
    """Attribute reads: loads, and the targets of augmented assignments (``x.n += 1``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            yield node
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
            yield node.target


def test_fields_left_out_of_the_key_are_never_read_where_anything_is_decided() -> None:
    root = Path(checker.__file__).parent
    deciding = {
        p.name: ast.parse(p.read_text(encoding="utf-8"))
        for p in root.glob("*.py")
        if not p.name.startswith(PRESENTING)
    }
    assert {"account_checks.py", "contract_after.py", "marketplace.py"} <= set(deciding)
    left_out = {name for names in checker.WRITE_ONLY.values() for name in names}
    hits = [
        (module, node.attr, node.lineno)
        for module, tree in deciding.items()
        for node in _reads(tree)
        if node.attr in left_out
    ]
    assert hits == []


def test_the_scan_for_reads_sees_reads_and_not_writes() -> None:
    tree = ast.parse("acc.visible = False\nif acc.exported_at is None:\n    c.n += 1\n")
    assert sorted(node.attr for node in _reads(tree)) == ["exported_at", "n"]


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
    # payment expanded): the first whole-marketplace bound explored to the end (~90 s).
    report = check(Bounds(contracts=1, milestones=0, team=False, amounts=(500,), payments=0))

    assert report.ok, report.summary()
    assert report.complete
    assert 1_000 < report.states < 20_000
    assert report.depth > 10
    fired_kinds = {kind for kind, _, _ in report.fired}
    assert {"account", "contract"} <= fired_kinds
