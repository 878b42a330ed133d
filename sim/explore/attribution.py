"""Attribution: split a KPI difference between a baseline and a variant among the levers that changed.

When a variant differs from its baseline in several settings, "why did retention fall?" has an answer
that does not depend on the order in which the changes are imagined: the **Shapley value** (Shapley
1953). Each changed lever (or group of levers) is a player; for every subset ``S`` of the changes the
model is run with only those changes applied, and lever ``i`` is credited with its marginal effect
``v(S ∪ {i}) − v(S)`` averaged over every order of introducing the changes. Interactions are shared
out fairly, and the contributions add up to the total difference.

Every subset runs the same replications on the same seed (common random numbers), and the Shapley
values are computed replication by replication, so in each replication — and hence on average — the
contributions add up **exactly** to that replication's variant-minus-baseline difference (to floating
point rounding). Each contribution carries a 95% confidence interval from the spread across
replications. The cost is ``2^k`` scenarios for ``k`` players, so levers can be grouped (``by="group"``
groups settings by their section, e.g. every ``reviews.council.*`` change together).

:func:`explain` turns an attribution into one or two plain-language sentences.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.executors import TaskExecutor
from sim.explore.evaluate import (
    Evaluator,
    ModelEvaluator,
    Progress,
    Runner,
    as_evaluator,
    check_budget,
    check_replications,
    joint_tasks,
)
from sim.explore.labels import lever_label
from sim.explore.levers import ExploreError, check_kpi
from sim.explore.stats import CONFIDENCE, Moments, clean
from sim.narrative import in_sentence, why_source
from sim.outcomes import KPIS, NULL_REASONS
from sim.params import ParamError, Params, check_key, diff, get

MAX_PLAYERS = 8
GROUPINGS = ("setting", "group")


@dataclass(frozen=True)
class Player:
    """One lever of an attribution: a setting, or a group of settings changed together."""

    name: str
    label: str
    changes: Mapping[str, tuple[Any, Any]]  # key -> (baseline value, variant value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "changes": {k: {"baseline": a, "variant": b} for k, (a, b) in self.changes.items()},
        }


@dataclass
class Attribution:
    """Shapley contributions of each changed lever to each KPI's difference.

    Attributes:
        players: the changed levers (or groups), in a fixed order.
        outputs: every output computed.
        kpis: the KPIs reported.
        baseline, variant: KPI statistics of the two scenarios, shape (outputs,).
        total: statistics of the paired difference variant − baseline, shape (outputs,).
        shapley: statistics of each player's contribution, shape (players, outputs).
        replications, seed: as run.
        manifest: what produced the result.
    """

    players: tuple[Player, ...]
    outputs: tuple[str, ...]
    kpis: tuple[str, ...]
    baseline: Moments
    variant: Moments
    total: Moments
    shapley: Moments
    replications: int
    seed: int
    manifest: dict[str, Any] = field(default_factory=dict)

    def _j(self, kpi: str) -> int:
        return self.outputs.index(check_kpi(kpi, self.outputs))

    def contributions(self, kpi: str) -> list[tuple[Player, float]]:
        """(player, mean contribution) for one KPI, in the players' order."""
        j = self._j(kpi)
        return [(p, float(self.shapley.values[i, j])) for i, p in enumerate(self.players)]

    def difference(self, kpi: str) -> float:
        """Mean paired difference variant − baseline of one KPI (NaN if undefined)."""
        return float(self.total.values[self._j(kpi)])

    def table(self) -> pd.DataFrame:
        """Tidy: one row per KPI and lever, then one ``total`` row per KPI.

        Columns: kpi, lever, label, contribution, se, ci_lo, ci_hi, share (of the total difference),
        baseline, variant (the KPI's means; on total rows only).
        """
        lo, hi = self.shapley.ci(CONFIDENCE)
        tlo, thi = self.total.ci(CONFIDENCE)
        rows = []
        for k in self.kpis:
            j = self._j(k)
            total = self.total.values[j]
            for i, p in enumerate(self.players):
                phi = self.shapley.values[i, j]
                rows.append(
                    {
                        "kpi": k,
                        "lever": p.name,
                        "label": p.label,
                        "contribution": phi,
                        "se": self.shapley.se[i, j],
                        "ci_lo": lo[i, j],
                        "ci_hi": hi[i, j],
                        "share": phi / total if total else math.nan,
                        "baseline": math.nan,
                        "variant": math.nan,
                    }
                )
            rows.append(
                {
                    "kpi": k,
                    "lever": "total",
                    "label": "total difference",
                    "contribution": total,
                    "se": self.total.se[j],
                    "ci_lo": tlo[j],
                    "ci_hi": thi[j],
                    "share": 1.0 if total else math.nan,
                    "baseline": self.baseline.values[j],
                    "variant": self.variant.values[j],
                }
            )
        return pd.DataFrame(rows)

    def waterfall(self, kpi: str) -> pd.DataFrame:
        """One KPI as waterfall steps: baseline, each lever (largest first), variant.

        Columns: step (0..), name, label, kind (``baseline``, ``lever`` or ``variant``), delta, start,
        end, ci_lo, ci_hi (of the delta). Bars run from ``start`` to ``end``; the baseline and variant
        bars start at 0. The levers' ends chain from the baseline mean to baseline + total.
        """
        j = self._j(kpi)
        lo, hi = self.shapley.ci(CONFIDENCE)
        base = float(self.baseline.values[j])
        order = sorted(
            range(len(self.players)), key=lambda i: -abs(np.nan_to_num(self.shapley.values[i, j]))
        )
        rows = [
            {
                "name": "baseline",
                "label": "baseline",
                "kind": "baseline",
                "delta": base,
                "start": 0.0,
                "end": base,
                "ci_lo": math.nan,
                "ci_hi": math.nan,
            }
        ]
        level = base
        for i in order:
            phi = float(self.shapley.values[i, j])
            rows.append(
                {
                    "name": self.players[i].name,
                    "label": self.players[i].label,
                    "kind": "lever",
                    "delta": phi,
                    "start": level,
                    "end": level + phi,
                    "ci_lo": float(lo[i, j]),
                    "ci_hi": float(hi[i, j]),
                }
            )
            level += phi
        rows.append(
            {
                "name": "variant",
                "label": "variant",
                "kind": "variant",
                "delta": level,
                "start": 0.0,
                "end": level,
                "ci_lo": math.nan,
                "ci_hi": math.nan,
            }
        )
        df = pd.DataFrame(rows)
        df.insert(0, "step", np.arange(len(df)))
        return df

    def explain(self, kpi: str) -> str:
        """One or two sentences saying where the KPI's difference comes from."""
        return explain(self, kpi)

    def null_reasons(self) -> dict[str, str]:
        out = {}
        for k in self.kpis:
            if not self.total.count[self._j(k)]:
                out[k] = NULL_REASONS.get(k, "not defined for these scenarios")
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: manifest, levers and per KPI the means, the difference and contributions."""
        kpis: dict[str, Any] = {}
        for k in self.kpis:
            j = self._j(k)
            if not self.total.count[j]:
                kpis[k] = None
                continue
            kpis[k] = {
                "baseline": clean(self.baseline.values[j]),
                "variant": clean(self.variant.values[j]),
                "difference": self.total.summary(j),
                "contributions": [
                    {"lever": p.name, "label": p.label, **self.shapley.summary((i, j))}
                    for i, p in enumerate(self.players)
                ],
                "explanation": explain(self, k),
            }
        out: dict[str, Any] = {
            "experiment": "attribution",
            "manifest": self.manifest,
            "levers": [p.to_dict() for p in self.players],
            "confidence": CONFIDENCE,
            "kpis": kpis,
        }
        reasons = self.null_reasons()
        if reasons:
            out["null_reasons"] = reasons
        return out


# --------------------------------------------------------------------------------------------------
# Shapley weights
# --------------------------------------------------------------------------------------------------


def subsets(k: int) -> list[tuple[int, ...]]:
    """Every subset of ``range(k)`` as sorted tuples, indexed by bitmask (subset ``m`` has bit i)."""
    return [tuple(i for i in range(k) if m >> i & 1) for m in range(1 << k)]


def shapley_matrix(k: int) -> np.ndarray:
    """W (k × 2^k) such that the Shapley values are ``W @ v`` for subset values v indexed by mask.

    ``φ_i = Σ_{S ∌ i} |S|! (k − |S| − 1)! / k! · (v(S ∪ {i}) − v(S))``.
    """
    w = np.zeros((k, 1 << k))
    fact = [math.factorial(n) for n in range(k + 1)]
    for m in range(1 << k):
        size = bin(m).count("1")
        for i in range(k):
            if m >> i & 1:
                continue
            weight = fact[size] * fact[k - size - 1] / fact[k]
            w[i, m | (1 << i)] += weight
            w[i, m] -= weight
    return w


# --------------------------------------------------------------------------------------------------
# Players from two scenarios
# --------------------------------------------------------------------------------------------------


def players_from(
    baseline: Params | Evaluator,
    changes: Mapping[str, Any],
    by: str = "setting",
) -> tuple[Player, ...]:
    """Group the changed settings into players (one per setting, or one per section)."""
    if by not in GROUPINGS:
        raise ExploreError(f"--by = {by!r} is not allowed: one of {', '.join(GROUPINGS)}")
    evaluator = as_evaluator(baseline)
    groups: dict[str, dict[str, tuple[Any, Any]]] = {}
    for key, value in changes.items():
        name = key if by == "setting" else (key.rsplit(".", 1)[0] if "." in key else key)
        groups.setdefault(name, {})[key] = (evaluator.value(key), value)
    players = []
    for name, ch in groups.items():
        if len(ch) == 1:
            key = next(iter(ch))
            players.append(Player(key, lever_label(key, to=ch[key][1]), ch))
        else:
            players.append(Player(name, lever_label(name, group=True), ch))
    return tuple(players)


def attribute(
    baseline: Params | Evaluator,
    variant: Params | Mapping[str, Any],
    *,
    replications: int = 20,
    seed: int = 1,
    kpis: Sequence[str] | None = None,
    by: str = "setting",
    scenario: str = "custom",
    executor: TaskExecutor | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> Attribution:
    """Shapley attribution of each KPI's difference (variant − baseline) to the changed levers.

    Args:
        baseline: the baseline scenario (Params) or another evaluator.
        variant: the variant scenario (Params; its differences from the baseline are the levers) or
            the changes themselves as ``{key: value}``.
        replications: paired replications (every subset of changes runs the same ones).
        seed: the seed every subset shares.
        kpis: KPIs to report (default all).
        by: ``setting`` (one lever per changed setting) or ``group`` (one per section, e.g. every
            ``reviews.council.*`` change together).
        scenario: the baseline's name, for the manifest.
        executor, progress, cancel: as for :func:`sim.explore.sweep.sweep`.

    Raises:
        ExploreError: the scenarios do not differ, or differ in more than 8 levers.
        ParamError: a change is not a valid setting, or applying part of the changes is invalid.
    """
    evaluator = as_evaluator(baseline, scenario)
    check_replications(replications, seed)
    if isinstance(variant, Params):
        if not isinstance(evaluator, ModelEvaluator):
            raise TypeError("a Params variant needs a Params baseline")
        changes = diff(variant, evaluator.base)
    else:
        changes = dict(variant)
        if isinstance(evaluator, ModelEvaluator):
            for key, value in changes.items():
                check_key(key, value)
            changes = {k: v for k, v in changes.items() if get(evaluator.base, k) != v}
    if not changes:
        raise ExploreError("the variant does not differ from the baseline: nothing to attribute")
    players = players_from(evaluator, changes, by)
    if len(players) > MAX_PLAYERS:
        hint = " (try --by group)" if by == "setting" else ""
        raise ExploreError(
            f"the variant differs in {len(players)} levers: at most {MAX_PLAYERS} can be "
            f"attributed (2^k scenarios each){hint}: " + ", ".join(p.name for p in players)
        )
    outputs = evaluator.outputs
    names = tuple(dict.fromkeys(check_kpi(k, outputs) for k in (kpis or outputs)))
    k = len(players)
    points = []
    for members in subsets(k):
        point: dict[str, Any] = {}
        for i in members:
            point.update({key: new for key, (_, new) in players[i].changes.items()})
        points.append(point)
    for point in points:
        try:
            evaluator.check_point(point)
        except ParamError as err:
            raise ParamError(
                err.key,
                err.value,
                f"{err.allowed}; applying only some of the changes gives an invalid scenario, so "
                f"group them (--by group)",
            ) from None
    total = len(points) * replications
    check_budget(evaluator, total, "the attribution")

    weights = shapley_matrix(k)
    n_out = len(outputs)
    base_m, var_m, total_m = Moments((n_out,)), Moments((n_out,)), Moments((n_out,))
    shap_m = Moments((k, n_out))
    tasks = joint_tasks(len(points), 0, replications, evaluator.task_size)
    with Runner(evaluator, seed, executor, progress, cancel, total) as runner:
        for _, values in runner.run(points, tasks):
            # values: (subsets, reps, outputs). A replication counts for a KPI only if every subset
            # defined it, so contributions and total are taken over the same replications.
            ok = np.all(np.isfinite(values), axis=0)  # (reps, outputs)
            v = np.where(ok[None], values, np.nan)
            phi = np.einsum("im,mro->rio", weights, np.nan_to_num(v))  # (reps, players, outputs)
            phi[~np.broadcast_to(ok[:, None, :], phi.shape)] = np.nan
            base_m.add(values[0])
            var_m.add(values[-1])
            total_m.add(v[-1] - v[0])
            shap_m.add(phi)
        executor_name = runner.executor_name
    manifest = {
        "experiment": "attribution",
        **evaluator.describe(),
        "variant_changes": {key: new for key, new in changes.items()},
        "by": by,
        "seed": seed,
        "replications": replications,
        "scenarios_run": len(points),
        "executor": executor_name,
    }
    return Attribution(
        players=players,
        outputs=tuple(outputs),
        kpis=names,
        baseline=base_m,
        variant=var_m,
        total=total_m,
        shapley=shap_m,
        replications=replications,
        seed=seed,
        manifest=manifest,
    )


# --------------------------------------------------------------------------------------------------
# Plain-language explanation
# --------------------------------------------------------------------------------------------------

_MINUS = "−"


def _amount(x: float, unit: str) -> tuple[str, str]:
    """(magnitude text, unit noun) of a KPI difference, e.g. (``3.1``, ``point``) for a share."""
    a = abs(x)
    if unit == "share":
        return f"{a * 100:.1f}", "point"
    if unit == "days":
        return f"{a:.1f}", "day"
    if unit in ("value points", "customers"):
        noun = "point" if unit == "value points" else "customer"
        return (f"{a:,.0f}" if a >= 10 else f"{a:.1f}"), noun
    if unit == "alignment":  # as the tiles write it: a change of 0.004 is not "0.00"
        return f"{a:.3f}", ""
    return (f"{a:.2f}" if a < 10 else f"{a:,.1f}"), ""


def _signed(x: float, unit: str) -> str:
    mag, noun = _amount(x, unit)
    zero = _is_zero(mag)
    sign = "±" if zero else ("+" if x > 0 else _MINUS)  # as every change is written
    if not noun:
        return f"{sign}{mag}"
    plural = "" if mag == "1" else "s"
    return f"{sign}{mag} {noun}{plural}"


def _plural(name: str) -> bool:
    """Whether a lever's label is a plural noun phrase ("the council settings", "incentives")."""
    return name.endswith(("settings", "incentives", "rights"))


