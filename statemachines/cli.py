"""The command line: ``python -m statemachines COMMAND`` (also installed as ``statemachines``).

Commands:

* ``summary``: every machine's states, transitions and the rule IDs it enforces.
* ``render [--check]``: write ``diagrams/``, ``docs/rules.md`` and the scenario schema, or
  check that the committed ones are fresh and that no landed machine has a v0.1 gap.
* ``explain SNAPSHOT.json [--actor ROLE[:ID[:PARTY]]] [--at TIME] [--with NAME=VALUE]
  [--json]``: for a saved aggregate, every event, whether that actor may fire it
  now (with those arguments), and why not.
* ``run SCENARIO.yaml|FOLDER ... [--json]``: executable specifications (see
  :mod:`statemachines.publish.scenarios`).
* ``site [--no-notebooks]``: build the documentation site into ``site/`` (see
  :mod:`statemachines.publish.site`).

Bad input gets one line on standard error and exit status 2; a failed check or
an unmet expectation exits with 1.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, TextIO

import statemachines  # importing the package builds every machine
from statemachines.core.actors import Role
from statemachines.core.clock import ManualClock, SystemClock, format_utc
from statemachines.core.engine import SPECS_BY_MODEL, MachineSpec, Verdict
from statemachines.core.snapshots import from_dict
from statemachines.errors import (
    IllegalTransition,
    NotPermitted,
    SnapshotError,
    TransitionRefused,
)
from statemachines.publish import diagrams, scenarios
from statemachines.publish import render as rendering
from statemachines.verify import cli as checker_cli

__all__ = ["main", "summary"]


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


# --------------------------------------------------------------------------- output


class Out:
    """Writes lines, with colour only when the stream is a terminal and NO_COLOR is unset."""

    CODES: ClassVar[dict[str, str]] = {
        "green": "32",
        "red": "31",
        "yellow": "33",
        "dim": "2",
        "bold": "1",
    }

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.colour = stream.isatty() and "NO_COLOR" not in os.environ

    def paint(self, text: str, colour: str) -> str:
        """*text* in *colour* on a terminal, unchanged elsewhere."""
        if not self.colour:
            return text
        return f"\033[{self.CODES[colour]}m{text}\033[0m"

    def line(self, text: str = "") -> None:
        """Write one line."""
        self.stream.write(text + "\n")

    def table(
        self,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        colours: Sequence[str | None] = (),
    ) -> None:
        """An aligned table; the last column is not padded. *colours* paints whole rows."""
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

        def fmt(cells: Sequence[str]) -> str:
            padded = [c.ljust(w) for c, w in zip(cells[:-1], widths, strict=False)]
            return "  ".join([*padded, cells[-1]]).rstrip()

        self.line(self.paint(fmt(headers), "bold"))
        for i, row in enumerate(rows):
            colour = colours[i] if i < len(colours) else None
            text = fmt(row)
            self.line(self.paint(text, colour) if colour else text)


# --------------------------------------------------------------------------- summary


def summary() -> str:
    """Every machine as text: states, transitions and rule IDs enforced."""
    lines = []
    for spec in diagrams.discover().values():
        terminal = ", ".join(s.value for s in spec.states if s in spec.terminal)
        lines.append(f"{spec.name}: {spec.description}")
        states = ", ".join(s.value for s in spec.states)
        initial = spec.initial.value
        count = len(spec.states)  # type: ignore[arg-type]  # an enum class has a length
        lines.append(f"  states ({count}): {states}; initial {initial}; final {terminal}")
        lines.append(f"  transitions ({len(spec.edges)}):")
        width = max(len(e.event) for e in spec.edges)
        for edge in spec.edges:
            sources = "|".join(s.value for s in edge.sources)
            rules = ", ".join(edge.rule_ids) or "-"
            timer = f"  (timer: {edge.timer.label})" if edge.timer else ""
            lines.append(
                f"    {edge.event:<{width}}  {sources} -> {edge.target.value}  [{rules}]{timer}"
            )
        for row in spec.forbidden:
            sources = "|".join(s.value for s in row.sources)
            lines.append(f"    {row.event:<{width}}  refused in {sources}  [{row.rule_id}]")
        enforced = sorted({*spec.rule_ids, *(r.rule_id for r in spec.forbidden)})
        lines.append(f"  rule IDs enforced ({len(enforced)}): {', '.join(enforced)}")
    return "\n".join(lines)


def cmd_summary(out: Out) -> int:
    """``summary``: every machine's states, transitions and rule IDs."""
    out.line(summary())
    return 0


