"""Diagrams are drawn from the machine tables: every row, readable labels, stable output."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import attrs
import pytest

from statemachines import (
    MILESTONE,
    SYSTEM,
    Actor,
    ManualClock,
    Milestone,
    MilestoneReview,
    Money,
    Role,
)
from statemachines.core.engine import Edge, MachineSpec
from statemachines.errors import IllegalTransition, NotPermitted
from statemachines.publish.diagrams import (
    MAX_EDGES,
    ROLE_CODES,
    VARIANTS,
    Variant,
    View,
    compact_ids,
    discover,
    draw,
    edge_label_parts,
    render_png,
    render_svg,
    show,
    to_dot,
    to_mermaid,
    variants_of,
    views,
    who,
)
from statemachines.publish.scenarios import workflow_for
from statemachines.publish.views import ANY_USER, authorised_roles, role_codes
from statemachines.testing.cast import ANA as OWNER
from tests.conftest import START

pytest.importorskip("graphviz")  # drawing needs the optional graphviz package (the diagrams extra)

FREELANCER = Actor("fl-1", Role.FREELANCER)


def _specs() -> list[MachineSpec[Any, Any]]:
    return sorted(discover().values(), key=lambda s: s.name)


def _dot_edges(dot: str) -> list[tuple[str, str, str]]:
    """(source, target, label) of every event on an arrow of *dot*: events that share an
    arrow are blocks of its label, one blank line apart; line breaks read as spaces."""
    out = []
    pattern = r"^\s*(\w+) -> (\w+) \[label=(?:\"([^\"]*)\"|(\w+))"
    for match in re.finditer(pattern, dot, re.MULTILINE):
        for block in (match[3] if match[3] is not None else match[4]).split("\\n\\n"):
            out.append((match[1], match[2], block.replace("\\n", " ")))
    return out


def _detailed() -> list[View]:
    """Every view drawn row by row (all but the overviews of large machines)."""
    return [v for v in views() if not v.overview]


def _rule_ids(text: str) -> set[str]:
    """Every rule ID in *text*, with shared stems expanded (``MS-REVIEW-1,5``)."""
    text = text.replace("\\n", " ").replace('<BR ALIGN="LEFT"/>', " ")
    found = set(re.findall(r"\b[A-Z]+(?:-[A-Z0-9]+)*-[A-Z]\b", text))  # e.g. ACC-EXPORT-D
    for stem, numbers in re.findall(r"\b([A-Z]+(?:-[A-Z0-9]+)*-)(\d+(?:,\d+)*)", text):
        found.update(stem + n for n in numbers.split(","))
    return found


@pytest.fixture
def milestone(clock: ManualClock) -> tuple[MilestoneReview, Milestone]:
    review = MilestoneReview(clock=clock)
    ms = Milestone(id="M-1", contract="C-1", client="co-1", freelancer="fl-1", amount=Money(20_000))
    return review, ms


@pytest.mark.parametrize("view", _detailed(), ids=lambda v: v.name)
def test_every_row_of_a_view_is_drawn_once_per_source(view: View) -> None:
    dot = to_dot(view)
    drawn = {s.value for s in view.states}

    arrows = Counter((s, t, label.split(" ")[0]) for s, t, label in _dot_edges(dot))

    expected = Counter(
        (s.value, e.target.value, e.event)
        for e in view.edges
        for s in e.sources
        if s != e.target and s.value in drawn
    )
    for edge in view.edges:
        if edge.target in edge.sources:  # self-loops are listed inside their state
            assert f"<B>{edge.event}" in dot
    start = Counter({("__start__", view.spec.initial.value, ""): 1}) if view.starts else Counter()
    assert arrows - start == expected


@pytest.mark.parametrize("spec", [s for s in _specs() if View(s).overview], ids=lambda s: s.name)
def test_a_large_machine_is_drawn_whole_as_an_overview(spec: MachineSpec[Any, Any]) -> None:
    view = View(spec)
    dot = to_dot(view)
    arrows = {(s, t): label for s, t, label in _dot_edges(dot)}

    for edge in spec.edges:
        for source in edge.sources:
            if source == edge.target:
                assert edge.event in dot
            else:
                assert edge.event in arrows[(source.value, edge.target.value)].replace(" ", "")
    assert len(arrows) <= MAX_EDGES
    assert not any(" by " in label for label in arrows.values())
    assert "Overview: one arrow per pair of states" in dot


def test_two_triggers_between_the_same_states_stay_two_arrows() -> None:
    dot = to_dot(View(MILESTONE))

    labels = [label for s, t, label in _dot_edges(dot) if (s, t) == ("submitted", "approved")]

    # approve and a dormant contract's release_held share one arrow's label (one per event);
    # the deadline is a dashed arrow of its own
    assert len(labels) == 3
    assert {label.split(" ")[0] for label in labels} == {"approve", "review_lapse", "release_held"}
    assert not any("|" in label for label in labels)


@pytest.mark.parametrize("view", views(), ids=lambda v: v.name)
def test_labels_show_rule_ids_never_function_names(view: View) -> None:
    dot = "\n".join(ln for ln in to_dot(view).splitlines() if "shape=note" not in ln)
    mermaid = to_mermaid(view)
    shows = view.variant.shows if view.variant is not None else (lambda _: True)

    assert "<lambda>" not in dot
    assert "lambda" not in mermaid
    for edge in view.edges:
        for guard in edge.guards:
            name = getattr(guard.check, "__name__", "")
            assert name not in dot
            assert name not in mermaid
            if not view.overview and shows(guard.rule_id):
                assert guard.rule_id in _rule_ids(dot)


def test_a_guarded_edge_reads_event_roles_and_rule_ids() -> None:
    dot = to_dot(View(MILESTONE))

    assert ("draft", "funded", "fund by CO, CA, HM [MS-1]") in _dot_edges(dot)
    assert edge_label_parts(MILESTONE.edges[5], wrap=None) == [
        "approve",
        "by CO, CA, HM",
        "[MS-REVIEW-5]",
    ]


@pytest.mark.parametrize("view", _detailed(), ids=lambda v: v.name)
def test_deadline_edges_are_dashed_and_say_when_they_fire(view: View) -> None:
    dot = to_dot(view)
    flat = dot.replace("\\n", " ")

    for edge in view.edges:
        if edge.timer is None:
            continue
        assert f"fires {edge.timer.label}" in flat.replace('<BR ALIGN="LEFT"/>', " ")
        if edge.target not in edge.sources:
            starts = (f'label="{edge.event}\\n', f'label="{edge.event} (if')
            lines = [ln for ln in dot.splitlines() if any(s in ln for s in starts)]
            assert lines
            assert all("style=dashed" in line for line in lines)


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_one_start_state_and_final_states_look_final(spec: MachineSpec[Any, Any]) -> None:
    dot = to_dot(View(spec))
    mermaid = to_mermaid(View(spec))

    if spec.terminal:
        assert "Double border = final state" in dot
    else:
        assert "No state of this machine is final" in dot
    assert dot.count("__start__ ->") == 1
    assert f"__start__ -> {spec.initial.value} " in dot
    assert mermaid.count("[*] -->") == 1
    assert f"[*] --> {spec.initial.value}" in mermaid
    for state in spec.terminal:
        line = next(ln for ln in dot.splitlines() if ln.strip().startswith(f"{state.value} ["))
        assert "peripheries=2" in line
        assert f"{state.value} --> [*]" in mermaid
        assert f"class {state.value} s_terminal" in mermaid


@pytest.mark.parametrize("view", views(), ids=lambda v: v.name)
def test_output_is_deterministic(view: View) -> None:
    assert to_dot(view) == to_dot(view)
    assert to_mermaid(view) == to_mermaid(view)


def test_mermaid_is_a_state_diagram_with_one_line_per_arrow() -> None:
    text = to_mermaid(View(MILESTONE))

    assert text.splitlines()[:4] == ["---", 'title: "milestone"', "---", "stateDiagram-v2"]
    assert "  direction TB" in text
    arrows = [ln for ln in text.splitlines() if " --> " in ln and "[*]" not in ln]
    assert len(arrows) == sum(len(e.sources) for e in MILESTONE.edges)
    assert "  submitted --> approved: approve · by CO, CA, HM · [MS-REVIEW-5]" in text


def test_a_live_aggregate_shows_where_it_is_and_how_it_got_there(
    clock: ManualClock, milestone: tuple[MilestoneReview, Milestone]
) -> None:
    review, ms = milestone
    review.fire(ms, "fund", OWNER)
    clock.advance(days=1)
    review.fire(ms, "submit", FREELANCER)

    drawing = show(ms)

    current = next(ln for ln in drawing.dot.splitlines() if ln.strip().startswith("submitted ["))
    assert "#ffd39b" in current
    visited = next(ln for ln in drawing.dot.splitlines() if ln.strip().startswith("funded ["))
    assert "#dbe9f7" in visited
    assert ("draft", "funded", "fund by CO, CA, HM [MS-1] step 1") in _dot_edges(drawing.dot)
    assert ("funded", "submitted", "submit by FL, AO, ABM, AMB step 2") in _dot_edges(drawing.dot)
    assert "now: submitted (highlighted)" in drawing.dot
    assert "class submitted s_current" in drawing.mermaid
    assert drawing._repr_svg_().lstrip().startswith(("<?xml", "<svg"))


def test_drawings_save_in_every_format(tmp_path: Path) -> None:
    drawing = draw("milestone")

    for suffix in (".dot", ".mmd", ".svg", ".png"):
        path = drawing.save(tmp_path / f"m{suffix}")
        assert path.stat().st_size > 100
    assert (tmp_path / "m.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match=r"cannot save a diagram as \.gif"):
        drawing.save(tmp_path / "m.gif")


def test_account_has_one_variant_per_account_type() -> None:
    spec = discover().get("account")
    if spec is None:
        pytest.skip("the account machine has not landed")
    kinds = {str(k.value) for k in _account_types(spec)}

    names = {v.name for v in variants_of(spec)}

    assert names == kinds
    agency = View(spec, next(v for v in variants_of(spec) if v.name == "agency"))
    assert "ACC-CLOSE-FL-" not in to_dot(agency)
    assert all("ACC-CLOSE-TM-1" not in e.rule_ids for e in agency.edges)


def _account_types(spec: MachineSpec[Any, Any]) -> list[Any]:
    import typing  # noqa: PLC0415

    return list(typing.get_type_hints(spec.model)["type"])


def test_the_contract_is_split_into_parts_that_each_fit_a_page() -> None:
    spec = discover()["contract"]

    found = {v.name: View(spec, v) for v in variants_of(spec)}

    assert set(found) == {"hourly", "fixed", "holds", "payments", "after"}
    hourly = {e.event for e in found["hourly"].edges}
    fixed = {e.event for e in found["fixed"].edges}
    assert {"log_time", "pause"} <= hourly - fixed
    holds = {e.event for e in found["holds"].edges}
    assert holds >= {"client_suspended", "dispute_hours", "dispute_milestone"}
    assert not holds & (hourly | fixed)
    assert {"fund_milestone", "submit_work"} <= fixed - hourly
    assert "CTR-TYPE-D" not in to_dot(found["hourly"]) + to_dot(found["fixed"])
    assert {e.event for e in found["after"].edges} >= {"leave_feedback", "give_refund"}
    assert {e.event for e in found["payments"].edges} == {
        "pay_bonus",
        "give_refund",
        "request_refund",
    }
    drawn = [e for v in found.values() for e in v.edges]
    assert set(drawn) == set(spec.edges)  # every row is in some part
    assert all(len(v.edges) <= MAX_EDGES for v in found.values())


@pytest.mark.parametrize("view", views(), ids=lambda v: v.name)
def test_every_view_fits_a_page_of_about_twenty_edges(view: View) -> None:
    drawn = len(_dot_edges(to_dot(view))) if view.overview else len(view.edges)

    assert drawn <= MAX_EDGES + 3  # the combined account has 23 rows: about 20


@pytest.mark.parametrize("view", views(), ids=lambda v: v.name)
def test_legends_expand_every_role_code_a_label_uses(view: View) -> None:
    dot = to_dot(view)
    caption = dot[dot.index("label=", dot.index("graph [")) : dot.index("\n", dot.index("graph ["))]
    body = dot.replace(caption, "").replace("\\n", "\n")
    named = " ".join(re.findall(r"by ((?:any user|[A-Z]{2,3})(?:, (?:[A-Z]{2,3}))*)", body))
    if "any user" in named:
        assert "any user = FL, AO, ABM, AMB, CO, CA, HM, HMS, TM" in caption

    for code in set(re.findall(r"\b[A-Z]{2,3}\b", named)) | (
        set(role_codes(ANY_USER)) if "any user" in named else set()
    ):
        role = next(r for r, c in ROLE_CODES.items() if c == code)
        assert f"{code} = {role.label}" in caption, code


def test_notes_explain_the_effects_users_ask_about() -> None:
    milestone = to_dot(View(MILESTONE))
    after = to_dot(View(discover()["contract"], _variant("contract", "after")))

    assert "5-day security hold" in milestone
    assert "MS-PAY-1" in milestone
    assert "approved -> __note" in milestone
    assert "Why refunded?" in after
    assert "refunded -> __note" in after


def _variant(machine: str, name: str) -> Variant:
    return next(v for v in variants_of(discover()[machine]) if v.name == name)


def _role_sets(view: View) -> dict[tuple[str, str], set[Role]]:
    """(event, source) -> the roles the view's labels name for it (SYS for a deadline)."""
    out: dict[tuple[str, str], set[Role]] = {}
    for edge in view.edges:
        roles = {Role.SYSTEM} if edge.timer is not None else set(authorised_roles(view, edge))
        for source in edge.sources:
            out.setdefault((edge.event, source.value), set()).update(roles)
    return out


