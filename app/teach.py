"""The Learn page's content and state: the model in plain language, lessons and challenges.

* **The model** — a causal diagram (Graphviz DOT) from incentives to retention, each mechanism with
  the levers that change it and an example that opens in the Sandbox, and the validations.
* **Lessons** (predict, then reveal) — the learner commits to a number or a direction before
  anything is run or shown; the reveal runs the lesson's situation and its baseline on the same seed
  (paired, from the cached runs of :mod:`app.compute`) and scores the prediction with
  :func:`sim.lessons.score_number` or :func:`sim.lessons.score_direction`.
* **Challenges** — the allowed levers, a try, and the score of :func:`sim.lessons.score_challenge`
  (the share of replications meeting every goal), with every attempt of the session.

``session_state`` holds UI state only, as plain values:

* ``learn.lessons`` — per lesson: the committed prediction (in the unit it was asked in), the seed
  and replications of its reveal, its score and verdict, and earlier attempts;
* ``learn.challenges`` — per challenge: the attempts (settings, what changed, seed, replications,
  score);
* ``learn.open`` — the open tab, lesson and challenge, seed and replications (restored after
  visiting another page); widget values under their ``learn.*`` keys.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app import compute, controls, figures, session
from app.state import (
    LearnState,
    Setup,
    canonical,
    decode_learn,
    preset_setup,
    with_horizon,
)
from sim.lessons import (
    Challenge,
    Lesson,
    challenge_names,
    lesson_names,
    load_challenge,
    load_lesson,
    score_challenge,
    score_direction,
    score_number,
)
from sim.narrative import HEADLINE_KPIS, headline
from sim.outcomes import KPIS
from sim.params import ParamError, diff, flatten, get, info, with_overrides
from sim.report.format import fmt_value
from sim.runner import MODEL_VERSION
from sim.scenarios import load_preset

TABS = ("How the model works", "Lessons", "Challenges")
TAB_KEY = "learn.tab"
LESSON_KEY = "learn.lesson"
CHALLENGE_KEY = "learn.challenge"
SEED_KEY = "learn.seed"
REPS_KEY = "learn.reps"
OPEN = "learn.open"
LESSONS = "learn.lessons"
CHALLENGES = "learn.challenges"
URL_WARNINGS = "learn.url_warnings"
PREDICT_ERROR = "learn.predict_error"
TRY_ERROR = "learn.try_error"
REVEAL_BAND = 90


# --------------------------------------------------------------------------------------------------
# The model in plain language
# --------------------------------------------------------------------------------------------------

# Light fills with dark text read the same on light and dark themes; lines are a mid-grey.
_LEVER_FILL = "#bfdbfe"
_MARKET_FILL = "#fde68a"
_STATE_FILL = "#e2e8f0"
_OUTCOME_FILL = "#bbf7d0"
_LINE = "#808080"


def causal_diagram() -> str:
    """The model's causal diagram as a Graphviz DOT string.

    Blue boxes are levers a leader sets, yellow the market, grey what the model keeps track of,
    green the outcomes customers feel. A dashed arrow is a cost.
    """
    nodes = {
        "incentives": ("Incentives\n(what each function is paid on)", _LEVER_FILL),
        "reviews": ("Review rhythm\n(metric, council, strategy, event)", _LEVER_FILL),
        "rights": ("Decision rights", _LEVER_FILL),
        "discovery": ("Discovery time\nand strategy focus", _LEVER_FILL),
        "market": ("Market shifts\nand demand shocks", _MARKET_FILL),
        "alignment": ("Alignment", _STATE_FILL),
        "capacity": ("Build capacity", _STATE_FILL),
        "queue": ("Decision queue", _STATE_FILL),
        "work": ("Work chosen", _STATE_FILL),
        "value": ("Value delivered\n(the product's value stocks)", _STATE_FILL),
        "ttv": ("Time-to-value", _OUTCOME_FILL),
        "activation": ("Activation\n(value within the habit threshold)", _OUTCOME_FILL),
        "retention": ("Retention", _OUTCOME_FILL),
    }
    edges = (
        ("incentives", "alignment", "pull toward the local metric", ""),
        ("alignment", "work", "weighs true value\nagainst local appeal", ""),
        ("discovery", "work", "sharper estimates,\nfocus on a kind of work", ""),
        ("work", "value", "", ""),
        ("capacity", "value", "build speed", ""),
        ("value", "ttv", "onboarding stock", ""),
        ("ttv", "activation", "", ""),
        ("activation", "retention", "", ""),
        ("value", "retention", "core stock", ""),
        ("incentives", "retention", "oversold customers\n(sales, marketing)", ""),
        ("reviews", "alignment", "detect drift, correct it", ""),
        ("reviews", "capacity", "cost attendees' hours", "dashed"),
        ("rights", "queue", "escalate items", ""),
        ("reviews", "queue", "the council decides", ""),
        ("queue", "work", "filters, adds waiting", ""),
        ("market", "value", "devalues old work", ""),
        ("reviews", "work", "re-aim after a shift", ""),
    )
    lines = [
        "digraph model {",
        '  graph [rankdir=LR, bgcolor="transparent", nodesep=0.3, ranksep=0.5, '
        'fontname="Helvetica"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=14, '
        f'color="{_LINE}", fontcolor="#1f2933"];',
        f'  edge [color="{_LINE}", fontcolor="{_LINE}", fontname="Helvetica", fontsize=11, '
        "arrowsize=0.7];",
    ]
    for name, (label, fill) in nodes.items():
        lines.append(f'  {name} [label="{_dot(label)}", fillcolor="{fill}"];')
    for a, b, label, style in edges:
        attrs = [f'label="{_dot(label)}"'] if label else []
        if style:
            attrs.append(f"style={style}")
        lines.append(f"  {a} -> {b}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines)


def _dot(text: str) -> str:
    """Text for a DOT label: quotes escaped, line breaks as ``\\n``."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class Mechanism:
    """One mechanism of the model, the levers that change it, and an example to open."""

    title: str
    text: str
    levers: tuple[str, ...]
    base: str  # the example's preset, pinned as its baseline
    change: Mapping[str, Any] = field(default_factory=dict)
    example: str = ""


