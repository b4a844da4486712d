"""Summary statistics agree with numpy on the same arrays, and their standard errors are honest."""
import numpy as np
import pandas as pd
import pytest

import fsp_risk
from fsp_risk.analysis.summary import cumulative_table, percentiles_with_se, summary_table


@pytest.fixture(scope="module")
def run_2019(config_2019):
    return fsp_risk.simulate(config_2019, iterations=20_000, seed=21)


def test_summary_agrees_with_numpy(run_2019):
    table = summary_table(run_2019).set_index(["variable", "year"])
    net = run_2019["net_change_to_mtfp"]
    for year in ("2020/21", "2025/26"):
        values = net.sel(year=year).values
        row = table.loc[("net_change_to_mtfp", year)]
        np.testing.assert_allclose([row.p10, row.p50, row.p80_prudent, row.p90], np.percentile(values, [10, 50, 80, 90]),
                                   atol=0.01)
        assert row["mean"] == pytest.approx(values.mean(), abs=0.01)
        assert row.p_target_met == pytest.approx((values <= 0).mean(), abs=1e-4)  # rounded to 4 dp
        assert row.mean_shortfall == pytest.approx(np.maximum(values, 0).mean(), abs=0.01)
        assert row.contingency_p80 == pytest.approx(max(np.percentile(values, 80), 0), abs=0.01)
    total = net.sum("year").values
    row = table.loc[("net_change_to_mtfp", "total")]
    assert row.p80_prudent == pytest.approx(np.percentile(total, 80), abs=0.01)
    assert row.p_target_met == pytest.approx((total <= 0).mean(), abs=1e-4)  # rounded to 4 dp
    # A saving's prudent P80 is its 20th percentile (no worse than it in 80% of outcomes), reported positive
    # when money is saved; a pressure's is its 80th.
    savings = -run_2019["total_savings"].sum("year").values  # stored negative = saving
    row = table.loc[("total_savings", "total")]
    assert row.positive_means == "saving" and row["mean"] == pytest.approx(savings.mean(), abs=0.01) and row["mean"] > 0
    assert row.p80_prudent == pytest.approx(np.percentile(savings, 20), abs=0.01)
    net_savings = run_2019["net_savings"].sum("year").values
    row = table.loc[("net_savings", "total")]
    assert row.positive_means == "saving against the MTFP"
    assert (net_savings >= row.p80_prudent).mean() == pytest.approx(0.8, abs=0.001)
    assert row.p80_prudent == pytest.approx(-table.loc[("net_change_to_mtfp", "total"), "p80_prudent"], abs=0.02)


def test_cumulative_and_cumulative_target_agree_with_numpy(run_2019):
    table = cumulative_table(run_2019)
    table = table[table["basis"] == "cash"].set_index("year")
    cum = run_2019["net_savings"].cumsum("year")
    for year in ("2019/20", "2023/24", "2025/26"):
        values = cum.sel(year=year).values
        assert table.loc[year, "p_target_met_cumulative"] == pytest.approx((values >= 0).mean(), abs=1e-4)  # 4 dp
        assert table.loc[year, "p50"] == pytest.approx(np.percentile(values, 50), abs=0.01)
    # The plan falls £0.74m short in 2019/20 (paper 003): demand can make up for it in a year (the placement
    # budget is set on the plan), but less often than not.
    assert 0 < table.loc["2019/20", "p_target_met_cumulative"] < 0.5


def test_percentile_standard_errors_match_the_spread_across_seeds():
    # Normal(0, 1), n = 4,000: the P80's standard error is sqrt(q (1 - q) / n) / pdf(z_q) ~ 0.0217.
    rng = np.random.default_rng(0)
    estimates, ses = [], []
    for _ in range(200):
        est, se = percentiles_with_se(rng.standard_normal((4_000, 1)), (80,))
        estimates.append(est[0, 0])
        ses.append(se[0, 0])
    from scipy import stats

    theory = np.sqrt(0.8 * 0.2 / 4_000) / stats.norm.pdf(stats.norm.ppf(0.8))
    assert np.std(estimates) == pytest.approx(theory, rel=0.15)
    assert np.mean(ses) == pytest.approx(theory, rel=0.1)


