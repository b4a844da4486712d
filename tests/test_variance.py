"""Sobol' indices: the estimators against the Ishigami function's analytic indices, and on the model."""
import numpy as np
import pytest

import fsp_risk
from fsp_risk.analysis.variance import FSP_EFFECT, factors, sobol_indices, variance_sensitivity


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1):
    """Analytic first-order and total indices (Ishigami and Homma, 1990; Sobol' and Levitan, 1999)."""
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * np.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


def test_estimators_recover_the_ishigami_indices():
    rng = np.random.default_rng(7)
    n = 2**15
    a, b = rng.uniform(-np.pi, np.pi, (n, 3)), rng.uniform(-np.pi, np.pi, (n, 3))
    hybrids = []
    for i in range(3):
        h = a.copy()
        h[:, i] = b[:, i]
        hybrids.append(ishigami(h)[:, None])
    got = sobol_indices(ishigami(a)[:, None], ishigami(b)[:, None], np.stack(hybrids), bootstrap=300)
    first, total = ishigami_indices()
    # Within twice the reported 95% half-width (about four standard errors), and the intervals informative.
    for key, exact in (("first_order", first), ("total_effect", total)):
        est, ci = got[key][:, 0], got[f"{key}_ci"][:, 0]
        assert np.all(np.abs(est - exact) <= 2 * ci + 1e-3), (key, est, exact, ci)
        assert np.all(ci < 0.03) and np.all(ci > 0), (key, ci)
    # x3 acts only through its interaction with x1: no first-order effect, a real total effect.
    assert abs(got["first_order"][2, 0]) < 0.02 < got["total_effect"][2, 0]


def test_bootstrap_intervals_cover_the_truth_about_95_percent_of_the_time():
    first, total = ishigami_indices()
    rng = np.random.default_rng(11)
    hits = []
    for _ in range(40):
        n = 2048
        a, b = rng.uniform(-np.pi, np.pi, (n, 3)), rng.uniform(-np.pi, np.pi, (n, 3))
        hybrids = []
        for i in range(2):  # x1 and x2
            h = a.copy()
            h[:, i] = b[:, i]
            hybrids.append(ishigami(h)[:, None])
        got = sobol_indices(ishigami(a)[:, None], ishigami(b)[:, None], np.stack(hybrids), bootstrap=200,
                            seed=int(rng.integers(1 << 30)))
        hits += list(np.abs(got["total_effect"][:, 0] - total[:2]) <= got["total_effect_ci"][:, 0])
    assert 0.85 <= np.mean(hits) <= 1.0, np.mean(hits)


def test_factors_take_correlated_inputs_with_them(config_2024):
    found = {f.label: f for f in factors(config_2024, list(config_2024.inputs))}
    corr = set(config_2024.correlation.inputs)
    demand = found["Demand"]
    assert corr - set(demand.inputs) == set(demand.together_with)
    assert {f"input:{n}" for n in corr} <= demand.streams
    # Placement costs take their children's cost spread too; FSP's effect is a factor of its own.
    assert any(s.startswith("placement_costs:") for s in found["Placement costs"].streams)
    assert found[FSP_EFFECT].inputs == ("entry_reduction",)
    # A single input in the correlation matrix is the whole matrix: listed once, not once for each.
    sets = [f.streams for f in found.values()]
    assert len(sets) == len(set(sets))


@pytest.mark.parametrize("group", ["Workforce", "Demand", "Programme delivery"])
def test_a_pinned_group_has_no_effect(config_2024, group):
    f = next(f for f in factors(config_2024) if f.label == group)
    pins = {n: config_2024.inputs[n].dist.central for n in (*f.inputs, *f.together_with)}
    table = variance_sensitivity(config_2024, seed=3, rows=2048, overrides=pins, bootstrap=0)
    rows = table[table["factor"] == group]
    assert len(rows) == len(config_2024.years) + 1
    assert (rows["first_order"] == 0).all() and (rows["total_effect"] == 0).all()
    # Unpinned, the same group matters.
    free = variance_sensitivity(config_2024, seed=3, rows=2048, bootstrap=0)
    assert free[(free["factor"] == group) & (free["year"] == "total")]["total_effect"].iloc[0] > 0


def test_indices_on_the_model_are_consistent_and_reproducible(config_2024):
    one = variance_sensitivity(config_2024, seed=9, top_inputs=list(config_2024.inputs), rows=4096, bootstrap=50,
                               workers=1)
    two = variance_sensitivity(config_2024, seed=9, top_inputs=list(config_2024.inputs), rows=4096, bootstrap=50,
                               workers=2)
    assert one.equals(two)  # whatever the threads
    assert list(one.columns[:7]) == ["output", "year", "factor", "first_order", "first_order_ci", "total_effect",
                                     "total_effect_ci"]
    ok = one.dropna(subset=["total_effect"])
    # A total effect is never below the first-order index beyond the noise, and neither leaves [0, 1] beyond it.
    noise = ok["first_order_ci"] + ok["total_effect_ci"] + 0.01
    assert (ok["total_effect"] >= ok["first_order"] - noise).all()
    assert (ok["total_effect"] <= 1 + noise).all() and (ok["first_order"] >= -noise).all()
    # Demand and placement costs carry nearly all of the default config's variance over the period.
    total = ok[ok["year"] == "total"].set_index("factor")
    assert total.loc["Demand", "total_effect"] > 0.5 and total.loc["Workforce", "total_effect"] < 0.1
    assert (one["evaluations"] == 4096 * (2 + one["factor"].nunique())).all()


def test_a_risk_costed_in_pounds_brings_its_own_occurrences(tmp_path):
    # A register risk with a £ impact: its factor holds its likelihood and impact inputs and the streams that
    # say whether and when it occurs, so its indices count the event itself, not only its inputs' ranges.
    from test_risk_register import import_config

    config = fsp_risk.load_config(import_config(tmp_path, "id,title,owner,likelihood,impact\nC1,Grant ends,FBP,4,3\n"))
    found = {f.label: f for f in factors(config)}
    risk = next(f for label, f in found.items() if label.startswith("Risk C1"))
    assert {"risk:C1:year", "risk:C1:once", "risk:C1:pick"} <= risk.streams
    from fsp_risk.engine.pickfreeze import pick_freeze

    y_a, _, y_h = pick_freeze(config, [risk.streams], 4096, seed=2)
    moved = (np.abs(y_h[0] - y_a).sum(axis=1) > 0).mean()
    # Wherever the risk occurs in A or in B (its likelihood is 50-80% over the horizon, so 1 - 0.35**2 of rows).
    assert moved == pytest.approx(1 - 0.35**2, abs=0.03)
    # Its likelihood and impact pinned, the event still happens or not: the hybrid still moves.
    pins = {n: config.inputs[n].dist.central for n in risk.inputs}
    y_a, _, y_h = pick_freeze(config, [risk.streams], 4096, seed=2, overrides=pins)
    assert 0.2 < (np.abs(y_h[0] - y_a).sum(axis=1) > 0).mean() < moved
