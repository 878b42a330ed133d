"""The Learn page under AppTest: the model explained, lessons (predict, then reveal), challenges."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
from streamlit.testing.v1 import AppTest

from app import model_guide, teach
from sim.lessons import (
    WRONG_WAY_CAP,
    challenge_names,
    lesson_names,
    load_challenge,
    load_lesson,
    score_challenge,
)
from sim.narrative import WHY_UNCLEAR
from sim.outcomes import KPIS
from sim.params import with_overrides
from sim.report.format import fmt_delta, fmt_value
from sim.runner import compare, run_many
from sim.scenarios import load_preset

from .helpers import APP, FAST_REPS, assert_clean, texts

LESSON = "1-drift-without-governance"
DIRECTION_LESSON = "2-cost-of-meetings"
CHALLENGE = "govern-the-drift"
CHALLENGE_FIRST = challenge_names()[0]


def open_learn(query: dict | None = None) -> AppTest:
    """A session opened on the Learn page with these query parameters (small runs)."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"reps": FAST_REPS, **(query or {})})
    at.switch_page("app/pages/learn.py")
    return at.run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def subheaders(at: AppTest) -> list[str]:
    return texts(at.subheader)


def test_learn_shows_the_causal_diagram_mechanisms_and_validations():
    at = open_learn()
    assert_clean(at)
    assert texts(at.title)[0] == "Learn"
    diagrams = at.get("graphviz_chart")
    assert len(diagrams) == 1
    dot = diagrams[0].proto.spec
    for node in ("Incentives", "Alignment", "Work chosen", "Value delivered", "Time-to-value"):
        assert node in dot
    assert "Retention" in dot and "Decision queue" in dot and "Market shifts" in dot
    assert "reviews -> capacity" in dot and "reviews -> alignment" in dot
    # Edge labels in a grey that reads on the theme's background (light when the theme is unknown).
    assert f'fontcolor="{model_guide.LABEL_COLOR["light"]}"' in dot
    dark = model_guide.causal_diagram("dark")
    assert f'fontcolor="{model_guide.LABEL_COLOR["dark"]}"' in dark
    assert model_guide.LABEL_COLOR["light"] not in dark
    # Each mechanism names its levers by label and setting key, with a button that opens it.
    shown = " ".join(texts(at.markdown))
    assert "`incentives.product`" in shown and "`decisions.rights`" in shown
    assert len([b for b in at.button if b.key and b.key.startswith("learn.example.")]) == 6
    assert "Fader & Hardie 2007" in shown and "Erlang C" in shown


def test_the_lessons_tab_lists_every_lesson():
    at = open_learn({"lesson": LESSON})
    assert_clean(at)
    table = at.table[0].value
    titles = [load_lesson(n).title for n in lesson_names()]
    assert len(table) == 6
    assert [row.split(". ", 1)[1] for row in table["Lesson"]] == titles
    assert set(table["Score"]) == {"—"}
    assert at.query_params["lesson"] == LESSON


def test_a_lesson_reveals_nothing_before_the_prediction_is_committed():
    at = open_learn({"lesson": LESSON})
    lesson = load_lesson(LESSON)
    shown = " ".join(texts(at.markdown))
    assert lesson.objective in shown and lesson.question in shown
    assert not at.metric and not at.get("vega_lite_chart")
    assert "Debrief" not in subheaders(at)
    # Committing an empty prediction is refused, and still nothing is revealed.
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert_clean(at)
    assert any("Commit a number first" in e for e in texts(at.error))
    assert not at.metric and not at.get("vega_lite_chart")

    at.number_input(key=teach.predict_key(LESSON)).set_value(80.0)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert_clean(at)
    shown = metrics(at)
    assert shown["Your prediction"] == "80%"
    # 80% is far above the simulated band (retention falls from about 35%).
    assert int(shown["Score"].split(" / ")[0]) <= WRONG_WAY_CAP  # and the wrong way round
    assert any("higher than the simulated 90% band" in w for w in texts(at.warning))
    assert any("your prediction had it rise" in w for w in texts(at.warning))
    score = next(m for m in at.metric if m.label == "Score")
    assert "at most" in score.help and "size of the question" in score.help
    assert len(at.get("vega_lite_chart")) == 1
    assert "Debrief" in subheaders(at)
    assert any("lowers 52-week retention" in m for m in texts(at.markdown))
    # The difference is attributed to the groups of settings the lesson changed.
    why = next(m for m in texts(at.markdown) if m.startswith("**Why:**"))
    assert "52-week retention" in why and ("incentive" in why or "review" in why)
    assert WHY_UNCLEAR.strip() not in why  # a clear fall needs no word of caution
    # Worked out last, but shown in its place: after the comparison, before the debrief.
    order = texts(at.markdown)
    against = next(i for i, m in enumerate(order) if m.startswith("**Against the baseline**"))
    assert against < order.index(why) < order.index(lesson.debrief)
    assert lesson.discussion[0] in " ".join(texts(at.markdown))
    assert at.table[0].value.iloc[0]["Score"] == shown["Score"]


