"""The oracle: what the tables say an attempt must do agrees with what firing it does.

:func:`statemachines.verify.oracle.predict` reads an attempt's outcome off the table
without firing it; the search relies on it in every state. Here it is compared with the
engine on every attempt of a small world's first state, and :func:`verdicts` is shown to
tell two states apart that the table treats differently.
"""

from __future__ import annotations

from collections import Counter

from statemachines.errors import StatemachinesError
from statemachines.verify.oracle import _frozen_client, _outcome, predict, verdicts
from statemachines.verify.world import ACTING, ACTORS, Bounds, World, payloads


def test_the_oracle_agrees_with_the_engine_on_every_attempt_of_the_first_state() -> None:
    world = World(Bounds(contracts=1, team=False))
    market = world.market
    outcomes: Counter[tuple[str, str]] = Counter()
    for kind in ACTING:
        flow = market._flows[kind]
        for agg_id in [agg.id for agg in market.store.values(kind)]:
            for event in flow.spec.events:
                for actor in ACTORS:
                    for payload in payloads(world, kind, market.get(kind, agg_id), event):
                        world.restore(world.initial)
                        agg = market.get(kind, agg_id)
                        expected = _frozen_client(market, kind, agg, event) or predict(
                            flow, agg, event, actor, payload, world.clock.now()
                        )
                        try:
                            market.fire(kind, agg_id, event, actor, **payload)
                            got = "fires"
                        except StatemachinesError as err:
                            got = _outcome(err)
                        outcomes[expected.outcome, got] += 1

    assert {(said, got) for said, got in outcomes if said != got} == set()
    # every kind of outcome is among them, so each branch of the oracle was compared
    assert {said for said, _ in outcomes} == {"fires", "illegal", "not_permitted", "refused"}


def test_verdicts_change_when_the_table_would_decide_differently() -> None:
    world = World(Bounds(contracts=1, team=False))
    first = verdicts(world)
    assert verdicts(world) == first  # reading them changes nothing

    ana = next(a for a in ACTORS if a.id == "ana")
    world.market.fire(
        "contract",
        "C-1",
        "add_milestone",
        ana,
        **payloads(world, "contract", world.market.get("contract", "C-1"), "add_milestone")[0],
    )

    assert verdicts(world) != first
