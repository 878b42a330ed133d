"""Command line: ``python -m sim list | show | params | run | compare | bench``.

Bad input (unknown key or preset, a value out of range or of the wrong type, a bad file) ends with exit
code 2 and one line on stderr naming the setting, the value and what is allowed — never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from sim import runner
from sim.outcomes import KPIS
from sim.params import ParamError, Params, parse_value, settings, with_overrides
from sim.report.format import count, from_count, from_some, too_few_pairs, too_few_values
from sim.scenarios import Scenario, ScenarioError, load, load_preset, preset_names

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad command-line input; the message is the one line the user sees."""


def check_writable(flag: str, out: str) -> None:
    """Refuse, before anything runs, an output file that could not be written afterwards."""
    path = Path(out)
    folder = path.parent
    if path.is_dir():
        raise UsageError(f"{flag} = {out!r} cannot be written: it is a folder, not a file")
    if not folder.is_dir():
        raise UsageError(
            f"{flag} = {out!r} cannot be written: the folder {str(folder)!r} does not exist"
        )
    target = path if path.exists() else folder
    if not os.access(target, os.W_OK):
        what = "the file" if target is path else f"the folder {str(folder)!r}"
        raise UsageError(f"{flag} = {out!r} cannot be written: {what} is not writable")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(message)


# --------------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------------