def test_a_fraction_typed_for_a_percentage_is_asked_about_once():
    at = open_learn({"lesson": LESSON})
    at.number_input(key=teach.predict_key(LESSON)).set_value(0.35)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert_clean(at)
    assert not at.metric  # not committed: nothing shown
    said = "0.35% is less than one percent. If you meant 35%, type 35; to keep 0.35%, press Commit"
    assert any(said in e for e in texts(at.error))
    # The question belongs to this lesson: another lesson does not show it, and it is back here.
    at.selectbox(key=teach.LESSON_KEY).set_value(DIRECTION_LESSON).run()
    assert not at.error
    at.selectbox(key=teach.LESSON_KEY).set_value(LESSON).run()
    assert any(said in e for e in texts(at.error))
    at.number_input(key=teach.predict_key(LESSON)).set_value(35.0)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert metrics(at)["Your prediction"] == "35%"  # a corrected number commits at once
    at.button(key=f"learn.again.{LESSON}").click().run()
    at.number_input(key=teach.predict_key(LESSON)).set_value(0.5)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert not at.metric
    at.button(key=f"learn.commit.{LESSON}").click().run()  # asked, and kept
    assert_clean(at)
    assert metrics(at)["Your prediction"] == "0.5%"


def test_a_prediction_inside_the_band_scores_100_and_try_again_keeps_history():
    at = open_learn({"lesson": LESSON})
    at.number_input(key=teach.predict_key(LESSON)).set_value(99.0)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    band = metrics(at)["Simulated 90% band"]
    lo, hi = (float(x) for x in re.findall(r"([\d.]+)%", band))
    assert lo < hi
    at.button(key=f"learn.again.{LESSON}").click().run()
    assert_clean(at)
    assert not at.metric  # a fresh prediction, nothing shown
    at.number_input(key=teach.predict_key(LESSON)).set_value(round((lo + hi) / 2, 1))
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert_clean(at)
    assert metrics(at)["Score"] == "100 / 100"
    assert any("Inside the simulated 90% band" in s for s in texts(at.success))
    assert any("Earlier predictions: 99%" in c for c in texts(at.caption))
    # The overview counts the prediction made before the answer was seen, not the later try.
    row = at.table[0].value.iloc[0]
    assert row["Your first prediction"] == f"99%; later {round((lo + hi) / 2, 1):g}%"
    first = int(row["Score"].split(" / ")[0])
    assert first < 100
    assert row["Score"] == f"{first} / 100 (later try 100 / 100, after seeing the answer)"


