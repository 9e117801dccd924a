"""The statemachines pytest plugin: a manual clock, a marketplace on each store.

Installed with the package and registered through the ``pytest11`` entry point (named
``statemachines``), so a project that installs statemachines gets these fixtures in every
test without importing anything (``-p no:statemachines`` turns it off):

* ``manual_clock``: a :class:`~statemachines.core.clock.ManualClock` at
  :data:`~statemachines.testing.cast.START` (a Monday, 09:00 UTC);
* ``marketplace``: an empty :class:`~statemachines.marketplace.market.Marketplace` on that
  clock, once per store of :data:`STORES` (the test runs on each).

The assertion helpers (``assert_refused``, ``assert_not_permitted``, ...) are plain
functions: ``from statemachines.testing import assert_refused``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from statemachines.core.clock import ManualClock
from statemachines.marketplace.market import Marketplace, MemoryStore, Store
from statemachines.testing.cast import START

__all__ = ["STORES", "manual_clock", "marketplace"]

STORES: dict[str, Callable[[], Store]] = {"memory": MemoryStore}
"""The stores the ``marketplace`` fixture runs each test on, by name (the test id)."""


@pytest.fixture
def manual_clock() -> ManualClock:
    """A manual clock at :data:`~statemachines.testing.cast.START`: it moves when told."""
    return ManualClock(START)


@pytest.fixture(params=sorted(STORES))
def marketplace(request: pytest.FixtureRequest, manual_clock: ManualClock) -> Marketplace:
    """An empty marketplace on ``manual_clock``, once on each store of :data:`STORES`."""
    return Marketplace(clock=manual_clock, store=STORES[request.param]())
