"""The Learn page's progress, kept in the learner's browser so that a reload loses nothing.

A learner's committed predictions, their scores and the challenge attempts live in the session's
state (:mod:`app.teach`); a reload, or a dropped connection in a classroom, starts a new session.
So the page also keeps them in the browser's ``localStorage``, through a small component with no
interface: it reports what the browser kept when the page opens, and stores the progress again at
the end of every run of the page.

What comes back from the browser is data typed by nobody but could be anything, so it is read as
JSON only, size-limited and checked field by field: a lesson or challenge that no longer exists, a
prediction out of range, a setting a challenge does not allow are dropped, never shown. Only what
the learner chose is kept (a prediction, the levers' values, the runs' seed and replications, the
scores); every text the page shows is made again from it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st
import streamlit.components.v2 as components

from app import teach
from app.state import LEARN_MAX_REPLICATIONS, MAX_SEED, canonical
from sim.lessons import DIRECTIONS, challenge_names, lesson_names, load_challenge, load_lesson
from sim.narrative import MIN_PAIRS
from sim.params import ParamError, diff, with_overrides
from sim.scenarios import ScenarioError

STATE_KEY = "learn.store"  # the component's state: {"saved": what the browser kept, or ""}
RESTORED = "learn.store_restored"  # set once this session has read the browser's copy
VERSION = 1
MAX_CHARS = 100_000  # far more than six lessons and some challenges' attempts need
MAX_RECORDS = 50  # predictions per lesson, attempts per challenge

# The browser side: nothing to show; read the kept progress when asked, store it when given.
_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  const KEY = "product-leadership-sandbox.learn";
  let kept = "";
  try {
    if (data && typeof data.save === "string") localStorage.setItem(KEY, data.save);
    kept = localStorage.getItem(KEY) || "";
  } catch (e) {
    kept = "";  // storage switched off: the page works as before, for this session only
  }
  if (data && data.load) setStateValue("saved", kept);
}
"""

_component: Callable[..., Any] | None = None


def _store() -> Callable[..., Any]:
    """The component, registered on first use (once per server process)."""
    global _component
    if _component is None:
        _component = components.component("learn_store", js=_JS)
    return _component


# --------------------------------------------------------------------------------------------------
# The kept progress as text, and back
# --------------------------------------------------------------------------------------------------


def encode(lessons: Mapping[str, Any], challenges: Mapping[str, Any]) -> str:
    """What the browser keeps: each lesson's predictions and each challenge's attempts, with the
    runs they were scored on (JSON)."""

    def prediction(r: Mapping[str, Any]) -> dict[str, Any]:
        return {k: r.get(k) for k in ("prediction", "seed", "reps", "score")}

    kept_lessons = {}
    for name, entry in lessons.items():
        history = [prediction(r) for r in entry.get("history", [])][-MAX_RECORDS:]
        current = entry.get("current")
        kept_lessons[name] = {
            "current": prediction(current) if current else None,
            "history": history,
        }
    kept_challenges = {
        name: [
            {k: a.get(k) for k in ("values", "seed", "reps", "score")}
            for a in attempts[-MAX_RECORDS:]
        ]
        for name, attempts in challenges.items()
    }
    body = {"version": VERSION, "lessons": kept_lessons, "challenges": kept_challenges}
    return json.dumps(body, separators=(",", ":"), allow_nan=False)


def decode(text: Any) -> tuple[dict[str, Any], dict[str, list[dict]]]:
    """Lessons and challenges (as :mod:`app.teach` keeps them) from what the browser kept; what
    cannot be used is left out. Never raises."""
    if not isinstance(text, str) or not text or len(text) > MAX_CHARS:
        return {}, {}
    try:
        body = json.loads(text)
    except ValueError:
        return {}, {}
    if not isinstance(body, dict) or body.get("version") != VERSION:
        return {}, {}
    lessons = body.get("lessons")
    challenges = body.get("challenges")
    try:
        return (
            _lessons(lessons) if isinstance(lessons, dict) else {},
            _challenges(challenges) if isinstance(challenges, dict) else {},
        )
    except ScenarioError:  # a lesson's own file unreadable: its page says so; keep nothing
        return {}, {}


