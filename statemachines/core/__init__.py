"""The core: values (clock, money, actors), the engine that runs the machine tables, snapshots.

Nothing here knows a business machine. The values are the lowest layer; the
engine (the only module that imports ``transitions``) and the snapshots build on
them and on the rule registry of :mod:`statemachines.rules`. The exceptions are
in :mod:`statemachines.errors`, the public module callers catch from.
See ``docs/decisions/0006-layers.md``.
"""
