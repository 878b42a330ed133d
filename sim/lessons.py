"""Guided lessons (predict, then reveal) and goal-based challenges.

A lesson file in ``scenarios/lessons/`` is a scenario file (the situation to explore, under
``[scenario]`` and ``[settings]``) plus a ``[lesson]`` table: the learning objective, the question, what
the learner predicts (a number for a KPI, or the direction it moves), the baseline it is compared with,
the chart the reveal shows, debrief notes and discussion questions.

A challenge file in ``scenarios/challenges/`` is a starting scenario plus a ``[challenge]`` table: the
brief, the levers the player may change and the goals ("52-week retention >= 0.33", "meeting overhead
<= 0.08"). Its score is the share of replications meeting every goal: a plan that works on average but
fails in four worlds out of ten scores 60.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from sim.outcomes import KPIS, SERIES
from sim.params import check_key
from sim.report.format import fmt_value
from sim.scenarios import SCENARIO_DIR, Scenario, ScenarioError, load_preset, parse

LESSON_DIR = SCENARIO_DIR / "lessons"
CHALLENGE_DIR = SCENARIO_DIR / "challenges"
DIRECTIONS = ("rises", "about the same", "falls")
OPERATORS = (">=", "<=")


@dataclass(frozen=True)
class Lesson:
    """A guided lesson: a situation, a question, a prediction and a debrief."""

    name: str
    title: str
    objective: str
    question: str
    kpi: str
    prediction: str  # "number" or "direction"
    expect: str  # the direction the KPI moves against the baseline, as the debrief tells it
    baseline: str  # preset the situation is compared with
    reveal: str  # "retention" or a weekly series name
    debrief: str
    discussion: tuple[str, ...]
    scenario: Scenario


@dataclass(frozen=True)
class Goal:
    """One goal of a challenge: a KPI, a comparison and a target."""

    kpi: str
    op: str
    target: float

    def met(self, values: np.ndarray) -> np.ndarray:
        return values >= self.target if self.op == ">=" else values <= self.target

    def describe(self) -> str:
        k = KPIS[self.kpi]
        target = f"{self.target:.1%}" if k.unit == "share" else f"{self.target:,.0f} {k.unit}"
        return f"{k.label} {'≥' if self.op == '>=' else '≤'} {target}"


@dataclass(frozen=True)
class Challenge:
    """A goal-based scenario the player tries to solve with a few levers."""

    name: str
    title: str
    brief: str
    levers: tuple[str, ...]
    goals: tuple[Goal, ...]
    scenario: Scenario
    hints: tuple[str, ...] = field(default_factory=tuple)


def _split(path: Path, extra: str) -> tuple[dict[str, Any], Scenario]:
    raw = path.read_bytes()
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ScenarioError(f"{path.name} is not valid TOML: {err}") from None
    table = doc.pop(extra, None)
    if not isinstance(table, dict):
        raise ScenarioError(f"{path.name} has no [{extra}] table")
    return table, parse(tomli_w.dumps(doc), name=path.stem)


def _text(table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{where}: [{key}] must be non-empty text")
    return value.strip()


def load_lesson(name: str) -> Lesson:
    """A lesson by name (file stem in ``scenarios/lessons``)."""
    path = LESSON_DIR / f"{name}.toml"
    if "/" in name or not path.is_file():
        raise ScenarioError(f"lesson {name!r} does not exist: one of " + ", ".join(lesson_names()))
    t, scenario = _split(path, "lesson")
    where = f"lesson {name}"
    kpi = _text(t, "kpi", where)
    if kpi not in KPIS:
        raise ScenarioError(f"{where}: kpi = {kpi!r} is not a KPI: one of " + ", ".join(KPIS))
    prediction = t.get("prediction", "number")
    if prediction not in ("number", "direction"):
        raise ScenarioError(f"{where}: prediction = {prediction!r}: number or direction")
    reveal = t.get("reveal", "retention")
    if reveal != "retention" and reveal not in SERIES:
        raise ScenarioError(f"{where}: reveal = {reveal!r} is not a chart: retention or a series")
    expect = t.get("expect")
    if expect not in ("rises", "falls"):
        raise ScenarioError(f"{where}: expect = {expect!r}: rises or falls")
    baseline = _text(t, "baseline", where)
    load_preset(baseline)
    discussion = t.get("discussion", [])
    if not isinstance(discussion, list) or not all(isinstance(q, str) for q in discussion):
        raise ScenarioError(f"{where}: discussion must be a list of questions")
    return Lesson(
        name=name,
        title=scenario.title,
        objective=_text(t, "objective", where),
        question=_text(t, "question", where),
        kpi=kpi,
        prediction=prediction,
        expect=expect,
        baseline=baseline,
        reveal=reveal,
        debrief=_text(t, "debrief", where),
        discussion=tuple(discussion),
        scenario=scenario,
    )


def lesson_names() -> list[str]:
    """Lessons in teaching order (file names start with their position)."""
    return sorted(p.stem for p in LESSON_DIR.glob("*.toml"))


def load_challenge(name: str) -> Challenge:
    """A challenge by name (file stem in ``scenarios/challenges``)."""
    path = CHALLENGE_DIR / f"{name}.toml"
    if "/" in name or not path.is_file():
        raise ScenarioError(
            f"challenge {name!r} does not exist: one of " + ", ".join(challenge_names())
        )
    t, scenario = _split(path, "challenge")
    where = f"challenge {name}"
    levers = t.get("levers", [])
    if not isinstance(levers, list) or not levers:
        raise ScenarioError(f"{where}: levers must list the settings the player may change")
    for key in levers:
        check_key(key)
    goals = []
    for g in t.get("goals", []):
        kpi, op, target = g.get("kpi"), g.get("op"), g.get("target")
        if kpi not in KPIS or op not in OPERATORS or not isinstance(target, int | float):
            raise ScenarioError(f"{where}: goal {g!r} needs a KPI, op (>= or <=) and a number")
        goals.append(Goal(kpi, op, float(target)))
    if not goals:
        raise ScenarioError(f"{where}: at least one goal is needed")
    hints = t.get("hints", [])
    return Challenge(
        name=name,
        title=scenario.title,
        brief=_text(t, "brief", where),
        levers=tuple(levers),
        goals=tuple(goals),
        scenario=scenario,
        hints=tuple(hints),
    )


def challenge_names() -> list[str]:
    return sorted(p.stem for p in CHALLENGE_DIR.glob("*.toml"))


# --------------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reveal:
    """How a prediction compares with what the simulation shows."""

    score: int  # 0-100
    verdict: str
    percentile: float | None = None  # where a numeric prediction falls among the replications


WRONG_WAY_CAP = 50  # the most a number on the wrong side of the baseline scores, when it is clear


def score_number(
    prediction: float,
    samples: np.ndarray,
    baseline_mean: float,
    unit: str,
    diffs: np.ndarray | None = None,
    same_within: float = 0.0,
) -> Reveal:
    """Score a numeric prediction against the simulated replications of the KPI.

    Inside the 5th-95th percentile band scores 100. Outside, the score falls linearly with the
    distance to the band, in units of the scale of the question, reaching 0 one scale away. The
    scale is the largest of the band's width, the simulated change against the baseline and the
    predicted change: a bold prediction in the right direction is judged against its own size.
    When the change is clear (the 90% interval of ``diffs``, the paired differences, leaves out
    zero), a prediction on the other side of the baseline, or within ``same_within`` of it (a
    learner typing the baseline as rounded means "no change"), scores at most ``WRONG_WAY_CAP``:
    the right size the wrong way round is not right.
    """
    x = np.asarray(samples, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0 or not math.isfinite(prediction):
        return Reveal(0, "This measure is not defined for this run, so there is nothing to score.")
    lo, hi = np.percentile(x, [5, 95])
    mean = float(x.mean())
    has_base = math.isfinite(baseline_mean)
    claimed = abs(prediction - baseline_mean) if has_base else 0.0
    scale = max(hi - lo, abs(mean - baseline_mean) if has_base else 0.0, claimed, 1e-9)
    outside = max(lo - prediction, prediction - hi, 0.0)
    score = round(100 * max(0.0, 1.0 - outside / scale))
    pct = float((x < prediction).mean() * 100)
    f = _fmt(unit)
    band = f"{f(lo)} to {f(hi)}"
    if outside == 0:
        verdict = f"Inside the simulated 90% band ({band}); the mean is {f(mean)}."
    else:
        side = "higher" if prediction > hi else "lower"
        verdict = (
            f"Your {_typed(prediction, unit)} is {side} than the simulated 90% band ({band}); "
            f"the mean is "
            f"{f(mean)}."
        )
    truth = true_direction(diffs) if diffs is not None else "about the same"
    if has_base and truth != "about the same":
        gap = prediction - baseline_mean
        said = "about the same" if abs(gap) <= same_within else "rises" if gap > 0 else "falls"
        if said != truth:
            score = min(score, WRONG_WAY_CAP)
            where = (
                "left it where it was"
                if said == "about the same"
                else f"had it {'rise' if said == 'rises' else 'fall'}"
            )
            verdict += (
                f" It {truth} from the baseline's {f(baseline_mean)}; your prediction {where}."
            )
    return Reveal(score, verdict, pct)


def true_direction(diffs: np.ndarray) -> str:
    """'rises' or 'falls' when the paired differences' 90% interval excludes 0, else 'about the same'."""
    d = np.asarray(diffs, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return "about the same"
    lo, hi = np.percentile(d, [5, 95])
    return "rises" if lo > 0 else ("falls" if hi < 0 else "about the same")


def score_direction(choice: str, diffs: np.ndarray) -> Reveal:
    """Score a predicted direction against the paired differences (variant − baseline)."""
    if choice not in DIRECTIONS:
        raise ValueError(f"prediction = {choice!r} is not allowed: one of {', '.join(DIRECTIONS)}")
    truth = true_direction(diffs)
    if choice == truth:
        return Reveal(100, f"Right: it {truth}.")
    return Reveal(0, f"Not this time: it {truth}.")


@dataclass(frozen=True)
class ChallengeResult:
    score: int
    solved: bool
    goals: tuple[tuple[Goal, float, float], ...]  # goal, mean KPI, share of replications meeting it


def score_challenge(challenge: Challenge, kpis: dict[str, np.ndarray]) -> ChallengeResult:
    """Score = share of replications meeting every goal (NaN counts as missing the goal)."""
    met_all = None
    rows = []
    for g in challenge.goals:
        v = np.asarray(kpis[g.kpi], dtype=float)
        met = np.isfinite(v) & g.met(np.nan_to_num(v, nan=-np.inf if g.op == ">=" else np.inf))
        met_all = met if met_all is None else met_all & met
        rows.append(
            (g, float(np.nanmean(v)) if np.isfinite(v).any() else math.nan, float(met.mean()))
        )
    share = float(met_all.mean())
    solved = all(math.isfinite(mean) and bool(g.met(np.array([mean]))[0]) for g, mean, _ in rows)
    return ChallengeResult(round(100 * share), solved, tuple(rows))


def _typed(prediction: float, unit: str) -> str:
    """A prediction as the learner typed it and its tile shows it: "20%", not "20.0%"."""
    if unit == "share":
        return f"{100 * prediction:g}%"
    if unit == "days":
        return f"{prediction:,g} days"
    if unit == "value points":  # "1,500.5 points" as typed (the tile beside it rounds it)
        return f"{prediction:,g} points"
    return _fmt(unit)(prediction)


def _fmt(unit: str):
    if unit == "share":
        return lambda v: f"{v:.1%}"
    if unit == "days":
        return lambda v: f"{v:.1f} days"
    if unit == "value points":
        return lambda v: fmt_value(v, "value points")
    return lambda v: f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