class ProgressBar:
    """A progress bar on stderr, shown only once a run has taken more than a moment."""

    def __init__(self, label: str, stream: TextIO | None = None, delay_s: float = 0.4) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.delay_s = delay_s
        self.start = time.perf_counter()
        self.shown = False
        self.last_step = -1
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def __call__(self, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.start
        if elapsed < self.delay_s and done < total:
            return
        if not self.shown and done >= total and elapsed < self.delay_s:
            return
        self.shown = True
        frac = done / total if total else 1.0
        step = int(frac * 10)
        if not self.tty and step == self.last_step and done < total:
            return  # in a log, one line per tenth is enough
        self.last_step = step
        width = 30
        bar = "#" * int(frac * width) + "-" * (width - int(frac * width))
        rate = done / elapsed if elapsed > 0 else 0.0
        line = f"{self.label} [{bar}] {done}/{total} replications ({rate:.0f}/s)"
        if self.tty:
            self.stream.write("\r" + line + ("\n" if done >= total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


def _scenario_params(target: str, scenario: Scenario, args: argparse.Namespace) -> Params:
    """The parameters of ``target``'s scenario (as :func:`_run_settings` loaded it) with ``--set``
    and ``--weeks`` applied."""
    overrides = dict(scenario.overrides)
    for item in args.set or []:
        if "=" not in item:
            raise UsageError(f"--set {item!r} is not allowed: use --set dotted.key=value")
        key, text = item.split("=", 1)
        key = key.strip()
        overrides[key] = parse_value(key, text)
    if args.weeks is None:
        return with_overrides(Params(), overrides)
    try:  # the settings and the horizon together: --set may need the new horizon
        return with_overrides(Params(), {**overrides, "horizon_weeks": args.weeks})
    except ParamError as err:
        if err.key == "horizon_weeks":
            raise
        try:
            with_overrides(Params(), overrides)
        except ParamError:
            raise err from None  # wrong at either horizon: the setting itself is the problem
        raise UsageError(f"--weeks {args.weeks} does not fit scenario {target!r}: {err}") from None


DEFAULT_SEED = 1
DEFAULT_REPS = 100


def _run_settings(args: argparse.Namespace, *targets: str) -> dict[str, Scenario]:
    """Load the scenarios and fill in the seed and replications not given as options: from the
    files' [run] tables (they must agree), else the defaults. Returns the scenarios by target."""
    scenarios = [(target, load(target)) for target in targets]
    for attr, option, default in (
        ("seed", "--seed", DEFAULT_SEED),
        ("replications", "--replications", DEFAULT_REPS),
    ):
        if getattr(args, attr) is not None:
            continue
        given = {t: getattr(s, attr) for t, s in scenarios if getattr(s, attr) is not None}
        if len(set(given.values())) > 1:
            says = " and ".join(f"{t} says {attr} = {v}" for t, v in given.items())
            raise UsageError(f"the scenario files' [run] tables differ ({says}): give {option}")
        setattr(args, attr, next(iter(given.values()), default))
    return dict(scenarios)


def _check_run_args(args: argparse.Namespace) -> None:
    if not 1 <= args.replications <= runner.MAX_REPLICATIONS:
        raise UsageError(
            f"--replications = {args.replications} is out of range: an integer from 1 to "
            f"{runner.MAX_REPLICATIONS}"
        )
    if args.seed < 0 or args.seed >= 2**63:
        raise UsageError(f"--seed = {args.seed} is out of range: an integer from 0 to 2^63 - 1")
    max_workers = max(1, 4 * runner.cpu_count())
    if not 1 <= args.workers <= max_workers:
        raise UsageError(
            f"--workers = {args.workers} is out of range: an integer from 1 to {max_workers}"
        )
    if args.out is not None and Path(args.out).suffix.lower() not in (".csv", ".parquet"):
        raise UsageError(
            f"--out = {args.out!r} is not allowed: a file name ending in .csv or .parquet"
        )
    if args.out is not None:
        check_writable("--out", args.out)


def _run(target: str, scenario: Scenario, args: argparse.Namespace, label: str) -> runner.Results:
    params = _scenario_params(target, scenario, args)
    bar = None if args.quiet else ProgressBar(label)
    return runner.run_many(
        params,
        replications=args.replications,
        seed=args.seed,
        workers=args.workers,
        scenario=scenario.name,
        progress=bar,
    )


def _json_number(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else x


def _kpi_payload(results: runner.Results) -> dict[str, Any]:
    summary = results.kpi_summary()
    out = {}
    for name, stats in summary.items():
        # ``of`` is the run's replications, given once at the top.
        out[name] = {k: _json_number(v) for k, v in stats.items() if k != "of"}
    return out


def _null_reasons(results: runner.Results) -> dict[str, str]:
    from sim.outcomes import NULL_REASONS

    return {
        name: NULL_REASONS.get(name, "not defined for this run")
        for name, stats in results.kpi_summary().items()
        if stats["mean"] is None
    }


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "share":
        return f"{value:.1%}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.2f}"


_NOISE = 1e-12  # smaller than any KPI's resolution: what floating-point sums leave of a zero


def number(x: Any, unit: str = "", sign: bool = False) -> str:
    """A number for a table: shares in percent; with ``sign``, a signed difference, shares in
    percentage points ("+0.7 pp": a terminal's table, where the app's tiles say "+0.7 points")."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if abs(x) < _NOISE:  # a sum's rounding error (-8.88e-16), not a number to print
        x = 0.0
    plus = "+" if sign else ""
    if sign and x == 0:
        return "±0.0 pp" if unit == "share" else "±0"
    if unit == "share":
        return f"{x * 100:+.1f} pp" if sign else f"{x:.1%}"
    # About three significant digits, without exponents: "+316", "+31.6", "+3.16", "-0.0123".
    if abs(x) >= 100:
        return f"{x:{plus},.0f}"
    if abs(x) >= 10:
        return f"{x:{plus}.1f}"
    return f"{x:{plus}.3g}" if abs(x) < 1 else f"{x:{plus}.2f}"


def signed(x: Any, unit: str = "") -> str:
    """A signed difference: :func:`number` with its sign."""
    return number(x, unit, sign=True)


def _kpi_path(out: str) -> Path:
    """The per-replication KPI file ``run --out FILE`` writes beside FILE."""
    path = Path(out)
    return path.with_name(f"{path.stem}_kpis{path.suffix}")


def _write_out(results: runner.Results, out: str) -> None:
    path = Path(out)
    weekly = results.weekly()
    kpis = results.kpis()
    kpi_path = _kpi_path(out)
    if path.suffix.lower() == ".parquet":
        weekly.to_parquet(path, index=False)
        kpis.to_parquet(kpi_path, index=False)
    else:
        weekly.to_csv(path, index=False)
        kpis.to_csv(kpi_path, index=False)
    print(f"wrote {path} and {kpi_path}", file=sys.stderr)


def cmd_list(args: argparse.Namespace) -> int:
    for name in preset_names():
        s = load_preset(name)
        print(f"{name}\t{s.title}: {s.description}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    s = load(args.preset)
    print(f"{s.name}: {s.title}")
    print()
    print(s.description)
    if s.teaching_notes:
        print()
        print(s.teaching_notes.strip())
    print()
    print("Settings that differ from the defaults:" if s.overrides else "Uses the defaults.")
    for key, value in s.overrides.items():
        print(f"  {key} = {json.dumps(value)}")
    return 0


def parameter_table() -> str:
    """Every setting as a Markdown table (embedded in docs/MODEL.md; a test keeps them in sync)."""
    lines = [
        "| Key | Type | Default | Allowed | Unit | Meaning | Source or rationale |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in settings():
        default = json.dumps(s.default)
        lines.append(
            f"| `{s.key}` | {s.type} | `{default}` | {s.allowed} | {s.unit} | {s.doc} | {s.source} |"
        )
    return "\n".join(lines)


def cmd_params(args: argparse.Namespace) -> int:
    rows = settings()
    if args.format == "markdown":
        print(parameter_table())
        return 0
    if args.format == "json":
        print(
            json.dumps(
                [
                    {
                        "key": s.key,
                        "type": s.type,
                        "default": s.default,
                        "min": s.lo,
                        "max": s.hi,
                        "choices": list(s.choices) if s.choices else None,
                        "unit": s.unit,
                        "description": s.doc,
                    }
                    for s in rows
                ],
                indent=2,
            )
        )
        return 0
    for s in rows:
        rng = s.allowed
        unit = f" {s.unit}" if s.unit else ""
        print(f"{s.key}  ({s.type}, default {json.dumps(s.default)}, {rng}{unit})\n    {s.doc}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    scenarios = _run_settings(args, args.target)
    _check_run_args(args)
    if args.out:
        kpi_path = str(_kpi_path(args.out))
        try:
            check_writable("--out", kpi_path)
        except UsageError as err:
            raise UsageError(f"{err} (the per-replication KPIs that --out also writes)") from None
    results = _run(args.target, scenarios[args.target], args, "run")
    if args.out:
        _write_out(results, args.out)
    if args.format == "json":
        payload = {
            "scenario": results.scenario,
            "seed": results.seed,
            "replications": results.replications,
            "manifest": results.manifest,
            "kpis": _kpi_payload(results),
        }
        reasons = _null_reasons(results)
        if reasons:
            payload["null_reasons"] = reasons
        print(json.dumps(payload, indent=2))
        return 0
    m = results.manifest
    print(
        f"{m['scenario']}: {count(m['replications'], 'replication')}, seed {m['seed']}, "
        f"{m['horizon_weeks']} weeks, model {m['model_version']}"
    )
    print(f"{'KPI':<24}{'mean':>12}{'p05':>12}{'p50':>12}{'p95':>12}  unit")
    for name, stats in results.kpi_summary().items():
        unit = KPIS[name].unit
        cells = "".join(f"{_fmt(stats[k], unit):>12}" for k in ("mean", "p05", "p50", "p95"))
        some = from_count(stats["n"], stats["of"])
        if some and too_few_values(stats):
            some += ": too few for a mean to stand as the run's number"
        print(f"{name:<24}{cells}  {unit}" + (f" ({some})" if some else ""))
    for name, why in _null_reasons(results).items():
        print(f"  {name} is null: {why}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    scenarios = _run_settings(args, args.baseline, args.variant)
    _check_run_args(args)
    sets, args.set = args.set, None  # --set changes the variant (B) only, as in brief
    base = _run(args.baseline, scenarios[args.baseline], args, "baseline")
    args.set = sets
    variant = _run(args.variant, scenarios[args.variant], args, "variant")
    table = runner.compare(base, variant).kpis()
    if args.out:
        path = Path(args.out)
        if path.suffix.lower() == ".parquet":
            table.to_parquet(path, index=False)
        else:
            table.to_csv(path, index=False)
    if args.format == "json":
        print(
            json.dumps(
                {
                    "baseline": base.manifest,
                    "variant": variant.manifest,
                    "kpis": {
                        row["kpi"]: {
                            k: _json_number(row[k])
                            for k in (
                                "baseline",
                                "variant",
                                "diff_mean",
                                "diff_p05",
                                "diff_p95",
                                "p_better",
                                "pairs",
                                "ties",
                            )
                        }
                        for row in table.to_dict("records")
                    },
                },
                indent=2,
            )
        )
        return 0
    changed = f", with {len(sets)} --set on the variant" if sets else ""
    print(
        f"baseline {args.baseline}, variant {args.variant}{changed}: "
        f"{count(base.replications, 'paired replication')}, seed {base.seed}"
    )
    print(
        f"{'KPI':<24}{'baseline':>12}{'variant':>12}{'diff':>12}{'90% interval':>24}"
        f"{'P(better)':>11}"
    )
    for row in table.to_dict("records"):
        unit = row["unit"]
        b, v, d = (_json_number(row[k]) for k in ("baseline", "variant", "diff_mean"))
        lo, hi = _json_number(row["diff_p05"]), _json_number(row["diff_p95"])
        few = too_few_pairs(row)
        interval = (
            f"{signed(lo, unit)} to {signed(hi, unit)}" if lo is not None and not few else "—"
        )
        if not math.isfinite(row["p_better"]) or few:
            pb = "—"
        elif row["ties"] == row["pairs"]:
            pb = "same"  # the same in every pair
        else:
            pb = f"{row['p_better']:.0%}"
        print(
            f"{row['kpi']:<24}{_fmt(b, unit):>12}{_fmt(v, unit):>12}{signed(d, unit):>12}"
            f"{interval:>24}{pb:>11}{from_some(row)}" + (f" ({few})" if few else "")
        )
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    from sim.report.brief import command_line, render
    from sim.report.links import app_link, beyond_app, run_query

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"--out = {args.out!r} is not allowed: a file name ending in .html")
    check_writable("--out", args.out)
    args.out = None  # checked above; the shared checks expect a data file or nothing
    scenarios = _run_settings(args, args.baseline, args.variant)
    _check_run_args(args)
    if not args.app_url.startswith(("http://", "https://")):
        raise UsageError(f"--app-url = {args.app_url!r} is not allowed: an http(s) address")
    sets, args.set = args.set, None
    base_scenario, var_scenario = scenarios[args.baseline], scenarios[args.variant]
    base_params = _scenario_params(args.baseline, base_scenario, args)
    args.set = sets  # --set changes the proposal only
    var_params = _scenario_params(args.variant, var_scenario, args)
    kw = {"replications": args.replications, "seed": args.seed, "workers": args.workers}
    base = runner.run_many(
        base_params,
        scenario=base_scenario.name,
        progress=None if args.quiet else ProgressBar("baseline"),
        **kw,
    )
    variant = runner.run_many(
        var_params,
        scenario=var_scenario.name,
        progress=None if args.quiet else ProgressBar("proposal"),
        **kw,
    )
    presets = set(preset_names())

    def preset(name: str) -> str | None:
        return name if name in presets else None

    from sim.executors import PoolExecutor, SerialExecutor
    from sim.explore import why
    from sim.narrative import why_kpi, why_line

    # The same sentence as the app's brief: the first headline KPI that clearly changed, split
    # to the whole run's difference, with a word of caution when that change is not clear.
    table = runner.compare(base, variant).kpis()
    kpi = why_kpi(base.weeks, table)
    row = table.set_index("kpi").loc[kpi]
    executor = (
        PoolExecutor(pool=runner.shared_pool(args.workers))
        if args.workers > 1
        else SerialExecutor()
    )
    explanation = why(
        base_params,
        var_params,
        kpi,
        replications=args.replications,
        seed=args.seed,
        total=float(row["diff_mean"]),
        executor=executor,
        progress=None if args.quiet else ProgressBar("explaining"),
    )
    query = run_query(
        preset(args.variant),
        var_params,
        args.seed,
        args.replications,
        baseline=(preset(args.baseline), base_params),
    )
    extra = [f"--set {item}" for item in sets or []]
    page = render(
        base,
        variant,
        base_title=base_scenario.title,
        variant_title=var_scenario.title + (" (modified)" if sets else ""),
        link=None if beyond_app(args.seed, args.replications) else app_link(args.app_url, query),
        no_link=beyond_app(args.seed, args.replications),
        command=command_line(
            args.baseline, args.variant, args.seed, args.replications, base.weeks, extra
        ),
        why=why_line(explanation.text, row) if explanation.text else None,
        why_note=explanation.note(args.replications),
    )
    out.write_text(page, encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from sim import bench

    progress = None if args.quiet else sys.stderr
    if args.explore:
        result = bench.run_explore(quick=args.quick, progress=progress)
    else:
        result = bench.run(quick=args.quick, progress=progress)
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:<28}{value}")
    return 0


# --------------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------------


def _run_flags(
    p: argparse.ArgumentParser,
    out_help: str = "write results to FILE.csv or FILE.parquet",
    set_help: str = "override a setting",
) -> None:
    p.add_argument(
        "--replications",
        "-n",
        type=int,
        default=None,
        help=f"replications (1-10000; default: the scenario file's [run], else {DEFAULT_REPS})",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"seed of the run (default: the scenario file's [run], else {DEFAULT_SEED})",
    )
    p.add_argument("--weeks", type=int, default=None, help="horizon in weeks (13-260)")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help=f"{set_help}, e.g. --set reviews.council.interval_weeks=2",
    )
    p.add_argument("--workers", type=int, default=1, help="processes to use (default 1)")
    p.add_argument("--out", default=None, help=out_help)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sim", description="Product Leadership Sandbox simulations.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the presets, one a line").set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="describe a preset")
    show.add_argument("preset")
    show.set_defaults(func=cmd_show)
    params = sub.add_parser("params", help="every settable key with type, default, range, unit")
    params.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    params.set_defaults(func=cmd_params)
    run = sub.add_parser("run", help="run a preset or scenario file")
    run.add_argument("target", metavar="PRESET|PATH")
    _run_flags(run)
    run.set_defaults(func=cmd_run)
    comp = sub.add_parser("compare", help="paired comparison of two scenarios")
    comp.add_argument("baseline", metavar="A")
    comp.add_argument("variant", metavar="B")
    _run_flags(comp, set_help="override a setting of B only")
    comp.set_defaults(func=cmd_compare)
    brief = sub.add_parser("brief", help="a decision brief (self-contained HTML): A vs B")
    brief.add_argument("baseline", metavar="A")
    brief.add_argument("variant", metavar="B")
    _run_flags(
        brief,
        out_help="the brief's file, ending in .html (default brief.html)",
        set_help="override a setting of B (the proposal) only",
    )
    brief.set_defaults(out="brief.html")
    brief.add_argument(
        "--app-url",
        default="http://localhost:8501",
        help="the app's address, for the link that restores the run",
    )
    brief.set_defaults(func=cmd_brief)
    bench = sub.add_parser("bench", help="measure the simulator's speed")
    bench.add_argument("--format", choices=("table", "json"), default="table")
    bench.add_argument("--quick", action="store_true", help="fewer repeats (noisier)")
    bench.add_argument("--quiet", action="store_true")
    bench.add_argument(
        "--explore", action="store_true", help="experiments: local pool vs Dask, peak memory"
    )
    bench.set_defaults(func=cmd_bench)
    from sim.cli_explore import add_commands

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (UsageError, ParamError, ScenarioError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into a program that stopped reading (e.g. head)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:
        print(f"error: {err.strerror or err}: {err.filename or ''}".rstrip(": "), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
