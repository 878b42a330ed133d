"""Command line for exploring at scale: ``python -m sim sweep | sensitivity | attribute | optimise``.

Each subcommand runs one experiment of :mod:`sim.explore` on local processes (every core by default,
``--workers K`` to limit) or on a Dask cluster (``--scheduler tcp://HOST:PORT`` or the environment
variable ``SIM_DASK_SCHEDULER``), shows a progress bar on stderr, and prints a readable table, JSON
(``--format json``) or CSV (``--format csv``); ``--out FILE`` writes the JSON or CSV to a file.

Bad input — an unknown lever (the closest setting is suggested), bad range syntax, lo ≥ hi, a range
outside the setting's allowed range, a listed value in a numeric method, an unknown KPI, a bad
constraint — exits with code 2 and one line on stderr naming the setting, the value and what is
allowed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import runner
from sim.cli import ProgressBar, UsageError, check_writable
from sim.cli import number as _num
from sim.cli import signed as _delta
from sim.executors import TaskExecutor, make_executor
from sim.explore import (
    attribute,
    optimise,
    parse_constraint,
    parse_lever,
    sensitivity,
    sweep,
)
from sim.explore.attribution import GROUPINGS
from sim.explore.evaluate import MAX_REPLICATIONS
from sim.explore.levers import check_kpi, idle_levers, idle_note
from sim.explore.sensitivity import DEFAULT_SAMPLES, METHODS
from sim.explore.stats import CONFIDENCE
from sim.outcomes import KPI_NAMES, KPIS
from sim.params import Params, parse_value, with_overrides
from sim.report.format import count, too_few_text
from sim.scenarios import Scenario, load

FORMATS = ("table", "json", "csv")


# --------------------------------------------------------------------------------------------------
# Shared plumbing
# --------------------------------------------------------------------------------------------------


def _overrides(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--set {item!r} is not allowed: use --set dotted.key=value")
        key, text = item.split("=", 1)
        key = key.strip()
        out[key] = parse_value(key, text)
    return out


def _scenario(
    target: str, args: argparse.Namespace, sets: list[str] | None
) -> tuple[Scenario, Params]:
    scenario = load(target)
    overrides = dict(scenario.overrides)
    overrides.update(_overrides(sets))
    if args.weeks is not None:
        overrides["horizon_weeks"] = args.weeks
    return scenario, with_overrides(Params(), overrides)


def _check_common(args: argparse.Namespace, least: int = 1) -> None:
    n = args.replications
    if not least <= n <= MAX_REPLICATIONS:
        raise UsageError(
            f"--replications = {n} is out of range: an integer from {least} to {MAX_REPLICATIONS}"
        )
    if not 0 <= args.seed < 2**63:
        raise UsageError(f"--seed = {args.seed} is out of range: an integer from 0 to 2^63 - 1")
    most = max(1, 4 * runner.cpu_count())
    if args.workers is not None and not 1 <= args.workers <= most:
        raise UsageError(f"--workers = {args.workers} is out of range: an integer from 1 to {most}")
    if args.out is not None:
        suffix = Path(args.out).suffix.lower()
        wanted = {"json": ".json", "csv": ".csv"}.get(args.format)
        if wanted is None and suffix not in (".json", ".csv"):
            raise UsageError(
                f"--out = {args.out!r} is not allowed: a file name ending in .json or .csv (or "
                f"give --format json|csv)"
            )
        check_writable("--out", args.out)


def _kpis(args: argparse.Namespace) -> list[str] | None:
    return [check_kpi(k) for k in args.kpi] if args.kpi else None


def _levers(args: argparse.Namespace, params: Params, start: str) -> list:
    """The ``--lever`` options, parsed; a lever that cannot act from ``start`` gets a note."""
    levers = [parse_lever(text) for text in args.lever]
    if note := idle_note(idle_levers(params, levers), start):
        print(f"note: {note}", file=sys.stderr)
    return levers


def _executor(args: argparse.Namespace) -> TaskExecutor:
    return make_executor(workers=args.workers, scheduler=args.scheduler)


def _progress(args: argparse.Namespace, label: str) -> ProgressBar | None:
    return None if args.quiet else ProgressBar(label)


def jsonable(obj: Any) -> Any:
    """Plain JSON types: NumPy scalars unwrapped, NaN and infinity as null."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _emit(args: argparse.Namespace, payload: dict, table: pd.DataFrame, show: Callable[[], None]):
    fmt = args.format
    if fmt == "table" and args.out:
        fmt = "json" if Path(args.out).suffix.lower() == ".json" else "csv"
    text = None
    if fmt == "json":
        text = json.dumps(jsonable(payload), indent=2, allow_nan=False) + "\n"
    elif fmt == "csv":
        text = table.to_csv(index=False)
    if args.out:
        Path(args.out).write_text(text or "", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
        if args.format == "table":
            show()
    elif text is not None:
        sys.stdout.write(text)
    else:
        show()
    return 0


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


def cmd_sweep(args: argparse.Namespace) -> int:
    _check_common(args)
    scenario, params = _scenario(args.target, args, args.set)
    levers = _levers(args, params, scenario.name)
    kpis = _kpis(args)
    with _executor(args) as executor:
        result = sweep(
            params,
            levers,
            replications=args.replications,
            seed=args.seed,
            kpis=kpis,
            scenario=scenario.name,
            executor=executor,
            progress=_progress(args, "sweep"),
        )

    def show() -> None:
        m = result.manifest
        print(
            f"sweep of {scenario.name}: {m['points']} points x {count(m['replications'], 'replication')}, "
            f"seed {m['seed']}, {m['horizon_weeks']} weeks ({CONFIDENCE:.0%} intervals of the mean)"
        )
        keys = [lv.key for lv in result.levers]
        df = result.table()
        for kpi in result.kpis:
            unit = KPIS[kpi].unit if kpi in KPIS else ""
            print(f"\n{kpi}")
            sub = df[df.kpi == kpi]
            for row in sub.to_dict("records"):
                where = "  ".join(f"{k.rsplit('.', 1)[-1]}={_value(row[k])}" for k in keys)
                print(
                    f"  {where:<40}{_num(row['mean'], unit):>12}   "
                    f"[{_num(row['ci_lo'], unit)}, {_num(row['ci_hi'], unit)}]"
                )
            ext = result.extremes(kpi)
            if ext is not None and ext["n"]:
                share = ext["share_higher"]
                print(
                    f"  highest - lowest, paired over {count(ext['n'], 'replication')}: "
                    f"{_delta(ext['mean'], unit)} [{_delta(ext['ci_lo'], unit)}, "
                    f"{_delta(ext['ci_hi'], unit)}]"
                    + (f", higher in {share:.0%} of them" if share is not None else "")
                )
        for kpi, why in result.null_reasons().items():
            print(f"  {kpi} is null: {why}")

    return _emit(args, result.to_dict(), result.table(), show)


def cmd_sensitivity(args: argparse.Namespace) -> int:
    _check_common(args)
    if args.method not in METHODS:
        raise UsageError(f"--method = {args.method!r} is not a method: one of {', '.join(METHODS)}")
    scenario, params = _scenario(args.target, args, args.set)
    levers = _levers(args, params, scenario.name)
    kpis = _kpis(args)
    with _executor(args) as executor:
        result = sensitivity(
            params,
            levers,
            method=args.method,
            kpis=kpis,
            samples=args.samples,
            replications=args.replications,
            seed=args.seed,
            levels=args.levels,
            scenario=scenario.name,
            executor=executor,
            progress=_progress(args, args.method),
        )

    def show() -> None:
        m = result.manifest
        print(
            f"{result.method} on {scenario.name}: {m['evaluations']} design points x "
            f"{count(m['replications'], 'replication')}, seed {m['seed']}; levers ranked by "
            f"{result.importance_name} ({CONFIDENCE:.0%} bootstrap intervals)"
        )
        for kpi in result.kpis:
            print(f"\n{kpi}")
            if result.indices.get(kpi) is None:
                print(f"  left out: {result.reasons.get(kpi, 'undefined')}")
                continue
            for row in result.ranked(kpi).to_dict("records"):
                extra = (
                    f"S1 {row['S1']:.3f} ± {row['S1_conf']:.3f}"
                    if result.method == "sobol"
                    else f"mu {row['mu']:.3g}, sigma {row['sigma']:.3g}"
                )
                print(
                    f"  {row['rank']:>2}. {row['lever']:<44}{row['importance']:>10.3g} ± "
                    f"{row['importance_conf']:<10.3g} {extra}"
                )

    return _emit(args, result.to_dict(), result.table(), show)


def cmd_attribute(args: argparse.Namespace) -> int:
    _check_common(args)
    base_scenario, base = _scenario(args.baseline, args, None)
    if args.variant is None and not args.set:
        raise UsageError("attribute needs a VARIANT scenario or --set changes to the baseline")
    _, variant = _scenario(args.variant or args.baseline, args, args.set)
    kpis = _kpis(args)
    with _executor(args) as executor:
        result = attribute(
            base,
            variant,
            replications=args.replications,
            seed=args.seed,
            kpis=kpis,
            by=args.by,
            scenario=base_scenario.name,
            executor=executor,
            progress=_progress(args, "attribute"),
        )
    variant_name = args.variant or f"{base_scenario.name} with --set changes"
    result.manifest["variant"] = variant_name

    def show() -> None:
        print(
            f"{variant_name} vs {base_scenario.name}: {len(result.players)} levers, "
            f"{result.manifest['scenarios_run']} scenarios x "
            f"{count(result.replications, 'paired replication')}, seed {result.seed}"
        )
        df = result.table()
        for kpi in result.kpis:
            unit = KPIS[kpi].unit if kpi in KPIS else ""
            sub = df[df.kpi == kpi]
            total = sub[sub.lever == "total"].iloc[0]
            print(
                f"\n{kpi}: {_num(total['baseline'], unit)} -> {_num(total['variant'], unit)} "
                f"(difference {_delta(total['contribution'], unit)})"
            )
            print(f"  {result.explain(kpi)}")
            for row in sub[sub.lever != "total"].to_dict("records"):
                print(
                    f"    {row['label']:<40}{_delta(row['contribution'], unit):>12}   "
                    f"[{_delta(row['ci_lo'], unit)}, {_delta(row['ci_hi'], unit)}]"
                )

    return _emit(args, result.to_dict(), result.table(), show)


def cmd_optimise(args: argparse.Namespace) -> int:
    _check_common(args, least=2)
    scenario, params = _scenario(args.target, args, args.set)
    levers = _levers(args, params, scenario.name)
    kpi = check_kpi(args.kpi)
    constraints = [parse_constraint(text) for text in args.constraint or []]
    maximise = True if args.maximise else (False if args.minimise else None)
    with _executor(args) as executor:
        result = optimise(
            params,
            levers,
            kpi,
            maximise=maximise,
            constraints=constraints,
            candidates=args.candidates,
            search=args.search,
            replications=args.replications,
            eta=args.eta,
            seed=args.seed,
            scenario=scenario.name,
            executor=executor,
            progress=_progress(args, "optimise"),
        )

    def show() -> None:
        d = jsonable(result.to_dict())
        unit = KPIS[kpi].unit if kpi in KPIS else ""
        rounds = ", ".join(f"{r['candidates']} x {r['replications']}" for r in d["rounds"])
        print(
            f"optimise {d['direction']} {kpi} on {scenario.name}: {len(result.candidates)} "
            f"{result.search} candidates, successive halving ({rounds} replications), seed "
            f"{result.seed}"
        )
        if d["constraints"]:
            print("constraints: " + ", ".join(c.text for c in result.constraints))
        base = d["baseline"]["objective"]
        print(
            f"baseline: {_num(base['mean'], unit)} [{_num(base['ci_lo'], unit)}, "
            f"{_num(base['ci_hi'], unit)}]"
        )
        w = d["winner"]
        if w is None:
            print("no candidate met the constraints; closest finalist:")
            w = d["finalists"][0]
        else:
            print("best:")
        for key, value in w["settings"].items():
            print(f"  {key} = {_value(value)}")
        o = w["objective"]
        vb = w["vs_baseline"]
        print(
            f"  {kpi}: {_num(o['mean'], unit)} [{_num(o['ci_lo'], unit)}, "
            f"{_num(o['ci_hi'], unit)}]; vs baseline {_delta(vb['mean'], unit)} "
            f"[{_delta(vb['ci_lo'], unit)}, {_delta(vb['ci_hi'], unit)}], {_odds(vb)}"
        )
        ru = w.get("vs_runner_up")
        if ru:
            print(
                f"  vs runner-up: {_delta(ru['mean'], unit)} [{_delta(ru['ci_lo'], unit)}, "
                f"{_delta(ru['ci_hi'], unit)}], {_odds(ru)}"
            )
        for con in w["constraints"]:
            status = "met" if con["holds"] else "NOT met"
            print(
                f"  {con['kpi']} {con['op']} {con['bound']:g}: mean {_num(con['mean'])} ({status})"
            )

    return _emit(args, result.to_dict(), result.table(), show)


# --------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------


def _flags(p: argparse.ArgumentParser, replications: int, sets_help: str) -> None:
    p.add_argument(
        "--replications",
        "-n",
        type=int,
        default=replications,
        help=f"replications per scenario (default {replications})",
    )
    p.add_argument("--seed", type=int, default=1, help="seed shared by every scenario (default 1)")
    p.add_argument("--weeks", type=int, default=None, help="horizon in weeks (13-260)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help=sets_help)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="local processes (default: every core; 1 runs in this process)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="run on this Dask scheduler (default: $SIM_DASK_SCHEDULER, else local)",
    )
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--out", default=None, help="write the JSON or CSV to FILE")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


_LEVER_HELP = (
    "KEY=lo:hi[:points] or KEY=v1,v2,... e.g. reviews.council.interval_weeks=1:8:5 or "
    "incentives.product=shared_outcome,local_metric (repeatable)"
)
_KPI_HELP = "KPI to report (repeatable; default all): " + ", ".join(KPI_NAMES)


def add_commands(sub: Any) -> None:
    """Register the explore subcommands on the main parser's subparsers."""
    p = sub.add_parser("sweep", help="one or two levers over a grid, on common random numbers")
    p.add_argument("target", metavar="PRESET|PATH")
    p.add_argument("--lever", action="append", required=True, help=_LEVER_HELP)
    p.add_argument("--kpi", action="append", help=_KPI_HELP)
    _flags(p, 20, "override a base setting (repeatable)")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("sensitivity", help="Morris screening or Sobol indices (SALib)")
    p.add_argument("target", metavar="PRESET|PATH")
    p.add_argument("--method", default="morris", help="morris (default) or sobol")
    p.add_argument(
        "--lever",
        action="append",
        required=True,
        help="KEY=lo:hi, a numeric setting and its range (repeatable)",
    )
    p.add_argument("--kpi", action="append", help=_KPI_HELP)
    p.add_argument(
        "--samples",
        type=int,
        default=None,
        help=f"Morris trajectories (default {DEFAULT_SAMPLES['morris']}) or Sobol base "
        f"samples N, a power of two (default {DEFAULT_SAMPLES['sobol']})",
    )
    p.add_argument("--levels", type=int, default=4, help="Morris grid levels (even, default 4)")
    _flags(p, 4, "override a base setting (repeatable)")
    p.set_defaults(func=cmd_sensitivity)

    p = sub.add_parser("attribute", help="split each KPI difference among the levers that changed")
    p.add_argument("baseline", metavar="BASELINE")
    p.add_argument("variant", metavar="VARIANT", nargs="?", default=None)
    p.add_argument("--kpi", action="append", help=_KPI_HELP)
    p.add_argument(
        "--by",
        choices=GROUPINGS,
        default="setting",
        help="one lever per changed setting (default) or per section (group)",
    )
    _flags(p, 20, "change a setting of the variant (repeatable)")
    p.set_defaults(func=cmd_attribute)

    p = sub.add_parser("optimise", help="best lever settings for a KPI under constraints")
    p.add_argument("target", metavar="PRESET|PATH")
    p.add_argument("--lever", action="append", required=True, help=_LEVER_HELP)
    p.add_argument("--kpi", required=True, help="the KPI to optimise")
    direction = p.add_mutually_exclusive_group()
    direction.add_argument("--maximise", action="store_true", help="maximise the KPI")
    direction.add_argument("--minimise", action="store_true", help="minimise the KPI")
    p.add_argument(
        "--constraint",
        action="append",
        metavar="KPI<=X",
        help="a bound on a KPI's mean, e.g. 'meeting_overhead_share<=0.1' (repeatable)",
    )
    p.add_argument("--candidates", type=int, default=27, help="candidates to draw (default 27)")
    p.add_argument(
        "--search",
        choices=("random", "grid"),
        default="random",
        help="random (Latin hypercube, default) or grid candidates",
    )
    p.add_argument("--eta", type=int, default=3, help="keep 1/eta each round (default 3)")
    _flags(p, 27, "override a base setting (repeatable)")
    p.set_defaults(func=cmd_optimise)


def _odds(diff: dict) -> str:
    """How often a finalist did better over its paired replications, or that they are too few
    to say (as ``compare`` gives no odds from fewer than ``MIN_PAIRS`` pairs)."""
    if few := too_few_text(diff.get("n")):
        return few
    if diff.get("p_better") is None:
        return "no paired replications"
    return f"better in {diff['p_better']:.0%} of paired replications"
