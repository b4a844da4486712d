"""Each distribution sampled by inverse CDF matches scipy's closed-form moments within Monte Carlo error."""
import numpy as np
import pytest
from scipy import stats

from fsp_risk.config.distributions import DistributionError, make_distribution

SPECS = [
    {"dist": "fixed", "value": 3.5},
    {"dist": "uniform", "low": 2, "high": 7},
    {"dist": "triangular", "low": 0, "mode": 2, "high": 10},
    {"dist": "pert", "low": 0.8, "mode": 0.95, "high": 1.0},
    {"dist": "pert", "low": 100, "mode": 150, "high": 400},
    {"dist": "normal", "mean": 10, "sd": 2},
    {"dist": "normal", "mean": 0.15, "sd": 0.05, "min": 0, "max": 0.3},
    {"dist": "lognormal", "mean": 300_000, "sd": 90_000},
    {"dist": "beta", "alpha": 2, "beta": 5},
    {"dist": "beta", "alpha": 0.5, "beta": 0.5, "low": 10, "high": 20},
    {"dist": "bernoulli", "p": 0.3},
    {"dist": "discrete", "values": [1, 2, 5], "probs": [0.2, 0.5, 0.3]},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["dist"] + "-" + "-".join(str(v) for k, v in s.items() if k != "dist"))
def test_sample_moments_match_closed_form(spec):
    dist = make_distribution(spec)
    n = 200_000
    x = dist.ppf(np.random.default_rng(11).random(n))
    mean, var = dist.mean(), dist.var()
    if var == 0:
        assert np.all(x == mean)
        return
    # 4.5 standard errors: a false failure about once in 150,000 runs.
    assert abs(x.mean() - mean) < 4.5 * np.sqrt(var / n)
    fourth = np.mean((x - x.mean()) ** 4)
    se_var = np.sqrt(max(fourth - var**2, 1e-300) / n)
    assert abs(x.var() - var) < 4.5 * se_var
    lo, hi = dist.support()
    assert x.min() >= lo and x.max() <= hi


def test_closed_forms_agree_with_scipy():
    pert = make_distribution({"dist": "pert", "low": 0, "mode": 3, "high": 10})
    # PERT mean (low + 4 mode + high) / 6 (Vose 2008).
    assert pert.mean() == pytest.approx((0 + 4 * 3 + 10) / 6)
    tri = make_distribution({"dist": "triangular", "low": 0, "mode": 3, "high": 10})
    assert tri.mean() == pytest.approx(13 / 3)
    logn = make_distribution({"dist": "lognormal", "mean": 5, "sd": 2})
    assert logn.mean() == pytest.approx(5) and logn.var() == pytest.approx(4)
    assert make_distribution({"dist": "bernoulli", "p": 0.3}).var() == pytest.approx(0.21)


def test_tabulated_ppf_matches_exact_ppf():
    dist = make_distribution({"dist": "pert", "low": 217_000, "mode": 318_400, "high": 450_000})
    u = np.random.default_rng(1).random(50_000)
    exact = stats.beta(*dist._frozen.args, **dist._frozen.kwds).ppf(u)
    assert np.max(np.abs(dist.ppf(u) - exact)) < 1e-6 * (450_000 - 217_000)


@pytest.mark.parametrize("kind", ["triangular", "pert"])
@pytest.mark.parametrize("pcts", [(10, 20, 35), (0.05, 0.10, 0.14), (100, 150, 200)])
def test_expert_percentiles_are_reproduced(kind, pcts):
    p10, p50, p90 = pcts
    dist = make_distribution({"dist": kind, "p10": p10, "p50": p50, "p90": p90})
    np.testing.assert_allclose(dist.ppf(np.array([0.1, 0.5, 0.9])), [p10, p50, p90], rtol=1e-6)


def test_impossible_percentiles_are_refused():
    # A triangular's (P90 - P50) / (P50 - P10) is at most 1.62 (mode at the low end): 2 cannot be met.
    with pytest.raises(DistributionError, match="no triangular distribution has P10=10, P50=20, P90=40"):
        make_distribution({"dist": "triangular", "p10": 10, "p50": 20, "p90": 40})


def test_central_values():
    assert make_distribution({"dist": "pert", "low": 0, "mode": 3, "high": 10}).central == 3
    assert make_distribution({"dist": "uniform", "low": 2, "high": 4}).central == 3
    assert make_distribution({"dist": "bernoulli", "p": 0.3}).central == 0
    assert make_distribution({"dist": "bernoulli", "p": 0.8}).central == 1
    assert make_distribution({"dist": "discrete", "values": [1, 2], "probs": [0.3, 0.7]}).central == 2
    assert make_distribution({"dist": "pert", "low": 0, "mode": 3, "high": 10, "central": 4}).central == 4


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"dist": "gamma", "shape": 2}, "dist: expected one of fixed, uniform"),
        ({"dist": "pertt", "low": 0}, "(did you mean 'pert'?)"),
        ({"dist": "normal", "mean": 1, "sd": 0}, "sd: expected a standard deviation > 0, got 0"),
        ({"dist": "normal", "mean": 1, "sd": -1}, "sd: expected a standard deviation > 0"),
        ({"dist": "triangular", "low": 5, "mode": 2, "high": 10}, "low, mode, high: expected low <= mode <= high"),
        ({"dist": "uniform", "low": 7, "high": 2}, "low, high: expected low < high, got low=7, high=2"),
        ({"dist": "beta", "alpha": 0, "beta": 2}, "alpha: expected a shape parameter > 0, got 0"),
        ({"dist": "bernoulli", "p": 1.2}, "p: expected a probability in [0, 1], got 1.2"),
        ({"dist": "discrete", "values": [1, 2], "probs": [0.5, 0.6]}, "probs: expected probabilities that sum to 1"),
        ({"dist": "pert", "p10": 5, "p50": 4, "p90": 9}, "p10, p50, p90: expected p10 < p50 < p90"),
        ({"dist": "pert", "low": 1, "mode": 2}, "high: required for a pert distribution"),
        ({"dist": "uniform", "low": 1, "high": 2, "mode": 3}, "mode: not a parameter of a uniform distribution"),
        ({"dist": "normal", "mean": "ten", "sd": 1}, "mean: expected a number, got 'ten'"),
        ({"dist": "pert", "low": 0, "mode": 1, "high": 2, "central": 5}, "central: expected a value within [0, 2]"),
    ],
)
def test_bad_parameters_are_named(spec, message):
    import re

    with pytest.raises(DistributionError, match=re.escape(message)):
        make_distribution(spec)


@pytest.mark.parametrize("spec", SPECS + [{"dist": "pert", "p10": 10, "p50": 20, "p90": 35, "central": 21},
                                          {"dist": "discrete", "values": [0, 1, 5], "probs": [0.2, 0.5, 0.3]}],
                         ids=lambda s: s["dist"])
def test_a_pickled_distribution_is_rebuilt_with_the_same_draws(spec):
    # Distributions travel to dask workers pickled as their parameters; the rebuilt one must draw the same.
    import pickle

    dist = make_distribution(spec)
    data = pickle.dumps(dist)
    back = pickle.loads(data)
    u = np.linspace(0, 1, 100_001)[1:-1]
    assert (back.kind, back.params, back.central) == (dist.kind, dist.params, dist.central)
    np.testing.assert_array_equal(back.ppf(u), dist.ppf(u))
    assert len(data) < 1_000
