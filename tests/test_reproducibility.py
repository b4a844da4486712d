"""Same config and seed give the same numbers; streams do not depend on how the run is cut up."""
import numpy as np
import pytest
import xarray as xr

import fsp_risk
from fsp_risk.engine.sampling import BLOCK


@pytest.mark.parametrize("sampler", ["mc", "lhs"])
def test_same_seed_identical_dataset(config_2024, sampler):
    a = fsp_risk.simulate(config_2024, iterations=3_000, seed=42, sampler=sampler)
    b = fsp_risk.simulate(config_2024, iterations=3_000, seed=42, sampler=sampler)
    xr.testing.assert_identical(a, b)


def test_different_seed_differs(config_2024):
    a = fsp_risk.simulate(config_2024, iterations=2_000, seed=1)
    b = fsp_risk.simulate(config_2024, iterations=2_000, seed=2)
    assert not np.array_equal(a["net_change_to_mtfp"].values, b["net_change_to_mtfp"].values)


def test_first_block_does_not_depend_on_run_length(config_2019):
    # Blocks are seeded by position, so a longer run starts with exactly the shorter run's numbers.
    short = fsp_risk.simulate(config_2019, iterations=1_000, seed=9)
    long = fsp_risk.simulate(config_2019, iterations=BLOCK + 500, seed=9)
    xr.testing.assert_equal(short["net_change_to_mtfp"], long["net_change_to_mtfp"].isel(iteration=slice(0, 1_000)))


def test_whole_blocks_do_not_depend_on_run_length_with_correlated_inputs(config_2024):
    # Iman-Conover re-orders within a block, so with a correlation matrix the guarantee is per whole block.
    assert config_2024.correlation is not None
    one = fsp_risk.simulate(config_2024, iterations=BLOCK, seed=9)
    more = fsp_risk.simulate(config_2024, iterations=BLOCK + 500, seed=9)
    xr.testing.assert_equal(one["net_change_to_mtfp"], more["net_change_to_mtfp"].isel(iteration=slice(0, BLOCK)))


def test_provenance_in_attrs(config_2024):
    ds = fsp_risk.simulate(config_2024, iterations=100, seed=5, sampler="lhs")
    assert ds.attrs["seed"] == 5 and ds.attrs["sampler"] == "lhs" and ds.attrs["iterations"] == 100
    assert ds.attrs["config_text"] == config_2024.text
    assert ds.attrs["config_sha256"] == config_2024.sha256
    assert ds.attrs["version_numpy"] == np.__version__
    assert set(ds.dims) == {"iteration", "year", "line", "risk"}


def test_lhs_mean_closer_than_mc_across_seeds(config_2024):
    # LHS stratifies each input, so the mean of a smooth output varies less across seeds.
    exact = fsp_risk.simulate(config_2024, iterations=200_000, seed=0, sampler="lhs")["placement_cost_avoidance"].mean().item()
    err = {}
    for sampler in ("mc", "lhs"):
        means = [fsp_risk.simulate(config_2024, iterations=2_000, seed=s, sampler=sampler)["placement_cost_avoidance"].mean().item()
                 for s in range(10, 20)]
        err[sampler] = np.sqrt(np.mean((np.array(means) - exact) ** 2))
    assert err["lhs"] < err["mc"]


def test_outputs_finite_and_counts_nonnegative(config_2019):
    ds = fsp_risk.simulate(config_2019, iterations=5_000, seed=8)
    for name, var in ds.data_vars.items():
        assert np.isfinite(var.values).all(), name
    for name in ("lac_as_is", "lac_fsp", "cp_as_is", "cp_fsp", "open_cases_as_is", "open_cases_fsp"):
        assert (ds[name] >= 0).all(), name
    assert ((ds["effect_fraction"] >= 0) & (ds["effect_fraction"] <= 1)).all()


@pytest.mark.parametrize("sampler", ["mc", "lhs", "sobol"])
def test_any_number_of_workers_gives_identical_results(config_2024, sampler):
    from fsp_risk.engine.simulate import net_change_totals
    from fsp_risk.engine.scenarios import simulate_scenarios

    n = 2 * BLOCK + 1_000  # three blocks, the last one partial
    one = fsp_risk.simulate(config_2024, iterations=n, seed=4, sampler=sampler, workers=1)
    two = fsp_risk.simulate(config_2024, iterations=n, seed=4, sampler=sampler, workers=2)
    three = fsp_risk.simulate(config_2024, iterations=n, seed=4, sampler=sampler, workers=3)
    xr.testing.assert_identical(one, two)
    xr.testing.assert_identical(one, three)
    np.testing.assert_array_equal(net_change_totals(config_2024, n, 4, sampler, workers=1),
                                  net_change_totals(config_2024, n, 4, sampler, workers=2))
    np.testing.assert_array_equal(one["net_change_to_mtfp"].sum("year").values,
                                  net_change_totals(config_2024, n, 4, sampler, workers=2))
    if sampler == "mc":
        xr.testing.assert_identical(simulate_scenarios(config_2024, n, 4, sampler, workers=1),
                                    simulate_scenarios(config_2024, n, 4, sampler, workers=2))


def test_results_written_block_by_block_to_a_file_equal_the_in_memory_run(config_2024, tmp_path):
    from fsp_risk.engine.scenarios import simulate_scenarios

    n = BLOCK + 2_000
    memory = fsp_risk.simulate(config_2024, iterations=n, seed=6)
    with fsp_risk.simulate(config_2024, iterations=n, seed=6, path=tmp_path / "r.nc", workers=2) as on_disk:
        xr.testing.assert_identical(memory, on_disk.load())
    with simulate_scenarios(config_2024, n, 6, "mc", path=tmp_path / "s.nc") as on_disk:
        xr.testing.assert_identical(simulate_scenarios(config_2024, n, 6, "mc"), on_disk.load())


@pytest.mark.compressed
def test_results_files_are_compressed_without_loss(config_2024, tmp_path):
    # A run's results.nc is zlib-compressed in chunks of one block (a block fills whole chunks), smaller
    # than the raw arrays, and reads back bitwise equal to the in-memory run.
    import netCDF4


    path = tmp_path / "results.nc"
    fsp_risk.simulate(config_2024, iterations=BLOCK + 1_000, seed=9, path=path).close()
    with netCDF4.Dataset(path) as nc:
        var = nc["net_change_by_line"]
        assert var.filters()["zlib"] and var.filters()["shuffle"]
        assert var.chunking()[0] == BLOCK
    raw = sum(v.nbytes for v in fsp_risk.simulate(config_2024, iterations=BLOCK + 1_000, seed=9).data_vars.values())
    assert path.stat().st_size < 0.8 * raw
    with xr.open_dataset(path) as stored:
        xr.testing.assert_identical(stored.load(), fsp_risk.simulate(config_2024, iterations=BLOCK + 1_000, seed=9))
