"""Diagrams of every machine, drawn from the tables the engine runs.

Nothing here keeps a second copy of a table. For each :class:`MachineSpec` in
``SPECS`` a throw-away ``transitions`` ``GraphMachine`` is built from the spec's
own edges (T9 in the style guide: the running machine has no model and cannot be
drawn), and its markup is turned into Graphviz DOT and a Mermaid
``stateDiagram-v2`` by two small subclasses of ``transitions``' own graph
classes. Those subclasses change only what the product needs:

* every edge of the table stays its own arrow (``transitions`` would merge two
  triggers between the same states into one ``a | b`` label); events that leave
  a state where it is (self-loops) are listed inside that state, one per line,
  because Graphviz piles the labels of several self-loops on top of each other;
* an edge reads ``event``, ``by`` the roles that may fire it (rulebook §2.1
  codes, explained in the caption), and the rule IDs of its guards in brackets.
  The rule IDs reach the label through ``transitions``' markup, which formats a
  condition with ``str()``, and :class:`~statemachines.core.engine.Guard` prints its
  rule ID (T8); a branch adds ``(if ...)`` with its label;
* deadline edges are dashed and say when they fire (their ``Timer.label``);
* a black dot marks the one start state, and final states have a double border;
* a live aggregate can be drawn with its current state and the path it took
  (from ``aggregate.history``) highlighted: :func:`show` returns a
  :class:`Drawing`, which Jupyter displays as SVG.

Every machine module of the package is imported by :func:`discover`, so a
machine added later is drawn and catalogued without an entry anywhere.

Variants
--------
Some machines read differently by type: a contract is hourly or fixed-price, an
account belongs to a freelancer, a client, an agency... :data:`VARIANTS` maps a
machine name to a function giving its :class:`Variant` views, and ``render``
writes one diagram per variant besides the full machine
(``diagrams/contract-hourly.dot``). A variant says which rows apply
(``includes``), which rule IDs its labels show (``shows``) and which live
aggregates it fits (``matches``, used by :func:`show`).

The two registered machines use :func:`by_type`, which needs nothing from their
modules: it reads the enum field that holds the type (``Contract.kind``,
``Account.type``) and runs each guard and branch on a stand-in holding only that
field. A guard that refuses every aggregate of the type (``CTR-TYPE-D`` on a
fixed-price ``log_time``) drops the row; one that holds for every aggregate of
the type is left off the labels; a guard that needs more than the type to
decide keeps the row. Rule families (``"BILL-": ("hourly",)``) add what the
table cannot say by itself. A registry entry for a machine that does not exist
yet is never called. A machine module may instead give its spec a ``variants``
attribute holding a ``Variant`` tuple; it wins over the registry.

>>> from statemachines import MILESTONE
>>> dot = to_dot(View(MILESTONE))
>>> 'label="review_lapse' in dot and "style=dashed" in dot
True
>>> print(to_mermaid(View(MILESTONE)).splitlines()[3])
stateDiagram-v2
"""

from __future__ import annotations

import copy
import enum
import html
import importlib
import json
import pkgutil
import textwrap
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import attrs
from transitions.extensions import diagrams_graphviz, diagrams_mermaid
from transitions.extensions.diagrams import GraphMachine, TransitionGraphSupport

from statemachines.core.actors import Role
from statemachines.core.engine import SPECS, SPECS_BY_MODEL, Edge, MachineSpec

__all__ = [
    "ROLE_CODES",
    "VARIANTS",
    "Drawing",
    "Trail",
    "Variant",
    "View",
    "by_type",
    "compact_ids",
    "discover",
    "draw",
    "edge_label_parts",
    "role_codes",
    "show",
    "to_dot",
    "to_mermaid",
    "trail",
    "variants_of",
    "views",
    "who",
]

ROLE_CODES: Mapping[Role, str] = {
    Role.FREELANCER: "FL",
    Role.AGENCY_OWNER: "AO",
    Role.BUSINESS_MANAGER: "ABM",
    Role.AGENCY_MEMBER: "AMB",
    Role.CLIENT_OWNER: "CO",
    Role.CLIENT_ADMIN: "CA",
    Role.HIRING_MANAGER: "HM",
    Role.SOURCING_MEMBER: "HMS",
    Role.TEAM_MEMBER: "TM",
    Role.SYSTEM: "SYS",
    Role.SUPPORT: "SUP",
    Role.ACCOUNT_TEAM: "ENT",
}
"""The rulebook's short codes for roles (§2.1), used on edge labels."""

