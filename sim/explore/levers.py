"""Levers, KPIs and constraints of an experiment: parsed from text, validated against the settings.

A lever is one setting an experiment varies: over a numeric range (``1:8`` or ``1:8:5`` for five grid
points) or over listed values (``shared_outcome,local_metric``, ``true,false``, ``1,2,4``). Every lever
is checked against the setting's declaration before anything runs, and a bad one raises
:class:`~sim.params.ParamError` naming the setting, the value given and what is allowed — an unknown key
suggests the closest valid one.
"""

from __future__ import annotations

import difflib
import itertools
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.explore.labels import lever_label
from sim.narrative import unused_settings
from sim.outcomes import KPI_NAMES, KPIS, NULL_REASONS
from sim.params import (
    ParamError,
    Params,
    SettingInfo,
    check_key,
    info,
    parse_value,
    with_overrides,
)

DEFAULT_GRID_POINTS = 5
MAX_GRID_POINTS = 50
RETENTION_WEEKS = 52  # KPIs read at 52 weeks of customer age need at least this horizon
_NEEDS_A_YEAR = ("retention_52w", "ltv_to_cac")
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*(?::\s*(\d+)\s*)?$")
# The KPI is its key (meeting_overhead_share) or its label as the pages show it (Meeting overhead).
_CONSTRAINT = re.compile(
    rf"^\s*([A-Za-z0-9_][A-Za-z0-9_ /-]*?)\s*(<=|>=|<|>)\s*({_NUMBER})\s*(%?)\s*$"
)


