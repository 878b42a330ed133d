"""The Explore page's experiments: requests checked by the engine, cached runs, progress and Stop.

A request is the plain data of one experiment — its tool, base scenario (as non-default settings),
levers as text (``key=lo:hi`` or ``key=v1,v2``), replications, seed — held as a canonical JSON string.
That string, the tool and the model version are the cache key of the results; nothing else is kept,
and ``session_state`` only ever holds the string.

Before anything runs, a request is checked by the engine itself: the experiment is started with its
cancel token already set, so :mod:`sim.explore` runs every check it would run for real (levers,
ranges, grid points, KPIs, constraints, sizes) and then stops before the first simulation.

A run updates a progress bar from the engine's ``progress(done, total)`` callback, which the engine
calls in the script's thread. A click anywhere on the page during a run (the Stop button, say) makes
Streamlit raise a control-flow exception at the next update of that bar; the callback catches it,
sets the run's cancel token — the engine then cancels the tasks not yet started and raises
:class:`~sim.executors.Cancelled` — and the exception is raised again, so Streamlit reruns the page.

Work runs on the app's one process pool, in this process when it is small, or on a Dask cluster when
``SIM_DASK_SCHEDULER`` names one.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import json
import math
import os
import re
import threading
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pandas as pd
import streamlit as st

import sim.explore as engine
from app import compute
from app.controls import LEVERS as APP_LEVERS
from app.explore_links import LINKED, TOOLS
from sim.executors import (
    SCHEDULER_ENV,
    Cancelled,
    DaskExecutor,
    PoolExecutor,
    SerialExecutor,
    TaskExecutor,
    make_executor,
)
from sim.explore.attribution import players_from
from sim.explore.levers import (
    ExploreError,
    Lever,
    check_lever,
    idle_levers,
    idle_note,
    parse_constraint,
    parse_lever,
)
from sim.explore.optimise import candidates_for, schedule, simulations
from sim.narrative import join_and
from sim.outcomes import KPIS
from sim.params import (
    ParamError,
    Params,
    check_key,
    default_params,
    diff,
    info,
    parse_value,
    settings,
    suggest,
)
from sim.params import with_overrides as apply_overrides
from sim.report.explore_charts import lever_title, value_text
from sim.report.format import true_minus
from sim.runner import MODEL_VERSION
from sim.scenarios import load_preset, preset_names

TOOL_NAMES = {
    "sweep": "Sweep",
    "sensitivity": "Sensitivity",
    "attribution": "Attribution",
    "optimisation": "Optimisation",
}
SANDBOX = "sandbox"
PINNED = "sandbox-baseline"  # the baseline pinned in the Sandbox
# Options for settings that are not a preset's, and where they came from.
OWN_OPTIONS = {
    SANDBOX: "Sandbox settings",
    PINNED: "Sandbox's pinned baseline",
    LINKED["base"]: "From the link",
    LINKED["variant"]: "Variant from the link",
}
MAX_APP_SIMULATIONS = 20_000
SERIAL_BELOW = 24  # simulations: smaller runs stay in this process (starting pool work costs more)
CACHE_ENTRIES = 32
CACHE_TTL_SECONDS = 3600

RUNNING = "ex.running"  # the run in progress: {"tool", "spec", "done", "total"} (plain values)

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------------
# Settings offered as levers
# --------------------------------------------------------------------------------------------------

_APP_LABELS = {lv.key: lv.label for lv in APP_LEVERS}


def lever_keys(numeric_only: bool = False) -> list[str]:
    """Settings to offer as levers: the Sandbox's levers first, then every other setting."""
    every = [s for s in settings() if not numeric_only or s.type in ("int", "float")]
    known = [s.key for s in every if s.key in _APP_LABELS]
    known.sort(key=list(_APP_LABELS).index)
    return known + [s.key for s in every if s.key not in _APP_LABELS]


@functools.cache
def _lever_names() -> dict[str, str]:
    """Every lever's names (case-folded) → its setting key: as the picker shows it ("Product
    council every (weeks)"), as the charts and tables title it ("Council interval (weeks)"), and
    each without its unit. A name two settings share is left out."""
    names: dict[str, str | None] = {}
    for key in lever_keys():
        for name in (lever_name(key).split(" · ")[0], lever_title(key)):
            for form in {name, re.sub(r" \([^()]*\)$", "", name)}:
                folded = form.casefold()
                names[folded] = key if names.get(folded, key) == key else None
    return {name: key for name, key in names.items() if key is not None}


