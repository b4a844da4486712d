"""Samplers: Latin hypercube and scrambled Sobol' estimate means more precisely than plain Monte Carlo."""
import numpy as np
import xarray as xr

import fsp_risk
from fsp_risk.engine.simulate import net_change_totals
from fsp_risk.engine.sampling import BLOCK, block_uniforms, resolve_sampler, sample_input, stream_layout


def exact_mean(dist) -> float:
    # E[X] = integral of the inverse CDF over (0, 1): midpoint rule on 2**20 points.
    u = (np.arange(2**20) + 0.5) / 2**20
    return float(dist.ppf(u).mean())


def test_sobol_and_lhs_estimate_a_known_mean_better_than_mc(config_2024):
    # f = A * B for two independent inputs of the assumption book: E[f] = E[A] E[B] exactly.
    a, b = config_2024.inputs["entry_reduction"], config_2024.inputs["unit_cost_residential"]
    exact = exact_mean(a.dist) * exact_mean(b.dist)
    n_years = len(config_2024.years)
    rmse = {}
    for sampler in ("mc", "lhs", "sobol"):
        errors = []
        for seed in range(20):  # across seeds, not one lucky draw
            design = resolve_sampler(config_2024, sampler)
            x = sample_input(a, seed, [(0, 4_096)], n_years, design)
            y = sample_input(b, seed, [(0, 4_096)], n_years, design)
            errors.append((x * y).mean() - exact)
        rmse[sampler] = np.sqrt(np.mean(np.square(errors)))
    assert rmse["lhs"] < rmse["mc"]
    assert rmse["sobol"] < rmse["mc"] / 4


def test_sobol_estimates_the_model_mean_better_than_mc(config_2024):
    reference = net_change_totals(config_2024, 262_144, 0, "sobol").mean()
    rmse = {}
    for sampler in ("mc", "sobol"):
        means = [net_change_totals(config_2024, 4_096, seed, sampler).mean() for seed in range(100, 112)]
        rmse[sampler] = np.sqrt(np.mean((np.array(means) - reference) ** 2))
    assert rmse["sobol"] < rmse["mc"] / 3  # measured: about 36 times smaller


def test_sobol_streams_are_stratified_and_independent(config_2024):
    design = resolve_sampler(config_2024, "sobol")
    n = 4_096
    u = block_uniforms(7, "input:entry_reduction", 0, n, 1, design)[:, 0]
    v = block_uniforms(7, "input:unit_cost_residential", 0, n, 1, design)[:, 0]
    # Each one-dimensional projection of a scrambled Sobol' net has one point in each 1/n interval.
    assert (np.bincount((u * n).astype(int), minlength=n) == 1).all()
    # Distinct streams are distinct coordinates of one design, not copies of one 1-D sequence.
    assert abs(np.corrcoef(u, v)[0, 1]) < 0.05
    two = np.histogram2d(u, v, bins=4, range=[[0, 1], [0, 1]])[0]
    assert (two == n / 16).all()  # a (0, m, 2)-net-like balance in the first two digits


def test_sobol_layout_covers_every_stream_the_model_draws(config_2019, config_2024):
    for config in (config_2019, config_2024):
        layout = stream_layout(config)
        assert len(set(layout)) == len(layout)
        ds = fsp_risk.simulate(config, iterations=1_000, seed=3, sampler="sobol")  # a KeyError if one is missing
        assert ds.attrs["sampler"] == "sobol"


def test_sobol_same_seed_identical_and_prefix_stable(config_2019):
    # (The 2019 config has no correlation matrix, which re-orders within a block.)
    a = fsp_risk.simulate(config_2019, iterations=3_000, seed=42, sampler="sobol")
    b = fsp_risk.simulate(config_2019, iterations=3_000, seed=42, sampler="sobol")
    xr.testing.assert_identical(a, b)
    long = fsp_risk.simulate(config_2019, iterations=BLOCK + 100, seed=42, sampler="sobol")
    xr.testing.assert_equal(a["net_change_to_mtfp"], long["net_change_to_mtfp"].isel(iteration=slice(0, 3_000)))


def test_cli_accepts_sobol(tmp_path):
    from fsp_risk.app import cli

    assert cli.main(["run", "--iterations", "2000", "--sampler", "sobol", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    assert "sampler sobol" in (folder / "findings.md").read_text()
