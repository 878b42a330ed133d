"""Learn progress kept in the browser: a reload (a new session) gets it back, checked field by field."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from app import learn_store, teach
from sim.lessons import load_challenge

from .helpers import APP, FAST_REPS, assert_clean

LESSON = "1-drift-without-governance"  # a number, in percent
DIRECTION_LESSON = "2-cost-of-meetings"
CHALLENGE = "govern-the-drift"


def open_learn(query: dict, kept: str | None) -> AppTest:
    """A new session on the Learn page; ``kept`` is what the browser says it kept (None: it has not
    answered yet)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"reps": FAST_REPS, **query})
    if kept is not None:
        at.session_state[learn_store.STATE_KEY] = {"saved": kept}
    at.switch_page("app/pages/learn.py")
    return at.run()


def handed_to_browser(at: AppTest) -> dict:
    """What the page's last run asked the browser to do (the component's data)."""
    (store,) = at.get("bidi_component")
    return json.loads(store.proto.json)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_a_reload_gets_predictions_and_attempts_back():
    at = open_learn({"lesson": LESSON}, kept=None)
    assert handed_to_browser(at) == {"load": True}  # first, what did this browser keep?
    at = open_learn({"lesson": LESSON}, kept="")  # nothing: a first visit
    at.number_input(key=teach.predict_key(LESSON)).set_value(40.0)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert_clean(at)
    before = metrics(at)
    assert before["Your prediction"] == "40%"
    lever = teach.challenge_key(CHALLENGE, "reviews.council.interval_weeks")
    at.session_state[teach.TAB_KEY] = teach.TABS[2]
    at.session_state[teach.CHALLENGE_KEY] = CHALLENGE
    at.run()
    at.number_input(key=lever).set_value(2.0)
    at.button(key=f"learn.try.{CHALLENGE}").click().run()
    assert_clean(at)
    attempts = at.table[-1].value
    kept = handed_to_browser(at)["save"]

    # A reload: a new session, to which the browser hands what it kept.
    lesson = open_learn({"lesson": LESSON}, kept=kept)
    assert_clean(lesson)
    assert metrics(lesson) == before  # the same prediction, score and reveal
    challenge = open_learn({"challenge": CHALLENGE}, kept=kept)
    assert_clean(challenge)
    assert challenge.table[-1].value.equals(attempts)
    assert challenge.number_input(key=lever).value == 2.0  # the levers of the last attempt
    # What the reloaded page hands back is what it was given.
    assert json.loads(handed_to_browser(challenge)["save"]) == json.loads(kept)


def test_forgetting_clears_the_session_and_the_browsers_copy():
    kept = learn_store.encode(
        {LESSON: {"current": {"prediction": 40.0, "seed": 1, "reps": 8, "score": 0}}}, {}
    )
    at = open_learn({"lesson": LESSON}, kept=kept)
    assert metrics(at)["Your prediction"] == "40%"
    at.button(key="learn.forget.lessons").click().run()
    assert_clean(at)
    assert not at.metric  # the prediction form again
    assert json.loads(handed_to_browser(at)["save"]) == {
        "version": learn_store.VERSION,
        "lessons": {},
        "challenges": {},
    }


def record(**fields) -> dict:
    return {"prediction": 40.0, "seed": 1, "reps": 30, "score": 20, **fields}


def body(lessons=None, challenges=None, version=learn_store.VERSION) -> str:
    return json.dumps(
        {"version": version, "lessons": lessons or {}, "challenges": challenges or {}}
    )


def test_what_the_browser_hands_back_is_checked_field_by_field():
    decode = learn_store.decode
    good = {"current": record(), "history": [record(prediction=10.0)]}
    lessons, _ = decode(body({LESSON: good}))
    assert lessons[LESSON]["current"]["prediction"] == 40.0
    assert lessons[LESSON]["current"]["verdict"] is None  # worked out again from the reveal
    assert [h["prediction"] for h in lessons[LESSON]["history"]] == [10.0]
    # Not JSON, another version, too long, not an object: nothing.
    for text in ("{", body({LESSON: good}, version=0), " " * 200_000, "[]", "null", 7):
        assert decode(text) == ({}, {})
    # Each bad field drops its record, and only its record.
    bad = [
        record(prediction=150.0),  # a share above 100%
        record(prediction=-1.0),
        record(prediction="40"),
        record(prediction=True),
        record(reps=2),  # fewer than a lesson compares in pairs
        record(reps=10_000),
        record(seed=-1),
        record(seed=True),
        record(score=101),
        record(score=2.5),
        "not a record",
    ]
    for raw in bad:
        lessons, _ = decode(body({LESSON: {"current": raw, "history": [record()]}}))
        assert "current" not in lessons[LESSON] and len(lessons[LESSON]["history"]) == 1, raw
    # A history entry is a scored prediction.
    lessons, _ = decode(body({LESSON: {"history": [record(score=None)]}}))
    assert lessons == {}
    # Directions by name only; a lesson that does not exist is left out.
    lessons, _ = decode(
        body({DIRECTION_LESSON: {"current": record(prediction="falls")}, "9-no-such": good})
    )
    assert lessons[DIRECTION_LESSON]["current"]["prediction"] == "falls" and len(lessons) == 1
    lessons, _ = decode(body({DIRECTION_LESSON: {"current": record(prediction="<b>up</b>")}}))
    assert lessons == {}


def test_a_kept_attempt_must_be_one_the_challenge_allows():
    challenge = load_challenge(CHALLENGE)
    start = teach_values(challenge)
    attempt = {"values": {**start, "reviews.council.interval_weeks": 2.0}, "seed": 1, "reps": 8}
    _, challenges = learn_store.decode(body(challenges={CHALLENGE: [{**attempt, "score": 40}]}))
    (kept,) = challenges[CHALLENGE]
    # Its words are made again from its values, never taken from the browser.
    assert kept["changed"] == teach.describe_changes(challenge, attempt["values"])
    assert kept["changed"].endswith(": 4 → 2") and kept["score"] == 40
    for bad in (
        {**attempt, "values": {**attempt["values"], "org.wip_limit_per_team": 9}},  # not allowed
        {**attempt, "values": {**attempt["values"], "reviews.council.interval_weeks": -3.0}},
        {**attempt, "values": {**attempt["values"], "reviews.council.interval_weeks": [2]}},
        {**attempt, "values": "council every 2 weeks"},
        {**attempt, "reps": 0},
        {**attempt, "score": "100"},
    ):
        assert learn_store.decode(body(challenges={CHALLENGE: [bad]})) == ({}, {}), bad


def teach_values(challenge) -> dict:
    from sim.params import get

    params = teach.start_params(challenge)
    return {key: get(params, key) for key in challenge.levers}