def test_next_lesson_opens_the_following_lesson_and_the_last_opens_the_challenges():
    names = lesson_names()
    at = open_learn({"lesson": names[0]})
    at.number_input(key=teach.predict_key(names[0])).set_value(30.0)
    at.button(key=f"learn.commit.{names[0]}").click().run()
    button = at.button(key=f"learn.next.{names[0]}")
    assert button.label == f"Next lesson: {load_lesson(names[1]).title}"
    button.click().run()
    assert_clean(at)
    assert at.selectbox(key=teach.LESSON_KEY).value == names[1]
    assert not at.metric  # the next lesson asks for its prediction first
    assert at.query_params["lesson"] == names[1]
    # Back on the first lesson, its reveal is still there.
    at.selectbox(key=teach.LESSON_KEY).set_value(names[0]).run()
    assert metrics(at)["Your prediction"] == "30%"

    last = names[-1]
    at = open_learn({"lesson": last})
    at.number_input(key=teach.predict_key(last)).set_value(70.0)
    at.button(key=f"learn.commit.{last}").click().run()
    button = at.button(key=f"learn.next.{last}")
    assert button.label == "On to the challenges"
    button.click().run()
    assert_clean(at)
    assert at.query_params["challenge"] == CHALLENGE_FIRST
    assert any(load_challenge(CHALLENGE_FIRST).title == h for h in subheaders(at))


def test_a_committed_prediction_is_shown_again_on_return():
    at = open_learn({"lesson": LESSON})
    at.number_input(key=teach.predict_key(LESSON)).set_value(30.0)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    score = metrics(at)["Score"]
    at.selectbox(key=teach.LESSON_KEY).set_value(DIRECTION_LESSON).run()
    assert not at.metric
    at.session_state[teach.TAB_KEY] = teach.TABS[0]
    at.run()
    at.session_state[teach.TAB_KEY] = teach.TABS[1]
    at.run()
    # The lesson last open is open again.
    assert at.selectbox(key=teach.LESSON_KEY).value == DIRECTION_LESSON
    at.selectbox(key=teach.LESSON_KEY).set_value(LESSON).run()
    assert_clean(at)
    assert metrics(at)["Your prediction"] == "30%"
    assert metrics(at)["Score"] == score


def test_a_direction_lesson_scores_the_direction():
    at = open_learn({"lesson": DIRECTION_LESSON})
    lesson = load_lesson(DIRECTION_LESSON)
    assert lesson.prediction == "direction"
    assert not at.metric
    at.radio(key=teach.predict_key(DIRECTION_LESSON)).set_value(lesson.expect)
    at.button(key=f"learn.commit.{DIRECTION_LESSON}").click().run()
    assert_clean(at)
    shown = metrics(at)
    assert shown["Your prediction"] == lesson.expect
    assert shown["Score"] == "100 / 100", texts(at.warning)
    assert "Paired difference, 90% interval" in shown
    assert "Debrief" in subheaders(at)


def test_a_reveal_shows_every_kpi_the_debrief_cites_against_the_baseline():
    """Lesson 2's debrief cites detection lag, alignment, meeting share and value delivered: each
    is in the reveal's table, with the baseline's mean and the change of paired runs."""
    at = open_learn({"lesson": DIRECTION_LESSON})
    lesson = load_lesson(DIRECTION_LESSON)
    at.radio(key=teach.predict_key(DIRECTION_LESSON)).set_value(lesson.expect)
    at.button(key=f"learn.commit.{DIRECTION_LESSON}").click().run()
    assert_clean(at)
    caption = next(c for c in texts(at.caption) if "paired replications · seed" in c)
    reps, seed = (int(n) for n in re.findall(r"(\d+) paired replications · seed (\d+)", caption)[0])
    table = next(d.value for d in at.dataframe if "P(variant better)" in d.value.columns)
    rows = table.set_index("KPI")
    base = run_many(load_preset(lesson.baseline).params, reps, seed)
    variant = run_many(lesson.scenario.params, reps, seed)
    expected = compare(base, variant).kpis().set_index("kpi")
    for name in (
        "detection_lag_days",
        "mean_alignment",
        "meeting_overhead_share",
        "value_delivered",
    ):
        k, row = KPIS[name], expected.loc[name]
        assert rows.loc[k.label, "Baseline"] == fmt_value(row["baseline"], k.unit)
        assert rows.loc[k.label, "Change"] == fmt_delta(row["diff_mean"], k.unit)
    # The debrief's direction is the table's: meetings take more of the capacity, value falls.
    assert expected.loc["meeting_overhead_share", "diff_mean"] > 0
    assert rows.loc[KPIS["value_delivered"].label, "Change"].startswith("−")
    order = texts(at.markdown)
    assert order.index(lesson.debrief) < next(
        i for i, m in enumerate(order) if m.startswith("**Every KPI against the baseline**")
    )


