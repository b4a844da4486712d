"""Workforce: vacancy, agency cover, agency premium, turnover and its effect on FSP's reduction."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def staff_cost(fte: ArrayLike, cost_per_fte: ArrayLike, vacancy: ArrayLike, agency_cover: ArrayLike,
               agency_premium: ArrayLike, turnover: ArrayLike, recruitment_cost: ArrayLike) -> np.ndarray:
    """Yearly cost of a staff group [£/yr].

    Posts are filled permanently, or vacant and covered by agency staff at a premium, or vacant
    and uncovered; each permanent leaver costs a recruitment.

    Parameters
    ----------
    fte : array (n, 1)  Establishment [FTE].
    cost_per_fte : array (n, 1)  Employed cost of a post, on-costs included [£/FTE/yr].
    vacancy : array (n, 1) or (n, years)  Posts not filled by permanent staff [fraction]
        (DfE children's social work workforce: ~17% in England, 2024).
    agency_cover : array  Share of vacant posts covered by agency staff [fraction].
    agency_premium : array  Extra cost of an agency worker over an employed one [fraction]
        (one council's 2025/26 rates: £1,800 vs £1,280 a week, +41%).
    turnover : array  Permanent leavers per permanent post [fraction/yr] (DfE: 13.8% in 2024).
    recruitment_cost : array  Cost of replacing one leaver [£/leaver].

    Returns
    -------
    ndarray [£/yr], broadcast over the inputs' shapes.
    """
    permanent = fte * (1.0 - vacancy)
    agency = fte * vacancy * agency_cover
    return cost_per_fte * (permanent + agency * (1.0 + agency_premium)) + permanent * turnover * recruitment_cost


def effect_weakening(turnover: ArrayLike, threshold: ArrayLike, slope: ArrayLike) -> np.ndarray:
    """Share of the FSP effect kept when turnover is high [fraction in 0..1].

    Above ``threshold`` each unit of turnover removes ``slope`` of the effect: caseloads rise and
    practice fidelity falls (Oxfordshire 2021 scrutiny report: caseloads 38% above plan, over a third
    of social workers agency staff).

    Parameters
    ----------
    turnover : array [fraction/yr]
    threshold : array [fraction/yr]
    slope : array [fraction of effect lost per unit of turnover]
    """
    return np.clip(1.0 - slope * np.maximum(turnover - threshold, 0.0), 0.0, 1.0)
