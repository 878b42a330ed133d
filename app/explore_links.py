"""Links to an Explore experiment: the open tool and its inputs, as query parameters, and back.

A link names the tool (``tool=sweep``) and every input that differs from the tool's default, under
the input's own name (``lever1``, ``range1``, ``reps``, ``kpi``…). A base scenario is a preset's name;
settings that are not a preset's — the Sandbox's, or another link's — are spelled out the way the
Sandbox's link spells out a pinned baseline: ``base=<preset or custom>``, then ``base.<setting>=…``
for every setting that differs from it, and ``base.title`` when the settings have a title of their
own (the attribution's variant likewise, under ``variant``).

Decoding never raises: an unknown name, a bad value or an impossible setting gets a warning naming
the parameter, the value and what is allowed, and the input keeps its default. Ranges, changed
settings and constraints are text the engine checks when the experiment runs, as it checks what is
typed into the form.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.state import (
    MAX_APP_REPLICATIONS,
    MAX_SEED,
    Setup,
    _drop_unknown,
    _int_param,
    _one,
    _setup_from,
    _title_param,
    auto_title,
)
from sim.explore.levers import MAX_GRID_POINTS
from sim.explore.optimise import MAX_CANDIDATES
from sim.outcomes import KPI_NAMES
from sim.params import KEYS, info, shown
from sim.report.links import (
    CUSTOM_BASE,
    setting_params,
)
from sim.scenarios import preset_names, safe_title

TOOL_PARAM = "tool"
TOOLS = ("sweep", "sensitivity", "attribution", "optimisation")
DEFAULT_TOOL = TOOLS[0]
# Input names that hold a scenario: a preset's name, or settings spelled out under ``<name>.``.
SCENARIO_INPUTS = ("base", "variant")
# The attribution's variant may be the baseline itself (its changes alone are explained).
SAME_AS_BASE = "baseline"
TITLE_KEY = "title"
# Scenarios a link spells out become options of their own, next to the presets.
LINKED = {"base": "link.base", "variant": "link.variant"}

LEVER_ROWS = {"sweep": 2, "sensitivity": 4, "attribution": 0, "optimisation": 3}
DEFAULTS: dict[str, dict[str, Any]] = {
    "sweep": {
        # The U of pattern P3: with the council as the only check, value peaks every week or two.
        "base": "council-only-drift",
        "lever1": "reviews.council.interval_weeks",
        "range1": "0.5,1,2,4,8,16",
        "lever2": "",
        "range2": "",
        "points": 5,
        "reps": 8,
        "seed": 1,
        "weeks": 52,
        "kpi": "value_delivered",
    },
    "sensitivity": {
        "base": "drifting-incentives",
        "method": "morris",
        "lever1": "reviews.council.interval_weeks",
        "range1": "1:12",
        "lever2": "org.discovery_share",
        "range2": "0:0.4",
        "lever3": "incentives.drift_rate_per_week",
        "range3": "0.02:0.2",
        "lever4": "",
        "range4": "",
        "samples": 8,
        "reps": 4,
        "seed": 1,
        "weeks": 52,
        "kpi": "value_delivered",
    },
    "attribution": {
        "base": "aligned-baseline",
        "variant": "sales-led-drift",
        "changes": "reviews.council.interval_weeks=8",
        "by": "setting",
        "reps": 10,
        "seed": 1,
        "weeks": 52,
        "kpi": "value_delivered",
    },
    "optimisation": {
        "base": "drifting-incentives",
        "lever1": "reviews.council.interval_weeks",
        "range1": "0.5:12",
        "lever2": "reviews.council.attendees_per_team",
        "range2": "1:8",
        "lever3": "",
        "range3": "",
        "kpi": "value_delivered",
        "direction": "auto",
        "constraints": "Meeting overhead <= 10%",
        "candidates": 18,
        "search": "random",
        "reps": 9,
        "seed": 1,
        "weeks": 52,
    },
}
# Whole-number inputs and their allowed ranges: the form's number inputs take theirs from here.
INTEGERS = {
    "points": (2, MAX_GRID_POINTS),
    "reps": (1, MAX_APP_REPLICATIONS),
    "seed": (0, MAX_SEED),
    "weeks": (int(info("horizon_weeks").lo), int(info("horizon_weeks").hi)),
    "samples": (2, 4096),
    "candidates": (2, MAX_CANDIDATES),
}
CHOICES = {
    "method": ("morris", "sobol"),
    "by": ("setting", "group"),
    "direction": ("auto", "max", "min"),
    "search": ("random", "grid"),
    "kpi": tuple(KPI_NAMES),
}
# Free text the engine checks at Run (a range on one line, changes and constraints one a line):
# at most this long, in the form as in a link.
MAX_TEXT = 2_000
# Tools whose ``kpi`` only picks the KPI shown (the optimisation's is its objective).
DISPLAY_KPI_TOOLS = ("sweep", "sensitivity", "attribution")


@dataclass
class ExploreLink:
    """What an Explore link opens: a tool, every one of its inputs, and the scenarios it spells out
    (keyed by their option in :data:`LINKED`)."""

    tool: str = DEFAULT_TOOL
    values: dict[str, Any] = field(default_factory=dict)
    setups: dict[str, Setup] = field(default_factory=dict)


def encode_explore(
    tool: str, values: Mapping[str, Any], setups: Mapping[str, Setup]
) -> dict[str, str]:
    """The query parameters of a tool's inputs: the tool, and every input not at its default.

    Args:
        tool: one of :data:`TOOLS`.
        values: the inputs by name (missing ones count as defaults). A scenario input holds a
            preset's name or an option of ``setups``.
        setups: the settings of options that are not presets (the Sandbox's, a link's).
    """
    qp = {TOOL_PARAM: tool}
    for name, default in DEFAULTS[tool].items():
        value = values.get(name, default)
        if name in SCENARIO_INPUTS and value in setups:
            qp.update(_scenario_query(name, setups[value]))
        elif value != default:
            qp[name] = SAME_AS_BASE if name == "variant" and value == "" else str(value)
    return qp


def _scenario_query(name: str, setup: Setup) -> dict[str, str]:
    qp = {name: setup.preset or CUSTOM_BASE}
    qp.update(setting_params(setup.preset, setup.params, f"{name}."))
    title = safe_title(setup.title)
    if title and title != auto_title(setup.preset, setup.params):  # a title of its own
        qp[f"{name}.{TITLE_KEY}"] = title
    return qp


def decode_explore(query: Mapping[str, str | list[str]]) -> tuple[ExploreLink | None, list[str]]:
    """The experiment a link opens (None for a link with no parameters), with a warning for every
    value that was not usable. Never raises."""
    q = {key: _one(v) for key, v in query.items()}
    if not q:
        return None, []
    warnings: list[str] = []
    tool = q.pop(TOOL_PARAM, DEFAULT_TOOL)
    if tool not in TOOLS:
        warnings.append(
            f"URL parameter {TOOL_PARAM} = {shown(tool)} is not allowed: one of "
            f"{', '.join(TOOLS)}. Showing the {DEFAULT_TOOL}."
        )
        tool = DEFAULT_TOOL
    defaults = DEFAULTS[tool]
    link = ExploreLink(tool, dict(defaults))
    scenario_raw: dict[str, dict[str, str]] = {name: {} for name in SCENARIO_INPUTS}
    for name, text in q.items():
        head, dot, rest = name.partition(".")
        if dot and head in SCENARIO_INPUTS and head in defaults:
            scenario_raw[head][rest] = text
        elif name in defaults:
            if name not in SCENARIO_INPUTS:
                link.values[name] = _input(tool, name, text, warnings)
        else:
            warnings.append(_unknown(tool, name))
    for name in SCENARIO_INPUTS:
        if name in defaults:
            _scenario(link, name, q.get(name), scenario_raw[name], warnings)
    return link, warnings


def _unknown(tool: str, name: str) -> str:
    names = [TOOL_PARAM, *DEFAULTS[tool]]
    close = difflib.get_close_matches(name.lower(), names, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]}?" if close else f"it takes {', '.join(names)}"
    # A name is quoted as it came only when it is short and plain; else cut short, with its length.
    said = name if len(name) <= 60 and name.isprintable() else shown(name)
    return f"URL parameter {said} is not an input of the {tool} ({hint}); it was ignored."


def _input(tool: str, name: str, text: str, warnings: list[str]) -> Any:
    """One input's value from its text, or its default (with a warning)."""
    default = DEFAULTS[tool][name]
    if name in INTEGERS:
        lo, hi = INTEGERS[name]
        return _int_param(name, text, lo, hi, default, warnings)
    if name in CHOICES:
        if text in CHOICES[name]:
            return text
        allowed = ", ".join(CHOICES[name])
        warnings.append(
            f"URL parameter {name} = {shown(text)} is not allowed: one of {allowed}. "
            f"Using {default}."
        )
        return default
    if name.startswith("lever"):
        optional = name != "lever1"
        if text in KEYS or (optional and text == ""):
            return text
        need = "a setting's key, as in reviews.council.interval_weeks" + (
            ", or nothing" if optional else ""
        )
        warnings.append(
            f"URL parameter {name} = {shown(text)} is not allowed: {need}. "
            f"Using {shown(default) if default else 'none'}."
        )
        return default
    lines = text.replace("\r\n", "\n").split("\n")
    if name.startswith("range") and len(lines) > 1:
        problem = "one line"
    elif len(text) > MAX_TEXT:
        problem = f"at most {MAX_TEXT:,} characters"
    elif not all(_typeable(line) for line in lines):
        problem = "text without control characters"
    else:
        return "\n".join(lines)
    warnings.append(
        f"URL parameter {name} = {shown(text)} is not allowed: {problem}. "
        f"Using {shown(default) if default else 'nothing'}."
    )
    return default