def test_a_challenge_scores_attempts_and_lists_them():
    at = open_learn({"challenge": CHALLENGE})
    assert_clean(at)
    challenge = load_challenge(CHALLENGE)
    assert challenge.title in subheaders(at)
    shown = " ".join(texts(at.markdown))
    assert all(g.describe() in shown for g in challenge.goals)
    # Only the allowed levers are inputs.
    inputs = [
        w.key for kind in ("toggle", "number_input", "selectbox", "slider") for w in at.get(kind)
    ]
    lever_inputs = {k for k in inputs if k and k.startswith(f"learn.ch.{CHALLENGE}.")}
    assert lever_inputs == {teach.challenge_key(CHALLENGE, k) for k in challenge.levers}
    assert not at.metric

    at.number_input(key=teach.challenge_key(CHALLENGE, "reviews.council.interval_weeks")).set_value(
        2.0
    )
    at.button(key=f"learn.try.{CHALLENGE}").click().run()
    assert_clean(at)
    # The score is the share of replications meeting every goal, as the engine scores them.
    params = with_overrides(challenge.scenario.params, {"reviews.council.interval_weeks": 2.0})
    kpis = run_many(params, int(FAST_REPS), 1).kpis()
    expected = score_challenge(challenge, {g.kpi: kpis[g.kpi].to_numpy() for g in challenge.goals})
    assert metrics(at)["Score of attempt 1"] == f"{expected.score} / 100"
    goals = at.dataframe[0].value
    assert list(goals["Goal"]) == [g.describe() for g in challenge.goals]
    shares = [f"{share:.0%}" for _, _, share in expected.goals]
    assert list(goals["Worlds meeting it"]) == shares

    at.toggle(key=teach.challenge_key(CHALLENGE, "reviews.event.enabled")).set_value(True)
    at.button(key=f"learn.try.{CHALLENGE}").click().run()
    assert_clean(at)
    attempts = at.table[-1].value
    assert list(attempts["Attempt"]) == [1, 2]
    assert "Product council every (weeks): 4 → 2" in attempts.iloc[0]["Settings changed"]
    assert "Event-triggered reviews: off → on" in attempts.iloc[1]["Settings changed"]
    assert attempts.iloc[0]["Score"] == f"{expected.score} / 100"
    assert all(s.endswith("/ 100") for s in attempts["Score"])


def test_a_challenge_link_opens_the_challenge_and_a_bad_one_warns():
    at = open_learn({"challenge": "recover-from-the-pivot"})
    assert_clean(at)
    assert "Recover from the pivot" in subheaders(at)
    assert any("?challenge=recover-from-the-pivot" in c for c in texts(at.code))
    assert at.query_params["challenge"] == "recover-from-the-pivot"
    # The hand-out link carries the run settings, so the class runs (and caches) the same ones.
    at = open_learn({"challenge": "recover-from-the-pivot", "seed": "7", "reps": "40"})
    assert_clean(at)
    (link,) = [c for c in texts(at.code) if "challenge=" in c]
    query = parse_qs(urlsplit(link).query)
    assert query == {"challenge": ["recover-from-the-pivot"], "seed": ["7"], "reps": ["40"]}

    bad = open_learn({"challenge": "no-such-challenge"})
    assert_clean(bad)
    assert any("not a challenge" in w and "govern-the-drift" in w for w in texts(bad.warning))
    assert load_challenge(bad.selectbox(key=teach.CHALLENGE_KEY).value).title in subheaders(bad)
    bad.run()  # a rerun with nothing changed: the warning still applies
    assert any("not a challenge" in w for w in texts(bad.warning))
    # Once another challenge is picked, the link's warning no longer applies.
    bad.selectbox(key=teach.CHALLENGE_KEY).set_value("recover-from-the-pivot").run()
    assert_clean(bad)
    assert not any("not a challenge" in w for w in texts(bad.warning))


