"""Verification tools: the exhaustive checker, shortest paths, and table coverage.

Built on the marketplace and the machines; nothing below imports them.
"""
