"""The state key's premises: what it leaves out is never read, how it buckets is how rules compare.

:mod:`statemachines.verify.key` rests on claims about the rest of the package: the fields it
leaves out (:data:`~statemachines.verify.key.WRITE_ONLY`) are never read where anything is
decided, the timestamps it keys as set or not (:data:`~statemachines.verify.key.ONLY_SET`)
are never compared, and each field it buckets by one comparison
(:data:`~statemachines.verify.key.COMPARED`) is compared that way everywhere. These tests
scan the source for each claim, and show that ``--audit`` catches a key that breaks one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import statemachines
from statemachines.verify import key, search
from statemachines.verify.search import check
from statemachines.verify.world import Bounds, Snapshot, World

DECIDING = ("core", "machines", "marketplace")
"""The layers that decide something; snapshots persist and decide nothing."""


_NOW = frozenset({"now", "limit"})
"""Names the rules give the current time (``ctx.now``, ``now``, the engine's ``limit``)."""

DERIVED = frozenset(
    {"client_review_end", "reactivation_deadline", "restorable_until", "feedback_closes"}
)
"""The calendar moments the key holds beside the fields they derive from (all compared
``now >= moment``): a comparison through one of them is not one of the field's."""


_FLIP = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE}
_MEANS = {ast.Gt: ">", ast.LtE: ">", ast.GtE: ">=", ast.Lt: ">="}
"""What ``elapsed OP span`` says about the boundary: ``>`` and ``<=`` put the moment itself
before it, ``>=`` and ``<`` after it (``==`` and ``!=`` are neither)."""


def test_the_audit_catches_a_key_that_forgets_what_a_guard_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Key the reactivation link's issue time as set or not: its 4-hour expiry is lost.
    spans = dict(key.FIELD_SPANS)
    spans[("Account", "link_issued_at")] = ()
    monkeypatch.setattr(key, "FIELD_SPANS", spans)
    monkeypatch.setattr(key, "_PLANS", {})

    report = check(Bounds(contracts=0, team=False, audit=True))

    assert not report.ok
    assert "different verdicts" in (report.violation or "")


def test_timestamps_keyed_as_set_or_not_are_never_compared() -> None:
    package = Path(statemachines.__file__).parent
    sources = [  # every module but the checker's own, which keys them
        p.read_text(encoding="utf-8")
        for p in package.rglob("*.py")
        if p.relative_to(package).parts[0] != "verify"
    ]
    for names in key.ONLY_SET.values():
        for name in names:
            compared = re.compile(rf"\.{name}\s*(?:[<>+-]|==|!=)|(?:[<>+-]|==|!=)\s*\w+\.{name}\b")
            hits = [m.group(0) for text in sources for m in compared.finditer(text)]
            assert hits == [], (name, hits)


def _deciding_modules() -> dict[str, ast.Module]:
    """Every module of the package that decides something, parsed, by path in the package."""
    package = Path(statemachines.__file__).parent
    return {
        p.relative_to(package).as_posix(): ast.parse(p.read_text(encoding="utf-8"))
        for layer in DECIDING
        for p in sorted((package / layer).rglob("*.py"))
        if p.name != "snapshots.py"
    }