def _d(key: str) -> float:
    return float(info(key).default)


def mechanisms() -> tuple[Mechanism, ...]:
    """The mechanisms in causal order (numbers from the parameters' defaults)."""
    return (
        Mechanism(
            "Incentives pull alignment",
            "Each week a function's alignment moves a share of the way (the drift rate, "
            f"{_d('incentives.drift_rate_per_week'):g} a week) toward the alignment of what it is "
            f"paid on: {_d('incentives.shared_outcome_alignment'):g} for a shared outcome, "
            f"{_d('incentives.mixed_alignment'):g} for a mixed scorecard, "
            f"{_d('incentives.local_metric_alignment'):g} for a local metric. Product teams' "
            "local metric is delivery velocity, marketing's is campaign volume, sales' is "
            "bookings: drifting sales and marketing bring more sign-ups, more of them oversold.",
            (
                "incentives.product",
                "incentives.marketing",
                "incentives.sales",
                "incentives.drift_rate_per_week",
            ),
            "aligned-baseline",
            {"incentives.product": "local_metric"},
            "product teams paid on velocity, against the aligned baseline",
        ),
        Mechanism(
            "Alignment decides what gets built",
            "A team with a free slot starts the waiting idea with the best score: its estimate of "
            "the idea's value weighted by its alignment a, plus the idea's appeal to the local "
            "metric weighted by √(1 − a²). An aligned team builds what customers value; a "
            "drifting one builds what its metric rewards. Protected discovery time sharpens the "
            "estimates but takes build time; the strategy focus moves one kind of work up the "
            "list.",
            ("org.discovery_share", "work.strategy_focus"),
            "aligned-baseline",
            {"org.discovery_share": 0.0},
            "no protected discovery time, against the aligned baseline",
        ),
        Mechanism(
            "Value builds the product; the product keeps customers",
            "Released work adds to three value stocks that wear out by "
            f"{_d('product.depreciation_per_week'):.0%} a week. The onboarding stock sets "
            "time-to-value: customers who reach value within the habit threshold "
            f"({_d('customers.habit_threshold_days'):g} days) activate, the others churn "
            f"{_d('customers.not_activated_churn_multiplier'):g} times as fast. The core stock "
            "sets churn, the growth stock sign-ups. Churn propensities follow the "
            "shifted-beta-geometric model.",
            ("work.strategy_focus", "org.wip_limit_per_team"),
            "aligned-baseline",
            {"work.strategy_focus": "time_to_value"},
            "a strategy focused on time-to-value, against the aligned baseline",
        ),
        Mechanism(
            "Reviews catch drift, and cost capacity",
            "Every review takes its attendees' hours from each product team. It notices a "
            "drifting team with a probability that rises with instrumentation quality and with "
            "the size of the drift, and pulls the team back toward the strategy. Too few reviews "
            "let drift run; too many eat the time that builds value.",
            (
                "reviews.metric.enabled",
                "reviews.council.interval_weeks",
                "reviews.strategy.interval_weeks",
                "reviews.event.enabled",
                "reviews.instrumentation_quality",
            ),
            "drifting-incentives",
            {"reviews.council.interval_weeks": 1.0},
            "a weekly council for the drifting organisation, against its usual rhythm",
        ),
        Mechanism(
            "Decision rights fill the decision queue",
            "Under guardrails, items larger than the escalation size wait in the decision queue "
            "for the next council; under centralised rights every item does. The council rejects "
            "what it sees as low value and stops poor work in progress: lead time grows, but the "
            "filter protects value when teams drift.",
            (
                "decisions.rights",
                "decisions.escalation_size_person_days",
                "reviews.council.interval_weeks",
            ),
            "drifting-incentives",
            {"decisions.rights": "centralised"},
            "centralised decisions for the drifting organisation",
        ),
        Mechanism(
            "Market shifts reward a fast rhythm",
            "When the market moves, what was built for the old market keeps "
            f"{_d('product.old_epoch_value_share'):.0%} of its worth, and new ideas keep coming "
            "from the old picture of the market until a strategy review (or an event-triggered "
            "review) notices the shift and re-aims the backlog.",
            (
                "market.shift_enabled",
                "market.shift_week",
                "market.demand_shock_enabled",
                "reviews.strategy.interval_weeks",
                "reviews.event.enabled",
            ),
            "pivot",
            {"reviews.strategy.interval_weeks": 4.0},
            "the pivot with a strategy review every 4 weeks, against the quarterly one",
        ),
    )


