"""What each diagram shows: a machine, one of its types, or one part of a large machine.

A :class:`View` draws a :class:`~statemachines.core.engine.MachineSpec` whole, or
through a :class:`Variant`: the rows that apply to one account type, or one part
of the contract (fixed-price work, hourly work, bonuses and refunds while it runs,
after the end). A machine with more than :data:`MAX_EDGES` rows is drawn whole
only as an overview (one arrow per pair of states, events by name); its variants
carry the detail, each small enough to read in an 800-pixel column.

Who may act
-----------
A variant names sample aggregates of its type (:attr:`Variant.samples`). The roles
drawn on one of its edges are the roles the machine's own authorisation lets fire
that edge on one of those samples (:func:`authorised_roles`): the table's roles
for the edge, then ``spec.authorize`` with an actor of each role acting for one of
the sample's parties. Only the company owner may close a client company, so the
client view says ``by CO``, never what the guards alone would suggest.

Variants by type
----------------
:func:`by_type` reads the enum field that holds the type (``Contract.kind``,
``Account.type``) and runs each guard and branch on a stand-in holding only that
field. A guard that refuses every aggregate of the type (``CTR-TYPE-D`` on a
fixed-price ``log_time``) drops the row; one that holds for every aggregate of
the type is left off the labels; a guard that needs more than the type to decide
keeps the row. Rule families (``"BILL-": ("hourly",)``) add what the table
cannot say by itself. A machine module may give its spec a ``variants``
attribute holding a ``Variant`` tuple; it wins over :data:`VARIANTS`.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
import types
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from statemachines.core.actors import Actor, Role
from statemachines.core.clock import UTC
from statemachines.core.engine import SPECS, Edge, MachineSpec
from statemachines.core.money import Money

__all__ = [
    "ANY_USER",
    "MAX_EDGES",
    "ROLE_CODES",
    "VARIANTS",
    "Variant",
    "View",
    "authorised_roles",
    "by_type",
    "discover",
    "role_code",
    "role_codes",
    "variants_of",
    "views",
    "who",
]

ROLE_CODES: Mapping[Role, str] = {
    Role.FREELANCER: "FL",
    Role.AGENCY_OWNER: "AO",
    Role.BUSINESS_MANAGER: "ABM",
    Role.AGENCY_MEMBER: "AMB",
    Role.CLIENT_OWNER: "CO",
    Role.CLIENT_ADMIN: "CA",
    Role.HIRING_MANAGER: "HM",
    Role.SOURCING_MEMBER: "HMS",
    Role.TEAM_MEMBER: "TM",
    Role.SYSTEM: "SYS",
    Role.SUPPORT: "SUP",
    Role.ACCOUNT_TEAM: "ENT",
}
"""The rulebook's short codes for roles (§2.1), used on edge labels."""

MAX_EDGES = 20
"""A view with more rows than this is too dense for an 800-pixel column."""


def role_code(role: Role) -> str:
    """The §2.1 code of *role* (``CO``), or its value for a role added later."""
    return ROLE_CODES.get(role, role.value)


def role_codes(roles: Iterable[Role]) -> list[str]:
    """Codes of *roles* in the order of the :class:`Role` enum (stable across runs)."""
    wanted = set(roles)
    return [role_code(r) for r in Role if r in wanted]


ANY_USER = frozenset(Role) - {Role.SYSTEM, Role.SUPPORT, Role.ACCOUNT_TEAM}
"""Everyone who holds or works in an account (not the platform or its staff)."""


def who(roles: Iterable[Role]) -> str:
    """The roles of an edge, short: codes, with ``any user`` for every account role.

    >>> who({Role.CLIENT_OWNER, Role.HIRING_MANAGER})
    'CO, HM'
    >>> who(set(Role) - {Role.SYSTEM})
    'any user, SUP, ENT'
    """
    wanted = set(roles)
    if wanted >= ANY_USER:
        return ", ".join(["any user", *role_codes(wanted - ANY_USER)])
    return ", ".join(role_codes(wanted))


