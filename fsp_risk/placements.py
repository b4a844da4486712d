"""Placement cost avoidance and service cost avoidance.

Children kept out of care avoid placement costs. Avoided child-years are split over placement types
by the placement mix, and each child-year's cost is its own draw: the costs of ``m`` child-years in a
type are summed, not ``m`` times one sampled unit cost. Each child-year's cost is gamma distributed
with the type's mean and coefficient of variation; a sum of gamma variables with a common scale is
gamma with the shapes added, so the sum over ``m`` child-years is drawn exactly in one call.
"""
from __future__ import annotations

import numpy as np


def unit_cost_index(inflation, years_from_price_year):
    """Price index from the unit costs' price year to each financial year [ratio].

    Parameters
    ----------
    inflation : array, shape (n, 1)
        Placement cost inflation [fraction/yr] (NAO 2025: children's home costs rose ~7% a year in
        real terms since 2019-20).
    years_from_price_year : ndarray, shape (years,)
        Start year of each financial year minus that of the price year [years].
    """
    return (1.0 + inflation) ** years_from_price_year


def sum_of_child_year_costs(child_years, mean_cost, cv, rng):
    """Total cost of ``child_years`` child-years whose costs are independent gamma draws [£].

    Parameters
    ----------
    child_years : array, shape (n, years)
        Child-years (fractional; negative when FSP adds children to care) [child-years].
    mean_cost : array, shape (n, years)
        Mean cost of one child-year [£/child-year].
    cv : array, shape (n, 1)
        Coefficient of variation of one child-year's cost between children [ratio].
    rng : numpy.random.Generator or None
        None gives the expected total (deterministic run).

    Returns
    -------
    ndarray, shape (n, years) [£]
    """
    expected = child_years * mean_cost
    if rng is None:
        return expected
    cv = np.broadcast_to(cv, expected.shape)
    random = cv > 0
    # Gamma(shape=k, scale=mean/k) per child-year with k = 1/cv^2; m child-years sum to Gamma(m k, mean/k).
    k = np.where(random, 1.0 / np.where(random, cv, 1.0) ** 2, 1.0)
    shape = np.abs(child_years) * k
    draws = rng.gamma(np.where(random, shape, 0.0), np.where(random, mean_cost / k, 0.0))
    return np.where(random, np.sign(child_years) * draws, expected)


def placement_cost_avoidance(avoided_child_years, shares, unit_costs, cost_cvs, rng):
    """Placement costs avoided by FSP in each year [£/yr, positive = avoided].

    Parameters
    ----------
    avoided_child_years : array, shape (n, years)
        As-is minus with-FSP child-years in care [child-years].
    shares : list of arrays, each shape (n, 1)
        Placement mix (in-house fostering, agency fostering, residential, other) [fraction];
        normalised here to sum to 1 in every iteration.
    unit_costs : list of arrays, each shape (n, years)
        Mean cost of a child-year in each type in each year's prices [£/child-year]
        (see :func:`unit_cost_index`).
    cost_cvs : list of arrays, each shape (n, 1)
        Spread of one child-year's cost within each type [ratio].
    rng : numpy.random.Generator or None

    Returns
    -------
    ndarray, shape (n, years) [£]
    """
    total_share = sum(shares)
    avoided = 0.0
    for share, cost, cv in zip(shares, unit_costs, cost_cvs):
        avoided = avoided + sum_of_child_year_costs(avoided_child_years * share / total_share, cost, cv, rng)
    return avoided


def service_cost_avoidance(avoided_case_years, cases_per_team, team_cost):
    """Cost of the social work teams no longer needed as open cases fall [£/yr].

    Parameters
    ----------
    avoided_case_years : array, shape (n, years) [case-years]
    cases_per_team : array, shape (n, 1) [cases/team]
    team_cost : array, shape (n, 1) [£/team/yr]
    """
    return avoided_case_years / cases_per_team * team_cost
