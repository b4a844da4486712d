"""Correlated inputs: Iman–Conover rank correlations between inputs, persistence through time, bad matrices."""
import copy
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import spearmanr

import fsp_risk
from fsp_risk import ConfigError
from fsp_risk.engine.sampling import (block_input_uniforms, iman_conover, input_uniforms, resolve_sampler,
                               year_to_year_uniforms)

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
BASE = yaml.safe_load((CONFIGS / "oxfordshire-2024-commissioning.yaml").read_text())
NAMES = ["demand_growth_multiplier", "placement_inflation", "unit_cost_residential", "pay_award"]
TARGET = [[1.0, 0.5, 0.3, 0.0],
          [0.5, 1.0, 0.6, 0.2],
          [0.3, 0.6, 1.0, -0.4],
          [0.0, 0.2, -0.4, 1.0]]


def config_with(tmp_path, section=None, change=None, name="corr.yaml"):
    data = copy.deepcopy(BASE)
    if section is not None:
        data["correlation"] = section
    if change is not None:
        change(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return fsp_risk.load_config(path)


def uncorrelated(tmp_path):
    return config_with(tmp_path, change=lambda d: d.pop("correlation"), name="plain.yaml")


def section(names=NAMES, matrix=TARGET, **extra):
    return {"inputs": list(names), "matrix": [list(r) for r in matrix], "source": "test", **extra}


@pytest.mark.parametrize("sampler", ["mc", "lhs", "sobol"])
def test_iman_conover_keeps_marginals_and_hits_target_rank_correlations(tmp_path, sampler):
    config = config_with(tmp_path, section())
    plain = uncorrelated(tmp_path)
    n = 65_536
    corr = block_input_uniforms(config, 7, 0, n, resolve_sampler(config, sampler))
    free = block_input_uniforms(plain, 7, 0, n, resolve_sampler(plain, sampler))
    for name in NAMES:
        # Only re-ordered: the same values, so every marginal (and LHS / Sobol' stratification) is exact.
        np.testing.assert_array_equal(np.sort(corr[name], axis=0), np.sort(free[name], axis=0))
        # Rows move whole: a per-year input's years stay together.
        assert {tuple(r) for r in corr[name][:50]} <= {tuple(r) for r in free[name]}
    levels = np.column_stack([corr[name].mean(axis=1) for name in NAMES])
    achieved = spearmanr(levels).statistic
    np.testing.assert_allclose(achieved, TARGET, atol=0.02)
    # Without a matrix the same inputs are independent.
    assert np.abs(spearmanr(np.column_stack([free[name].mean(axis=1) for name in NAMES])).statistic
                  - np.eye(4)).max() < 0.02


def test_iman_conover_on_a_known_case():
    rng = np.random.default_rng(1)
    keys = rng.random((20_000, 2))
    target = 2 * np.sin(np.pi * np.array([[1, -0.7], [-0.7, 1]]) / 6)
    idx = iman_conover(keys, target)
    out = np.take_along_axis(keys, idx, axis=0)
    assert spearmanr(out[:, 0], out[:, 1]).statistic == pytest.approx(-0.7, abs=0.01)
    np.testing.assert_array_equal(np.sort(out, axis=0), np.sort(keys, axis=0))
    # A perfectly correlated (singular) target still works: the two columns take the same rank order.
    idx = iman_conover(keys, np.ones((2, 2)))
    out = np.take_along_axis(keys, idx, axis=0)
    assert spearmanr(out[:, 0], out[:, 1]).statistic == pytest.approx(1.0)


def test_the_same_seed_gives_the_same_correlated_run(tmp_path):
    config = config_with(tmp_path, section())
    a = fsp_risk.simulate(config, iterations=3_000, seed=5)
    b = fsp_risk.simulate(config, iterations=3_000, seed=5)
    np.testing.assert_array_equal(a["net_change_to_mtfp"].values, b["net_change_to_mtfp"].values)
    c = fsp_risk.simulate(config, iterations=3_000, seed=6)
    assert not np.array_equal(a["net_change_to_mtfp"].values, c["net_change_to_mtfp"].values)


def test_demand_and_unit_cost_correlation_moves_the_model(tmp_path):
    # Demand growth and placement inflation rising together widen the spread of placement costs.
    config = config_with(tmp_path, section(NAMES[:2], [[1, 0.8], [0.8, 1]]))
    plain = uncorrelated(tmp_path)
    ds_c = fsp_risk.simulate(config, iterations=20_000, seed=3)
    ds_p = fsp_risk.simulate(plain, iterations=20_000, seed=3)
    var = "placement_budget_variance"
    spread = lambda ds: float(ds[var].sum("year").quantile(0.9) - ds[var].sum("year").quantile(0.1))
    assert spread(ds_c) > spread(ds_p)


def test_year_to_year_persistence():
    rng = np.random.default_rng(2)
    u = year_to_year_uniforms(rng.random((100_000, 5)), 0.6)
    # Marginals stay uniform; lag-k normal-score correlation is 0.6**k, i.e. rank correlation
    # (6/pi) asin(rho/2).
    assert np.abs(np.quantile(u[:, 4], [0.1, 0.5, 0.9]) - [0.1, 0.5, 0.9]).max() < 0.01
    rs = spearmanr(u).statistic
    for k in (1, 2, 3):
        expected = 6 / np.pi * np.arcsin(0.6**k / 2)
        assert rs[0, k] == pytest.approx(expected, abs=0.01)


def test_year_to_year_in_a_config(tmp_path):
    def persist(d):
        d["inputs"]["pay_award"]["year_to_year"] = {"value": 0.7, "source": "test"}
    config = config_with(tmp_path, change=persist)
    item = config.inputs["pay_award"]
    assert item.year_to_year == 0.7
    u = input_uniforms(item, 1, [(0, 50_000)], len(config.years), "mc")
    assert spearmanr(u[:, 0], u[:, 1]).statistic == pytest.approx(6 / np.pi * np.arcsin(0.35), abs=0.015)


BAD = [
    ("not symmetric", section(matrix=[[1, 0.5, 0.3, 0], [0.4, 1, 0.6, 0.2], [0.3, 0.6, 1, -0.4], [0, 0.2, -0.4, 1]]),
     "correlation.matrix[0][1]: expected a symmetric matrix: demand_growth_multiplier with placement_inflation is "
     "0.5 but placement_inflation with demand_growth_multiplier is 0.4 (matrix[1][0])"),
    ("entry above 1", section(NAMES[:2], [[1, 1.2], [1.2, 1]]),
     "correlation.matrix[0][1]: expected a correlation within [-1, 1], got 1.2"),
    ("diagonal not 1", section(NAMES[:2], [[0.9, 0.2], [0.2, 1]]),
     "correlation.matrix[0][0]: expected 1 on the diagonal (an input's correlation with itself), got 0.9"),
    ("not square", section(NAMES[:2], [[1, 0.2]]),
     "correlation.matrix: expected a 2 x 2 matrix (a list of 2 rows of 2 numbers, in the order of 'inputs')"),
    ("not a number", section(NAMES[:2], [[1, "high"], ["high", 1]]),
     "correlation.matrix[0][1]: expected a number, got 'high' (a text)"),
    ("not PSD", section(NAMES[:3], [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]),
     "correlation.matrix: rejected: the matrix is not positive semi-definite (smallest eigenvalue -0.8"),
    ("unknown input", section(["demand_growth_multipler", "placement_inflation"], [[1, 0.2], [0.2, 1]]),
     "correlation.inputs[0]: unknown input 'demand_growth_multipler' (did you mean 'demand_growth_multiplier'?)"),
    ("repeated input", section(["placement_inflation", "placement_inflation"], [[1, 0.2], [0.2, 1]]),
     "correlation.inputs[1]: input 'placement_inflation' is listed twice"),
    ("fixed input", section(["cost_cv_fostering", "placement_inflation"], [[1, 0.2], [0.2, 1]]),
     "correlation.inputs[0]: input 'cost_cv_fostering' is fixed at 0.3; a fixed input cannot be correlated"),
    ("input on a driver", section(["public_health_replaced", "placement_inflation"], [[1, 0.2], [0.2, 1]]),
     "correlation.inputs[0]: input 'public_health_replaced' already loads on the common driver "
     "'partner_funding_climate'; an input takes its correlation from a driver or from this matrix, not both"),
    ("one input", section(NAMES[:1], [[1]]), "correlation.inputs: expected a list of at least two input names"),
    ("no source", {k: v for k, v in section().items() if k != "source"}, "correlation.source: required field is missing"),
]


@pytest.mark.parametrize("label, bad, message", BAD, ids=[b[0] for b in BAD])
def test_bad_matrices_are_refused_with_their_message(tmp_path, label, bad, message):
    with pytest.raises(ConfigError) as err:
        config_with(tmp_path, bad, name="bad.yaml")
    assert str(err.value).startswith(str(tmp_path / "bad.yaml") + ": " + message)


def test_year_to_year_on_a_single_value_input_is_refused(tmp_path):
    def bad(d):
        d["inputs"]["placement_inflation"]["year_to_year"] = {"value": 0.5, "source": "test"}
    with pytest.raises(ConfigError, match=r"inputs\.placement_inflation\.year_to_year: only a per_year input"):
        config_with(tmp_path, change=bad)

    def too_big(d):
        d["inputs"]["pay_award"]["year_to_year"] = {"value": 1.0, "source": "test"}
    with pytest.raises(ConfigError, match=r"year_to_year\.value: expected a correlation strictly between -1 and 1"):
        config_with(tmp_path, change=too_big)


def test_a_non_psd_matrix_is_repaired_when_asked_and_says_so(tmp_path):
    bad = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]
    config = config_with(tmp_path, section(NAMES[:3], bad, repair=True))
    corr = config.correlation
    assert corr.repaired.startswith("repaired: the matrix was not positive semi-definite (smallest eigenvalue -0.8")
    assert np.linalg.eigvalsh(corr.normal).min() > 0
    np.testing.assert_allclose(np.diag(corr.rank), 1.0)
    np.testing.assert_allclose(corr.rank, np.transpose(corr.rank))
    # The repair moves the matrix as little as it can: signs kept, no entry further than it has to go.
    assert np.all(np.sign(corr.rank) == np.sign(bad))
    ds = fsp_risk.simulate(config, iterations=2_000, seed=1)
    assert np.isfinite(ds["net_change_to_mtfp"].values).all()
