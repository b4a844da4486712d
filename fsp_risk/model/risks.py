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
from numpy.typing import ArrayLike

from fsp_risk.config import Mitigation, Risk, RiskRegister


def occurrences(u_year: ArrayLike, u_once: ArrayLike, u_pick: ArrayLike, probability: ArrayLike, eligible: ArrayLike,
                basis: str) -> np.ndarray:
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


def impact(occurred: ArrayLike, amount: ArrayLike, kind: str) -> np.ndarray:
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
