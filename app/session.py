"""What a Sandbox session remembers, and the callbacks that change it.

``session_state`` holds UI state only, as plain values:

* ``sb.applied`` — the settings last run: a :class:`~app.state.Setup` as a dict, seed, replications;
* ``sb.baseline`` — the pinned baseline's setup dict, or None;
* ``sb.saved`` — setups saved for the Compare page, by title;
* ``sb.display`` — the display options (metric shown, band width, per-team detail, open tab,
  presentation mode);
* ``cmp.applied`` — the Compare page's scenarios, seed and replications;
* ``learn.*`` — the Learn page's committed predictions, their scores and the challenge attempts
  (see :mod:`app.teach`);
* widget values under their keys, and messages to show once.

Results are never stored here; pages fetch them from the cache by their settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import streamlit as st

from app import controls
from app.state import (
    DEFAULT_BAND,
    DEFAULT_METRIC,
    DEFAULT_TAB,
    TABS,
    SandboxState,
    Setup,
    apply_values,
    auto_title,
    decode_sandbox,
    own_title,
    preset_setup,
)
from sim.params import ParamError, diff
from sim.report.format import full_stop
from sim.scenarios import MAX_BYTES, MAX_TITLE, ScenarioError, load_preset, parse, safe_title

APPLIED = "sb.applied"
BASELINE = "sb.baseline"
SAVED = "sb.saved"
DISPLAY = "sb.display"
PRESET_KEY = "sb.preset"
UPLOAD_KEY = "sb.upload"
URL_WARNINGS = "sb.url_warnings"
RUN_ERROR = "sb.run_error"
UPLOAD_ERROR = "sb.upload_error"
UPLOAD_NOTE = "sb.upload_note"
SAVE_NOTE = "sb.save_note"  # said once, as a toast, after Save for Compare
SAVE_NAME_KEY = "sb.save_name"  # the name typed for Save for Compare ("" keeps the title)
RENAME_KEY = "sb.rename"  # the title typed for the current settings
RENAME_NOTE = "sb.rename_note"  # said once, as a toast, after renaming
INITIAL_URL = "url.initial"


def remember_initial_url(page: str, query: Mapping[str, Any]) -> None:
    """Keep the link a session was opened with, for the page it was opened on."""
    if INITIAL_URL not in st.session_state:
        st.session_state[INITIAL_URL] = {"page": page, "query": dict(query), "used": False}


def take_initial_query(page: str) -> dict[str, Any]:
    """The opening link's query parameters if the session was opened on ``page`` (once only)."""
    initial = st.session_state.get(INITIAL_URL)
    if not initial or initial["page"] != page or initial["used"]:
        return {}
    initial["used"] = True
    return dict(initial["query"])


def applied() -> tuple[Setup, int, int]:
    a = st.session_state[APPLIED]
    return Setup.from_dict(a["setup"]), int(a["seed"]), int(a["replications"])


def baseline() -> Setup | None:
    b = st.session_state.get(BASELINE)
    return Setup.from_dict(b) if b else None


def display() -> dict[str, Any]:
    return dict(st.session_state[DISPLAY])


def _set_applied(setup: Setup, seed: int, replications: int) -> None:
    st.session_state[APPLIED] = {
        "setup": setup.to_dict(),
        "seed": int(seed),
        "replications": int(replications),
    }


def _start_sandbox() -> None:
    """The Sandbox's state from the opening link (or the defaults), once per session."""
    ss = st.session_state
    if APPLIED in ss:
        return
    state, warnings = decode_sandbox(take_initial_query("Sandbox"))
    _set_applied(state.variant, state.seed, state.replications)
    ss[BASELINE] = state.baseline.to_dict() if state.baseline else None
    ss[DISPLAY] = {
        "metric": state.metric,
        "band": state.band,
        "teams": state.teams,
        "tab": TABS[state.tab],
        "present": state.present,
    }
    ss[URL_WARNINGS] = warnings
    ss.setdefault(SAVED, {})