# --------------------------------------------------------------------------- variants


def _never(_: Any) -> bool:
    return False


def _always(_: Any) -> bool:
    return True


def _no_samples() -> tuple[Any, ...]:
    return ()


@attrs.frozen
class Variant:
    """One type of a machine (an hourly contract), or one part of a large machine."""

    name: str
    """Used in file names: ``diagrams/contract-hourly.dot``."""
    title: str
    """Shown in the diagram's caption: ``hourly contract``."""
    includes: Callable[[Edge[Any]], bool]
    """True for the table rows this view draws."""
    matches: Callable[[Any], bool] = _never
    """True for a live aggregate of this type (used by :func:`~.diagrams.show`)."""
    shows: Callable[[str], bool] = _always
    """True for the rule IDs that apply to this type (others are left off the labels)."""
    samples: Callable[[], Sequence[Any]] = _no_samples
    """Aggregates of this type whose authorisation decides who may fire each edge."""
    prune: bool = True
    """Draw only the rows that leave a state reachable from the start (a type); a part
    of a machine (after the end) starts where another view left off instead."""
    base: Callable[[Edge[Any]], bool] | None = None
    """Every row of the type this part belongs to (used to draw a live aggregate's path)."""


def _field_is(name: str, value: object) -> Callable[[Any], bool]:
    def test(aggregate: Any) -> bool:
        return getattr(aggregate, name, None) == value

    return test


def _probe(check: Callable[[Any, Any], Any], stand_in: Any) -> bool | None:
    """Run a guard or branch on a stand-in that has only an id and the type field.

    ``True``: it holds for every aggregate of this type; ``False``: it never
    does; ``None``: it needs more than the type to decide (it read something else).
    """
    try:
        result = check(stand_in, None)
    except Exception:
        return None
    if isinstance(result, bool):
        return result
    return result is None


def by_type(
    spec: MachineSpec[Any, Any],
    field: str,
    titles: Mapping[str, str] | None = None,
    families: Mapping[str, tuple[str, ...]] | None = None,
    samples: Callable[[Any], Callable[[], Sequence[Any]]] | None = None,
) -> tuple[Variant, ...]:
    """One variant per member of the enum in the aggregate's *field* (``kind``, ``type``).

    Which rows apply is read from the table itself: each guard and branch is run
    on a stand-in holding only that field. A row is left out when one of them
    refuses every aggregate of the type (e.g. ``CTR-TYPE-D`` on a fixed-price
    contract's ``log_time``), and a rule that holds for every aggregate of the
    type is left off its labels. *families* maps rule ID prefixes to the types
    they concern (``"BILL-": ("hourly",)``): their rule IDs are left off the
    labels of other types, and a row fired by, or checking only, rules of other
    types' families is left out. *samples* gives, for a member of the enum, the
    sample aggregates of :attr:`Variant.samples`.
    """
    family = families or {}

    def concerns(value: str, rule_id: str) -> bool | None:
        for prefix, kinds in family.items():
            if rule_id.startswith(prefix):
                return value in kinds
        return None

    kinds = typing.get_type_hints(spec.model).get(field)
    if not (isinstance(kinds, type) and issubclass(kinds, enum.Enum)):
        return ()
    out = []
    for kind in kinds:
        value = str(kind.value)
        # The id is there for refusal messages, which name the aggregate.
        stand_in = types.SimpleNamespace(**{field: kind, "id": f"(any {value})"})

        def includes(edge: Edge[Any], stand_in: Any = stand_in, value: str = value) -> bool:
            checks: list[Callable[[Any, Any], Any]] = [g.check for g in edge.guards]
            if edge.branch is not None:
                checks.append(edge.branch.test)
            if any(_probe(check, stand_in) is False for check in checks):
                return False
            # What fires a row, else what it checks, decides whether it concerns
            # this type; permission rules say who acts, and effects what follows.
            if edge.timer is not None and concerns(value, edge.timer.rule_id) is not None:
                return bool(concerns(value, edge.timer.rule_id))
            guarded = [concerns(value, g.rule_id) for g in edge.guards]
            return not guarded or None in guarded or any(guarded)

        verdicts: dict[str, set[bool | None]] = {}
        for edge in spec.edges:
            if includes(edge):
                for guard in edge.guards:
                    verdicts.setdefault(guard.rule_id, set()).add(_probe(guard.check, stand_in))
        always = {rule_id for rule_id, seen in verdicts.items() if seen == {True}}

        def visible(rule_id: str, always: set[str] = always, value: str = value) -> bool:
            return rule_id not in always and concerns(value, rule_id) is not False

        title = (titles or {}).get(value, f"{value.replace('_', ' ')} {spec.name}")
        made = samples(kind) if samples is not None else _no_samples
        out.append(Variant(value, title, includes, _field_is(field, kind), visible, made))
    return tuple(out)


