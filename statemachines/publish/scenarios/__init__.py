"""Executable specifications: a YAML scenario of a starting world, steps and expectations.

A scenario file reads like a story a product manager can check::

    scenario: The client asks for changes once, then the review lapses
    start: 2026-03-02T09:00:00Z          # every timestamp needs a UTC offset
    actors:
      ana: client_owner:ana:co-1         # ROLE[:ID[:PARTY]], as on the command line
      fl: freelancer:fl-1
    world:                               # aggregates by id, with their machine
      M-1: {machine: milestone, contract: C-1, client: co-1, freelancer: fl-1, amount: "200.00"}
    steps:
      - {actor: ana, do: fund, on: M-1, expect: funded}
      - after: 2 days                    # the clock moves; due deadlines fire first
        actor: fl
        do: submit
        expect: {state: submitted, fields: {review_due: 2026-03-18T09:00:00Z}}
      - after: 14 days
        expect: {state: approved, fired: [review_lapse], fields: {released: "200.00"}}

A step may move the clock (``after: 3 days`` or ``at: <time>``), fire one event
(``actor``, ``do``, ``on``, ``with`` for its arguments) and state what must follow
(``expect``): a state (``expect: funded`` is short for ``{state: funded}``), a
refusal with its rule IDs (``refused: [MS-1]``), ``not_permitted: true``,
``illegal: true``, ``invalid: true``, field values (``fields``, amounts as
``"200.00"`` or ``"150.00 EUR"``), the deadlines that fired on the way
(``fired``), and the states of other aggregates (``states: {C-1: ended}``). When
the clock moves, every deadline due by then fires first, as the platform's
scheduler would; ``fire_due: false`` holds them back for one step.

A world may hold aggregates of any machine in ``SPECS``, so contract and account
scenarios use the same format: ``machine: contract`` and the contract's fields.
When every aggregate belongs to a machine the marketplace holds (accounts,
memberships, jobs, proposals, contracts), events go through
:class:`~statemachines.marketplace.market.Marketplace`: an account's guards then see its
contracts and job posts, and what follows on other aggregates is reported
(``-> closing; then settle@co-1``). ``engine: workflows`` opts out.

The whole file is checked before the first step runs: a key given twice, an unknown
key, machine, event, role, state or argument, a malformed time, span or amount in
any step is a :class:`ScenarioError` naming the file, line, step number and field,
never a traceback. A step whose expectations fail stops its scenario; :func:`run`
returns the results so far. ``docs/scenario.schema.json`` (generated from the types in
:mod:`~statemachines.publish.scenarios.model`) lets an editor complete and check a file.

The package: :mod:`~statemachines.publish.scenarios.model` (the typed structure),
:mod:`~statemachines.publish.scenarios.parse` (values and the converter),
:mod:`~statemachines.publish.scenarios.load` (YAML to the structure),
:mod:`~statemachines.publish.scenarios.run` (playing it),
:mod:`~statemachines.publish.scenarios.report` (what a run prints) and
:mod:`~statemachines.publish.scenarios.schema` (the JSON Schema).
"""

from __future__ import annotations

from statemachines.publish.scenarios.load import files, load
from statemachines.publish.scenarios.model import Engine, Expect, Scenario, Step
from statemachines.publish.scenarios.parse import (
    ScenarioError,
    convert_argument,
    parse_actor,
    parse_money,
    parse_role,
    parse_span,
    parse_time,
    workflow_for,
)
from statemachines.publish.scenarios.report import scenario_json, step_line, step_problems
from statemachines.publish.scenarios.run import Outcome, Played, StepResult, play, run
from statemachines.publish.scenarios.schema import SCHEMA_PATH, schema, schema_text

__all__ = [
    "SCHEMA_PATH",
    "Engine",
    "Expect",
    "Outcome",
    "Played",
    "Scenario",
    "ScenarioError",
    "Step",
    "StepResult",
    "convert_argument",
    "files",
    "load",
    "parse_actor",
    "parse_money",
    "parse_role",
    "parse_span",
    "parse_time",
    "play",
    "run",
    "scenario_json",
    "schema",
    "schema_text",
    "step_line",
    "step_problems",
    "workflow_for",
]
