"""Running statistics: folding blocks equals computing on everything at once; NaN is left out."""

import numpy as np
import pytest

from sim.explore.stats import Moments


def test_blockwise_moments_match_the_whole_sample():
    rng = np.random.default_rng(4)
    x = rng.normal(5.0, 2.0, size=(37, 3, 2))
    m = Moments((3, 2))
    for a, b in ((0, 5), (5, 6), (6, 30), (30, 37)):
        m.add(x[a:b])
    assert np.allclose(m.values, x.mean(axis=0), rtol=1e-13)
    assert np.allclose(m.sd, x.std(axis=0, ddof=1), rtol=1e-12)
    assert np.allclose(m.se, x.std(axis=0, ddof=1) / np.sqrt(37), rtol=1e-12)
    lo, hi = m.ci(0.95)
    assert np.all(lo < m.values) and np.all(hi > m.values)


def test_nan_is_left_out_and_counted():
    m = Moments((2,))
    m.add(np.array([[1.0, np.nan], [3.0, np.nan]]))
    m.add(np.array([[5.0, 2.0]]))
    assert m.count.tolist() == [3, 1]
    assert m.values[0] == pytest.approx(3.0) and m.values[1] == pytest.approx(2.0)
    assert np.isnan(m.sd[1]) and m.summary(1)["sd"] is None
    empty = Moments((1,))
    empty.add(np.array([[np.nan]]))
    assert np.isnan(empty.values[0]) and empty.summary(0)["mean"] is None


def test_add_at_one_row_and_along_another_axis():
    m = Moments((2, 3))
    block = np.arange(12.0).reshape(3, 4)  # 3 outputs x 4 observations
    m.add(block, axis=1, at=1)
    assert m.count[0].sum() == 0
    assert np.allclose(m.values[1], block.mean(axis=1))
