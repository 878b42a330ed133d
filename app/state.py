"""Settings as plain data, and the query-string form that restores them.

The app never keeps model objects between reruns. What it keeps is a :class:`Setup`-shaped dict of
plain values — the preset it started from, a title, the settings that differ from the model's defaults,
the seed and the number of replications — and everything else (parameters, results, charts) is rebuilt
from that, with results fetched from the cache.

A shared link carries the same information as query parameters, and only what differs from the
defaults: ``scenario`` (the preset, unless it is the default one), one parameter per setting that
differs from that preset, ``seed`` and ``reps`` when not the defaults, the display options
(``present=1`` opens presentation mode), and a pinned baseline as ``base`` plus ``base.<setting>``
entries. Reading a link validates every value; a bad one is reported by name and replaced by its
default, and everything else still applies.

Nothing here imports Streamlit, so all of it is testable without a server.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.outcomes import SERIES
from sim.params import (
    ParamError,
    Params,
    check_key,
    default_params,
    diff,
    parse_value,
    shown,
    suggest,
    with_overrides,
)
from sim.report.format import full_stop
from sim.report.links import (
    APP_MAX_REPLICATIONS,
    APP_MAX_SEED,
    BASE_PARAM,
    BASE_PREFIX,
    CUSTOM_BASE,
    DEFAULT_REPLICATIONS,
    DEFAULT_SEED,
    PRESET_PARAM,
    REPS_PARAM,
    SEED_PARAM,
    base_params,
    default_preset,
    format_value,
    run_query,
    setting_params,
)
from sim.runner import MAX_REPLICATIONS
from sim.scenarios import (
    ScenarioError,
    load_preset,
    one_line,
    safe_title,
    title_ok,
    title_problem,
)

MAX_APP_REPLICATIONS = min(APP_MAX_REPLICATIONS, MAX_REPLICATIONS)
MAX_SEED = APP_MAX_SEED
BAND_WIDTHS = (50, 80, 90, 95)
DEFAULT_BAND = 90
DEFAULT_METRIC = "signups"
MAX_COMPARE = 4

# Query-string names that are not model settings (the run's own are in sim.report.links).
METRIC_PARAM = "show"
BAND_PARAM = "band"
TEAMS_PARAM = "teams"
TAB_PARAM = "tab"
# Presentation mode: a display parameter, in a link only when on (``present=1``).
PRESENT_PARAM = "present"
TITLE_PARAM = "title"  # the Sandbox settings' own title (an uploaded file's, say)
# Output tabs of the Sandbox: link value → label. The first is the default.
TABS = {
    "customers": "Customers",
    "delivery": "Delivery and governance",
    "timeline": "Event timeline",
    "tables": "Data tables",
}
DEFAULT_TAB = "customers"
COMPARE_PARAM = "scenarios"


# --------------------------------------------------------------------------------------------------
# Settings as plain data
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """One runnable configuration: where it came from, its title and its non-default settings.

    A setup loaded from a scenario file also keeps the file's description and teaching notes, to show
    them and to write them back into a saved file (a preset's are read from the preset).
    """

    preset: str | None
    title: str
    overrides: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    teaching_notes: str = ""

    @property
    def params(self) -> Params:
        return with_overrides(default_params(), self.overrides)

    def to_dict(self) -> dict[str, Any]:
        data = {"preset": self.preset, "title": self.title, "overrides": dict(self.overrides)}
        data.update((k, v) for k, v in self._texts().items() if v)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Setup:
        return cls(
            data.get("preset"),
            data.get("title", ""),
            dict(data.get("overrides", {})),
            data.get("description", ""),
            data.get("teaching_notes", ""),
        )

    def own_texts(self) -> dict[str, str]:
        """The description and teaching notes a scenario file gave this setup ({} if none)."""
        texts = self._texts()
        return texts if any(text.strip() for text in texts.values()) else {}

    def _texts(self) -> dict[str, str]:
        return {"description": self.description, "teaching_notes": self.teaching_notes}


def preset_setup(name: str) -> Setup:
    """The setup of a preset (its overrides, relative to the model's defaults)."""
    scenario = load_preset(name)
    return Setup(name, scenario.title, diff(scenario.params))


def canonical(overrides: Mapping[str, Any]) -> str:
    """A stable string for a set of overrides (the cache key of its results)."""
    return json.dumps(dict(overrides), sort_keys=True, separators=(",", ":"))


def from_canonical(text: str) -> Params:
    """The parameters a :func:`canonical` string stands for."""
    return with_overrides(default_params(), json.loads(text))


def with_horizon(overrides: Mapping[str, Any], horizon_weeks: int) -> dict[str, Any]:
    """``overrides`` re-run at another horizon (validated; raises ParamError if impossible)."""
    params = with_overrides(default_params(), {**overrides, "horizon_weeks": horizon_weeks})
    return diff(params)


def apply_values(overrides: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """Lever values applied on top of ``overrides``; returns the new non-default settings.

    Raises:
        ParamError: naming the setting, the value and the allowed range.
    """
    params = with_overrides(default_params(), {**overrides, **values})
    return diff(params)


# --------------------------------------------------------------------------------------------------
# Query strings
# --------------------------------------------------------------------------------------------------


@dataclass
class SandboxState:
    """What a Sandbox link restores."""

    variant: Setup
    seed: int = DEFAULT_SEED
    replications: int = DEFAULT_REPLICATIONS
    metric: str = DEFAULT_METRIC
    band: int = DEFAULT_BAND
    teams: bool = False
    tab: str = DEFAULT_TAB
    baseline: Setup | None = None
    present: bool = False


def encode_sandbox(state: SandboxState) -> dict[str, str]:
    """The query parameters of a Sandbox state: only what differs from the defaults."""
    base = state.baseline
    qp = run_query(
        state.variant.preset,
        state.variant.params,
        state.seed,
        state.replications,
        None if base is None else (base.preset, base.params),
    )
    if state.metric != DEFAULT_METRIC:
        qp[METRIC_PARAM] = state.metric
    if state.band != DEFAULT_BAND:
        qp[BAND_PARAM] = str(state.band)
    if state.teams:
        qp[TEAMS_PARAM] = "1"  # as present=1: a switch's link reads 1 (on)
    if state.tab != DEFAULT_TAB:
        qp[TAB_PARAM] = state.tab
    if state.present:
        qp[PRESENT_PARAM] = "1"
    qp.update(title_query(state.variant))
    return qp


def own_title(setup: Setup) -> bool:
    """Whether the settings' title is their own (a file's, a link's), not the one where they
    started gives them (:func:`auto_title`; settings with no preset open on the default one)."""
    return setup.title != auto_title(setup.preset or default_preset(), setup.params)


def title_query(setup: Setup) -> dict[str, str]:
    """``{"title": …}`` when the settings have a title of their own, else nothing."""
    title = safe_title(setup.title)
    return {TITLE_PARAM: title} if title and own_title(setup) else {}


def _one(value: str | list[str]) -> str:
    """The last value of a possibly repeated query parameter."""
    if isinstance(value, list):
        return value[-1] if value else ""
    return value


def _int_param(name: str, text: str, lo: int, hi: int, default: int, warnings: list[str]) -> int:
    try:
        number = float(text.strip())
        if not number.is_integer() or not lo <= number <= hi:
            raise ValueError
        return int(number)
    except ValueError:
        warnings.append(
            f"URL parameter {name} = {shown(text)} is not allowed: an integer from {lo} to {hi}. "
            f"Using the default, {default}."
        )
        return default


def _band_param(name: str, text: str, warnings: list[str]) -> int:
    """A band width from a link: one of ``BAND_WIDTHS`` (80 or 80.0, say)."""
    try:
        number = float(text.strip())
    except ValueError:
        number = math.nan
    if number in BAND_WIDTHS:
        return int(number)
    warnings.append(
        f"URL parameter {name} = {shown(text)} is not allowed: one of "
        f"{', '.join(map(str, BAND_WIDTHS))}. Using {DEFAULT_BAND}."
    )
    return DEFAULT_BAND


def _flag_param(name: str, text: str, warnings: list[str]) -> bool:
    """A true/false display parameter (``1``/``0``, ``true``/``false``, ``yes``/``no``, ``on``/``off``)."""
    low = text.strip().lower()
    if low in ("true", "1", "yes", "on", "false", "0", "no", "off"):
        return low in ("true", "1", "yes", "on")
    warnings.append(
        f"URL parameter {name} = {shown(text)} is not allowed: 1 (on) or 0 (off), as the app's "
        "links write it. Using 0 (off)."
    )
    return False


def _preset_param(
    name: str, text: str, warnings: list[str], instead: str = "Using the default settings instead."
) -> str | None:
    """A preset name from a link, or None (with a warning ending with what is done ``instead``)
    if there is no such preset."""
    try:
        load_preset(text)
    except ScenarioError as err:
        warnings.append(f"URL parameter {name}: {full_stop(err)} {instead}")
        return None
    return text


def _apply_settings(
    base: Params, raw: Mapping[str, str], prefix: str, warnings: list[str]
) -> Params:
    """Parse and apply setting parameters one by one; a bad one is reported and skipped.

    Values are applied together where possible; when a combination is invalid (a shock week past a
    shorter horizon, say) each is retried until no more can be applied, and the rest are reported.
    """
    parsed: dict[str, Any] = {}
    for key, text in raw.items():
        try:
            parsed[key] = parse_value(key, text)
        except ParamError as err:
            default = format_value(_get(base, key))
            warnings.append(f"URL parameter {prefix}{full_stop(err)} Using {default} instead.")
    try:
        return with_overrides(base, parsed)
    except ParamError:
        pass
    applied: dict[str, Any] = {}
    pending = dict(parsed)
    progress = True
    while pending and progress:
        progress = False
        for key in sorted(pending):
            try:
                with_overrides(base, {**applied, key: pending[key]})
            except ParamError:
                continue
            applied[key] = pending.pop(key)
            progress = True
    for key in sorted(pending):
        try:
            with_overrides(base, {**applied, key: pending[key]})
        except ParamError as err:
            # A value refused on its own is named once; one refused with others, with the one it
            # clashes with.
            problem = (
                str(err)
                if err.key == key
                else f"{key} = {shown(pending[key])} cannot be applied: {err}"
            )
            default = format_value(_get(base, key))
            warnings.append(f"URL parameter {prefix}{problem}. Using {default} instead.")
    return with_overrides(base, applied)


# The Sandbox link's own parameters, besides one per setting.
SANDBOX_PARAMS = (
    PRESET_PARAM, SEED_PARAM, REPS_PARAM, BASE_PARAM, METRIC_PARAM, BAND_PARAM, TEAMS_PARAM,
    TAB_PARAM, PRESENT_PARAM, TITLE_PARAM,
)  # fmt: skip


def _drop_unknown(
    raw: dict[str, str], prefix: str, warnings: list[str], page: tuple[str, ...] = ()
) -> None:
    """Remove (with a warning) link parameters that name no setting, suggesting the closest setting
    or, failing that, the closest of the ``page``'s own parameters."""
    for key in list(raw):
        try:
            check_key(key, raw[key])
            continue
        except ParamError as err:
            problem = err
        if suggest(key) is None and page:
            close = difflib.get_close_matches(key.lower(), page, n=1, cutoff=0.5)
            if close:
                hint = f"did you mean {close[0]}?"
            else:
                hint = (
                    f"the link takes {', '.join(page)}, and one parameter per setting, as in "
                    "reviews.council.interval_weeks"
                )
            problem = ParamError(key, raw[key], hint, "is not a setting")
        warnings.append(f"URL parameter {prefix}{problem}; it was ignored.")
        del raw[key]


def _get(params: Params, key: str) -> Any:
    obj: Any = params
    for part in key.split("."):
        obj = getattr(obj, part)
    return obj


def auto_title(preset: str | None, params: Params) -> str:
    """The title settings get from where they started: the preset's, "(modified)" once they
    differ from it, or "Custom settings"."""
    if preset is None:
        return "Custom settings"
    title = load_preset(preset).title
    return title + " (modified)" if diff(params, base_params(preset)) else title


def _setup_from(
    preset: str | None, raw: Mapping[str, str], prefix: str, warnings: list[str]
) -> Setup:
    params = _apply_settings(base_params(preset), raw, prefix, warnings)
    return Setup(preset, auto_title(preset, params), diff(params))


def decode_sandbox(query: Mapping[str, str | list[str]]) -> tuple[SandboxState, list[str]]:
    """A Sandbox state from query parameters, with a warning for every value that was not usable.

    Never raises: unknown names, bad values and impossible combinations fall back to defaults.
    """
    warnings: list[str] = []
    q = {k: _one(v) for k, v in query.items()}
    preset: str | None = default_preset()
    if PRESET_PARAM in q:
        preset = _preset_param(PRESET_PARAM, q[PRESET_PARAM], warnings) or default_preset()
    variant_raw: dict[str, str] = {}
    base_raw: dict[str, str] = {}
    state = SandboxState(variant=preset_setup(preset))
    for name, text in q.items():
        if name in (PRESET_PARAM, BASE_PARAM):
            continue
        if name == SEED_PARAM:
            state.seed = _int_param(name, text, 0, MAX_SEED, DEFAULT_SEED, warnings)
        elif name == REPS_PARAM:
            state.replications = _int_param(
                name, text, 1, MAX_APP_REPLICATIONS, DEFAULT_REPLICATIONS, warnings
            )
        elif name == METRIC_PARAM:
            if text in SERIES:
                state.metric = text
            else:
                warnings.append(
                    f"URL parameter {name} = {shown(text)} is not a weekly metric: one of "
                    f"{', '.join(SERIES)}. Showing {DEFAULT_METRIC} instead."
                )
        elif name == BAND_PARAM:
            state.band = _band_param(name, text, warnings)
        elif name == TAB_PARAM:
            if text in TABS:
                state.tab = text
            else:
                warnings.append(
                    f"URL parameter {name} = {shown(text)} is not allowed: one of "
                    f"{', '.join(TABS)}. Showing {DEFAULT_TAB}."
                )
        elif name == TITLE_PARAM:
            continue  # applied once the settings are known
        elif name in (TEAMS_PARAM, PRESENT_PARAM):
            flag = _flag_param(name, text, warnings)
            if name == TEAMS_PARAM:
                state.teams = flag
            else:
                state.present = flag
        elif name.startswith(BASE_PREFIX):
            base_raw[name[len(BASE_PREFIX) :]] = text
        else:
            variant_raw[name] = text
    _drop_unknown(variant_raw, "", warnings, SANDBOX_PARAMS)
    _drop_unknown(base_raw, BASE_PREFIX, warnings)
    state.variant = _setup_from(preset, variant_raw, "", warnings)
    if TITLE_PARAM in q and (title := _title_param(TITLE_PARAM, q[TITLE_PARAM], warnings)):
        state.variant = Setup(state.variant.preset, title, state.variant.overrides)
    if BASE_PARAM in q:
        text = q[BASE_PARAM]
        base_preset = (
            None
            if text == CUSTOM_BASE
            else _preset_param(
                BASE_PARAM,
                text,
                warnings,
                "No baseline is pinned" + (", and base.* were ignored." if base_raw else "."),
            )
        )
        if base_preset is not None or text == CUSTOM_BASE:
            baseline = _setup_from(base_preset, base_raw, BASE_PREFIX, warnings)
            state.baseline = Setup(
                baseline.preset, "Baseline: " + baseline.title, baseline.overrides
            )
    elif base_raw:
        warnings.append(
            "URL parameters base.* were ignored: they need a base parameter naming the baseline's "
            "preset (or custom)."
        )
    return state, warnings


# A compared scenario that is not a plain preset: ``s<i>.<setting>`` (relative to the preset named at
# position i of ``scenarios``, or to the defaults for ``custom``) and ``s<i>.title``.
SCENARIO_PREFIX = "s"
TITLE_KEY = "title"


def _scenario_key(i: int, key: str) -> str:
    return f"{SCENARIO_PREFIX}{i}.{key}"


def encode_compare(
    scenarios: Sequence[str | Setup], seed: int, replications: int
) -> dict[str, str]:
    """The query parameters of the Compare page.

    A scenario is a preset's name, or a :class:`Setup` (saved or Sandbox settings), which the link
    carries as its preset (or ``custom``), its title and its settings.
    """
    entries: list[str] = []
    extra: dict[str, str] = {}
    for i, scenario in enumerate(scenarios, 1):
        if isinstance(scenario, str):
            entries.append(scenario)
            continue
        entries.append(scenario.preset or CUSTOM_BASE)
        title = safe_title(scenario.title)
        if title:
            extra[_scenario_key(i, TITLE_KEY)] = title
        extra.update(setting_params(scenario.preset, scenario.params, _scenario_key(i, "")))
    qp = {COMPARE_PARAM: ",".join(entries), **extra}
    if seed != DEFAULT_SEED:
        qp[SEED_PARAM] = str(seed)
    if replications != DEFAULT_REPLICATIONS:
        qp[REPS_PARAM] = str(replications)
    return qp


def _title_param(name: str, text: str, warnings: list[str]) -> str | None:
    """A scenario title from a link: printable text, at most ``MAX_TITLE`` characters, that a
    spreadsheet opening an export would not read as a formula."""
    title = one_line(text)
    if title_ok(title):
        return title
    warnings.append(
        f"URL parameter {name} = {shown(text)} is not allowed: {title_problem(title)}. "
        "Using the scenario's own title."
    )
    return None


def _index(text: str) -> bool:
    """Whether ``text`` is a position such as 2: a few ASCII digits (int() would also read ² or
    ١, and refuses thousands of digits)."""
    return text.isascii() and text.isdigit() and len(text) <= 4


def _split_scenario_params(
    q: Mapping[str, str],
) -> tuple[dict[int, dict[str, str]], dict[str, str]]:
    """Query parameters ``s<i>.<key>`` grouped by position i, and the rest."""
    groups: dict[int, dict[str, str]] = {}
    rest: dict[str, str] = {}
    for name, text in q.items():
        head, dot, key = name.partition(".")
        if dot and head[:1] == SCENARIO_PREFIX and _index(head[1:]) and key:
            groups.setdefault(int(head[1:]), {})[key] = text
        else:
            rest[name] = text
    return groups, rest


def _compared_scenario(
    i: int, entry: str, raw: dict[str, str], warnings: list[str]
) -> str | Setup | None:
    """Scenario ``i`` of a Compare link: a preset's name, a Setup, or None if unusable."""
    preset = (
        None
        if entry == CUSTOM_BASE
        else _preset_param(COMPARE_PARAM, entry, warnings, "It is left out of the comparison.")
    )
    if preset is None and entry != CUSTOM_BASE:
        if raw:
            warnings.append(
                f"URL parameters {_scenario_key(i, '*')} were ignored with scenario {i}."
            )
        return None
    title_name = _scenario_key(i, TITLE_KEY)
    title = _title_param(title_name, raw.pop(TITLE_KEY), warnings) if TITLE_KEY in raw else None
    _drop_unknown(raw, _scenario_key(i, ""), warnings)
    if preset is not None and not raw and title is None:
        return preset
    setup = _setup_from(preset, raw, _scenario_key(i, ""), warnings)
    if preset is not None and title is None and setup.overrides == preset_setup(preset).overrides:
        return preset  # nothing usable beyond the preset itself
    return Setup(preset, title or setup.title, setup.overrides)


def decode_compare(
    query: Mapping[str, str | list[str]], default_names: list[str]
) -> tuple[list[str | Setup], int, int, list[str]]:
    """Scenarios, seed and replications for the Compare page from query parameters, with warnings.

    A scenario is a preset's name or, when the link carries settings or a title for it, a
    :class:`Setup`. Never raises: unusable values fall back, with a warning naming them.
    """
    warnings: list[str] = []
    groups, q = _split_scenario_params({k: _one(v) for k, v in query.items()})
    scenarios: list[str | Setup] = list(default_names)
    entries: list[str] = []
    if COMPARE_PARAM in q:
        entries = [t.strip() for t in q[COMPARE_PARAM].split(",")]
        picked: list[str | Setup] = []
        for i, text in enumerate(entries, 1):
            if not text:
                if i in groups:
                    warnings.append(
                        f"URL parameters {_scenario_key(i, '*')} were ignored: scenario {i} in "
                        f"{COMPARE_PARAM} is empty."
                    )
                continue
            scenario = _compared_scenario(i, text, groups.get(i, {}), warnings)
            # A preset named twice is compared once; settings are kept as often as they are given.
            if isinstance(scenario, str) and scenario in picked:
                warnings.append(
                    f"URL parameter {COMPARE_PARAM} names {scenario} twice: it is compared once."
                )
            elif scenario is not None:
                picked.append(scenario)
        if len(picked) > MAX_COMPARE:
            warnings.append(
                f"URL parameter {COMPARE_PARAM} names {len(picked)} scenarios: at most "
                f"{MAX_COMPARE} can be compared. Using the first {MAX_COMPARE}."
            )
            picked = picked[:MAX_COMPARE]
        if len(picked) >= 2:
            scenarios = picked
        else:
            warnings.append(
                f"URL parameter {COMPARE_PARAM} needs at least two scenarios; comparing "
                f"{', '.join(default_names)} instead."
            )
    for i in sorted(set(groups) - set(range(1, len(entries) + 1))):
        warnings.append(
            f"URL parameters {_scenario_key(i, '*')} were ignored: {COMPARE_PARAM} has no "
            f"scenario {i}."
        )
    seed, reps = DEFAULT_SEED, DEFAULT_REPLICATIONS
    for name, text in q.items():
        if name == SEED_PARAM:
            seed = _int_param(name, text, 0, MAX_SEED, DEFAULT_SEED, warnings)
        elif name == REPS_PARAM:
            reps = _int_param(name, text, 1, MAX_APP_REPLICATIONS, DEFAULT_REPLICATIONS, warnings)
        elif name != COMPARE_PARAM:
            warnings.append(
                f"URL parameter {name} is not used on the Compare page (it takes "
                f"{COMPARE_PARAM}, {SCENARIO_PREFIX}<n>.<setting>, {SEED_PARAM} and {REPS_PARAM}); "
                "it was ignored."
            )
    return scenarios, seed, reps, warnings


# --------------------------------------------------------------------------------------------------
# The Learn page
# --------------------------------------------------------------------------------------------------

LESSON_PARAM = "lesson"
CHALLENGE_PARAM = "challenge"
# Lessons and challenges compare paired runs, whose differences are clear with 30 replications: a
# class gets its reveals three times sooner than with the Sandbox's 100.
LEARN_REPLICATIONS = 30
# At most this many on the Learn page: a class shares one server's pool, and one student's
# 300-replication reveal held up everyone else's (about 4 s became 71 s). The Sandbox runs more.
LEARN_MAX_REPLICATIONS = 100


@dataclass
class LearnState:
    """What a Learn link opens: a lesson or a challenge, and the runs' seed and replications."""

    lesson: str | None = None
    challenge: str | None = None
    seed: int = DEFAULT_SEED
    replications: int = LEARN_REPLICATIONS


def encode_learn(state: LearnState) -> dict[str, str]:
    """The Learn page's query parameters (a challenge link is ``?challenge=<name>``)."""
    qp: dict[str, str] = {}
    if state.challenge:
        qp[CHALLENGE_PARAM] = state.challenge
    elif state.lesson:
        qp[LESSON_PARAM] = state.lesson
    if state.seed != DEFAULT_SEED:
        qp[SEED_PARAM] = str(state.seed)
    if state.replications != LEARN_REPLICATIONS:
        qp[REPS_PARAM] = str(state.replications)
    return qp


def decode_learn(query: Mapping[str, str | list[str]]) -> tuple[LearnState, list[str]]:
    """A Learn state from query parameters, with a warning for every value that was not usable.

    Never raises: an unknown lesson or challenge is reported with the names that exist.
    """
    from sim.lessons import challenge_names, lesson_names

    warnings: list[str] = []
    state = LearnState()
    for name, text in ((k, _one(v)) for k, v in query.items()):
        if name == LESSON_PARAM:
            if text in lesson_names():
                state.lesson = text
            else:
                warnings.append(
                    f"URL parameter {name} = {shown(text)} is not a lesson: one of "
                    f"{', '.join(lesson_names())}. Showing the first lesson."
                )
                state.lesson = lesson_names()[0]
        elif name == CHALLENGE_PARAM:
            if text in challenge_names():
                state.challenge = text
            else:
                warnings.append(
                    f"URL parameter {name} = {shown(text)} is not a challenge: one of "
                    f"{', '.join(challenge_names())}. Showing the first challenge."
                )
                state.challenge = challenge_names()[0]
        elif name == SEED_PARAM:
            state.seed = _int_param(name, text, 0, MAX_SEED, DEFAULT_SEED, warnings)
        elif name == REPS_PARAM:
            state.replications = _int_param(
                name, text, 1, LEARN_MAX_REPLICATIONS, LEARN_REPLICATIONS, warnings
            )
        else:
            warnings.append(
                f"URL parameter {name} is not used on the Learn page (it takes {LESSON_PARAM}, "
                f"{CHALLENGE_PARAM}, {SEED_PARAM} and {REPS_PARAM}); it was ignored."
            )
    return state, warnings
