"""Calibrating the demand model on published history, and checking it against what happened.

The as-is path of a demand measure is the council's projection times a stochastic level: on the log
scale the level deviates from the projection as an AR(1) with year-to-year shocks,

    X_0 = 0,    X_t = rho * X_(t-1) + e_t,    e_t ~ N(0, sigma^2),    log level_t = X_t + t * d,

with ``d ~ N(0, drift_sd^2)`` the error in the projection's slope, drawn once per iteration. ``rho = 1``
is a random walk (a shock to the number of children in care persists); ``rho < 1`` pulls the count back
towards the projection (child protection plans, which councils' thresholds bring back). The variance of
the log count ``h`` years after a known count is

    v(h) = sigma^2 (1 - rho^(2h)) / (1 - rho^2) + h^2 drift_sd^2     (sigma^2 h + h^2 drift_sd^2 at rho = 1).

The parameters are fitted by maximum likelihood, pooled across councils, to the errors of the forecast
the model makes from every origin year of every council's published series: from the count at the
origin, reverting towards the mean of the last ``window`` years at rate ``rho``. Standard errors are
from a bootstrap over councils (the errors of one council's overlapping forecasts are not independent).

:func:`hindcast` is the check that history can fail: for each council and origin it forecasts one to
five years ahead with parameters fitted on the *other* councils and data up to the origin only, and
records where the outcome fell in the forecast distribution.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from fsp_risk.errors import ConfigError

#: Years of history the forecast reverts towards (the mean log count of the last WINDOW years).
WINDOW = 3
HORIZONS = (1, 2, 3, 4, 5)


def series(history: pd.DataFrame, measure: str) -> dict[str, pd.Series]:
    """Each council's counts of ``measure`` by 31 March year [children], only consecutive years kept
    (a series broken by a missing year is cut to its latest unbroken run)."""
    out = {}
    for council, rows in history[history["measure"] == measure].groupby("council"):
        s = rows.set_index("march_year")["value"].sort_index()
        breaks = np.flatnonzero(np.diff(s.index.to_numpy()) != 1)
        if breaks.size:
            s = s.iloc[breaks[-1] + 1:]
        out[str(council)] = s
    return out


# --------------------------------------------------------------------------- the level process
@dataclass(frozen=True)
class LevelFit:
    """Fitted parameters of a measure's stochastic level (log scale) and their bootstrap standard errors."""

    measure: str
    sigma: float
    persistence: float
    drift_sd: float
    sigma_se: float
    persistence_se: float
    drift_sd_se: float
    n_councils: int
    n_errors: int
    years: tuple[int, int]

    def sd(self, h) -> np.ndarray:
        """Standard deviation of the log count ``h`` years after a known count."""
        return np.sqrt(log_variance(np.asarray(h, dtype=float), self.sigma, self.persistence, self.drift_sd))


def log_variance(h, sigma: float, rho: float, drift_sd: float):
    """Variance of the log level ``h`` years after a known count (see the module docstring)."""
    h = np.asarray(h, dtype=float)
    if abs(1.0 - rho) < 1e-9:
        shocks = sigma**2 * h
    else:
        shocks = sigma**2 * (1.0 - rho ** (2 * h)) / (1.0 - rho**2)
    return shocks + (h * drift_sd) ** 2


def forecast_errors(by_council: dict[str, pd.Series], window: int = WINDOW, horizons=HORIZONS,
                    last_origin: int | None = None) -> pd.DataFrame:
    """Every forecast the model can make from the series: one row per council, origin year and horizon,
    with the log count at the origin (``y0``), the mean log count of the ``window`` years to the origin
    (``m``) and the log count ``h`` years on (``y``). Origins after ``last_origin`` are left out, and so
    are outcomes after it (a forecast made then could not have been checked yet)."""
    rows = []
    for council, s in by_council.items():
        years, logs = s.index.to_numpy(), np.log(s.to_numpy())
        for i in range(window - 1, len(logs)):
            if last_origin is not None and years[i] > last_origin:
                break
            m = logs[i - window + 1 : i + 1].mean()
            for h in horizons:
                if i + h < len(logs) and (last_origin is None or years[i + h] <= last_origin):
                    rows.append((council, int(years[i]), h, logs[i], m, logs[i + h]))
    return pd.DataFrame(rows, columns=["council", "origin", "h", "y0", "m", "y"])


def _unpack(p):
    return float(np.exp(p[0])), float(1.0 / (1.0 + np.exp(-p[1]))), float(np.exp(p[2]))


def _forecast_mean(y0, m, h, rho):
    return m + rho**h * (y0 - m)


def fit_level(errors: pd.DataFrame) -> tuple[float, float, float]:
    """(sigma, persistence, drift_sd) maximising the Gaussian likelihood of ``errors``
    (:func:`forecast_errors`), pooled."""
    h, y0, m, y = (errors[c].to_numpy(float) for c in ("h", "y0", "m", "y"))

    def nll(p):
        sigma, rho, drift = _unpack(p)
        v = log_variance(h, sigma, rho, drift) + 1e-12
        e = y - _forecast_mean(y0, m, h, rho)
        return 0.5 * np.sum(np.log(v) + e * e / v)

    best = None
    for start in ([np.log(0.1), 2.0, np.log(0.02)], [np.log(0.2), 0.0, np.log(0.005)], [np.log(0.05), 5.0, np.log(0.05)]):
        r = optimize.minimize(nll, start, method="Nelder-Mead",
                              options={"maxiter": 6000, "xatol": 1e-7, "fatol": 1e-9})
        if best is None or r.fun < best.fun:
            best = r
    return _unpack(best.x)