@pytest.mark.parametrize(
    "view", [v for v in views() if v.variant is not None and v.variant.samples()], ids=str
)
def test_who_may_act_in_a_view_is_what_explain_says_for_each_role(view: View) -> None:
    flow = workflow_for(view.spec, ManualClock(START))
    assert view.variant is not None

    for (event, source), named in _role_sets(view).items():
        allowed: set[Role] = set()
        for sample in view.variant.samples():
            state = type(sample.state)(source)
            # A contract past its end knows when it ended (its feedback window reads it).
            ended = (
                {"ended_at": START}
                if state != view.spec.initial and hasattr(sample, "ended_at")
                else {}
            )
            placed = attrs.evolve(sample, state=state, **ended)
            for role in Role:
                actors = [SYSTEM] if role is Role.SYSTEM else _actors(role, placed)
                for actor in actors:
                    verdict = flow.explain(placed, event, actor)
                    if not isinstance(verdict.error, NotPermitted | IllegalTransition):
                        allowed.add(role)
        assert named == allowed, (event, source)
        label = edge_label_parts(next(e for e in view.edges if e.event == event), roles=named)
        assert view.spec.is_timer(event) or who(named) in " ".join(label)


def _actors(role: Role, aggregate: Any) -> list[Actor]:
    """An actor of *role* for each of the aggregate's ids, as the person and the party."""
    ids = [v for v in attrs.asdict(aggregate, recurse=False).values() if isinstance(v, str) and v]
    return [Actor(p, role, party=party) for p in [role.value, *ids] for party in [*ids, None]]


