"""The Learn page's lessons and challenges, and its state (the model in plain language is in
:mod:`app.model_guide`).

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
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from app import compute, controls, figures, session
from app.state import (
    LEARN_MAX_REPLICATIONS,
    LEARN_REPLICATIONS,
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
from sim.narrative import HEADLINE_KPIS, MIN_PAIRS, headline, paired_runs
from sim.outcomes import KPIS
from sim.params import ParamError, diff, flatten, get, with_overrides
from sim.report.format import count, fmt_value, full_stop, kpi_table
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
URL_OPENED = "learn.url_opened"  # what the link opened: its warnings hold until something changes
PREDICT_ERROR = "learn.predict_error"  # {lesson: message}: each lesson's own, not another's
SMALL_SHARE = "learn.small_share"  # (lesson, value) of a prediction under 1% asked about once
TRY_ERROR = "learn.try_error"  # {challenge: message}
REVEAL_BAND = 90


# --------------------------------------------------------------------------------------------------
# Page state
# --------------------------------------------------------------------------------------------------


# The widgets that hold what the page shows, and their names in ``learn.open``.
_OPEN_KEYS = (
    (TAB_KEY, "tab"),
    (LESSON_KEY, "lesson"),
    (CHALLENGE_KEY, "challenge"),
    (SEED_KEY, "seed"),
    (REPS_KEY, "reps"),
)


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
        ss[URL_OPENED] = dict(ss[OPEN])
        ss.setdefault(LESSONS, {})
        ss.setdefault(CHALLENGES, {})
    shown = ss[OPEN]
    for key, name in _OPEN_KEYS:
        if key not in ss:
            ss[key] = shown[name]


def link_warnings() -> list[str]:
    """The link's warnings, while the page still shows what the link opened (once a tab, lesson,
    challenge or run setting is changed they no longer apply, and are dropped)."""
    ss = st.session_state
    opened = ss.get(URL_OPENED, {})
    now = {name: ss.get(key, opened.get(name)) for key, name in _OPEN_KEYS}
    if any(now[name] != opened.get(name) for name in now):
        ss.pop(URL_WARNINGS, None)
    return ss.get(URL_WARNINGS, [])


def keep_open() -> LearnState:
    """Remember the open tab, lesson, challenge and run settings; the state the link restores."""
    ss = st.session_state
    shown = ss[OPEN]
    typed_ok = run_settings_problem() is None  # else the last usable seed and replications stay
    for key, name in _OPEN_KEYS:
        if ss.get(key) is not None and (typed_ok or name not in ("seed", "reps")):
            shown[name] = ss[key]
    tab = shown["tab"]
    return LearnState(
        lesson=shown["lesson"] if tab == TABS[1] else None,
        challenge=shown["challenge"] if tab == TABS[2] else None,
        seed=int(shown["seed"]),
        replications=int(shown["reps"]),
    )


def run_settings_problem() -> str | None:
    """Why the seed and replications typed cannot be used (None when they can)."""
    ss = st.session_state
    return controls.run_settings_problem(ss.get(SEED_KEY), ss.get(REPS_KEY), LEARN_MAX_REPLICATIONS)


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


def prediction_step(kpi: str) -> float:
    """The step of a numeric prediction's input, in the unit it is asked in."""
    unit, _ = prediction_unit(kpi)
    return 1.0 if unit in ("%", "days") else 100.0


def format_prediction(lesson: Lesson, prediction: Any) -> str:
    if lesson.prediction == "direction":
        return str(prediction)
    unit, _ = prediction_unit(lesson.kpi)
    if unit == "value points":  # as the simulated value beside it: "4,100 points"
        return fmt_value(float(prediction), unit)
    return f"{float(prediction):g}%" if unit == "%" else f"{float(prediction):,g} {unit}"


def lever_columns(keys: Sequence[str], columns: int = 2) -> list[list[str]]:
    """A challenge's levers in columns, in their order, each run of one section's settings (a
    review's switch and its interval, say) kept together in the column with the fewest so far."""
    runs: list[list[str]] = []
    for key in keys:
        section = key.rsplit(".", 1)[0]
        if runs and runs[-1][0].rsplit(".", 1)[0] == section:
            runs[-1].append(key)
        else:
            runs.append([key])
    out: list[list[str]] = [[] for _ in range(columns)]
    for run in runs:
        min(out, key=len).extend(run)
    return out


def predict_key(name: str) -> str:
    return f"learn.predict.{name}"


def lesson_record(name: str) -> dict | None:
    """The committed prediction of a lesson (and its score once revealed), or None."""
    return st.session_state.get(LESSONS, {}).get(name, {}).get("current")


def on_commit(name: str) -> None:
    """Commit the prediction typed (or chosen) for a lesson; nothing is revealed before this."""
    ss = st.session_state
    errors = ss.setdefault(PREDICT_ERROR, {})
    errors.pop(name, None)
    value = ss.get(predict_key(name))
    lesson = load_lesson(name)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        what = "a number" if lesson.prediction == "number" else "a direction"
        errors[name] = f"Commit {what} first: the reveal stays hidden until you do."
        return
    # Likely a fraction typed for a percentage (0.35 for 35%): asked about once before it is kept.
    percent = lesson.prediction == "number" and prediction_unit(lesson.kpi)[0] == "%"
    if lesson.prediction == "number" and (value < 0 or (percent and value > 100)):
        allowed = "a percentage from 0 to 100" if percent else "zero or more"
        errors[name] = f"Your prediction = {value:,g} is out of range: {allowed}."
        return
    if percent and 0 < value < 1 and ss.get(SMALL_SHARE) != (name, value):
        ss[SMALL_SHARE] = (name, value)
        errors[name] = (
            f"{value:g}% is less than one percent. If you meant {value * 100:g}%, type "
            f"{value * 100:g}; to keep {value:g}%, press Commit again."
        )
        return
    ss.pop(SMALL_SHARE, None)
    seed, reps = run_settings()
    if reps < MIN_PAIRS:
        # A reveal scores against the paired differences: too few of them call no change.
        errors[name] = (
            f"A lesson compares its runs with the baseline's in pairs, and {paired_runs(reps)} "
            f"are too few to call a change: set Replications to at least {MIN_PAIRS} under Run "
            f"settings above (lessons start at {LEARN_REPLICATIONS}). Your prediction is kept."
        )
        return
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
    ss.get(PREDICT_ERROR, {}).pop(name, None)