def test_present_value_is_real_terms_discounted_at_the_green_book_rate(config_2019):
    # Central case: deflator 2% a year fixed, base year 2019/20, rate 3.5%: closed form per year.
    ds = fsp_risk.simulate(config_2019, deterministic=True)
    k = np.arange(ds.sizes["year"])
    expected = ds["net_savings"].values[0] / 1.02**k / 1.035**k
    np.testing.assert_allclose(ds["net_savings_pv"].values[0], expected, rtol=1e-12)
    assert ds.attrs["discount_rate"] == 0.035
    table = cumulative_table(ds)
    npv = table[(table["basis"] == "present value")].iloc[-1]
    assert npv["p50"] == pytest.approx(expected.sum(), abs=0.01)


def test_discount_rate_is_configurable(config_2019):
    text = config_2019.text.replace("  discount_rate:\n    value: 0.035\n", "  discount_rate:\n    value: 0.015\n", 1)
    assert text != config_2019.text
    config = fsp_risk.parse_config(text)
    assert config.price_base.discount_rate == 0.015
    ds = fsp_risk.simulate(config, deterministic=True)
    k = np.arange(ds.sizes["year"])
    np.testing.assert_allclose(ds["net_savings_pv"].values[0], ds["net_savings_real"].values[0] / 1.015**k)


def test_cost_avoidance_is_the_savings_that_are_not_cashable(config_2024):
    ds = fsp_risk.simulate(config_2024, iterations=2_000, seed=4)
    table = summary_table(ds).set_index(["variable", "year"])
    non_cashable = -(ds["total_savings"] - ds["cashable_savings"]).sum("year").values  # reported positive = saving
    assert table.loc[("cost_avoidance", "total"), "mean"] == pytest.approx(non_cashable.mean(), abs=0.01)
    # 2024 banks no placement savings (paper 000 para 34): all of it is cost avoidance.
    assert table.loc[("cashable_savings", "total"), "mean"] == 0
    assert table.loc[("cost_avoidance", "total"), "mean"] > 0


def test_reading_a_large_run_by_slices_matches_whole_arrays(config_2024, tmp_path, monkeypatch):
    import pandas as pd

    from fsp_risk.analysis import summary as analysis

    monkeypatch.setattr(analysis, "READ_ROWS", 1_000)  # several slices, the last one partial
    with fsp_risk.simulate(config_2024, iterations=3_500, seed=2, path=tmp_path / "r.nc") as ds:
        net = ds["net_change_to_mtfp"]
        np.testing.assert_allclose(analysis.horizon_total(net), net.values.sum(axis=1), rtol=1e-12)
        for j, column in enumerate(analysis.year_columns(net)):
            np.testing.assert_array_equal(column, net.values[:, j])
        risk = ds["risk_impact_residual"].transpose("iteration", "year", "risk")
        np.testing.assert_allclose(analysis.horizon_total(risk), risk.values.sum(axis=1), rtol=1e-12)
        in_memory = analysis.summary_table(ds.load())
        pd.testing.assert_frame_equal(analysis.summary_table(ds), in_memory)


def test_every_analysis_of_a_run_comes_from_data_alone(config_2024, tmp_path, monkeypatch):
    # analyse() needs the results (and the config to re-run what-ifs), never a file or a chart.
    from fsp_risk.analysis.run import analyse
    from fsp_risk.engine.scenarios import simulate_scenarios
    from fsp_risk.engine.store import read_tables, write_tables

    ds = fsp_risk.simulate(config_2024, iterations=3_000, seed=5)
    scen = simulate_scenarios(config_2024, 3_000, 5, "mc")
    monkeypatch.chdir(tmp_path)
    tables = analyse(ds, config_2024, scen)
    assert list(tmp_path.iterdir()) == []  # nothing written
    assert {"summary", "cumulative", "plan", "sensitivity", "grouped_sensitivity", "variance_sensitivity",
            "switching_values", "convergence",
            "value_for_money", "npv", "scenarios", "mtfp_improvement", "risk_register", "risk_portfolio"} == set(tables)
    # The plan is the central case's trajectory; the scenario table's base row is the run itself.
    lac = tables["plan"][tables["plan"]["measure"] == "lac"]
    assert list(lac["year"]) == list(config_2024.years) and (lac["planned"] > 0).all()
    base = tables["scenarios"].iloc[0]
    assert base["p80"] == pytest.approx(np.percentile(ds["net_change_to_mtfp"].sum("year"), 80))
    # Stored and read back exactly: what 'report' renders is what the run computed.
    write_tables(tmp_path / "analysis.nc", tables)
    back = read_tables(tmp_path / "analysis.nc")
    for name, table in tables.items():
        pd.testing.assert_frame_equal(back[name], table.reset_index(drop=True), check_exact=True)
