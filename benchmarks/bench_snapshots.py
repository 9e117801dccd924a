"""Snapshot load and dump per aggregate kind: the cattrs converter against v0.1's walker.

Run: ``.venv/bin/python benchmarks/bench_snapshots.py [--quick]``. Both are measured in
one run on the same snapshots (``tests/core/fixtures/``, written by v0.1), and the
script prints ratios, not absolute targets.

What is measured, per fixture (microseconds per call, best of interleaved rounds):

* load: ``from_dict`` of v0.1 (``benchmarks/snapshots_v01.py``, the anchor) and of today,
  which does more: besides the types it checks that the history leads to the state, the
  deadlines, the currencies and the machine's registered invariants. Today's figure is
  split into the converter (types, history, deadlines, currencies) and the invariants;
* dump: ``to_dict`` of v0.1 and of today;
* load against plain cattrs (issue 14: loading is on the service's hot path): a default
  ``cattrs.Converter`` structuring the same snapshot into the same class, with only the
  hooks it cannot do without (ISO datetimes, amounts, actors, deadlines, the history's
  decisions and states) and no check beyond the classes' own constructors. Today's
  ``from_dict`` checks everything ADR 0008 lists; its converter part reads every field with
  a strict hook, checks the history against the table as it reads it and skips the
  constructors' field checks (:data:`~statemachines.core.fields.LOADER_CHECKED`), so the
  remaining price is the machine's registered invariants. The SQLite store reads a row
  it wrote checked without them (ADR 0028): ``from_dict(data, invariants=False)`` and the
  CRC-32 of the row's text, the last column.

A ratio below 1.00 means today's code is faster than its anchor.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import zlib
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import cattrs
import snapshots_v01 as v01  # the anchor, beside this file
from cattrs.gen import make_dict_structure_fn, override

from statemachines.core import snapshots
from statemachines.core.actors import Actor, Role
from statemachines.core.engine import SPECS, SPECS_BY_MODEL, Deadline, Decision
from statemachines.core.money import Money

FIXTURES = Path(__file__).parent.parent / "tests" / "core" / "fixtures"


def per_call(fns: list[Callable[[], object]], n: int, rounds: int) -> list[float]:
    """Best time of *rounds* runs of *n* calls of each function, in microseconds per call.

    The rounds are interleaved (a round of each function in turn), so that a busy machine
    slows every contender alike, and timed in CPU time of this process (time other
    processes take the core from it is not counted).
    """
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.process_time()
            for _ in range(n):
                fn()
            best[i] = min(best[i], time.process_time() - start)
    return [b / n * 1e6 for b in best]


def plain_cattrs() -> cattrs.Converter:
    """The anchor for loading: cattrs' defaults, and the hooks it cannot do without."""
    conv = cattrs.Converter()
    when = datetime.fromisoformat

    def actor(v: Any) -> Actor:
        return Actor(v["id"], Role(v["role"]), v["party"])

    conv.register_structure_hook(datetime, lambda v, _: when(v))
    conv.register_structure_hook(Money, lambda v, _: Money(v["cents"], v["currency"]))
    conv.register_structure_hook(Actor, lambda v, _: actor(v))
    conv.register_structure_hook(
        Deadline, lambda v, _: Deadline(v["key"], v["event"], when(v["due"]))
    )

    def aggregate(model: type) -> Callable[[Any, Any], Any]:
        states = SPECS_BY_MODEL[model].states

        def history(value: Any, _: Any) -> list[Decision]:
            return [
                Decision(
                    when(d["at"]),
                    actor(d["actor"]),
                    d["event"],
                    states(d["source"]),
                    states(d["target"]),
                    d["payload"],
                    d["deadline"],
                )
                for d in value
            ]

        fn: Callable[[Any, Any], Any] = make_dict_structure_fn(
            model, conv, history=override(struct_hook=history)
        )
        return fn

    conv.register_structure_hook_factory(lambda t: t in SPECS_BY_MODEL, aggregate)
    return conv


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    args = parser.parse_args()
    n, rounds = (200, 3) if args.quick else (1_000, 9)

    plain = plain_cattrs()
    print(f"{'snapshot':<24}{'':>6}{'v0.1 us':>10}{'today us':>10}{'ratio':>8}   today's load")
    loads, dumps, pars = [], [], []
    for path in sorted(FIXTURES.glob("*.json")):
        data = json.loads(path.read_text())
        aggregate = snapshots.from_dict(data)
        assert v01.from_dict(data) == aggregate
        assert v01.to_dict(aggregate) == snapshots.to_dict(aggregate) == data

        model = SPECS[data["schema"].removeprefix(snapshots.PREFIX)].model
        assert plain.structure(data, model) == aggregate
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)

        def stored(data: dict[str, Any] = data, text: str = text) -> object:
            zlib.crc32(text.encode())
            return snapshots.from_dict(data, invariants=False)

        old, new, converter, anchor, store = per_call(
            [
                partial(v01.from_dict, data),
                partial(snapshots.from_dict, data),
                partial(snapshots.from_dict, data, invariants=False),  # the converter
                partial(plain.structure, data, model),
                stored,
            ],
            n,
            rounds,
        )
        loads.append(new / old)
        pars.append((path.stem, new / anchor, converter / anchor, store / anchor))
        print(
            f"{path.stem:<24}{'load':>6}{old:>10.1f}{new:>10.1f}{new / old:>7.2f}x"
            f"   converter {converter:.1f}, invariants {new - converter:.1f}; "
            f"plain cattrs {anchor:.1f}: {new / anchor:.2f}x (converter {converter / anchor:.2f}x)"
        )
        old, new = per_call(
            [partial(v01.to_dict, aggregate), partial(snapshots.to_dict, aggregate)], n, rounds
        )
        dumps.append(new / old)
        print(f"{'':<24}{'dump':>6}{old:>10.1f}{new:>10.1f}{new / old:>7.2f}x")
    print(
        f"\nratio today / v0.1: load {min(loads):.2f}x to {max(loads):.2f}x, "
        f"dump {min(dumps):.2f}x to {max(dumps):.2f}x"
    )
    print("ratio to plain cattrs of: from_dict; its converter; the store's read of its own row")
    for stem, full, converter, store in pars:
        print(f"  {stem:<24}{full:>6.2f}x {converter:>6.2f}x {store:>6.2f}x")


if __name__ == "__main__":
    main()