# --------------------------------------------------------------------------- render


def graphviz_missing() -> type[Exception]:
    """The error the graphviz package raises when the ``dot`` program is not installed."""
    import graphviz  # noqa: PLC0415  (optional dependency)

    return graphviz.ExecutableNotFound  # type: ignore[no-any-return]


def cmd_render(args: argparse.Namespace, out: Out) -> int:
    """``render`` and ``render --check``."""
    root = Path(args.out) if args.out else _checkout(Path(args.root), "render")
    if importlib.util.find_spec("graphviz") is None:
        msg = "render needs the graphviz package: pip install 'statemachines[diagrams]'"
        raise UsageError(msg)
    if args.check:
        result = rendering.check(root)
        for line in result.lines():
            out.line(out.paint(line, "red"))
        if result.ok:
            out.line(out.paint("generated files are up to date; no v0.1 gaps", "green"))
            return 0
        return 1
    try:
        changed, cat = rendering.render(root)
    except graphviz_missing() as err:
        msg = f"Graphviz's dot program is needed to draw SVG and PNG ({err}); install graphviz"
        raise UsageError(msg) from None
    out.line(summary())
    out.line()
    views = diagrams.views()
    out.line(
        f"rendered {len(views)} diagrams ({', '.join(v.name for v in views)}) into "
        f"{(root / rendering.DIAGRAMS).as_posix()}/ as DOT, Mermaid, SVG and PNG, and "
        f"{(root / rendering.RULES_MD).as_posix()} ({len(cat.rules)} rules)"
    )
    out.line(
        f"{len(changed)} file(s) changed"
        + (": " + ", ".join(p.as_posix() for p in changed[:8]) if changed else "")
    )
    gaps = cat.failing
    if gaps:
        shown = "; ".join(map(str, gaps[:3])) + ("; ..." if len(gaps) > 3 else "")
        note = f"{len(gaps)} v0.1 gap(s) in landed machines ({shown}); see docs/rules.md"
        out.line(out.paint(note, "yellow"))
    else:
        out.line("no v0.1 gaps: every in-scope rule of a landed machine is enforced and tested")
    return 0


# --------------------------------------------------------------------------- explain


