"""The testing kit's marketplace state machine, run on the project itself, with rare states.

:class:`statemachines.testing.MarketplaceMachine` is what users subclass; the project tests
itself with the same machine, so the kit stays honest. Random people act on a small
marketplace while time runs, with swarm testing, and after every step the account
invariants hold, a refused or illegal event changes nothing, and every refusal explains
itself (see the machine's docstring for the rules, the swarm and the rare states).

This test runs the machine under the current Hypothesis profile, checking every invariant
after every step, and counts the rare states each run reached (:data:`REACHED`; also as
Hypothesis ``event()`` notes, ``pytest --hypothesis-show-statistics``). Under the
derandomized ``ci`` profile every rare state of :data:`~statemachines.testing.stateful.RARE_STATES`
must be reached; under ``dev`` (random, 60 runs) it only checks the names: a random run may
miss one, and a flaky test helps nobody.

The machine runs on every store (the ``store`` fixture): on SQLite each run has a new
file (on PostgreSQL a new schema), and when the run ends the database, read afresh, must
hold exactly what the run saw. PostgreSQL runs :data:`POSTGRES_SHARE` of the profile's
examples (its round trips cost more, and the CI run has a time budget), so it is not
asked to reach every rare state: with the same examples it behaves as memory does.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from statemachines import ManualClock
from statemachines.marketplace.market import Marketplace
from statemachines.marketplace.stores import open_store
from statemachines.marketplace.stores.sqlite import SqliteStore
from statemachines.testing import MarketplaceMachine, standard_marketplace
from statemachines.testing.stateful import RARE_STATES
from tests.marketplace import postgres_db
from tests.marketplace.conftest import assert_events_agree, assert_stored

POSTGRES_SHARE = 4
"""PostgreSQL runs one example in this many of the profile's."""

REACHED: Counter[str] = Counter()
"""Rare state -> how many runs (test cases) reached it, since the last ``clear()``."""


class ProjectMachine(MarketplaceMachine):
    """The kit's machine, counting the rare states each run reached."""

    STORE = "memory"
    """The store each run uses (``memory``, ``sqlite``: a new file per run, or ``postgres``:
    a new schema per run)."""

    def make_marketplace(self, clock: ManualClock) -> Marketplace:
        self.folder = None
        self.stored = self.STORE != "memory"
        if self.STORE == "memory":
            return standard_marketplace(clock)
        if self.STORE == "postgres":
            return standard_marketplace(clock, store=open_store(postgres_db.new_database()))
        self.folder = Path(tempfile.mkdtemp(prefix="market-"))
        return standard_marketplace(clock, store=SqliteStore(self.folder / "m.db"))

    def teardown(self) -> None:
        REACHED.update(self.reached)
        assert_events_agree(self.market)
        if self.stored:
            assert_stored(self.market)
            self.market.close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


def test_marketplace_swarm_reaches_rare_states(
    record_property: Callable[[str, object], None], store: str
) -> None:
    """The state machine under the current profile; under ``ci`` every rare state is reached."""
    REACHED.clear()
    machine = type(f"ProjectMachineOn{store.title()}", (ProjectMachine,), {"STORE": store})
    profile = settings()
    if store == "postgres":
        profile = settings(profile, max_examples=max(profile.max_examples // POSTGRES_SHARE, 5))
    try:
        run_state_machine_as_test(machine, settings=profile)
    finally:
        postgres_db.drop_all()
    reached = dict(sorted(REACHED.items()))
    record_property("rare_states_reached", reached)
    assert set(reached) <= set(RARE_STATES)
    if profile.derandomize and store != "postgres":
        missed = sorted(set(RARE_STATES) - set(reached))
        assert set(reached) == set(RARE_STATES), f"never reached: {missed}; reached: {reached}"
