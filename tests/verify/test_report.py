"""The checker's report: how far the search went, in words a reader can act on."""

from __future__ import annotations

from statemachines.verify.search import check
from statemachines.verify.world import Bounds


def test_the_report_says_how_far_the_search_went() -> None:
    ended = check(Bounds(contracts=0, team=False))
    assert ended.exhaustive
    assert ended.reach().startswith("explored to the end")
    # a depth the search never reaches stops nothing
    assert check(Bounds(contracts=0, team=False, depth=ended.depth + 1)).exhaustive
    shallow = check(Bounds(contracts=0, team=False, depth=2))
    assert shallow.complete
    assert not shallow.exhaustive
    assert shallow.reach().startswith("explored to depth 2")
    cut = check(Bounds(contracts=0, team=False, max_states=5))
    assert not cut.exhaustive
    assert cut.reach().startswith("cut short by --max-states")
