"""The rule catalogue (``docs/rules.md``): every rule, where it is enforced, and what tests it.

Everything is read, never kept by hand: rule summaries and sources from
:data:`statemachines.rules.RULES`, the places a rule is enforced from the machine
tables in ``SPECS`` (guards, deadlines, effects, permission rules and the
documented refusals), and the tests that cover it by scanning ``tests/`` for the
rule ID, in a string or comment (``"MS-REVIEW-2"``) or in a test's name
(``test_ms_review_2_...``).

A rule of the v0.1 scope (:data:`SCOPE_V01`, the rulebook's "Scope by release")
that is not defined, not enforced by any table or not cited by any test is a
*gap*. Gaps are listed at the top of the catalogue; a gap of a machine that has
landed (its spec is in ``SPECS``) fails ``python -m statemachines render --check``.

>>> from statemachines.publish.catalogue import natural_key
>>> sorted(["CTR-END-10", "CTR-END-2", "CTR-GEN-1"], key=natural_key)
['CTR-END-2', 'CTR-END-10', 'CTR-GEN-1']
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from statemachines.core.engine import SPECS, MachineSpec
from statemachines.rules import RULES, SEEDS, Rule

__all__ = [
    "KINDS",
    "SCOPE_V01",
    "Catalogue",
    "Gap",
    "Use",
    "build",
    "natural_key",
    "scan_tests",
    "uses",
]

_SCOPE_TEXT = {
    "milestone": """MS-1 MS-2 MS-3 MS-4 MS-SUBMIT-1 MS-REVIEW-1 MS-REVIEW-2 MS-REVIEW-3
        MS-REVIEW-4 MS-REVIEW-5 MS-REVIEW-6 MS-PAY-1""",
    "contract": """CTR-GEN-1 CTR-END-2 CTR-END-3 CTR-END-4 CTR-END-5 CTR-END-6 CTR-END-7
        CTR-END-8 CTR-END-9 CTR-END-10 CTR-HR-1 CTR-HR-2 CTR-HR-3 BILL-1 BILL-2 BILL-3 BILL-4
        BILL-5 BILL-6 BILL-7 ESC-1 ESC-2 ESC-3 ESC-4 ESC-5 REF-180-1 REF-180-2 REF-180-3
        REF-180-4 REF-180-5 REF-180-6 REF-180-7 REF-REQ-1 REF-REQ-2 REF-REQ-3 FB-1 FB-2 FB-3
        FB-4 PAY-1 PAY-2""",
    "account": """ACC-GEN-1 ACC-GEN-2 ACC-GEN-3 ACC-GEN-4 ACC-GEN-5 ACC-GEN-6 ACC-GEN-7
        ACC-GEN-8 ACC-CLOSE-FL-1 ACC-CLOSE-FL-2 ACC-CLOSE-FL-3 ACC-CLOSE-FL-4 ACC-CLOSE-FL-5
        ACC-CLOSE-CL-1 ACC-CLOSE-CL-2 ACC-CLOSE-CL-3 ACC-CLOSE-CL-4 ACC-CLOSE-CL-5
        ACC-CLOSE-CL-6 ACC-CLOSE-CL-8 ACC-CLOSE-AG-1 ACC-CLOSE-AG-2 ACC-CLOSE-AG-3
        ACC-CLOSE-AG-4 ACC-CLOSE-AG-5 ACC-CLOSE-AG-6 ACC-CLOSE-AG-7 ACC-CLOSE-AG-8
        ACC-CLOSE-AG-10 ACC-CLOSE-TM-1 ACC-CLOSE-TM-2 ACC-CLOSE-TM-3 ACC-CLOSE-ENT-1
        ACC-CLOSE-ENT-2 ACC-DEACT-1 ACC-DEACT-2 ACC-DEACT-3 ACC-DEL-1 ACC-REACT-1 ACC-REACT-2
        ACC-REACT-3 ACC-REACT-4 SUSP-1 CIRC-4 TEAM-1 TEAM-2 TEAM-3 TEAM-4 TEAM-5 TEAM-6 TEAM-7
        JOB-1 JOB-2 JOB-3 PROP-1 PROP-2""",
}

SCOPE_V01: Mapping[str, tuple[str, ...]] = {k: tuple(v.split()) for k, v in _SCOPE_TEXT.items()}
"""The rulebook's v0.1 scope: machine -> rule IDs (the same list as
``../shared/checks/v01_rules.txt``). A rule defined with ``release="v0.1"`` is in
scope too, under its own machine."""

KINDS = ("guard", "deadline", "effect", "permission")
"""How a table can enforce a rule, in the order the catalogue lists them."""

_TOKEN = re.compile(r"\d+|\D+")


def natural_key(rule_id: str) -> tuple[Any, ...]:
    """Sort key that puts ``CTR-END-2`` before ``CTR-END-10``."""
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in _TOKEN.findall(rule_id))


# --------------------------------------------------------------------------- enforcement


@attrs.frozen
class Use:
    """One place a machine table cites a rule."""

    machine: str
    event: str
    kind: str
    """``guard``, ``deadline``, ``effect`` or ``permission``."""
    sources: tuple[str, ...]
    """State values the event leaves from."""
    target: str | None
    """The state it goes to, or ``None`` for a documented refusal (nothing happens)."""

    def __str__(self) -> str:
        sources = ", ".join(s.replace("_", " ") for s in self.sources)
        if self.target is None:
            return f"{self.machine} `{self.event}` refused in {sources}"
        return f"{self.machine} `{self.event}` ({sources} → {self.target.replace('_', ' ')})"


def uses(specs: Iterable[MachineSpec[Any, Any]] | None = None) -> dict[str, list[Use]]:
    """Rule ID -> every place a table cites it, in table order."""
    out: dict[str, list[Use]] = {}

    def add(rule_id: str, use: Use) -> None:
        bucket = out.setdefault(rule_id, [])
        if use not in bucket:
            bucket.append(use)

    for spec in specs if specs is not None else SPECS.values():
        for edge in spec.edges:
            sources = tuple(s.value for s in edge.sources)
            target = edge.target.value

            def at(
                kind: str,
                m: str = spec.name,
                e: str = edge.event,
                so: tuple[str, ...] = sources,
                to: str = target,
            ) -> Use:
                return Use(m, e, kind, so, to)

            for rule_id in edge.role_rules:
                add(rule_id, at("permission"))
            for guard in edge.guards:
                add(guard.rule_id, at("guard"))
            if edge.timer is not None:
                add(edge.timer.rule_id, at("deadline"))
            for effect in edge.effects:
                if effect.rule_id:
                    add(effect.rule_id, at("effect"))
        for row in spec.forbidden:
            sources = tuple(s.value for s in row.sources)
            add(row.rule_id, Use(spec.name, row.event, "guard", sources, None))
    return out


# --------------------------------------------------------------------------- tests


def _id_pattern(rule_id: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9-]){re.escape(rule_id)}(?![A-Za-z0-9]|-[A-Za-z0-9])")


def _in_name(rule_ids: Sequence[str], name: str) -> set[str]:
    """Rule IDs spelled in an identifier (``test_ms_review_2_fires``), longest match wins."""
    tokens = name.lower().split("_")
    spans: list[tuple[int, int, str]] = []
    for rule_id in rule_ids:
        want = rule_id.lower().split("-")
        n = len(want)
        for i in range(len(tokens) - n + 1):
            if tokens[i : i + n] == want and (i == 0 or tokens[i - 1] != "inv"):
                spans.append((i, i + n, rule_id))
    found = set()
    for start, end, rule_id in spans:
        inside = any(s <= start and end <= e and (e - s) > (end - start) for s, e, _ in spans)
        if not inside:
            found.add(rule_id)
    return found


def _blocks(tree: ast.Module) -> list[tuple[str, int, int, list[str]]]:
    """(name, first line, last line, identifiers) of each test-like block of a module."""
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            last = node.end_lineno or node.lineno
            names = [node.name]
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        names.append(item.name)
            out.append((node.name, first, last, names))
    return out


IGNORE = "# rule-catalogue: " + "not rule tests"
"""A test module with this comment is not scanned (it mentions rule IDs as data)."""


def scan_tests(tests: Path, rule_ids: Iterable[str]) -> dict[str, list[str]]:
    """Rule ID -> the tests that cite it (``tests/test_x.py::test_name``), sorted.

    A citation inside a function or class names that function or class; one at
    module level names the file. Modules marked with :data:`IGNORE` are skipped.
    """
    ids = sorted(set(rule_ids), key=natural_key)
    patterns = {r: _id_pattern(r) for r in ids}
    found: dict[str, set[str]] = {}
    if not tests.is_dir():
        return {}
    for path in sorted(tests.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if IGNORE in text:
            continue
        where = path.as_posix()
        if tests.parent != Path():
            where = path.relative_to(tests.parent).as_posix()
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        lines = text.splitlines()
        blocks = _blocks(tree)
        claimed: set[int] = set()
        for name, first, last, names in blocks:
            claimed.update(range(first, last + 1))
            chunk = "\n".join(lines[first - 1 : last])
            hits = {r for r in ids if patterns[r].search(chunk)}
            for ident in names:
                hits |= _in_name(ids, ident)
            for r in hits:
                found.setdefault(r, set()).add(f"{where}::{name}")
        rest = "\n".join(line for n, line in enumerate(lines, 1) if n not in claimed)
        for r in ids:
            if patterns[r].search(rest):
                found.setdefault(r, set()).add(where)
    return {r: sorted(v) for r, v in found.items()}


def scan_scenarios(folder: Path, rule_ids: Iterable[str]) -> dict[str, list[str]]:
    """Rule ID -> the scenario files (``docs/scenarios/*.yaml``) that cite it."""
    found: dict[str, list[str]] = {}
    if not folder.is_dir():
        return found
    patterns = {r: _id_pattern(r) for r in rule_ids}
    for path in sorted(folder.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        for r, pattern in patterns.items():
            if pattern.search(text):
                found.setdefault(r, []).append(path.name)
    return found


# --------------------------------------------------------------------------- gaps


@attrs.frozen
class Gap:
    """A v0.1 rule that is not defined, not enforced or not tested."""

    machine: str
    """The scope group (``milestone``, ``contract``, ``account``)."""
    rule_id: str
    problems: tuple[str, ...]
    """``not defined``, ``not enforced``, ``not tested`` (one or more)."""
    landed: bool
    """True when the machine's spec exists, so the gap fails the check."""

    def __str__(self) -> str:
        return f"{self.machine} {self.rule_id}: {', '.join(self.problems)}"


def scope(rules: Mapping[str, Rule] | None = None) -> dict[str, list[str]]:
    """Machine -> v0.1 rule IDs: the rulebook's list plus rules defined with ``release="v0.1"``."""
    chosen = RULES if rules is None else rules
    out = {m: list(ids) for m, ids in SCOPE_V01.items()}
    listed = {r for ids in SCOPE_V01.values() for r in ids}
    for rule in chosen.values():
        if rule.release == "v0.1" and rule.id not in listed:
            out.setdefault(rule.machine, []).append(rule.id)
    return {m: sorted(ids, key=natural_key) for m, ids in out.items()}


# --------------------------------------------------------------------------- the catalogue


@attrs.frozen
class Catalogue:
    """Everything ``docs/rules.md`` says, as data."""

    rules: Mapping[str, Rule]
    uses: Mapping[str, list[Use]]
    tests: Mapping[str, list[str]]
    scenarios: Mapping[str, list[str]]
    scope: Mapping[str, list[str]]
    landed: frozenset[str]

    @property
    def gaps(self) -> list[Gap]:
        """Every v0.1 rule that is not defined, enforced and tested, by machine."""
        out = []
        for machine in sorted(self.scope):
            for rule_id in self.scope[machine]:
                problems = []
                if rule_id not in self.rules:
                    problems.append("not defined")
                if not self.uses.get(rule_id):
                    problems.append("not enforced")
                if not self.tests.get(rule_id):
                    problems.append("not tested")
                if problems:
                    landed = machine in self.landed
                    out.append(Gap(machine, rule_id, tuple(problems), landed))
        return out

    @property
    def failing(self) -> list[Gap]:
        """The gaps of machines that have landed: these fail ``render --check``."""
        return [g for g in self.gaps if g.landed]

    def kinds(self, rule_id: str) -> list[str]:
        """How the tables enforce *rule_id*, in :data:`KINDS` order."""
        seen = {u.kind for u in self.uses.get(rule_id, [])}
        return [k for k in KINDS if k in seen]

    def markdown(self) -> str:
        """The whole of ``docs/rules.md``."""
        return _markdown(self)


def build(root: Path = Path()) -> Catalogue:
    """Read the rules, the tables and ``root/tests`` into a :class:`Catalogue`."""
    from statemachines.publish.diagrams import discover  # noqa: PLC0415  (diagrams imports transitions' graphs)

    discover()
    in_scope = scope()
    ids = {*RULES, *(r for group in in_scope.values() for r in group)}
    return Catalogue(
        rules=dict(RULES),
        uses=uses(),
        tests=scan_tests(root / "tests", ids),
        scenarios=scan_scenarios(root / "docs" / "scenarios", ids),
        scope=in_scope,
        landed=frozenset(SPECS),
    )


def _source(source: str) -> str:
    if source[:1] == "S" and source[:2] in SEEDS:
        rest = source[2:].strip()
        line = f" {rest.replace('l.', 'line ')}" if rest else ""
        return f"seed `{SEEDS[source[:2]]}`{line}"
    return source


def _cell(items: Sequence[str], none: str = "-") -> str:
    return ", ".join(items) if items else none


def _not_transitions(cat: Catalogue) -> list[str]:
    """The rules no table enforces on purpose, each with its reason (shown apart)."""
    apart = [r for r in cat.rules.values() if r.not_a_transition]
    if not apart:
        return []
    out = ["", "## Rules that are not transitions", ""]
    out += ["No machine enforces these, on purpose; each says why.", ""]
    for r in sorted(apart, key=lambda r: natural_key(r.id)):
        out.append(f"- [{r.id}](#{r.id.lower()}): {r.not_a_transition}")
    return out


def _markdown(cat: Catalogue) -> str:
    out = [
        "# Rule catalogue",
        "",
        "Generated by `python -m statemachines render` from `statemachines/rules/`, the machine",
        "tables and `tests/`. Do not edit it by hand: `python -m statemachines render --check`",
        "fails when it no longer matches.",
        "",
        "Each rule says what the platform promises, which transitions enforce it and how:",
        "a **guard** refuses an event that would break it, a **deadline** fires an event when",
        "time runs out, an **effect** is what an accepted event changes, and a **permission**",
        "decides who may fire the event. Sources are the seed files and the help-centre page",
        "keys of the rulebook (§1).",
        "",
        "## Gaps in the v0.1 scope",
        "",
    ]
    gaps = cat.gaps
    for machine in sorted(cat.scope):
        mine = [g for g in gaps if g.machine == machine]
        total = len(cat.scope[machine])
        if machine not in cat.landed:
            out.append(
                f"- **{machine}** (not built yet): {len(mine)} of {total} rules still to "
                "define, enforce or test."
            )
            continue
        if not mine:
            out.append(f"- **{machine}**: none; all {total} rules are enforced and tested.")
            continue
        out.append(f"- **{machine}**: {len(mine)} of {total} rules have gaps (this fails CI):")
        out.extend(f"  - {g.rule_id}: {', '.join(g.problems)}" for g in mine)
    out += _not_transitions(cat)
    out += [
        "",
        "## Index",
        "",
        "| Rule | Machine | Kind | Enforced in | Tests |",
        "|---|---|---|---|---|",
    ]
    ordered = sorted(cat.rules.values(), key=lambda r: (r.machine, natural_key(r.id)))
    for rule in ordered:
        events = sorted({f"{u.machine} `{u.event}`" for u in cat.uses.get(rule.id, [])})
        out.append(
            f"| [{rule.id}](#{rule.id.lower()}) | {rule.machine} | {_cell(cat.kinds(rule.id))} "
            f"| {_cell(events, 'not a transition' if rule.not_a_transition else 'not enforced')} "
            f"| {len(cat.tests.get(rule.id, []))} |"
        )
    machine = ""
    for rule in ordered:
        if rule.machine != machine:
            machine = rule.machine
            out += ["", f"## {machine}"]
        out += ["", f"### {rule.id}", "", rule.summary, ""]
        none = f"not a transition: {rule.not_a_transition}" if rule.not_a_transition else "none yet"
        out.append(f"- **Kind:** {_cell(cat.kinds(rule.id), none)}")
        places = cat.uses.get(rule.id, [])
        if places:
            out.append("- **Enforced in:**")
            kinds: dict[str, list[str]] = {}
            for use in places:
                kinds.setdefault(str(use), []).append(use.kind)
            out.extend(f"  - {where}: {', '.join(k)}" for where, k in kinds.items())
        else:
            out.append("- **Enforced in:** no table cites it yet")
        out.append(f"- **Sources:** {_cell([_source(s) for s in rule.sources])}")
        tests = cat.tests.get(rule.id, [])
        if tests:
            out.append("- **Tests:**")
            out.extend(f"  - `{t}`" for t in tests)
        else:
            out.append("- **Tests:** none yet")
        scenarios = cat.scenarios.get(rule.id, [])
        if scenarios:
            out.append(f"- **Scenarios:** {_cell([f'`{s}`' for s in scenarios])}")
        out.append(f"- **Release:** {rule.release}")
    return "\n".join(out) + "\n"
