"""The model in plain language, for the Learn page: a causal diagram (Graphviz DOT) from incentives
to retention, each mechanism with the levers that change it and an example that opens in the Sandbox,
the validations, the patterns the model reproduces, and the references.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app import controls, session
from app.state import Setup, preset_setup
from app.teach import run_settings
from sim.params import diff, info, with_overrides
from sim.scenarios import load_preset

# Light fills with dark text read the same on light and dark themes; lines are a mid-grey. The
# edges' labels are a grey with at least 4.5:1 contrast on the theme's background: 4.5:1 on white,
# 6:1 on the dark theme's.
_LEVER_FILL = "#bfdbfe"
_MARKET_FILL = "#fde68a"
_STATE_FILL = "#e2e8f0"
_OUTCOME_FILL = "#bbf7d0"
_LINE = "#808080"
LABEL_COLOR = {"light": "#767676", "dark": "#8b949e"}


def causal_diagram(theme: str | None = "light") -> str:
    """The model's causal diagram as a Graphviz DOT string, for the ``theme`` ("light" or "dark";
    light when unknown).

    Blue boxes are levers a leader sets, yellow the market, grey what the model keeps track of,
    green the outcomes customers feel. A dashed arrow is a cost.
    """
    label_color = LABEL_COLOR.get(theme or "light", LABEL_COLOR["light"])
    nodes = {
        "incentives": ("Incentives\n(what each function is paid on)", _LEVER_FILL),
        "reviews": ("Review rhythm\n(metric, council, strategy, event)", _LEVER_FILL),
        "rights": ("Decision rights", _LEVER_FILL),
        "discovery": ("Discovery time\nand strategy focus", _LEVER_FILL),
        "market": ("Market shifts\nand demand shocks", _MARKET_FILL),
        "alignment": ("Alignment", _STATE_FILL),
        "capacity": ("Build capacity", _STATE_FILL),
        "queue": ("Decision queue", _STATE_FILL),
        "work": ("Work chosen", _STATE_FILL),
        "value": ("Value delivered\n(the product's value stocks)", _STATE_FILL),
        "ttv": ("Time-to-value", _OUTCOME_FILL),
        "activation": ("Activation\n(value within the habit threshold)", _OUTCOME_FILL),
        "retention": ("Retention", _OUTCOME_FILL),
    }
    edges = (
        ("incentives", "alignment", "pull toward the local metric", ""),
        ("alignment", "work", "weighs true value\nagainst local appeal", ""),
        ("discovery", "work", "sharper estimates,\nfocus on a kind of work", ""),
        ("work", "value", "", ""),
        ("capacity", "value", "build speed", ""),
        ("value", "ttv", "onboarding stock", ""),
        ("ttv", "activation", "", ""),
        ("activation", "retention", "", ""),
        ("value", "retention", "core stock", ""),
        ("incentives", "retention", "oversold customers\n(sales, marketing)", ""),
        ("reviews", "alignment", "detect drift, correct it", ""),
        ("reviews", "capacity", "cost attendees' hours", "dashed"),
        ("rights", "queue", "escalate items", ""),
        ("reviews", "queue", "the council decides", ""),
        ("queue", "work", "filters, adds waiting", ""),
        ("market", "value", "devalues old work", ""),
        ("reviews", "work", "re-aim after a shift", ""),
    )
    lines = [
        "digraph model {",
        # Ranks close together, so that the whole diagram fits a 1280 x 720 screen below the menu.
        '  graph [rankdir=TB, bgcolor="transparent", nodesep=0.3, ranksep=0.25, '
        'fontname="Helvetica"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=14, '
        f'color="{_LINE}", fontcolor="#1f2933"];',
        f'  edge [color="{_LINE}", fontcolor="{label_color}", fontname="Helvetica", fontsize=12, '
        "arrowsize=0.7];",
    ]
    for name, (label, fill) in nodes.items():
        lines.append(f'  {name} [label="{_dot(label)}", fillcolor="{fill}"];')
    for a, b, label, style in edges:
        attrs = [f'label="{_dot(label)}"'] if label else []
        if style:
            attrs.append(f"style={style}")
        lines.append(f"  {a} -> {b}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return "\n".join(lines)


def _dot(text: str) -> str:
    """Text for a DOT label: quotes escaped, line breaks as ``\\n``."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


