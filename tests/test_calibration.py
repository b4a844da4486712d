"""The demand calibration: the fit recovers known parameters, and the fitted model's ranges hold up
against the published history of twelve councils (a test history can fail)."""
import numpy as np
import pandas as pd
import pytest

from fsp_risk.analysis import calibrate
from fsp_risk.config.history import read_history
from fsp_risk.errors import ConfigError


def _history(series_by_council: dict[str, np.ndarray], measure: str, first: int = 2010) -> dict[str, pd.Series]:
    return {c: pd.Series(v, index=range(first, first + len(v)), name=measure) for c, v in series_by_council.items()}


def test_log_variance_matches_an_ar1_simulated_by_hand():
    rng = np.random.default_rng(1)
    sigma, rho, drift_sd, n = 0.2, 0.7, 0.03, 200_000
    x, d = np.zeros(n), rng.normal(0, drift_sd, n)
    for h in range(1, 4):
        x = rho * x + rng.normal(0, sigma, n)
        assert np.var(x + h * d) == pytest.approx(calibrate.log_variance(h, sigma, rho, drift_sd), rel=0.02)
    # A random walk's variance grows linearly, its drift's quadratically.
    assert calibrate.log_variance(3, 0.1, 1.0, 0.02) == pytest.approx(3 * 0.01 + 9 * 0.0004)


def test_the_fit_recovers_a_random_walk():
    rng = np.random.default_rng(2)
    walks = {f"c{k}": 500 * np.exp(np.cumsum(rng.normal(0, 0.08, 16))) for k in range(60)}
    sigma, rho, drift_sd = calibrate.fit_level(calibrate.forecast_errors(_history(walks, "lac")))
    assert sigma == pytest.approx(0.08, rel=0.1)
    assert rho > 0.9 and drift_sd < 0.02  # 16-year series bias rho down a little (as Dickey-Fuller's)
    # What matters downstream: the spread three years on is a random walk's, 3 sigma^2.
    assert calibrate.log_variance(3, sigma, rho, drift_sd) == pytest.approx(3 * 0.08**2, rel=0.2)


def test_the_fit_finds_mean_reversion():
    rng = np.random.default_rng(3)
    out = {}
    for k in range(60):
        x = np.zeros(16)
        for t in range(1, 16):
            x[t] = 0.6 * x[t - 1] + rng.normal(0, 0.25)
        out[f"c{k}"] = 300 * np.exp(x)
    sigma, rho, _ = calibrate.fit_level(calibrate.forecast_errors(_history(out, "cp")))
    assert 0.4 < rho < 0.8 and sigma == pytest.approx(0.25, rel=0.2)


@pytest.fixture(scope="module")
def shipped_hindcasts():
    history = read_history()
    return pd.concat([calibrate.hindcast(calibrate.series(history, m), m) for m in ("lac", "cp")])


@pytest.mark.parametrize("measure", ["lac", "cp"])
def test_one_year_ranges_hold_up_against_history(shipped_hindcasts, measure):
    table = calibrate.coverage_table(shipped_hindcasts).set_index(["measure", "h"])
    row = table.loc[(measure, 1)]
    assert row["hindcasts"] >= 40 and row["councils"] >= 8
    # 80% of outcomes should fall inside P10-P90; far fewer means the ranges are too narrow.
    assert 0.65 <= row["inside_p10_p90"] <= 0.95, row
    assert 0.35 <= row["inside_p25_p75"] <= 0.65, row
    # PIT values of a calibrated forecast are uniform: no tail holds much more than its share.
    pit = shipped_hindcasts.loc[(shipped_hindcasts["measure"] == measure) & (shipped_hindcasts["h"] == 1), "pit"]
    assert (pit < 0.1).mean() < 0.2 and (pit > 0.9).mean() < 0.2


def test_a_year_of_published_counts_can_move_by_more_than_ten_percent():
    # The reason for the whole exercise: Oxfordshire's count fell 12.7% in 2023/24, which a one-year P10-P90
    # of a few per cent would call all but impossible; the fitted model gives it a real chance.
    history = read_history()
    fit = calibrate.fit(calibrate.series(history, "lac"), "lac", n_boot=5)
    p_fall = float(calibrate.stats.norm.cdf(np.log(770 / 882) / fit.sd(1)))
    assert 0.02 < p_fall < 0.2
    assert 0.05 < fit.sigma < 0.1 and fit.sigma_se > 0


@pytest.mark.parametrize("text, message", [
    ("council,measure,march_year,value\nA,lac,2020,5\n", "header: expected the columns"),
    ("council,measure,march_year,value,source\nA,lac,2020,-5,s\n", "row 2.value: expected a count above 0, got '-5'"),
    ("council,measure,march_year,value,source\nA,lac,twenty,5,s\n", "row 2.march_year: expected a calendar year"),
    ("council,measure,march_year,value,source\nA,lac,2020,5,s\nA,lac,2020,6,s\n",
     "row 3: expected one value per council, measure and year; also on row 2"),
    ("council,measure,march_year,value,source\nA,lac,2020,5,\n", "row 2.source: expected the source of the value"),
])
def test_a_bad_history_file_is_refused_with_its_row(tmp_path, text, message):
    path = tmp_path / "history.csv"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_history(path)
