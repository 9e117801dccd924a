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
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from statemachines.testing import MarketplaceMachine
from statemachines.testing.stateful import RARE_STATES

REACHED: Counter[str] = Counter()
"""Rare state -> how many runs (test cases) reached it, since the last ``clear()``."""


class ProjectMachine(MarketplaceMachine):
    """The kit's machine, counting the rare states each run reached."""

    def teardown(self) -> None:
        REACHED.update(self.reached)


def test_marketplace_swarm_reaches_rare_states(
    record_property: Callable[[str, object], None],
) -> None:
    """The state machine under the current profile; under ``ci`` every rare state is reached."""
    REACHED.clear()
    run_state_machine_as_test(ProjectMachine, settings=settings())
    reached = dict(sorted(REACHED.items()))
    record_property("rare_states_reached", reached)
    assert set(reached) <= set(RARE_STATES)
    if settings().derandomize:
        missed = sorted(set(RARE_STATES) - set(reached))
        assert set(reached) == set(RARE_STATES), f"never reached: {missed}; reached: {reached}"