def lesson_settings(lesson: Lesson) -> tuple[str, str]:
    """The canonical settings of a lesson's situation and of its baseline (at the same horizon)."""
    params = lesson.scenario.params
    base = preset_setup(lesson.baseline)
    return canonical(diff(params)), canonical(with_horizon(base.overrides, params.horizon_weeks))


def open_lesson_in_sandbox(lesson: Lesson, seed: int, replications: int) -> None:
    """Load a lesson's situation into the Sandbox with its baseline pinned, to see every curve,
    with the reveal's seed and replications (so its numbers are the reveal's)."""
    scenario = lesson.scenario
    variant = Setup(
        None,
        scenario.title,
        diff(scenario.params),
        description=scenario.description,
        teaching_notes=scenario.teaching_notes,
    )
    session.open_in_sandbox(
        variant, preset_setup(lesson.baseline), seed=seed, replications=replications, same_run=True
    )


@st.cache_data(max_entries=32, ttl=compute.CACHE_TTL_SECONDS, show_spinner=False)
def run_lesson(name: str, seed: int, replications: int, model_version: str) -> dict:
    """A lesson's reveal: its KPI's replications, the paired differences, sentence and chart, and
    every KPI against the baseline (the numbers the debrief cites)."""
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
        "row": paired["kpis"].set_index("kpi").loc[kpi].to_dict(),
        "figure": {**figure.to_dict(), "wide": True},
        "kpi_table": kpi_table(view["kpi"], paired["kpis"], base["kpi"]),
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
            diffs=np.array(reveal["diffs"], dtype=float),
            # The baseline as a learner types it ("about 35%") means no change.
            same_within=prediction_step(lesson.kpi) / 2 / factor,
        )
    return result.score, result.verdict


def lessons_table() -> pd.DataFrame:
    """Every lesson with its objective and, once revealed, the learner's first prediction and its
    score: the one made before the answer was seen. A prediction made again after "Try again" is
    added as a later try (re-typing the revealed number would otherwise score 100)."""
    rows = []
    for i, name in enumerate(lesson_names(), start=1):
        lesson = load_lesson(name)
        entry = st.session_state.get(LESSONS, {}).get(name, {})
        made = [r for r in [*entry.get("history", []), entry.get("current")] if r]
        first, last = (made[0], made[-1]) if made else (None, None)
        prediction = score = "—"
        if first:
            prediction = format_prediction(lesson, first["prediction"])
            if first.get("score") is not None:
                score = f"{first['score']} / 100"
        if last is not first and last.get("score") is not None:
            prediction += f"; later {format_prediction(lesson, last['prediction'])}"
            score += f" (later try {last['score']} / 100, after seeing the answer)"
        rows.append(
            {
                "Lesson": f"{i}. {lesson.title}",
                "Objective": lesson.objective,
                "Your first prediction": prediction,
                "Score": score,
            }
        )
    return pd.DataFrame(rows)


def next_lesson(name: str) -> str | None:
    """The lesson after ``name`` in teaching order (None after the last)."""
    names = lesson_names()
    i = names.index(name)
    return names[i + 1] if i + 1 < len(names) else None


def on_next_lesson(name: str) -> None:
    """Open the lesson after ``name``, or the challenges after the last lesson."""
    following = next_lesson(name)
    if following is None:
        st.session_state[TAB_KEY] = TABS[2]
    else:
        st.session_state[LESSON_KEY] = following


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
    """The allowed levers that differ from the challenge's start, in words; a review's settings
    are left out while the attempt holds no such review (they change nothing)."""
    start = flatten(start_params(challenge))
    now = {**start, **values}
    parts = []
    for key in challenge.levers:
        section, _, field = key.rpartition(".")
        if field != "enabled" and now.get(f"{section}.enabled") is False:
            continue
        if key in values and values[key] != start[key]:
            parts.append(controls.change_text(key, start[key], values[key]))
    return "; ".join(parts) or "nothing (the starting settings)"


def on_try(name: str) -> None:
    """Try the levers' values: validate them together, then add an attempt (scored on the page)."""
    ss = st.session_state
    errors = ss.setdefault(TRY_ERROR, {})
    errors.pop(name, None)
    challenge = load_challenge(name)
    values = {key: ss.get(challenge_key(name, key)) for key in challenge.levers}
    try:
        params = with_overrides(start_params(challenge), values)
    except ParamError as err:
        errors[name] = (
            f"Not run: {full_stop(controls.setting_problem(err))} Your earlier attempts are kept."
        )
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
                "Runs": f"{count(a['reps'], 'replication')}, seed {a['seed']}",
            }
            for i, a in enumerate(attempts(name), start=1)
        ],
        columns=["Attempt", "Settings changed", "Score", "Runs"],
    )
