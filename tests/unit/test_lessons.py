"""Lessons, challenges and their scoring."""

import numpy as np
import pytest

from sim.lessons import (
    WRONG_WAY_CAP,
    challenge_names,
    lesson_names,
    load_challenge,
    load_lesson,
    score_challenge,
    score_direction,
    score_number,
    true_direction,
)
from sim.narrative import headline
from sim.params import with_overrides
from sim.runner import compare, run_many
from sim.scenarios import ScenarioError, load_preset

TOPICS = ("drift", "meetings", "sales", "pivot", "decision", "habit")


def test_six_lessons_cover_the_topics_in_order():
    names = lesson_names()
    assert len(names) >= 6
    for topic, name in zip(TOPICS, names, strict=False):
        assert topic in name
    for name in names:
        lesson = load_lesson(name)
        assert lesson.objective and lesson.question and lesson.debrief
        assert len(lesson.discussion) >= 2
        lesson.scenario.params  # validates  # noqa: B018


def test_challenges_load_with_goals_and_levers():
    assert len(challenge_names()) >= 3
    for name in challenge_names():
        c = load_challenge(name)
        assert c.goals and c.levers and c.brief


def test_unknown_lesson_or_challenge():
    with pytest.raises(ScenarioError, match="does not exist"):
        load_lesson("nope")
    with pytest.raises(ScenarioError, match="does not exist"):
        load_challenge("../aligned-baseline")


def test_number_scoring():
    rng = np.random.default_rng(0)
    samples = rng.normal(0.30, 0.01, 200)
    lo, hi = np.percentile(samples, [5, 95])
    inside = score_number(0.30, samples, baseline_mean=0.35, unit="share")
    assert inside.score == 100 and "Inside" in inside.verdict
    near = score_number(hi + 0.01, samples, baseline_mean=0.35, unit="share")
    far = score_number(0.45, samples, baseline_mean=0.35, unit="share")
    assert 0 < near.score < 100 and far.score == 0 and "higher" in far.verdict
    # The prediction as typed and as its tile shows it ("45%"), the band to a tenth.
    assert far.verdict.startswith("Your 45% is higher than the simulated 90% band (")
    assert score_number(0.205, samples, 0.35, "share").verdict.startswith("Your 20.5% is lower")
    assert score_number(3.5, samples, 0.35, "days").verdict.startswith("Your 3.5 days is higher")
    # Value with its unit, as its tile gives it, and the decimals typed.
    value = score_number(1500.5, samples * 14_000, 4200.0, "value points").verdict
    assert value.startswith("Your 1,500.5 points is lower than the simulated 90% band ("), value
    assert " points to " in value and value.endswith(" points.")
    assert score_number(lo - 0.001, samples, 0.35, "share").score > near.score
    assert inside.percentile == pytest.approx(50, abs=10)


def test_direction_scoring():
    assert true_direction(np.array([1.0, 2.0, 3.0])) == "rises"
    assert true_direction(np.array([-1.0, 2.0, 0.5])) == "about the same"
    assert score_direction("falls", np.full(10, -2.0)).score == 100
    assert score_direction("rises", np.full(10, -2.0)).score == 0
    with pytest.raises(ValueError, match="one of"):
        score_direction("sideways", np.zeros(3))


def test_challenge_score_is_share_of_replications_meeting_every_goal():
    c = load_challenge("govern-the-drift")
    kpis = {
        "retention_52w": np.array([0.33, 0.33, 0.31, 0.33]),
        "meeting_overhead_share": np.array([0.05, 0.07, 0.05, 0.05]),
    }
    result = score_challenge(c, kpis)
    assert result.score == 50  # replications 0 and 3 meet both goals
    assert result.solved  # and the means (0.325, 0.055) meet them too
    kpis["meeting_overhead_share"] = np.array([0.05, 0.09, 0.05, 0.09])
    result = score_challenge(c, kpis)
    assert result.score == 25 and not result.solved  # mean overhead 0.07 misses its goal
    assert [round(share, 2) for _, _, share in result.goals] == [0.75, 0.5]


@pytest.mark.slow
@pytest.mark.parametrize("name", lesson_names())
def test_each_lesson_tells_the_story_its_debrief_tells(name):
    lesson = load_lesson(name)
    base = run_many(load_preset(lesson.baseline).params, replications=24, seed=21)
    variant = run_many(lesson.scenario.params, replications=24, seed=21)
    table = compare(base, variant).kpis().set_index("kpi")
    row = table.loc[lesson.kpi]
    diffs = (
        variant.kpi_values[:, list(table.index).index(lesson.kpi)]
        - base.kpi_values[:, list(table.index).index(lesson.kpi)]
    )
    se = diffs.std(ddof=1) / np.sqrt(diffs.size)
    sign = 1 if lesson.expect == "rises" else -1
    assert sign * row.diff_mean > 3 * se, f"{name}: {lesson.kpi} {row.diff_mean:.4g} ± {se:.2g}"
    assert headline(compare(base, variant).kpis(), kpis=(lesson.kpi,)).startswith("The proposal")


