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

* each diagram has a legend that expands every role code its labels use, and
  notes beside the states whose effects users ask about (:data:`NOTES`: the
  5-day security hold, why a contract reads "refunded");
* a diagram drawn for the documentation site (``to_dot(view, link=...)``) makes
  every rule ID on a label a link to that rule.

What each diagram shows (a whole machine, an overview of a large one, one type
or one part of a machine, and who may fire each edge there) is decided in
:mod:`statemachines.publish.views`, re-exported here.

>>> from statemachines import MILESTONE
>>> dot = to_dot(View(MILESTONE))
>>> 'label="review_lapse' in dot and "style=dashed" in dot
True
>>> print(to_mermaid(View(MILESTONE)).splitlines()[3])
stateDiagram-v2
"""

from __future__ import annotations

import copy
import html
import json
import textwrap
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs
from transitions.extensions import diagrams_graphviz, diagrams_mermaid
from transitions.extensions.diagrams import GraphMachine, TransitionGraphSupport

from statemachines.core.actors import Role
from statemachines.core.engine import SPECS, Edge, MachineSpec
from statemachines.publish.labels import (
    NOTES,
    WRAP,
    Note,
    Trail,
    compact_ids,
    edge_head,
    edge_label_parts,
    edge_whom,
    label_rules,
    legend,
    notes,
    spec_of,
    trail,
)
from statemachines.publish.views import (
    MAX_EDGES,
    ROLE_CODES,
    VARIANTS,
    Variant,
    View,
    _always,
    by_type,
    discover,
    role_code,
    role_codes,
    variants_of,
    views,
    who,
)

__all__ = [
    "MAX_EDGES",
    "NOTES",
    "ROLE_CODES",
    "VARIANTS",
    "Drawing",
    "Link",
    "Note",
    "Trail",
    "Variant",
    "View",
    "by_type",
    "compact_ids",
    "discover",
    "draw",
    "edge_label_parts",
    "notes",
    "path_view",
    "role_code",
    "role_codes",
    "show",
    "to_dot",
    "to_mermaid",
    "trail",
    "variants_of",
    "views",
    "who",
]

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
            "fontsize": "14",
            "peripheries": "1",
        },
        "terminal": {"fillcolor": "#e6e6e6", "peripheries": "2"},
        "visited": {"fillcolor": "#dbe9f7", "color": "#1f5fa8", "class": "visited"},
        "current": {
            "fillcolor": "#ffd39b",
            "color": "#b35900",
            "penwidth": "2.5",
            "class": "current",
        },
    },
    "edge": {
        "default": {"color": "#333333", "fontname": "Helvetica", "fontsize": "12"},
        "timer": {"style": "dashed", "color": "#6b6b6b", "fontcolor": "#4d4d4d"},
        "taken": {"color": "#1f5fa8", "fontcolor": "#1f5fa8", "penwidth": "2.5", "class": "taken"},
    },
    "graph": {
        "default": {
            "fontname": "Helvetica",
            "fontsize": "12",
            "labeljust": "l",
            "nodesep": "0.2",  # 0.4 drew the milestone 1,800 px wide: too small to read at 800
            "ranksep": "0.5",
            "pad": "0.2",
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

Link = Callable[[str], str]
"""Rule ID -> the address of that rule (a diagram drawn for the documentation site)."""


class _DiagramMachine(GraphMachine):
    """A ``GraphMachine`` built from one :class:`View` of a spec, for drawing only."""

    transition_cls = _EdgeTransition
    transition_attributes = [*GraphMachine.transition_attributes, "edge"]  # noqa: RUF012

    def __init__(
        self,
        view: View,
        engine: Literal["graphviz", "mermaid"],
        path: Trail | None = None,
        link: Link | None = None,
    ) -> None:
        self.view = view
        self.path = path
        self.link = link
        self.table = {f"e{i}": edge for i, edge in enumerate(view.edges)}
        self.styles = copy.deepcopy(_MERMAID_STYLES if engine == "mermaid" else _DOT_STYLES)
        # transitions reads these two: the defaults for every node, edge and graph,
        # and the classes Mermaid declares (only our own styles, not its defaults).
        self.style_attributes = typing.cast(Any, self.styles)
        self.machine_attributes = {"rankdir": "TB"}
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
        initial = spec.initial if spec.initial in drawn else view.states[0]
        super().__init__(
            model=_Canvas(),
            states=states,
            initial=initial.value,
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

    def roles(self, tran: Mapping[str, Any]) -> frozenset[Role]:
        """Who may fire this arrow, from the view's authorisation."""
        return self.view.roles(self.table[tran["edge"]])

    def shows(self) -> Callable[[str], bool]:
        """Which rule IDs labels show in this view."""
        variant = self.view.variant
        return variant.shows if variant is not None else _always

    def lines(self, tran: Mapping[str, Any], *, wrap: int | None = WRAP) -> list[str]:
        """Label lines for one arrow, from its row and the markup's conditions."""
        lines = edge_label_parts(
            self.table[tran["edge"]],
            tran.get("conditions", ()),
            wrap=wrap,
            shows=self.shows(),
            roles=self.roles(tran),
        )
        steps = self.steps(tran)
        if steps:
            lines.append("step " + ", ".join(map(str, steps)))
        return lines

    def html_rows(self, tran: Mapping[str, Any], *, colour: str) -> list[str]:
        """An arrow's label as rows of an HTML-like table: every rule ID a link of its own."""
        assert self.link is not None
        edge = self.table[tran["edge"]]
        rows = [f"<B>{html.escape(line)}</B>" for line in textwrap.wrap(edge_head(edge), WRAP)]
        rows += [
            html.escape(line) for line in textwrap.wrap(edge_whom(edge, self.roles(tran)), WRAP)
        ]
        steps = self.steps(tran)
        if steps:
            rows.append("step " + ", ".join(map(str, steps)))
        if edge.timer is not None:
            rows = [f"<I>{row}</I>" for row in rows]
        cells = [
            f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT COLOR="{colour}">{row}</FONT></TD></TR>'
            for row in rows
        ]
        rules = label_rules(edge, tran.get("conditions", ()), self.shows())
        for start in range(0, len(rules), 3):
            links = "".join(
                f'<TD HREF="{html.escape(self.link(r))}" TITLE="rule {r}" TARGET="_top">'
                f'<FONT COLOR="#1f5fa8"><U>{r}</U></FONT></TD>'
                for r in rules[start : start + 3]
            )
            cells.append(
                '<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">'
                f"<TR>{links}</TR></TABLE></TD></TR>"
            )
        return cells