def _magnitude(mag: str) -> float:
    """A magnitude as written ("1,234.5") as a number."""
    return float(mag.replace(",", ""))


def _is_zero(mag: str) -> bool:
    return _magnitude(mag) == 0.0


def sentence(
    kpi: str,
    total: float,
    contributions: Sequence[tuple[str, float]],
    *,
    label: str | None = None,
    unit: str | None = None,
) -> str:
    """One or two sentences attributing a KPI difference to named levers.

    A pure function of numbers, for any place that explains a difference. Levers are named in
    order of the size of their contribution; contributions that round to zero are not mentioned.

    Args:
        kpi: the KPI's name (its label and unit come from :data:`sim.outcomes.KPIS` if known).
        total: the total difference, variant − baseline.
        contributions: (lever label, contribution) pairs; they should add up to ``total``.
        label, unit: override the KPI's label and unit.

    Example:
        "Most of the 3.1-point fall in 52-week retention comes from sales' incentive (−2.4 points);
        the council interval contributes −0.7 points."
    """
    info = KPIS.get(kpi)
    label = label or (info.label if info else kpi)
    unit = unit or (info.unit if info else "")
    what = in_sentence(label)
    if not math.isfinite(total):
        return f"The difference in {what} cannot be computed for these scenarios."
    items = sorted(
        ((name, c) for name, c in contributions if math.isfinite(c)), key=lambda t: -abs(t[1])
    )
    items = [(name, c) for name, c in items if not _is_zero(_amount(c, unit)[0])]
    mag, noun = _amount(total, unit)
    if _is_zero(mag):
        if items and len(items) >= 2:
            (a, ca), (b, cb) = items[0], items[1]
            return (
                f"{label} is practically unchanged: {a} ({_signed(ca, unit)}) and {b} "
                f"({_signed(cb, unit)}) roughly cancel out."
            )
        exactly = "unchanged" if total == 0.0 and not items else "practically unchanged"
        return f"{label} is {exactly} ({_signed(total, unit)})."
    size = f"{mag}-{noun}" if noun else mag
    direction = "fall" if total < 0 else "rise"
    if not items:
        return f"The {size} {direction} in {what} comes from no single lever."
    top_name, top = items[0]
    rest = items[1:]
    # Compared as shown: a part never reads as "most of" a whole it is, rounded, as large as.
    shown_top = _magnitude(_amount(top, unit)[0])
    if top * total > 0 and (abs(top) > 1.05 * abs(total) or shown_top >= _magnitude(mag)):
        first = f"The {size} {direction} in {what} comes from {top_name} ({_signed(top, unit)})"
        others = len(contributions) - 1
        offset = total - top
        if not rest and others and offset * total < 0 and abs(offset) > 1e-9 * abs(total):
            # What the others offset rounds to nothing on its own, but it is why the part is larger.
            first += f", slightly offset by the other {'lever' if others == 1 else 'levers'}"
    elif top * total > 0 and abs(top) >= 0.5 * abs(total):
        # As shown: −1.6 points of a 3.2-point fall is half of it, not most.
        lead = "Half" if 2 * shown_top <= _magnitude(mag) else "Most"
        first = (
            f"{lead} of the {size} {direction} in {what} comes from {top_name} "
            f"({_signed(top, unit)})"
        )
    elif top * total > 0:
        first = (
            f"The {size} {direction} in {what} is spread out; the largest part comes from "
            f"{top_name} ({_signed(top, unit)})"
        )
    else:
        pulls = "pull" if _plural(top_name) else "pulls"
        first = (
            f"{top_name[0].upper()}{top_name[1:]} {pulls} {what} the other way "
            f"({_signed(top, unit)}), yet it shows a {size} {direction} overall"
        )
    if not rest:
        return first + "."

    def clause(name: str, c: float) -> str:
        # "contributes −0.9 points" to a fall ("adds −0.9 points" read as a rise)
        verb = "contribute" if c * total > 0 else "offset"
        return f"{name} {verb if _plural(name) else verb + 's'} {_signed(c, unit)}"

    if len(rest) == 1:
        return f"{first}; {clause(*rest[0])}."
    if len(rest) == 2:
        return f"{first}; {clause(*rest[0])} and {clause(*rest[1])}."
    remainder = sum(c for _, c in rest[1:])
    tail = f"; {clause(*rest[0])}"
    if not _is_zero(_amount(remainder, unit)[0]):
        tail += f", and the other {len(rest) - 1} levers together {_signed(remainder, unit)}"
    return first + tail + "."