def test_a_number_the_wrong_way_round_scores_below_a_bold_one_the_right_way():
    """Lesson 3's shape: the baseline at 34.8%, the simulated band 31.9-34.4% and a clear fall. A
    guess of "no change" used to score 76 and a bold fall to 30% only 24."""
    rng = np.random.default_rng(3)
    base = 0.348
    diffs = rng.normal(-0.017, 0.004, 100)
    samples = base + diffs + rng.normal(0.0, 0.006, 100)
    # Typed in whole percent, 35 is the baseline as the question rounds it ("about 35%").
    none = score_number(0.35, samples, base, "share", diffs=diffs, same_within=0.005)
    bold = score_number(0.30, samples, base, "share", diffs=diffs, same_within=0.005)
    near = score_number(0.33, samples, base, "share", diffs=diffs, same_within=0.005)
    assert near.score == 100
    assert none.score <= WRONG_WAY_CAP < bold.score < 100
    assert "It falls from the baseline's 34.8%; your prediction left it where it was." in (
        none.verdict
    )
    rise = score_number(0.36, samples, base, "share", diffs=diffs, same_within=0.005)
    assert rise.score <= WRONG_WAY_CAP and "your prediction had it rise" in rise.verdict
    same = score_number(0.35, samples, base, "share", diffs=diffs)  # no rounding allowed
    assert "your prediction had it rise" in same.verdict
    # Without paired differences, or when the change is not clear, there is no wrong way round.
    assert score_number(0.35, samples, base, "share").score > WRONG_WAY_CAP
    flat = rng.normal(0.0, 0.01, 100)
    assert "your prediction" not in score_number(0.35, samples, base, "share", diffs=flat).verdict


@pytest.mark.slow
def test_the_fit_hint_points_the_way_that_solves_the_challenge():
    """ "Fix the fit": sales paid part-way on fit (mixed) meets both goals on average; all the way
    (shared outcome) keeps customers longer but signs up too few, as the hint says."""
    challenge = load_challenge("fix-the-fit")
    assert "part-way" in challenge.hints[0]
    p = challenge.scenario.params

    def kpis(sales: str) -> dict[str, np.ndarray]:
        res = run_many(with_overrides(p, {"incentives.sales": sales}), replications=30, seed=1)
        return {g.kpi: res.kpis()[g.kpi].to_numpy() for g in challenge.goals}

    start, part, full = (kpis(s) for s in ("local_metric", "mixed", "shared_outcome"))
    assert not score_challenge(challenge, start).solved
    assert score_challenge(challenge, part).solved
    assert score_challenge(challenge, part).score > score_challenge(challenge, start).score
    # All the way: retention higher still, but too few customers at the end.
    assert full["retention_52w"].mean() > part["retention_52w"].mean()
    assert full["active_customers_end"].mean() < 6800 <= part["active_customers_end"].mean()


def test_the_council_cost_hint_gives_the_models_own_numbers():
    """The hint's meeting costs are what the model charges a council at 4, 2 and 1 weeks."""
    challenge = load_challenge("govern-the-drift")
    p = challenge.scenario.params
    council = p.reviews.council
    per_week = council.attendees_per_team * (council.hours + p.reviews.context_switch_hours)
    capacity = p.org.team_size_people * p.org.hours_per_person_week
    hint = next(h for h in challenge.hints if "council" in h and "capacity" in h)
    for weeks in (4, 2, 1):
        assert f"{per_week / weeks / capacity:.1%}" in hint, (weeks, hint)


def test_the_guide_and_readme_name_the_lessons_as_the_app_does():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    guide = (root / "docs" / "instructor-guide.md").read_text()
    readme = (root / "README.md").read_text()
    for name in lesson_names():
        title = load_lesson(name).title
        assert f"*{title}*" in " ".join(guide.split()), title
        assert f"*{title}*" in " ".join(readme.split()), title


@pytest.mark.slow
def test_the_time_to_value_focus_still_lifts_activation_under_drift():
    """Lesson 6's discussion says so: with every incentive on its local metric, the focus on
    onboarding still raises activation, and the drifting teams' median time-to-value falls."""
    lesson = load_lesson("6-time-to-value-and-the-habit-threshold")
    assert "still lifts activation" in " ".join(lesson.discussion)
    drifting = load_preset("drifting-incentives").params
    focus = with_overrides(drifting, {"work.strategy_focus": "time_to_value"})
    base, variant = run_many(drifting, 24, 21), run_many(focus, 24, 21)
    names = list(compare(base, variant).kpis()["kpi"])
    for name, sign in (("activation_rate", 1), ("median_ttv_days", -1)):
        j = names.index(name)
        diffs = variant.kpi_values[:, j] - base.kpi_values[:, j]
        se = diffs.std(ddof=1) / np.sqrt(diffs.size)
        assert sign * diffs.mean() > 3 * se, f"{name}: {diffs.mean():.4g} ± {se:.2g}"


@pytest.mark.slow
def test_the_guides_growth_numbers_are_the_models():
    """The instructor guide warns that drift can raise active customers and LTV / CAC while
    retention falls, and quotes the numbers (seed 21, 100 replications): they are the model's."""
    from pathlib import Path

    guide = " ".join(
        (Path(__file__).resolve().parents[2] / "docs" / "instructor-guide.md").read_text().split()
    )
    base = run_many(load_preset("aligned-baseline").params, 100, 21)
    drift = run_many(load_preset("drifting-incentives").params, 100, 21)
    table = compare(base, drift).kpis().set_index("kpi")
    active, ltv, retention = (
        table.loc[k] for k in ("active_customers_end", "ltv_to_cac", "retention_52w")
    )
    quoted = (
        f"about {round(active.variant, -1):,.0f} active customers against "
        f"{round(active.baseline, -2):,.0f}, LTV / CAC {ltv.variant:.1f} against "
        f"{ltv.baseline:.1f}, retention {retention.variant:.0%} against {retention.baseline:.0%}"
    )
    assert quoted in guide, quoted
    # Each moves that way in at least 95% of paired runs (its 90% interval leaves out zero).
    assert active.diff_p05 > 0 and ltv.diff_p05 > 0 and retention.diff_p95 < 0
