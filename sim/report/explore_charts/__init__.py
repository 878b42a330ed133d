"""Pure chart and table builders for experiments: sweeps, sensitivity, attribution, optimisation.

Frames from :mod:`sim.explore` in, Altair charts (and text tables) out — no Streamlit, so every chart
can be tested without a server and drawn anywhere:

* :func:`sweep_line_chart` — one lever: the mean of a KPI at each grid point with its 95% confidence
  band (a line over a numeric lever, dots with interval bars over listed values);
* :func:`sweep_heatmap` — two levers: a cell per grid point coloured by the KPI's mean, brighter where
  the KPI is better;
* :func:`sensitivity_chart` — levers ranked by Morris μ* or Sobol total index, with intervals;
* :func:`waterfall_chart` — baseline, each lever's Shapley contribution, variant;
* :func:`candidates_chart` — an optimisation's candidates, best first, with intervals and the starting
  point drawn as a reference line.

Every chart names its units on the axes, carries tooltips with formatted numbers, and uses mid-tone
colours that read on light and dark backgrounds (text colours are left to the theme, except labels
inside heatmap cells, which follow the cell's brightness). Each chart has a ``describe_*`` sentence for
readers who cannot see it, and a ``*_table`` of formatted text for the table view.
"""

from sim.report.explore_charts.attribution import attribution_table, waterfall_chart
from sim.report.explore_charts.common import (
    BETTER_COLOR,
    HEIGHT,
    SECOND_COLOR,
    STAGE_COLORS,
    WATERFALL_HEIGHT,
    WORSE_COLOR,
    axis_format,
    kpi_label,
    kpi_title,
    kpi_unit,
    lever_title,
    value_text,
)
from sim.report.explore_charts.optimisation import (
    candidates_chart,
    candidates_table,
    constraint_text,
    describe_candidates,
    winner_table,
)
from sim.report.explore_charts.sensitivity import (
    describe_sensitivity,
    sensitivity_chart,
    sensitivity_index_title,
    sensitivity_table,
    sobol_caution,
)
from sim.report.explore_charts.sweep import (
    describe_sweep,
    geometric,
    sweep_chart,
    sweep_heatmap,
    sweep_line_chart,
    sweep_table,
)

__all__ = [
    "BETTER_COLOR",
    "HEIGHT",
    "SECOND_COLOR",
    "STAGE_COLORS",
    "WATERFALL_HEIGHT",
    "WORSE_COLOR",
    "attribution_table",
    "axis_format",
    "candidates_chart",
    "candidates_table",
    "constraint_text",
    "describe_candidates",
    "describe_sensitivity",
    "describe_sweep",
    "geometric",
    "kpi_label",
    "kpi_title",
    "kpi_unit",
    "lever_title",
    "sensitivity_chart",
    "sensitivity_index_title",
    "sensitivity_table",
    "sobol_caution",
    "sweep_chart",
    "sweep_heatmap",
    "sweep_line_chart",
    "sweep_table",
    "value_text",
    "waterfall_chart",
    "winner_table",
]
