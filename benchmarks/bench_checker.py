"""Benchmark of the checkers: states per second side by side, and states, time, memory by bound.

Run: ``python benchmarks/bench_checker.py [--quick] [--budget SECONDS] [--market-depth D]``,
or ``python benchmarks/bench_checker.py --against REV [--bounds NAME,...] [--repeat N]`` for
the speed-up of the whole-marketplace checker against an earlier commit (section 3).

1. Side by side, in one run, on the same bounded model (N contracts of M milestones of
   the milestone machine, at most one live milestone per contract, MS-2):
   ``checker_table.explore`` (successors compiled from ``MILESTONE``'s edges) and a plain
   Python explorer written here over a hand-written dict table. Best of 5, CPU time.
2. A table of states, CPU time and peak memory for N = 1..4, M = 1..3, with and
   without symmetry reduction, for the table explorer and for the full marketplace
   checker (``statemachines.verify.checker``, at depth ``--market-depth``). Each cell runs in a
   fresh process (peak RSS of the whole process, interpreter and package included: about
   50 MB of it is the imports); a cell that passes
   ``--budget`` seconds is reported as not finished.
3. ``--against REV``: the whole-marketplace checker on the bounds CI runs (:data:`BOUNDS`),
   this checkout against commit *REV*, checked out in a temporary ``git worktree`` and run
   with the same interpreter. Each bound runs in a fresh process, the two checkouts one
   after the other, in one run: states, merges, CPU seconds (``time.process_time``), states
   per CPU second, peak RSS, and the ratio of states per second. A bound the earlier commit
   does not finish within ``--budget`` seconds is reported as not finished (its rate so far
   is not known, so no ratio). With ``--repeat N``, each side runs each bound N times and
   the run with the least CPU time is reported: on a shared virtual machine the same run
   varies by up to 15 % between runs, always upwards, so the least is the best estimate.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

PLAIN_TABLE: dict[str, tuple[str, ...]] = {
    "DRAFT": ("FUNDED", "CANCELLED", "DELETED"),
    "FUNDED": ("SUBMITTED", "APPROVED", "CANCELLED"),
    "SUBMITTED": ("CHANGES_REQUESTED", "APPROVED", "CANCELLED", "DISPUTED"),
    "CHANGES_REQUESTED": ("RESUBMITTED", "APPROVED", "CANCELLED", "DISPUTED"),
    "RESUBMITTED": ("CHANGES_REQUESTED", "APPROVED", "CANCELLED", "DISPUTED"),
    "DISPUTED": ("APPROVED", "CANCELLED"),
    "APPROVED": (),
    "CANCELLED": (),
    "DELETED": (),
}
"""The milestone machine as a plain dict (what a hand-written explorer would use)."""

PLAIN_LIVE = frozenset({"FUNDED", "SUBMITTED", "CHANGES_REQUESTED", "RESUBMITTED", "DISPUTED"})


def plain_explore(groups: int, members: int, *, symmetry: bool = True) -> tuple[int, float]:
    """The plain explorer: the same search over strings and a dict table."""
    start = (("DRAFT",) * members,) * groups
    seen = {start}
    queue = deque([start])
    began = time.process_time()
    while queue:
        world = queue.popleft()
        for g, states in enumerate(world):
            busy = sum(1 for s in states if s in PLAIN_LIVE)
            for i, s in enumerate(states):
                if symmetry and i and states[i - 1] == s:
                    continue
                for t in PLAIN_TABLE[s]:
                    if t in PLAIN_LIVE and s not in PLAIN_LIVE and busy >= 1:
                        continue
                    moved = (*states[:i], t, *states[i + 1 :])
                    if symmetry:
                        moved = tuple(sorted(moved))
                    new = (*world[:g], moved, *world[g + 1 :])
                    if symmetry:
                        new = tuple(sorted(new))
                    if new not in seen:
                        seen.add(new)
                        queue.append(new)
    return len(seen), time.process_time() - began


def side_by_side(groups: int, members: int, rounds: int = 5) -> dict[str, float]:
    """Best-of-*rounds* states per second of both explorers, interleaved."""
    from statemachines.machines.milestone import MILESTONE
    from statemachines.verify.table import LIVE_MILESTONE, explore

    best_checker = best_plain = 0.0
    states = 0
    for _ in range(rounds):
        report = explore(MILESTONE, groups=groups, members=members, live=LIVE_MILESTONE)
        best_checker = max(best_checker, report.rate)
        count, seconds = plain_explore(groups, members)
        assert count == report.states, (count, report.states)
        states = count
        best_plain = max(best_plain, count / seconds)
    return {"states": states, "checker": best_checker, "plain": best_plain}


CELL = """
import json, resource, time
from statemachines.machines.milestone import MILESTONE
from statemachines.verify.table import LIVE_MILESTONE, explore
from statemachines.verify.checker import Bounds, check
kind, n, m, sym, depth = {args!r}
if kind == "table":
    r = explore(MILESTONE, groups=n, members=m, live=LIVE_MILESTONE, symmetry=sym)
    out = dict(states=r.states, seconds=r.seconds, ok=True)