@dataclass(frozen=True)
class Mechanism:
    """One mechanism of the model, the levers that change it, and an example to open."""

    title: str
    text: str
    levers: tuple[str, ...]
    base: str  # the example's preset, pinned as its baseline
    change: Mapping[str, Any] = field(default_factory=dict)
    example: str = ""


def _d(key: str) -> float:
    return float(info(key).default)


def mechanisms() -> tuple[Mechanism, ...]:
    """The mechanisms in causal order (numbers from the parameters' defaults)."""
    return (
        Mechanism(
            "Incentives pull alignment",
            "Each week a function's alignment moves a share of the way (the drift rate, "
            f"{_d('incentives.drift_rate_per_week'):g} a week) toward the alignment of what it is "
            f"paid on: {_d('incentives.shared_outcome_alignment'):g} for a shared outcome, "
            f"{_d('incentives.mixed_alignment'):g} for a mixed scorecard, "
            f"{_d('incentives.local_metric_alignment'):g} for a local metric. Product teams' "
            "local metric is delivery velocity, marketing's is campaign volume, sales' is "
            "bookings: drifting sales and marketing bring more sign-ups, more of them oversold.",
            (
                "incentives.product",
                "incentives.marketing",
                "incentives.sales",
                "incentives.drift_rate_per_week",
            ),
            "aligned-baseline",
            {"incentives.product": "local_metric"},
            "product teams paid on velocity, against the aligned baseline",
        ),
        Mechanism(
            "Alignment decides what gets built",
            "A team with a free slot starts the waiting idea with the best score: its estimate of "
            "the idea's value weighted by its alignment a, plus the idea's appeal to the local "
            "metric weighted by √(1 − a²). An aligned team builds what customers value; a "
            "drifting one builds what its metric rewards. Protected discovery time sharpens the "
            "estimates but takes build time; the strategy focus moves one kind of work up the "
            "list.",
            ("org.discovery_share", "work.strategy_focus"),
            "aligned-baseline",
            {"org.discovery_share": 0.0},
            "no protected discovery time, against the aligned baseline",
        ),
        Mechanism(
            "Value builds the product; the product keeps customers",
            "Released work adds to three value stocks that wear out by "
            f"{_d('product.depreciation_per_week'):.0%} a week. The onboarding stock sets "
            "time-to-value: customers who reach value within the habit threshold "
            f"({_d('customers.habit_threshold_days'):g} days) activate, the others churn "
            f"{_d('customers.not_activated_churn_multiplier'):g} times as fast. The core stock "
            "sets churn, the growth stock sign-ups. Churn propensities follow the "
            "shifted-beta-geometric model.",
            ("work.strategy_focus", "org.wip_limit_per_team"),
            "aligned-baseline",
            {"work.strategy_focus": "time_to_value"},
            "a strategy focused on time-to-value, against the aligned baseline",
        ),
        Mechanism(
            "Reviews catch drift, and cost capacity",
            "Every review takes its attendees' hours from each product team. It notices a "
            "drifting team with a probability that rises with instrumentation quality and with "
            "the size of the drift, and pulls the team back toward the strategy. Too few reviews "
            "let drift run; too many eat the time that builds value.",
            (
                "reviews.metric.enabled",
                "reviews.council.interval_weeks",
                "reviews.strategy.interval_weeks",
                "reviews.event.enabled",
                "reviews.instrumentation_quality",
            ),
            "drifting-incentives",
            {"reviews.council.interval_weeks": 1.0},
            "a weekly council for the drifting organisation, against its usual rhythm",
        ),
        Mechanism(
            "Decision rights fill the decision queue",
            "Under guardrails, items larger than the escalation size wait in the decision queue "
            "for the next council; under centralised rights every item does. The council rejects "
            "what it sees as low value and stops poor work in progress: lead time grows, but the "
            "filter protects value when teams drift.",
            (
                "decisions.rights",
                "decisions.escalation_size_person_days",
                "reviews.council.interval_weeks",
            ),
            "drifting-incentives",
            {"decisions.rights": "centralised"},
            "centralised decisions for the drifting organisation",
        ),
        Mechanism(
            "Market shifts reward a fast rhythm",
            "When the market moves, what was built for the old market keeps "
            f"{_d('product.old_epoch_value_share'):.0%} of its worth, and new ideas keep coming "
            "from the old picture of the market until a strategy review (or an event-triggered "
            "review) notices the shift and re-aims the backlog.",
            (
                "market.shift_enabled",
                "market.shift_week",
                "market.demand_shock_enabled",
                "reviews.strategy.interval_weeks",
                "reviews.event.enabled",
            ),
            "pivot",
            {"reviews.strategy.interval_weeks": 4.0},
            "the pivot with a strategy review every 4 weeks, against the quarterly one",
        ),
    )


