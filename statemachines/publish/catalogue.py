"""The rule catalogue (``docs/rules.md``): every rule, where it is enforced, and what tests it.

Everything is read, never kept by hand: rule summaries and sources from
:data:`statemachines.rules.RULES`, the places a rule is enforced from the machine
tables in ``SPECS`` (guards, deadlines, effects, permission rules and the
documented refusals), and the tests that check it: those marked
``@pytest.mark.rule("MS-REVIEW-2", ...)`` (the marker is registered in ``pyproject.toml``;
an ID in a comment, a string or a test's name does not count).

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
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from statemachines.core.engine import SPECS, MachineSpec
from statemachines.rules import RULES, Rule

__all__ = [
    "KINDS",
    "PAGE_TITLES",
    "SCOPE_V01",
    "SEED_TITLES",
    "TOPICS",
    "Catalogue",
    "Gap",
    "Topic",
    "Use",
    "build",
    "by_topic",
    "family",
    "marked_tests",
    "natural_key",
    "scan_tests",
    "short_test_name",
    "source_in_words",
    "topic_of",
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


def _rule_marks(node: ast.expr) -> list[str]:
    """Rule IDs of ``pytest.mark.rule("ID", ...)`` in *node* (a decorator or ``pytestmark``)."""
    if isinstance(node, ast.List | ast.Tuple):
        return [r for item in node.elts for r in _rule_marks(item)]
    if not isinstance(node, ast.Call):
        return []
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr == "rule"):
        return []
    owner = func.value
    if not (isinstance(owner, ast.Attribute) and owner.attr == "mark") and not (
        isinstance(owner, ast.Name) and owner.id == "mark"
    ):
        return []
    return [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]


def _is_test(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name.startswith("test")
    return isinstance(node, ast.ClassDef) and node.name.startswith("Test")


def marked_tests(tree: ast.Module, where: str) -> dict[str, set[str]]:
    """Rule ID -> the tests of one module marked ``@pytest.mark.rule`` with it.

    A test is ``where::name`` (``where::Class::name`` for a method). Marks count
    where pytest applies them: on the test function, on its class, and in a
    module-level ``pytestmark``. A rule ID in a comment, a string or a test's
    name is not a mark.
    """
    module: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            module += _rule_marks(node.value)
    found: dict[str, set[str]] = {}

    def add(ids: Iterable[str], test: str) -> None:
        for rule_id in ids:
            found.setdefault(rule_id, set()).add(test)

    for node in tree.body:
        if not _is_test(node):
            continue
        assert isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        own = [r for d in node.decorator_list for r in _rule_marks(d)]
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if _is_test(item) and not isinstance(item, ast.ClassDef):
                    assert isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                    mine = [r for d in item.decorator_list for r in _rule_marks(d)]
                    add([*module, *own, *mine], f"{where}::{node.name}::{item.name}")
        else:
            add([*module, *own], f"{where}::{node.name}")
    return found


def scan_tests(tests: Path, rule_ids: Iterable[str] | None = None) -> dict[str, list[str]]:
    """Rule ID -> the tests marked for it (``tests/test_x.py::test_name``), sorted.

    Only ``@pytest.mark.rule("ID", ...)`` counts (read from the source with
    :mod:`ast`, without importing the tests); *rule_ids*, when given, limits the
    answer to those IDs.
    """
    wanted = None if rule_ids is None else set(rule_ids)
    found: dict[str, set[str]] = {}
    if not tests.is_dir():
        return {}
    for path in sorted(tests.rglob("*.py")):
        where = path.as_posix()
        if tests.parent != Path():
            where = path.relative_to(tests.parent).as_posix()
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except SyntaxError:
            continue
        for rule_id, names in marked_tests(tree, where).items():
            if wanted is None or rule_id in wanted:
                found.setdefault(rule_id, set()).update(names)
    return {r: sorted(v) for r, v in sorted(found.items(), key=lambda kv: natural_key(kv[0]))}


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

    def markdown(self, link: Callable[[Use], str] | None = None) -> str:
        """The whole of ``docs/rules.md``; *link* gives each place that carries a rule a link."""
        return _markdown(self, link)


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


SEED_TITLES: Mapping[str, str] = {
    "S0": 'a copy of the help-centre article "Close your account"',
    "S1": "a question-and-answer page quoting help-centre snippets on closing and ending",
    "S2": "a third-party guide to deactivating an account",
    "S3": 'a copy of the help-centre article "End your contract"',
    "S4": "a third-party blog post on ending a contract",
}
"""The seed files (rulebook §1.1), named by what they are."""

PAGE_TITLES: Mapping[str, str] = {
    "P01": "Close my account",
    "P02": "Close an agency",
    "P03": "Close and restore accounts (support agents' article)",
    "P04": "Reactivate your account",
    "P05": "Weekly billing cycle",
    "P06": "Get paid for hourly contracts",
    "P07": "Dispute an agency or freelancer's hours",
    "P08": "Client disputed my hours",
    "P09": "Dispute process update (release note)",
    "P10": "Review and pay for fixed-price contracts and milestones",
    "P11": "Milestones for fixed-price jobs",
    "P12": "Review a milestone",
    "P13": "How payments for fixed-price contracts work",
    "P14": "Add or edit milestones for fixed-price contracts",
    "P15": "Escrow for fixed-price jobs",
    "P16": "Fixed-Price Protection",
    "P17": "Why was money released without my approval?",
    "P18": "End a contract (freelancer)",
    "P19": "End an hourly contract (client)",
    "P20": "End a fixed-price contract (client)",
    "P21": "End a freelancer's contract (client)",
    "P22": "Get an escrow refund",
    "P23": "Dispute non-release of a milestone payment",
    "P24": "Respond to an escrow dispute",
    "P25": "Streamlined dispute experience for fixed-price contracts (release note)",
    "P26": "Arbitration",
    "P27": "Mediation Assistance",
    "P28": "Give a refund",
    "P29": "Request a refund from the freelancer or agency",
    "P30": "Give feedback (freelancer)",
    "P31": "Leave feedback for your freelancer",
    "P32": "Mid-Contract Feedback",
    "P33": "Contracts gone dormant",
    "P34": "Put an hourly contract on hold",
    "P35": "Contract Paused",
    "P36": "Unresponsive clients",
    "P37": "Manage unresponsive freelancers",
    "P38": "Resolving issues with a contract",
    "P39": "Circumvention",
    "P40": "Add or remove team members",
    "P41": "Add or remove agency members",
    "P42": "Leave an agency",
    "P43": "Work for an Agency",
    "P44": "Withdraw a Proposal",
    "P45": "Returned Connects",
    "P46": "Clients' Job Posts (support agents' article)",
    "P47": "Set up your Enterprise account",
    "P48": "Hourly Payment Protection",
    "P49": "When will a bonus payment become available?",
    "P50": "How Upwork protects your payments",
    "P51": "Freelancer Terms of Service Compliance Notice",
    "P52": "Fixed-price escrow instructions, quoted in a community thread",
    "P53": "How do I close my client account? (third-party)",
    "P54": "Can I close a contract? (third-party)",
    "P55": "Dormant engagements in the old escrow instructions, quoted in a community thread",
    "P56": "Pay for fixed-price contracts (old)",
    "P57": "Contract paused and suspended accounts, staff answers in the community",
}
"""The outside pages of the rulebook (§1.2), by key: their titles."""


def source_in_words(source: str) -> str:
    """A rule's source as a reader would want it named.

    >>> source_in_words("P10")
    'help centre: "Review and pay for fixed-price contracts and milestones"'
    >>> source_in_words("S1 l.77")
    'a question-and-answer page quoting help-centre snippets on closing and ending (line 77)'
    >>> source_in_words("rulebook §4")
    'the rulebook, §4'
    """
    if source[:1] == "S" and source[:2] in SEED_TITLES:
        rest = source[2:].strip().replace("l.", "line ")
        return SEED_TITLES[source[:2]] + (f" ({rest})" if rest else "")
    if source[:1] == "P" and source[:3] in PAGE_TITLES:
        rest = source[3:].strip()
        kind = "help centre" if source[:3] not in {"P53", "P54"} else "web page"
        old = " (an older version)" if rest else ""
        return f'{kind}: "{PAGE_TITLES[source[:3]]}"{old}'
    if source.startswith("rulebook "):
        return "the rulebook, " + source.removeprefix("rulebook ")
    return source


@attrs.frozen
class Topic:
    """A group of rules a reader looks for together: closing an account, refunds..."""

    title: str
    slug: str
    """The page anchor (``closing-an-account``)."""
    intro: str
    families: tuple[str, ...]
    """Rule ID families: the ID without its last part, with its hyphen (``ACC-CLOSE-FL-``)."""


TOPICS: tuple[Topic, ...] = (
    Topic(
        "Closing an account",
        "closing-an-account",
        "What must be settled before an account of each type starts closing, who may close it, "
        "and what closing does.",
        (
            "ACC-GEN-",
            "ACC-CLOSE-FL-",
            "ACC-CLOSE-CL-",
            "ACC-CLOSE-AG-",
            "ACC-CLOSE-TM-",
            "ACC-CLOSE-ENT-",
            "ACC-EXPORT-",
            "ACC-TEAMS-",
            "ACC-ALT-",
        ),
    ),
    Topic(
        "Deactivation, deletion and reactivation",
        "deactivation-deletion-and-reactivation",
        "What happens to a closed account, and when it can be brought back.",
        ("ACC-DEACT-", "ACC-DEL-", "ACC-REACT-"),
    ),
    Topic(
        "Suspension and circumvention",
        "suspension-and-circumvention",
        "What a suspended or frozen account may still do.",
        ("SUSP-", "CIRC-", "ACC-FREEZE-"),
    ),
    Topic(
        "Teams",
        "teams",
        "Who may act for a company or an agency, and what leaving a team does.",
        ("TEAM-", "TEAM-OWNER-", "TEAM-CONTACT-"),
    ),
    Topic(
        "Job posts and proposals",
        "job-posts-and-proposals",
        "Posting work, applying for it, and what an offer starts.",
        ("JOB-", "PROP-", "CONNECTS-"),
    ),
    Topic(
        "Milestones and review",
        "milestones-and-review",
        "Funding, submitting, reviewing and paying a fixed-price milestone.",
        ("MS-", "MS-SUBMIT-", "MS-REVIEW-", "MS-PAY-", "MS-END-"),
    ),
    Topic(
        "Escrow",
        "escrow",
        "The money a client deposits for a fixed-price contract, and getting it back.",
        ("ESC-", "ESC-SPLIT-"),
    ),
    Topic(
        "Hourly work and the billing week",
        "hourly-work-and-the-billing-week",
        "Logging time, the weekly limit, the Monday invoice and the review week.",
        ("CTR-HR-", "BILL-", "WEEK-"),
    ),
    Topic(
        "Ending a contract",
        "ending-a-contract",
        "Who may end a contract, what ending settles, and what an ended contract still accepts.",
        ("CTR-GEN-", "CTR-END-", "CTR-TYPE-"),
    ),
    Topic(
        "Refunds",
        "refunds",
        "Refunds a freelancer gives within 180 days, and refunds a client asks for.",
        ("REF-180-", "REF-REQ-", "REF-REQ-EXPIRE-"),
    ),
    Topic(
        "Disputes",
        "disputes",
        "A client disputing billed hours, and a freelancer disputing a fixed-price decision "
        "through mediation and arbitration.",
        ("HDSP-", "FPD-", "MS-DSP-"),
    ),
    Topic(
        "Dormant contracts",
        "dormant-contracts",
        "A contract that holds money with no activity: the notices, and how it ends.",
        ("DORM-",),
    ),
    Topic(
        "Feedback",
        "feedback",
        "The 14-day window to leave feedback after a contract ends.",
        ("FB-",),
    ),
    Topic(
        "Payments",
        "payments",
        "Bonuses, and when paid money becomes available.",
        ("PAY-",),
    ),
)
"""The catalogue's sections, in reading order. A rule of no listed family goes under
"Other rules", so a new family is never left out."""

OTHER = Topic("Other rules", "other-rules", "Rules of families no topic names yet.", ())


def family(rule_id: str) -> str:
    """The family of a rule ID, with its hyphen: ``MS-REVIEW-2`` -> ``MS-REVIEW-``."""
    return rule_id.rsplit("-", 1)[0] + "-"


def topic_of(rule_id: str) -> Topic:
    """The :class:`Topic` a rule is listed under."""
    fam = family(rule_id)
    return next((t for t in TOPICS if fam in t.families), OTHER)


def by_topic(rules: Iterable[Rule]) -> list[tuple[Topic, list[Rule]]]:
    """Rules grouped by topic, in :data:`TOPICS` order, each group in natural ID order."""
    groups: dict[str, list[Rule]] = {}
    for rule in rules:
        groups.setdefault(topic_of(rule.id).slug, []).append(rule)

    def order(topic: Topic) -> Callable[[Rule], tuple[Any, ...]]:
        def key(rule: Rule) -> tuple[Any, ...]:
            fam = family(rule.id)
            rank = topic.families.index(fam) if fam in topic.families else len(topic.families)
            return (rank, natural_key(rule.id))

        return key

    return [
        (topic, sorted(groups[topic.slug], key=order(topic)))
        for topic in (*TOPICS, OTHER)
        if topic.slug in groups
    ]


def short_test_name(test: str) -> str:
    """A test as a reader sees it: its name, without the file (``test_ms_1_minimum``)."""
    return test.rsplit("::", 1)[-1]


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


def _markdown(cat: Catalogue, link: Callable[[Use], str] | None = None) -> str:
    out = [
        "# Rule catalogue",
        "",
        "Generated by `python -m statemachines render` from `statemachines/rules/`, the machine",
        "tables and the tests marked `@pytest.mark.rule`. Do not edit it by hand:",
        "`python -m statemachines render --check` fails when it no longer matches.",
        "",
        "Each rule says what the platform promises, which transitions carry it and how:",
        "a **guard** refuses an event that would break it, a **deadline** fires an event when",
        "time runs out, an **effect** is what an accepted event changes, and a **permission**",
        "decides who may fire the event. A rule counts as tested when a test is marked for it.",
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
    groups = by_topic(cat.rules.values())
    out += ["", "## Topics", "", "| Topic | Rules |", "|---|---|"]
    for topic, rules in groups:
        ids = ", ".join(f"[{r.id}](#{r.id.lower()})" for r in rules)
        out.append(f"| [{topic.title}](#{topic.slug}) | {ids} |")
    for topic, rules in groups:
        out += ["", f"## {topic.title}", "", topic.intro]
        for rule in rules:
            out += ["", f"### {rule.id}", "", rule.summary, ""]
            places = cat.uses.get(rule.id, [])
            if places:
                kinds: dict[str, list[str]] = {}
                for use in places:
                    where = f"[{use}]({link(use)})" if link is not None else str(use)
                    kinds.setdefault(where, []).append(use.kind)
                carried = "; ".join(f"{where}: {', '.join(k)}" for where, k in kinds.items())
                out.append(f"- **Carried by:** {carried}")
            elif rule.not_a_transition:
                out.append(f"- **Carried by:** nothing; not a transition: {rule.not_a_transition}")
            else:
                out.append("- **Carried by:** no table cites it yet")
            out.append(f"- **Source:** {_cell([source_in_words(s) for s in rule.sources])}")
            tests = cat.tests.get(rule.id, [])
            names = sorted({short_test_name(t) for t in tests})
            count = f"{len(names)}: " if names else ""
            out.append(f"- **Tests:** {count}{_cell([f'`{n}`' for n in names], 'none yet')}")
            scenarios = cat.scenarios.get(rule.id, [])
            if scenarios:
                out.append(f"- **Scenarios:** {_cell([f'`{s}`' for s in scenarios])}")
            if rule.release != "v0.1":
                out.append(f"- **Release:** {rule.release}")
    return "\n".join(out) + "\n"