else:
    began = time.process_time()
    r = check(Bounds(contracts=n, milestones=m, symmetry=sym, depth=depth))
    out = dict(states=r.states, seconds=time.process_time() - began, ok=r.ok)
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def cell(  # noqa: PLR0917  (the bound, spelled out)
    kind: str, n: int, m: int, sym: bool, depth: int, budget: float
) -> dict[str, object] | None:
    """One bound, in a fresh process; None when it did not finish within *budget* seconds."""
    code = CELL.format(args=(kind, n, m, sym, depth))
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=budget, check=True
        )
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as err:  # e.g. out of memory
        return {"error": err.stderr.strip().splitlines()[-1] if err.stderr else str(err)}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


_FIVE = (500,)

BOUNDS: dict[str, dict[str, object]] = {
    "ci (depth 2)": {"contracts": 1, "milestones": 1, "depth": 2},
    "contract (depth 3)": {
        "contracts": 2,
        "hourly": 1,
        "milestones": 1,
        "team": False,
        "focus": ("contract",),
        "depth": 3,
    },
    "smallest": {"contracts": 1, "milestones": 0, "payments": 0, "team": False, "amounts": _FIVE},
    "team": {"contracts": 0},
    "agency contract": {
        "contracts": 1,
        "agency_contracts": 1,
        "milestones": 0,
        "payments": 0,
        "team": False,
        "amounts": _FIVE,
    },
    "milestone": {
        "contracts": 1,
        "milestones": 1,
        "payments": 0,
        "team": False,
        "amounts": _FIVE,
    },
    "milestone and payment (first 5000 states)": {
        "contracts": 1,
        "milestones": 1,
        "payments": 1,
        "team": False,
        "amounts": _FIVE,
        "max_states": 5_000,
    },
    "milestone and payment (first 50000 states)": {
        "contracts": 1,
        "milestones": 1,
        "payments": 1,
        "team": False,
        "amounts": _FIVE,
        "max_states": 50_000,
    },
    "milestone and payment (first 300000 states)": {
        "contracts": 1,
        "milestones": 1,
        "payments": 1,
        "team": False,
        "amounts": _FIVE,
        "max_states": 300_000,
    },
    "hourly (first 5000 states)": {
        "contracts": 1,
        "hourly": 1,
        "milestones": 0,
        "payments": 0,
        "team": False,
        "amounts": _FIVE,
        "max_states": 5_000,
    },
    "hiring": {
        "contracts": 0,
        "jobs": 1,
        "team": False,
        "focus": ("account", "job", "proposal"),
    },
}
"""The bounds CI runs (the tests' and ``scripts/test``'s), exactly as they run them (the
first two at a depth, the others to the end), and two that the earlier commit does not end,
cut at the same number of states in both checkouts (their states per second so far): the
milestone-and-payment bound (which CI now runs to the end, 514,351 states, ADR 0095) at
5,000, 50,000 and 300,000 states (where the issue's own run of the earlier commit stopped,
after 56 minutes), and the hourly bound at 5,000 (it ends at 4,614 now)."""

