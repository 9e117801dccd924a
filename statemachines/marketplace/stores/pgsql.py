"""The SQL of the PostgreSQL store, and the rows it reads and writes (see ``postgres.py``).

Every statement a command runs is here, in one place, so the round trips can be
counted (ADR 0081).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from statemachines.core.clock import UTC
from statemachines.core.snapshots import to_dict
from statemachines.errors import InvalidInput
from statemachines.marketplace.events import (
    CREATED,
    NewEvent,
    Outcome,
    StoredEvent,
    dump_decision,
    load_decision,
    load_error,
)
from statemachines.marketplace.model import (
    RANK,
    RECORDS,
    due_of,
    dump_record,
    from_micros,
    micros,
    parties,
    record_party,
)

PLACES = 1 << 16
"""Events one transaction may record: an event's seq is its transaction's id times this,
plus its place (ADR 0080)."""


json_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
"""Compact JSON text (one encoder made once: ``json.dumps`` with options makes one a call)."""


def any_of(n: int) -> str:
    """``IN (%s, ...)`` for *n* values (scalar parameters: psycopg adapts them faster than
    an array), or ``= ANY(%s)`` for many."""
    return f"IN ({', '.join(['%s'] * n)})" if 0 < n <= 8 else "= ANY(%s)"


def values(names: Sequence[str]) -> tuple[Any, ...]:
    """The parameters of :func:`any_of` for *names*."""
    return tuple(names) if 0 < len(names) <= 8 else (list(names),)


def columns(agg: Any) -> tuple[str, int | None, str]:
    due = due_of(agg)
    return agg.state.value, None if due is None else micros(due), json_text(to_dict(agg))


def sequence(kind: str) -> str:
    if kind not in RANK and kind not in RECORDS:
        msg = f"{kind!r} is not a kind of aggregate or record"
        raise InvalidInput(msg)
    return f"added_{kind}"


# --------------------------------------------------------------------------- SQL

HORIZON = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 65536"
"""Events numbered below this are final: no transaction still running can add one."""

FIRST_DUE = (
    "SELECT due_us FROM aggregates WHERE due_us IS NOT NULL ORDER BY due_us, rank, key LIMIT 1"
)
"""When the first deadline falls due: the first entry of the due index. (Not ``min(due_us)``,
which the planner may answer by reading every entry when its statistics predate the
deadlines: a cost that grew with the deadlines set, ADR 0083.)"""

EVENT_COLUMNS = "e.seq, e.kind, e.key, e.position, e.name, e.at, e.command_id, e.data"

CHECK = (
    f"SELECT ({FIRST_DUE}), c.command_id, c.error, {EVENT_COLUMNS} FROM (SELECT 1) AS one "
    "LEFT JOIN commands c ON c.command_id = %s "
    "LEFT JOIN events e ON e.seq = ANY(c.events) ORDER BY e.seq"
)
"""A command's check (ADR 0030): when the first deadline falls due, and the command's stored
outcome with its events if it was handled (rows of :func:`outcome_of`)."""

LOAD = (
    "SELECT id, revision, CASE WHEN revision = %s THEN NULL ELSE data END "
    "FROM aggregates WHERE kind = %s AND key = %s"
)
"""An aggregate by key; its snapshot only if the revision is not the one cached."""

_GLANCES: dict[tuple[str, ...], str] = {}


def load_glancing_sql(fields: Sequence[str]) -> str:
    """:data:`LOAD` (its parameters: the cached revision, then the kind and key, after the
    kind to glance at), each row with a glimpse (party, id, key, revision, state, company,
    type) of an aggregate of the kind to glance at that names a value of *fields* of the
    loaded one, read from its stored snapshot; one row with NULL glimpse columns when none
    does, none when there is no such aggregate (ADR 0083: one statement for both)."""
    sql = _GLANCES.get(tuple(fields))
    if sql is None:
        names = ", ".join(f"l.data->>'{f}'" for f in fields)
        sql = _GLANCES[tuple(fields)] = (
            "SELECT l.id, l.revision, CASE WHEN l.revision = %s THEN NULL ELSE l.data END, "
            "g.party, g.id, g.key, g.revision, g.state, g.company, g.type "
            "FROM aggregates l LEFT JOIN LATERAL (SELECT p.party, a.id, a.key, a.revision, "
            "a.state, a.data->>'company' AS company, a.data->>'type' AS type "
            "FROM parties p JOIN aggregates a ON a.id = p.aggregate "
            f"WHERE p.kind = %s AND p.party IN ({names})) g ON true "
            "WHERE l.kind = %s AND l.key = %s"
        )
    return sql


CLAIM = (
    "SELECT id, kind, key, revision, due_us, data, ctid::text FROM aggregates "
    "WHERE due_us IS NOT NULL AND due_us <= %s ORDER BY due_us, rank, key LIMIT 1 "
    "FOR UPDATE SKIP LOCKED"
)

UPDATE = (
    "UPDATE aggregates SET revision = CASE WHEN revision = %s THEN revision + 1 END, "
    "state = %s, due_us = %s, data = %s::jsonb WHERE kind = %s AND key = %s"
)
"""A changed aggregate: if its revision moved, the new revision is NULL, which the column
refuses, and the transaction fails (one statement, so the commit needs no answer first)."""

UPDATE_CLAIMED = (
    "UPDATE aggregates SET revision = revision + 1, state = %s, due_us = %s, data = %s::jsonb "
    "WHERE ctid = %s::tid"
)
"""The aggregate a worker claimed, where its row lies (locked since the claim, the row has not
moved). An update by place reads no index, so under SERIALIZABLE it takes no read lock that
another worker's write into a neighbouring index entry would meet (ADR 0082)."""