def explain(attribution: Attribution, kpi: str) -> str:
    """One or two sentences saying which levers account for a KPI's difference in an attribution."""
    return sentence(
        kpi,
        attribution.difference(kpi),
        [(p.label, c) for p, c in attribution.contributions(kpi)],
    )


# The most a "why" on fewer replications is scaled to the whole run's difference (either way).
MAX_SCALE = 2.0


@dataclass(frozen=True)
class Why:
    """A one-sentence answer to "why did it change?", or the reason there is none."""

    text: str | None
    reason: str
    levers: int  # players (settings or groups) that changed
    replications: int  # per scenario, when an attribution ran (0 otherwise)
    scaled: bool = False  # shares from fewer replications, applied to the whole run's difference
    by: str = "setting"  # how the changed settings were split ("group": related ones together)

    def note(self, replications: int) -> str | None:
        """Where the sentence's numbers come from, when not from all ``replications`` of the run
        it explains (:func:`sim.narrative.why_source`)."""
        return why_source(replications, self.levers, self.replications, self.scaled, self.by)


def why(
    baseline: Params,
    variant: Params,
    kpi: str,
    *,
    replications: int,
    seed: int,
    by: str = "setting",
    max_levers: int = 6,
    max_simulations: int = 800,
    min_replications: int = 10,
    total: float | None = None,
    executor: TaskExecutor | None = None,
    progress: Progress | None = None,
) -> Why:
    """Attribute ``kpi``'s paired difference to the changed settings (or groups) in one sentence.

    Runs Shapley attribution over at most ``max_levers`` players, with as many replications as fit
    in ``max_simulations`` (2^players scenarios each) but at least ``min_replications``; a single
    changed player takes the whole difference without running anything. When more than
    ``max_levers`` settings changed, they are grouped (``by="group"``) if that brings them within.

    Args:
        total: the paired mean difference over all ``replications`` (what a headline states).
            When the attribution runs on fewer, its difference differs a little from this one; its
            players' shares are then applied to ``total``, so the sentence's whole is the
            headline's. Only when the two agree to within a factor of two (:data:`MAX_SCALE`):
            across a change of sign, or a far smaller or larger difference, shares of one say
            little about the other, and the attribution's own numbers are kept (``scaled`` is
            False; the caller says the difference is that of fewer replications).
    """
    changed = diff(variant, baseline)
    if not changed:
        return Why(None, "the settings are the baseline's, so there is nothing to explain", 0, 0)
    players = players_from(baseline, changed, by)
    if len(players) > max_levers and by == "setting":
        # Too many settings to split one by one: related ones (a review's interval and
        # attendance, say) are split together, as "the council".
        by = "group"
        players = players_from(baseline, changed, by)
    n = len(players)
    if n > max_levers:
        what = "settings" if by == "setting" else "groups of settings"
        return Why(
            None,
            f"{n} {what} changed; the difference is split among them for at most {max_levers}",
            n,
            0,
            by=by,
        )
    if n == 1:
        label = players[0].label
        # "the only change that differs" read badly: a group of one change is a setting too.
        what = "setting" if len(players[0].changes) == 1 else "group of settings"
        return Why(
            f"{label[:1].upper()}{label[1:]} is the only {what} that differs, so the whole "
            f"difference comes from it.",
            "",
            1,
            0,
            by=by,
        )
    reps = min(replications, max(min_replications, max_simulations // 2**n))
    found = attribute(
        baseline,
        variant,
        replications=reps,
        seed=seed,
        kpis=(kpi,),
        by=by,
        executor=executor,
        progress=progress,
    )
    contributions = [(p.label, c) for p, c in found.contributions(kpi)]
    part = found.difference(kpi)
    factor = total / part if total is not None and part else math.nan
    if reps < replications and 1 / MAX_SCALE <= factor <= MAX_SCALE:
        text = sentence(kpi, total, [(label, c * factor) for label, c in contributions])
        return Why(text, "", n, reps, scaled=True, by=by)
    return Why(sentence(kpi, part, contributions), "", n, reps, by=by)
