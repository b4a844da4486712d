"""Economic common sense on every shipped config: higher demand, dearer placements or faster inflation
never improve the MTFP position, losing more of a grant never does, and a stronger FSP effect never
worsens it. Each property is checked iteration by iteration on common random numbers, for the whole
horizon, between two values of the input across its range.

These are the checks that found the 2019 business case's wrong sign (faster growth in children in care
*raised* its savings, because no placement budget carried the pressure).
"""
import numpy as np
import pytest

import fsp_risk
from fsp_risk.analysis.summary import horizon_total

CONFIGS = ("oxfordshire-2019-business-case", "oxfordshire-2024-commissioning", "west-sussex-2022")
ITERATIONS = 512
#: Pounds of slack for the re-ordering of float sums between two runs.
TOL = 1e-3


@pytest.fixture(scope="module", params=CONFIGS)
def config(request):
    return fsp_risk.load_config(f"configs/{request.param}.yaml")


def _total(config, pins, seed=7):
    ds = fsp_risk.simulate(config, iterations=ITERATIONS, seed=seed, overrides=pins)
    return horizon_total(ds["net_change_to_mtfp"])


def _range(config, name):
    """Two values of an input, low and high, inside what it can take and what the model accepts."""
    lo, hi = config.inputs[name].dist.support()
    b_lo, b_hi = config.input_bounds.get(name, (lo, hi))
    lo, hi = max(lo, b_lo), min(hi, b_hi)
    if not np.isfinite(lo) or not np.isfinite(hi):  # an unbounded normal: its 1st and 99th percentiles
        lo, hi = (float(v) for v in config.inputs[name].dist.ppf(np.array([0.01, 0.99])))
    return lo, hi


def _pressures(config):
    """Inputs whose rise must never lower the total net change: demand growth and its level's slope, each
    placement unit cost, placement inflation, each workforce group's pay."""
    names = []
    for m in config.demand.values():
        names.append(m.growth)
        if m.level is not None and m.level.drift:
            names.append(m.level.drift)
    if config.placements is not None:
        names += [t.unit_cost for t in config.placements.types] + [config.placements.inflation]
    names += [g.cost_per_fte for g in config.workforce]
    return [n for n in dict.fromkeys(names) if _range(config, n)[0] < _range(config, n)[1]]


def test_every_config_has_pressures_to_check(config):
    assert len(_pressures(config)) >= 4


def test_rising_demand_prices_and_inflation_never_improve_the_position(config):
    for name in _pressures(config):
        lo, hi = _range(config, name)
        low, high = _total(config, {name: lo}), _total(config, {name: hi})
        assert (high >= low - TOL).all(), (config.name, name, float((low - high).max()))
        assert (high > low + 1.0).any(), (config.name, name, "the input moves nothing")  # not a dead input


def test_losing_more_grant_never_improves_the_position(config):
    for stream in config.funding:
        lo, hi = _range(config, stream.replaced)
        less = _total(config, {stream.ends: 1.0, stream.replaced: lo})
        more = _total(config, {stream.ends: 1.0, stream.replaced: hi})
        assert (less >= more - TOL).all(), (config.name, stream.name)


def test_a_stronger_fsp_effect_never_worsens_the_position(config):
    for m in config.demand.values():
        lo, hi = _range(config, m.fsp.effect)
        weak, strong = _total(config, {m.fsp.effect: lo}), _total(config, {m.fsp.effect: hi})
        assert (strong <= weak + TOL).all(), (config.name, m.name)


def test_a_stress_test_on_a_planning_input_moves_the_result(config):
    # The budget stays where it was set: a deterministic run with dearer placements costs more.
    if config.placements is None:
        pytest.skip("no placements")
    base = float(fsp_risk.simulate(config, deterministic=True)["net_change_to_mtfp"].sum())
    dearer = float(fsp_risk.simulate(config, deterministic=True, overrides={config.placements.inflation: 0.10})
                   ["net_change_to_mtfp"].sum())
    assert dearer > base + 1e5
