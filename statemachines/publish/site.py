"""The documentation site's pages, generated from the machines (MkDocs with Material).

:func:`write_sources` writes every page's Markdown into ``build/site-src/`` and a
``build/mkdocs.yml`` that inherits the committed ``mkdocs.yml`` (theme, Markdown
extensions, mkdocstrings) and adds the navigation; :func:`build` then runs
``mkdocs build --strict`` into ``site/``. Every page but one is generated:

* ``index.md``: the overview for product people (the machines, how they connect,
  the roles);
* ``machines/NAME.md``: one page per machine: its diagram, each state in a
  sentence, each event (who may act, what must hold, what it does, when the
  platform fires it) and its per-type and per-part diagrams;
* ``rules.md``: the rule catalogue by topic (:mod:`statemachines.publish.catalogue`);
* ``scenarios/NAME.md``: the scenarios of ``docs/scenarios/`` as stories, each with
  the diagram of the path it took;
* ``notebooks/NAME.md``: the notebooks, executed now, with their outputs;
* ``guides/NAME.md``: the guides written by hand in ``docs/`` (:data:`GUIDES`: the
  service, running at scale on PostgreSQL, testing your own code, verification);
* ``decisions/NAME.md``: the decision records of ``docs/decisions/``;
* ``api.md``: the reference for backend engineers, from the docstrings.

Every diagram is inline SVG whose rule IDs link to the catalogue.
"""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from statemachines.core.actors import Role
from statemachines.core.engine import Edge, MachineSpec
from statemachines.publish import catalogue, diagrams, labels, scenarios
from statemachines.publish.views import ROLE_CODES, View, discover, variants_of
from statemachines.rules import RULES

__all__ = [
    "ROLE_GLOSSARY",
    "build",
    "machine_page",
    "state_sentences",
    "title_of",
    "write_sources",
]

SOURCES = Path("build") / "site-src"
CONFIG = Path("build") / "mkdocs.yml"
SITE = Path("site")

ROLE_GLOSSARY: Mapping[Role, str] = {
    Role.FREELANCER: "a freelancer working on their own account.",
    Role.AGENCY_OWNER: "the owner of an agency.",
    Role.BUSINESS_MANAGER: "an agency's business manager, who runs it beside the owner.",
    Role.AGENCY_MEMBER: "a freelancer who works on an agency's team.",
    Role.CLIENT_OWNER: "the owner of a client company.",
    Role.CLIENT_ADMIN: "a client team admin with full permissions.",
    Role.HIRING_MANAGER: "a client hiring manager: hires, approves work, pays and ends contracts.",
    Role.SOURCING_MEMBER: "a client member who may only source talent: post jobs and read "
    "proposals, but not hire, pay or end a contract.",
    Role.TEAM_MEMBER: "a colleague on a team without admin rights.",
    Role.SYSTEM: "the platform itself, acting when a deadline falls due.",
    Role.SUPPORT: "support, trust and safety or mediation staff.",
    Role.ACCOUNT_TEAM: "an Enterprise customer's account team.",
}
"""Every role, in a sentence a product person can read."""

_MISSING_STATES: Mapping[str, str] = {
    "account.active": "Open and in use.",
    "job.draft": "Written but not yet posted.",
    "job.open": "Posted: freelancers and agencies may send proposals.",
    "proposal.draft": "Written but not yet sent.",
    "proposal.submitted": "Sent to the client, who may decline it or make an offer.",
    "proposal.withdrawn": "Taken back by the freelancer or agency before an offer came.",
    "proposal.declined": "Turned down by the client.",
    "proposal.offer_pending": "The client made an offer; it waits for an answer.",
    "proposal.accepted": "The offer was accepted: a contract has started.",
    "proposal.offer_declined": "The freelancer or agency turned the offer down.",
    "membership.invited": "Invited to the team; the invitation waits for an answer.",
    "membership.member": "On the team, acting in their role.",
    "membership.left": "Left the team.",
    "membership.removed": "Removed from the team by an admin or the owner.",
    "membership.declined": "Turned the invitation down.",
}
"""Sentences for states whose enum member has no docstring of its own yet."""


# --------------------------------------------------------------------------- reading


