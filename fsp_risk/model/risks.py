"""The risk register, evaluated by simulation: occurrence and £ impact of each risk, inherent and residual.

A risk occurs in a year when its (possibly correlated) uniform is above one minus its probability, as
a Bernoulli input fires, so a positive loading on a common driver makes both likelier together. Risks
and inputs that share a common driver are correlated through a one-factor Gaussian copula (see
:func:`fsp_risk.engine.sampling.correlated_uniforms`), the driver being one draw per iteration (a climate that
persists over the horizon). Mitigations scale the probability and the impact; the residual
case uses the same uniforms as the inherent one, so a mitigated risk occurs only where the inherent risk
does (common random numbers).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from fsp_risk.analysis.summary import horizon_total
from fsp_risk.config import Config, Mitigation, Risk, RiskRegister, Scoring


def occurrences(u_year, u_once, u_pick, probability, eligible, basis: str):
    """Whether the risk occurs in each year [0/1, shape (n, years)].

    Parameters
    ----------
    u_year : array (n, years)  Uniforms for a per-year risk.
    u_once, u_pick : array (n, 1)  For a horizon risk: whether it occurs, and in which eligible year.
    probability : array (n, 1) or (n, years)  Chance per year (per_year) or over the horizon (horizon).
    eligible : sequence of int  Indices of the years in which the risk can occur.
    basis : {'per_year', 'horizon'}
    """
    n, n_years = np.shape(u_year)
    mask = np.zeros(n_years, dtype=bool)
    mask[list(eligible)] = True
    if basis == "per_year":
        return ((u_year > 1.0 - probability) & mask).astype(float)
    eligible = np.asarray(eligible)
    year = eligible[np.minimum((u_pick[:, 0] * len(eligible)).astype(int), len(eligible) - 1)]
    out = np.zeros((n, n_years))
    out[np.arange(n), year] = np.broadcast_to(u_once > 1.0 - probability, (n, 1))[:, 0]
    return out


def impact(occurred, amount, kind: str):
    """£ impact on the MTFP in each year: positive for a threat, negative for an opportunity [GBP]."""
    sign = 1.0 if kind == "threat" else -1.0
    return sign * occurred * amount


def evaluate(risk: Risk, x: dict, x_res: dict, u: dict, n_years: int) -> dict[str, np.ndarray]:
    """Inherent and residual occurrence and impact of one risk with a £ impact, for one block.

    ``x`` holds the sampled inputs and ``x_res`` the same after mitigations that replace inputs; ``u``
    the risk's uniforms (``year``, ``once``, ``pick``, already correlated with any common driver).
    """
    p, p_res = x[risk.likelihood], x_res[risk.likelihood]
    amount = np.broadcast_to(x[risk.impact], (u["year"].shape[0], n_years))
    amount_res = np.broadcast_to(x_res[risk.impact], (u["year"].shape[0], n_years))
    likelihood_factor, impact_factor = 1.0, 1.0
    for m in risk.mitigations:
        if m.likelihood_factor:
            likelihood_factor = likelihood_factor * x[m.likelihood_factor]
        if m.impact_factor:
            impact_factor = impact_factor * x[m.impact_factor]
    occ = occurrences(u["year"], u["once"], u["pick"], p, risk.years, risk.basis)
    occ_res = occurrences(u["year"], u["once"], u["pick"], p_res * likelihood_factor, risk.years, risk.basis)
    return {
        "risk_occurred": occ,
        "risk_occurred_residual": occ_res,
        "risk_impact": impact(occ, amount, risk.kind),
        "risk_impact_residual": impact(occ_res, amount_res * impact_factor, risk.kind),
    }


def switched_off(x: dict, risk: Risk) -> dict:
    """Inputs with a linked risk's inputs set to the values that switch it off."""
    out = dict(x)
    for name, off in risk.link:
        out[name] = np.full(np.shape(x[name]), off)
    return out


def linked_event(x: dict, risk: Risk, shape) -> np.ndarray:
    """Where a linked risk's inputs are not at their 'off' values [bool, shape (n, years)]."""
    event = np.zeros(shape, dtype=bool)
    for name, off in risk.link:
        event = event | np.broadcast_to(x[name] != off, shape)
    return event


def mitigation_cost(mitigation: Mitigation, n_years: int) -> np.ndarray:
    """Yearly cost of a mitigation [GBP, shape (years,)]."""
    return np.zeros(n_years) if mitigation.cost is None else np.asarray(mitigation.cost.values, dtype=float)


def mitigation_cost_by_risk(register: RiskRegister, n_years: int) -> np.ndarray:
    """Mitigation costs attributed to risks, a shared action split equally [GBP, shape (years, risks)]."""
    ids = [r.id for r in register.risks]
    out = np.zeros((n_years, len(ids)))
    for m in register.mitigations:
        for rid in m.risks:
            out[:, ids.index(rid)] += mitigation_cost(m, n_years) / len(m.risks)
    return out


# --------------------------------------------------------------------------- scoring and the risk table
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
            "impact_p50_if_occurs": np.percentile(magnitude, 50), "impact_p80_if_occurs": np.percentile(magnitude, 80),
            "impact_p90_if_occurs": np.percentile(magnitude, 90),
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
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- portfolio and reserve
def exposure(ds: xr.Dataset) -> xr.DataArray:
    """Each risk's impact over the horizon after mitigation, mitigation costs included [GBP, (iteration, risk)]."""
    # A slice of iterations at a time, so that a large run's (iteration, year, risk) array is never whole.
    per_risk = horizon_total(ds["risk_impact_residual"].transpose("iteration", "year", "risk"))
    return (xr.DataArray(per_risk, dims=("iteration", "risk"), coords={"risk": ds.risk.values})
            + ds["mitigation_cost"].sum("year"))


def portfolio_table(ds: xr.Dataset, config: Config) -> pd.DataFrame:
    """Expected monetary value and contribution to the reserve percentile of each risk, and the total.

    ``contribution_to_pXX`` is how far the percentile of the total exposure falls when the risk is
    removed from every iteration (common random numbers: the other risks' draws are unchanged).
    """
    q = config.risk_register.reserve_confidence
    col = f"contribution_to_p{round(q * 100)}"
    per_risk = exposure(ds)
    total = per_risk.sum("risk").values
    p_total = np.quantile(total, q)
    rows = []
    for rid in per_risk.risk.values:
        own = per_risk.sel(risk=rid).values
        rows.append({"risk": str(rid), "emv": own.mean(), col: p_total - np.quantile(total - own, q)})
    rows.append({"risk": "total", "emv": total.mean(), col: np.nan, f"p{round(q * 100)}_exposure": p_total})
    return pd.DataFrame(rows)


def reserve_statement(ds: xr.Dataset, config: Config) -> str:
    """A sentence for the chief finance officer's statement on the adequacy of reserves."""
    q = config.risk_register.reserve_confidence
    total = exposure(ds).sum("risk").values
    reserve, emv = np.quantile(total, q), total.mean()
    years = ds.year.values
    return (f"On the simulated risk register ({len(config.risk_register.risks)} risks, after mitigation), a risk-based "
            f"reserve of £{max(reserve, 0):,.0f} would cover the programme's risk exposure from {years[0]} to "
            f"{years[-1]} in {q:.0%} of outcomes; the expected cost of these risks is £{emv:,.0f} "
            f"({ds.attrs['iterations']:,} iterations, seed {ds.attrs['seed']}).")