# The Sandbox's widgets that presentation mode takes off the page for a while: the display options
# and the tabs. The sidebar's (preset, levers, run settings) stay on the page, hidden, so that the
# browser keeps the lever edits not yet run.
DISPLAY_WIDGETS = (controls.METRIC_KEY, controls.BAND_KEY, controls.TEAMS_KEY, controls.TAB_KEY)


_WAS_PRESENTING = "sb.was_presenting"


def keep_widget_values(keys: Sequence[str]) -> None:
    """Keep the values of widgets that this run may not draw (the Sandbox's display options while
    presenting).

    A widget left off the page for a run loses its value: when it comes back, the browser draws
    it at its default (the council at its 0.5-week minimum), whatever Session State still says.
    Setting each value again before any widget is drawn makes it the value the widget comes back
    with (Streamlit's documented way to interrupt the widget clean-up).
    """
    ss = st.session_state
    for key in keys:
        if key in ss:
            ss[key] = ss[key]


def init_sandbox() -> None:
    """Start a session from its link, and restore widget values after visiting another page."""
    ss = st.session_state
    _start_sandbox()
    setup, seed, reps = applied()
    if controls.levers_missing():
        controls.set_levers(setup.params, seed, reps)
    if PRESET_KEY not in ss:
        ss[PRESET_KEY] = setup.preset
    # Back from another page, the display widgets' values (presentation mode's too) come from
    # what the page last showed.
    shown = ss[DISPLAY]
    for key, name in (
        (controls.METRIC_KEY, "metric"),
        (controls.BAND_KEY, "band"),
        (controls.TEAMS_KEY, "teams"),
        (controls.TAB_KEY, "tab"),
        (controls.PRESENT_KEY, "present"),
    ):
        if key not in ss:
            ss[key] = shown.get(name, False)
    # While presenting, and on the first run after, the display options' values are set again. The
    # levers' never are: a value set again is sent back to the browser, and would undo lever edits
    # not yet applied with Run. Read once presentation mode's own value is back: presenting when
    # the page is left, then back, then off, the display options were drawn at their defaults.
    presenting = bool(ss[controls.PRESENT_KEY])
    if presenting or ss.get(_WAS_PRESENTING):
        keep_widget_values(DISPLAY_WIDGETS)
    ss[_WAS_PRESENTING] = presenting


def keep_display(metric: str, band: int, teams: bool, tab: str) -> None:
    """Remember the display options (``tab`` is the open tab's label)."""
    shown = st.session_state[DISPLAY]
    shown.update({"metric": metric, "band": band, "teams": teams, "tab": tab})


def keep_present(present: bool) -> None:
    """Remember whether presentation mode is on (it goes into the page's link)."""
    st.session_state[DISPLAY]["present"] = bool(present)


def open_in_sandbox(
    variant: Setup,
    baseline_setup: Setup | None,
    seed: int | None = None,
    replications: int | None = None,
    same_run: bool = False,
) -> None:
    """Make ``variant`` the Sandbox's applied settings, with ``baseline_setup`` pinned.

    For links from other pages (the Learn page's "try it" buttons): presentation mode is switched
    off and the lever widgets are refilled from the new settings when the Sandbox draws them. The
    Sandbox keeps its seed and replications; ``seed`` and ``replications`` are used only when the
    Sandbox has not been opened yet in this session, or always with ``same_run`` (a lesson's
    reveal, whose numbers the Sandbox then shows again).
    """
    ss = st.session_state
    take_run = APPLIED not in ss or same_run  # this seed and these replications, if given
    _start_sandbox()
    _clear_messages()
    _, seed_now, reps_now = applied()
    seed = seed if take_run and seed is not None else seed_now
    reps = replications if take_run and replications is not None else reps_now
    _set_applied(variant, seed, reps)
    if baseline_setup is None:
        ss[BASELINE] = None
    else:
        title = baseline_setup.title
        if not title.startswith("Baseline"):
            title = "Baseline: " + title
        ss[BASELINE] = Setup(baseline_setup.preset, title, baseline_setup.overrides).to_dict()
    ss[DISPLAY]["present"] = False
    for key in [lv.widget_key for lv in controls.LEVERS] + [
        PRESET_KEY,
        controls.PRESENT_KEY,
    ]:
        ss.pop(key, None)