# --------------------------------------------------------------------------- samples


_SAMPLE_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _account_samples(kind: Any) -> Callable[[], Sequence[Any]]:
    def make() -> Sequence[Any]:
        from statemachines.machines.account import Account  # noqa: PLC0415  (machines load first)

        company = "acc-1" if kind.value in {"client", "combined", "enterprise"} else None
        agency = "acc-1" if kind.value == "agency" else None
        return (Account(id="acc-1", type=kind, owner="pat", company=company, agency=agency),)

    return make


def _contract_samples(kind: Any) -> Callable[[], Sequence[Any]]:
    def make() -> Sequence[Any]:
        from statemachines.machines.contract import Contract  # noqa: PLC0415

        at = _SAMPLE_START
        if kind.value == "hourly":
            rate = Money.usd("40")
            return (
                Contract.hourly("C-1", client="co-1", freelancer="fl-1", rate=rate, started_at=at),
                Contract.hourly(
                    "C-2",
                    client="co-1",
                    freelancer="ag-1",
                    rate=rate,
                    started_at=at,
                    agency=True,
                    member="amb-1",
                ),
            )
        return (
            Contract.fixed("C-1", client="co-1", freelancer="fl-1", started_at=at),
            Contract.fixed("C-2", client="co-1", freelancer="ag-1", started_at=at, agency=True),
        )

    return make


def _candidates(role: Role, aggregate: Any) -> list[Actor]:
    """Actors of *role* that could act on *aggregate*: each of its ids as the person and party."""
    values = [
        v
        for f in attrs.fields(type(aggregate))
        if f.name not in {"state", "history"}
        for v in [getattr(aggregate, f.name)]
        if isinstance(v, str) and v
    ]
    people = [role.value, *values]
    return [Actor(person, role, party=party) for person in people for party in [*values, None]]


def authorised_roles(view: View, edge: Edge[Any]) -> frozenset[Role]:
    """Who may fire *edge* in *view*: the table's roles, narrowed by the machine's authorisation.

    For a view without samples (a whole machine), the table's roles. Otherwise a role
    counts when an actor in it, acting for one of a sample's parties, passes
    ``spec.authorize`` for this edge on one of the samples (put in the edge's state).
    """
    spec = view.spec
    samples = view.variant.samples() if view.variant is not None else ()
    if not samples or spec.authorize is None or edge.timer is not None:
        return edge.roles
    allowed: set[Role] = set()
    for sample in samples:
        placed = attrs.evolve(sample, state=edge.sources[0])
        for role in edge.roles:
            if role in allowed:
                continue
            if any(
                spec.authorize(placed, actor, edge) is None for actor in _candidates(role, placed)
            ):
                allowed.add(role)
    return frozenset(allowed)


# --------------------------------------------------------------------------- registry


