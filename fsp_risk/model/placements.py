"""Placement cost avoidance and service cost avoidance.

Children kept out of care avoid placement costs. Avoided child-years are split over placement types
by the placement mix, and each child-year's cost is its own draw: the costs of ``m`` child-years in a
type are summed, not ``m`` times one sampled unit cost. Each child-year's cost is gamma distributed
with the type's mean and coefficient of variation; a sum of gamma variables with a common scale is
gamma with the shapes added, so the sum over ``m`` child-years is one gamma draw.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def unit_cost_index(inflation: ArrayLike, years_from_price_year: ArrayLike,
                    known_inflation: ArrayLike | None = None) -> np.ndarray:
    """Price index from the unit costs' price year to each financial year [ratio].

    Prices up to the first year of the horizon are what the council knows when it plans: with
    ``known_inflation`` they move from the price year to the first year at that (central) rate, and only
    later years at the uncertain ``inflation``. So faster inflation always makes the horizon's placements
    dearer, whether the unit costs were priced before the horizon or (with later evidence) inside it.

    Parameters
    ----------
    inflation : array, shape (n, 1)
        Placement cost inflation [fraction/yr] (NAO 2025: children's home costs rose ~7% a year in
        real terms since 2019-20).
    years_from_price_year : ndarray, shape (years,)
        Start year of each financial year minus that of the price year [years].
    known_inflation : float, optional
        The inflation rate the plan assumes up to the first year [fraction/yr]; None: ``inflation`` throughout.
    """
    years = np.asarray(years_from_price_year, dtype=float)
    if known_inflation is None:
        return (1.0 + inflation) ** years
    to_start = years[0]
    return (1.0 + known_inflation) ** to_start * (1.0 + inflation) ** (years - to_start)


def sum_of_child_year_costs(child_years: ArrayLike, mean_cost: ArrayLike, cv: ArrayLike, z: ArrayLike) -> np.ndarray:
    """Total cost of ``child_years`` child-years whose costs are independent gamma draws [£].

    Each child-year's cost is Gamma(k, mean/k) with k = 1/cv^2, so m child-years cost Gamma(m k, mean/k).
    The sum is drawn by inverse CDF from a standard normal score ``z`` with the Wilson-Hilferty cube-root
    transform (Wilson and Hilferty, 1931), so the same ``z`` gives a smoothly varying total when the
    child-years change (common random numbers) and any sampler can drive it. Its mean is exact to a
    factor 1 - 1/(729 (m k)^3).

    Parameters
    ----------
    child_years : array, shape (n, years)
        Child-years (fractional; negative when FSP adds children to care) [child-years].
    mean_cost : array, shape (n, years)
        Mean cost of one child-year [£/child-year].
    cv : array, shape (n, 1)
        Coefficient of variation of one child-year's cost between children [ratio].
    z : array, shape (n, years), or None
        Standard normal scores; None gives the expected total (deterministic run).

    Returns
    -------
    ndarray, shape (n, years) [£]
    """
    expected = child_years * mean_cost
    if z is None:
        return expected
    shape = np.abs(child_years) / np.maximum(np.asarray(cv, dtype=float), 1e-12) ** 2
    a = 1.0 / (9.0 * np.maximum(shape, 1e-12))
    root = np.maximum(1.0 - a + z * np.sqrt(a), 0.0)
    factor = root * root * root  # cubed by multiplying: a general power is several times slower
    return np.where(np.asarray(cv) > 0, expected * factor, expected)


def placement_cost_avoidance(avoided_child_years: ArrayLike, shares: ArrayLike, unit_costs: ArrayLike,
                             cost_cvs: ArrayLike, zs: ArrayLike) -> np.ndarray:
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
    zs : list of arrays, each shape (n, years), or None
        Standard normal scores for each type's total (see :func:`sum_of_child_year_costs`); None for
        the expected value.

    Returns
    -------
    ndarray, shape (n, years) [£]
    """
    total_share = sum(shares)
    avoided = 0.0
    for k, (share, cost, cv) in enumerate(zip(shares, unit_costs, cost_cvs)):
        z = None if zs is None else zs[k]
        avoided = avoided + sum_of_child_year_costs(avoided_child_years * share / total_share, cost, cv, z)
    return avoided


def mean_cost(shares: ArrayLike, unit_costs: ArrayLike) -> np.ndarray:
    """Mean cost of a child-year over the placement mix [£/child-year, shape (n, years)].

    Parameters
    ----------
    shares : list of arrays (n, 1)  Placement mix [fraction], normalised here.
    unit_costs : list of arrays (n, years)  Mean cost of a child-year in each type [£/child-year].
    """
    total_share = sum(shares)
    return sum(share * cost for share, cost in zip(shares, unit_costs)) / total_share


def service_cost_avoidance(avoided_case_years: ArrayLike, cases_per_team: ArrayLike,
                           team_cost: ArrayLike) -> np.ndarray:
    """Cost of the social work teams no longer needed as open cases fall [£/yr].

    Parameters
    ----------
    avoided_case_years : array, shape (n, years) [case-years]
    cases_per_team : array, shape (n, 1) [cases/team]
    team_cost : array, shape (n, 1) [£/team/yr]
    """
    return avoided_case_years / cases_per_team * team_cost