def state_sentences(spec: MachineSpec[Any, Any]) -> dict[str, str]:
    """State value -> one sentence: the enum member's own docstring, else ours."""
    docs: dict[str, str] = {}
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(spec.states)))
    except (OSError, TypeError):
        tree = None
    if tree is not None and isinstance(tree.body[0], ast.ClassDef):
        body = tree.body[0].body
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.targets[0].id] = " ".join(after.value.value.split())
    out = {}
    for state in spec.states:
        found = docs.get(state.name) or _MISSING_STATES.get(f"{spec.name}.{state.value}")
        out[state.value] = found or "(no description yet)"
    return out


def _first_line(text: str | None) -> str:
    return " ".join((text or "").strip().split("\n\n")[0].split())


def _rule_link(rule_id: str, depth: int) -> str:
    return "../" * depth + f"rules/#{rule_id.lower()}"


def _rule_ref(rule_id: str, depth: int) -> str:
    """A rule ID as a Markdown link to the catalogue, from a page *depth* folders down."""
    return f"[{rule_id}]({'../' * depth}rules.md#{rule_id.lower()})"


def _people(roles: Iterable[Role]) -> str:
    return ", ".join(f"{r.label} ({ROLE_CODES[r]})" for r in Role if r in set(roles))


def _svg(dot: str) -> str:
    """Inline SVG for a page: no XML prologue, scaled to the column."""
    svg = diagrams.render_svg(dot).decode()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
    svg = re.sub(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', _scaled, svg, count=1)
    return "\n".join(line for line in svg.splitlines() if line.strip())


def _scaled(match: re.Match[str]) -> str:
    width = float(match[1])
    return f'<svg style="max-width: 100%; height: auto" width="{width * 4 / 3:.0f}"'


def _figure(view: View, depth: int, path: diagrams.Trail | None = None) -> str:
    dot = diagrams.to_dot(view, path, link=lambda r: _rule_link(r, depth + 1))
    return f'<div class="diagram" markdown="0">\n{_svg(dot)}\n</div>\n'


# --------------------------------------------------------------------------- machines


def _event_rows(view: View, depth: int) -> list[str]:
    spec = view.spec
    out = []
    for event in spec.events:
        edges = [e for e in spec.edges if e.event == event]
        out += [f"### `{event}`", ""]
        summary = next((e.summary for e in edges if e.summary), "")
        if summary:
            out += [summary, ""]
        moves = []
        for edge in edges:
            sources = ", ".join(s.value.replace("_", " ") for s in edge.sources)
            branch = f" if {edge.branch.label}" if edge.branch is not None else ""
            moves.append(f"{sources} → {edge.target.value.replace('_', ' ')}{branch}")
        out.append("- **Moves:** " + "; ".join(dict.fromkeys(moves)))
        timers = [e.timer for e in edges if e.timer is not None]
        if timers:
            timer = timers[0]
            out.append(
                f"- **When:** the platform fires it {timer.label} "
                f"({_rule_ref(timer.rule_id, depth)})"
            )
        else:
            roles = frozenset().union(*(e.roles for e in edges))
            rules = sorted({r for e in edges for r in e.role_rules})
            cited = f" ({', '.join(_rule_ref(r, depth) for r in rules)})" if rules else ""
            out.append(f"- **Who may act:** {_people(roles)}{cited}")
        guards = list(dict.fromkeys(g.rule_id for e in edges for g in e.guards))
        if guards:
            out.append("- **What must hold:**")
            out += [
                f"    - {RULES[r].summary} ({_rule_ref(r, depth)})" for r in guards if r in RULES
            ]
        effects = _effects(edges)
        if effects:
            out.append("- **What it does:**")
            out += [f"    - {text}" for text in effects]
        refused = [f for f in spec.forbidden if f.event == event]
        for row in refused:
            states = ", ".join(s.value.replace("_", " ") for s in row.sources)
            out.append(f"- **Refused in {states}:** {_rule_ref(row.rule_id, depth)}")
        out.append("")
    return out


def _effects(edges: Iterable[Edge[Any]]) -> list[str]:
    seen: dict[str, str] = {}
    for edge in edges:
        for effect in edge.effects:
            text = _first_line(getattr(effect.apply, "__doc__", None))
            if effect.rule_id and effect.rule_id in RULES:
                text = text or RULES[effect.rule_id].summary
                text = f"{text} ({_rule_ref(effect.rule_id, 2)})"
            if text:
                seen.setdefault(text, text)
    return list(seen)


def machine_page(spec: MachineSpec[Any, Any]) -> str:
    """The Markdown page of one machine."""
    depth = 1
    whole = View(spec)
    out = ["---", "hide: [toc]", "---", "", f"# {spec.name.capitalize()}", "", spec.description, ""]
    parts = [View(spec, v) for v in variants_of(spec)]
    if whole.overview:
        out += [
            f"The whole machine has {len(spec.edges)} transitions: the overview below shows "
            "how its states connect, and the diagrams further down show each part in full.",
            "",
        ]
    out += [_figure(whole, depth), "", "## States", ""]
    sentences = state_sentences(spec)
    out += ["| State | What it means |", "|---|---|"]
    for state in spec.states:
        final = " *(final)*" if state in spec.terminal else ""
        start = " *(start)*" if state == spec.initial else ""
        out.append(
            f"| **{state.value.replace('_', ' ')}**{start}{final} | {sentences[state.value]} |"
        )
    out += ["", "## Events", ""]
    out += _event_rows(whole, depth)
    if parts:
        out += ["## Views by type and part", ""]
        for view in parts:
            assert view.variant is not None
            out += [f"### {view.variant.title.capitalize()}", "", _figure(view, depth), ""]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- overview


def overview_page(specs: Mapping[str, MachineSpec[Any, Any]]) -> str:
    """The home page: what the machines are, how they connect, who acts."""
    out = [
        "# statemachines",
        "",
        "A freelance marketplace's workflows, written down as state machines: every account,",
        "contract, milestone, job post, proposal and team membership is always in exactly one",
        "state, and it moves only by an event that the rules allow. Each rule comes from the",
        "help centre and has an ID (like MS-1); every diagram on this site is drawn from the",
        "same tables the software runs, so what you read here is what the product does.",
        "",
        "## The machines",
        "",
        "| Machine | What it covers | States |",
        "|---|---|---|",
    ]
    for spec in sorted(specs.values(), key=lambda s: s.name):
        states = ", ".join(s.value.replace("_", " ") for s in spec.states)
        out.append(
            f"| [{title_of(spec)}](machines/{spec.name}.md) | {spec.description} | {states} |"
        )
    out += [
        "",
        "## How they connect",
        "",
        "- A **client company** posts a **job**; freelancers and agencies answer with a",
        "  **proposal**; an accepted offer starts a **contract** and fills the job.",
        "- A fixed-price contract is paid through **milestones**: the client funds one into",
        "  escrow, the freelancer submits work, and the client approves it (or the platform",
        "  does, 14 days after the submission). An hourly contract is billed each week.",
        "- Ending a contract settles its money; refunds, bonuses and feedback follow it.",
        "- People act for a company or an agency through a **team membership**.",
        "- An **account** can start closing only once its contracts, proposals, job posts,",
        "  team members and money are settled; each account type has its own list.",
        "",
        "## Who acts",
        "",
        "Diagrams name the people who may take each step by a short code:",
        "",
        "| Code | Role | Who that is |",
        "|---|---|---|",
    ]
    for role in Role:
        out.append(f"| {ROLE_CODES[role]} | {role.label} | {ROLE_GLOSSARY[role]} |")
    out += [
        "",
        '"Any user" on a diagram means every role above except the platform (SYS), support',
        "(SUP) and the Enterprise account team (ENT).",
        "",
        "## Reading a diagram",
        "",
        "- A box is a state; the black dot points at the state everything starts in; a double",
        "  border marks a final state, which nothing leaves.",
        "- An arrow is an event: its name, who may take it (`by CO, CA, HM`) and the rules",
        "  that must hold, each a link to the [rule catalogue](rules.md).",
        "- Dashed arrows and italic entries are taken by the platform when a deadline falls due.",
        "- Events listed inside a box keep it in that state.",
        "- Yellow notes explain effects people ask about, such as the 5-day security hold.",
        "",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------- scenarios


def scenario_page(path: Path) -> tuple[str, str]:
    """(title, Markdown page) of one scenario file: its steps as a story and its path drawn."""
    scenario = scenarios.load(path)
    played = scenarios.play(scenario)
    story = []
    for result in played.results:
        when = result.at.strftime("%a %d %b %Y %H:%M UTC")
        if result.event:
            who = scenario.actors.get(result.actor, result.actor)
            role = scenarios.parse_role(who.partition(":")[0]).label
            line = f"{when}: **{result.actor}** ({role}) does `{result.event}` on {result.target}"
            line += f": {_outcome(result)}"
        else:
            line = f"{when}: time passes"
        if result.fired:
            line += f"; the platform fires {', '.join(f'`{f}`' for f in result.fired)}"
        story.append(f"{result.number}. {line}.")
        if not result.passed:
            story.append(f"    - *Expected otherwise:* {'; '.join(result.problems)}")
    out = ["---", "hide: [toc]", "---", "", f"# {scenario.title}", ""]
    out += [f"From `docs/scenarios/{path.name}`.", "", "## The story", ""]
    out += story
    out += ["", "## The path taken", ""]
    for agg_id, aggregate in played.aggregates.items():
        if not getattr(aggregate, "history", None):
            continue
        trail = diagrams.trail(aggregate)
        view = diagrams.path_view(labels.spec_of(aggregate), aggregate, trail)
        out += [f"### {agg_id}: now {aggregate.state.value.replace('_', ' ')}", ""]
        out += [_figure(view, 1, trail), ""]
    return scenario.title, "\n".join(out) + "\n"


def _outcome(result: scenarios.StepResult) -> str:
    words = {
        "accepted": "accepted",
        "refused": "refused",
        "not_permitted": "not permitted",
        "illegal": "not possible in that state",
        "invalid": "rejected as invalid input",
    }
    text = words.get(result.outcome, result.outcome)
    detail = result.detail.replace("->", "now").strip()
    if result.outcome == "refused":
        ids = re.findall(r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+", detail)
        detail = "by " + ", ".join(_rule_ref(r, 1) for r in ids if r in RULES) if ids else detail
    return f"{text} ({detail})" if detail else text


# --------------------------------------------------------------------------- notebooks


def notebook_page(path: Path) -> str:
    """A notebook executed now, as Markdown with its outputs."""
    import nbformat  # noqa: PLC0415  (the docs extra)
    from nbclient import NotebookClient  # noqa: PLC0415
    from traitlets.config import Config  # noqa: PLC0415

    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    # The kernel talks over Unix sockets in a directory of its own, not over TCP ports on
    # localhost (which the kernel warns about on every start, unencrypted); the client
    # starts it and shuts it down.
    with tempfile.TemporaryDirectory(prefix="statemachines-kernel-") as tmp:
        sockets = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(tmp) / "k")}})
        NotebookClient(
            nb,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
            config=sockets,
        ).execute()
    out = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            out += [cell.source, ""]
            continue
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        out += ["```python", cell.source, "```", ""]
        for output in cell.get("outputs", []):
            out += _output(output)
    return "\n".join(out) + "\n"