_ACCOUNT_FAMILIES = {
    "ACC-CLOSE-FL-": ("freelancer", "combined"),
    "ACC-CLOSE-CL-": ("client", "combined", "enterprise"),
    "ACC-CLOSE-AG-": ("agency",),
    "ACC-CLOSE-TM-": ("team_admin", "team_member"),
    "ACC-CLOSE-ENT-": ("enterprise",),
}
"""Account rule families that apply only to some account types (rulebook §3.2-3.5)."""


_CONTRACT_FAMILIES = {
    "MS-": ("fixed",),
    "ESC-": ("fixed",),
    "BILL-": ("hourly",),
    "CTR-HR-": ("hourly",),
    "CTR-END-2": ("hourly",),
    "CTR-END-3": ("hourly",),
    "HDSP-": ("hourly",),  # hourly disputes on the contract (rulebook helper, ADR 0073)
}
"""Contract rule families of one contract type (rulebook §3.11-3.15)."""

_FEEDBACK = frozenset({"leave_feedback", "allow_late_feedback", "close_feedback"})
_HOLDS = frozenset(
    {
        "billing_problem",
        "billing_fixed",
        "client_suspended",
        "client_reinstated",
        "freelancer_suspended",
        "freelancer_reinstated",
        "dispute_hours",
        "settle_held_hours",
        "dispute_milestone",
        "settle_milestone_dispute",
        "release_dormant_funds",
    }
)
"""What the platform does to a contract from outside its work: pauses an hourly one while
billing fails or an account is suspended (CTR-HR-2, SUSP-1, SUSP-D), holds disputed hours
or a disputed milestone until support decides (HDSP-2, MS-DSP-1), and releases a dormant
contract's money (DORM-1)."""
_MONEY = frozenset({"pay_bonus", "give_refund", "request_refund"})
_OVER = frozenset({"ended", "refunded"})


def _after(edge: Edge[Any]) -> bool:
    """Feedback, and whatever an ended or refunded contract still accepts."""
    return edge.event in _FEEDBACK or {s.value for s in edge.sources} <= _OVER


def _money(edge: Edge[Any]) -> bool:
    """Bonuses, refunds and refund requests while the contract runs."""
    return edge.event in _MONEY and not _after(edge)


def _holds(edge: Edge[Any]) -> bool:
    """The platform's pauses, the disputes it holds money for, and dormant money."""
    return edge.event in _HOLDS and not _after(edge)


def contract_variants(spec: MachineSpec[Any, Any]) -> tuple[Variant, ...]:
    """The contract in five parts that each fit a page: fixed-price and hourly work (each
    up to its end), what the platform does from outside the work (pauses, disputes it holds
    money for, dormant money), bonuses and refunds while it runs, and after the end."""
    kinds = by_type(
        spec, "kind", {"fixed": "fixed-price contract"}, _CONTRACT_FAMILIES, _contract_samples
    )
    out = []
    for kind in kinds:

        def work(edge: Edge[Any], kind: Variant = kind) -> bool:
            return kind.includes(edge) and not (_after(edge) or _money(edge) or _holds(edge))

        out.append(attrs.evolve(kind, includes=work, base=kind.includes))

    def every_sample() -> Sequence[Any]:
        return [s for kind in kinds for s in kind.samples()]

    out.append(
        Variant(
            "holds",
            "pauses, disputes and dormant money, handled by the platform",
            _holds,
            samples=every_sample,
            prune=False,
        )
    )
    out.append(
        Variant(
            "payments",
            "bonuses and refunds while it runs",
            _money,
            samples=every_sample,
            prune=False,
        )
    )
    out.append(Variant("after", "after the end", _after, samples=every_sample, prune=False))
    return tuple(out)


