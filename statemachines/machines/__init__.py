"""The machines: one table, aggregate and workflow per business workflow.

Milestone review, contract (both types, in :mod:`~statemachines.machines.contract`),
account (every type, in :mod:`~statemachines.machines.account`), job post, proposal
and team membership. They import only the core and the rules; what crosses machines
(a suspension pausing contracts, an accepted offer starting one) is the
marketplace's, a layer above.
"""
