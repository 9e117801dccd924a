"""Publishing tools: diagrams, the rule catalogue, and executable scenarios.

Everything here is generated from the machine tables and the rule registry, and
checked for staleness in CI.
"""
