"""An explicit-state checker: every state of a bounded marketplace, every event, every role.

The world is small and fixed by :class:`Bounds`: one freelancer (``fl-1``), one
client company (``co-1``, owned by ``ana``) with an admin (``ada``) and a hiring
manager (``hal``), optionally an agency (``ag-1``, owned by ``ao``), and *N*
contracts between them (fixed-price, or hourly for the last ``hourly`` of them)
that may each get up to *M* milestones, with amounts from a small set. With
``agency_contracts`` the agency holds the last of them, worked by its member ``am``; with
``jobs`` the client has draft job posts with draft proposals, and an accepted offer
starts a contract through the marketplace.

From every reachable state the checker (:func:`check`):

* tries every event of every aggregate for one actor of every role (with a few
  arguments per event, see :func:`payloads`) through
  :meth:`~statemachines.marketplace.market.Marketplace.fire`, and checks that the
  outcome agrees with the machine tables: it fires iff an edge exists, the
  role may fire it and every guard passes (an independent reading of the
  table, :func:`predict`); ``IllegalTransition`` iff there is neither an edge
  nor a forbidden row; and a refused, illegal or not-permitted event changes
  nothing;
* moves time, only to the next moment that matters: the next due deadline, the
  next rule threshold after a timestamp of the world (every ``timedelta`` the
  rule modules define: 4 hours, 7, 14, 180 and 365 days, ...; five calendar
  years), and one second before it; due deadlines fire as the platform's
  scheduler fires them (:meth:`~statemachines.marketplace.market.Marketplace.advance`);
* checks the rulebook §6 invariants that apply in v0.1 in every new state
  (:data:`statemachines.machines.invariants.CONTRACT_INVARIANTS`,
  :data:`statemachines.marketplace.invariants.ACCOUNT_INVARIANTS`, and the
  step-wise ones, :data:`STEP_INVARIANTS`).

States are stored under a canonical key (:func:`world_key`): every field of every
aggregate, times relative to now, histories left out (except the three sums the
marketplace reads from them). With symmetry reduction (the default) contracts
of the same terms, and funded or settled milestones of the same amount, are
interchangeable, so their order is dropped from the key.

A violation stops the search; :attr:`Report.trace` is the shortest trace from the
initial world (breadth-first order), and :func:`scenario_yaml` writes it as a
scenario file for ``python -m statemachines run``.

The checker is split by responsibility: :mod:`~statemachines.verify.world` (the bounds,
the actors, the world and its snapshots), :mod:`~statemachines.verify.key` (the state key
and the premises it rests on), :mod:`~statemachines.verify.oracle` (what the tables say an
attempt must do), :mod:`~statemachines.verify.invariants` (the step invariants),
:mod:`~statemachines.verify.search` (the search itself), :mod:`~statemachines.verify.report`
(the report and the counterexample's scenario file) and
:mod:`~statemachines.verify.coverage`. This module gathers their public names.

>>> report = check(Bounds(contracts=1, milestones=1, team=False, depth=1))
>>> report.ok, report.states > 5, report.invariants > report.states
(True, True, True)
"""

from __future__ import annotations

from statemachines.verify.coverage import Coverage
from statemachines.verify.invariants import (
    STEP_INVARIANTS,
    moneys_of,
    offers_start_contracts,
    states_of,
    step_closed_stays_closed,
    step_money_never_shrinks,
    step_no_way_back,
)
from statemachines.verify.key import key_premises, world_key
from statemachines.verify.oracle import predict, verdicts
from statemachines.verify.report import Progress, Report, scenario_yaml
from statemachines.verify.search import check
from statemachines.verify.world import ACTORS, START, Bounds, Step, World, payloads, replay

__all__ = [
    "ACTORS",
    "START",
    "STEP_INVARIANTS",
    "Bounds",
    "Coverage",
    "Progress",
    "Report",
    "Step",
    "World",
    "check",
    "key_premises",
    "moneys_of",
    "offers_start_contracts",
    "payloads",
    "predict",
    "replay",
    "scenario_yaml",
    "states_of",
    "step_closed_stays_closed",
    "step_money_never_shrinks",
    "step_no_way_back",
    "verdicts",
    "world_key",
]
