"""Explore: which lever matters, by how much, and why — sweep, sensitivity, attribution, optimisation.

Each tool has a form (its Run button checks every input with the engine before anything runs) and,
beside it, the results of its last run, fetched from the cache (:mod:`app.explore_results`).
Display options — the KPI shown — redraw from the cached results without simulating again. A run
shows a progress bar and a Stop button; stopping keeps the previous results.
"""

import functools
from typing import Any

import streamlit as st

from app import explore, session, state, views
from app.explore import PINNED, RUNNING, SANDBOX, TOOL_NAMES, TOOLS
from app.explore_links import (
    DEFAULTS,
    DISPLAY_KPI_TOOLS,
    INTEGERS,
    LEVER_ROWS,
    LINKED,
    MAX_TEXT,
    decode_explore,
    encode_explore,
)
from app.explore_results import k, kpi_name, results
from app.state import Setup
from sim.explore.sensitivity import SAMPLE_LIMITS
from sim.outcomes import KPI_NAMES, KPIS
from sim.params import ParamError, info
from sim.report.format import full_stop

ss = st.session_state
# Inputs that start from the Sandbox's settings once the Sandbox has run (each tool's horizon too).
SANDBOX_START = {
    "sweep": {"base": SANDBOX},
    "sensitivity": {"base": SANDBOX},
    "attribution": {"base": PINNED, "variant": SANDBOX, "changes": ""},
    "optimisation": {"base": SANDBOX},
}
# Links open at most this many simulations on their own; a bigger experiment waits for its Run.
AUTO_RUN_SIMULATIONS = 2_000
LINK_READ = "ex.link_read"  # the opening link has been read (once per session)
LINKED_KEY = "ex.linked"  # settings a link spelled out: {option: Setup.to_dict()}
URL_WARNINGS = "ex.url_warnings"
LEVER_HELP = (
    "The setting to vary: the Sandbox's levers first, then every other setting of the model. Type "
    "to search the list by name; a setting's dotted key, as a scenario file writes it, works too."
)
RANGE_HELP = (
    "A numeric range **lo:hi** (or lo:hi:points), or listed values separated by commas, e.g. "
    "shared_outcome,local_metric or true,false or 1,2,4. Left empty, a setting of a few values "
    "(on/off, a choice) takes them all. Checked against the setting's allowed range before "
    "anything runs."
)
REPS_HELP = (
    "Every scenario runs replications 0..n−1 of the same seed (common random numbers), so "
    "differences between scenarios come from the levers, not from the draw. Tools start with "
    "fewer than the Sandbox runs, as each runs many scenarios: with the Sandbox's replications, "
    "seed and horizon, a scenario's numbers are exactly its tiles'."
)
SEED_HELP = "The same seed gives the same numbers, on any executor and any number of workers."
WEEKS_HELP = (
    "Simulated weeks of every scenario. 52-week retention needs at least 52 and counts only the "
    "customers who have been around a year: at 52 weeks, the first week's sign-ups; at 103 or "
    "more, a year of them."
)


def sandbox_setup() -> dict | None:
    """The Sandbox's applied settings in this session, if the Sandbox has been opened."""
    applied = ss.get(session.APPLIED)
    return dict(applied["setup"]) if isinstance(applied, dict) and "setup" in applied else None


def own_setups() -> dict[str, dict]:
    """Settings on offer that are not a preset's: {option: {"title", "overrides", …}} — the
    Sandbox's in this session, and those a link spelled out."""
    own = dict(ss.get(LINKED_KEY) or {})
    sandbox = sandbox_setup()
    if sandbox is not None:
        own[SANDBOX] = sandbox
        pinned = ss.get(session.BASELINE)
        if isinstance(pinned, dict):  # offered under its own title, without "Baseline: "
            own[PINNED] = {
                **pinned,
                "title": str(pinned.get("title", "")).removeprefix("Baseline: "),
            }
    return own


def bases(name: str = "base") -> list[str]:
    """The scenarios a picker offers: presets, then settings of their own (a link's variant is
    offered only as a variant)."""
    own = [o for o in own_setups() if name == "variant" or o != LINKED["variant"]]
    return explore.base_options(own)


def base_label(option: str, own: dict[str, dict]) -> str:
    """A base scenario's name (the settings of their own are passed in: pickers format without a
    run)."""
    return explore.base_name(option, own)


