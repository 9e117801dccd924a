"""Command line: ``python -m statemachines`` (also installed as ``statemachines``).

``summary`` prints every machine: its states, transitions and the rule IDs it
enforces.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import statemachines  # noqa: F401  (importing the package builds every machine)
from statemachines._engine import SPECS


def summary() -> str:
    """Every machine as text: states, transitions and rule IDs enforced."""
    lines = []
    for spec in SPECS.values():
        terminal = ", ".join(s.value for s in spec.states if s in spec.terminal)
        lines.append(f"{spec.name}: {spec.description}")
        states = ", ".join(s.value for s in spec.states)
        count = len(spec.states.__members__)
        lines.append(
            f"  states ({count}): {states}; initial {spec.initial.value}; final {terminal}"
        )
        lines.append(f"  transitions ({len(spec.edges)}):")
        width = max(len(e.event) for e in spec.edges)
        for edge in spec.edges:
            sources = "|".join(s.value for s in edge.sources)
            rules = ", ".join(edge.rule_ids) or "-"
            timer = f"  (timer: {edge.timer.label})" if edge.timer else ""
            lines.append(
                f"    {edge.event:<{width}}  {sources} -> {edge.target.value}  [{rules}]{timer}"
            )
        for row in spec.forbidden:
            sources = "|".join(s.value for s in row.sources)
            lines.append(f"    {row.event:<{width}}  refused in {sources}  [{row.rule_id}]")
        enforced = sorted({*spec.rule_ids, *(r.rule_id for r in spec.forbidden)})
        lines.append(f"  rule IDs enforced ({len(enforced)}): {', '.join(enforced)}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="statemachines", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("summary", help="print every machine's states, transitions and rule IDs")
    args = parser.parse_args(argv)
    if args.command in (None, "summary"):
        print(summary())
        return 0
    parser.error(f"unknown command {args.command!r}")  # exits with status 2


if __name__ == "__main__":
    sys.exit(main())