WRAP = 34
"""Edge label lines are wrapped at this many characters so arrows stay readable."""


def role_code(role: Role) -> str:
    """The §2.1 code of *role* (``CO``), or its value for a role added later."""
    return ROLE_CODES.get(role, role.value)


def role_codes(roles: Iterable[Role]) -> list[str]:
    """Codes of *roles* in the order of the :class:`Role` enum (stable across runs)."""
    wanted = set(roles)
    return [role_code(r) for r in Role if r in wanted]


ANY_USER = frozenset(Role) - {Role.SYSTEM, Role.SUPPORT, Role.ACCOUNT_TEAM}
"""Everyone who holds or works in an account (not the platform or its staff)."""


def who(roles: Iterable[Role]) -> str:
    """The roles of an edge, short: codes, with ``any user`` for every account role.

    >>> who({Role.CLIENT_OWNER, Role.HIRING_MANAGER})
    'CO, HM'
    >>> who(set(Role) - {Role.SYSTEM})
    'any user, SUP, ENT'
    """
    wanted = set(roles)
    if wanted >= ANY_USER:
        return ", ".join(["any user", *role_codes(wanted - ANY_USER)])
    return ", ".join(role_codes(wanted))


# --------------------------------------------------------------------------- variants


def _never(_: Any) -> bool:
    return False


def _always(_: Any) -> bool:
    return True


@attrs.frozen
class Variant:
    """One type of a machine that varies by type, e.g. an hourly contract."""

    name: str
    """Used in file names: ``diagrams/contract-hourly.dot``."""
    title: str
    """Shown in the diagram's caption: ``hourly contract``."""
    includes: Callable[[Edge[Any]], bool]
    """True for the table rows that apply to this type."""
    matches: Callable[[Any], bool] = _never
    """True for a live aggregate of this type (used by :func:`show`)."""
    shows: Callable[[str], bool] = _always
    """True for the rule IDs that apply to this type (others are left off the labels)."""


def _field_is(name: str, value: object) -> Callable[[Any], bool]:
    def test(aggregate: Any) -> bool:
        return getattr(aggregate, name, None) == value

    return test


def _probe(check: Callable[[Any, Any], Any], stand_in: Any) -> bool | None:
    """Run a guard or branch on a stand-in that has only an id and the type field.

    ``True``: it holds for every aggregate of this type; ``False``: it never
    does; ``None``: it needs more than the type to decide (it read something else).
    """
    try:
        result = check(stand_in, None)
    except Exception:
        return None
    if isinstance(result, bool):
        return result
    return result is None