def _read_snapshot(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{path}: no such file"
        raise UsageError(msg) from None
    except OSError as err:
        msg = f"{path}: {err.strerror or err}"
        raise UsageError(msg) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        msg = f"{path}:{err.lineno}: malformed JSON: {err.msg}"
        raise UsageError(msg) from None
    try:
        return from_dict(data)
    except SnapshotError as err:
        msg = f"{path}: {err}"
        raise UsageError(msg) from None


def _reason(verdict: Verdict) -> str:
    err = verdict.error
    if err is None:
        return ""
    if isinstance(err, TransitionRefused):
        return "; ".join(err.reasons)
    if isinstance(err, NotPermitted):
        text = str(err)
        return text.split(": ", 1)[1] if ": " in text else text
    if isinstance(err, IllegalTransition):
        return f"not possible from {err.state.replace('_', ' ')}"
    return str(err)


def _status(verdict: Verdict) -> str:
    err = verdict.error
    if err is None:
        return "yes"
    if isinstance(err, TransitionRefused):
        return "refused"
    if isinstance(err, NotPermitted):
        return "not permitted"
    if isinstance(err, IllegalTransition):
        return "not here"
    return "invalid"


def _roles_for(spec: MachineSpec[Any, Any], state: Any, event: str) -> list[Role]:
    roles: set[Role] = set()
    for edge in spec.edges_from(state, event):
        roles |= edge.roles
    row = spec.forbidden_from(state, event)
    if row is not None:
        roles |= row.roles
    return [r for r in Role if r in roles]


def _arguments(spec: MachineSpec[Any, Any], pairs: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``--with NAME=VALUE`` pairs as each event's arguments (events without NAME ignore it)."""
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            msg = f"--with {pair!r}: write NAME=VALUE, e.g. --with amount=150.00"
            raise UsageError(msg)
        values[name.strip()] = value.strip()
    known = {p.name for event in spec.events for p in spec.params(event)}
    unknown = sorted(set(values) - known)
    if unknown:
        msg = f"--with: {spec.name} has no event argument {', '.join(map(repr, unknown))}"
        raise UsageError(msg)
    out: dict[str, dict[str, Any]] = {}
    for event in spec.events:
        for param in spec.params(event):
            if param.name in values:
                raw: Any = values[param.name]
                if bool in param.types:
                    raw = {"true": True, "false": False}.get(raw.lower(), raw)
                elif int in param.types and raw.lstrip("-").isdigit():
                    raw = int(raw)
                try:
                    converted = scenarios.convert_argument(raw, param.types, f"--with {param.name}")
                except scenarios.ScenarioError as err:
                    text = err.text if err.text.startswith("--with") else f"--with {err.text}"
                    raise UsageError(text) from None
                out.setdefault(event, {})[param.name] = converted
    return out


def cmd_explain(args: argparse.Namespace, out: Out) -> int:
    """``explain``: what each event would do now, for one actor or for every role."""
    aggregate = _read_snapshot(Path(args.snapshot))
    spec = SPECS_BY_MODEL[type(aggregate)]
    try:
        at = scenarios.parse_time(args.at, "--at") if args.at else SystemClock().now()
    except scenarios.ScenarioError as err:
        raise UsageError(err.text) from None
    clock = ManualClock(at)
    flow = scenarios.workflow_for(spec, clock)
    given = _arguments(spec, args.with_ or [])
    rows: list[dict[str, Any]] = []
    actor = None
    if args.actor:
        try:
            actor = scenarios.parse_actor(args.actor, aggregate)
        except scenarios.ScenarioError as err:
            msg = f"--actor: {err.text}"
            raise UsageError(msg) from None
        for event in spec.events:
            verdict = flow.explain(aggregate, event, actor, **given.get(event, {}))
            rows.append(_row(verdict, [actor.role] if verdict.allowed else []))
    else:
        for event in spec.events:
            payload = given.get(event, {})
            verdicts = [
                (
                    role,
                    flow.explain(
                        aggregate, event, scenarios.parse_actor(role.value, aggregate), **payload
                    ),
                )
                for role in _roles_for(spec, aggregate.state, event)
            ]
            allowed = [role for role, v in verdicts if v.allowed]
            if allowed or not verdicts:
                shown = next((v for _, v in verdicts if v.allowed), None)
                if shown is None:
                    system = scenarios.parse_actor("system", aggregate)
                    shown = flow.explain(aggregate, event, system, **payload)
                rows.append(_row(shown, allowed))
            else:
                refused = [v for _, v in verdicts if isinstance(v.error, TransitionRefused)]
                rows.append(_row((refused or [verdicts[0][1]])[0], []))
    deadlines = [
        {"key": d.key, "event": d.event, "due": d.due.isoformat()} for d in aggregate.deadlines
    ]
    if args.json:
        doc = {
            "machine": spec.name,
            "id": aggregate.id,
            "state": aggregate.state.value,
            "at": at.isoformat(),
            "actor": actor.to_dict() if actor else None,
            "events": rows,
            "deadlines": deadlines,
        }
        out.line(json.dumps(doc, indent=2))
        return 0
    who = f"as {actor}" if actor else "for every role the table names"
    out.line(
        out.paint(f"{spec.name} {aggregate.id!r} is {aggregate.state.value}", "bold")
        + f" · checked at {format_utc(at)} · {who}"
    )
    out.line()
    table = [
        [
            r["event"],
            r["now"],
            r["target"] or "-",
            ", ".join(diagrams.role_codes(Role(x) for x in r["roles"])) or "-",
            ", ".join(r["rule_ids"]) or "-",
            r["reason"],
        ]
        for r in rows
    ]
    colours = ["green" if r["allowed"] else "red" if r["now"] == "refused" else "dim" for r in rows]
    out.table(["EVENT", "NOW", "TARGET", "WHO", "RULE IDS", "WHY NOT"], table, colours)
    _legend(out, {Role(x) for r in rows for x in r["roles"]})
    if deadlines:
        out.line()
        for d in aggregate.deadlines:
            out.line(f"deadline {d.key}: {d.event} falls due at {format_utc(d.due)}")
    return 0


def _legend(out: Out, shown: set[Role]) -> None:
    """The role codes of the WHO column, spelled out."""
    if shown:
        out.line()
        codes = (f"{diagrams.role_code(r)} = {r.label}" for r in Role if r in shown)
        out.line("WHO: " + "; ".join(codes))


def _row(verdict: Verdict, roles: list[Role]) -> dict[str, Any]:
    err = verdict.error
    return {
        "event": verdict.event,
        "allowed": verdict.allowed,
        "now": _status(verdict),
        "target": verdict.target.value if verdict.target is not None else None,
        "roles": [r.value for r in roles],
        "error": type(err).__name__ if err is not None else None,
        "rule_ids": list(verdict.rule_ids),
        "reasons": list(err.reasons)
        if isinstance(err, TransitionRefused)
        else ([_reason(verdict)] if err else []),
        "reason": _reason(verdict),
    }


# --------------------------------------------------------------------------- run


def _fresh_db(folder: str | None, scenario: Path) -> Path | None:
    """A new SQLite file for *scenario* in *folder* (an old one of that name is replaced)."""
    if folder is None:
        return None
    where = Path(folder)
    if where.exists() and not where.is_dir():
        msg = f"--db {folder}: not a folder (run --db takes a folder: one file per scenario)"
        raise UsageError(msg)
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{scenario.stem}.db"
    for old in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        old.unlink(missing_ok=True)
    return path


def cmd_run(args: argparse.Namespace, out: Out) -> int:
    """``run``: execute scenario files and folders."""
    try:
        paths = scenarios.files([Path(p) for p in args.scenarios])
        loaded = [scenarios.load(p) for p in paths]
    except scenarios.ScenarioError as err:
        raise UsageError(str(err)) from None
    report: list[dict[str, Any]] = []
    failed = 0
    for scenario in loaded:
        if not args.json:
            out.line(out.paint(f"{scenario.path.as_posix()}: {scenario.title}", "bold"))

        try:
            show = None if args.json else functools.partial(_show_step, out, scenario.path)
            results = scenarios.run(scenario, show, store=_fresh_db(args.db, scenario.path))
        except scenarios.ScenarioError as err:
            raise UsageError(str(err)) from None
        entry = scenarios.scenario_json(scenario, results)
        failed += not entry["passed"]
        report.append(entry)
    if args.json:
        out.line(json.dumps({"passed": not failed, "scenarios": report}, indent=2))
    else:
        total = len(loaded)
        text = f"{total - failed} of {total} scenario(s) passed"
        out.line(out.paint(text, "red" if failed else "green"))
    return 1 if failed else 0


def _show_step(out: Out, path: Path, step: scenarios.StepResult) -> None:
    mark = out.paint("ok  ", "green") if step.passed else out.paint("FAIL", "red")
    out.line(f"  {mark} {scenarios.step_line(step)}")
    for problem in scenarios.step_problems(path, step):
        out.line(out.paint(f"          {problem}", "red"))


# --------------------------------------------------------------------------- main


def parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and ``--help``)."""
    top = argparse.ArgumentParser(
        prog="statemachines",
        description="A freelance marketplace's workflows as guarded state machines.",
    )
    top.add_argument(
        "--version", action="version", version=f"statemachines {statemachines.__version__}"
    )
    sub = top.add_subparsers(dest="command")
    sub.add_parser("summary", help="print every machine's states, transitions and rule IDs")
    render = sub.add_parser("render", help="write diagrams/ and docs/rules.md (or --check them)")
    render.add_argument("--check", action="store_true", help="exit 1 naming stale files and gaps")
    render.add_argument("--root", default=".", help="project folder (default: the current one)")
    render.add_argument(
        "--out", help="write into this folder instead of a checkout (tests are not read)"
    )
    explain = sub.add_parser("explain", help="what each event would do now for a saved aggregate")
    explain.add_argument("snapshot", help="a JSON snapshot (statemachines.core.snapshots.to_dict)")
    explain.add_argument("--actor", help="ROLE[:ID[:PARTY]], e.g. client_owner:ana:co-1 or CO")
    explain.add_argument("--at", help="when, with a UTC offset (default: now)")
    explain.add_argument(
        "--with",
        dest="with_",
        action="append",
        metavar="NAME=VALUE",
        help="an event argument, e.g. --with amount=150.00 (repeat for more)",
    )
    explain.add_argument("--json", action="store_true", help="print JSON for scripts")
    run = sub.add_parser("run", help="run scenario files (or folders of them)")
    run.add_argument("scenarios", nargs="+", help="SCENARIO.yaml files or folders")
    run.add_argument("--json", action="store_true", help="print JSON for scripts")
    run.add_argument(
        "--db",
        metavar="FOLDER",
        help="keep each marketplace scenario's world in a new SQLite file FOLDER/<scenario>.db "
        "(scenarios reuse ids, so one file each); check them with: check --db FOLDER",
    )
    site = sub.add_parser("site", help="build the documentation site into site/")
    site.add_argument("--no-notebooks", action="store_true", help="skip the notebooks (faster)")
    site.add_argument("--root", default=".", help="project folder (default: the current one)")
    checker_cli.add_parser(sub)  # `check`: statemachines/checker_cli.py
    worker = sub.add_parser("worker", help="fire due deadlines from a PostgreSQL marketplace")
    worker.add_argument("--db", required=True, metavar="URL", help="postgresql://user@host/db")
    worker.add_argument(
        "--poll", type=float, default=1.0, help="most seconds between looks (default 1)"
    )
    worker.add_argument("--once", action="store_true", help="fire what is due now, then stop")
    worker.add_argument(
        "--listen",
        metavar="URL",
        help="where to LISTEN for due deadlines when --db goes through a transaction pool "
        "(PgBouncer): the server itself (default: --db)",
    )
    return top


def cmd_site(args: argparse.Namespace, out: Out) -> int:
    """``site``: write the site's pages and build it with ``mkdocs build --strict``."""
    from statemachines.publish import site  # noqa: PLC0415  (needs the docs extra)

    root = _checkout(Path(args.root), "site")
    if importlib.util.find_spec("mkdocs") is None:
        msg = "site needs MkDocs and its plugins: pip install 'statemachines[docs]'"
        raise UsageError(msg)
    status = site.build(root, notebooks=not args.no_notebooks)
    if status == 0:
        out.line(f"built the documentation site into {(root / site.SITE).as_posix()}/")
    return 1 if status else 0


def cmd_worker(args: argparse.Namespace, out: Out) -> int:
    """``worker``: fire due deadlines until SIGTERM or Ctrl-C (statemachines.marketplace.worker)."""
    if not str(args.db).startswith(("postgresql:", "postgres:")):
        msg = (
            f"--db {args.db}: a worker needs a PostgreSQL URL (postgresql://user@host/db); "
            "with SQLite, Marketplace.advance() fires the deadlines"
        )
        raise UsageError(msg)
    if not args.poll > 0:
        msg = f"--poll {args.poll}: give a positive number of seconds"
        raise UsageError(msg)
    try:
        from statemachines.marketplace.stores.postgres import ConnectionLost  # noqa: PLC0415
        from statemachines.marketplace.worker import Worker  # noqa: PLC0415  (needs psycopg)
    except ImportError:  # pragma: no cover  (psycopg is a test dependency)
        msg = "worker needs psycopg: pip install 'statemachines[postgres]'"
        raise UsageError(msg) from None
    try:
        worker = Worker(args.db, poll=args.poll, listen=args.listen)
    except ConnectionLost as err:
        sys.stderr.write(f"statemachines worker: {err}\n")
        return 1
    pid = os.getpid()
    out.line(f"worker {pid}: firing due deadlines (SIGTERM or Ctrl-C stops it)")
    sys.stdout.flush()
    worker.run(once=args.once)
    out.line(
        f"worker {pid}: fired {worker.fired} deadlines, parked {worker.parked}; "
        f"{worker.conflicts} lost races tried again"
    )
    worker.store.close()
    return 0


def _checkout(root: Path, command: str) -> Path:
    """*root* when it is a checkout of this project; else one clear error."""
    project = root / "pyproject.toml"
    if project.is_file() and 'name = "statemachines"' in project.read_text(encoding="utf-8"):
        return root
    where = "the current folder" if root == Path() else str(root)
    msg = (
        f"{command} writes into a checkout of statemachines, and {where} is not one "
        "(no pyproject.toml naming statemachines); run it in your clone"
        + (" or give --out FOLDER" if command == "render" else "")
    )
    raise UsageError(msg)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parser().parse_args(argv)
    out = Out(sys.stdout)
    diagrams.discover()
    commands: dict[str | None, Callable[[], int]] = {
        None: lambda: cmd_summary(out),
        "summary": lambda: cmd_summary(out),
        "render": lambda: cmd_render(args, out),
        "explain": lambda: cmd_explain(args, out),
        "run": lambda: cmd_run(args, out),
        "site": lambda: cmd_site(args, out),
        "check": lambda: int(checker_cli.run(args)),
        "worker": lambda: cmd_worker(args, out),
    }
    try:
        return commands[args.command]()
    except UsageError as err:
        sys.stdout.flush()
        sys.stderr.write(f"statemachines: error: {err}\n")
        return 2
    except BrokenPipeError:  # the reader (e.g. `| head`) stopped reading: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (silence the exit flush)
        return 0
