"""Property-based tests over generated valid configs: the model runs, its invariants hold, and it moves
the right way when grant loss or FSP's effect grows.

Configs are generated from the shipped Oxfordshire configs: each PERT input (chosen at random) is given
a new low, mode and high inside its original range, and cost, funding and planned-saving lines are
scaled by random factors. Every generated config passes validation, so any failure is the model's.
"""
import copy

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fsp_risk
from fsp_risk.config import parse_config

BASES = {
    name: yaml.safe_load(open(f"configs/{name}.yaml", encoding="utf-8"))
    for name in ("oxfordshire-2019-business-case", "oxfordshire-2024-commissioning")
}
ITERATIONS = 128
SETTINGS = settings(max_examples=10, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _scale_series(series: dict, factor: float) -> None:
    values = series["values"]
    for year in values:
        values[year] = round(values[year] * factor)


@st.composite
def configs(draw):
    name = draw(st.sampled_from(sorted(BASES)))
    data = copy.deepcopy(BASES[name])
    data.pop("scenarios", None)  # scenarios set inputs' parameters, which are redrawn here
    unit = st.floats(0.0, 1.0, allow_nan=False)
    # The placement mix's central shares must sum to 1, so they keep their distributions.
    shares = {t[k] for t in data.get("placements", {}).get("types", {}).values()
              for k in ("share", "avoided_share") if k in t}
    for input_name, spec in data["inputs"].items():
        if input_name not in shares and spec["dist"] == "pert" and {"low", "mode", "high"} <= set(spec) and draw(st.booleans()):
            lo, hi = spec["low"], spec["high"]
            a, b, c = sorted(draw(unit) for _ in range(3))
            if c - a > 0.05:  # a PERT needs some width
                spec.update(low=lo + (hi - lo) * a, mode=lo + (hi - lo) * b, high=lo + (hi - lo) * c)
    for cost in data.get("costs", {}).values():
        _scale_series(cost["amounts"], draw(st.floats(0.0, 3.0)))
    for stream in data.get("funding", {}).values():
        _scale_series(stream["amounts"], draw(st.floats(0.0, 3.0)))
    for saving in data.get("savings", {}).values():
        if "planned" in saving:
            _scale_series(saving["planned"], draw(st.floats(0.0, 2.0)))
    seed = draw(st.integers(0, 2**32 - 1))
    return parse_config(yaml.safe_dump(data, sort_keys=False), file=f"generated from {name}"), seed


@SETTINGS
@given(configs())
def test_generated_configs_run_with_their_invariants_holding(case):
    config, seed = case
    # Every block is checked as it is computed (fsp_risk.engine.invariants): a broken invariant raises.
    ds = fsp_risk.simulate(config, iterations=ITERATIONS, seed=seed)
    central = fsp_risk.simulate(config, deterministic=True)
    for d in (ds, central):
        assert all(np.isfinite(v.values).all() for v in d.data_vars.values())
    np.testing.assert_allclose(ds["net_change_by_line"].sum("line"), ds["net_change_to_mtfp"], rtol=0, atol=0.01)


@SETTINGS
@given(configs())
def test_more_grant_loss_never_raises_net_savings(case):
    config, seed = case
    for stream in config.funding:
        kept = fsp_risk.simulate(config, iterations=ITERATIONS, seed=seed, overrides={stream.ends: 0.0})
        lost = fsp_risk.simulate(config, iterations=ITERATIONS, seed=seed, overrides={stream.ends: 1.0})
        # On the same random numbers, iteration by iteration and year by year.
        assert (lost["net_savings"] <= kept["net_savings"] + 1e-6).all(), stream.name
        # And the more of a lost grant partners replace, the less it costs.
        low, high = config.inputs[stream.replaced].dist.support()
        less = fsp_risk.simulate(config, iterations=ITERATIONS, seed=seed, overrides={stream.ends: 1.0, stream.replaced: low})
        more = fsp_risk.simulate(config, iterations=ITERATIONS, seed=seed, overrides={stream.ends: 1.0, stream.replaced: high})
        assert (less["net_savings"] <= more["net_savings"] + 1e-6).all(), stream.name


@SETTINGS
@given(configs(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_a_stronger_fsp_effect_never_raises_the_children_in_care(case, a, b):
    config, seed = case
    for measure in config.demand.values():
        effect = measure.fsp.effect
        low, high = config.inputs[effect].dist.support()
        lo, hi = config.input_bounds.get(effect, (low, high))
        lo, hi = max(lo, low), min(hi, high)
        weak, strong = lo + (hi - lo) * min(a, b), lo + (hi - lo) * max(a, b)
        with_weak = fsp_risk.simulate(config, iterations=ITERATIONS, seed=seed, overrides={effect: weak})
        with_strong = fsp_risk.simulate(config, iterations=ITERATIONS, seed=seed, overrides={effect: strong})
        name = f"{measure.name}_fsp"
        assert (with_strong[name] <= with_weak[name] + 1e-9).all(), (measure.name, weak, strong)
        # As-is demand does not depend on FSP at all.
        np.testing.assert_array_equal(with_strong[f"{measure.name}_as_is"], with_weak[f"{measure.name}_as_is"])


def test_the_generator_makes_varied_valid_configs():
    # The strategy must actually vary the configs, or the properties above test one config only.
    seen = set()

    @settings(max_examples=10, deadline=None, derandomize=True)
    @given(configs())
    def collect(case):
        config, _ = case
        seen.add((config.name, config.sha256))

    collect()
    assert len(seen) >= 5