UPDATE_ANY = (
    "UPDATE aggregates SET revision = revision + 1, state = %s, due_us = %s, data = %s::jsonb "
    "WHERE kind = %s AND key = %s"
)

INSERT_AGGREGATE = (
    "WITH a AS (INSERT INTO aggregates (kind, key, revision, state, due_us, rank, data) "
    "VALUES (%s, %s, 1, %s, %s, %s, %s::jsonb) RETURNING id), "
    "p AS (INSERT INTO parties (party, kind, aggregate) "
    "SELECT unnest(%s::text[]), %s, a.id FROM a) "
    "SELECT nextval(%s::regclass) FROM a"
)

INSERT_RECORD = (
    "WITH r AS (INSERT INTO records (kind, key, party, data) VALUES (%s, %s, %s, %s::jsonb) "
    "RETURNING id) SELECT nextval(%s::regclass) FROM r"
)

INSERT_EVENTS = (
    "INSERT INTO events (seq, kind, key, position, name, at, command_id, data) "
    "SELECT pg_current_xact_id()::text::bigint * 65536 + u.n - 1, u.kind, u.key, u.position, "
    "u.name, u.at, %s, u.data::jsonb FROM unnest(%s::text[], %s::text[], %s::int[], "
    "%s::text[], %s::timestamptz[], %s::text[]) WITH ORDINALITY "
    "AS u(kind, key, position, name, at, data, n) RETURNING seq"
)

INSERT_COMMAND = (
    "INSERT INTO commands (command_id, at, events) "
    "SELECT %s, %s, array_agg(pg_current_xact_id()::text::bigint * 65536 + n) "
    "FROM generate_series(0, %s - 1) AS n"
)


COMMAND_OF = (
    "INSERT INTO commands (command_id, at, events) "
    "SELECT %s, %s, array_agg(seq ORDER BY seq) FROM {events}"
)
"""A command's outcome whose events are the rows of the ``WITH`` part named *events*."""

JOINED = frozenset({"update", "event", "command"})
"""The parts of a commit joined into one statement (:func:`joint`)."""


def joint(parts: Sequence[tuple[str, str, tuple[Any, ...]]]) -> tuple[str, str, tuple[Any, ...]]:
    """*parts* (what, SQL, parameters) as one statement of data-modifying ``WITH`` parts,
    each run once to completion whether read or not; it returns the events' seqs. Its
    *what* names the parts, joined by ``+``."""
    ctes = []
    params: list[Any] = []
    tail = "SELECT NULL::bigint WHERE false"
    events = None
    for i, (what, statement, given) in enumerate(parts):
        sql, p = statement, given
        if what == "command" and events is not None:
            # the seqs from the events' part: a plan the server can keep (ADR 0083), where
            # generate_series(0, $n) made it plan the statement again at every use
            sql, p = COMMAND_OF.format(events=events), given[:2]
        ctes.append(f"w{i} AS ({sql})")
        params.extend(p)
        if what == "event":
            events = f"w{i}"
            tail = f"SELECT seq FROM w{i}"
    names = "+".join(what for what, _, _ in parts)
    return names, f"WITH {', '.join(ctes)} {tail}", tuple(params)


