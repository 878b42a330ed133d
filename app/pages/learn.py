"""Learn: how the model works, lessons (predict, then reveal) and goal-based challenges."""

import numpy as np
import streamlit as st

from app import compute, controls, model_guide, teach, views
from app.state import (
    CHALLENGE_PARAM,
    LEARN_MAX_REPLICATIONS,
    LEARN_REPLICATIONS,
    LESSON_PARAM,
    encode_learn,
)
from sim.lessons import (
    DIRECTIONS,
    WRONG_WAY_CAP,
    challenge_names,
    lesson_names,
    load_challenge,
    load_lesson,
)
from sim.narrative import MIN_PAIRS, why_line
from sim.outcomes import KPIS
from sim.report.format import count, fmt_delta, fmt_value, full_stop
from sim.scenarios import ScenarioError

teach.init_learn()

st.title("Learn")
st.markdown(
    "How the model works, six lessons in which you **predict before you see**, and challenges "
    "to solve with a few levers. Every result is a spread across simulated worlds; lessons "
    "compare a situation with its baseline on the same random numbers."
)
views.link_warnings(teach.link_warnings())

with st.expander("Run settings for lessons and challenges"):
    c1, c2 = st.columns(2)
    # Unbounded boxes, checked here: a value out of range gets an error naming the range.
    c1.number_input(
        "Replications",
        step=10,
        key=teach.REPS_KEY,
        help=f"Independent runs of the model (1 to {LEARN_MAX_REPLICATIONS} here; a lesson needs "
        f"at least {MIN_PAIRS}, as it compares runs in pairs). Lessons start at "
        f"{LEARN_REPLICATIONS}: paired differences are clear with that many. A class shares "
        "one server, and one large run delays everyone's reveal; the Sandbox runs more.",
    )
    c2.number_input("Seed", step=1, key=teach.SEED_KEY, help=controls.SEED_HELP)
    if problem := teach.run_settings_problem():
        seed, reps = teach.run_settings()
        st.error(
            views.plain(
                f"{problem} Reveals and attempts keep using {count(reps, 'replication')} and seed {seed}."
            )
        )
    st.caption(
        "Used by the next reveal or attempt; a committed prediction keeps the runs it was "
        "revealed with. Everyone with the same settings shares the cached runs."
    )

tabs = st.tabs(list(teach.TABS), key=teach.TAB_KEY, on_change="rerun")
state = teach.keep_open()
query = encode_learn(state)
if st.query_params.to_dict() != query:
    st.query_params.from_dict(query)


def _model_tab() -> None:
    st.markdown(
        "Product teams, marketing and sales choose what to do under their **incentives**; a "
        "**governance rhythm** of reviews notices drift and corrects it, at the price of the "
        "attendees' time; **decision rights** decide who may start what. What gets built becomes "
        "the product customers meet: how fast they reach value, whether they form the habit, "
        "whether they stay."
    )
    st.graphviz_chart(
        model_guide.causal_diagram(st.context.theme.type),
        width="stretch",
        alt="Causal diagram: incentives pull alignment; alignment and discovery decide the work "
        "chosen; work and build capacity make value delivered; value sets time-to-value, "
        "activation and retention; reviews correct alignment, cost capacity, decide the decision "
        "queue and re-aim work after a market shift; decision rights escalate items into the "
        "queue; market shifts devalue old work.",
    )
    st.caption(
        "Blue: levers a leader sets. Yellow: the market. Grey: what the model keeps track of. "
        "Green: what customers feel. A dashed arrow is a cost."
    )
    st.subheader("The mechanisms, and the levers that change them", anchor=False)
    items = model_guide.mechanisms()
    for row in range(0, len(items), 2):
        cols = st.columns(2)
        for col, (i, mechanism) in zip(
            cols, enumerate(items[row : row + 2], start=row), strict=False
        ):
            with col.container(border=True):
                st.markdown(f"**{i + 1}. {mechanism.title}**")
                st.markdown(mechanism.text)
                st.markdown("Levers " + model_guide.lever_names(mechanism) + ".")
                if st.button(
                    f"Try it: {mechanism.example}",
                    key=f"learn.example.{i}",
                    icon=":material/tune:",
                    help="Opens the Sandbox with this change, the preset it starts from pinned as "
                    "the baseline, so the deltas show the mechanism at work.",
                ):
                    model_guide.open_example(mechanism)
                    st.switch_page("app/pages/sandbox.py")
    st.subheader("Validated against published results", anchor=False)
    st.markdown("\n".join(f"- {v}" for v in model_guide.VALIDATIONS))
    st.markdown(
        "Each is a test in the project's suite, with tolerances from the Monte Carlo standard "
        "error. On paired runs the model also reproduces seven governance patterns:"
    )
    st.markdown("\n".join(f"{i}. {p}" for i, p in enumerate(model_guide.PATTERNS, start=1)))
    with st.expander("References"):
        st.markdown("\n".join(f"- {r}" for r in model_guide.REFERENCES))
        st.caption(
            "Every parameter, its unit, default, range and rationale: docs/MODEL.md in the "
            "project (ODD+D description)."
        )