VARIANTS: dict[str, Callable[[MachineSpec[Any, Any]], tuple[Variant, ...]]] = {
    "contract": contract_variants,
    "account": lambda spec: by_type(
        spec, "type", families=_ACCOUNT_FAMILIES, samples=_account_samples
    ),
}
"""Machine name -> a function giving its variants. Machines not built yet are skipped."""


def variants_of(spec: MachineSpec[Any, Any]) -> tuple[Variant, ...]:
    """The variants of *spec*: its own ``variants`` attribute, else the registry's."""
    own = getattr(spec, "variants", None)
    if own:
        return tuple(own)
    make = VARIANTS.get(spec.name)
    return make(spec) if make is not None else ()


# --------------------------------------------------------------------------- views


@attrs.frozen
class View:
    """What one diagram shows: a machine, or one variant of it."""

    spec: MachineSpec[Any, Any]
    variant: Variant | None = None

    @property
    def name(self) -> str:
        """File stem: ``milestone`` or ``contract-hourly``."""
        return self.spec.name if self.variant is None else f"{self.spec.name}-{self.variant.name}"

    @property
    def title(self) -> str:
        """Caption of the diagram."""
        if self.variant is None:
            return self.spec.name
        return f"{self.spec.name}: {self.variant.title}"

    @property
    def overview(self) -> bool:
        """True for a whole machine too large to draw row by row (drawn as an overview)."""
        return self.variant is None and len(self.spec.edges) > MAX_EDGES

    @property
    def edges(self) -> tuple[Edge[Any], ...]:
        """The table rows this view draws, in table order.

        For a variant: the rows that apply to it and (unless it is a part that
        starts elsewhere) leave a state it can reach.
        """
        if self.variant is None:
            return self.spec.edges
        # a row nobody of the variant may fire (the machine's authorisation turns every
        # role away, e.g. self-service reactivation of a combined account) is left out
        rows = [e for e in self.spec.edges if self.variant.includes(e) and self.roles(e)]
        if not self.variant.prune:
            return tuple(rows)
        reached = {self.spec.initial}
        grew = True
        while grew:
            grew = False
            for edge in rows:
                if edge.target not in reached and reached.intersection(edge.sources):
                    reached.add(edge.target)
                    grew = True
        return tuple(e for e in rows if reached.intersection(e.sources))

    @property
    def states(self) -> tuple[enum.Enum, ...]:
        """States drawn: the initial state and every state reached by a drawn edge
        (for a part that starts elsewhere: every state its rows leave or reach)."""
        if self.variant is not None and not self.variant.prune:
            used = {s for e in self.edges for s in (*e.sources, e.target)}
        else:
            used = {self.spec.initial, *(e.target for e in self.edges)}
        return tuple(s for s in self.spec.states if s in used)

    @property
    def starts(self) -> bool:
        """True when the view draws the machine's start (its initial state)."""
        return self.spec.initial in self.states and (self.variant is None or self.variant.prune)

    def roles(self, edge: Edge[Any]) -> frozenset[Role]:
        """Who may fire *edge* here (see :func:`authorised_roles`)."""
        return authorised_roles(self, edge)


def discover() -> dict[str, MachineSpec[Any, Any]]:
    """Import every module of :mod:`statemachines.machines` so that each machine registers.

    A machine module added later needs no entry anywhere to be drawn and catalogued.
    """
    import statemachines.machines  # noqa: PLC0415  (the package, to list its modules)

    root = statemachines.machines
    for info in sorted(
        pkgutil.walk_packages(root.__path__, f"{root.__name__}."), key=lambda m: m.name
    ):
        importlib.import_module(info.name)
    return SPECS


def views(specs: Iterable[MachineSpec[Any, Any]] | None = None) -> list[View]:
    """Every diagram to render: each machine by name, then each of its variants."""
    chosen = discover().values() if specs is None else specs
    out = []
    for spec in sorted(chosen, key=lambda s: s.name):
        out.append(View(spec))
        out.extend(View(spec, v) for v in variants_of(spec))
    return out