def variant_label(option: str, own: dict[str, dict]) -> str:
    """An attribution variant's name (the empty option is the baseline itself)."""
    return "The baseline" if option == "" else base_label(option, own)


def sandbox_weeks() -> int:
    """The horizon of the Sandbox's applied settings (the model's default if it sets none)."""
    setup = sandbox_setup() or {}
    weeks = dict(setup.get("overrides", {})).get("horizon_weeks", info("horizon_weeks").default)
    return int(weeks)


def sandbox_start(tool: str) -> dict[str, Any]:
    """The inputs with which a tool starts from what the Sandbox shows ({} before the Sandbox has
    run). An attribution explains the Sandbox's settings against its pinned baseline, or the
    default baseline, as the Sandbox's why does; when they do not differ there is nothing to
    explain, and it keeps its own example."""
    own = own_setups()
    if SANDBOX not in own:
        return {}
    weeks = sandbox_weeks()
    # Its horizon too, so the numbers match its tiles, and its draws, so they recur.
    start = {**SANDBOX_START[tool], "weeks": weeks}
    applied = ss.get(session.APPLIED) or {}
    if "seed" in applied:
        start["seed"] = int(applied["seed"])
    if tool == "attribution":
        if PINNED not in own:
            start["base"] = DEFAULTS[tool]["base"]
        try:
            ends = [explore.base_overrides(o, own)[1] for o in (start["base"], SANDBOX)]
            same = len({state.canonical(explore.with_horizon(e, weeks)) for e in ends}) == 1
        except (ParamError, ValueError):
            same = True
        if same:
            return {}
    return start


def init_inputs() -> None:
    """Give every input a value before it is drawn: the last submitted one, else the default."""
    for tool, defaults in DEFAULTS.items():
        submitted = ss.get(k(tool, "submitted")) or {}
        start: dict[str, Any] | None = None  # worked out when an input needs a value
        for name, default in defaults.items():
            key = k(tool, name)
            if key in ss:
                continue
            if start is None:
                start = sandbox_start(tool) if not submitted else {}
            value = submitted.get(key, default)
            if key not in submitted and name in start:
                value = start[name]  # start from what the Sandbox shows
            if name in ("base", "variant") and value not in bases(name) and value != "":
                value = default
            if name == "kpi" and tool in DISPLAY_KPI_TOOLS:
                value = ss.get(k(tool, "kpi_kept"), value)  # the KPI shown outlives the tab
            if name.startswith("lever") and value and value not in explore.lever_keys():
                value = default  # a key typed in earlier: offer the default again
            ss[key] = value


def handle_interrupted_run() -> None:
    """A run that did not finish (Stop, or any click during it): keep the previous results."""
    running = ss.pop(RUNNING, None)
    if not isinstance(running, dict):
        return
    tool = running.get("tool")
    if tool not in TOOLS:
        return
    applied = ss.get(k(tool, "applied"))
    if not applied or applied.get("spec") != running.get("spec"):
        return  # a new request replaced it
    previous = ss.get(k(tool, "good"))
    ss[k(tool, "applied")] = previous
    note = (
        f"Stopped after {running.get('done', 0):,} of {running.get('total', 0):,} simulations; "
        "nothing from that run was kept."
    )
    if previous:
        note += " The previous results are shown."
    ss[k(tool, "note")] = note


def open_link() -> None:
    """Open the experiment of the link this session started with (once): its tool and inputs, run
    at once unless it is large."""
    if LINK_READ in ss:
        return
    ss[LINK_READ] = True
    link, warnings = decode_explore(session.take_initial_query("Explore"))
    ss[URL_WARNINGS] = warnings
    if link is None:
        return
    tool = link.tool
    ss[LINKED_KEY] = {option: setup.to_dict() for option, setup in link.setups.items()}
    for name, value in link.values.items():
        ss[k(tool, name)] = value
    if tool in DISPLAY_KPI_TOOLS:
        ss[k(tool, "kpi_kept")] = link.values["kpi"]
    ss["ex.tab"] = TOOL_NAMES[tool]
    on_run(tool, from_link=True)
    req = ss.get(k(tool, "applied"))
    if req and req["simulations"] > AUTO_RUN_SIMULATIONS:
        del ss[k(tool, "applied")]
        ss[k(tool, "waiting_query")] = req["query"]  # the page keeps the link until it runs
        ss[k(tool, "link_note")] = (
            f"This link's {TOOL_NAMES[tool].lower()} runs {req['simulations']:,} simulations, so "
            f"it waits for you: press Run {TOOL_NAMES[tool].lower()} to start it."
        )