def test_a_mechanism_opens_its_example_in_the_sandbox():
    at = open_learn()
    at.button(key="learn.example.0").click().run()
    assert_clean(at)
    assert texts(at.title)[0] == "Aligned baseline (modified)"
    assert at.selectbox(key="lever.incentives.product").value == "local_metric"
    assert any(c.startswith("Baseline: Aligned baseline") for c in texts(at.caption))
    assert at.query_params["incentives.product"] == "local_metric"
    assert at.query_params["base"] == "aligned-baseline"
    # A Sandbox not opened before starts with the Learn page's replications.
    assert at.query_params["reps"] == FAST_REPS


def test_prediction_units_follow_the_kpi():
    assert teach.prediction_unit("retention_52w") == ("%", 100.0)
    assert teach.prediction_unit("lead_time_days") == ("days", 1.0)
    assert np.isclose(teach.prediction_unit("value_delivered")[1], 1.0)


def test_a_prediction_is_written_as_the_simulated_value_beside_it():
    numeric = [load_lesson(n) for n in lesson_names() if load_lesson(n).prediction != "direction"]
    value = next(lesson for lesson in numeric if lesson.kpi == "value_delivered")
    assert teach.format_prediction(value, 4100.0) == "4,100 points"
    share = next(lesson for lesson in numeric if KPIS[lesson.kpi].unit == "share")
    assert teach.format_prediction(share, 35.0) == "35%"


def test_a_revealed_lesson_opens_in_the_sandbox_with_every_curve():
    at = open_learn({"lesson": LESSON})
    # The Sandbox was run meanwhile with replications of its own.
    at.switch_page("app/pages/sandbox.py").run()
    at.number_input(key="run.replications").set_value(12)
    at.button(key="sb.run").click().run()
    assert at.query_params["reps"] == "12"
    at.switch_page("app/pages/learn.py").run()
    at.number_input(key=teach.predict_key(LESSON)).set_value(30.0)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    at.button(key=f"learn.sandbox.{LESSON}").click().run()
    assert_clean(at)
    lesson = load_lesson(LESSON)
    assert texts(at.title)[0] == lesson.scenario.title
    assert any(c.startswith("Baseline: Aligned baseline") for c in texts(at.caption))
    assert at.selectbox(key="lever.incentives.product").value == "local_metric"
    assert len(at.get("vega_lite_chart")) == 5  # the Customers tab, with the paired difference
    # The lesson's run: its seed and replications, so the numbers are the reveal's.
    assert at.query_params["reps"] == FAST_REPS and at.query_params.get("seed", "1") == "1"


def test_the_meeting_lessons_flat_band_is_explained_under_its_chart():
    from app.figures import STEADY_REVIEWS

    lesson = "2-cost-of-meetings"
    at = open_learn({"lesson": lesson, "reps": "30"})  # the lessons' own replications
    at.radio(key=teach.predict_key(lesson)).set_value(
        at.radio(key=teach.predict_key(lesson)).options[0]
    )
    at.button(key=f"learn.commit.{lesson}").click().run()
    assert_clean(at)
    # The lesson's weekly load is a flat block (its baseline's, a comb, is explained too), and
    # each note says which series it is about.
    title = load_lesson(lesson).title
    note = f"For “{title}”: t{STEADY_REVIEWS[1:]}"
    assert any(c.endswith(note) for c in texts(at.caption)), texts(at.caption)
    assert any("For “Baseline: " in c for c in texts(at.caption))


def test_a_challenges_levers_keep_each_sections_settings_together_in_one_column():
    keys = ["reviews.strategy.interval_weeks", "reviews.event.enabled",
            "reviews.event.activation_threshold", "reviews.event.churn_threshold",
            "reviews.council.interval_weeks", "reviews.metric.enabled"]  # fmt: skip
    left, right = teach.lever_columns(keys)
    assert left == ["reviews.strategy.interval_weeks", "reviews.council.interval_weeks",
                    "reviews.metric.enabled"]  # fmt: skip
    assert right == ["reviews.event.enabled", "reviews.event.activation_threshold",
                     "reviews.event.churn_threshold"]  # fmt: skip
    assert sorted(left + right) == sorted(keys)  # nothing lost or repeated