def by_type(
    spec: MachineSpec[Any, Any],
    field: str,
    titles: Mapping[str, str] | None = None,
    families: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[Variant, ...]:
    """One variant per member of the enum in the aggregate's *field* (``kind``, ``type``).

    Which rows apply is read from the table itself: each guard and branch is run
    on a stand-in holding only that field. A row is left out when one of them
    refuses every aggregate of the type (e.g. ``CTR-TYPE-D`` on a fixed-price
    contract's ``log_time``), and a rule that holds for every aggregate of the
    type is left off its labels. *families* maps rule ID prefixes to the types
    they concern (``"BILL-": ("hourly",)``): their rule IDs are left off the
    labels of other types, and a row fired by, or checking only, rules of other
    types' families is left out.
    """
    family = families or {}

    def concerns(value: str, rule_id: str) -> bool | None:
        for prefix, kinds in family.items():
            if rule_id.startswith(prefix):
                return value in kinds
        return None

    kinds = typing.get_type_hints(spec.model).get(field)
    if not (isinstance(kinds, type) and issubclass(kinds, enum.Enum)):
        return ()
    out = []
    for kind in kinds:
        value = str(kind.value)
        # The id is there for refusal messages, which name the aggregate.
        stand_in = types.SimpleNamespace(**{field: kind, "id": f"(any {value})"})

        def includes(edge: Edge[Any], stand_in: Any = stand_in, value: str = value) -> bool:
            checks: list[Callable[[Any, Any], Any]] = [g.check for g in edge.guards]
            if edge.branch is not None:
                checks.append(edge.branch.test)
            if any(_probe(check, stand_in) is False for check in checks):
                return False
            # What fires a row, else what it checks, decides whether it concerns
            # this type; permission rules say who acts, and effects what follows.
            if edge.timer is not None and concerns(value, edge.timer.rule_id) is not None:
                return bool(concerns(value, edge.timer.rule_id))
            guarded = [concerns(value, g.rule_id) for g in edge.guards]
            return not guarded or None in guarded or any(guarded)

        verdicts: dict[str, set[bool | None]] = {}
        for edge in spec.edges:
            if includes(edge):
                for guard in edge.guards:
                    verdicts.setdefault(guard.rule_id, set()).add(_probe(guard.check, stand_in))
        always = {rule_id for rule_id, seen in verdicts.items() if seen == {True}}

        def visible(rule_id: str, always: set[str] = always, value: str = value) -> bool:
            return rule_id not in always and concerns(value, rule_id) is not False

        title = (titles or {}).get(value, f"{value.replace('_', ' ')} {spec.name}")
        out.append(Variant(value, title, includes, _field_is(field, kind), visible))
    return tuple(out)


_ACCOUNT_FAMILIES = {
    "ACC-CLOSE-FL-": ("freelancer", "combined"),
    "ACC-CLOSE-CL-": ("client", "combined", "enterprise"),
    "ACC-CLOSE-AG-": ("agency",),
    "ACC-CLOSE-TM-": ("team_admin", "team_member"),
    "ACC-CLOSE-ENT-": ("enterprise",),
}
"""Account rule families that apply only to some account types (rulebook §3.2-3.5)."""


_CONTRACT_FAMILIES = {
    "MS-": ("fixed",),
    "ESC-": ("fixed",),
    "BILL-": ("hourly",),
    "CTR-HR-": ("hourly",),
    "CTR-END-2": ("hourly",),
    "CTR-END-3": ("hourly",),
}
"""Contract rule families of one contract type (rulebook §3.11-3.15)."""


VARIANTS: dict[str, Callable[[MachineSpec[Any, Any]], tuple[Variant, ...]]] = {
    "contract": lambda spec: by_type(
        spec, "kind", {"fixed": "fixed-price contract"}, _CONTRACT_FAMILIES
    ),
    "account": lambda spec: by_type(spec, "type", families=_ACCOUNT_FAMILIES),
}
"""Machine name -> a function giving its variants. Machines not built yet are skipped."""


def variants_of(spec: MachineSpec[Any, Any]) -> tuple[Variant, ...]:
    """The variants of *spec*: its own ``variants`` attribute, else the registry's."""
    own = getattr(spec, "variants", None)
    if own:
        return tuple(own)
    make = VARIANTS.get(spec.name)
    return make(spec) if make is not None else ()


# --------------------------------------------------------------------------- views


@attrs.frozen
class View:
    """What one diagram shows: a machine, or one variant of it."""

    spec: MachineSpec[Any, Any]
    variant: Variant | None = None

    @property
    def name(self) -> str:
        """File stem: ``milestone`` or ``contract-hourly``."""
        return self.spec.name if self.variant is None else f"{self.spec.name}-{self.variant.name}"

    @property
    def title(self) -> str:
        """Caption of the diagram."""
        if self.variant is None:
            return self.spec.name
        return f"{self.spec.name}: {self.variant.title}"

    @property
    def edges(self) -> tuple[Edge[Any], ...]:
        """The table rows this view draws, in table order.

        For a variant: the rows that apply to it and leave a state it can reach.
        """
        if self.variant is None:
            return self.spec.edges
        rows = [e for e in self.spec.edges if self.variant.includes(e)]
        reached = {self.spec.initial}
        grew = True
        while grew:
            grew = False
            for edge in rows:
                if edge.target not in reached and reached.intersection(edge.sources):
                    reached.add(edge.target)
                    grew = True
        return tuple(e for e in rows if reached.intersection(e.sources))

    @property
    def states(self) -> tuple[enum.Enum, ...]:
        """States drawn: the initial state and every state reached by a drawn edge."""
        used = {self.spec.initial}
        for edge in self.edges:
            used.add(edge.target)
        return tuple(s for s in self.spec.states if s in used)


def discover() -> dict[str, MachineSpec[Any, Any]]:
    """Import every module of :mod:`statemachines.machines` so that each machine registers.

    A machine module added later needs no entry anywhere to be drawn and catalogued.
    """
    import statemachines.machines  # noqa: PLC0415  (the package, to list its modules)

    root = statemachines.machines
    for info in sorted(
        pkgutil.walk_packages(root.__path__, f"{root.__name__}."), key=lambda m: m.name
    ):
        importlib.import_module(info.name)
    return SPECS


def views(specs: Iterable[MachineSpec[Any, Any]] | None = None) -> list[View]:
    """Every diagram to render: each machine by name, then each of its variants."""
    chosen = discover().values() if specs is None else specs
    out = []
    for spec in sorted(chosen, key=lambda s: s.name):
        out.append(View(spec))
        out.extend(View(spec, v) for v in variants_of(spec))
    return out


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
    spec = _spec_of(aggregate)
    visited = {spec.initial.value, aggregate.state.value}
    steps: dict[tuple[str, str, str], list[int]] = {}
    for number, decision in enumerate(aggregate.history, start=1):
        source, target = decision.source.value, decision.target.value
        visited.update((source, target))
        steps.setdefault((decision.event, source, target), []).append(number)
    return Trail(aggregate.state.value, frozenset(visited), {k: tuple(v) for k, v in steps.items()})


def _spec_of(aggregate: Any) -> MachineSpec[Any, Any]:
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


def edge_label_parts(
    edge: Edge[Any],
    conditions: Iterable[str] = (),
    *,
    wrap: int | None = WRAP,
    shows: Callable[[str], bool] = _always,
) -> list[str]:
    """The lines of an edge's label: event, who or when, and the rule IDs in brackets.

    *conditions* are the guard names ``transitions`` put in its markup; they are
    the guards' rule IDs (never function names). Without them the guards are read
    from the edge directly. *shows* leaves out rule IDs that do not apply to a
    variant. More than two IDs are written with shared stems once
    (:func:`compact_ids`). Lines longer than *wrap* are split (``None``: never).

    >>> from statemachines import MILESTONE
    >>> edge_label_parts(MILESTONE.edges[1])
    ['fund', 'by CO, CA, HM', '[MS-1]']
    """
    rules = list(conditions) or [g.rule_id for g in edge.guards]
    head = edge.event if edge.branch is None else f"{edge.event} (if {edge.branch.label})"
    parts = [head]
    if edge.timer is not None:
        parts.append(f"fires {edge.timer.label}")
        rules.append(edge.timer.rule_id)
    else:
        parts.append("by " + who(edge.roles))
    rules = [r for r in dict.fromkeys(rules) if shows(r)]
    if len(rules) > 2:
        rules = compact_ids(rules)
    if rules:
        parts.append("[" + " & ".join(rules) + "]")
    if wrap is None:
        return parts
    return [line for part in parts for line in textwrap.wrap(part, wrap, break_on_hyphens=False)]


def _legend(view: View) -> list[str]:
    used: set[Role] = set()
    for edge in view.edges:
        if edge.timer is None:
            used |= edge.roles - ANY_USER if edge.roles >= ANY_USER else edge.roles
    codes = [f"{role_code(r)} {r.label}" for r in Role if r in used]
    if any(e.roles >= ANY_USER for e in view.edges if e.timer is None):
        codes.append("any user = " + " ".join(role_codes(ANY_USER)))
    lines = []
    line = "Roles:"
    for code in codes:
        piece = f" {code};"
        if len(line) + len(piece) > 70:
            lines.append(line.rstrip(";"))
            line = "      "
        line += piece
    lines.append(line.rstrip(";"))
    lines.append("[IDs] = rules that must hold; dashed arrows and italic entries are fired by the")
    lines.append("platform on a deadline; events listed inside a state keep it in that state;")
    lines.append("double border = final state.")
    return lines


# --------------------------------------------------------------------------- graph machine


class _Canvas:
    """The model a ``GraphMachine`` needs before it can draw (T9); it does nothing else."""

    state: str


class _EdgeTransition(TransitionGraphSupport):
    """A drawing transition that remembers which table row it came from."""

    def __init__(self, *args: Any, edge: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.edge = edge


_DOT_STYLES: dict[str, dict[str, dict[str, str]]] = {
    "node": {
        "default": {
            "shape": "box",
            "style": "rounded,filled",
            "fillcolor": "white",
            "color": "#333333",
            "fontname": "Helvetica",
            "fontsize": "13",
            "peripheries": "1",
        },
        "terminal": {"fillcolor": "#e6e6e6", "peripheries": "2"},
        "visited": {"fillcolor": "#dbe9f7", "color": "#1f5fa8"},
        "current": {"fillcolor": "#ffd39b", "color": "#b35900", "penwidth": "2.5"},
    },
    "edge": {
        "default": {"color": "#333333", "fontname": "Helvetica", "fontsize": "10"},
        "timer": {"style": "dashed", "color": "#6b6b6b", "fontcolor": "#4d4d4d"},
        "taken": {"color": "#1f5fa8", "fontcolor": "#1f5fa8", "penwidth": "2.2"},
    },
    "graph": {
        "default": {
            "fontname": "Helvetica",
            "fontsize": "11",
            "labeljust": "l",
            "nodesep": "0.5",
            "ranksep": "0.7",
            "pad": "0.3",
        },
    },
}

_MERMAID_STYLES: dict[str, dict[str, dict[str, str]]] = {
    "node": {
        "terminal": {"fill": "#e6e6e6", "stroke": "#333333", "stroke-width": "3px"},
        "visited": {"fill": "#dbe9f7", "stroke": "#1f5fa8"},
        "current": {"fill": "#ffd39b", "stroke": "#b35900", "stroke-width": "3px"},
    },
}


class _DiagramMachine(GraphMachine):
    """A ``GraphMachine`` built from one :class:`View` of a spec, for drawing only."""

    transition_cls = _EdgeTransition
    transition_attributes = [*GraphMachine.transition_attributes, "edge"]  # noqa: RUF012

    def __init__(
        self, view: View, engine: Literal["graphviz", "mermaid"], path: Trail | None = None
    ) -> None:
        self.view = view
        self.path = path
        self.table = {f"e{i}": edge for i, edge in enumerate(view.edges)}
        self.styles = copy.deepcopy(_MERMAID_STYLES if engine == "mermaid" else _DOT_STYLES)
        # transitions reads these two: the defaults for every node, edge and graph,
        # and the classes Mermaid declares (only our own styles, not its defaults).
        self.style_attributes = typing.cast(Any, self.styles)
        self.machine_attributes = {"rankdir": "LR"}
        spec = view.spec
        states = [{"name": s.value, "final": s in spec.terminal} for s in view.states]
        drawn = set(view.states)
        transitions = [
            {
                "trigger": edge.event,
                "source": [s.value for s in edge.sources if s in drawn],
                "dest": edge.target.value,
                "conditions": list(edge.guards),
                "edge": key,
            }
            for key, edge in self.table.items()
        ]
        super().__init__(
            model=_Canvas(),
            states=states,
            initial=spec.initial.value,
            transitions=transitions,
            auto_transitions=False,
            send_event=True,
            title=view.title,
            show_conditions=True,
            graph_engine=engine,
        )

    def _init_graphviz_engine(self, graph_engine: str) -> type[Any]:
        return _MermaidGraph if graph_engine == "mermaid" else _DotGraph

    def node_style(self, state: str) -> str:
        """Which style a state gets: current, visited, terminal or default."""
        if self.path is not None:
            if state == self.path.current:
                return "current"
            if state in self.path.visited:
                return "visited"
        if state in {s.value for s in self.view.spec.terminal}:
            return "terminal"
        return "default"

    def steps(self, tran: Mapping[str, Any]) -> tuple[int, ...]:
        """Step numbers of the live aggregate's history that took this arrow."""
        if self.path is None:
            return ()
        return self.path.steps.get((tran["trigger"], tran["source"], tran["dest"]), ())

    def lines(self, tran: Mapping[str, Any], *, wrap: int | None = WRAP) -> list[str]:
        """Label lines for one arrow, from its row and the markup's conditions."""
        variant = self.view.variant
        lines = edge_label_parts(
            self.table[tran["edge"]],
            tran.get("conditions", ()),
            wrap=wrap,
            shows=variant.shows if variant is not None else _always,
        )
        steps = self.steps(tran)
        if steps:
            lines.append("step " + ", ".join(map(str, steps)))
        return lines


def _state_label(name: str) -> str:
    return name.replace("_", " ")


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


class _DotGraph(diagrams_graphviz.Graph):
    """``transitions``' Graphviz graph, with one arrow per table row and product labels."""

    machine: _DiagramMachine

    def _add_nodes(self, states: list[dict[str, Any]], container: Any) -> None:
        machine = self.machine
        styles = machine.styles["node"]
        container.node(
            "__start__",
            label="",
            shape="circle",
            style="filled",
            fillcolor="black",
            width="0.18",
            fixedsize="true",
            peripheries="1",
        )
        # Graphviz piles the labels of several self-loops on one node on top of each
        # other, so events that keep a state where it is are listed inside it, one
        # per line (UML's internal transitions), each with its roles and rule IDs.
        inside: dict[str, list[dict[str, Any]]] = {}
        for tran in self._get_elements()[1]:
            if tran["source"] == tran.get("dest"):
                inside.setdefault(tran["source"], []).append(tran)
        for state in states:
            name = state["name"]
            style = machine.node_style(name)
            extra = dict(styles.get(style, {})) if style != "default" else {}
            label = _state_label(name)
            if name in inside:
                label = self._compartment(label, inside[name])
                extra["margin"] = "0.05"
            container.node(name, label=label, **extra)
        container.edge("__start__", machine.view.spec.initial.value, label="", arrowsize="0.8")

    def _compartment(self, title: str, loops: list[dict[str, Any]]) -> str:
        """An HTML-like label: the state's name, a rule, then one row per self-loop."""
        machine = self.machine
        rows = [
            f'<TR><TD ALIGN="CENTER"><FONT POINT-SIZE="13">{html.escape(title)}</FONT></TD></TR>'
        ]
        rows.append("<HR/>")
        for tran in loops:
            edge = machine.table[tran["edge"]]
            head, *rest = machine.lines(tran, wrap=None)
            colour = "#1f5fa8" if machine.steps(tran) else "#4d4d4d" if edge.timer else "#222222"
            lines = [f"<B>{html.escape(head)}</B>"]
            wrapped = textwrap.wrap("  ".join(rest), 48, break_on_hyphens=False)
            lines += [html.escape(line) for line in wrapped]
            text = "".join(f'{line}<BR ALIGN="LEFT"/>' for line in lines)
            if edge.timer is not None:
                text = f"<I>{text}</I>"
            rows.append(
                f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="10" COLOR="{colour}">'
                f"{text}</FONT></TD></TR>"
            )
        body = "".join(rows)
        return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">{body}</TABLE>>'

    def _add_edges(self, transitions: list[dict[str, Any]], container: Any) -> None:
        machine = self.machine
        styles = machine.styles["edge"]
        for tran in transitions:
            edge = machine.table[tran["edge"]]
            extra: dict[str, str] = {}
            if edge.timer is not None:
                extra.update(styles["timer"])
            if machine.steps(tran):
                extra.update(styles["taken"])
            label = "\\n".join(_dot_text(line) for line in machine.lines(tran))
            if tran["source"] != tran["dest"]:  # self-loops are listed inside their state
                container.edge(tran["source"], tran["dest"], label=label, **extra)

    def get_graph(self, title: str | None = None, roi_state: Any = None) -> Any:
        graph = super().get_graph(title, roi_state)
        machine = self.machine
        caption = [machine.view.title]
        if machine.view.spec.description and machine.view.variant is None:
            caption[0] += f": {machine.view.spec.description}"
        if machine.path is not None:
            caption.append(f"now: {machine.path.current.replace('_', ' ')} (highlighted)")
        caption += _legend(machine.view)
        graph.graph_attr["label"] = "".join(_dot_text(line) + "\\l" for line in caption)
        return graph


class _MermaidGraph(diagrams_mermaid.Graph):
    """``transitions``' Mermaid graph, with one arrow per table row and product labels."""

    machine: _DiagramMachine

    def _add_nodes(self, states: list[dict[str, Any]], container: list[str]) -> None:
        machine = self.machine
        for state in states:
            container.append(f'state "{_state_label(state["name"])}" as {state["name"]}')
        for state in states:
            style = machine.node_style(state["name"])
            if style != "default":
                container.append(f"class {state['name']} s_{style}")

    def _add_edges(self, transitions: list[dict[str, Any]], container: list[str]) -> None:
        machine = self.machine
        for tran in transitions:
            lines = machine.lines(tran, wrap=None)
            text = " · ".join(lines).replace(":", " ").replace(";", ",")
            container.append(f"{tran['source']} --> {tran['dest']}: {text}")
        for state in machine.view.states:
            if state in machine.view.spec.terminal:
                container.append(f"{state.value} --> [*]")


# --------------------------------------------------------------------------- outputs


def to_dot(view: View, path: Trail | None = None) -> str:
    """Deterministic DOT source for *view* (with *path* highlighted when given)."""
    machine = _DiagramMachine(view, "graphviz", path)
    return str(machine.models[0].get_graph().source)  # type: ignore[attr-defined]


def to_mermaid(view: View, path: Trail | None = None) -> str:
    """A Mermaid ``stateDiagram-v2`` for *view*, ending with a newline."""
    machine = _DiagramMachine(view, "mermaid", path)
    text = str(machine.models[0].get_graph().source)  # type: ignore[attr-defined]
    lines = [line.rstrip() for line in text.splitlines()]
    if lines[:1] == ["---"] and lines[2:3] == ["---"]:
        # transitions writes the bare title between the front-matter fences;
        # Mermaid reads that block as YAML, so it must say ``title: ...``.
        lines[1] = f"title: {json.dumps(view.title)}"
    return "\n".join(lines) + "\n"


def render_svg(dot: str) -> bytes:
    """Run Graphviz on *dot* and return SVG bytes."""
    import graphviz  # noqa: PLC0415  (optional dependency: only rendering needs it)

    return bytes(graphviz.Source(dot).pipe(format="svg"))


def render_png(dot: str) -> bytes:
    """Run Graphviz on *dot* and return PNG bytes."""
    import graphviz  # noqa: PLC0415

    return bytes(graphviz.Source(dot).pipe(format="png"))


@attrs.frozen(repr=False)
class Drawing:
    """A rendered diagram; Jupyter shows it as SVG."""

    dot: str
    """The DOT source."""
    mermaid: str
    """The same diagram for Mermaid."""
    title: str = ""
    """What it shows: ``milestone``, ``contract: hourly contract``, ``milestone M-1``."""

    def __repr__(self) -> str:
        return f"<Drawing {self.title or 'diagram'}: .dot, .mermaid, .svg(), .save(path)>"

    def svg(self) -> str:
        """The SVG text (needs Graphviz's ``dot``)."""
        return render_svg(self.dot).decode()

    def _repr_svg_(self) -> str:
        return self.svg()

    def save(self, path: str | Path) -> Path:
        """Write the drawing; its suffix picks the format (svg, png, dot or mmd)."""
        target = Path(path)
        suffix = target.suffix.lower()
        if suffix == ".svg":
            target.write_bytes(render_svg(self.dot))
        elif suffix == ".png":
            target.write_bytes(render_png(self.dot))
        elif suffix == ".dot":
            target.write_text(self.dot)
        elif suffix in {".mmd", ".mermaid"}:
            target.write_text(self.mermaid)
        else:
            msg = f"cannot save a diagram as {suffix or 'a file without a suffix'}"
            raise ValueError(msg)
        return target


def draw(machine: str | MachineSpec[Any, Any], variant: str | None = None) -> Drawing:
    """The diagram of a machine (by name or spec), or of one of its variants."""
    spec = SPECS[machine] if isinstance(machine, str) else machine
    chosen = None
    if variant is not None:
        found = [v for v in variants_of(spec) if v.name == variant]
        if not found:
            names = ", ".join(v.name for v in variants_of(spec)) or "none"
            msg = f"{spec.name} has no variant {variant!r}; its variants: {names}"
            raise KeyError(msg)
        chosen = found[0]
    view = View(spec, chosen)
    return Drawing(to_dot(view), to_mermaid(view), view.title)


def show(aggregate: Any) -> Drawing:
    """The diagram of a live aggregate: its current state and the path it took.

    When the machine has variants, the one the aggregate matches is drawn.
    """
    spec = _spec_of(aggregate)
    chosen = next((v for v in variants_of(spec) if v.matches(aggregate)), None)
    view = View(spec, chosen)
    path = trail(aggregate)
    title = f"{spec.name} {aggregate.id} ({aggregate.state.value})"
    return Drawing(to_dot(view, path), to_mermaid(view, path), title)