def sandbox_state() -> SandboxState:
    """The state a shared link must restore."""
    setup, seed, reps = applied()
    shown = display()
    return SandboxState(
        variant=setup,
        seed=seed,
        replications=reps,
        metric=shown.get("metric", DEFAULT_METRIC),
        band=shown.get("band", DEFAULT_BAND),
        teams=bool(shown.get("teams", False)),
        tab={label: slug for slug, label in TABS.items()}.get(shown.get("tab"), DEFAULT_TAB),
        baseline=baseline(),
        present=bool(shown.get("present", False)),
    )


def _clear_messages() -> None:
    for key in (URL_WARNINGS, RUN_ERROR, UPLOAD_ERROR, UPLOAD_NOTE):
        st.session_state.pop(key, None)


def _title_after_change(setup: Setup, overrides: dict[str, Any]) -> str:
    """The title after Run: unchanged when the settings are; a preset's title, marked
    "(modified)" once the settings differ from it; any other title (a file's, a link's) marked
    "(modified)" once the settings differ from its own."""
    if overrides == dict(setup.overrides):
        return setup.title  # a new seed or replications: still the same settings
    if setup.preset is not None and not own_title(setup):
        return auto_title(setup.preset, Setup(None, "", overrides).params)
    if not setup.title.endswith("(modified)"):
        return f"{setup.title} (modified)"
    return setup.title


# --------------------------------------------------------------------------------------------------
# Callbacks
# --------------------------------------------------------------------------------------------------


def on_preset() -> None:
    """A preset was picked: load its settings into the levers and run it."""
    name = st.session_state.get(PRESET_KEY)
    if not name:
        return
    _clear_messages()
    _, seed, reps = applied()
    setup = preset_setup(name)
    _set_applied(setup, seed, reps)
    controls.set_levers(setup.params, seed, reps)


def on_run() -> None:
    """Run pressed: validate the levers together and apply them, or keep everything and explain."""
    ss = st.session_state
    setup, _, _ = applied()
    values = controls.read_levers()
    _clear_messages()
    kept = "The previous results are still shown."
    try:
        overrides = apply_values(setup.overrides, values)
    except ParamError as err:
        ss[RUN_ERROR] = f"Not run: {full_stop(controls.setting_problem(err))} {kept}"
        return
    if problem := controls.run_settings_problem(ss[controls.SEED_KEY], ss[controls.REPS_KEY]):
        ss[RUN_ERROR] = f"Not run: {problem} {kept}"
        return
    new = replace(setup, title=_title_after_change(setup, overrides), overrides=overrides)
    _set_applied(new, int(ss[controls.SEED_KEY]), int(ss[controls.REPS_KEY]))


def on_upload() -> None:
    """A scenario file was chosen: validate it; apply it, or show why not and keep everything."""
    ss = st.session_state
    file = ss.get(UPLOAD_KEY)
    _clear_messages()
    if file is None:
        return
    if file.size > MAX_BYTES:
        ss[UPLOAD_ERROR] = (
            f"{file.name} is {file.size:,} bytes: a scenario file may be at most "
            f"{MAX_BYTES:,} bytes. Nothing was changed."
        )
        return
    stem = file.name.rsplit(".", 1)[0] or "uploaded"
    try:
        scenario = parse(file.getvalue(), name=stem)
        params = scenario.params
    except (ScenarioError, ParamError) as err:
        ss[UPLOAD_ERROR] = f"{file.name} was not loaded: {full_stop(err)} Nothing was changed."
        return
    _, seed, reps = applied()
    # A file's [run] table sets the seed and replications; without one, the current ones stay.
    seed = seed if scenario.seed is None else scenario.seed
    reps = reps if scenario.replications is None else scenario.replications
    setup = Setup(None, scenario.title, diff(params), scenario.description, scenario.teaching_notes)
    _set_applied(setup, seed, reps)
    controls.set_levers(params, seed, reps)
    ss[PRESET_KEY] = None
    run = [
        f"{what} {value:,}" if what == "seed" else f"{value:,} {what}"
        for what, value in (("seed", scenario.seed), ("replications", scenario.replications))
        if value is not None
    ]
    ss[UPLOAD_NOTE] = f"Loaded “{scenario.title}” from {file.name}" + (
        f", with its {' and '.join(run)}." if run else "."
    )