def _int(value: Any, lo: int, hi: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        return None
    return value


def _score(value: Any) -> tuple[bool, int | None]:
    """(usable, score): a score is a whole number from 0 to 100, or None (not yet scored)."""
    if value is None:
        return True, None
    score = _int(value, 0, 100)
    return score is not None, score


def _prediction(lesson: Any, value: Any) -> Any:
    """A committed prediction as :func:`app.teach.on_commit` keeps it, or None if not one."""
    if lesson.prediction == "direction":
        return value if isinstance(value, str) and value in DIRECTIONS else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    percent = teach.prediction_unit(lesson.kpi)[0] == "%"
    if not math.isfinite(value) or value < 0 or (percent and value > 100):
        return None
    return value


def _record(lesson: Any, raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    prediction = _prediction(lesson, raw.get("prediction"))
    seed = _int(raw.get("seed"), 0, MAX_SEED)
    reps = _int(raw.get("reps"), MIN_PAIRS, LEARN_MAX_REPLICATIONS)
    usable, score = _score(raw.get("score"))
    if prediction is None or seed is None or reps is None or not usable:
        return None
    # The verdict is worked out again from the reveal (and the score with it) when it is shown.
    return {"prediction": prediction, "seed": seed, "reps": reps, "score": score, "verdict": None}


def _lessons(raw: Mapping[Any, Any]) -> dict[str, Any]:
    out = {}
    for name in lesson_names():
        entry = raw.get(name)
        if not isinstance(entry, dict):
            continue
        lesson = load_lesson(name)
        history = entry.get("history")
        history = history[-MAX_RECORDS:] if isinstance(history, list) else []
        kept = [r for r in (_record(lesson, h) for h in history) if r and r["score"] is not None]
        current = _record(lesson, entry.get("current"))
        if current or kept:
            out[name] = {"history": kept, **({"current": current} if current else {})}
    return out


def _attempt(challenge: Any, raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("values"), dict):
        return None
    values = raw["values"]
    if set(values) != set(challenge.levers) or not all(
        isinstance(v, bool | int | float | str) for v in values.values()
    ):
        return None
    try:
        params = with_overrides(teach.start_params(challenge), values)
    except ParamError:
        return None
    seed = _int(raw.get("seed"), 0, MAX_SEED)
    reps = _int(raw.get("reps"), 1, LEARN_MAX_REPLICATIONS)
    usable, score = _score(raw.get("score"))
    if seed is None or reps is None or not usable:
        return None
    return {
        "values": dict(values),
        "settings": canonical(diff(params)),
        "changed": teach.describe_changes(challenge, values),
        "seed": seed,
        "reps": reps,
        "score": score,
    }


def _challenges(raw: Mapping[Any, Any]) -> dict[str, list[dict]]:
    out = {}
    for name in challenge_names():
        attempts = raw.get(name)
        if not isinstance(attempts, list):
            continue
        challenge = load_challenge(name)
        kept = [a for a in (_attempt(challenge, r) for r in attempts[-MAX_RECORDS:]) if a]
        if kept:
            out[name] = kept
    return out


# --------------------------------------------------------------------------------------------------
# The page's side
# --------------------------------------------------------------------------------------------------


def restore() -> None:
    """Once a session, when the browser has said what it kept: take in the lessons and challenges
    this session has not touched yet (call before the page draws its lessons and levers)."""
    ss = st.session_state
    if ss.get(RESTORED):
        return
    state = ss.get(STATE_KEY)
    saved = state.get("saved") if isinstance(state, Mapping) else None
    if saved is None:  # the browser has not answered yet (it does right after the first run)
        return
    ss[RESTORED] = True
    lessons, challenges = decode(saved)
    mine_lessons = ss.setdefault(teach.LESSONS, {})
    for name, entry in lessons.items():
        mine_lessons.setdefault(name, entry)
    mine_challenges = ss.setdefault(teach.CHALLENGES, {})
    for name, attempts in challenges.items():
        if name not in mine_challenges:
            mine_challenges[name] = attempts
            # The levers show the last attempt's values, as after an attempt of this session.
            for key in load_challenge(name).levers:
                ss.pop(teach.challenge_key(name, key), None)


def sync() -> None:
    """At the end of the page: ask the browser what it kept (until it has answered), or give it
    this session's progress to keep."""
    ss = st.session_state
    if not ss.get(RESTORED):
        _store()(data={"load": True}, key=STATE_KEY, on_saved_change=lambda: None)
        return
    try:
        kept = encode(ss.get(teach.LESSONS, {}), ss.get(teach.CHALLENGES, {}))
    except (TypeError, ValueError):  # not expected: then the browser keeps what it had
        return
    _store()(data={"save": kept}, key=STATE_KEY, on_saved_change=lambda: None)


def on_forget() -> None:
    """Forget the predictions and attempts, in this session and so in the browser at the end of
    the run (a shared computer's next learner starts afresh)."""
    ss = st.session_state
    ss[teach.LESSONS] = {}
    ss[teach.CHALLENGES] = {}
    for key in list(ss.keys()):
        if isinstance(key, str) and key.startswith(("learn.predict.", "learn.ch.")):
            del ss[key]
