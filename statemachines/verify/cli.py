"""``python -m statemachines check``: the command line of :mod:`statemachines.verify.checker`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from statemachines.core.clock import SystemClock
from statemachines.core.money import Money
from statemachines.errors import InvalidInput
from statemachines.marketplace.audit import check_files
from statemachines.verify.checker import Bounds, Progress, check, scenario_yaml

__all__ = ["add_parser", "bounds_from", "problems", "run"]


def add_parser(sub: Any) -> None:
    """Register the ``check`` subcommand on the CLI's subparsers."""
    p = sub.add_parser("check", help="explore every state of a bounded marketplace")
    p.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="instead: check a stored marketplace (a SQLite file, or a folder of them as "
        "run --db writes): what it holds, every account invariant, its events against "
        "each aggregate's history",
    )
    p.add_argument("--contracts", type=_count, default=1, help="contracts in the world (default 1)")
    p.add_argument(
        "--milestones", type=_count, default=1, help="milestones per contract (default 1)"
    )
    p.add_argument("--hourly", type=_count, default=0, help="how many contracts are hourly")
    p.add_argument("--agency", action="store_true", help="add an agency to the world")
    p.add_argument(
        "--agency-contracts",
        type=_count,
        default=0,
        metavar="K",
        help="the last K contracts are held by the agency, worked by its member (implies --agency)",
    )
    p.add_argument(
        "--jobs",
        type=_count,
        default=0,
        metavar="J",
        help="J draft job posts of the client, each with a draft proposal (and an agency one "
        "with the agency); an accepted offer starts a contract",
    )
    p.add_argument("--no-team", action="store_true", help="leave out the admin and hiring manager")
    p.add_argument(
        "--amounts",
        type=_amounts,
        default=(500, 2_000),
        help="milestone amounts in US dollars (default 5.00,20.00)",
    )
    p.add_argument(
        "--depth", type=_count, default=2, help="steps from the start (2; 0: to the end)"
    )
    p.add_argument("--max-states", type=_count, default=None, help="stop after this many states")
    p.add_argument(
        "--focus",
        default="",
        help="only these kinds act, comma-separated: account, membership, job, proposal, contract",
    )
    p.add_argument("--no-symmetry", action="store_true", help="store every ordering apart")
    p.add_argument("--payments", type=_count, default=None, help="payments per contract expanded")
    p.add_argument(
        "--hours-per-week",
        type=_count,
        default=None,
        metavar="H",
        help="most hours logged in a week of an hourly contract's diary that are expanded "
        "(default: no limit at a depth; 2 with --depth 0)",
    )
    p.add_argument(
        "--diary-weeks",
        type=_count,
        default=None,
        metavar="W",
        help="most weeks with time in an hourly contract's diary that are expanded "
        "(default: no limit at a depth; 2 with --depth 0)",
    )
    p.add_argument("--audit", action="store_true", help="compare verdicts of merged states")
    p.add_argument(
        "--audit-successors",
        type=_count,
        default=0,
        metavar="N",
        help="compare the successors of N merged pairs drawn from the whole search",
    )
    p.add_argument("--thorough", action="store_true", help="retry refusals known by state name")
    p.add_argument("--trace", type=Path, help="write a counterexample scenario here")
    p.add_argument(
        "--progress",
        type=float,
        default=None,
        metavar="SECONDS",
        help="print the search's progress on standard error every SECONDS of CPU time",
    )


KINDS = ("account", "membership", "job", "proposal", "contract")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"{text!r} is not a whole number"
        raise argparse.ArgumentTypeError(msg) from None
    if value < 0:
        msg = f"{value} is negative"
        raise argparse.ArgumentTypeError(msg)
    return value


def _amounts(text: str) -> tuple[int, ...]:
    """``5.00,20.00`` as cents; anything but exact amounts in US dollars is refused."""
    try:
        return tuple(Money.usd(a.strip()).cents for a in text.split(",") if a.strip())
    except InvalidInput as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def problems(bounds: Bounds) -> list[str]:
    """What is wrong with *bounds* as a command line gave them (empty: nothing)."""
    out = [
        f"--{flag} {n} is more than --contracts {bounds.contracts}"
        for flag, n in (("hourly", bounds.hourly), ("agency-contracts", bounds.agency_contracts))
        if n > bounds.contracts
    ]
    out += [
        f"--focus: unknown kind {k!r} (kinds: {', '.join(KINDS)})"
        for k in bounds.focus
        if k not in KINDS
    ]
    if not bounds.amounts:
        out.append("--amounts: no amount")
    for flag, n in (("hours-per-week", bounds.hours_per_week), ("diary-weeks", bounds.diary_weeks)):
        if n is None:
            continue
        if not bounds.hourly:
            out.append(
                f"--{flag} {n}: it bounds an hourly contract's diary, and there is none (--hourly)"
            )
        elif n == 0:
            out.append(f"--{flag} 0 would leave no time logged to explore: give 1 or more")
    return out


def bounds_from(args: argparse.Namespace) -> Bounds:
    """The bounds the command line asks for."""
    amounts = args.amounts if isinstance(args.amounts, tuple) else _amounts(str(args.amounts))
    return Bounds(
        contracts=args.contracts,
        milestones=args.milestones,
        hourly=args.hourly,
        agency=args.agency,
        agency_contracts=args.agency_contracts,
        jobs=args.jobs,
        team=not args.no_team,
        amounts=amounts,
        depth=args.depth or None,
        max_states=args.max_states,
        symmetry=not args.no_symmetry,
        thorough=args.thorough,
        audit=args.audit,
        payments=args.payments,
        hours_per_week=args.hours_per_week,
        diary_weeks=args.diary_weeks,
        audit_successors=args.audit_successors,
        focus=tuple(k.strip() for k in str(args.focus).split(",") if k.strip()),
    )


def _stored(path: Path) -> int:
    """``check --db``: describe and check a stored marketplace; exit 1 on a problem."""
    try:
        lines, ok = check_files(path, SystemClock())
    except InvalidInput as err:
        sys.stderr.write(f"statemachines check: {err}\n")
        return 2
    print("\n".join(lines))  # noqa: T201  (a command prints)
    return 0 if ok else 1


def _tell(progress: Progress) -> None:
    sys.stderr.write(f"check: {progress.line()}\n")
    sys.stderr.flush()


def run(args: argparse.Namespace) -> int:
    """Run the checker; exit 1 on a violation (its trace goes to --trace or standard output)."""
    if args.db is not None:
        return _stored(args.db)
    bounds = bounds_from(args)
    wrong = problems(bounds)
    if wrong:
        sys.stderr.write("".join(f"statemachines check: {w}\n" for w in wrong))
        return 2
    every = args.progress
    report = check(bounds, progress=_tell if every else None, every=every or 10.0)
    summary = report.summary()
    if report.ok and not report.complete:  # a search cut short proves nothing beyond it
        summary = summary.replace(
            "no violation found",
            f"no violation in the {report.states:,} states explored, but --max-states stopped "
            "the search: the bound was not explored to the end",
        )
    print(summary)  # noqa: T201  (a command prints)
    if report.ok:
        return 0 if report.complete else 1
    text = scenario_yaml(report)
    if args.trace is not None:
        args.trace.write_text(text, encoding="utf-8")
        print(f"counterexample written to {args.trace} (replay: python -m statemachines run)")  # noqa: T201
    else:
        sys.stdout.write("\n" + text)
    return 1