def _prediction_form(name: str, lesson) -> None:
    kpi = KPIS[lesson.kpi]
    with st.form(f"learn.predict_form.{name}", border=True, enter_to_submit=False):
        if lesson.prediction == "number":
            unit, _ = teach.prediction_unit(lesson.kpi)
            st.number_input(
                f"Your prediction: {kpi.label} ({'percent' if unit == '%' else unit})",
                value=None,  # unbounded: Commit checks it and names the range
                step=teach.prediction_step(lesson.kpi),
                key=teach.predict_key(name),
                placeholder="Type a number",
                help=f"{kpi.description} Commit before anything is shown.",
            )
        else:
            st.radio(
                f"Your prediction: against the baseline, {kpi.label.lower()} …",
                list(DIRECTIONS),
                index=None,
                horizontal=True,
                key=teach.predict_key(name),
                help=f"{kpi.description} Commit before anything is shown.",
            )
        if error := st.session_state.get(teach.PREDICT_ERROR, {}).get(name):
            st.error(views.plain(error))
        st.form_submit_button(
            "Commit my prediction",
            type="primary",
            key=f"learn.commit.{name}",
            on_click=teach.on_commit,
            args=(name,),
            icon=":material/lock:",
            help="Locks your prediction in; then the simulation runs and the answer is revealed.",
        )
    st.caption("Nothing about this lesson's outcome is shown until you commit.")


SCORE_HELP = {
    "number": "100 inside the simulated 90% band. Outside it, the score falls with the distance "
    "to the band, to 0 at one 'size of the question' away: the largest of the band's width, the "
    "simulated change and your predicted change. When the change is clear, a number on the "
    f"wrong side of the baseline (or within half a step of it) scores at most {WRONG_WAY_CAP}.",
    "direction": "100 for the right direction, 0 otherwise. It rises or falls when the 90% "
    "interval of the paired differences leaves out zero (at least 95% of paired runs move that "
    "way); otherwise it stays about the same.",
}