def _typeable(line: str) -> bool:
    """Whether a line holds only what can be typed into the form: no control or format
    characters (a tab or a no-break space is fine)."""
    return all(ch == "\t" or unicodedata.category(ch)[0] != "C" for ch in line)


def _scenario(
    link: ExploreLink, name: str, text: str | None, raw: dict[str, str], warnings: list[str]
) -> None:
    """A scenario input: a preset, the baseline itself (the variant), or settings spelled out."""
    default = DEFAULTS[link.tool][name]
    title_text = raw.pop(TITLE_KEY, None)
    if name == "variant" and text == SAME_AS_BASE:
        if raw or title_text is not None:
            warnings.append(
                f"URL parameters {name}.* were ignored: {name} = {SAME_AS_BASE} is the baseline "
                "itself, which has no settings of its own."
            )
        link.values[name] = ""
        return
    preset: str | None = default
    if text == CUSTOM_BASE:
        preset = None
    elif text is not None and text not in preset_names():
        allowed = f"a preset ({', '.join(preset_names())}) or {CUSTOM_BASE}"
        if name == "variant":
            allowed += f", or {SAME_AS_BASE}"
        warnings.append(
            f"URL parameter {name} = {shown(text)} is not allowed: {allowed}. Starting from "
            f"{default} instead."
        )
    elif text is not None:
        preset = text
    _drop_unknown(raw, f"{name}.", warnings)
    if not raw and not title_text:
        link.values[name] = preset if preset is not None else _linked(link, name, None, {})
        return
    setup = _setup_from(preset, raw, f"{name}.", warnings)
    title = _title_param(f"{name}.{TITLE_KEY}", title_text, warnings) if title_text else None
    link.values[name] = _linked(link, name, title or setup.title, setup.overrides, preset)


def _linked(
    link: ExploreLink,
    name: str,
    title: str | None,
    overrides: dict[str, Any],
    preset: str | None = None,
) -> str:
    option = LINKED[name]
    link.setups[option] = Setup(preset, title or "Custom settings", overrides)
    return option