def lever_group(key: str) -> str | None:
    """The Sandbox's lever group a setting is in (None if the Sandbox has no control for it)."""
    for title, levers in controls.GROUPS:
        if any(lever.key == key for lever in levers):
            return title
    return None


def lever_names(mechanism: Mechanism) -> str:
    """The mechanism's levers as Markdown, by the Sandbox group they are in: label and key."""
    groups: dict[str, list[str]] = {}
    for key in mechanism.levers:
        group = lever_group(key) or "scenario files and links"
        groups.setdefault(group, []).append(f"**{controls.lever_for(key).label}** (`{key}`)")
    return "; ".join(f"in *{group}*: " + ", ".join(names) for group, names in groups.items())


def example_setups(mechanism: Mechanism) -> tuple[Setup, Setup]:
    """The example's settings and its baseline (the preset it starts from)."""
    base = preset_setup(mechanism.base)
    params = with_overrides(load_preset(mechanism.base).params, mechanism.change)
    return Setup(base.preset, base.title + " (modified)", diff(params)), base


def open_example(mechanism: Mechanism) -> None:
    """Load a mechanism's example into the Sandbox (its preset pinned as the baseline); a Sandbox
    not yet opened in this session starts with the Learn page's seed and replications."""
    variant, base = example_setups(mechanism)
    seed, reps = run_settings()
    session.open_in_sandbox(variant, base, seed=seed, replications=reps)