def inputs_query(tool: str) -> dict[str, str]:
    """The query parameters of a tool's inputs as the form holds them (without the KPI shown)."""
    values = {name: ss.get(k(tool, name)) for name in DEFAULTS[tool]}
    if tool in DISPLAY_KPI_TOOLS:
        values.pop("kpi")
    own = {option: Setup.from_dict(setup) for option, setup in own_setups().items()}
    return encode_explore(tool, values, own)


def link_query(tool: str) -> dict[str, str]:
    """The link to the results shown: the inputs of the run they came from (a stopped or refused
    run leaves the previous results, and their link), with the KPI shown; nothing before a run."""
    applied = ss.get(k(tool, "applied"))
    query = dict((applied or {}).get("query") or ss.get(k(tool, "waiting_query")) or {})
    kpi = ss.get(k(tool, "kpi"))
    if query and tool in DISPLAY_KPI_TOOLS and kpi != DEFAULTS[tool]["kpi"]:
        query["kpi"] = kpi
    return query


# --------------------------------------------------------------------------------------------------
# Requests from the forms
# --------------------------------------------------------------------------------------------------


def base_of(tool: str, name: str = "base") -> tuple[str, dict]:
    """(title, settings at the chosen horizon) of a tool's base scenario."""
    title, overrides = explore.base_overrides(ss[k(tool, name)], own_setups())
    return title, explore.with_horizon(overrides, int(ss[k(tool, "weeks")]))


def lever_rows(tool: str) -> list[tuple[str, str]]:
    return [
        (ss.get(k(tool, f"lever{i}")) or "", ss.get(k(tool, f"range{i}")) or "")
        for i in range(1, LEVER_ROWS[tool] + 1)
    ]


def common(tool: str) -> dict:
    return {"replications": int(ss[k(tool, "reps")]), "seed": int(ss[k(tool, "seed")])}


def points_used(tool: str) -> bool:
    """Whether a lever row is a range ``lo:hi`` that takes its points from the Grid points box
    (listed values and ``lo:hi:n`` give their own)."""
    return any(key.strip() and text.count(":") == 1 for key, text in lever_rows(tool))


def sweep_spec() -> dict:
    title, base = base_of("sweep")
    points = ss.get(k("sweep", "points")) if points_used("sweep") else None
    levers = explore.levers_of(lever_rows("sweep"), None if points is None else int(points))
    return {"title": title, "base": base, "levers": levers, **common("sweep")}


def sensitivity_spec() -> dict:
    title, base = base_of("sensitivity")
    return {
        "title": title,
        "base": base,
        "levers": explore.levers_of(lever_rows("sensitivity")),
        "method": ss[k("sensitivity", "method")],
        "samples": int(ss[k("sensitivity", "samples")]),
        **common("sensitivity"),
    }


def attribution_spec() -> dict:
    title, base = base_of("attribution")
    variant_option = ss[k("attribution", "variant")] or ss[k("attribution", "base")]
    variant_title, variant = explore.base_overrides(variant_option, own_setups())
    changes = explore.parse_changes(ss[k("attribution", "changes")])
    # Named "with changes" only when one of them changes something: a change to the value the
    # variant already has leaves it as it is.
    if any(variant.get(key, info(key).default) != value for key, value in changes.items()):
        variant_title += " with changes"
    weeks = int(ss[k("attribution", "weeks")])
    return {
        "title": title,
        "variant_title": variant_title,
        "base": base,
        "variant": explore.with_horizon({**variant, **changes}, weeks),
        "by": ss[k("attribution", "by")],
        **common("attribution"),
    }


def optimisation_spec() -> dict:
    title, base = base_of("optimisation")
    direction = ss[k("optimisation", "direction")]
    return {
        "title": title,
        "base": base,
        "levers": explore.levers_of(lever_rows("optimisation")),
        "kpi": ss[k("optimisation", "kpi")],
        "maximise": None if direction == "auto" else direction == "max",
        "constraints": explore.parse_constraints(ss[k("optimisation", "constraints")]),
        "candidates": int(ss[k("optimisation", "candidates")]),
        "search": ss[k("optimisation", "search")],
        **common("optimisation"),
    }


