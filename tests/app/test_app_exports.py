"""CSV exports and cached runs, called directly (Streamlit's caches work without a server)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

import sim.runner
from app import compute
from app.state import canonical, from_canonical
from sim.outcomes import KPI_NAMES, SERIES_NAMES


def test_band_and_kpi_csvs_have_the_expected_columns():
    settings = canonical({"incentives.sales": "mixed"})
    runs = [("variant", "Sales on a mixed scorecard", compute.view(settings, 3, 4, 80))]
    bands = pd.read_csv(io.StringIO(compute.bands_csv(runs, 80)))
    assert list(bands.columns) == list(compute.BAND_COLUMNS)
    assert set(SERIES_NAMES) <= set(bands["metric"])
    assert "retention_by_age" in set(bands["metric"])
    assert (bands["band_percent"] == 80).all()
    kpis = pd.read_csv(io.StringIO(compute.kpis_csv(runs)))
    assert list(kpis.columns) == ["role", "scenario", "replication", *KPI_NAMES]
    assert list(kpis["replication"]) == [0, 1, 2, 3]
    assert (kpis["scenario"] == "Sales on a mixed scorecard").all()


def test_cached_results_are_reused_and_reproducible(monkeypatch):
    calls = []
    real = sim.runner.run_many

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.runner, "run_many", counting)
    settings = canonical({"reviews.council.interval_weeks": 3.0})
    a = compute.results(settings, 9, 3)
    b = compute.results(settings, 9, 3)
    assert len(calls) == 1
    assert np.array_equal(a.kpi_values, b.kpi_values, equal_nan=True)
    fresh = real(from_canonical(settings), 3, 9)
    assert np.array_equal(a.kpi_values, fresh.kpi_values, equal_nan=True)
    compute.results(settings, 10, 3)
    assert len(calls) == 2
    assert compute.run_id(settings, 9, 3) != compute.run_id(settings, 10, 3)