def insert(kind: str, key: str, agg: Any) -> tuple[str, tuple[Any, ...]]:
    state, due, data = columns(agg)
    return INSERT_AGGREGATE, (
        kind,
        key,
        state,
        due,
        RANK[kind],
        data,
        list(parties(kind, agg)),
        kind,
        sequence(kind),
    )


def insert_record(kind: str, key: str, value: Any) -> tuple[str, tuple[Any, ...]]:
    data = json_text(dump_record(kind, value))
    return INSERT_RECORD, (kind, key, record_party(kind, value), data, sequence(kind))


def created(agg: Any) -> tuple[int, datetime, None, dict[str, Any]]:
    history = agg.history
    at = history[-1].at if history else from_micros(0)
    return len(history), at, None, to_dict(agg)


_ROWS_AT_MOST = 64
"""Events one ``INSERT ... VALUES`` statement takes row by row (scalar parameters, which
psycopg adapts faster than arrays); more go through ``unnest`` of arrays."""

_INSERT_ROWS: dict[int, str] = {}


def _insert_rows(n: int) -> str:
    """``INSERT INTO events ... VALUES`` for *n* events, each its place in the transaction."""
    sql = _INSERT_ROWS.get(n)
    if sql is None:
        rows = ", ".join(
            f"(pg_current_xact_id()::text::bigint * {PLACES} + {i}, "
            "%s, %s, %s, %s, %s::timestamptz, %s, %s::jsonb)"
            for i in range(n)
        )
        sql = _INSERT_ROWS[n] = (
            "INSERT INTO events (seq, kind, key, position, name, at, command_id, data) "
            f"VALUES {rows} RETURNING seq"
        )
    return sql


def insert_events(
    events: Sequence[NewEvent], command_id: str | None
) -> tuple[str, tuple[Any, ...]]:
    if len(events) > PLACES:
        msg = f"one command may record at most {PLACES} events, not {len(events)}"
        raise InvalidInput(msg)
    names = []
    data = []
    for e in events:
        d = e.decision
        names.append(CREATED if d is None else d.event)
        data.append(json_text(e.snapshot if d is None else dump_decision(d)))
    if len(events) <= _ROWS_AT_MOST:
        params: list[Any] = []
        for e, name, body in zip(events, names, data, strict=True):
            params += (e.kind, e.key, e.position, name, e.at, command_id, body)
        return _insert_rows(len(events)), tuple(params)
    return INSERT_EVENTS, (
        command_id,
        [e.kind for e in events],
        [e.key for e in events],
        [e.position for e in events],
        names,
        [e.at for e in events],
        data,
    )


def event(row: Sequence[Any]) -> StoredEvent:
    seq, kind, key, position, name, at, command_id, body = row
    if name == CREATED:
        return StoredEvent(
            seq, kind, key, position, name, at.astimezone(UTC), None, body, command_id
        )
    decision = load_decision(kind, body)
    return StoredEvent(seq, kind, key, position, name, decision.at, decision, None, command_id)


def outcome_of(rows: Sequence[Any], command_id: str | None) -> Outcome | None:
    """The stored outcome in the rows of :data:`CHECK`, or ``None``."""
    if command_id is None or not rows or rows[0][1] is None:
        return None
    error = rows[0][2]
    events = tuple(event(row[3:]) for row in rows if row[3] is not None)
    return Outcome(
        events,
        None if error is None else load_error(error),
        command_id=command_id,
        repeated=True,
    )


def stored(e: NewEvent, seq: int, command_id: str | None) -> StoredEvent:
    name = CREATED if e.decision is None else e.decision.event
    return StoredEvent(
        seq, e.kind, e.key, e.position, name, e.at, e.decision, e.snapshot, command_id
    )
