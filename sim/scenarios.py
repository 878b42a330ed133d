"""Scenario files: human-readable TOML holding metadata and only the settings that differ.

A scenario file looks like::

    [scenario]
    title = "Drifting incentives"
    description = "Every function is paid on its local metric; same review rhythm."
    teaching_notes = "Ask: which curve moves first?"

    [settings]
    incentives.product = "local_metric"

    [settings.reviews.council]
    interval_weeks = 2

    [run]
    seed = 7
    replications = 200

``[run]`` is optional: the seed and the number of replications that reproduce a run exactly (the app
writes them into the files it saves; without them, the app keeps its own and the command line uses
its defaults).

Presets live in the ``scenarios/`` folder at the project's top level. Files are parsed with the
standard library's TOML reader (nothing is evaluated) and size-limited; unknown keys are errors that
name the closest valid key.
"""

from __future__ import annotations

import difflib
import functools
import re
import sys
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from sim.params import (
    ParamError,
    Params,
    default_params,
    diff,
    flatten_mapping,
    nest,
    shown,
    with_overrides,
)

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
MAX_BYTES = 64 * 1024
META_KEYS = ("title", "description", "teaching_notes")
MAX_TITLE = 80  # characters
FORMULA_STARTS = "=+-@"  # a spreadsheet opening an export reads a cell starting so as a formula
TITLE_RULE = (
    f"one line of up to {MAX_TITLE} printable characters or spaces, not starting with =, +, - or @ "
    "(a spreadsheet opening an export would read a formula)"
)
# Longest description and teaching notes, in characters: shown on the Sandbox under the title.
MAX_TEXT = {"description": 1_000, "teaching_notes": 4_000}
# What the app's links, controls and a scenario file's [run] table take: a saved file runs the same
# in the app and on the command line (which allows more, given as options).
APP_MAX_SEED = 2**31 - 1
APP_MAX_REPLICATIONS = 1_000
RUN_KEYS = {"seed": (0, APP_MAX_SEED), "replications": (1, APP_MAX_REPLICATIONS)}


def _title_char(c: str) -> bool:
    """A character a title may hold: printable, or a space of any width (a no-break space, say)."""
    return c.isprintable() or unicodedata.category(c) == "Zs"


def title_ok(title: str) -> bool:
    """Whether ``title`` can name a scenario: it reaches pages, links and CSV exports."""
    return (
        bool(title.strip())
        and len(title) <= MAX_TITLE
        and all(_title_char(c) for c in title)
        and title.lstrip()[0] not in FORMULA_STARTS
    )


def title_problem(title: str) -> str:
    """Why ``title`` (which fails :func:`title_ok`) cannot name a scenario, naming the first
    character that is not allowed, if one is."""
    bad = next((i for i, c in enumerate(title) if not _title_char(c)), None)
    if bad is None:
        return f"it must be {TITLE_RULE}"
    char = title[bad]
    name = unicodedata.name(char, "a control character")
    return f"it holds U+{ord(char):04X} ({name}) at character {bad + 1}: it must be {TITLE_RULE}"


# What a description or teaching notes may not hold: control characters other than line breaks and
# tabs, other line separators, and the bidirectional controls (they can make text read otherwise
# than it is stored).
_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
TEXT_RULE = "text: no control characters other than line breaks and tabs"


def text_ok(text: str) -> bool:
    """Whether ``text`` can be a description or teaching notes (see ``TEXT_RULE``)."""
    return _NOT_TEXT.search(text) is None


def _text_problem(key: str, text: str) -> str | None:
    """Why ``text`` cannot be the scenario's ``key`` (None if it can)."""
    limit = MAX_TEXT[key]
    if len(text) > limit:
        return f"[scenario] {key} is {len(text):,} characters long: at most {limit:,} allowed"
    bad = _NOT_TEXT.search(text)
    if bad is None:
        return None
    before = text[: bad.start()]
    line, column = before.count("\n") + 1, bad.start() - (before.rfind("\n") + 1) + 1
    char = bad.group()
    name = unicodedata.name(char, "a control character")
    return (
        f"[scenario] {key} holds U+{ord(char):04X} ({name}) at line {line}, column {column}: "
        f"it must be {TEXT_RULE}"
    )


