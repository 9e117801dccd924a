"""How fast each bound of the whole-marketplace checker can get: the floor its firings set.

Run: ``python benchmarks/bench_checker_floor.py --against REV [--bounds NAME,...]
[--repeat N]``.

The checker exists to fire, through the real marketplace, the attempts the tables say
fire. An attempt on an aggregate met in a context the search has not met before (the
aggregate as it is, the facts it reads, the time: a new plan, ``Planner.plan``) has an
outcome nobody knows yet: it must be fired, whatever the checker caches. Its CPU time is a
floor under the whole search: with everything else (keys, invariants, plans, snapshots,
checking the oracle's refusals, firing again in a context met before) taking no time at
all, a bound could not run faster than its states divided by that time.

For each bound of :data:`bench_checker.BOUNDS`, in fresh processes:

- commit *REV* (checked out in a temporary ``git worktree``) and this checkout, each the
  best of ``--repeat`` runs by CPU time, as ``bench_checker.py --against`` runs them;
- more runs of this checkout (``--repeat`` of them, the one whose firings in new contexts
  took the least kept) that time every call of ``Marketplace.fire`` made for an
  attempt the tables say fires (the outermost call only: the marketplace's own work, not
  the checker's bookkeeping around it), split by whether the attempt's plan was just made
  (a new context) or made before (a context met before, where the outcome was not put
  back: the state was not quiet, the event changed other aggregates, or the share fired
  again to check what is put back).

It prints both, and the largest speed-up over *REV* the bound could reach if it did
nothing but the firings in new contexts (its states over their CPU seconds, divided by
*REV*'s states per second).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmark beside this one

from bench_checker import BOUNDS, _best, bound_names, least, run_code, worktree

FLOOR = """
import json, time
from statemachines.marketplace.market import Marketplace
from statemachines.verify import search
from statemachines.verify.checker import Bounds, check

clock = time.process_time
spent = {{True: [0.0, 0], False: [0.0, 0]}}
now = {{"legal": False, "made": False, "depth": 0}}
fire_market = Marketplace.fire
fire_search = search._Search.fire
steps = search._Search.steps

def timed(self, *args, **kwargs):
    if not now["legal"] or now["depth"]:
        return fire_market(self, *args, **kwargs)
    now["depth"] += 1
    began = clock()
    try:
        return fire_market(self, *args, **kwargs)
    finally:
        part = spent[now["made"]]
        part[0] += clock() - began
        part[1] += 1
        now["depth"] -= 1

def fire(self, attempt, *args):
    now["legal"] = attempt.expected.outcome == "fires"
    try:
        return fire_search(self, attempt, *args)
    finally:
        now["legal"] = False

def plan_steps(self, plan, made, **kwargs):
    run = steps(self, plan, made, **kwargs)
    while True:
        now["made"] = made  # the plan whose attempts fire until the next step is yielded
        try:
            step = next(run)
        except StopIteration:
            return
        yield step

Marketplace.fire = timed
search._Search.fire = fire
search._Search.steps = plan_steps
r = check(Bounds(**{bounds!r}))
print(json.dumps(dict(states=r.states, new=spent[True], again=spent[False])))
"""


def firing(bounds: dict[str, object], budget: float, repeat: int) -> dict[str, Any]:
    """The CPU seconds this checkout spends firing the attempts the tables say fire: of
    *repeat* runs, the one whose firings in new contexts took the least."""
    here = str(Path(__file__).resolve().parents[1])
    code = FLOOR.format(bounds=bounds)
    return least(lambda: run_code(here, code, budget), repeat, lambda r: r["new"][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", required=True, help="the earlier commit")
    parser.add_argument("--bounds", default=",".join(BOUNDS), help="comma-separated names")
    parser.add_argument("--repeat", type=int, default=1, help="runs per side (least CPU kept)")
    parser.add_argument("--budget", type=float, default=1800.0, help="seconds per run")
    args = parser.parse_args()
    names = bound_names(parser, args.bounds, args.repeat)
    here = str(Path(__file__).resolve().parents[1])
    with worktree(args.against) as base:
        print(f"## The floor firings set, this checkout against {args.against}\n")
        print(
            "| bound | states | CPU s before | CPU s after | ratio now | firings in new "
            "contexts | their CPU s | share | firings in contexts met before | their CPU s "
            "| ratio at most |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name in names:
            print(_row(name, base, here, args.budget, args.repeat))
            sys.stdout.flush()


def _row(name: str, base: str, here: str, budget: float, repeat: int) -> str:
    bounds = BOUNDS[name]
    before = _best(base, bounds, budget, repeat)
    after = _best(here, bounds, budget, repeat)
    floor = firing(bounds, budget, repeat)
    if not all("seconds" in r for r in (before, after)) or "new" not in floor:
        return f"| {name} | did not finish in {budget:.0f} s (or failed) |" + " |" * 9
    b_rate = float(before["states"]) / float(before["seconds"])
    states = float(after["states"])
    secs = float(after["seconds"])
    new_secs, new_n = floor["new"]
    again_secs, again_n = floor["again"]
    return (
        f"| {name} | {int(states):,} | {float(before['seconds']):.2f} | {secs:.2f} "
        f"| {states / secs / b_rate:.1f}x | {new_n:,} | {new_secs:.2f} | {new_secs / secs:.0%} "
        f"| {again_n:,} | {again_secs:.2f} | {states / new_secs / b_rate:.1f}x |"
    )


if __name__ == "__main__":
    main()