SPECS = {
    "sweep": sweep_spec,
    "sensitivity": sensitivity_spec,
    "attribution": attribution_spec,
    "optimisation": optimisation_spec,
}


# The whole-number inputs' labels, for their errors (the replications' label depends on the tool).
WHOLE_LABELS = {
    "points": "Grid points (numeric levers)",
    "samples": "Samples",
    "candidates": "Candidates",
    "seed": "Seed",
    "weeks": "Horizon (weeks)",
}
REPS_LABELS = {
    "sweep": "Replications per point",
    "sensitivity": "Replications per point",
    "attribution": "Replications",
    "optimisation": "Replications (final round)",
}


def whole_label(tool: str, name: str) -> str:
    """A whole-number input's label (the replications' depends on the tool)."""
    return REPS_LABELS[tool] if name == "reps" else WHOLE_LABELS[name]


def allowed(name: str) -> str:
    """A whole-number input's range, as its help gives it."""
    if name == "samples":
        (m_lo, m_hi), (s_lo, s_hi) = (sample_range(m) for m in ("morris", "sobol"))
        return (
            f" Morris: a whole number from {m_lo:,} to {m_hi:,}; Sobol: a power of two from "
            f"{s_lo:,} to {s_hi:,}."
        )
    lo, hi = INTEGERS[name]
    return f" A whole number from {lo:,} to {hi:,}."


def sample_range(method: str) -> tuple[int, int]:
    """The samples a method takes from the app: its own limits, within the app's."""
    lo, hi = INTEGERS["samples"]
    method_lo, method_hi = SAMPLE_LIMITS[method]
    return max(lo, method_lo), min(hi, method_hi)


def whole_range(tool: str, name: str) -> tuple[int, int]:
    """A whole-number input's allowed range (the samples' depends on the method chosen)."""
    if name == "samples":
        method = ss.get(k(tool, "method"))
        return sample_range(method if method in SAMPLE_LIMITS else "morris")
    return INTEGERS[name]


def inputs_problem(tool: str) -> str | None:
    """The first whole-number input typed out of its range, in words (None when all are usable).

    The number boxes are unbounded, so that a value out of range reaches this check and gets an
    error naming the range, rather than a red mark in the browser and a Run that does nothing.
    """
    for name in DEFAULTS[tool]:
        if name == "points" and not points_used(tool):
            continue  # the levers give their own points: the box is not read
        if name in INTEGERS:
            problem = views.whole_number_problem(
                whole_label(tool, name), ss.get(k(tool, name)), *whole_range(tool, name)
            )
            if problem:
                return problem
    return None


def on_run(tool: str, from_link: bool = False) -> None:
    """A Run button: check the inputs with the engine; apply them, or say what is wrong."""
    for name in ("error", "note", "link_note", "waiting_query"):
        ss.pop(k(tool, name), None)
    if not from_link:
        ss.pop(URL_WARNINGS, None)  # they were about the link's inputs
    ss[k(tool, "submitted")] = {k(tool, n): ss.get(k(tool, n)) for n in DEFAULTS[tool]}
    if problem := inputs_problem(tool):
        ss[k(tool, "error")] = f"Not run: {problem}"
        return
    try:
        spec = SPECS[tool]()
        req = explore.request(tool, spec)
    except Exception as err:  # every problem is one line on the page; nothing runs
        ss[k(tool, "error")] = f"Not run: {full_stop(explore.app_message(err))}"
        return
    ss[k(tool, "applied")] = {
        **req,
        "query": inputs_query(tool),
        "idle": explore.idle_levers_note(tool, spec),
    }


# --------------------------------------------------------------------------------------------------
# Form parts
# --------------------------------------------------------------------------------------------------


def base_picker(tool: str, name: str = "base", label: str = "Start from") -> None:
    st.selectbox(
        label,
        bases(name),
        key=k(tool, name),
        format_func=functools.partial(base_label, own=own_setups()),
        help="A preset, the settings the Sandbox shows in this session (or its pinned "
        "baseline), or settings a link brought. The horizon below replaces its own.",
    )