def on_rename() -> None:
    """Give the applied settings the title typed (cleaned as a scenario title is), or, with
    nothing typed, the title where they started gives them. Nothing is re-run: results are kept
    by settings, not by title."""
    setup, seed, reps = applied()
    typed, cleaned = _take_typed_title(RENAME_KEY)
    title = cleaned or auto_title(setup.preset, setup.params)
    _set_applied(replace(setup, title=title), seed, reps)
    note = f"These settings are now titled “{title}”."
    if typed and not cleaned:
        note += " The title typed has no letters or digits a title can keep."
    st.session_state[RENAME_NOTE] = note


def _take_typed_title(key: str) -> tuple[str, str]:
    """What was typed in a title field (stripped) and that text cleaned as a scenario title is
    ("" when nothing is left); the field is emptied for the next one."""
    typed = str(st.session_state.get(key) or "").strip()
    st.session_state[key] = ""
    return typed, safe_title(typed)


def on_pin() -> None:
    setup, _, _ = applied()
    title = setup.title if setup.title.startswith("Baseline") else "Baseline: " + setup.title
    st.session_state[BASELINE] = Setup(setup.preset, title, setup.overrides).to_dict()


def on_unpin() -> None:
    st.session_state[BASELINE] = None


def on_pin_and_edit() -> None:
    """Pin the applied settings and leave presentation mode, so the levers can be changed."""
    on_pin()
    st.session_state[controls.PRESENT_KEY] = False


def on_pin_preset(name: str) -> None:
    """Pin a preset (e.g. the aligned baseline) as the baseline."""
    setup = preset_setup(name)
    st.session_state[BASELINE] = Setup(
        setup.preset, "Baseline: " + setup.title, setup.overrides
    ).to_dict()


def on_save() -> None:
    """Keep the applied settings for the Compare page (this session only), under the name typed
    (cleaned as a scenario title is) or, without one, the settings' title.

    Settings saved again under the same title are kept once; other settings with a title already
    taken get a number, as "(2)", rather than replace the earlier ones.
    """
    setup, _, _ = applied()
    typed, name = _take_typed_title(SAVE_NAME_KEY)
    if name:
        setup = replace(setup, title=name)
    title = _save(setup)
    note = f"Saved “{title}” for the Compare page."
    if typed and not name:
        note += (
            f" The name typed ({typed[:40]!r}) has no letters or digits a title can keep, "
            "so the settings' own title was used."
        )
    st.session_state[SAVE_NOTE] = note


def _save(setup: Setup, taken: set[str] | None = None) -> str:
    """Add ``setup`` to the saved settings under a title of its own; returns that title.

    An identical saved setting is reused unless it is in ``taken``.
    """
    taken = set() if taken is None else taken
    saved = dict(st.session_state.get(SAVED, {}))
    title, n = setup.title, 1
    # Compare shows titles and settings only: a file's texts stay with the Sandbox.
    while title in taken or (
        title in saved and saved[title] != Setup(setup.preset, title, setup.overrides).to_dict()
    ):
        n += 1
        suffix = f" ({n})"
        title = setup.title[: MAX_TITLE - len(suffix)] + suffix
    taken.add(title)
    saved[title] = Setup(setup.preset, title, setup.overrides).to_dict()
    st.session_state[SAVED] = saved
    return title


# --------------------------------------------------------------------------------------------------
# Compare page
# --------------------------------------------------------------------------------------------------

CMP_APPLIED = "cmp.applied"
CMP_NAMES_KEY = "cmp.names"
CMP_SEED_KEY = "cmp.seed"
CMP_REPS_KEY = "cmp.reps"
CMP_BAND_KEY = "cmp.band"
CMP_ERROR = "cmp.error"
CMP_URL_WARNINGS = "cmp.url_warnings"
SAVED_PREFIX = "saved:"
CURRENT = "sandbox:current"
PINNED = "sandbox:baseline"


