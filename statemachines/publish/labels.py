"""What a diagram writes beside its states and arrows: the path a live aggregate took, each
edge's label (event, who or when, rule IDs), the legend that expands every code a view uses,
and the notes on effects users ask about. :mod:`statemachines.publish.diagrams` draws them.

>>> from statemachines import MILESTONE
>>> edge_label_parts(MILESTONE.edges[1])
['fund', 'by CO, CA, HM', '[MS-1]']
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from statemachines.core.actors import Role
from statemachines.core.engine import SPECS_BY_MODEL, Edge, MachineSpec
from statemachines.publish.views import ANY_USER, View, _always, role_code, role_codes, who

__all__ = [
    "NOTES",
    "WRAP",
    "Note",
    "Trail",
    "compact_ids",
    "edge_label_parts",
    "legend",
    "notes",
    "trail",
]

WRAP = 26
"""Edge label lines are wrapped at this many characters so arrows stay readable."""


# --------------------------------------------------------------------------- trails


@attrs.frozen
class Trail:
    """Where a live aggregate is and how it got there (from its history)."""

    current: str
    """The value of its current state."""
    visited: frozenset[str]
    """States it has been in, the current one included."""
    steps: Mapping[tuple[str, str, str], tuple[int, ...]]
    """(event, source, target) -> the step numbers (from 1) that took that edge."""


def trail(aggregate: Any) -> Trail:
    """Read an aggregate's path from its history."""
    spec = spec_of(aggregate)
    visited = {spec.initial.value, aggregate.state.value}
    steps: dict[tuple[str, str, str], list[int]] = {}
    for number, decision in enumerate(aggregate.history, start=1):
        source, target = decision.source.value, decision.target.value
        visited.update((source, target))
        steps.setdefault((decision.event, source, target), []).append(number)
    return Trail(aggregate.state.value, frozenset(visited), {k: tuple(v) for k, v in steps.items()})


def spec_of(aggregate: Any) -> MachineSpec[Any, Any]:
    try:
        return SPECS_BY_MODEL[type(aggregate)]
    except KeyError:
        msg = f"{type(aggregate).__name__} is not the aggregate of any machine"
        raise TypeError(msg) from None


# --------------------------------------------------------------------------- labels


def compact_ids(rule_ids: Sequence[str]) -> list[str]:
    """Rule IDs with a shared stem written once: ``ACC-CLOSE-FL-1,2,5``.

    >>> compact_ids(["ACC-CLOSE-FL-1", "ACC-GEN-4", "ACC-CLOSE-FL-2", "ACC-EXPORT-D"])
    ['ACC-CLOSE-FL-1,2', 'ACC-GEN-4', 'ACC-EXPORT-D']
    """
    groups: dict[str, list[str]] = {}
    for rule_id in rule_ids:
        stem, _, number = rule_id.rpartition("-")
        if number.isdigit():
            groups.setdefault(stem + "-", []).append(number)
        else:
            groups.setdefault(rule_id, [])
    return [stem + ",".join(sorted(numbers, key=int)) for stem, numbers in groups.items()]


def label_rules(
    edge: Edge[Any], conditions: Iterable[str], shows: Callable[[str], bool]
) -> list[str]:
    rules = list(conditions) or [g.rule_id for g in edge.guards]
    if edge.timer is not None:
        rules.append(edge.timer.rule_id)
    return [r for r in dict.fromkeys(rules) if shows(r)]


def edge_head(edge: Edge[Any]) -> str:
    return edge.event if edge.branch is None else f"{edge.event} (if {edge.branch.label})"


def edge_whom(edge: Edge[Any], roles: Iterable[Role] | None) -> str:
    if edge.timer is not None:
        return f"fires {edge.timer.label}"
    return "by " + who(edge.roles if roles is None else roles)