def lever_inputs(tool: str, numeric_only: bool = False) -> None:
    keys = explore.lever_keys(numeric_only)
    for i in range(1, LEVER_ROWS[tool] + 1):
        optional = i > 1
        st.selectbox(
            f"Lever {i}" + (" (optional)" if optional else ""),
            ["", *keys] if optional else keys,
            key=k(tool, f"lever{i}"),
            format_func=explore.lever_name,
            accept_new_options=True,
            help=LEVER_HELP,
        )
        st.text_input(
            f"Range or values of lever {i}",
            key=k(tool, f"range{i}"),
            max_chars=MAX_TEXT,
            placeholder="lo:hi, or v1,v2,…",
            help=RANGE_HELP,
        )


def run_settings(tool: str) -> None:
    c1, c2, c3 = st.columns(3)
    for column, (name, help_text) in zip(
        (c1, c2, c3), (("reps", REPS_HELP), ("seed", SEED_HELP), ("weeks", WEEKS_HELP)), strict=True
    ):
        column.number_input(
            whole_label(tool, name), step=1, key=k(tool, name), help=help_text + allowed(name)
        )


def run_button(tool: str) -> None:
    if ss.get(k(tool, "error")):
        st.error(views.plain(ss[k(tool, "error")]), icon=":material/error:")
    st.form_submit_button(
        f"Run {TOOL_NAMES[tool].lower()}",
        type="primary",
        key=k(tool, "run"),
        on_click=on_run,
        args=(tool,),
        icon=":material/play_arrow:",
        width="stretch",
        help="Check every input, then run (results already run with the same inputs come "
        "straight from the cache).",
    )
    applied = ss.get(k(tool, "applied"))
    if applied:
        st.caption(f"Last applied inputs: {applied['simulations']:,} simulations.")


def sweep_form() -> None:
    with st.form("ex.sweep.inputs", enter_to_submit=False):
        base_picker("sweep")
        lever_inputs("sweep")
        c1, c2 = st.columns(2)
        c1.number_input(
            WHOLE_LABELS["points"],
            step=1,
            key=k("sweep", "points"),
            help="Evenly spaced values over each numeric range (whole numbers for whole-number "
            "settings). A range written lo:hi:n uses n instead." + allowed("points"),
        )
        with c2:
            st.caption(
                "Simulations = grid points (of both levers) × replications; listed values are "
                "the points themselves (0.5,1,2,4,8,16 is six)."
            )
        run_settings("sweep")
        run_button("sweep")


def sensitivity_form() -> None:
    with st.form("ex.sensitivity.inputs", enter_to_submit=False):
        base_picker("sensitivity")
        st.radio(
            "Method",
            ["morris", "sobol"],
            key=k("sensitivity", "method"),
            format_func=lambda m: {"morris": "Morris screening", "sobol": "Sobol indices"}[m],
            horizontal=True,
            help="Morris: cheap screening; μ* is the mean absolute effect of moving a lever "
            "across its range, and the ranking says which way the KPI moves as the lever is "
            "raised (either way when its effects have both signs). Sobol: the share of the "
            "KPI's variance each lever explains (alone, S1, and with interactions, ST); needs "
            "more simulations.",
        )
        lever_inputs("sensitivity", numeric_only=True)
        st.number_input(
            WHOLE_LABELS["samples"],
            step=1,
            key=k("sensitivity", "samples"),
            help="Morris: trajectories r, (levers + 1) × r design points. Sobol: base samples N, "
            "a power of two, N × (levers + 2) design points. Each point averages the "
            "replications below." + allowed("samples"),
        )
        st.caption("Simulations = design points × replications.")
        run_settings("sensitivity")
        run_button("sensitivity")


