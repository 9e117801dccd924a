"""What the stores know about the aggregates: kinds, parties, records, and their JSON forms.

The machines are the domain model; this module only says how the marketplace keys
them. Every aggregate has a *kind* (``account``, ``membership``, ``job``,
``proposal``, ``contract``) and a key (its ``id``), and names a few *parties*: the
account, company, agency or person ids it involves. The stores index aggregates
by party, so "the contracts of co-1" is a lookup, never a scan:

>>> from statemachines.machines.contract.table import Contract
>>> from statemachines.core.clock import UTC
>>> from datetime import datetime
>>> c = Contract.fixed("C-1", client="co-1", freelancer="fl-1",
...                    started_at=datetime(2026, 3, 2, tzinfo=UTC))
>>> parties("contract", c)
('co-1', 'fl-1')

Besides aggregates, the marketplace keeps three kinds of *record* that never
change once written: the terms an offer on a proposal would start (``terms``),
the client's contact person on a contract (``contact``, TEAM-2) and amounts the
platform could not charge (``past_due``, CL-6).
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from statemachines.core.clock import UTC
from statemachines.core.convert import Remembered
from statemachines.core.money import Money
from statemachines.errors import SnapshotError

__all__ = [
    "CASES",
    "KINDS",
    "RANK",
    "RECORDS",
    "PastDue",
    "Terms",
    "due_of",
    "dump_record",
    "from_micros",
    "json_text",
    "load_record",
    "micros",
    "names_any",
    "parties",
    "record_party",
]

KINDS = ("account", "membership", "job", "proposal", "contract")
"""The kinds of aggregate the marketplace holds, in the order deadlines break ties."""

CASES = (
    "refund_request",
    "hourly_dispute",
    "fixed_dispute",
    "dormancy",
    "mid_feedback",
    "relationship",
    "standing",
    "connects",
    "assistance",
)
"""Kinds of aggregate opened by an explicit command around a contract (``OpenCase``,
``DisputeEscrowRefund``, ``RequestAssistance``) or beside an account (``OpenWallet``: its
Connects); :mod:`statemachines.marketplace.cases`. Stored and fired like the
others, after them when deadlines tie. Kept apart from :data:`KINDS`, which the checker's
and the testing kit's worlds are made of: no command of theirs opens a case."""

RANK = {kind: i for i, kind in enumerate((*KINDS, *CASES))}
"""A kind's place in :data:`KINDS` (stored beside each aggregate to order deadlines)."""

RECORDS = ("terms", "contact", "past_due")
"""Kinds of record: written once, never changed, never fired on."""


@attrs.frozen
class Terms:
    """What an offer on a proposal would start: a fixed-price or an hourly contract."""

    hourly: bool = False
    rate: Money | None = None


@attrs.frozen
class PastDue:
    """An amount a client failed to pay (the platform's billing), cleared by ``pay_owed``."""

    key: str
    account: str
    amount: Money


_PARTY_FIELDS: dict[str, tuple[str, ...]] = {
    "account": ("id", "company", "owner"),
    "membership": ("team", "person"),
    "job": ("company",),
    "proposal": ("freelancer", "company", "author"),
    "contract": ("client", "freelancer", "member"),
    "refund_request": ("contract", "client", "freelancer"),
    "hourly_dispute": ("contract", "client", "freelancer"),
    "fixed_dispute": ("contract", "client", "freelancer"),
    "dormancy": ("contract", "client", "freelancer"),
    "mid_feedback": ("contract", "client", "freelancer"),
    "relationship": ("client", "freelancer"),
    "standing": ("id",),
    "connects": ("owner",),
    "assistance": ("contract", "client", "freelancer"),
}
"""The fields of each kind that name an account, company, agency or person (and, for the
cases around a contract, the contract, so that a contract's cases are a lookup too)."""


def parties(kind: str, aggregate: Any) -> tuple[str, ...]:
    """The ids *aggregate* involves (without repeats), the keys of the party index."""
    out: list[str] = []
    for name in _PARTY_FIELDS[kind]:
        value = getattr(aggregate, name)
        if value is not None and value not in out:
            out.append(value)
    return tuple(out)


def names_any(kind: str, aggregate: Any, wanted: Collection[str]) -> bool:
    """Whether *aggregate* involves any of *wanted* (``parties`` without building the
    tuple: a unit of work asks this of every aggregate it holds, on every party read)."""
    return any(getattr(aggregate, name) in wanted for name in _PARTY_FIELDS[kind])


def record_party(kind: str, value: Any) -> str | None:
    """The party a record is indexed by: the account a past-due amount is owed on."""
    return value.account if kind == "past_due" else None


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_c_encoder = getattr(json.encoder, "c_make_encoder", None)
_encode: Callable[[Any, int], list[str]] | None = (
    None
    if _c_encoder is None
    else _c_encoder(
        None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
)


def json_text(value: Any) -> str:
    """*value* as compact JSON text (``json.dumps(value, separators=(",", ":"),
    ensure_ascii=False)``), through the C encoder made once rather than once a call.

    It does not look for reference cycles: what the stores write are trees of dicts and
    lists (snapshots, decisions, lists of numbers).

    >>> json_text({"at": "2026-03-02", "seq": [1, 2], "note": "é", "gone": None})
    '{"at":"2026-03-02","seq":[1,2],"note":"é","gone":null}'
    """
    if _encode is None:  # pragma: no cover  (a Python without the C accelerator)
        return _ENCODER.encode(value)
    return "".join(_encode(value, 0))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """*moment* as whole microseconds since 1970 (exact; the stores' time column).

    Remembered for the few moments a process keeps meeting (equal instants have equal
    values whatever their offset, so the datetime itself is the key).
    """
    return _MICROS[moment]


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


_MICROS = Remembered(_micros)


def from_micros(value: int) -> datetime:
    """The inverse of :func:`micros`."""
    return _EPOCH + timedelta(microseconds=value)


def due_of(aggregate: Any) -> datetime | None:
    """When the aggregate's next deadline falls due (deadlines are kept in time order)."""
    deadlines = aggregate.deadlines
    return deadlines[0].due if deadlines else None


def dump_record(kind: str, value: Any) -> Any:
    """A record as JSON-safe data."""
    if kind == "terms":
        rate = value.rate.to_dict() if value.rate is not None else None
        return {"hourly": value.hourly, "rate": rate}
    if kind == "past_due":
        return {"key": value.key, "account": value.account, "amount": value.amount.to_dict()}
    if kind == "contact":
        return value
    msg = f"{kind!r} is not a kind of record ({', '.join(RECORDS)})"
    raise SnapshotError(msg)


def _money(data: Any) -> Money:
    if not isinstance(data, Mapping):
        msg = f"an amount is an object with cents and currency, got {data!r}"
        raise SnapshotError(msg)
    return Money(data["cents"], data["currency"])


def load_record(kind: str, data: Any) -> Any:
    """The inverse of :func:`dump_record`."""
    try:
        if kind == "terms":
            rate = data["rate"]
            return Terms(hourly=bool(data["hourly"]), rate=None if rate is None else _money(rate))
        if kind == "past_due":
            return PastDue(str(data["key"]), str(data["account"]), _money(data["amount"]))
        if kind == "contact":
            return str(data)
    except (KeyError, TypeError, ValueError) as err:
        msg = f"{kind} record {data!r} is malformed: {err}"
        raise SnapshotError(msg) from None
    msg = f"{kind!r} is not a kind of record ({', '.join(RECORDS)})"
    raise SnapshotError(msg)