def lever_group(key: str) -> str | None:
    """The Sandbox's lever group a setting is in (None if the Sandbox has no control for it)."""
    for title, levers in controls.GROUPS:
        if any(lever.key == key for lever in levers):
            return title
    return None


def lever_names(mechanism: Mechanism) -> str:
    """The mechanism's levers as Markdown, by the Sandbox group they are in: label and key."""
    groups: dict[str, list[str]] = {}
    for key in mechanism.levers:
        group = lever_group(key) or "scenario files and links"
        groups.setdefault(group, []).append(f"**{controls.lever_for(key).label}** (`{key}`)")
    return "; ".join(f"in *{group}*: " + ", ".join(names) for group, names in groups.items())


def example_setups(mechanism: Mechanism) -> tuple[Setup, Setup]:
    """The example's settings and its baseline (the preset it starts from)."""
    base = preset_setup(mechanism.base)
    params = with_overrides(load_preset(mechanism.base).params, mechanism.change)
    return Setup(base.preset, base.title + " (modified)", diff(params)), base


def open_example(mechanism: Mechanism) -> None:
    """Load a mechanism's example into the Sandbox (its preset pinned as the baseline); a Sandbox
    not yet opened in this session starts with the Learn page's seed and replications."""
    variant, base = example_setups(mechanism)
    seed, reps = run_settings()
    session.open_in_sandbox(variant, base, seed=seed, replications=reps)


VALIDATIONS = (
    "**Retention** — with every churn multiplier at 1, simulated survival by customer age matches "
    "the shifted-beta-geometric curve S(t) = B(α, β + t) / B(α, β) (Fader & Hardie 2007).",
    "**Queueing** — with reviews off and alignment fixed, a team is an M/M/c queue: the mean wait "
    "matches Erlang C, and Little's law (L = λW; Little 1961) holds between the model's counters "
    "and its items' timestamps.",
    "**Detection delay** — drift caught by reviews every T weeks, each noticing it with "
    "probability p, is caught after T (1/p − ½) on average.",
    "**Drifting goals** — with no reviews, mean alignment follows a_local + (a₀ − a_local)(1 − κ)^t "
    "week by week (Senge 1990; Sterman 2000).",
)
PATTERNS = (
    "Aligned incentives beat drifting ones on value, time-to-value and retention.",
    "With no reviews, drifting alignment settles near the local metric's; reviews hold it higher.",
    "Under drift, value against the review interval is U-shaped; under alignment, frequent "
    "reviews mostly cost. (See it on Explore: sweep the council's interval starting from the "
    "preset with the council as the only check.)",
    "Sales paid on bookings: more sign-ups early, worse fit, more early churn, lower retention.",
    "After a market shift, a faster strategy rhythm (or event-triggered reviews) recovers sooner.",
    "Centralised decisions lengthen lead time; delegation helps when aligned and amplifies drift "
    "when not.",
    "Protected discovery time has an interior optimum.",
)
REFERENCES = (
    "Baker, G. (2002). Distortion and risk in optimal incentive contracts. *Journal of Human "
    "Resources* 37(4).",
    "Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. *Journal of "
    "Interactive Marketing* 21(1).",
    "Kohavi, R., Tang, D., & Xu, Y. (2020). *Trustworthy Online Controlled Experiments*. "
    "Cambridge University Press.",
    "Little, J. D. C. (1961). A proof for the queuing formula L = λW. *Operations Research* 9(3).",
    "Senge, P. (1990). *The Fifth Discipline*. Doubleday.",
    "Sterman, J. D. (2000). *Business Dynamics*. Irwin/McGraw-Hill.",
    "Grimm, V., et al. (2010), and Müller, B., et al. (2013): the ODD and ODD+D protocols the "
    "model description follows.",
)