def _output(output: Any) -> list[str]:
    kind = output.get("output_type")
    if kind == "stream":
        return ["```text", output.get("text", "").rstrip(), "```", ""]
    if kind == "error":
        return ["```text", f"{output.get('ename')}: {output.get('evalue')}", "```", ""]
    data = output.get("data", {})
    if "image/svg+xml" in data:
        svg = data["image/svg+xml"]
        svg = svg[svg.index("<svg") :] if "<svg" in svg else svg
        svg = re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)
        svg = re.sub(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', _scaled, svg, count=1)
        body = "\n".join(line for line in svg.splitlines() if line.strip())
        return [f'<div class="diagram" markdown="0">\n{body}\n</div>', ""]
    if "image/png" in data:
        return [f'<img alt="output" src="data:image/png;base64,{data["image/png"]}"/>', ""]
    if "text/plain" in data:
        return ["```text", str(data["text/plain"]).rstrip(), "```", ""]
    return []


# --------------------------------------------------------------------------- the site


def api_page() -> str:
    """The API reference: mkdocstrings renders each module from its docstrings."""
    modules = [
        ("The package", "statemachines"),
        ("Errors", "statemachines.errors"),
        ("Actors", "statemachines.core.actors"),
        ("Clock", "statemachines.core.clock"),
        ("Money", "statemachines.core.money"),
        ("Snapshots", "statemachines.core.snapshots"),
        ("Rules", "statemachines.rules"),
        ("Marketplace", "statemachines.marketplace.market"),
        ("Diagrams", "statemachines.publish.diagrams"),
        ("Scenarios", "statemachines.publish.scenarios"),
    ]
    out = [
        "# API reference",
        "",
        "For backend engineers: the public names, generated from the docstrings.",
        "",
    ]
    for title, module in modules:
        out += [f"## {title}", "", f"::: {module}", "    options:", "      heading_level: 3", ""]
    return "\n".join(out)


def write_sources(
    root: Path = Path(), *, notebooks: bool = True, site_dir: Path | None = None
) -> list[Path]:
    """Write every page under ``root/build/site-src`` and ``root/build/mkdocs.yml``.

    The site is built into *site_dir* (default: ``root/site``).
    """
    specs = discover()
    out = root / SOURCES
    if out.exists():
        shutil.rmtree(out)
    pages: dict[str, str] = {"index.md": overview_page(specs)}
    nav: list[str] = ["  - Overview: index.md", "  - Machines:"]
    for spec in sorted(specs.values(), key=lambda s: s.name):
        pages[f"machines/{spec.name}.md"] = machine_page(spec)
        nav.append(f"      - {title_of(spec)}: machines/{spec.name}.md")
    cat = catalogue.build(root)
    link = lambda use: f"machines/{use.machine}.md#{use.event}"  # noqa: E731
    pages["rules.md"] = cat.markdown(link)
    nav.append("  - Rule catalogue: rules.md")
    nav.append("  - Scenarios:")
    for path in sorted((root / "docs" / "scenarios").glob("*.yaml")):
        title, page = scenario_page(path)
        pages[f"scenarios/{path.stem}.md"] = page
        nav.append(f"      - {_yaml(title)}: scenarios/{path.stem}.md")
    if notebooks:
        nav.append("  - Notebooks:")
        for path in sorted((root / "notebooks").glob("*.ipynb")):
            pages[f"notebooks/{path.stem}.md"] = notebook_page(path)
            nav.append(
                f"      - {path.stem.replace('_', ' ').capitalize()}: notebooks/{path.stem}.md"
            )
    for section, folder, found in (
        ("Guides", "guides", [root / "docs" / f"{n}.md" for n in GUIDES]),
        ("Decisions", "decisions", sorted((root / "docs" / "decisions").glob("*.md"))),
    ):
        nav.append(f"  - {section}:")
        for path in (p for p in found if p.is_file()):
            text = path.read_text(encoding="utf-8")
            pages[f"{folder}/{path.name}"] = text
            nav.append(f"      - {_yaml(_heading(text, path))}: {folder}/{path.name}")
    pages["api.md"] = api_page()
    nav.append("  - API reference: api.md")
    written = []
    for name, text in pages.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    css = out / "stylesheets" / "diagrams.css"
    css.parent.mkdir(parents=True, exist_ok=True)
    css.write_text(_CSS, encoding="utf-8")
    config = root / CONFIG
    config.write_text(
        "# Generated by `python -m statemachines site`: the committed mkdocs.yml plus the pages.\n"
        "INHERIT: ../mkdocs.yml\n"
        "docs_dir: site-src\n"
        f"site_dir: {json.dumps(str(site_dir.resolve())) if site_dir else '../site'}\n"
        "extra_css: [stylesheets/diagrams.css]\n"
        "plugins:\n"
        "  - search\n"
        "  - mkdocstrings:\n"
        "      handlers:\n"
        "        python:\n"
        "          paths: [..]\n"
        "          options: {show_source: false, show_root_heading: true, members_order: source}\n"
        "nav:\n" + "\n".join(nav) + "\n",
        encoding="utf-8",
    )
    return written


GUIDES = ("service", "deploy", "testing", "verification")
"""The hand-written guides of docs/ the site carries, in this order (those that exist)."""

_NAMES = {"fixed_dispute": "fixed-price dispute", "mid_feedback": "mid-contract feedback"}


def title_of(spec: MachineSpec[Any, Any]) -> str:
    """A machine's name as a page title: ``Hourly dispute``, ``Fixed-price dispute``."""
    return _NAMES.get(spec.name, spec.name.replace("_", " ")).capitalize()


def _heading(text: str, path: Path) -> str:
    """A page's first heading (its file name when it has none)."""
    for line in text.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return path.stem.replace("-", " ")


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_CSS = """\
.diagram { overflow-x: auto; margin: 1em 0; }
.diagram svg a text { text-decoration: underline; }
.diagram svg a:hover text { fill: #0b3d7a; }
"""


def build(
    root: Path = Path(),
    *,
    strict: bool = True,
    notebooks: bool = True,
    site_dir: Path | None = None,
) -> int:
    """Write the sources and run ``mkdocs build`` into ``root/site`` (or *site_dir*).

    Returns mkdocs' exit status; ``--strict`` makes a broken link or a missing page fail.
    """
    write_sources(root, notebooks=notebooks, site_dir=site_dir)
    command = [sys.executable, "-m", "mkdocs", "build", "--quiet", "-f", str(root / CONFIG)]
    if strict:
        command.append("--strict")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(command, check=False, env=env).returncode