def typed(text: str | None) -> str:
    """Text typed or pasted into a box, without invisible format characters: the word joiner the
    page writes inside "<=" (so that it is not drawn as an arrow) comes along when an example is
    copied from an error or a help text."""
    return "".join(c for c in text or "" if unicodedata.category(c) != "Cf")


def resolve_lever(text: str) -> str:
    """The setting a lever picker's entry names: a key, or a lever's name as shown (in any case,
    whole, its unique beginning, or a word of three letters or more found in one name only);
    anything else is returned as typed, for the check to report."""
    text = typed(text).strip()
    if not text or text in lever_keys():
        return text
    names = _lever_names()
    folded = text.casefold().removeprefix("the ")  # "the metric review interval (weeks)"
    if folded in names:
        return names[folded]
    if len(folded) < 3:  # a letter or two could begin almost anything
        return text
    starting = list(dict.fromkeys(key for name, key in names.items() if name.startswith(folded)))
    if len(starting) == 1:
        return starting[0]
    containing = _containing(folded)
    return containing[0] if len(containing) == 1 and not starting else text


def _containing(folded: str) -> list[str]:
    """The settings whose shown name has a word starting with ``folded`` (three letters or more
    typed in the picker: "instrument", not "j" or the "ship" of "partnership")."""
    if len(folded) < 3:
        return []
    word = re.compile(r"\b" + re.escape(folded))
    return list(dict.fromkeys(key for name, key in _lever_names().items() if word.search(name)))


def choice_value(key: str, text: str) -> str:
    """A setting's value as typed, or the choice its words name: "Local metric" is what the
    Sandbox shows for ``local_metric``."""
    try:
        choices = info(key).choices or ()
    except ParamError:
        return text
    word = re.sub(r"[\s-]+", "_", text.strip().casefold())
    return word if text not in choices and word in choices else text


def lever_name(key: str) -> str:
    """A lever's label in a picker: its name and what it allows (the key itself if unknown)."""
    if not key:
        return "— none —"
    try:
        s = info(key)
    except ParamError:
        return key
    name = _APP_LABELS.get(key) or lever_title(key)
    if s.type in ("int", "float"):
        return f"{name} · {span_text(s.span)}"
    if s.type == "bool":
        return f"{name} · on, off"  # as the pages write a switch (and take it typed)
    # Choices in words, as the Sandbox shows them (a typed "local metric" is understood too).
    return f"{name} · {', '.join(value_text(c) for c in s.choices or ())}"


def span_text(span: str) -> str:
    """A setting's span as the pages write numbers: a true minus ("−5 to 5 standard deviations"),
    money with its sign ("$1 to $10,000,000 per week", not "1 to 10,000,000 $ per week")."""
    span = true_minus(span)
    money = re.fullmatch(r"(\S+) to (\S+) \$ (.+)", span)
    return f"${money[1]} to ${money[2]} {money[3]}" if money else span


def base_options(own: Sequence[str] = ()) -> list[str]:
    """Base scenarios on offer: every preset, then settings that are not a preset's (``own``: the
    Sandbox's in this session, a link's)."""
    return [*preset_names(), *(option for option in OWN_OPTIONS if option in own)]