def _html_table(rows: Iterable[str]) -> str:
    body = "".join(rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{body}</TABLE>>'


def _state_label(name: str) -> str:
    return name.replace("_", " ")


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _grouped(transitions: Iterable[dict[str, Any]]) -> dict[tuple[str, str], list[str]]:
    """(source, target) -> the events between them, in table order, each once."""
    pairs: dict[tuple[str, str], list[str]] = {}
    for tran in transitions:
        events = pairs.setdefault((tran["source"], tran["dest"]), [])
        if tran["trigger"] not in events:
            events.append(tran["trigger"])
    return pairs


class _DotGraph(diagrams_graphviz.Graph):
    """``transitions``' Graphviz graph, with one arrow per table row and product labels."""

    machine: _DiagramMachine

    def _add_nodes(self, states: list[dict[str, Any]], container: Any) -> None:
        machine = self.machine
        styles = machine.styles["node"]
        if machine.view.starts:
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
        if machine.view.starts:
            container.edge("__start__", machine.view.spec.initial.value, label="", arrowsize="0.8")
        for number, (note, beside) in enumerate(notes(machine.view)):
            key = f"__note{number}__"
            text = "".join(
                _dot_text(line) + "\\l"
                for line in textwrap.wrap(note.text, 36, break_on_hyphens=False)
            )
            container.node(
                key,
                label=text,
                shape="note",
                style="filled",
                fillcolor="#fff8c4",
                color="#b5a642",
                fontname="Helvetica",
                fontsize="11",
                margin="0.12,0.06",
            )
            # Below the state it explains, so a note adds height, never width.
            container.edge(beside, key, style="dotted", arrowhead="none", color="#b5a642")

    def _compartment(self, title: str, loops: list[dict[str, Any]]) -> str:
        """An HTML-like label: the state's name, a rule, then one row per self-loop."""
        machine = self.machine
        rows = [
            f'<TR><TD ALIGN="CENTER"><FONT POINT-SIZE="14">{html.escape(title)}</FONT></TD></TR>'
        ]
        rows.append("<HR/>")
        if machine.view.overview:
            events = ", ".join(dict.fromkeys(t["trigger"] for t in loops))
            text = "".join(
                f'{html.escape(line)}<BR ALIGN="LEFT"/>' for line in textwrap.wrap(events, 40)
            )
            rows.append(
                f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="12" COLOR="#222222">'
                f"{text}</FONT></TD></TR>"
            )
            body = "".join(rows)
            return (
                f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">{body}</TABLE>>'
            )
        for tran in loops:
            edge = machine.table[tran["edge"]]
            colour = "#1f5fa8" if machine.steps(tran) else "#4d4d4d" if edge.timer else "#222222"
            if machine.link is not None:
                inner = _html_table(machine.html_rows(tran, colour=colour))[1:-1]
                rows.append(f'<TR><TD ALIGN="LEFT">{inner}</TD></TR>')
                continue
            head, *rest = machine.lines(tran, wrap=None)
            lines = [f"<B>{html.escape(head)}</B>"]
            wrapped = textwrap.wrap("  ".join(rest), 44, break_on_hyphens=False)
            lines += [html.escape(line) for line in wrapped]
            text = "".join(f'{line}<BR ALIGN="LEFT"/>' for line in lines)
            if edge.timer is not None:
                text = f"<I>{text}</I>"
            rows.append(
                f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="12" COLOR="{colour}">'
                f"{text}</FONT></TD></TR>"
            )
        body = "".join(rows)
        return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">{body}</TABLE>>'

    def _add_edges(self, transitions: list[dict[str, Any]], container: Any) -> None:
        machine = self.machine
        styles = machine.styles["edge"]
        if machine.view.overview:
            for (source, dest), events in _grouped(transitions).items():
                if source != dest:
                    label = "\\n".join(
                        _dot_text(line) for line in textwrap.wrap(", ".join(events), 24)
                    )
                    container.edge(source, dest, label=label)
            return
        # Events between the same two states share one arrow, each its own block of
        # the label (deadlines on a dashed arrow of their own): parallel arrows with
        # long labels would spread the diagram far wider than a page.
        arrows: dict[tuple[str, str, bool], list[dict[str, Any]]] = {}
        for tran in transitions:
            if tran["source"] != tran["dest"]:  # self-loops are listed inside their state
                timer = machine.table[tran["edge"]].timer is not None
                arrows.setdefault((tran["source"], tran["dest"], timer), []).append(tran)
        for (source, dest, timer), group in arrows.items():
            extra: dict[str, str] = dict(styles["timer"]) if timer else {}
            if any(machine.steps(t) for t in group):
                extra.update(styles["taken"])
            if machine.link is not None:
                rows: list[str] = []
                for number, tran in enumerate(group):
                    if number:
                        rows.append('<TR><TD HEIGHT="6"></TD></TR>')
                    taken = machine.steps(tran)
                    colour = "#1f5fa8" if taken else "#4d4d4d" if timer else "#222222"
                    rows += machine.html_rows(tran, colour=colour)
                label = _html_table(rows)
            else:
                label = "\\n\\n".join(
                    "\\n".join(_dot_text(line) for line in machine.lines(tran)) for tran in group
                )
            container.edge(source, dest, label=label, **extra)

    def get_graph(self, title: str | None = None, roi_state: Any = None) -> Any:
        graph = super().get_graph(title, roi_state)
        machine = self.machine
        caption = [machine.view.title]
        if machine.view.spec.description and machine.view.variant is None:
            caption[0] += f": {machine.view.spec.description}"
        caption = textwrap.wrap(caption[0], 84)
        if machine.path is not None:
            caption.append(f"now: {machine.path.current.replace('_', ' ')} (highlighted)")
        caption += legend(machine.view)
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
        if machine.view.overview:
            for (source, dest), events in _grouped(transitions).items():
                container.append(f"{source} --> {dest}: {', '.join(events)}")
        else:
            for tran in transitions:
                lines = machine.lines(tran, wrap=None)
                text = " · ".join(lines).replace(":", " ").replace(";", ",")
                container.append(f"{tran['source']} --> {tran['dest']}: {text}")
        for state in machine.view.states:
            if state in machine.view.spec.terminal:
                container.append(f"{state.value} --> [*]")


# --------------------------------------------------------------------------- outputs


def to_dot(view: View, path: Trail | None = None, link: Link | None = None) -> str:
    """Deterministic DOT source for *view* (with *path* highlighted when given).

    With *link*, every rule ID on a label is a link to the address it gives.
    """
    machine = _DiagramMachine(view, "graphviz", path, link)
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


def path_view(spec: MachineSpec[Any, Any], aggregate: Any, path: Trail) -> View:
    """The view to draw a live aggregate in: the variant it matches, with the rows of its
    type that its path took added (a fixed-price contract refunded after its end)."""
    chosen = next((v for v in variants_of(spec) if v.matches(aggregate)), None)
    if chosen is None:
        return View(spec)
    base = chosen.base or chosen.includes

    def taken(edge: Edge[Any]) -> bool:
        return any((edge.event, s.value, edge.target.value) in path.steps for s in edge.sources)

    def includes(edge: Edge[Any]) -> bool:
        return chosen.includes(edge) or (taken(edge) and base(edge))

    return View(spec, attrs.evolve(chosen, includes=includes))


def show(aggregate: Any, link: Link | None = None) -> Drawing:
    """The diagram of a live aggregate: its current state and the path it took.

    When the machine has variants, the one the aggregate matches is drawn.
    """
    spec = spec_of(aggregate)
    path = trail(aggregate)
    view = path_view(spec, aggregate, path)
    title = f"{spec.name} {aggregate.id} ({aggregate.state.value})"
    return Drawing(to_dot(view, path, link), to_mermaid(view, path), title)