def edge_label_parts(
    edge: Edge[Any],
    conditions: Iterable[str] = (),
    *,
    wrap: int | None = WRAP,
    shows: Callable[[str], bool] = _always,
    roles: Iterable[Role] | None = None,
) -> list[str]:
    """The lines of an edge's label: event, who or when, and the rule IDs in brackets.

    *conditions* are the guard names ``transitions`` put in its markup; they are
    the guards' rule IDs (never function names). Without them the guards are read
    from the edge directly. *shows* leaves out rule IDs that do not apply to a
    variant; *roles* replaces the table's roles (a variant's authorised roles).
    More than two IDs are written with shared stems once (:func:`compact_ids`).
    Lines longer than *wrap* are split (``None``: never).

    >>> from statemachines import MILESTONE
    >>> edge_label_parts(MILESTONE.edges[1])
    ['fund', 'by CO, CA, HM', '[MS-1]']
    """
    rules = label_rules(edge, conditions, shows)
    if len(rules) > 2:
        rules = compact_ids(rules)
    parts = [edge_head(edge), edge_whom(edge, roles)]
    if rules:
        parts.append("[" + " & ".join(rules) + "]")
    if wrap is None:
        return parts
    return [
        line
        for part in parts
        for line in textwrap.wrap(part, wrap, break_on_hyphens=False, break_long_words=False)
    ]


def _codes_used(view: View) -> list[Role]:
    """Every role whose code a label of *view* shows, "any user" expanded."""
    used: set[Role] = set()
    if view.overview:
        return []
    for edge in view.edges:
        if edge.timer is None:
            used |= view.roles(edge)
    return [r for r in Role if r in used]


def legend(view: View) -> list[str]:
    """The caption's key: every role code shown, what brackets, dashes and borders mean."""
    lines: list[str] = []
    if view.overview:
        lines.append("Overview: one arrow per pair of states, events by name. Who may act and")
        lines.append("the rules of each event: see the views of its types and parts.")
    else:
        codes = [f"{role_code(r)} = {r.label}" for r in _codes_used(view)]
        if any(view.roles(e) >= ANY_USER for e in view.edges if e.timer is None):
            codes.append("any user = " + ", ".join(role_codes(ANY_USER)))
        line = "Who:"
        for code in codes:
            piece = f" {code};"
            if len(line) + len(piece) > 84:
                lines.append(line.rstrip(";"))
                line = "    "
            line += piece
        if codes:
            lines.append(line.rstrip(";"))
        lines.append("[IDs] = rules that must hold (link to the rule catalogue).")
    lines.append("Dashed arrows and italic entries are fired by the platform on a deadline;")
    lines.append("events listed inside a state keep it in that state.")
    terminal = [s for s in view.states if s in view.spec.terminal]
    if terminal:
        lines.append("Double border = final state: nothing leaves it.")
    elif not view.spec.terminal:
        lines.append("No state of this machine is final: each still accepts some event.")
    if not view.starts:
        lines.append("This part starts where the other views of the machine leave off.")
    return lines


@attrs.frozen
class Note:
    """A sticky note beside a state, for an effect users ask about."""

    rule_id: str
    text: str


NOTES: tuple[Note, ...] = (
    Note(
        "MS-PAY-1",
        "Released milestone money waits in a 5-day security hold, then the freelancer can "
        "withdraw it (MS-PAY-1).",
    ),
    Note(
        "REF-180-7",
        "Why refunded? After refunds the freelancer was paid less than US$1.00 net: the "
        "contract leaves both work histories and its feedback is hidden (REF-180-7). A bonus "
        "that brings net pay back to US$1.00 returns it to ended.",
    ),
    Note(
        "PAY-1",
        "Bonuses and final payments wait in a 5-day security hold before they can be "
        "withdrawn (PAY-1).",
    ),
    Note(
        "BILL-5",
        "Invoiced hours can be disputed until Friday; the money is available on the "
        "Wednesday ten days after the week ended (BILL-5).",
    ),
)
"""Effects drawn as notes: each is drawn beside the target of the first edge that
carries its rule (as an effect, guard or deadline) in a view."""


def _rules_of(edge: Edge[Any]) -> set[str]:
    found = {g.rule_id for g in edge.guards}
    found.update(e.rule_id for e in edge.effects if e.rule_id)
    if edge.timer is not None:
        found.add(edge.timer.rule_id)
    return found


def notes(view: View) -> list[tuple[Note, str]]:
    """The notes *view* draws, each with the state value it sits beside."""
    out = []
    for note in NOTES:
        edge = next((e for e in view.edges if note.rule_id in _rules_of(e)), None)
        if edge is not None:
            out.append((note, edge.target.value))
    return out