VALIDATIONS = (
    "**Retention** — with every churn multiplier at 1, simulated survival by customer age matches "
    "the shifted-beta-geometric curve S(t) = B(α, β + t) / B(α, β) (Fader & Hardie 2007).",
    "**Queueing** — with reviews off and alignment fixed, a team is an M/M/c queue: the mean wait "
    "matches Erlang C, and Little's law (L = λW; Little 1961) holds between the model's counters "
    "and its items' timestamps.",
    "**Detection delay** — drift caught by reviews every T weeks, each noticing it with "
    "probability p, is caught after T (1/p − ½) on average.",
    "**Drifting goals** — with no reviews, mean alignment follows a_local + (a₀ − a_local)(1 − κ)^t "
    "week by week (Senge 1990; Sterman 2000).",
)
PATTERNS = (
    "Aligned incentives beat drifting ones on value, time-to-value and retention.",
    "With no reviews, drifting alignment settles near the local metric's; reviews hold it higher.",
    "Under drift, value against the review interval is U-shaped; under alignment, frequent "
    "reviews mostly cost.",
    "Sales paid on bookings: more sign-ups early, worse fit, more early churn, lower retention.",
    "After a market shift, a faster strategy rhythm (or event-triggered reviews) recovers sooner.",
    "Centralised decisions lengthen lead time; delegation helps when aligned and amplifies drift "
    "when not.",
    "Protected discovery time has an interior optimum.",
)
REFERENCES = (
    "Baker, G. (2002). Distortion and risk in optimal incentive contracts. *Journal of Human "
    "Resources* 37(4).",
    "Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. *Journal of "
    "Interactive Marketing* 21(1).",
    "Kohavi, R., Tang, D., & Xu, Y. (2020). *Trustworthy Online Controlled Experiments*. "
    "Cambridge University Press.",
    "Little, J. D. C. (1961). A proof for the queuing formula L = λW. *Operations Research* 9(3).",
    "Senge, P. (1990). *The Fifth Discipline*. Doubleday.",
    "Sterman, J. D. (2000). *Business Dynamics*. Irwin/McGraw-Hill.",
    "Grimm, V., et al. (2010), and Müller, B., et al. (2013): the ODD and ODD+D protocols the "
    "model description follows.",
)


# --------------------------------------------------------------------------------------------------
# Page state
# --------------------------------------------------------------------------------------------------


def init_learn() -> None:
    """Start the Learn page from its link (once per session); restore widgets after a visit."""
    ss = st.session_state
    if OPEN not in ss:
        state, warnings = decode_learn(session.take_initial_query("Learn"))
        tab = TABS[2] if state.challenge else TABS[1] if state.lesson else TABS[0]
        ss[OPEN] = {
            "tab": tab,
            "lesson": state.lesson or lesson_names()[0],
            "challenge": state.challenge or challenge_names()[0],
            "seed": state.seed,
            "reps": state.replications,
        }
        ss[URL_WARNINGS] = warnings
        ss.setdefault(LESSONS, {})
        ss.setdefault(CHALLENGES, {})
    shown = ss[OPEN]
    for key, name in (
        (TAB_KEY, "tab"),
        (LESSON_KEY, "lesson"),
        (CHALLENGE_KEY, "challenge"),
        (SEED_KEY, "seed"),
        (REPS_KEY, "reps"),
    ):
        if key not in ss:
            ss[key] = shown[name]


def keep_open() -> LearnState:
    """Remember the open tab, lesson, challenge and run settings; the state the link restores."""
    ss = st.session_state
    shown = ss[OPEN]
    for key, name in (
        (TAB_KEY, "tab"),
        (LESSON_KEY, "lesson"),
        (CHALLENGE_KEY, "challenge"),
        (SEED_KEY, "seed"),
        (REPS_KEY, "reps"),
    ):
        if ss.get(key) is not None:
            shown[name] = ss[key]
    tab = shown["tab"]
    return LearnState(
        lesson=shown["lesson"] if tab == TABS[1] else None,
        challenge=shown["challenge"] if tab == TABS[2] else None,
        seed=int(shown["seed"]),
        replications=int(shown["reps"]),
    )


def run_settings() -> tuple[int, int]:
    """The seed and replications the next reveal or attempt runs with."""
    shown = st.session_state[OPEN]
    return int(shown["seed"]), int(shown["reps"])


# --------------------------------------------------------------------------------------------------
# Lessons
# --------------------------------------------------------------------------------------------------


def prediction_unit(kpi: str) -> tuple[str, float]:
    """The unit a learner predicts a KPI in, and the factor from the KPI's value to it.

    Shares are asked in percent (35 for 35%); other KPIs in their own unit.
    """
    unit = KPIS[kpi].unit
    if unit == "share":
        return "%", 100.0
    return unit, 1.0


