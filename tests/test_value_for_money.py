"""Value for money beside the MTFP view, the avoided placement mix and evidence dated after the decision."""
import dataclasses

import numpy as np
import pytest
import yaml

import fsp_risk
from fsp_risk.analysis.summary import value_for_money
from fsp_risk.config import parse_config
from fsp_risk.errors import ConfigError
from fsp_risk.engine.blocks import central_case

from conftest import CONFIGS

N = 3000


def _config(name, edit=None):
    text = (CONFIGS / name).read_text()
    if edit is not None:
        data = yaml.safe_load(text)
        edit(data)
        text = yaml.safe_dump(data, sort_keys=False)
    return parse_config(text, str(CONFIGS / name))


def test_programme_costs_are_every_cost_line_whoever_pays(config_2019):
    ds = fsp_risk.simulate(config_2019, deterministic=True).isel(iteration=0)
    # Central case: no overruns, pay as planned, staffing on budget: the costs are the paper's cost lines
    # (003 para 39 and 41), partner-funded posts included.
    lines = sum(np.asarray(c.amounts.values) for c in config_2019.costs)
    np.testing.assert_allclose(ds["programme_costs"].values, lines, rtol=1e-12)
    assert float(ds["programme_costs"].sum()) == pytest.approx(1_565_250 + 2_182_500 + 6_547_500 + 4_800_000)


def test_benefits_are_costs_avoided_after_optimism_bias(config_2019):
    ds = fsp_risk.simulate(config_2019, deterministic=True).isel(iteration=0)
    x, central = central_case(config_2019)
    service = next(s for s in config_2019.savings if s.driver == "open_cases")
    rate = -np.asarray(service.planned.values) / central["avoided:open_cases"][0]
    rate[~np.isfinite(rate)] = 0
    avoided = ds["placement_cost_avoidance"].values + rate * central["avoided:open_cases"][0]
    np.testing.assert_allclose(ds["programme_benefits"].values, 0.85 * avoided, rtol=1e-12)
    # Present values: real terms at the GDP deflator (2% a year), discounted at 3.5% from 2019/20.
    k = np.arange(len(config_2019.years))
    np.testing.assert_allclose(ds["programme_benefits_pv"].values, 0.85 * avoided / 1.02 ** k / 1.035 ** k, rtol=1e-12)


def test_value_for_money_table_and_its_signs(config_2019):
    base = fsp_risk.simulate(config_2019, iterations=N, seed=5)
    table, npv = value_for_money(base)
    rows = table.set_index("measure")
    benefits = base["programme_benefits_pv"].sum("year").values
    costs = base["programme_costs_pv"].sum("year").values
    np.testing.assert_allclose(npv, benefits - costs)
    assert rows.loc["net_present_value", "p50"] == pytest.approx(np.percentile(benefits - costs, 50), abs=1)
    assert rows.loc["benefit_cost_ratio", "p50"] == pytest.approx(np.median(benefits / costs), abs=0.01)
    assert rows.loc["net_present_value", "p_npv_positive"] == pytest.approx(((benefits - costs) > 0).mean())
    # Without the optimism-bias cut every iteration's benefits are 1 / 0.85 times as large.
    no_bias = fsp_risk.simulate(config_2019, iterations=N, seed=5, overrides={"optimism_bias_benefits": 0})
    np.testing.assert_allclose(no_bias["programme_benefits_pv"].values * 0.85, base["programme_benefits_pv"].values,
                               rtol=1e-12)
    # Dearer project costs lower the NPV in every iteration; a stronger effect raises it.
    dear = fsp_risk.simulate(config_2019, iterations=N, seed=5, overrides={"project_cost_overrun": 1.4})
    cheap = fsp_risk.simulate(config_2019, iterations=N, seed=5, overrides={"project_cost_overrun": 1.0})
    assert (value_for_money(dear)[1] < value_for_money(cheap)[1]).all()
    weak = fsp_risk.simulate(config_2019, iterations=N, seed=5, overrides={"fsm_annual_reduction": 0.03})
    strong = fsp_risk.simulate(config_2019, iterations=N, seed=5, overrides={"fsm_annual_reduction": 0.07})
    assert (value_for_money(strong)[1] >= value_for_money(weak)[1] - 1e-6).all()


def test_avoided_children_are_costed_at_the_entrants_mix(config_2019):
    x, d = central_case(config_2019)
    p = config_2019.placements
    fy = np.arange(config_2019.first_year, config_2019.first_year + len(config_2019.years))
    central = {n: i.dist.central for n, i in config_2019.inputs.items()}
    costs = [central[t.unit_cost] * (1 + central[p.inflation]) ** (fy - t.price_year) for t in p.types]
    avoided_mix = sum(central[t.avoided_share] * c for t, c in zip(p.types, costs))
    stock_mix = sum(central[t.share] * c for t, c in zip(p.types, costs))
    np.testing.assert_allclose(d["placement_cost_avoidance"][0], d["avoided:lac"][0] * avoided_mix, rtol=1e-9)
    assert (avoided_mix < 0.8 * stock_mix).all()  # entrants go mostly to fostering: a child avoided costs less
    # Without avoided shares the avoided children are costed at the mix in care, as before.
    same = dataclasses.replace(p, types=tuple(dataclasses.replace(t, avoided_share=None) for t in p.types))
    _, d_stock = central_case(dataclasses.replace(config_2019, placements=same))
    np.testing.assert_allclose(d_stock["placement_cost_avoidance"][0], d["avoided:lac"][0] * stock_mix, rtol=1e-9)


def test_avoided_share_on_some_types_only_is_refused():
    def edit(data):
        del data["placements"]["types"]["other"]["avoided_share"]

    with pytest.raises(ConfigError) as err:
        _config("oxfordshire-2019-business-case.yaml", edit)
    assert err.value.path == "placements.types.other.avoided_share"
    assert "every placement type or on none" in str(err.value)


def test_the_2019_business_case_uses_only_evidence_from_before_july_2019(config_2019):
    assert config_2019.decision_date.isoformat() == "2019-07-16"
    assert config_2019.late_evidence == []
    assert all(item.date <= config_2019.decision_date for item in config_2019.inputs.values())


def test_evidence_after_the_decision_is_warned_about(tmp_path):
    from fsp_risk.outputs.findings import evidence_dating
    from fsp_risk.outputs.workbook import assumption_book

    def edit(data):
        data["inputs"]["placement_inflation"].update(date="2025-09-01", review="2026-02-28")

    config = _config("oxfordshire-2019-business-case.yaml", edit)
    lines = evidence_dating(config)
    warnings = [line for line in lines if line.startswith("- Warning:")]
    assert warnings == ["- Warning: Placement unit cost inflation (placement_inflation): evidence dated 1 September "
                        "2025, after the decision of 16 July 2019"]
    book = assumption_book(config).set_index("input")
    assert book.loc["placement_inflation", "after_decision"] == "EVIDENCE AFTER DECISION"
    assert (book.drop("placement_inflation")["after_decision"] == "").all()