def test_the_client_view_says_only_the_company_owner_closes_the_company() -> None:
    view = View(discover()["account"], _variant("account", "client"))
    close = next(e for e in view.edges if e.event == "request_close")

    assert authorised_roles(view, close) == {Role.CLIENT_OWNER, Role.SUPPORT}
    assert "request_close\\nby CO, SUP" in to_dot(view)


@pytest.mark.parametrize("view", views(), ids=lambda v: v.name)
def test_every_view_is_legible_in_an_800_pixel_column(view: View) -> None:
    png = render_png(to_dot(view))
    width = int.from_bytes(png[16:20], "big")

    # The smallest text is 11 points (15 px at 96 dpi): at 800 px it must stay 8 px or more.
    assert 15 * min(1.0, 800 / width) >= 8, f"{view.name} is {width} px wide"


def test_site_diagrams_link_every_rule_id_to_the_catalogue() -> None:
    view = View(MILESTONE)

    dot = to_dot(view, link=lambda rule_id: f"../../rules/#{rule_id.lower()}")
    svg = render_svg(dot).decode()

    for edge in MILESTONE.edges:
        for guard in edge.guards:
            assert f'HREF="../../rules/#{guard.rule_id.lower()}"' in dot
    assert 'xlink:href="../../rules/#ms-1"' in svg