@dataclass(frozen=True)
class Lever:
    """One setting an experiment varies.

    Either a numeric range ``[lo, hi]`` (with ``points`` grid points when a grid is needed) or an
    explicit tuple of ``values``. ``integer`` levers are rounded to whole numbers when sampled.
    """

    key: str
    lo: float | None = None
    hi: float | None = None
    values: tuple[Any, ...] | None = None
    points: int | None = None
    integer: bool = False

    @property
    def is_range(self) -> bool:
        """True for a numeric range, False for listed values."""
        return self.values is None

    @property
    def spec(self) -> str:
        """The lever as written on the command line (after ``KEY=``)."""
        if self.values is not None:
            return ",".join(_text(v) for v in self.values)
        tail = f":{self.points}" if self.points else ""
        return f"{_text(self.lo)}:{_text(self.hi)}{tail}"

    def grid(self, points: int | None = None) -> tuple[Any, ...]:
        """The values a grid visits: the listed values, or evenly spaced points over the range."""
        if self.values is not None:
            return self.values
        n = self.points or points or DEFAULT_GRID_POINTS
        if self.integer:
            raw = np.unique(np.round(np.linspace(self.lo, self.hi, n)).astype(int))
            return tuple(int(v) for v in raw)
        return tuple(float(v) for v in np.linspace(self.lo, self.hi, n))

    def at(self, u: float) -> Any:
        """The lever's value at position ``u`` in [0, 1) of its range or of its list of values."""
        if self.values is not None:
            return self.values[min(len(self.values) - 1, int(u * len(self.values)))]
        return self.scale(u)

    def scale(self, x: float) -> Any:
        """Map ``x`` in [0, 1] onto the range, rounding integer levers."""
        value = self.lo + x * (self.hi - self.lo)
        return round(value) if self.integer else float(value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        if self.values is not None:
            return {"key": self.key, "values": list(self.values)}
        out: dict[str, Any] = {"key": self.key, "lo": self.lo, "hi": self.hi}
        if self.points:
            out["points"] = self.points
        return out


def _text(value: Any) -> str:
    """``value`` as written in a lever or constraint: short, and read back exactly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        short = f"{value:g}"
        if float(short) == value:
            return short
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return str(value)


# --------------------------------------------------------------------------------------------------
# Parsing and validation against the model's settings
# --------------------------------------------------------------------------------------------------


def parse_lever(text: str) -> Lever:
    """Parse ``KEY=lo:hi[:points]`` or ``KEY=v1,v2,...`` into a validated lever.

    Raises:
        ParamError: unknown key (with the closest valid key), bad syntax, lo ≥ hi, a range outside
            the setting's allowed range, or a listed value the setting does not allow.
    """
    if "=" not in text:
        raise ParamError(
            "--lever",
            text,
            "KEY=lo:hi[:points] or KEY=v1,v2,... e.g. reviews.council.interval_weeks=1:8:5",
            "is not a lever",
        )
    key, spec = (part.strip() for part in text.split("=", 1))
    check_key(key, spec)
    s = info(key, spec)
    match = _RANGE.match(spec)
    if match:
        lo, hi = float(match.group(1)), float(match.group(2))
        points = int(match.group(3)) if match.group(3) else None
        return check_lever(Lever(key, lo=lo, hi=hi, points=points, integer=s.type == "int"), spec)
    if ":" in spec:
        raise ParamError(key, spec, _range_help(s), "is not a valid range")
    items = [item.strip() for item in spec.split(",")]
    if len(items) < 2 or any(not item for item in items):
        if s.type in ("int", "float"):
            raise ParamError(
                key,
                spec,
                f"{_range_help(s)}, or two or more values v1,v2,...",
                "is not a valid range",
            )
        raise ParamError(
            key,
            spec,
            f"two or more values separated by commas ({s.allowed})",
            "is not a list of values",
        )
    values = tuple(parse_value(key, item) for item in items)
    return check_lever(Lever(key, values=values, integer=s.type == "int"), spec)


def _range_help(s: SettingInfo) -> str:
    if s.type in ("int", "float"):
        return f"a range lo:hi or lo:hi:points with lo below hi, within {s.span}"
    return f"listed values: {s.allowed}"


def check_lever(lever: Lever, spec: str | None = None) -> Lever:
    """Validate a lever against its setting's declaration and return it with canonical types.

    Raises:
        ParamError: naming the setting, the value and what is allowed.
    """
    spec = lever.spec if spec is None else spec
    check_key(lever.key, spec)
    s = info(lever.key, spec)
    if lever.values is not None:
        if len(lever.values) < 2:
            raise ParamError(
                lever.key, spec, f"two or more values ({s.allowed})", "is not a list of values"
            )
        values = []
        for v in lever.values:
            checked = _check_value(s, v, spec)
            if checked in values:
                raise ParamError(lever.key, spec, "each value once", "lists a value twice")
            values.append(checked)
        return Lever(lever.key, values=tuple(values), integer=s.type == "int")
    if s.type not in ("int", "float"):
        raise ParamError(
            lever.key,
            spec,
            f"listed values ({s.allowed}); a range needs a numeric setting",
            "is not numeric",
        )
    lo, hi = lever.lo, lever.hi
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        raise ParamError(lever.key, spec, _range_help(s), "is not a valid range")
    if lo >= hi:
        raise ParamError(lever.key, spec, _range_help(s), "has lo ≥ hi")
    if (s.lo is not None and lo < s.lo) or (s.hi is not None and hi > s.hi):
        raise ParamError(lever.key, spec, f"a range within {s.span}", "is out of range")
    if s.type == "int" and not (float(lo).is_integer() and float(hi).is_integer()):
        raise ParamError(
            lever.key, spec, f"whole-number ends within {s.span}", "is not a whole-number range"
        )
    points = lever.points
    if points is not None and not 2 <= points <= MAX_GRID_POINTS:
        raise ParamError(
            lever.key, spec, f"2 to {MAX_GRID_POINTS} grid points", "has a bad number of points"
        )
    integer = s.type == "int"
    if integer:
        lo, hi = float(int(lo)), float(int(hi))
    return Lever(lever.key, lo=float(lo), hi=float(hi), points=points, integer=integer)


def _check_value(s: SettingInfo, value: Any, spec: str) -> Any:
    if s.type == "bool":
        if not isinstance(value, bool):
            raise ParamError(s.key, spec, "true or false", "has the wrong type")
        return value
    if s.type == "str":
        if not isinstance(value, str) or (s.choices and value not in s.choices):
            raise ParamError(s.key, spec, s.allowed)
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParamError(s.key, spec, s.span, "has the wrong type")
    if not math.isfinite(value):  # "nan,1" reads as numbers, but nan is none
        raise ParamError(s.key, spec, s.span, "is not a finite number")
    if s.type == "int":
        if not float(value).is_integer():
            raise ParamError(s.key, spec, f"whole numbers within {s.span}", "is not a whole number")
        value = int(value)
    else:
        value = float(value)
    if (s.lo is not None and value < s.lo) or (s.hi is not None and value > s.hi):
        raise ParamError(s.key, spec, f"values within {s.span}", "is out of range")
    return value


def require_ranges(levers: Sequence[Lever], method: str) -> None:
    """Raise ParamError unless every lever is a numeric range (sensitivity methods need one)."""
    for lever in levers:
        if not lever.is_range:
            name = method.capitalize()
            try:
                s = info(lever.key)
            except ParamError:
                s = None
            if s is not None and s.type in ("int", "float"):
                need = f"{name} samples a range lo:hi within {s.span}, not listed values"
            else:
                takes = f"; this setting takes {s.allowed}" if s is not None else ""
                need = f"{name} samples numeric ranges lo:hi only{takes}"
            raise ParamError(lever.key, lever.spec, need, "is not a numeric range")


def check_distinct(levers: Sequence[Lever]) -> None:
    """Raise ParamError if a setting appears twice."""
    seen: set[str] = set()
    for lever in levers:
        if lever.key in seen:
            raise ParamError(
                lever.key, lever.spec, "each setting once", "sets this setting a second time"
            )
        seen.add(lever.key)


# --------------------------------------------------------------------------------------------------
# KPIs and constraints
# --------------------------------------------------------------------------------------------------


class ExploreError(ValueError):
    """Bad input to an experiment that is not a single setting (a KPI, a constraint, a size)."""


def check_kpi(name: str, outputs: Sequence[str] = KPI_NAMES, flag: str = "--kpi") -> str:
    """Return ``name`` if it is a KPI, else raise ExploreError suggesting the closest one."""
    if name in outputs:
        return name
    containing = [k for k in outputs if name and name.lower() in k]
    close = containing[:1] if len(containing) == 1 else []
    close = close or difflib.get_close_matches(name, list(outputs), n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    raise ExploreError(f"{flag} = {name!r} is not a KPI: {hint}one of {', '.join(outputs)}")


def kpi_null_reason(params: Params, kpi: str, levers: Sequence[Lever] = ()) -> str | None:
    """Why ``kpi`` cannot be computed for ``params`` (or some lever setting), if it cannot."""
    if kpi not in _NEEDS_A_YEAR:
        return None
    horizons = [params.horizon_weeks]
    for lever in levers:
        if lever.key == "horizon_weeks":
            horizons.append(min(lever.grid()) if lever.values is not None else lever.lo)
    if min(horizons) < RETENTION_WEEKS:
        return NULL_REASONS[kpi]
    return None


_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    "<": operator.lt,
    ">=": operator.ge,
    ">": operator.gt,
}


@dataclass(frozen=True)
class Constraint:
    """A bound on a KPI's mean: ``kpi op bound`` (e.g. meeting_overhead_share <= 0.1)."""

    kpi: str
    op: str
    bound: float

    def holds(self, value: float) -> bool:
        """Whether a KPI mean meets the bound (a mean that cannot be computed does not)."""
        return bool(math.isfinite(value) and _OPS[self.op](value, self.bound))

    def violation(self, value: float) -> float:
        """How far a mean is on the wrong side of the bound, relative to the bound (0 if met)."""
        if not math.isfinite(value):
            return math.inf
        if self.holds(value):
            return 0.0
        return abs(value - self.bound) / max(abs(self.bound), 1e-9)

    @property
    def text(self) -> str:
        return f"{self.kpi}{self.op}{_text(self.bound)}"

    def to_dict(self) -> dict[str, Any]:
        return {"kpi": self.kpi, "op": self.op, "bound": self.bound}


def kpi_of_label(name: str, outputs: Sequence[str] = KPI_NAMES) -> str:
    """The KPI key of ``name`` written as its label (``Meeting overhead``, in any case and
    spacing), else ``name`` as it is."""
    words = " ".join(name.split()).casefold()
    for key in outputs:
        if key in KPIS and " ".join(KPIS[key].label.split()).casefold() == words:
            return key
    return name


def parse_constraint(text: str, outputs: Sequence[str] = KPI_NAMES) -> Constraint:
    """Parse ``KPI<=number`` (also ``<``, ``>=``, ``>``; a trailing % divides by 100); the KPI is
    its key or its label (``Meeting overhead <= 10%``).

    Raises:
        ExploreError: bad syntax or an unknown KPI, naming the value and the expected form.
    """
    match = _CONSTRAINT.match(text)
    if not match:
        raise ExploreError(
            f"--constraint = {text!r} is not a constraint: KPI<=number or KPI>=number, the KPI "
            f"by its key or name, e.g. 'meeting_overhead_share<=0.1' or 'Meeting overhead <= 10%'"
        )
    kpi = check_kpi(kpi_of_label(match.group(1), outputs), outputs, flag="--constraint")
    bound = float(match.group(3)) / (100.0 if match.group(4) else 1.0)
    if not math.isfinite(bound):
        raise ExploreError(
            f"--constraint = {text!r} has a bound too large for a number: write a finite bound, "
            f"e.g. 'meeting_overhead_share<=0.1'"
        )
    if kpi in KPIS and KPIS[kpi].unit == "share" and not match.group(4) and abs(bound) > 1.0:
        # "Meeting overhead <= 10" most likely means 10%, not a bound of 1,000% that never binds.
        raise ExploreError(
            f"--constraint = {text!r} is out of range: {KPIS[kpi].label} is a share from 0 to 1, "
            f"so write a percentage with its sign, e.g. '{match.group(1).strip()} "
            f"{match.group(2)} {float(match.group(3)):g}%', or a fraction"
        )
    return Constraint(kpi, match.group(2), bound)


def higher_is_better(kpi: str) -> bool:
    """Whether more of ``kpi`` is better (True for outputs that are not model KPIs)."""
    return KPIS[kpi].higher_is_better if kpi in KPIS else True


def _settings_tried(lever: Lever) -> tuple[Any, ...]:
    """The values of a lever that bound what it can do: its listed values, or its range's ends."""
    if lever.values is not None:
        return lever.values
    ends = (lever.lo, lever.hi)
    return tuple(int(v) for v in ends) if lever.integer else ends


def idle_levers(base: Params, levers: Sequence[Lever]) -> dict[str, str]:
    """The levers that cannot change a single number from ``base``, wherever the other levers are
    set (at their listed values or their ranges' ends): key -> why, at the base (see
    :func:`sim.narrative.unused_settings`). A sweep of such a lever draws flat lines."""
    at_base = unused_settings(base)
    idle = {}
    for lever in levers:
        others = [lv for lv in levers if lv.key != lever.key]
        said = []
        for combo in itertools.product(*(_settings_tried(lv) for lv in others)):
            try:
                params = with_overrides(
                    base, {lv.key: v for lv, v in zip(others, combo, strict=True)}
                )
            except ParamError:  # a combination the run itself would refuse
                continue
            said.append(unused_settings(params).get(lever.key))
        if said and all(said):
            idle[lever.key] = at_base.get(lever.key) or said[0]
    return idle


def idle_note(idle: dict[str, str], start: str) -> str | None:
    """A sentence naming the levers of :func:`idle_levers` and why (None when there are none);
    ``start`` is the starting scenario's title."""
    if not idle:
        return None
    which = "this lever cannot" if len(idle) == 1 else "these levers cannot"
    parts = "; ".join(f"{lever_label(key)}, as {why}" for key, why in idle.items())
    return f"From “{start}”, {which} move any result, and will show no effect: {parts}."
