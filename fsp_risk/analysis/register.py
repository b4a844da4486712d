"""The risk register as simulated: each risk's probability and £ impact, inherent and residual, scored on
the register's own scheme; the portfolio and the risk-based reserve."""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.analysis.summary import horizon_total
from fsp_risk.config import Config, Scoring


def impact_score(value, thresholds) -> np.ndarray:
    """Register impact score: the number of £ thresholds at or below ``value`` (0 below the first)."""
    return np.searchsorted(np.asarray(thresholds), np.asarray(value), side="right")


def probability_band(p, thresholds, bands) -> np.ndarray:
    """Register probability band: the band whose lower bound is the largest at or below ``p``."""
    idx = np.searchsorted(np.asarray(thresholds), np.asarray(p), side="right") - 1
    return np.asarray(bands, dtype=object)[np.clip(idx, 0, len(bands) - 1)]


def risk_table(ds: xr.Dataset, config: Config) -> pd.DataFrame:
    """One row per risk: simulated probability and £ impact, inherent and residual, and the scores.

    The impact score is taken on the mean impact over the horizon *when the risk occurs*, as a register
    scores "impact if it happens"; the probability band on the chance it occurs at least once.
    """
    register = config.risk_register
    scoring: Scoring = register.scoring
    shortfall_iter = horizon_total(ds["net_change_to_mtfp"]) > 0
    rows = []
    for r in register.risks:
        sel = {"risk": r.id}
        inh = horizon_total(ds["risk_impact"].sel(sel))
        res = horizon_total(ds["risk_impact_residual"].sel(sel))
        occ = horizon_total(ds["risk_occurred"].sel(sel)) > 0
        occ_res = horizon_total(ds["risk_occurred_residual"].sel(sel)) > 0
        mit = float(ds["mitigation_cost"].sel(sel).sum())
        magnitude = np.abs(inh[occ]) if occ.any() else np.array([0.0])
        p_inh, p_res = occ.mean(), occ_res.mean()
        when = magnitude.mean()
        # One partial sort for the three percentiles, in place (a 10,000,000-iteration magnitude is 80 MB).
        m50, m80, m90 = np.percentile(magnitude, [50, 80, 90], overwrite_input=True)
        del magnitude
        score = int(impact_score(when, scoring.impact_thresholds))
        band = str(probability_band(p_inh, scoring.probability_thresholds, scoring.probability_bands))
        res_when = np.abs(res[occ_res]).mean() if occ_res.any() else 0.0
        note = []
        if r.stated_impact is not None and r.stated_impact != score:
            note.append(f"impact simulated {score}, register says {r.stated_impact}")
        if r.stated_probability is not None and r.stated_probability != band:
            note.append(f"probability simulated '{band}', register says '{r.stated_probability}'")
        rows.append({
            "risk": r.id, "title": r.title, "owner": r.owner, "category": r.category, "type": r.kind,
            "p_occurs": p_inh, "expected_impact": inh.mean(),
            "impact_p50_if_occurs": m50, "impact_p80_if_occurs": m80, "impact_p90_if_occurs": m90,
            "p_occurs_residual": p_res, "expected_impact_residual": res.mean(), "mitigation_cost": mit,
            "expected_mtfp_impact": res.mean() + mit,
            "share_of_shortfall_iterations": occ_res[shortfall_iter].mean() if shortfall_iter.any() else np.nan,
            "simulated_impact_score": score, "simulated_probability_band": band,
            "residual_impact_score": int(impact_score(res_when, scoring.impact_thresholds)),
            "residual_probability_band": str(probability_band(p_res, scoring.probability_thresholds,
                                                              scoring.probability_bands)),
            "stated_impact_score": r.stated_impact, "stated_probability_band": r.stated_probability,
            "differs_from_register": "; ".join(note),
        })
        del inh, res, occ, occ_res  # before the next risk's arrays are read
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- portfolio and reserve
def exposure(ds: xr.Dataset) -> xr.DataArray:
    """Each risk's impact over the horizon after mitigation, mitigation costs included [GBP, (iteration, risk)]."""
    # A slice of iterations at a time, so that a large run's (iteration, year, risk) array is never whole;
    # the mitigation costs added in place (a copy of a 10,000,000-iteration exposure is 320 MB).
    per_risk = horizon_total(ds["risk_impact_residual"].transpose("iteration", "year", "risk"))
    per_risk += ds["mitigation_cost"].sum("year").transpose("risk").values
    return xr.DataArray(per_risk, dims=("iteration", "risk"), coords={"risk": ds.risk.values})


def portfolio_table(ds: xr.Dataset, config: Config) -> pd.DataFrame:
    """Expected monetary value of each risk and how far the reserve would fall without it, and the total.

    ``reserve_falls_if_removed_not_additive`` is how far the reserve percentile of the total exposure
    falls when the risk is removed from every iteration (common random numbers: the other risks' draws
    are unchanged). Risks overlap, so these do not add up to the reserve: two risks can each carry it.
    """
    q = config.risk_register.reserve_confidence
    col = "reserve_falls_if_removed_not_additive"
    per_risk = exposure(ds)
    total = per_risk.values.sum(axis=1)  # numpy's sum: xarray's skips NaNs by way of a whole copy first
    p_total = np.quantile(total, q)
    rows = []
    rest = np.empty_like(total)  # the total less one risk, reused and partly sorted in place for each risk
    for rid in per_risk.risk.values:
        own = per_risk.sel(risk=rid).values
        np.subtract(total, own, out=rest)
        rows.append({"risk": str(rid), "emv": own.mean(), col: p_total - np.quantile(rest, q, overwrite_input=True)})
    rows.append({"risk": "total", "emv": total.mean(), col: np.nan, f"p{round(q * 100)}_exposure": p_total})
    return pd.DataFrame(rows)
