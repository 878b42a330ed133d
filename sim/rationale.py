"""Why each default is what it is: a source, a calibration target or an explicit judgement.

Shown by ``python -m sim params`` and in docs/MODEL.md. A test requires an entry for every setting.
"Judgement" marks a value chosen for a plausible mid-sized software organisation, not measured; change
it to fit the organisation being explored.
"""

RATIONALE: dict[str, str] = {
    "horizon_weeks": "Two years: long enough for drift to wear down value stocks and for "
    "52-week retention to be observed on a year of cohorts.",
    "org.product_teams": "MODEL.md: 4-6 product teams in the default organisation.",
    "org.team_size_people": "MODEL.md: teams of 5-9 people; 7 is the 'two-pizza' middle.",
    "org.hours_per_person_week": "A standard working week.",
    "org.wip_limit_per_team": "Judgement: a 7-person team works about three items at once "
    "(Kanban practice keeps WIP below headcount).",
    "org.discovery_share": "Judgement: a few hours a week of customer discovery per person; the "
    "P7 test shows value peaks near this share under the default noise.",
    "org.gtm_cost_per_week": "Judgement: about 1.5 M$ a year of sales and marketing spend, "
    "giving an LTV/CAC near 3-4 in the aligned baseline (a common SaaS benchmark).",
    "incentives.product": "Baseline is aligned; local metric = delivery velocity.",
    "incentives.marketing": "Baseline is aligned; local metric = campaign volume.",
    "incentives.sales": "Baseline is aligned; local metric = bookings.",
    "incentives.drift_rate_per_week": "Sterman (2000) drifting-goals structure. Judgement: "
    "kappa = 0.06/week gives a half-life of about 11 weeks, so drift shows within a quarter.",
    "incentives.drift_noise_sd": "Judgement: small weekly wobble so teams differ; keeps alignment "
    "well inside [0, 1].",
    "incentives.initial_alignment": "Teams start close to the strategic anchor (a fresh, "
    "well-briefed organisation).",
    "incentives.strategic_anchor": "Equal to a shared outcome metric's alignment: what leadership "
    "asks for is what a good outcome metric delivers.",
    "incentives.shared_outcome_alignment": "MODEL.md suggested value; Baker (2002): alignment as "
    "the cosine between a metric's and value's directions.",
    "incentives.mixed_alignment": "MODEL.md suggested value for a mixed scorecard.",
    "incentives.local_metric_alignment": "MODEL.md suggested value for bookings, velocity or "
    "campaign volume.",
    "reviews.metric.enabled": "Weekly metric reviews are common practice in product organisations.",
    "reviews.metric.interval_weeks": "Weekly by definition.",
    "reviews.metric.attendees_per_team": "Judgement: the lead and one analyst or engineer.",
    "reviews.metric.hours": "Judgement: one hour plus half an hour of preparation.",
    "reviews.metric.detection_probability": "Cheap and shallow: dashboards show symptoms, rarely "
    "causes (MODEL.md: small correction).",
    "reviews.metric.correction_strength": "MODEL.md: a small correction.",
    "reviews.council.enabled": "A monthly product council is the usual decision forum.",
    "reviews.council.interval_weeks": "Monthly.",
    "reviews.council.attendees_per_team": "Judgement: lead, product manager and a designer.",
    "reviews.council.hours": "Judgement: a half-day with preparation.",
    "reviews.council.detection_probability": "Deeper than the metric review: it looks at the work "
    "itself.",
    "reviews.council.correction_strength": "MODEL.md: a medium correction.",
    "reviews.strategy.enabled": "Quarterly strategy reviews are standard.",
    "reviews.strategy.interval_weeks": "Quarterly (13 weeks).",
    "reviews.strategy.attendees_per_team": "Judgement: most of the team's leads.",
    "reviews.strategy.hours": "Judgement: a day-and-a-half offsite with preparation.",
    "reviews.strategy.detection_probability": "High: the review is built to compare direction "
    "with strategy, and it is the only regular review that notices a new market epoch.",
    "reviews.strategy.correction_strength": "MODEL.md: resets alignment strongly toward the anchor.",
    "reviews.event.enabled": "Off in the baseline: event-triggered reviews are a governance choice "
    "to explore (pivot and demand-shock scenarios).",
    "reviews.event.interval_weeks": "Not used for scheduling (the review is triggered); kept so the "
    "four review types share one shape.",
    "reviews.event.attendees_per_team": "Judgement: as for a council.",
    "reviews.event.hours": "Judgement: a focused deep-dive.",
    "reviews.event.detection_probability": "A triggered review knows something is wrong, so it "
    "looks harder than a routine council.",
    "reviews.event.correction_strength": "Between the council's and the strategy review's.",
    "reviews.event.activation_threshold": "Calibrated: about 0.2 below the baseline's activation "
    "(about 0.69), so it fires on a real deterioration, not on noise.",
    "reviews.event.churn_threshold": "Calibrated: well above the baseline's weekly churn among "
    "active customers (about 0.02-0.04).",
    "reviews.event.cooldown_weeks": "Judgement: a month to let a correction act before re-reviewing.",
    "reviews.instrumentation_quality": "Judgement: decent but imperfect analytics.",
    "reviews.drift_visibility_gap": "Judgement: a gap of 0.3 (a shared-outcome team sliding to a "
    "local metric's alignment) is unmistakable.",
    "reviews.drift_onset_gap": "Half the visibility gap: drift material enough to count.",
    "reviews.context_switch_hours": "Judgement: focus lost around each meeting (maker's schedule).",
    "reviews.reject_below_z": "Judgement: the council turns down the worst third of escalations "
    "as it sees them.",
    "reviews.prune_below_z": "Judgement: stop work the council sees in the bottom sixth of value.",
    "decisions.rights": "Guardrails are the common middle ground between delegation and "
    "centralisation.",
    "decisions.escalation_size_person_days": "Twice the mean item: about one item in seven "
    "escalates.",
    "work.opportunities_per_team_week": "Calibrated: about three times what a team can build, so "
    "choosing well matters (most ideas are never built).",
    "work.item_size_mean_person_days": "Judgement: three person-weeks, a typical feature slice. "
    "Exponential sizes make the work system M/M/c (validation).",
    "work.value_log_sd": "Heavy-tailed value: a few ideas carry most of the value (Kohavi et al. "
    "2020 report most experiments fail to move their metric).",
    "work.value_median_points": "The unit: value points are relative to the median idea.",
    "work.opportunity_lifetime_weeks": "Judgement: an idea not started within two months is stale.",
    "work.estimate_noise_sd": "Judgement: without discovery a team's estimate correlates about "
    "0.64 with true value.",
    "work.discovery_noise_reduction": "Calibrated with discovery_share: a few hours a week roughly "
    "halves the estimation noise; returns diminish (P7's interior optimum).",
    "work.weight_onboarding": "Judgement: mix of a mature product's ideas.",
    "work.weight_core": "Judgement: most ideas improve the core product.",
    "work.weight_growth": "Judgement: growth experiments are a minority of ideas.",
    "work.strategy_focus": "Balanced baseline; 'time_to_value' is the habit-threshold strategy "
    "from PRODUCT.md.",
    "work.focus_bonus_z": "Judgement: a clear strategy moves a focus-kind idea about three-quarters "
    "of a standard deviation up the list.",
    "product.depreciation_per_week": "Judgement: a time constant of about 8 months — competitors "
    "and expectations erode what was built.",
    "product.reference_onboarding_points": "Calibrated: near the aligned baseline's steady state "
    "(30% of ~43 points/week over 3%/week depreciation).",
    "product.reference_core_points": "Calibrated as for onboarding (50% of the value flow).",
    "product.reference_growth_points": "Calibrated as for onboarding (20% of the value flow).",
    "product.old_epoch_value_share": "Judgement: after a pivot, a DVD-era feature keeps about a "
    "third of its worth to a streaming customer.",
    "customers.signups_per_week": "MODEL.md: hundreds of sign-ups a week.",
    "customers.churn_alpha": "Fader & Hardie (2007) sBG. Calibrated with beta: the aligned "
    "baseline's 52-week retention is about 35%.",
    "customers.churn_beta": "Fader & Hardie (2007) sBG; mean weekly churn propensity "
    "alpha / (alpha + beta) = 2.9%.",
    "customers.ttv_median_days": "Judgement: a product that delivers first value in about 10 days.",
    "customers.ttv_log_sd": "Judgement: most customers within a factor of 2 of the median.",
    "customers.onboarding_ttv_elasticity": "Judgement: a 10% stronger onboarding stock cuts "
    "time-to-value by about 8%.",
    "customers.habit_threshold_days": "Judgement: two weeks to first value is a common "
    "activation window in SaaS onboarding practice.",
    "customers.oversold_ttv_multiplier": "Judgement: a poor-fit customer needs workarounds.",
    "customers.not_activated_churn_multiplier": "Judgement: customers who never form the habit "
    "churn about twice as fast.",
    "customers.oversold_churn_multiplier": "Judgement: poor fit raises churn by 60%.",
    "customers.weak_core_churn_gain": "Judgement: a core stock 20% short of its reference raises "
    "churn by 30%.",
    "customers.growth_pull_elasticity": "Judgement: growth features help sign-ups with "
    "diminishing returns.",
    "customers.oversold_base_share": "Judgement: even aligned go-to-market misjudges a few "
    "customers.",
    "customers.sales_oversold_gain": "Judgement: sales fully drifted to bookings (alignment 0.3, "
    "0.6 below the anchor) oversells about four customers in ten.",
    "customers.marketing_oversold_gain": "Judgement: campaign volume brings some poor-fit leads.",
    "customers.sales_push_gain": "Judgement: sales fully drifted to bookings brings about a third "
    "more sign-ups (P4).",
    "customers.marketing_push_gain": "Judgement: campaign volume adds some sign-ups.",
    "customers.revenue_per_customer_week": "Judgement: about 100 $ a month per customer.",
    "market.shift_enabled": "Off in the baseline; the pivot scenario turns it on.",
    "market.shift_week": "MODEL.md: the pivot preset shifts at week 30.",
    "market.signal_share": "Judgement: before re-aiming, most new ideas come from the old picture "
    "of the market; customers' requests bring some of the new.",
    "market.demand_shock_enabled": "Off in the baseline; the demand-shock scenario turns it on.",
    "market.demand_shock_week": "Judgement: mid-horizon, after a year of stable operation.",
    "market.demand_shock_depth": "Judgement: a collapse like travel bookings in spring 2020.",
    "market.demand_shock_recovery_weeks": "Judgement: half a year to recover.",
    "market.demand_shock_shifts_epoch": "A demand shock usually changes what customers need, too.",
}