def _reads(tree: ast.AST) -> Iterator[ast.Attribute]:
    """Attribute reads: loads, and the targets of augmented assignments (``x.n += 1``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            yield node
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
            yield node.target


def test_fields_left_out_of_the_key_are_never_read_where_anything_is_decided() -> None:
    deciding = _deciding_modules()
    assert {
        "machines/account/checks.py",
        "machines/contract/after.py",
        "marketplace/market.py",
    } <= set(deciding)
    left_out = {name for names in key.WRITE_ONLY.values() for name in names}
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


def test_the_audit_catches_a_comparison_keyed_the_wrong_way_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The link stops working at exactly 4 hours (now >= issued + 4h). Keyed as if it stopped
    # only after 4 hours, the moment itself shares a bucket with the hours before it.
    strict = dict(key._STRICT)
    strict[("Account", "link_issued_at")] = True
    monkeypatch.setattr(key, "_STRICT", strict)
    monkeypatch.setattr(key, "_PLANS", {})

    report = check(Bounds(contracts=0, team=False, audit=True))

    assert not report.ok
    assert "different verdicts" in (report.violation or "")


def _names(node: ast.AST) -> set[str]:
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            out.add(n.id)
        elif isinstance(n, ast.Attribute):
            out.add(n.attr)
    return out


def _elapsed_comparisons(tree: ast.AST, field: str) -> Iterator[tuple[str, int]]:
    """Every comparison of now with *field* (directly or through a local name set from an
    expression that reads it), as what it says about the boundary, with its line."""
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef):
            continue
        aliases = {field}
        for node in ast.walk(func):
            if not isinstance(node, ast.Assign):
                continue
            names = _names(node.value)
            if field in names and (field in DERIVED or not DERIVED & names):
                aliases |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        for node in ast.walk(func):
            if not isinstance(node, ast.Compare) or len(node.ops) != 1:
                continue
            left, right, op = node.left, node.comparators[0], type(node.ops[0])
            if op in {ast.Is, ast.IsNot, ast.In, ast.NotIn}:
                continue
            if not aliases & (_names(left) | _names(right)):
                continue
            if not _NOW & (_names(left) | _names(right)):
                continue  # two recorded times compared (an invariant over the history)
            if field not in DERIVED and DERIVED & (_names(left) | _names(right)):
                continue  # a derived moment, checked on its own
            yield _boundary(left, op, aliases), node.lineno


def _boundary(left: ast.expr, op: type[ast.cmpop], aliases: set[str]) -> str:
    if isinstance(left, ast.BinOp) and isinstance(left.op, ast.Sub):
        return _MEANS.get(op, op.__name__)  # now - t OP span
    if aliases & _names(left):  # t (+ span) OP now
        return _MEANS.get(_FLIP.get(op, op), op.__name__)
    return _MEANS.get(op, op.__name__)  # now OP t (+ span)


def test_each_field_keyed_by_one_comparison_is_compared_that_way_everywhere() -> None:
    deciding = _deciding_modules()
    seen: dict[str, set[str]] = {}
    for (_, field), op in key.COMPARED.items():
        for module, tree in deciding.items():
            for means, line in _elapsed_comparisons(tree, field):
                seen.setdefault(field, set()).add(means)
                assert means == op, (field, module, line, means)
    # every field is found compared somewhere (the scan sees them)
    assert set(seen) == {field for _, field in key.COMPARED}


def test_the_derived_moments_are_compared_from_the_moment_on() -> None:
    found = set()
    for module, tree in _deciding_modules().items():
        for name in DERIVED:
            for means, line in _elapsed_comparisons(tree, name):
                found.add(name)
                assert means == ">=", (name, module, line)
    assert {"client_review_end", "restorable_until", "feedback_closes"} <= found


def test_the_comparison_scan_tells_the_boundary_apart() -> None:
    tree = ast.parse(
        "def a(p, ctx):\n    return ctx.now - p.paid_at > W\n"
        "def b(p, now):\n    until = p.paid_at + W\n    return now >= until\n"
        "def c(p, now):\n    return p.paid_at + W <= now\n"
        "def d(p, now):\n    return now == p.paid_at\n"
    )
    assert sorted(_elapsed_comparisons(tree, "paid_at")) == [
        (">", 2),
        (">=", 5),
        (">=", 7),
        ("Eq", 9),
    ]


def test_past_only_moments_are_the_ones_keyed_without_zero() -> None:
    without_zero = {f for f, spans in key.FIELD_SPANS.items() if spans and 0 not in spans}
    assert without_zero == set(key.PAST_ONLY)


def test_key_premises_name_a_moment_stamped_ahead_of_now() -> None:
    world = World(Bounds(contracts=0, team=False))
    now = world.clock.now()
    assert key.key_premises(world.market, now) == []
    with pytest.raises(ValueError, match="does not know where to find Refund records"):
        key._records(world.market, "Refund")  # a class added to PAST_ONLY must be found
    account = world.market.account("fl-1")
    account.link_issued_at = now + timedelta(seconds=1)

    assert key.key_premises(world.market, now) == [
        f"account fl-1: its link_issued_at ({account.link_issued_at.isoformat()}) is ahead of now"
    ]


@pytest.mark.parametrize(
    "bounds",
    [
        Bounds(contracts=1, milestones=1, team=False, depth=4),
        Bounds(contracts=2, hourly=1, agency_contracts=1, team=False, depth=2),
        Bounds(contracts=0, jobs=1, agency=True, team=False, focus=("job", "proposal")),
    ],
    ids=["milestone", "hourly-and-agency", "jobs"],
)
def test_the_cached_key_tells_states_apart_exactly_as_the_fresh_one(
    monkeypatch: pytest.MonkeyPatch, bounds: Bounds
) -> None:
    # Every state a search reaches is keyed both ways; two states get the same cached key
    # exactly when they get the same fresh key.
    cached_to_fresh: dict[Any, Any] = {}
    fresh_to_cached: dict[Any, Any] = {}
    keyed = search._Search.key

    def both(self: search._Search, snap: Snapshot) -> tuple[Any, list[Any]]:
        cached, moments = keyed(self, snap)
        fresh, fresh_moments = key.world_key(self.world, symmetry=self.bounds.symmetry)
        assert cached_to_fresh.setdefault(cached, fresh) == fresh
        assert fresh_to_cached.setdefault(fresh, cached) == cached
        assert moments == fresh_moments
        return cached, moments

    monkeypatch.setattr(search._Search, "key", both)
    report = check(bounds)

    assert report.ok, report.summary()
    # every state stored, and those system events reach (keyed, not stored: ADR 0090)
    assert len(cached_to_fresh) >= report.states