def _reveal(name: str, lesson, record: dict) -> None:
    kpi = KPIS[lesson.kpi]
    try:
        with st.spinner("Running the lesson and its baseline on the same random numbers…"):
            reveal = teach.lesson_reveal(name, record["seed"], record["reps"])
        if record.get("score") is None:
            record["score"], record["verdict"] = teach.score_lesson(lesson, record, reveal)
    except Exception as err:  # the page must never show a traceback
        st.error(
            views.plain(
                f"The lesson could not be run: {full_stop(err)} Your prediction is kept; try again."
            )
        )
        return
    samples = np.array(reveal["samples"], dtype=float)
    samples = samples[np.isfinite(samples)]
    # In a row that wraps: a narrow window moves a tile down rather than cutting its number short.
    c1 = c2 = c3 = c4 = st.container(horizontal=True)
    c1.metric("Your prediction", teach.format_prediction(lesson, record["prediction"]), border=True)
    c2.metric("Score", f"{record['score']} / 100", border=True, help=SCORE_HELP[lesson.prediction])
    summary = reveal["summary"]
    c3.metric(f"Simulated {kpi.label.lower()}", fmt_value(summary["mean"], kpi.unit), border=True)
    if lesson.prediction == "number" and samples.size:
        lo, hi = np.percentile(samples, [5, 95])
        c4.metric(
            "Simulated 90% band",
            f"{fmt_value(lo, kpi.unit)} to {fmt_value(hi, kpi.unit)}",
            border=True,
        )
    else:
        diffs = np.array(reveal["diffs"], dtype=float)
        diffs = diffs[np.isfinite(diffs)]
        lo, hi = np.percentile(diffs, [5, 95]) if diffs.size else (np.nan, np.nan)
        c4.metric(
            "Paired difference, 90% interval",
            f"{fmt_delta(lo, kpi.unit)} to {fmt_delta(hi, kpi.unit)}",
            border=True,
        )
    show = (
        st.success if record["score"] >= 100 else st.info if record["score"] >= 50 else st.warning
    )
    show(record["verdict"])
    st.markdown(
        f"**Against the baseline** ({reveal['base_title']}, same seed): {reveal['headline']}"
    )
    # The "why" takes the longest (a run per combination of changes): its place is kept here, and
    # it is worked out last, so the chart and the debrief are read while it runs.
    why_slot = st.empty()
    st.caption(
        f"{count(record['reps'], 'paired replication')} · seed {record['seed']} · the baseline in grey."
    )
    views.show_figures([reveal["figure"]], sections=False)
    st.subheader("Debrief", anchor=False)
    st.markdown(lesson.debrief)
    st.markdown(f"**Every KPI against the baseline** ({reveal['base_title']}, paired runs)")
    st.dataframe(
        reveal["kpi_table"],
        hide_index=True,
        key=f"learn.kpis.{name}",
        height="content",
        column_config={
            "KPI": st.column_config.TextColumn("KPI", pinned=True, width=170),
            "Mean": st.column_config.TextColumn("Lesson", help="The lesson's mean."),
            "P(variant better)": st.column_config.TextColumn("P(lesson better)"),
        },
    )
    if lesson.discussion:
        st.markdown("**Discuss**")
        st.markdown("\n".join(f"- {q}" for q in lesson.discussion))
    history = st.session_state.get(teach.LESSONS, {}).get(name, {}).get("history", [])
    if history:
        earlier = ", ".join(
            f"{teach.format_prediction(lesson, h['prediction'])} (score {h['score']})"
            for h in history
            if h.get("score") is not None
        )
        if earlier:
            st.caption(f"Earlier predictions: {earlier}.")
    row = st.container(horizontal=True)
    row.button(
        "Try again",
        key=f"learn.again.{name}",
        on_click=teach.on_try_again,
        args=(name,),
        icon=":material/replay:",
        help="Keep this result in the lesson's history and predict again.",
    )
    following = teach.next_lesson(name)
    row.button(
        f"Next lesson: {load_lesson(following).title}" if following else "On to the challenges",
        key=f"learn.next.{name}",
        on_click=teach.on_next_lesson,
        args=(name,),
        icon=":material/arrow_forward:",
        help="Your prediction and score here are kept.",
    )
    if row.button(
        "See every curve in the Sandbox",
        key=f"learn.sandbox.{name}",
        icon=":material/tune:",
        help="Opens the Sandbox with this lesson's situation against its baseline (pinned): every "
        "chart, the data tables and the event timeline, to follow the order in which they move.",
    ):
        teach.open_lesson_in_sandbox(lesson, record["seed"], record["reps"])
        st.switch_page("app/pages/sandbox.py")
    settings, base_settings = teach.lesson_settings(lesson)
    with why_slot.container():
        try:
            row = reveal.get("row") or {}
            explanation = compute.why(
                base_settings,
                settings,
                record["seed"],
                record["reps"],
                lesson.kpi,
                by="group",
                total=row.get("diff_mean"),  # the difference the reveal shows
            )
        except Exception as err:  # an explanation is a bonus: never break the reveal for it
            explanation = {"text": None, "reason": str(err)}
        if explanation["text"]:
            text = why_line(explanation["text"], reveal.get("row"))
            st.markdown(f"**Why:** {views.plain(text)}")