def compare_defaults() -> list[str]:
    from sim.scenarios import preset_names

    names = preset_names()
    wanted = [n for n in ("aligned-baseline", "drifting-incentives") if n in names]
    return wanted if len(wanted) == 2 else names[:2]


def compare_options() -> list[str]:
    """Everything the Compare page can run: presets, the Sandbox's settings, saved settings."""
    from sim.scenarios import preset_names

    options = list(preset_names())
    if APPLIED in st.session_state:
        options.append(CURRENT)
        if st.session_state.get(BASELINE):
            options.append(PINNED)
    options += [SAVED_PREFIX + t for t in st.session_state.get(SAVED, {})]
    return options


def option_setup(option: str) -> Setup | None:
    """The setup an option stands for (None if it no longer exists in this session)."""
    ss = st.session_state
    if option == CURRENT:
        return applied()[0] if APPLIED in ss else None
    if option == PINNED:
        return baseline()
    if option.startswith(SAVED_PREFIX):
        data = ss.get(SAVED, {}).get(option[len(SAVED_PREFIX) :])
        return Setup.from_dict(data) if data else None
    try:
        return preset_setup(option)
    except ScenarioError:
        return None


def option_label(option: str) -> str:
    if option == CURRENT:
        return "Sandbox: current settings"
    if option == PINNED:
        return "Sandbox: pinned baseline"
    if option.startswith(SAVED_PREFIX):
        return "Saved: " + option[len(SAVED_PREFIX) :]
    try:
        return load_preset(option).title
    except ScenarioError:
        return option


def _keep_for_compare(setup: Setup, taken: set[str]) -> str:
    """Keep a scenario a Compare link carries among the saved settings; returns its option.

    An identical saved setting is reused unless another scenario of the same link took it already.
    """
    return SAVED_PREFIX + _save(setup, taken)


def init_compare() -> None:
    from app.state import decode_compare

    ss = st.session_state
    if CMP_APPLIED not in ss:
        query = take_initial_query("Compare")
        scenarios, seed, reps, warnings = decode_compare(query, compare_defaults())
        taken: set[str] = set()
        names = [s if isinstance(s, str) else _keep_for_compare(s, taken) for s in scenarios]
        if not query and APPLIED in ss:
            # Opened from the Sandbox: start with its seed and number of replications, and with
            # its pinned baseline against its current settings when they differ.
            current, seed, reps = applied()
            base = baseline()
            if base is not None and base.params != current.params:
                names = [PINNED, CURRENT]
        ss[CMP_APPLIED] = {"names": names, "seed": seed, "replications": reps}
        ss[CMP_URL_WARNINGS] = warnings
        ss.setdefault("cmp.display_band", DEFAULT_BAND)
    a = ss[CMP_APPLIED]
    options = compare_options()
    if CMP_NAMES_KEY not in ss:
        ss[CMP_NAMES_KEY] = [n for n in a["names"] if n in options]
        ss[CMP_SEED_KEY] = a["seed"]
        ss[CMP_REPS_KEY] = a["replications"]
    if CMP_BAND_KEY not in ss:
        ss[CMP_BAND_KEY] = ss["cmp.display_band"]


def on_compare() -> None:
    ss = st.session_state
    ss.pop(CMP_ERROR, None)
    ss.pop(CMP_URL_WARNINGS, None)
    names = list(ss[CMP_NAMES_KEY])
    if len(names) < 2:
        ss[CMP_ERROR] = "Pick at least two scenarios to compare; the previous comparison is shown."
        return
    if problem := controls.run_settings_problem(ss[CMP_SEED_KEY], ss[CMP_REPS_KEY]):
        ss[CMP_ERROR] = f"Not compared: {problem} The previous comparison is shown."
        return
    ss[CMP_APPLIED] = {
        "names": names,
        "seed": int(ss[CMP_SEED_KEY]),
        "replications": int(ss[CMP_REPS_KEY]),
    }
