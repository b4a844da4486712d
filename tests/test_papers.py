"""The model against the council papers' own tables."""
import numpy as np
import pytest

import fsp_risk

# Oxfordshire Cabinet, 16 July 2019, para 42: the MTFP savings table (£; negative = saving).
NET_CHANGE_2019 = [740_000, 250_000, 0, -446_000, -944_000, -945_000, -945_000]
TOTAL_SAVINGS_2019 = [0, -250_000, -500_000, -946_000, -944_000, -945_000, -945_000]


def test_2019_net_change_to_mtfp_to_the_pound(config_2019):
    ds = fsp_risk.simulate(config_2019, deterministic=True)
    assert ds.sizes["iteration"] == 1
    net = ds["net_change_to_mtfp"].isel(iteration=0).values
    assert list(ds.year.values) == ["2019/20", "2020/21", "2021/22", "2022/23", "2023/24", "2024/25", "2025/26"]
    np.testing.assert_array_equal(np.round(net, 2), NET_CHANGE_2019)
    assert round(float(net.sum()), 2) == -2_290_000


def test_2019_total_savings_row_to_the_pound(config_2019):
    ds = fsp_risk.simulate(config_2019, deterministic=True)
    savings = ds["total_savings"].isel(iteration=0).values
    np.testing.assert_array_equal(np.round(savings, 2), TOTAL_SAVINGS_2019)
    assert round(float(savings.sum()), 2) == -4_530_000


def test_2019_lines_add_up_to_net_change(config_2019):
    ds = fsp_risk.simulate(config_2019, iterations=2_000, seed=3)
    np.testing.assert_allclose(ds["net_change_by_line"].sum("line"), ds["net_change_to_mtfp"], rtol=0, atol=1e-6)


# Paper 003 para 37: counts at 31 March 2020, 2023 and 2025 (the ends of 2019/20, 2022/23 and 2024/25).
PARA_37 = {
    "lac": {"as_is": [810, 919, 990], "fsp": [756, 697, 682]},
    "cp": {"as_is": [658, 854, 1008], "fsp": [587, 581, 606]},
    "open_cases": {"as_is": [5372, 5737, 5940], "fsp": [5103, 4560, 4543]},
}


def test_2019_deterministic_run_reproduces_the_fsm2_table(config_2019):
    ds = fsp_risk.simulate(config_2019, deterministic=True).isel(iteration=0).sel(year=["2019/20", "2022/23", "2024/25"])
    for measure, lines in PARA_37.items():
        for case, counts in lines.items():
            np.testing.assert_allclose(ds[f"{measure}_{case}"].values, counts, atol=1e-6, err_msg=f"{measure} {case}")


def test_2024_central_case_is_the_unreplaced_grant_loss(config_2024):
    # 000 para 34: £400k at risk from 2025/26 (Supported People / Supporting Families £200k, Public Health
    # £200k). Before mitigation both end and partners replace 25% and 40% (the inputs' modes); after the
    # register's co-funding mitigation (M3) they replace 35% and 50%.
    ds = fsp_risk.simulate(config_2024, deterministic=True).isel(iteration=0)
    np.testing.assert_allclose(ds["net_change_inherent"].values, [0, 270_000, 270_000, 270_000, 270_000])
    np.testing.assert_allclose(ds["net_change_to_mtfp"].values, [0, 230_000, 230_000, 230_000, 230_000])
    np.testing.assert_allclose(ds["grant_loss"].values, ds["net_change_to_mtfp"].values)
    # The central case is the budget: no placement or workforce variance.
    assert float(np.abs(ds["net_change_by_line"].sel(line=["placements", "workforce"])).max()) == 0


def test_service_cost_avoidance_end_to_end(tmp_path):
    """The optional service section: teams avoided as open cases fall, costed per team."""
    import yaml

    from conftest import CONFIGS

    data = yaml.safe_load((CONFIGS / "oxfordshire-2019-business-case.yaml").read_text())
    common = {"units": "x", "source": "test", "owner": "test", "evidence": "red", "date": "2019-07-16",
              "review": "2020-07-16", "dist": "fixed"}
    data["inputs"]["cases_per_team"] = {**common, "title": "Open cases per team", "value": 244}
    data["inputs"]["team_cost"] = {**common, "title": "Cost of a team", "value": 500_000}
    data["service"] = {"measure": "open_cases", "cases_per_team": "cases_per_team", "team_cost": "team_cost"}
    path = tmp_path / "with-service.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    ds = fsp_risk.simulate(fsp_risk.load_config(path), deterministic=True).isel(iteration=0)
    stock_gap = np.concatenate([[0.0], (ds["open_cases_as_is"] - ds["open_cases_fsp"]).values])
    case_years = (stock_gap[:-1] + stock_gap[1:]) / 2  # nothing avoided at 31 March 2019, before go-live
    np.testing.assert_allclose(ds["service_cost_avoidance"].values, case_years / 244 * 500_000)
    assert float(ds["service_cost_avoidance"].sum()) > 0


def test_line_metadata(config_2019):
    ds = fsp_risk.simulate(config_2019, deterministic=True)
    kinds = dict(zip(ds.line.values, ds.line_kind.values))
    assert kinds["saving:placement_savings"] == "saving (recurrent, cashable)"
    assert kinds["cost:training"] == "cost pressure" and kinds["funding:partner_adult_posts"] == "funding loss"
    titles = dict(zip(ds.line.values, ds.line_title.values))
    assert titles["mtfp_target"] == "Current MTFP savings target"


def test_pay_above_the_plan_is_the_workforce_pressure(tmp_path):
    """The staff budget is set once on the plan: the establishment at the planned pay and the central
    vacancy, agency and turnover rates. With only pay uncertain, the pressure is pay above the plan."""
    import yaml

    from conftest import CONFIGS

    data = yaml.safe_load((CONFIGS / "oxfordshire-2019-business-case.yaml").read_text())
    for name in ("sw_turnover", "sw_vacancy", "sw_agency_cover", "sw_agency_premium", "sw_recruitment_cost"):
        spec = data["inputs"][name]
        centre = spec["mode"]
        for key in ("low", "mode", "high"):
            spec.pop(key)
        spec.update(dist="fixed", value=centre)
    path = tmp_path / "salary-only.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    config = fsp_risk.load_config(path)
    ds = fsp_risk.simulate(config, iterations=2_000, seed=4)
    pressure = ds["workforce_cost_pressure"].isel(year=0).values
    cost = ds["workforce_cost"].isel(year=0).values
    assert float(ds["workforce_cost"].std()) > 100_000  # salaries vary...
    # ...and the budget does not move with them: the pressure is the cost above the planned cost, pound for pound.
    planned = float(fsp_risk.simulate(config, deterministic=True)["workforce_cost"].isel(year=0, iteration=0))
    np.testing.assert_allclose(pressure, cost - planned, atol=0.01)
    assert (pressure > 0).mean() == pytest.approx(0.5, abs=0.1)
