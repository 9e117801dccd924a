"""Diagrams are drawn from the machine tables: every row, readable labels, stable output."""

# rule-catalogue: not rule tests (rule IDs appear here as data about the docs)

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from statemachines import (
    MILESTONE,
    Actor,
    ManualClock,
    Milestone,
    MilestoneReview,
    Money,
    Role,
)
from statemachines.core.engine import Edge, MachineSpec
from statemachines.publish.diagrams import (
    VARIANTS,
    Variant,
    View,
    compact_ids,
    discover,
    draw,
    edge_label_parts,
    show,
    to_dot,
    to_mermaid,
    variants_of,
    views,
)

pytest.importorskip("graphviz")  # drawing needs the optional graphviz package (the diagrams extra)

OWNER = Actor("ana", Role.CLIENT_OWNER, party="co-1")
FREELANCER = Actor("fl-1", Role.FREELANCER)


def _specs() -> list[MachineSpec[Any, Any]]:
    return sorted(discover().values(), key=lambda s: s.name)


def _dot_edges(dot: str) -> list[tuple[str, str, str]]:
    """(source, target, label) of every arrow in *dot*, labels with line breaks as spaces."""
    out = []
    for match in re.finditer(r"^\s*(\w+) -> (\w+) \[label=\"([^\"]*)\"", dot, re.MULTILINE):
        out.append((match[1], match[2], match[3].replace("\\n", " ")))
    return out


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


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_every_row_of_the_table_is_drawn_once_per_source(spec: MachineSpec[Any, Any]) -> None:
    dot = to_dot(View(spec))

    arrows = Counter((s, t, label.split(" ")[0]) for s, t, label in _dot_edges(dot))

    for edge in spec.edges:
        for source in edge.sources:
            if source == edge.target:  # self-loops are listed inside their state
                assert f"<B>{edge.event}" in dot
            else:
                assert arrows[(source.value, edge.target.value, edge.event)] >= 1, edge.event
    expected = Counter(
        (s.value, e.target.value, e.event) for e in spec.edges for s in e.sources if s != e.target
    )
    assert arrows - Counter({("__start__", spec.initial.value, ""): 1}) == expected


def test_two_triggers_between_the_same_states_stay_two_arrows() -> None:
    dot = to_dot(View(MILESTONE))

    labels = [label for s, t, label in _dot_edges(dot) if (s, t) == ("submitted", "approved")]

    assert len(labels) == 2
    assert {label.split(" ")[0] for label in labels} == {"approve", "review_lapse"}
    assert not any("|" in label for label in labels)


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_labels_show_rule_ids_never_function_names(spec: MachineSpec[Any, Any]) -> None:
    dot = to_dot(View(spec))
    mermaid = to_mermaid(View(spec))

    assert "<lambda>" not in dot
    assert "lambda" not in mermaid
    for edge in spec.edges:
        for guard in edge.guards:
            name = getattr(guard.check, "__name__", "")
            assert name not in dot
            assert name not in mermaid
            assert guard.rule_id in _rule_ids(dot)


def test_a_guarded_edge_reads_event_roles_and_rule_ids() -> None:
    dot = to_dot(View(MILESTONE))

    assert ("draft", "funded", "fund by CO, CA, HM [MS-1]") in _dot_edges(dot)
    assert edge_label_parts(MILESTONE.edges[5]) == [
        "approve",
        "by CO, CA, HM",
        "[MS-REVIEW-5]",
    ]


@pytest.mark.parametrize("spec", _specs(), ids=lambda s: s.name)
def test_deadline_edges_are_dashed_and_say_when_they_fire(spec: MachineSpec[Any, Any]) -> None:
    dot = to_dot(View(spec))
    flat = dot.replace("\\n", " ")

    for edge in spec.edges:
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
    assert "  direction LR" in text
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


def test_contract_variants_split_hourly_and_fixed_price() -> None:
    spec = discover().get("contract")
    if spec is None or "contract" not in VARIANTS:
        pytest.skip("the contract machine has not landed")

    found = {v.name: View(spec, v) for v in variants_of(spec)}

    assert set(found) == {"hourly", "fixed"}
    hourly = {e.event for e in found["hourly"].edges}
    fixed = {e.event for e in found["fixed"].edges}
    assert {"log_time", "pause"} <= hourly - fixed
    assert {"fund_milestone", "submit_work"} <= fixed - hourly
    assert "CTR-TYPE-D" not in to_dot(found["hourly"]) + to_dot(found["fixed"])


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
