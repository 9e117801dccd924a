"""The engine: machine tables as data, and the one place that runs ``transitions``.

A machine is a :class:`MachineSpec`: an enum of states, an initial state, the
terminal states, and a table of :class:`Edge` rows. Each edge names its event,
source states, target, the roles that may fire it (with the rule IDs that say
so), its guards (each bound to a rule ID), its effects, the arguments it takes,
and, for deadline-driven edges, the :class:`Timer` that fires it. Aggregates are
plain attrs classes; a :class:`Workflow` fires events on them.

The engine is split by responsibility, and this package re-exports each part:

* :mod:`~statemachines.core.engine.records`: what guards return and read
  (:class:`Reason`, :func:`fail`, :class:`Context`), deadlines, decisions,
  attempts and verdicts;
* :mod:`~statemachines.core.engine.rows`: the rows of a table (:class:`Edge`,
  :class:`Guard`, :class:`Effect`, :class:`Timer`, :class:`Branch`,
  :class:`Param`, :class:`Forbidden`);
* :mod:`~statemachines.core.engine.spec`: :class:`MachineSpec`, the only
  importer of ``transitions``, and the registry of specs;
* :mod:`~statemachines.core.engine.workflow`: :class:`Workflow`, which fires
  events, explains them and replays history;
* :mod:`~statemachines.core.engine.payloads` and
  :mod:`~statemachines.core.engine.observers`: recorded arguments, and the
  coverage hooks (:func:`observe`).
"""

from statemachines.core.engine.observers import Observer, observe
from statemachines.core.engine.records import (
    EMPTY,
    Aggregate,
    Attempt,
    Context,
    Deadline,
    Decision,
    Reason,
    Verdict,
    fail,
)
from statemachines.core.engine.rows import (
    Branch,
    Edge,
    Effect,
    Forbidden,
    Guard,
    Param,
    Timer,
)
from statemachines.core.engine.spec import SPECS, SPECS_BY_MODEL, MachineSpec
from statemachines.core.engine.workflow import AuditSink, Workflow

__all__ = [
    "EMPTY",
    "SPECS",
    "SPECS_BY_MODEL",
    "Aggregate",
    "Attempt",
    "AuditSink",
    "Branch",
    "Context",
    "Deadline",
    "Decision",
    "Edge",
    "Effect",
    "Forbidden",
    "Guard",
    "MachineSpec",
    "Observer",
    "Param",
    "Reason",
    "Timer",
    "Verdict",
    "Workflow",
    "fail",
    "observe",
]