AGAINST = """
import json, resource, sys, time
from statemachines.verify.checker import Bounds, check
bounds = Bounds(**{bounds!r})
began = time.process_time()
r = check(bounds)
out = dict(states=r.states, merged=r.merged, seconds=time.process_time() - began, ok=r.ok,
           complete=r.complete, depth=r.depth)
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run_code(checkout: str, code: str, budget: float) -> dict[str, Any]:
    """*code* run on the package of *checkout* in a fresh process: the JSON object its last
    line prints, or ``{"unfinished": True}`` past *budget* seconds, or ``{"error": ...}``."""
    env = {**os.environ, "PYTHONPATH": checkout}
    try:
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=budget,
            check=True,
            env=env,
            cwd=checkout,
        )
    except subprocess.TimeoutExpired:
        return {"unfinished": True}
    except subprocess.CalledProcessError as err:
        return {"error": err.stderr.strip().splitlines()[-1] if err.stderr else str(err)}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_against(checkout: str, bounds: dict[str, object], budget: float) -> dict[str, Any]:
    """One bound on the package of *checkout*, in a fresh process."""
    return run_code(checkout, AGAINST.format(bounds=bounds), budget)


def least(
    run: Callable[[], dict[str, Any]], repeat: int, by: Callable[[dict[str, Any]], float]
) -> dict[str, Any]:
    """Of *repeat* calls of *run*, the result with the least *by*; the first that did not
    finish or failed (see :func:`run_code`) is returned as it is."""
    best: dict[str, Any] | None = None
    for _ in range(repeat):
        result = run()
        if "unfinished" in result or "error" in result:
            return result
        if best is None or by(result) < by(best):
            best = result
    assert best is not None
    return best


def _best(checkout: str, bounds: dict[str, object], budget: float, repeat: int) -> dict[str, Any]:
    """The run of *bounds* on *checkout* with the least CPU time of *repeat* runs (each in
    a fresh process; one that does not finish or fails is what is reported)."""
    return least(lambda: run_against(checkout, bounds, budget), repeat, lambda r: r["seconds"])


@contextlib.contextmanager
def worktree(rev: str) -> Iterator[str]:
    """Commit *rev* checked out in a temporary ``git worktree`` (removed afterwards)."""
    here = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory(prefix="bench-checker-") as tmp:
        base = str(Path(tmp) / "baseline")
        subprocess.run(
            ["git", "-C", here, "worktree", "add", "--detach", base, rev],
            check=True,
            capture_output=True,
        )
        try:
            yield base
        finally:
            subprocess.run(
                ["git", "-C", here, "worktree", "remove", "--force", base],
                check=False,
                capture_output=True,
            )


def bound_names(parser: argparse.ArgumentParser, bounds: str, repeat: int) -> list[str]:
    """The names of :data:`BOUNDS` in *bounds* (comma-separated); a usage error for an
    unknown one, or for *repeat* under 1."""
    names = [n.strip() for n in bounds.split(",") if n.strip()]
    unknown = [n for n in names if n not in BOUNDS]
    if unknown:
        parser.error(f"unknown bounds {unknown}; the bounds are {list(BOUNDS)}")
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    return names


def against(rev: str, names: list[str], budget: float, repeat: int = 1) -> None:
    """Section 3: this checkout against commit *rev*, bound by bound (each side the best of
    *repeat* runs)."""
    here = str(Path(__file__).resolve().parents[1])
    with worktree(rev) as base:
        commit = subprocess.run(
            ["git", "-C", base, "rev-parse", "--short", "HEAD"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        print(f"## Whole-marketplace checker: this checkout against {rev} ({commit})\n")
        print(
            "| bound | states | merges | CPU s before | CPU s after | states/s before | "
            "states/s after | ratio | peak RSS MB before | after |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for name in names:
            before = _best(base, BOUNDS[name], budget, repeat)
            after = _best(here, BOUNDS[name], budget, repeat)
            print(_row(name, before, after, budget))
            sys.stdout.flush()


def _row(name: str, before: dict[str, object], after: dict[str, object], budget: float) -> str:
    def part(r: dict[str, object]) -> tuple[str, str, str, str, float]:
        if "unfinished" in r:
            return f"not finished in {budget:.0f} s", "", "", "", 0.0
        if "error" in r:
            return f"failed: {r['error']}", "", "", "", 0.0
        states = int(r["states"])  # type: ignore[call-overload]
        secs = float(r["seconds"])  # type: ignore[arg-type]
        rate = states / secs if secs else 0.0
        peak = f"{float(r['peak_mb']):.0f}"  # type: ignore[arg-type]
        return f"{secs:.1f}", f"{rate:,.0f}", peak, f"{states:,}", rate

    b_secs, b_rate, b_peak, b_states, b = part(before)
    a_secs, a_rate, a_peak, a_states, a = part(after)
    merges = f"{int(after['merged']):,}" if "merged" in after else ""  # type: ignore[call-overload]
    if b_states and a_states and b_states != a_states:
        a_states = f"{b_states} -> {a_states}"
    if after.get("ok") is False:
        a_states = f"{a_states} (stopped at a violation)"
    ratio = f"{a / b:.1f}x" if a and b else ""
    states = a_states or b_states
    return (
        f"| {name} | {states} | {merges} | {b_secs} | {a_secs} | {b_rate} | {a_rate} | {ratio} "
        f"| {b_peak} | {a_peak} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="N, M up to 2 only")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per cell")
    parser.add_argument("--market-depth", type=int, default=2, help="depth of the full checker")
    parser.add_argument("--skip-market", action="store_true")
    parser.add_argument("--skip-table", action="store_true", help="only the marketplace table")
    parser.add_argument("--against", metavar="REV", help="section 3: against this commit")
    parser.add_argument(
        "--bounds", default=",".join(BOUNDS), help="section 3: which bounds (comma-separated)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="section 3: runs of each bound on each side; the one with the least CPU time "
        "is reported (the box's noise is one-sided: it only ever adds time)",
    )
    args = parser.parse_args()
    if args.against:
        names = bound_names(parser, args.bounds, args.repeat)
        against(args.against, names, args.budget, args.repeat)
        return
    top = 2 if args.quick else 4
    print("## Side by side (4 contracts x 3 milestones, symmetry on, best of 5, CPU time)\n")
    s = side_by_side(min(top, 4), min(top, 3))
    ratio = s["checker"] / s["plain"]
    print("| explorer | states | states/s |\n|---|---:|---:|")
    print(f"| checker_table (compiled from MILESTONE) | {s['states']:,} | {s['checker']:,.0f} |")
    print(f"| plain Python over a dict table | {s['states']:,} | {s['plain']:,.0f} |")
    print(f"\nratio checker / plain: {ratio:.2f} (goal: at least 0.50)\n")
    kinds = [k for k in ("table", "market") if not getattr(args, f"skip_{k}")]
    for kind in kinds:
        title = (
            "Table explorer (milestone machine, MS-2)"
            if kind == "table"
            else f"Full marketplace checker (depth {args.market_depth}, admin and hiring manager)"
        )
        print(f"## {title}\n")
        print("| N | M | symmetry | states | CPU s | states/s | peak RSS MB |")
        print("|---:|---:|---|---:|---:|---:|---:|")
        for n in range(1, top + 1):
            for m in range(1, min(top, 3) + 1):
                for sym in (True, False):
                    r = cell(kind, n, m, sym, args.market_depth, args.budget)
                    label = "on" if sym else "off"
                    if r is None:
                        print(
                            f"| {n} | {m} | {label} | did not finish in {args.budget:.0f} s | | | |"
                        )
                    elif "error" in r:
                        print(f"| {n} | {m} | {label} | failed: {r['error']} | | | |")
                    else:
                        states = int(r["states"])  # type: ignore[call-overload]
                        secs = float(r["seconds"])  # type: ignore[arg-type]
                        rate = states / secs if secs else 0.0
                        print(
                            f"| {n} | {m} | {label} | {states:,} | {secs:.2f} | {rate:,.0f} | "
                            f"{float(r['peak_mb']):.0f} |"  # type: ignore[arg-type]
                        )
                    sys.stdout.flush()
        print()
    _ = resource  # the cells measure memory; imported here so the script fails early without it


if __name__ == "__main__":
    main()