def format_prediction(lesson: Lesson, prediction: Any) -> str:
    if lesson.prediction == "direction":
        return str(prediction)
    unit, _ = prediction_unit(lesson.kpi)
    return f"{float(prediction):g}%" if unit == "%" else f"{float(prediction):,g} {unit}"


def predict_key(name: str) -> str:
    return f"learn.predict.{name}"


def lesson_record(name: str) -> dict | None:
    """The committed prediction of a lesson (and its score once revealed), or None."""
    return st.session_state.get(LESSONS, {}).get(name, {}).get("current")


def on_commit(name: str) -> None:
    """Commit the prediction typed (or chosen) for a lesson; nothing is revealed before this."""
    ss = st.session_state
    ss.pop(PREDICT_ERROR, None)
    value = ss.get(predict_key(name))
    lesson = load_lesson(name)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        what = "a number" if lesson.prediction == "number" else "a direction"
        ss[PREDICT_ERROR] = f"Commit {what} first: the reveal stays hidden until you do."
        return
    seed, reps = run_settings()
    entry = ss.setdefault(LESSONS, {}).setdefault(name, {"history": []})
    entry["current"] = {
        "prediction": value if lesson.prediction == "direction" else float(value),
        "seed": seed,
        "reps": reps,
        "score": None,
        "verdict": None,
    }


def on_try_again(name: str) -> None:
    """Put the revealed prediction in the lesson's history and ask for a new one."""
    ss = st.session_state
    entry = ss.get(LESSONS, {}).get(name)
    if entry and entry.get("current"):
        entry["history"].append(entry.pop("current"))
    ss.pop(predict_key(name), None)
    ss.pop(PREDICT_ERROR, None)


def lesson_settings(lesson: Lesson) -> tuple[str, str]:
    """The canonical settings of a lesson's situation and of its baseline (at the same horizon)."""
    params = lesson.scenario.params
    base = preset_setup(lesson.baseline)
    return canonical(diff(params)), canonical(with_horizon(base.overrides, params.horizon_weeks))


@st.cache_data(max_entries=32, ttl=compute.CACHE_TTL_SECONDS, show_spinner=False)
def run_lesson(name: str, seed: int, replications: int, model_version: str) -> dict:
    """A lesson's reveal: its KPI's replications, the paired differences, sentence and chart."""
    lesson = load_lesson(name)
    settings, base_settings = lesson_settings(lesson)
    view = compute.run_view(settings, seed, replications, model_version, REVEAL_BAND)
    base = compute.run_view(base_settings, seed, replications, model_version, REVEAL_BAND)
    paired = compute.run_paired(
        base_settings, settings, seed, replications, model_version, REVEAL_BAND
    )
    kpi = lesson.kpi
    both = view["kpis"][["replication", kpi]].merge(
        base["kpis"][["replication", kpi]], on="replication", suffixes=("", "_base")
    )
    samples = both[kpi].to_numpy(dtype=float)
    diffs = samples - both[f"{kpi}_base"].to_numpy(dtype=float)
    base_title = load_preset(lesson.baseline).title
    order = (kpi, *(k for k in HEADLINE_KPIS if k != kpi))
    figure = figures.pair_figure(
        view,
        base,
        lesson.reveal,
        REVEAL_BAND,
        names=(f"Baseline: {base_title}", lesson.title),
        key=f"learn_chart_{name}",
        section="Reveal",
    )
    return {
        "samples": samples.tolist(),
        "diffs": diffs.tolist(),
        "baseline_mean": base["kpi"][kpi]["mean"],
        "summary": view["kpi"][kpi],
        "base_title": base_title,
        "headline": headline(paired["kpis"], kpis=order, subject=f"“{lesson.title}”"),
        "figure": {**figure.to_dict(), "wide": True},
    }


def lesson_reveal(name: str, seed: int, replications: int) -> dict:
    return run_lesson(name, seed, replications, MODEL_VERSION)


def score_lesson(lesson: Lesson, record: Mapping, reveal: Mapping) -> tuple[int, str]:
    """The score (0–100) and verdict of a committed prediction against its reveal."""
    if lesson.prediction == "direction":
        result = score_direction(str(record["prediction"]), np.array(reveal["diffs"]))
    else:
        _, factor = prediction_unit(lesson.kpi)
        baseline = reveal["baseline_mean"]
        result = score_number(
            float(record["prediction"]) / factor,
            np.array(reveal["samples"]),
            math.nan if baseline is None else float(baseline),
            KPIS[lesson.kpi].unit,
        )
    return result.score, result.verdict