def _lessons_tab() -> None:
    # Filled last, so a score revealed on this run is already in it.
    overview = st.container()
    names = lesson_names()
    name = st.selectbox(
        "Lesson",
        names,
        key=teach.LESSON_KEY,
        format_func=lambda n: f"{names.index(n) + 1}. {load_lesson(n).title}",
        help="Lessons in teaching order. Your predictions are kept while this tab is open in "
        "your browser.",
    )
    try:
        lesson = load_lesson(name)
    except ScenarioError as err:
        st.error(views.plain(f"This lesson cannot be loaded: {full_stop(err)}"))
        return
    st.subheader(lesson.title, anchor=False)
    st.markdown(f"**Learning objective.** {lesson.objective}")
    st.markdown(f"**Question.** {lesson.question}")
    record = teach.lesson_record(name)
    if record is None:
        _prediction_form(name, lesson)
    else:
        _reveal(name, lesson, record)
    # A static table: each objective is read whole, wrapped (a data grid cut it at 1366 px). Folded,
    # so the lesson itself comes first on a laptop's screen.
    with overview.expander("All lessons, their objectives and your scores"):
        st.table(teach.lessons_table(), hide_index=True, border="horizontal")


def _challenge_result(challenge) -> None:
    done = teach.attempts(challenge.name)
    if not done:
        st.info("Set the levers and press **Try these settings**: the attempt is scored here.")
        return
    latest = done[-1]
    try:
        with st.spinner("Running your attempt…"):
            result = teach.score_attempt(challenge, latest)
    except Exception as err:  # the page must never show a traceback
        st.error(
            views.plain(
                f"The attempt could not be run: {full_stop(err)} Your other attempts are kept."
            )
        )
        return
    latest["score"] = result["score"]
    c1, c2 = st.columns([1, 3], vertical_alignment="center")
    c1.metric(
        f"Score of attempt {len(done)}",
        f"{result['score']} / 100",
        border=True,
        help="The share of simulated worlds (replications) in which every goal is met.",
    )
    with c2:
        if result["score"] >= 100:
            st.success("Every goal is met in every simulated world.")
        elif result["solved"]:
            st.info(
                "On average every goal is met, but not in every world: the score counts the "
                "worlds in which all of them hold."
            )
        else:
            st.warning("Not every goal is met on average yet.")
    st.dataframe(result["goals"], hide_index=True, key="learn_table_goals")
    st.markdown("**Attempts so far**")
    # A static table, so each attempt's settings are read whole (the group explains them).
    st.table(teach.attempts_table(challenge.name), hide_index=True, border="horizontal")


def _challenges_tab() -> None:
    names = challenge_names()
    name = st.selectbox(
        "Challenge",
        names,
        key=teach.CHALLENGE_KEY,
        format_func=lambda n: load_challenge(n).title,
        help="Goal-based scenarios: reach every goal with the levers allowed.",
    )
    try:
        challenge = load_challenge(name)
    except ScenarioError as err:
        st.error(views.plain(f"This challenge cannot be loaded: {full_stop(err)}"))
        return
    st.subheader(challenge.title, anchor=False)
    st.markdown(challenge.brief)
    st.markdown(
        "**Goals** — a simulated world counts when all of them hold; the score is the share of "
        "worlds that count:\n" + "\n".join(f"- {g.describe()}" for g in challenge.goals)
    )
    if challenge.hints:
        with st.expander("Hints"):
            st.markdown("\n".join(f"- {h}" for h in challenge.hints))
    views.share_link(
        st.context.url or "/learn",
        {**{k: v for k, v in query.items() if k != LESSON_PARAM}, CHALLENGE_PARAM: name},
        "Hand out this link: it opens this challenge with these run settings, so the class "
        "shares the cached runs.",
    )
    teach.set_challenge_levers(challenge)
    with st.form(f"learn.challenge_form.{name}", border=True, enter_to_submit=False):
        st.markdown("**The levers you may change**")
        cols = st.columns(2)
        for col, keys in zip(cols, teach.lever_columns(challenge.levers), strict=True):
            with col:
                for key in keys:
                    controls.draw_lever(controls.lever_for(key), teach.challenge_key(name, key))
        if error := st.session_state.get(teach.TRY_ERROR, {}).get(name):
            st.error(views.plain(error))
        st.form_submit_button(
            "Try these settings",
            type="primary",
            key=f"learn.try.{name}",
            on_click=teach.on_try,
            args=(name,),
            icon=":material/play_arrow:",
            help="Run the challenge with these levers and score the attempt.",
        )
    _challenge_result(challenge)


for tab, label in zip(tabs, teach.TABS, strict=True):
    if not tab.open:
        continue
    with tab:
        if label == teach.TABS[0]:
            _model_tab()
        elif label == teach.TABS[1]:
            _lessons_tab()
        else:
            _challenges_tab()