def safe_title(title: str) -> str:
    """``title`` made to pass :func:`title_ok`: printable, whitespace collapsed, no formula start,
    at most ``MAX_TITLE`` characters ("" if nothing is left)."""
    text = one_line("".join(c for c in title if _title_char(c) or c.isspace()))
    # Formula starts and spaces of any width, until neither is left at the start.
    while text and (text[0] in FORMULA_STARTS or text[0].isspace()):
        text = text[1:]
    return text[:MAX_TITLE].rstrip()


# Runs of ordinary spaces and line breaks; a no-break or other fixed-width space is kept as typed.
_BLANKS = re.compile("[ \t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` on one line: each run of spaces and line breaks becomes one space, and blanks at
    either end go."""
    return _BLANKS.sub(" ", text).strip()


# Nesting beyond what Python reads (in the TOML reader, or flattening dotted keys).
_TOO_DEEP = "scenario file nests arrays or tables too deeply to be read: settings are single values"


class ScenarioError(ValueError):
    """A scenario file or name that cannot be used; the message says why."""


@dataclass(frozen=True)
class Scenario:
    """A named set of overrides with its description."""

    name: str
    title: str
    description: str
    teaching_notes: str = ""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None  # from the file's [run] table, if it has one
    replications: int | None = None

    @property
    def params(self) -> Params:
        """The scenario's validated parameters."""
        return with_overrides(default_params(), self.overrides)


def preset_names() -> list[str]:
    """Names of the presets shipped in ``scenarios/``, in a stable order."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_preset(name: str) -> Scenario:
    """A preset by name."""
    names = preset_names()
    if name not in names:  # checked against the list: a name never reaches the file system
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"did you mean {close[0]}?" if close else "one of " + ", ".join(names)
        raise ScenarioError(f"scenario {shown(name)} is not a preset: {hint}")
    return _parse_preset(name, (SCENARIO_DIR / f"{name}.toml").read_bytes())


@functools.lru_cache(maxsize=64)
def _parse_preset(name: str, data: bytes) -> Scenario:
    """A preset parsed once for each content of its file (the Sandbox names every preset on every
    page run, about 25 parses). The scenario is shared: callers copy its overrides to change them."""
    return parse(data, name=name)


def load(name_or_path: str) -> Scenario:
    """A preset name or the path of a scenario file."""
    if name_or_path.lower().endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        try:
            if not path.is_file():
                what = "is not a file" if path.exists() else "does not exist"
                raise ScenarioError(f"scenario file {name_or_path!r} {what}")
            size = path.stat().st_size
            if size > MAX_BYTES:
                raise ScenarioError(
                    f"scenario file {name_or_path!r} is {size} bytes: at most {MAX_BYTES} allowed"
                )
            data = path.read_bytes()
        except OSError as err:
            raise ScenarioError(
                f"scenario file {name_or_path!r} cannot be read: {err.strerror}"
            ) from None
        # The file's name labels results (a CSV column among them): made safe like a title. A
        # lesson's or challenge's file runs as the scenario it holds.
        return parse(data, name=safe_title(path.stem) or "scenario", skip=("lesson", "challenge"))
    return load_preset(name_or_path)


def parse(data: bytes | str, name: str = "uploaded", skip: tuple[str, ...] = ()) -> Scenario:
    """Parse and validate scenario TOML; top-level tables named in ``skip`` are left out (a
    lesson's or challenge's own table, when :func:`load` runs its file as a scenario).

    Raises:
        ScenarioError: the file is too large, not UTF-8, not TOML, or has an unknown table or key.
        ParamError: a setting is unknown, of the wrong type or out of range.
    """
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise ScenarioError(f"scenario file is {len(raw)} bytes: at most {MAX_BYTES} allowed")
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, as some editors write, is dropped
    except UnicodeDecodeError:
        raise ScenarioError("scenario file is not UTF-8 text") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"scenario file is not valid TOML: {err}") from None
    except RecursionError:
        raise ScenarioError(_TOO_DEEP) from None
    except ValueError:  # an integer longer than Python converts from text (4,300 digits)
        raise ScenarioError(
            f"scenario file holds a number too long to be read (more than "
            f"{sys.get_int_max_str_digits():,} digits)"
        ) from None
    extra = set(doc) - {"scenario", "settings", "run", *skip}
    if extra:
        key = sorted(extra)[0]
        raise ScenarioError(
            f"scenario file has an unknown top-level entry {key!r}: allowed are [scenario], "
            f"[settings] and [run] (settings go under [settings])"
        )
    meta = doc.get("scenario", {})
    if not isinstance(meta, dict):
        raise ScenarioError("[scenario] must be a table of title, description, teaching_notes")
    for key, value in meta.items():
        if key not in META_KEYS:
            raise ScenarioError(
                f"[scenario] has an unknown key {key!r}: allowed are " + ", ".join(META_KEYS)
            )
        if not isinstance(value, str):
            raise ScenarioError(f"[scenario] {key} must be text, not {value!r}")
    if "title" in meta and not title_ok(meta["title"]):
        title = meta["title"]
        raise ScenarioError(
            f"[scenario] title = {title[:MAX_TITLE]!r}"
            + (f"… ({len(title)} characters)" if len(title) > MAX_TITLE else "")
            + f" is not allowed: {title_problem(title)}"
        )
    for key in MAX_TEXT:
        problem = _text_problem(key, meta.get(key, ""))
        if problem:
            raise ScenarioError(problem)
    settings = doc.get("settings", {})
    if not isinstance(settings, dict):
        raise ScenarioError("[settings] must be a table of settings")
    try:
        overrides = flatten_mapping(settings)
    except RecursionError:  # dotted keys can nest tables deeper than any setting goes
        raise ScenarioError(_TOO_DEEP) from None
    run = _run_table(doc.get("run", {}))
    scenario = Scenario(
        name=name,
        # Without a title, the file's name (made safe: it may come from an upload) stands in.
        title=meta["title"] if "title" in meta else safe_title(name) or "Custom scenario",
        description=meta.get("description", ""),
        teaching_notes=meta.get("teaching_notes", ""),
        overrides=overrides,
        seed=run.get("seed"),
        replications=run.get("replications"),
    )
    scenario.params  # validate every value now  # noqa: B018
    return scenario


def _run_table(run: object) -> dict[str, int]:
    """The [run] table, checked: a seed and a number of replications, each optional."""
    if not isinstance(run, dict):
        raise ScenarioError("[run] must be a table of seed and replications")
    for key, value in run.items():
        if key not in RUN_KEYS:
            close = difflib.get_close_matches(key, RUN_KEYS, n=1)
            hint = f"did you mean {close[0]}?" if close else "settings go under [settings]"
            raise ScenarioError(
                f"[run] has an unknown key {shown(key)}: allowed are seed and replications ({hint})"
            )
        lo, hi = RUN_KEYS[key]
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            text = str(value).lower() if isinstance(value, bool) else shown(value)  # as TOML writes
            raise ScenarioError(
                f"[run] {key} = {text} is not allowed: an integer from {lo:,} to {hi:,}"
            )
    return run


def to_toml(
    params: Params,
    title: str = "Custom scenario",
    description: str = "",
    teaching_notes: str = "",
    seed: int | None = None,
    replications: int | None = None,
) -> str:
    """Scenario TOML for ``params``: metadata, only the settings that differ from the defaults and,
    when given, the run's seed and replications."""
    meta = {"title": title}
    if description:
        meta["description"] = description
    if teaching_notes:
        meta["teaching_notes"] = teaching_notes
    doc: dict[str, Any] = {"scenario": meta}
    changed = diff(params)
    if changed:
        doc["settings"] = nest(changed)
    run = {k: v for k, v in (("seed", seed), ("replications", replications)) if v is not None}
    if run:
        _run_table(run)
        doc["run"] = run
    return tomli_w.dumps(doc)


__all__ = [
    "APP_MAX_REPLICATIONS",
    "APP_MAX_SEED",
    "FORMULA_STARTS",
    "MAX_TEXT",
    "MAX_TITLE",
    "TEXT_RULE",
    "TITLE_RULE",
    "ParamError",
    "Scenario",
    "ScenarioError",
    "load",
    "load_preset",
    "one_line",
    "parse",
    "preset_names",
    "safe_title",
    "text_ok",
    "title_ok",
    "title_problem",
    "to_toml",
]