def fit(by_council: dict[str, pd.Series], measure: str, window: int = WINDOW, n_boot: int = 200,
        seed: int = 0) -> LevelFit:
    """Fit a measure's level process to every council's history, with standard errors from resampling
    councils (``n_boot`` bootstrap fits)."""
    errors = forecast_errors(by_council, window)
    if errors["council"].nunique() < 2 or len(errors) < 10:
        raise ConfigError(f"too little history of {measure!r} to fit ({len(errors)} forecasts from "
                          f"{errors['council'].nunique()} councils); expected at least 2 councils with "
                          f"{window + 1} or more consecutive years", path=f"measure {measure}")
    point = fit_level(errors)
    rng = np.random.default_rng(seed)
    councils = errors["council"].unique()
    groups = {c: g for c, g in errors.groupby("council")}
    boots = []
    for _ in range(n_boot):
        pick = rng.choice(councils, size=len(councils), replace=True)
        boots.append(fit_level(pd.concat([groups[c] for c in pick], ignore_index=True)))
    se = np.std(np.array(boots), axis=0, ddof=1)
    years = [int(s.index.min()) for s in by_council.values()], [int(s.index.max()) for s in by_council.values()]
    return LevelFit(measure, *point, *(float(v) for v in se), len(councils), len(errors),
                    (min(years[0]), max(years[1])))


# --------------------------------------------------------------------------- hindcasts
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)


def hindcast(by_council: dict[str, pd.Series], measure: str, window: int = WINDOW) -> pd.DataFrame:
    """Rolling-origin hindcasts: for each council and origin year, the forecast one to five years ahead
    made from the council's counts up to the origin, with the level parameters fitted on the other
    councils' histories up to the origin year (nothing the forecaster could not have known), and the
    outcome's place in it.

    Columns: council, measure, origin, h, actual, p10, p25, p50, p75, p90 [children], pit (the
    forecast's probability of an outcome at or below the actual), inside_80, inside_50.
    """
    rows = []
    fits: dict[tuple[str, int], tuple[float, float, float]] = {}
    for council, s in by_council.items():
        own = forecast_errors({council: s}, window)
        for origin, group in own.groupby("origin"):
            key = (council, int(origin))
            if key not in fits:
                others = forecast_errors({c: v for c, v in by_council.items() if c != council}, window,
                                         last_origin=int(origin))
                if others["council"].nunique() < 2 or len(others) < 10:
                    continue
                fits[key] = fit_level(others)
            sigma, rho, drift = fits[key]
            for r in group.itertuples():
                mean = _forecast_mean(r.y0, r.m, r.h, rho)
                sd = float(np.sqrt(log_variance(r.h, sigma, rho, drift)))
                q = np.exp(mean + sd * stats.norm.ppf(QUANTILES))
                actual = float(np.exp(r.y))
                rows.append({"council": council, "measure": measure, "origin": int(origin), "h": int(r.h),
                             "actual": actual, **{f"p{round(p * 100)}": v for p, v in zip(QUANTILES, q)},
                             "pit": float(stats.norm.cdf((r.y - mean) / sd)),
                             "inside_80": bool(q[0] <= actual <= q[-1]), "inside_50": bool(q[1] <= actual <= q[3])})
    return pd.DataFrame(rows)


def coverage_table(hindcasts: pd.DataFrame) -> pd.DataFrame:
    """By measure and horizon: hindcasts, share of outcomes inside P10-P90 (aim 80%) and P25-P75 (aim
    50%), with the binomial standard error of the first, and the mean P10-P90 width as a share of P50."""
    rows = []
    for (measure, h), g in hindcasts.groupby(["measure", "h"]):
        n = len(g)
        inside = float(g["inside_80"].mean())
        rows.append({"measure": measure, "h": int(h), "hindcasts": n, "councils": g["council"].nunique(),
                     "inside_p10_p90": inside, "inside_p10_p90_se": float(np.sqrt(0.8 * 0.2 / n)),
                     "inside_p25_p75": float(g["inside_50"].mean()),
                     "mean_width_p10_p90": float(((g["p90"] - g["p10"]) / g["p50"]).mean())})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the calibrate command
def level_table(fits: list[LevelFit], until: int | None, window: int = WINDOW) -> pd.DataFrame:
    return pd.DataFrame([{
        "measure": f.measure, "sigma": f.sigma, "sigma_se": f.sigma_se, "persistence": f.persistence,
        "persistence_se": f.persistence_se, "drift_sd": f.drift_sd, "drift_sd_se": f.drift_sd_se,
        "councils": f.n_councils, "forecasts": f.n_errors, "first_year": f.years[0], "last_year": f.years[1],
        "window": window, "until": until if until is not None else f.years[1]} for f in fits])


def calibrate(history: pd.DataFrame, measures: tuple[str, ...], until: int | None = None,
              n_boot: int = 200) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fit each measure on the ``history`` up to 31 March ``until`` (what a forecast made then could use)
    and hindcast it: the level parameters, every hindcast and their coverage, as tables."""
    if until is not None:
        history = history[history["march_year"] <= until]
    fits, hindcasts = [], []
    for m in measures:
        by_council = series(history, m)
        fits.append(fit(by_council, m, n_boot=n_boot))
        hindcasts.append(hindcast(by_council, m))
    params, hc = level_table(fits, until), pd.concat(hindcasts, ignore_index=True)
    return params, hc, coverage_table(hc)
