"""Backtest: actual outcomes read from a CSV, placed in the forecast distribution, and bad files refused."""
import numpy as np
import pytest
from scipy import stats

import fsp_risk
from fsp_risk import ConfigError
from fsp_risk.analysis.backtest import backtest_table, percentile_of
from fsp_risk.app import cli
from fsp_risk.config.actuals import parse_actuals

ACTUALS = "configs/actuals/oxfordshire-children-in-care.csv"


def test_percentile_of_an_actual_agrees_with_scipy():
    rng = np.random.default_rng(1)
    values = np.round(rng.normal(100, 10, 5_001))  # ties on purpose
    for actual in (70.0, 95.0, 100.0, 100.5, 130.0):
        assert percentile_of(values, actual) == pytest.approx(stats.percentileofscore(values, actual, kind="mean"))


def test_backtest_places_each_actual_in_its_forecast(config_2019):
    ds = fsp_risk.simulate(config_2019, iterations=4_000, seed=3)
    text = "year,measure,value\n2022/23,lac,882\n2023/24,net_savings,\"£-1,000\"\n"
    table = backtest_table(ds, config_2019, parse_actuals(text, config_2019)).set_index(["year", "measure"])
    lac = ds["lac_fsp"].sel(year="2022/23").values
    row = table.loc[("2022/23", "lac")]
    assert row["percentile"] == pytest.approx(100 * (lac < 882).mean(), abs=0.01)
    assert row["forecast_p50"] == pytest.approx(np.percentile(lac, 50))
    assert row["within_p10_p90"] == bool(np.percentile(lac, 10) <= 882 <= np.percentile(lac, 90))
    money = ds["net_savings"].sel(year="2023/24").values
    assert table.loc[("2023/24", "net_savings"), "actual"] == -1000
    assert table.loc[("2023/24", "net_savings"), "percentile"] == pytest.approx(100 * (money < -1000).mean(), abs=0.01)


def test_run_with_actuals_overlays_and_reports_them(tmp_path):
    args = ["run", "configs/oxfordshire-2019-business-case.yaml", "--iterations", "2000", "--actuals", ACTUALS,
            "--out", str(tmp_path)]
    assert cli.main(args) == 0
    folder = next(tmp_path.iterdir())
    backtest = (folder / "backtest.csv").read_text()
    assert backtest.startswith("year,positive_means,measure,title,actual,forecast_p10,forecast_p50,forecast_p90,percentile")
    findings = (folder / "findings.md").read_text()
    assert "Backtest: " in findings and "percentile of the forecast" in findings
    assert "Actuals: 2022/23 actual 882 at the" in findings  # alt text of the children-in-care chart
    # The actuals travel in results.nc, so 'fsp-risk report' rebuilds the backtest too.
    (folder / "backtest.csv").unlink()
    assert cli.main(["report", str(folder)]) == 0
    assert (folder / "backtest.csv").read_text() == backtest


BAD = [
    ("missing column", "year,measure\n2022/23,lac\n",
     "header: expected the columns year, measure, value (and optionally source, note); missing 'value'"),
    ("unknown column", "year,measure,value,sorce\n2022/23,lac,1,x\n",
     "header: unknown column 'sorce' (did you mean 'source'?); expected year, measure, value, source, note"),
    ("no rows", "year,measure,value\n", "expected at least one actual below the header row"),
    ("empty file", "", "expected a header row with the columns year, measure, value"),
    ("non-numeric value", "year,measure,value\n2022/23,lac,many\n", "row 2.value: expected a number, got 'many'"),
    ("infinite value", "year,measure,value\n2022/23,lac,inf\n", "row 2.value: expected a number, got 'inf'"),
    ("negative count", "year,measure,value\n2022/23,lac,-3\n",
     "row 2.value: expected a count of children from 0 to 10,000,000, got '-3'"),
    ("absurd count", "year,measure,value\n2022/23,lac,1e308\n",
     "row 2.value: expected a count of children from 0 to 10,000,000, got '1e308'"),
    ("absurd money", "year,measure,value\n2022/23,net_savings,-1e300\n",
     "row 2.value: expected an amount within ±£10,000,000,000, got '-1e300'"),
    ("a column given twice", "year,measure,value,value\n2022/23,lac,800,900\n",
     "header: the column 'value' is given twice; expected each column once"),
    ("year outside the horizon", "year,measure,value\n2030/31,lac,800\n",
     "row 2.year: expected one of the config's years (2019/20 to 2025/26), got '2030/31'"),
    ("year written as a date", "year,measure,value\n2023-03-31,lac,800\n",
     "row 2.year: expected one of the config's years (2019/20 to 2025/26), got '2023-03-31'"),
    ("misspelt measure", "year,measure,value\n2022/23,lac,1\n2022/23,lacc,800\n",
     "row 3.measure: unknown measure 'lacc' (did you mean 'lac'?); expected one of lac, cp, open_cases, net_savings, "
     "net_change_to_mtfp"),
    ("duplicate", "year,measure,value\n2022/23,lac,800\n2022/23,lac,801\n",
     "row 3: expected one value per year and measure; 2022/23 lac is also on row 2"),
    ("extra field", "year,measure,value\n2022/23,lac,800,oops\n", "row 2: expected 3 fields as in the header, got more"),
]


@pytest.mark.parametrize("case,text,message", BAD, ids=[c[0] for c in BAD])
def test_bad_actuals_are_refused_before_any_simulation(tmp_path, capsys, case, text, message):
    path = tmp_path / "actuals.csv"
    path.write_text(text)
    out = tmp_path / "out"
    args = ["run", "configs/oxfordshire-2019-business-case.yaml", "--iterations", "100", "--actuals", str(path),
            "--out", str(out)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err == f"fsp-risk: error: {path}: {message}\n"
    assert not out.exists()  # refused before any work: no run folder, not even the outputs folder


def test_missing_actuals_file(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert cli.main(["run", "--iterations", "100", "--actuals", str(missing), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err == f"fsp-risk: error: {missing}: actuals file not found\n"


def test_parse_error_is_a_config_error(config_2019):
    with pytest.raises(ConfigError):
        parse_actuals("year,measure,value\n2019/20,lac,x\n", config_2019, "a.csv")