def base_name(option: str, own: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """A base scenario's name: a preset's title, or where settings of their own came from."""
    if option in OWN_OPTIONS:
        title = (own or {}).get(option, {}).get("title")
        where = OWN_OPTIONS[option]
        return f"{where}: {title}" if title else where
    try:
        return load_preset(option).title
    except ValueError:
        return option


# --------------------------------------------------------------------------------------------------
# Requests: form values → a validated, canonical spec
# --------------------------------------------------------------------------------------------------


def setting_name(key: str) -> str:
    """A setting as the page's messages name it: "Council interval (reviews.council.interval_weeks)"
    (its name in the lever picker, then the key a scenario file uses); the key alone if unknown."""
    name = lever_name(key).split(" · ")[0]
    if name == key:
        return key
    if name.endswith(")"):  # "WIP limit per team (items; org.wip_limit_per_team)"
        return f"{name[:-1]}; {key})"
    return f"{name} ({key})"


def _kpi_names(text: str) -> str:
    """KPI keys in a list or a suggestion of an error named as the page names them."""

    def named(match: re.Match) -> str:
        keys = match.group(2).split(", ")
        if not all(key in KPIS for key in keys):
            return match.group(0)
        return match.group(1) + ", ".join(KPIS[key].label for key in keys)

    text = re.sub(r"(did you mean )([a-z0-9_]+)(?=\?)", named, text)
    return re.sub(r"(one of )([a-z0-9_]+(?:, [a-z0-9_]+)*)$", named, text)


_EVERY_KEY = "see `python -m sim params` for every key"


def _setting_message(err: ParamError) -> str:
    """A setting's error naming it as the page does: a web page's user has no command line to
    list the settings, and knows them by their names."""
    if err.problem != "is not a setting":
        allowed = err.allowed
        with contextlib.suppress(ParamError):
            # Choices as the pages write them ("local metric"), which the page also takes typed.
            for choice in info(err.key).choices or ():
                allowed = allowed.replace(choice, value_text(choice))
        return ParamError(err.key, err.value, allowed, err.problem).message(setting_name(err.key))
    allowed = err.allowed
    if allowed == _EVERY_KEY:
        allowed = "the lever picker lists every setting by name"
    elif (hint := allowed.removeprefix("did you mean ").removesuffix("?")) in lever_keys():
        allowed = f"did you mean {setting_name(hint)}?"
    return ParamError(err.key, err.value, allowed, err.problem).message()


def app_message(err: BaseException) -> str:
    """An engine error as one line, with settings named as the page names them and command-line
    flags named as the page's fields."""
    text = _setting_message(err) if isinstance(err, ParamError) else _kpi_names(str(err))
    for flag, field in (
        (" (try --by group)", " (split by group of settings instead)"),
        ("(--by group)", "(split by group of settings)"),
        ("--candidates or the levers' points", "Candidates or the levers' points"),
        ("--constraint", "Constraint"),
        ("--samples", "Samples"),
        ("--replications", "Replications"),
        ("--candidates", "Candidates"),
        ("--method", "Method"),
        ("--search", "Search"),
        ("--lever", "lever"),
        ("--kpi", "KPI"),
        ("--by", "Split by"),
    ):
        text = text.replace(flag, field)
    return text


def base_overrides(
    option: str, own: Mapping[str, Mapping[str, Any]] | None = None
) -> tuple[str, dict]:
    """(title, non-default settings) of a base scenario: a preset, or settings of their own (the
    Sandbox's, a link's: ``own`` maps such options to their ``title`` and ``overrides``)."""
    if option in OWN_OPTIONS:
        setup = (own or {}).get(option)
        if setup is None:
            where = {SANDBOX: "Sandbox settings", PINNED: "pinned baseline"}.get(
                option, "settings from a link"
            )
            raise ExploreError(f"there are no {where} in this session: pick a preset")
        return str(setup.get("title") or OWN_OPTIONS[option]), dict(setup.get("overrides", {}))
    scenario = load_preset(option)
    return scenario.title, diff(scenario.params)


def sandbox_note(manifest: Mapping[str, Any], sandbox: tuple[int, int, int] | None) -> str:
    """Why a result's numbers need not match the Sandbox's tiles for the same settings: the horizon,
    seed and replications it ran with, where they differ from the Sandbox's (weeks, seed,
    replications); empty when they do not, or before the Sandbox has run."""
    if sandbox is None:
        return ""
    keys = {"horizon_weeks": "{} weeks", "seed": "seed {}", "replications": "{} replications"}
    if manifest.get("experiment") == "optimisation":
        del keys["replications"]  # its rounds run more and more; the caption gives them
    differs = [
        (text, int(manifest[key]), value)
        for (key, text), value in zip(keys.items(), sandbox, strict=False)
        if key in manifest and int(manifest[key]) != value
    ]
    if not differs:
        return ""
    theirs = join_and([text.format(value) for text, _, value in differs])
    ours = join_and([text.format(ran) for text, ran, _ in differs])
    return (
        f"The Sandbox's numbers come from {theirs}; this ran {ours}, so the same settings need "
        "not give the same numbers here."
    )


def params_of(overrides: Mapping[str, Any]) -> Params:
    """The parameters of non-default settings (validated; raises ParamError)."""
    return apply_overrides(default_params(), dict(overrides))


def with_horizon(overrides: Mapping[str, Any], horizon_weeks: int) -> dict[str, Any]:
    """Settings at another horizon, validated, as plain non-default values."""
    return diff(params_of({**overrides, "horizon_weeks": int(horizon_weeks)}))


def lever_text(key: str | None, text: str | None, points: int | None = None) -> str:
    """One lever as ``key=spec``, checked by the engine (raises ParamError naming what is wrong).

    ``points`` sets the grid points of a numeric range that does not give its own (``lo:hi:n``).
    """
    key = resolve_lever(key or "")
    spec = typed(text).strip()
    try:
        check_key(key, spec)
    except ParamError:
        # A name typed as shown in the picker ("Product teams are paid on") points to its setting;
        # a mistyped key keeps the check's own suggestion, which reads keys.
        if suggest(key) is not None:
            raise
        several = _containing(key.casefold())
        if len(several) > 1:
            named = [setting_name(k) for k in several[:4]]
            more = f" and {len(several) - 4} more" if len(several) > 4 else ""
            hint = "pick one of " + ", ".join(named) + more
            raise ParamError(key, spec, hint, "names more than one setting") from None
        names = _lever_names()
        close = difflib.get_close_matches(key.casefold(), list(names), n=1, cutoff=0.5)
        if not close:
            raise
        hint = f"did you mean {setting_name(names[close[0]])}?"
        raise ParamError(key, spec, hint, "is not a setting") from None
    s = info(key)
    if s.choices:
        spec = ",".join(choice_value(key, part) for part in spec.split(","))
    if not spec and (s.choices or s.type == "bool"):
        spec = ",".join(s.choices or ("true", "false"))  # a setting of a few values: all of them
    if not spec:
        raise ParamError(key, spec, f"a range lo:hi or listed values, within {s.span}", "is empty")
    lever = parse_lever(f"{key}={spec}")
    if points is not None and lever.is_range and lever.points is None:
        lever = check_lever(Lever(lever.key, lo=lever.lo, hi=lever.hi, points=int(points)), spec)
    return f"{lever.key}={lever.spec}"


def levers_of(
    rows: Sequence[tuple[str | None, str | None]], points: int | None = None
) -> list[str]:
    """Levers from (key, range) rows; rows without a key are skipped."""
    return [lever_text(key, text, points) for key, text in rows if (key or "").strip()]


def parse_changes(text: str) -> dict[str, Any]:
    """Settings written one a line as ``key=value``, the setting by its key or its name in the
    lever picker (blank lines and ``#`` comments ignored)."""
    changes: dict[str, Any] = {}
    lines: dict[str, int] = {}  # the line that set each key
    for number, raw in enumerate(typed(text).splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" not in line:
            raise ExploreError(
                f"changed settings, line {number}: {line!r} is not a setting: write setting=value, "
                f"e.g. Council interval=8 or reviews.council.interval_weeks=8"
            )
        key, value = (part.strip() for part in line.split("=", 1))
        key = resolve_lever(key)  # a name as the lever picker or a chart shows it
        check_key(key, value)
        value = choice_value(key, value)
        if key in lines:  # as the sweep's levers: which line would win is not left to a guess
            raise ParamError(
                key,
                value,
                f"each setting once (lines {lines[key]} and {number} set it)",
                "sets this setting a second time",
            )
        lines[key] = number
        changes[key] = parse_value(key, value)
    return changes


def parse_constraints(text: str) -> list[str]:
    """Constraints written one a line (``meeting_overhead_share<=10%``), checked; as text."""
    out = []
    for raw in typed(text).replace(";", "\n").splitlines():
        line = raw.strip()
        if line:
            out.append(parse_constraint(line).text)
    return out


def _spec(data: Mapping[str, Any]) -> str:
    return json.dumps(dict(data), sort_keys=True, separators=(",", ":"))


def _levers(texts: Sequence[str]) -> list[Lever]:
    return [parse_lever(text) for text in texts]


def experiment(
    tool: str,
    spec: Mapping[str, Any],
    *,
    executor: TaskExecutor,
    progress: Progress | None,
    cancel: threading.Event,
):
    """Run one experiment of ``sim.explore`` from its spec (the engine validates everything)."""
    base = params_of(spec["base"])
    common = {
        "replications": int(spec["replications"]),
        "seed": int(spec["seed"]),
        "scenario": spec["title"],
        "executor": executor,
        "progress": progress,
        "cancel": cancel,
    }
    if tool == "sweep":
        return engine.sweep(base, _levers(spec["levers"]), **common)
    if tool == "sensitivity":
        return engine.sensitivity(
            base,
            _levers(spec["levers"]),
            method=spec["method"],
            samples=int(spec["samples"]),
            **common,
        )
    if tool == "attribution":
        return engine.attribute(base, params_of(spec["variant"]), by=spec["by"], **common)
    if tool == "optimisation":
        return engine.optimise(
            base,
            _levers(spec["levers"]),
            spec["kpi"],
            maximise=spec["maximise"],
            constraints=[parse_constraint(c) for c in spec["constraints"]],
            candidates=int(spec["candidates"]),
            search=spec["search"],
            **common,
        )
    raise ValueError(f"tool = {tool!r} is not an experiment: one of {', '.join(TOOLS)}")


def size(tool: str, spec: Mapping[str, Any]) -> int:
    """How many simulations an experiment runs (call after it has been checked)."""
    reps = int(spec["replications"])
    if tool == "sweep":
        return math.prod(len(lv.grid()) for lv in _levers(spec["levers"])) * reps
    if tool == "sensitivity":
        per = len(spec["levers"]) + (1 if spec["method"] == "morris" else 2)
        return int(spec["samples"]) * per * reps
    if tool == "attribution":
        base = params_of(spec["base"])
        changes = diff(params_of(spec["variant"]), base)
        return (1 << len(players_from(base, changes, spec["by"]))) * reps
    pool = candidates_for(
        _levers(spec["levers"]), int(spec["candidates"]), spec["search"], int(spec["seed"])
    )
    return simulations(schedule(len(pool), reps))


def check(tool: str, spec: Mapping[str, Any]) -> int:
    """Check a request with the engine's own validation, without simulating; return its size.

    Raises:
        ParamError, ExploreError, ValueError: with a one-line message naming what is wrong.
    """
    cancel = threading.Event()
    cancel.set()  # every check runs, then the run stops before its first simulation
    with contextlib.suppress(Cancelled):
        experiment(tool, spec, executor=SerialExecutor(), progress=None, cancel=cancel)
    n = size(tool, spec)
    if n > MAX_APP_SIMULATIONS:
        raise ExploreError(
            f"this {TOOL_NAMES[tool].lower()} would run {n:,} simulations: at most "
            f"{MAX_APP_SIMULATIONS:,} from the app; use fewer points, samples, candidates or "
            f"replications, or the command line (python -m sim {_command(tool)})"
        )
    return n


def _command(tool: str) -> str:
    return {"attribution": "attribute", "optimisation": "optimise"}.get(tool, tool)


def idle_levers_note(tool: str, spec: Mapping[str, Any]) -> str | None:
    """For a checked request: which of its levers cannot move any result from its starting
    scenario, and why (None when every lever can, or the tool has no levers)."""
    if "levers" not in spec:
        return None
    levers = _levers(spec["levers"])
    return idle_note(idle_levers(params_of(spec["base"]), levers), spec["title"])


def request(tool: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    """A checked request as plain data: ``{"tool", "spec" (canonical JSON), "simulations"}``."""
    n = check(tool, spec)
    return {"tool": tool, "spec": _spec(spec), "simulations": n}


# --------------------------------------------------------------------------------------------------
# Running: executor, progress bar, cancel token, cache
# --------------------------------------------------------------------------------------------------


def _executor(simulations: int) -> TaskExecutor:
    """Dask when ``SIM_DASK_SCHEDULER`` is set; else the app's pool, or this process if small."""
    if os.environ.get(SCHEDULER_ENV, "").strip():
        return make_executor()
    if not _uses_pool(simulations):
        return SerialExecutor()
    return PoolExecutor(pool=compute.process_pool())


def _uses_pool(simulations: int) -> bool:
    """Whether :func:`_executor` runs ``simulations`` on the app's process pool."""
    dask = bool(os.environ.get(SCHEDULER_ENV, "").strip())
    return not dask and simulations >= SERIAL_BELOW and compute.WORKERS >= 2


def executor_text(executor: TaskExecutor) -> str:
    """Where a run ran, in words."""
    if isinstance(executor, DaskExecutor):
        return f"on the Dask cluster at {executor.address} ({executor.workers} threads)"
    if isinstance(executor, PoolExecutor):
        return f"on the app's local process pool ({executor.workers} processes)"
    return "in the app's own process (small run)"


def progress_callback(
    bar: Any, label: str, cancel: threading.Event, interrupted: list[BaseException]
) -> Progress:
    """The engine's ``progress(done, total)``: moves ``bar``, and turns a rerun into a cancel.

    The bar moves at most once per percent, so a long run sends (and a cache hit replays) at most
    about a hundred updates. When Streamlit raises its control-flow exception inside the update
    (the page was clicked during the run), the exception is kept in ``interrupted`` and the cancel
    token is set; the engine then stops and raises Cancelled, and the caller re-raises it.
    """
    shown = [-1]

    def report(done: int, total: int) -> None:
        if interrupted:
            return
        percent = int(100 * done / max(total, 1))
        if percent == shown[0]:
            return
        shown[0] = percent
        try:
            bar.progress(
                min(1.0, done / max(total, 1)),
                text=f"{label}: {done:,} of {total:,} simulations done",
            )
            running = st.session_state.get(RUNNING)
            if isinstance(running, dict):
                running["done"] = int(done)
        except BaseException as exc:  # Streamlit's rerun and stop exceptions included
            interrupted.append(exc)
            cancel.set()

    return report


def _run(tool: str, spec: Mapping[str, Any], n: int) -> tuple[Any, str]:
    """Run an experiment with a progress bar; (result, where it ran)."""
    with compute.POOL_QUEUE.turn(_uses_pool(n)) as ahead:
        return _run_in_turn(tool, spec, n, ahead)


def _run_in_turn(tool: str, spec: Mapping[str, Any], n: int, ahead: int) -> tuple[Any, str]:
    """:func:`_run` once it holds its place on the pool (``ahead`` other runs were on it)."""
    label = TOOL_NAMES[tool]
    bar = st.progress(
        0.0, text=f"{label}: starting {n:,} simulations…{compute.waiting_text(ahead)}"
    )
    cancel = threading.Event()
    interrupted: list[BaseException] = []
    report = progress_callback(bar, label, cancel, interrupted)
    try:
        for attempt in (1, 2):
            executor = _executor(n)
            try:
                with executor:
                    result = experiment(
                        tool, spec, executor=executor, progress=report, cancel=cancel
                    )
                    where = executor_text(executor)
            except BrokenProcessPool:
                if interrupted:
                    raise interrupted[0] from None
                # A worker died (out of memory, killed): start a fresh pool and run once more.
                compute.process_pool.clear()
                if attempt == 2:
                    raise
                continue
            except BaseException:
                if interrupted:  # Cancelled, raised because the page asked to rerun
                    raise interrupted[0] from None
                raise
            if interrupted:  # the click came with the last update: rerun all the same
                raise interrupted[0]
            return result, where
        raise RuntimeError("unreachable")
    finally:
        cancel.set()  # whatever ended the run, nothing of it keeps running
        bar.empty()


def _summary(tool: str, result: Any) -> dict[str, Any]:
    """What the page shows of a result, as plain data (frames, numbers, text)."""
    out: dict[str, Any] = {"manifest": result.manifest}
    if tool == "sweep":
        out.update(
            table=result.table(),
            levers=[lv.key for lv in result.levers],
            kpis=list(result.kpis),
            reasons=result.null_reasons(),
            extremes={kpi: result.extremes(kpi) for kpi in result.kpis},
        )
    elif tool == "sensitivity":
        out.update(
            table=result.table(),
            method=result.method,
            levers=[lv.key for lv in result.levers],
            kpis=[k for k in result.kpis if result.indices.get(k) is not None],
            reasons=dict(result.reasons),
        )
    elif tool == "attribution":
        reasons = result.null_reasons()
        kpis = [k for k in result.kpis if k not in reasons]
        out.update(
            table=result.table(),
            kpis=kpis,
            reasons=reasons,
            waterfalls={k: result.waterfall(k) for k in kpis},
            explanations={k: result.explain(k) for k in kpis},
            players=[p.to_dict() for p in result.players],
        )
    else:
        out.update(
            table=result.table(),
            levers=[lv.key for lv in result.levers],
            kpi=result.kpi,
            maximise=result.maximise,
            result=result.to_dict(),
        )
    return out


@st.cache_data(max_entries=CACHE_ENTRIES, ttl=CACHE_TTL_SECONDS, show_spinner=False)
def run_experiment(tool: str, spec: str, simulations: int, model_version: str) -> dict[str, Any]:
    """One experiment's results as plain data (cached by tool, spec, size and model version).

    A progress bar shows while it runs. ``simulations`` is the request's size, for the bar and
    the choice of executor.
    """
    result, where = _run(tool, json.loads(spec), simulations)
    summary = _summary(tool, result)
    summary["executor"] = where
    summary["simulations"] = simulations
    return summary


def results(req: Mapping[str, Any]) -> dict[str, Any]:
    """Cached results of a request for the current model version."""
    return run_experiment(req["tool"], req["spec"], int(req["simulations"]), MODEL_VERSION)


def csv_text(table: pd.DataFrame) -> str:
    """A results table as CSV (built when a download button is clicked)."""
    return table.to_csv(index=False)
