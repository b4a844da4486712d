"""Each driver's kernel against a hand-computed case."""
import numpy as np
import pytest

from fsp_risk.model import demand, funding, mtfp, placements, workforce


# ----------------------------------------------------------------- demand
def test_interpolation_and_extrapolation():
    np.testing.assert_allclose(demand.interpolate_points([2020, 2025], [800, 1000], [2020, 2022, 2025]), [800, 880, 1000])
    np.testing.assert_allclose(demand.interpolate_points([2020, 2025], [800, 1000], [2019, 2026], extrapolate=True), [760, 1040])


def test_as_is_growth_multiplier_scales_growth_not_level():
    points = np.array([100.0, 110.0, 130.0])
    out = demand.as_is_trajectory(points, np.array([[0.0], [1.0], [2.0]]))
    np.testing.assert_allclose(out, [[100, 100, 100], [100, 110, 130], [100, 120, 160]])


def test_ramp_fraction_by_hand():
    # Go-live at the start of year 1 (month 12), 12 months to full effect:
    # year 0 none; year 1 averages a linear ramp 0 -> 1 = 0.5; year 2 full.
    r = demand.ramp_fraction(np.array([[12.0]]), np.array([[12.0]]), 3)
    np.testing.assert_allclose(r, [[0.0, 0.5, 1.0]])
    # Immediate effect from month 6: half of year 0.
    r = demand.ramp_fraction(np.array([[6.0]]), np.array([[0.0]]), 2)
    np.testing.assert_allclose(r, [[0.5, 1.0]], atol=1e-6)


def test_stock_flow_by_hand():
    as_is = np.array([[100.0, 110.0, 120.0]])
    leave = np.array([[0.5]])
    # Entrants as is: 110 - 0.5*100 = 60; 120 - 0.5*110 = 65. A 20% reduction avoids 12 then
    # 0.5*12 + 13 = 19 children, so with FSP: 98 and 101.
    out = demand.stock_flow(as_is, leave, np.array([[0.2, 0.2]]))
    np.testing.assert_allclose(out, [[100, 98, 101]])
    # No effect reproduces the as-is path exactly.
    np.testing.assert_array_equal(demand.stock_flow(as_is, leave, np.zeros((1, 2))), as_is)


def test_stock_flow_never_negative():
    as_is = np.array([[10.0, 50.0, 5.0]])
    out = demand.stock_flow(as_is, np.array([[0.0]]), np.array([[1.0, 1.0]]))
    assert np.all(out >= 0)


def test_year_on_year_by_hand():
    as_is = np.array([[1000.0, 1040.0, 1080.0, 1120.0]])
    # Year 0 before go-live follows as-is; then 5% a year at full effect; the floor stops the fall.
    out = demand.year_on_year(as_is, np.array([[0.05]]), np.array([[0.0, 1.0, 1.0]]),
                              floor=np.array([0.0, 0.0, 0.0, 950.0]))
    np.testing.assert_allclose(out, [[1000, 1040, 988, 950]])
    # Half effect blends the as-is growth with the fall: 1000 * (0.5 * 0.95 + 0.5 * 1.04) = 995.
    out = demand.year_on_year(as_is[:, :2], np.array([[0.05]]), np.array([[0.5]]))
    np.testing.assert_allclose(out, [[1000, 995]])


def test_child_years_trapezium():
    np.testing.assert_allclose(demand.child_years(np.array([[10.0, 20.0, 20.0]])), [[15, 20]])


# ----------------------------------------------------------------- workforce
def test_staff_cost_by_hand():
    # 100 posts at £50k: 15% vacant, 80% of those covered by agency at +40%; 14% turnover at £5k.
    cost = workforce.staff_cost(100, 50_000, 0.15, 0.8, 0.4, 0.14, 5_000)
    expected = 50_000 * (85 + 12 * 1.4) + 85 * 0.14 * 5_000
    assert cost == pytest.approx(expected)


def test_effect_weakening():
    out = workforce.effect_weakening(np.array([0.10, 0.20, 0.50, 0.90]), 0.15, 2.0)
    np.testing.assert_allclose(out, [1.0, 0.9, 0.3, 0.0])


# ----------------------------------------------------------------- funding
def test_grant_loss_by_hand():
    amounts = np.array([200_000.0, 200_000.0, 200_000.0])
    ends = np.array([[1.0], [0.0], [1.0]])
    end_index = np.array([[1], [1], [2]])
    replaced = np.array([[0.25], [0.0], [1.0]])
    out = funding.grant_loss(amounts, ends, end_index, replaced)
    np.testing.assert_allclose(out, [[0, 150_000, 150_000], [0, 0, 0], [0, 0, 0]])


# ----------------------------------------------------------------- placements
def test_placement_cost_avoidance_expected_value():
    avoided = np.array([[10.0, 20.0]])
    shares = [np.array([[0.6]]), np.array([[0.4]])]
    costs = [np.array([[40_000.0, 44_000.0]]), np.array([[300_000.0, 330_000.0]])]
    cvs = [np.array([[0.3]]), np.array([[0.5]])]
    out = placements.placement_cost_avoidance(avoided, shares, costs, cvs, None)
    np.testing.assert_allclose(out, [[6 * 40_000 + 4 * 300_000, 12 * 44_000 + 8 * 330_000]])