def attribution_form() -> None:
    with st.form("ex.attribution.inputs", enter_to_submit=False):
        base_picker("attribution", label="Baseline")
        st.selectbox(
            "Variant",
            ["", *bases("variant")],
            key=k("attribution", "variant"),
            format_func=functools.partial(variant_label, own=own_setups()),
            help="The scenario to explain, before the changes below.",
        )
        st.text_area(
            "Changed settings (one setting=value a line)",
            key=k("attribution", "changes"),
            height=90,
            max_chars=MAX_TEXT,
            help="Applied on top of the variant, each setting by its name in the lever picker or "
            "by its key, e.g. Sales is paid on=local_metric or reviews.council.interval_weeks=8.",
        )
        st.radio(
            "Split by",
            ["setting", "group"],
            key=k("attribution", "by"),
            format_func=lambda b: {"setting": "Each setting", "group": "Group of settings"}[b],
            horizontal=True,
            help="Each changed setting is a lever, or related settings (e.g. every council "
            "setting) count as one. Shapley attribution runs 2^levers scenarios (at most 8 "
            "levers).",
        )
        st.caption("Simulations = 2^(changed levers) × replications.")
        run_settings("attribution")
        run_button("attribution")


def optimisation_form() -> None:
    with st.form("ex.optimisation.inputs", enter_to_submit=False):
        base_picker("optimisation")
        lever_inputs("optimisation")
        c1, c2 = st.columns(2)
        c1.selectbox(
            "KPI to optimise",
            list(KPI_NAMES),
            key=k("optimisation", "kpi"),
            format_func=kpi_name,
            help="The objective: the mean of this KPI over the replications.",
        )
        c2.selectbox(
            "Direction",
            ["auto", "max", "min"],
            key=k("optimisation", "direction"),
            format_func=lambda d: {
                "auto": "The KPI's better way",
                "max": "Maximise",
                "min": "Minimise",
            }[d],
            help="The KPI's better way: up for retention or value, down for lead time or overhead.",
        )
        st.text_area(
            "Constraints (one a line)",
            key=k("optimisation", "constraints"),
            height=68,
            max_chars=MAX_TEXT,
            help="Bounds on KPI means, by the KPI's name or key, e.g. Meeting overhead <= 10% "
            "or mean_alignment >= 0.6. KPIs: "
            + ", ".join(f"{KPIS[k].label} ({k})" for k in KPI_NAMES)
            + ".",
        )
        c1, c2 = st.columns(2)
        c1.number_input(
            WHOLE_LABELS["candidates"],
            step=1,
            key=k("optimisation", "candidates"),
            help="Settings to try. Successive halving keeps the best third each round (at least "
            "three), with up to three times the replications, until three finalists run the final "
            "round's replications." + allowed("candidates"),
        )
        c2.selectbox(
            "Search",
            ["random", "grid"],
            key=k("optimisation", "search"),
            format_func=lambda s: {"random": "Latin hypercube", "grid": "Grid"}[s],
            help="How candidates are drawn from the levers' ranges.",
        )
        run_settings("optimisation")
        run_button("optimisation")


# --------------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------------

handle_interrupted_run()
open_link()
init_inputs()

st.title("Explore: which lever matters")
st.markdown(
    "Which lever matters, by how much, and why. Each tool runs many scenarios on **common random "
    "numbers** — every scenario uses the same replications of the same seed — so differences "
    "come from the levers, not from the luck of the draw."
)
views.link_warnings(ss.get(URL_WARNINGS, []))

FORMS = {
    "sweep": sweep_form,
    "sensitivity": sensitivity_form,
    "attribution": attribution_form,
    "optimisation": optimisation_form,
}
# The open tab outlives a visit to another page (a widget's own state does not).
if "ex.tab" not in ss and ss.get("ex.open_tab") in TOOL_NAMES.values():
    ss["ex.tab"] = ss["ex.open_tab"]
tabs = st.tabs([TOOL_NAMES[t] for t in TOOLS], key="ex.tab", on_change="rerun")
ss["ex.open_tab"] = ss.get("ex.tab")
for tab, tool in zip(tabs, TOOLS, strict=True):
    with tab:
        left, right = st.columns([2, 3], gap="large")
        with left:
            FORMS[tool]()  # every form is drawn, so its inputs keep their values
        if tab.open:
            with right:
                results(tool)  # first: a run that fails or stops leaves the previous link
                query = link_query(tool)
                if st.query_params.to_dict() != query:
                    st.query_params.from_dict(query)
                if query:
                    views.share_link(
                        st.context.url or "",
                        query,
                        "Link to these results: it opens this tool with the inputs they were run "
                        "with, and runs them."
                        if ss.get(k(tool, "applied"))
                        else "Link to this experiment: it opens this tool with these inputs.",
                    )