def test_an_attempt_leaves_out_the_settings_of_a_review_it_switched_off():
    from sim.lessons import load_challenge

    challenge = load_challenge(CHALLENGE)
    start = teach.start_params(challenge)
    assert start.reviews.council.enabled  # the challenge starts with a council
    interval = start.reviews.council.interval_weeks + 2.0
    off = teach.describe_changes(
        challenge,
        {"reviews.council.enabled": False, "reviews.council.interval_weeks": interval},
    )
    on = teach.describe_changes(challenge, {"reviews.council.interval_weeks": interval})
    assert off == "Holding the council: on → off"  # its interval changes nothing
    was = start.reviews.council.interval_weeks
    assert on == f"Product council every (weeks): {was:g} → {interval:g}"


def test_a_lesson_is_not_scored_from_too_few_paired_runs():
    """With 3 replications "Right: it falls" would rest on 3 pairs, where every other page says
    they are too few to call a change: the prediction is kept and the page asks for more."""
    at = open_learn({"lesson": LESSON})
    at.number_input(key=teach.REPS_KEY).set_value(3).run()
    assert_clean(at)
    at.number_input(key=teach.predict_key(LESSON)).set_value(30.0)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert (
        "A lesson compares its runs with the baseline's in pairs, and 3 paired runs are too few "
        "to call a change: set Replications to at least 5 under Run settings above (lessons "
        "start at 30). Your prediction is kept." in texts(at.error)
    )
    assert not at.metric and not at.get("vega_lite_chart")
    # With five, it is revealed and scored.
    at.number_input(key=teach.REPS_KEY).set_value(5).run()
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert_clean(at)
    assert [m.label for m in at.metric][:2] == ["Your prediction", "Score"]
    assert at.metric[0].value == "30%" and at.metric[1].value.endswith(" / 100")


def test_numbers_out_of_range_are_named_with_their_range_and_nothing_runs():
    """Learn's number boxes take any number, so that the page can say what is wrong with it."""
    at = open_learn({"lesson": LESSON})
    # Replications above the Learn page's cap: named, and the reveal keeps the usable ones.
    at.number_input(key=teach.REPS_KEY).set_value(300).run()
    assert_clean(at)
    (error,) = texts(at.error)
    assert error == (
        "Replications = 300 is out of range: a whole number from 1 to 100. Reveals and "
        f"attempts keep using {FAST_REPS} replications and seed 1."
    )
    assert at.query_params["reps"] == FAST_REPS  # the link keeps the usable value too
    # A prediction out of its range is refused, and nothing is revealed.
    at.number_input(key=teach.predict_key(LESSON)).set_value(150.0)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert "Your prediction = 150 is out of range: a percentage from 0 to 100." in texts(at.error)
    assert not at.metric and not at.get("vega_lite_chart")
    # Back in range, the error goes and the prediction commits with the usable replications.
    at.number_input(key=teach.REPS_KEY).set_value(int(FAST_REPS)).run()
    at.number_input(key=teach.predict_key(LESSON)).set_value(30.0)
    at.button(key=f"learn.commit.{LESSON}").click().run()
    assert_clean(at)
    assert not at.error and metrics(at)["Your prediction"] == "30%"
    # A challenge's lever out of range is named by its label.
    at = open_learn({"challenge": CHALLENGE})
    key = teach.challenge_key(CHALLENGE, "reviews.council.interval_weeks")
    at.number_input(key=key).set_value(0.1)
    at.button(key=f"learn.try.{CHALLENGE}").click().run()
    assert_clean(at)
    assert texts(at.error) == [
        "Not run: Product council every (weeks) = 0.1 is out of range: a number from 0.5 to 52 "
        "weeks. Your earlier attempts are kept."
    ]
    assert not at.metric


def test_a_learn_link_beyond_the_replications_cap_warns_and_uses_the_default():
    at = open_learn({"lesson": LESSON, "reps": "300"})
    assert_clean(at)
    said = "URL parameter reps = '300' is not allowed: an integer from 1 to 100. Using the default, 30."
    assert said in texts(at.warning)
    assert at.number_input(key=teach.REPS_KEY).value == 30