def test_sum_of_child_year_costs_has_the_variance_of_a_sum():
    # 50 child-years at mean £100k with cv 0.5: mean £5m, sd 0.5 * 100k * sqrt(50) (not 0.5 * £5m).
    n = 400_000
    z = np.random.default_rng(5).standard_normal((n, 1))
    draws = placements.sum_of_child_year_costs(np.full((n, 1), 50.0), np.full((n, 1), 100_000.0), np.array([[0.5]]), z)
    assert draws.mean() == pytest.approx(5e6, rel=4.5 * 0.5 / np.sqrt(50) / np.sqrt(n))
    assert draws.std() == pytest.approx(0.5 * 100_000 * np.sqrt(50), rel=0.01)
    # Its quantiles are the gamma distribution's (Wilson-Hilferty is accurate to well under 1% here).
    from scipy import stats

    k = 50 / 0.25
    exact = stats.gamma(k, scale=100_000 / 4).ppf([0.1, 0.5, 0.9])
    np.testing.assert_allclose(np.percentile(draws, [10, 50, 90]), exact, rtol=0.002)
    # Negative child-years (FSP adds children to care) are extra cost.
    neg = placements.sum_of_child_year_costs(np.array([[-5.0]]), np.array([[1000.0]]), np.array([[0.3]]), np.array([[0.0]]))
    assert neg[0, 0] < 0
    # The same score gives a total that moves smoothly with the child-years (common random numbers).
    a = placements.sum_of_child_year_costs(np.array([[50.0]]), np.array([[1000.0]]), np.array([[0.5]]), np.array([[1.3]]))
    b = placements.sum_of_child_year_costs(np.array([[50.5]]), np.array([[1000.0]]), np.array([[0.5]]), np.array([[1.3]]))
    assert 0 < (b - a)[0, 0] < 2 * 0.5 * 1000


def test_unit_cost_index():
    np.testing.assert_allclose(placements.unit_cost_index(np.array([[0.1]]), np.array([-1, 0, 2])), [[1 / 1.1, 1, 1.21]])
    # Prices to the horizon's start at the known rate, the uncertain rate after it: faster inflation never
    # makes a year cheaper, even with unit costs priced after the horizon starts.
    slow, fast = (placements.unit_cost_index(np.array([[r]]), np.array([-2, -1, 0, 1]), 0.05) for r in (0.0, 0.2))
    np.testing.assert_allclose(slow, [[1.05 ** -2] * 4])
    np.testing.assert_allclose(fast, [[1.05 ** -2, 1.05 ** -2 * 1.2, 1.05 ** -2 * 1.44, 1.05 ** -2 * 1.728]])
    assert (fast >= slow).all()


# ----------------------------------------------------------------- MTFP arithmetic
def test_compound_index_is_one_in_base_year():
    idx = mtfp.compound_index(np.array([[0.1]]), base_index=1, n_years=3)
    np.testing.assert_allclose(idx, [[1 / 1.1, 1.0, 1.1]])


def test_inflation_surprise():
    out = mtfp.inflation_surprise(np.array([[0.02]]), np.array([[0.04]]), 0, 3)
    np.testing.assert_allclose(out, [[1.0, 1.04 / 1.02, (1.04 / 1.02) ** 2]])


def test_realised_saving_scales_with_driver():
    planned = np.array([0.0, -250_000.0, -500_000.0])
    central = np.array([[0.0, 10.0, 40.0]])
    out = mtfp.realised_saving(planned, np.array([[0.0, 5.0, 40.0], [3.0, 20.0, 0.0]]), central)
    np.testing.assert_allclose(out, [[0, -125_000, -500_000], [0, -500_000, 0]])


def test_delivery_ratio_against_the_plan():
    from fsp_risk.model.demand import delivery_ratio

    planned = np.array([[0.0, 0.5, 1.0]])
    effect = np.array([[0.0, 0.25, 1.0], [0.0, 0.5, 1.0], [0.0, 0.0, 0.0]])
    # Before the plan has any effect, a year takes the ratio of the plan's first year with effect.
    np.testing.assert_allclose(delivery_ratio(effect, planned), [[0.5, 0.5, 1.0], [1, 1, 1], [0, 0, 0]])
    np.testing.assert_array_equal(delivery_ratio(effect, np.zeros((1, 3))), np.zeros((3, 3)))


def test_planned_path_reproduces_the_paper_and_scales_with_delivery():
    from fsp_risk.model.demand import planned_path

    as_is_plan = np.array([780.0, 810, 846, 882])
    fsp_plan = np.array([780.0, 756, 736, 716])
    as_is = np.vstack([as_is_plan, as_is_plan * 1.1, as_is_plan])
    delivery = np.array([[1.0, 1, 1], [1.0, 1, 1], [0.0, 0.5, 10.0]])
    out = planned_path(as_is, as_is_plan, fsp_plan, delivery)
    np.testing.assert_allclose(out[0], fsp_plan)  # as planned: the paper's line
    np.testing.assert_allclose(out[1], fsp_plan * 1.1)  # the same share of a higher as-is path
    assert out[2, 1] == as_is_plan[1]  # nothing delivered, nothing kept out
    np.testing.assert_allclose(out[2, 2], 846 - 0.5 * (846 - 736))
    assert out[2, 3] == 0  # ten times the planned share would keep out more than all: capped at all
    assert (out[:, 0] == as_is[:, 0]).all()  # the count at the start is known