def lessons_table() -> pd.DataFrame:
    """Every lesson with its objective and, once revealed, the learner's prediction and score."""
    rows = []
    for i, name in enumerate(lesson_names(), start=1):
        lesson = load_lesson(name)
        record = lesson_record(name)
        revealed = record is not None and record.get("score") is not None
        rows.append(
            {
                "Lesson": f"{i}. {lesson.title}",
                "Objective": lesson.objective,
                "Your prediction": format_prediction(lesson, record["prediction"])
                if record
                else "—",
                "Score": f"{record['score']} / 100" if revealed else "—",
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# Challenges
# --------------------------------------------------------------------------------------------------


def challenge_key(name: str, setting: str) -> str:
    return f"learn.ch.{name}.{setting}"


def attempts(name: str) -> list[dict]:
    return st.session_state.get(CHALLENGES, {}).get(name, [])


def start_params(challenge: Challenge):
    return challenge.scenario.params


def set_challenge_levers(challenge: Challenge) -> None:
    """Fill the challenge's lever widgets: the last attempt's values, or the starting ones."""
    ss = st.session_state
    done = attempts(challenge.name)
    params = start_params(challenge)
    if done:
        params = with_overrides(params, done[-1]["values"])
    for key in challenge.levers:
        widget = challenge_key(challenge.name, key)
        if widget not in ss:
            ss[widget] = get(params, key)


def describe_changes(challenge: Challenge, values: Mapping[str, Any]) -> str:
    """The allowed levers that differ from the challenge's start, in words."""
    start = flatten(start_params(challenge))
    parts = []
    for key in challenge.levers:
        if key in values and values[key] != start[key]:
            lever = controls.lever_for(key)
            parts.append(f"{lever.label}: {_value(start[key])} → {_value(values[key])}")
    return "; ".join(parts) or "nothing (the starting settings)"


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return controls.choice_label(value)


def on_try(name: str) -> None:
    """Try the levers' values: validate them together, then add an attempt (scored on the page)."""
    ss = st.session_state
    ss.pop(TRY_ERROR, None)
    challenge = load_challenge(name)
    values = {key: ss.get(challenge_key(name, key)) for key in challenge.levers}
    try:
        params = with_overrides(start_params(challenge), values)
    except ParamError as err:
        ss[TRY_ERROR] = f"Not run: {err}. Your earlier attempts are kept."
        return
    seed, reps = run_settings()
    ss.setdefault(CHALLENGES, {}).setdefault(name, []).append(
        {
            "values": values,
            "settings": canonical(diff(params)),
            "changed": describe_changes(challenge, values),
            "seed": seed,
            "reps": reps,
            "score": None,
        }
    )


def score_attempt(challenge: Challenge, attempt: Mapping) -> dict:
    """An attempt's score, each goal's mean and share met (from the cached run)."""
    view = compute.view(attempt["settings"], attempt["seed"], attempt["reps"], REVEAL_BAND)
    kpis = view["kpis"]
    result = score_challenge(
        challenge, {g.kpi: kpis[g.kpi].to_numpy(dtype=float) for g in challenge.goals}
    )
    goals = pd.DataFrame(
        [
            {
                "Goal": goal.describe(),
                "Mean": fmt_value(mean, KPIS[goal.kpi].unit),
                "Worlds meeting it": f"{share:.0%}",
            }
            for goal, mean, share in result.goals
        ]
    )
    return {"score": result.score, "solved": result.solved, "goals": goals}


def attempts_table(name: str) -> pd.DataFrame:
    """Attempts so far: number, settings changed, score (and the run's replications and seed)."""
    return pd.DataFrame(
        [
            {
                "Attempt": i,
                "Settings changed": a["changed"],
                "Score": "…" if a["score"] is None else f"{a['score']} / 100",
                "Runs": f"{a['reps']} replications, seed {a['seed']}",
            }
            for i, a in enumerate(attempts(name), start=1)
        ],
        columns=["Attempt", "Settings changed", "Score", "Runs"],
    )
