"""How fast each bound of the whole-marketplace checker can get: the floor its firings set.

Run: ``python benchmarks/bench_checker_floor.py --against REV [--bounds NAME,...]
[--repeat N]``.

The checker exists to fire, through the real marketplace, every attempt the tables say
fires (an outcome is put back instead only where the same aggregate, facts and time were
met before, and a share of those is fired again). That work cannot be skipped, so its CPU
time is a floor under the whole search: with everything else (keys, invariants, plans,
snapshots, the attempts the oracle decides) taking no time at all, a bound could not run
faster than its states divided by that time.

For each bound of :data:`bench_checker.BOUNDS`, in fresh processes:

- commit *REV* (checked out in a temporary ``git worktree``) and this checkout, each the
  best of ``--repeat`` runs by CPU time, as ``bench_checker.py --against`` runs them;
- one more run of this checkout that times every call of ``Marketplace.fire`` made for an
  attempt the tables say fires (the outermost call only; the checker's own bookkeeping
  around it is not counted, nor are the attempts fired to check the oracle's refusals).

It prints the CPU seconds of those firings, their share of the uninstrumented run, and the
largest speed-up over *REV* the bound could reach if everything else took no time (its
states over the firings' seconds, divided by *REV*'s states per second).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmark beside this one

from bench_checker import BOUNDS, _best, bound_names, worktree

FLOOR = """
import json, time
from statemachines.marketplace.market import Marketplace
from statemachines.verify import search
from statemachines.verify.checker import Bounds, check

clock = time.process_time
spent = [0.0, 0]
legal = [False]
depth = [0]
fire_market = Marketplace.fire
fire_search = search._Search.fire

def timed(self, *args, **kwargs):
    if not legal[0] or depth[0]:
        return fire_market(self, *args, **kwargs)
    depth[0] += 1
    began = clock()
    try:
        return fire_market(self, *args, **kwargs)
    finally:
        spent[0] += clock() - began
        spent[1] += 1
        depth[0] -= 1

def fire(self, attempt, *args):
    legal[0] = attempt.expected.outcome == "fires"
    try:
        return fire_search(self, attempt, *args)
    finally:
        legal[0] = False

Marketplace.fire = timed
search._Search.fire = fire
r = check(Bounds(**{bounds!r}))
print(json.dumps(dict(states=r.states, firing=spent[0], fired=spent[1])))
"""


def firing(bounds: dict[str, object], budget: float) -> dict[str, object]:
    """The CPU seconds this checkout spends firing the attempts the tables say fire."""
    here = str(Path(__file__).resolve().parents[1])
    try:
        done = subprocess.run(
            [sys.executable, "-c", FLOOR.format(bounds=bounds)],
            capture_output=True,
            text=True,
            timeout=budget,
            check=True,
            cwd=here,
            env={**os.environ, "PYTHONPATH": here},
        )
    except subprocess.TimeoutExpired:
        return {"unfinished": True}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


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
            "| bound | states | CPU s before | CPU s after | ratio now | firings | "
            "their CPU s | share | ratio at most |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name in names:
            print(_row(name, base, here, args.budget, args.repeat))
            sys.stdout.flush()


def _row(name: str, base: str, here: str, budget: float, repeat: int) -> str:
    bounds = BOUNDS[name]
    before = _best(base, bounds, budget, repeat)
    after = _best(here, bounds, budget, repeat)
    floor = firing(bounds, budget)
    if not all("seconds" in r for r in (before, after)) or "firing" not in floor:
        return f"| {name} | did not finish in {budget:.0f} s (or failed) | | | | | | | |"
    b_rate = float(before["states"]) / float(before["seconds"])  # type: ignore[arg-type]
    states = float(after["states"])  # type: ignore[arg-type]
    secs = float(after["seconds"])  # type: ignore[arg-type]
    spent = float(floor["firing"])  # type: ignore[arg-type]
    return (
        f"| {name} | {int(states):,} | {float(before['seconds']):.2f} | {secs:.2f} "  # type: ignore[arg-type]
        f"| {states / secs / b_rate:.1f}x | {int(floor['fired']):,} | {spent:.2f} "  # type: ignore[call-overload]
        f"| {spent / secs:.0%} | {states / spent / b_rate:.1f}x |"
    )


if __name__ == "__main__":
    main()