def test_variants_of_a_machine_not_built_yet_are_ignored() -> None:
    assert all(name in VARIANTS for name in ("contract", "account"))
    assert [v.spec.name for v in views()] == sorted(v.spec.name for v in views())


def test_a_spec_can_bring_its_own_variants() -> None:
    only_funding = Variant("funding", "funding only", lambda e: e.event in {"fund", "edit"})

    class WithVariants:
        """A stand-in spec that declares its variants itself."""

        def __init__(self, spec: MachineSpec[Any, Any]) -> None:
            self.spec = spec
            self.variants = (only_funding,)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.spec, name)

    spec: Any = WithVariants(MILESTONE)
    view = View(spec, variants_of(spec)[0])

    assert [e.event for e in view.edges] == ["edit", "fund"]
    assert [s.value for s in view.states] == ["draft", "funded"]


def test_shared_stems_are_written_once() -> None:
    ids = ["ACC-GEN-4", "ACC-GEN-1", "ACC-CLOSE-FL-2", "ACC-EXPORT-D", "ACC-CLOSE-FL-1"]

    assert compact_ids(ids) == ["ACC-GEN-1,4", "ACC-CLOSE-FL-1,2", "ACC-EXPORT-D"]


def test_edge_labels_wrap_and_keep_rule_ids_whole() -> None:
    edge: Edge[Any] = next(e for e in MILESTONE.edges if e.event == "review_lapse")

    lines = edge_label_parts(edge, wrap=20)

    assert lines[0] == "review_lapse"
    assert all(len(line) <= 20 for line in lines)
    assert "[MS-REVIEW-2]" in lines
