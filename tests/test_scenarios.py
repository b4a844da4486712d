"""Scenarios, stress tests and the counterfactual without FSP, on common random numbers."""
import copy
from pathlib import Path

import numpy as np
import pytest
import yaml

import fsp_risk
from fsp_risk import ConfigError
from fsp_risk.analysis.scenarios import mtfp_improvement, scenario_table
from fsp_risk.engine.scenarios import parse_stress, simulate_scenarios

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
N = 4_000


@pytest.fixture(scope="module")
def scen_2019(config_2019):
    return simulate_scenarios(config_2019, N, 11, "mc")


@pytest.fixture(scope="module")
def scen_2024(config_2024):
    return simulate_scenarios(config_2024, N, 11, "mc", [parse_stress(config_2024, "sw_turnover=0.3")])


def test_shipped_scenarios(config_2019, config_2024, scen_2019, scen_2024):
    assert list(config_2019.scenarios) == ["fsm_1", "fsm_2_from_go_live"]
    assert list(config_2024.scenarios) == ["grant_lost", "grant_replaced", "without_mitigation"]
    assert list(scen_2019.scenario.values) == ["base", "fsm_1", "fsm_2_from_go_live", "without_fsp"]
    assert list(scen_2024.scenario.values) == ["base", "grant_lost", "grant_replaced", "without_mitigation",
                                               "stress_1", "without_fsp"]
    assert set(scen_2024.dims) == {"scenario", "iteration", "year"}


def test_base_case_is_the_main_run(config_2024, scen_2024):
    ds = fsp_risk.simulate(config_2024, iterations=N, seed=11)
    np.testing.assert_array_equal(ds["net_change_to_mtfp"].values,
                                  scen_2024["net_change_to_mtfp"].sel(scenario="base").values)


def test_fsm_scenarios(scen_2019):
    lac = scen_2019["lac_fsp"]
    # FSM 1 is FSM 2 from go-live without the statistical-neighbour cap, so never more children.
    from_go_live = lac.sel(scenario="fsm_2_from_go_live")
    assert bool((lac.sel(scenario="fsm_1") <= from_go_live + 1e-9).all())
    # The cap binds late in the horizon, so that is where FSM 1 has fewer children.
    last = dict(year="2025/26")
    assert float((lac.sel(scenario="fsm_1", **last) < from_go_live.sel(**last) - 1).mean()) > 0.5
    # The paper's line (the base) has fewer children before go-live than the 5% a year applied from June 2020.
    first = dict(year="2019/20")
    base = lac.sel(scenario="base", **first)
    assert bool((base <= from_go_live.sel(**first) + 1e-9).all())
    assert float((base < from_go_live.sel(**first) - 1).mean()) > 0.8  # all but the programme that fails
    table = scenario_table(scen_2019).set_index("scenario")
    assert table.loc["fsm_2_from_go_live", "diff_mean"] > 0  # fewer children kept out early: more pressure
    assert table.loc["fsm_1", "diff_mean"] < table.loc["fsm_2_from_go_live", "diff_mean"]


def test_grant_scenarios_pin_the_funding(scen_2024, config_2024):
    loss = scen_2024["grant_loss"]
    after = loss.sel(year=["2025/26", "2026/27", "2027/28", "2028/29"])
    np.testing.assert_allclose(after.sel(scenario="grant_lost").values, 400_000)
    np.testing.assert_allclose(loss.sel(scenario="grant_replaced").values, 0)
    np.testing.assert_allclose(loss.sel(scenario="grant_lost", year="2024/25").values, 0)
    table = scenario_table(scen_2024).set_index("scenario")
    assert table.loc["grant_lost", "diff_mean"] > 0 > table.loc["grant_replaced", "diff_mean"]
    # Without mitigation the register's risks bite harder: more pressure on average, never much less.
    assert table.loc["without_mitigation", "diff_mean"] > 0
    assert table.loc["stress_1", "diff_mean"] > 0  # turnover at 30% is above its whole assumed range


def test_counterfactual_without_fsp(config_2019, scen_2019, scen_2024):
    for scen in (scen_2019, scen_2024):
        w = scen.sel(scenario="without_fsp")
        np.testing.assert_allclose(w["lac_fsp"].values, w["lac_as_is"].values, rtol=1e-12)
        np.testing.assert_array_equal(w["total_savings"].values, 0)
        np.testing.assert_array_equal(w["grant_loss"].values, 0)
        benefit = mtfp_improvement(scen)
        total = scen["net_change_to_mtfp"].sum("year")
        np.testing.assert_allclose(benefit, (total.sel(scenario="without_fsp") - total.sel(scenario="base")).values)
    # Without FSP the council misses the redesign target and, its placement budget set on the with-FSP
    # plan, pays for the children FSP would have kept out of care: its only costs.
    target = -np.asarray(config_2019.mtfp.target.values) - np.asarray(config_2019.mtfp.delivered_outside.values)
    costs = scen_2019["total_costs"].sel(scenario="without_fsp").values
    np.testing.assert_allclose(scen_2019["net_change_to_mtfp"].sel(scenario="without_fsp").values,
                               costs + np.broadcast_to(target, (N, len(target))))
    assert costs.mean() > 0 and (costs.mean(axis=0)[2:] > costs.mean(axis=0)[0]).all()  # growing with the effect
    # The as-is demand is the same demand the with-FSP run starts from.
    np.testing.assert_array_equal(scen_2024["lac_as_is"].sel(scenario="without_fsp").values,
                                  scen_2024["lac_as_is"].sel(scenario="base").values)


def test_common_random_numbers_shrink_the_standard_error_of_a_difference(config_2024):
    # Reported: the standard error of the mean difference on CRN against two independent runs.
    scen = simulate_scenarios(config_2024, N, 3, "mc", counterfactual=False)
    table = scenario_table(scen).set_index("scenario")
    for name in ("grant_lost", "without_mitigation"):
        assert table.loc[name, "diff_mean_se"] < table.loc[name, "diff_mean_se_independent"] / 4
    # Measured: across seeds, the CRN estimate of the grant-lost difference scatters far less than the
    # difference of two runs on independent seeds.
    crn, independent = [], []
    for seed in range(8):
        a = simulate_scenarios(config_2024, 2_000, seed, "mc", counterfactual=False)
        b = simulate_scenarios(config_2024, 2_000, seed + 100, "mc", counterfactual=False)
        total_a = a["net_change_to_mtfp"].sum("year")
        total_b = b["net_change_to_mtfp"].sum("year")
        crn.append(float((total_a.sel(scenario="grant_lost") - total_a.sel(scenario="base")).mean()))
        independent.append(float(total_b.sel(scenario="grant_lost").mean() - total_a.sel(scenario="base").mean()))
    assert np.std(crn) < np.std(independent) / 10


def test_sobol_scenarios_share_one_design(config_2024):
    scen = simulate_scenarios(config_2024, 2_000, 1, "sobol")
    ds = fsp_risk.simulate(config_2024, iterations=2_000, seed=1, sampler="sobol")
    np.testing.assert_array_equal(ds["net_change_to_mtfp"].values, scen["net_change_to_mtfp"].sel(scenario="base").values)


def test_stress_parsing(config_2024):
    assert parse_stress(config_2024, "public_health_ends=1, sw_turnover=0.3") == {"public_health_ends": 1.0,
                                                                                  "sw_turnover": 0.3}
    # A year-valued input takes the year as the README writes it (stored as its index in the horizon).
    assert parse_stress(config_2024, "public_health_end_year=2025/26") == {"public_health_end_year": 1.0}
    for text, message in [
        ("sw_turnover", "--stress: expected input=value (several joined by commas), got 'sw_turnover'"),
        ("sw_turnover=high", "--stress.sw_turnover: expected a number, got 'high' (a text)"),
        ("public_health_end_year=1", "--stress.public_health_end_year: expected a year within the horizon "
                                     "(2024/25 to 2028/29), got '1'"),
        ("sw_turnover=0.1,sw_turnover=0.2", "--stress.sw_turnover: expected each input once in a stress test"),
        ("sw_turnovr=0.3", "--stress.sw_turnovr: unknown input 'sw_turnovr' (did you mean 'sw_turnover'?)"),
        ("sw_turnover=1.3", "--stress.sw_turnover: expected a value the model can take for this input, [0, 1], got 1.3"),
    ]:
        with pytest.raises(ConfigError) as err:
            parse_stress(config_2024, text)
        assert message in str(err.value)


BASE = yaml.safe_load((CONFIGS / "oxfordshire-2024-commissioning.yaml").read_text())


def write(tmp_path, scenarios):
    data = copy.deepcopy(BASE)
    data["scenarios"] = scenarios
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


OK = {"title": "t", "source": "s"}
BAD = [
    ("reserved name", {"base": OK}, "scenarios.base: expected a name of letters, digits and _ other than base and without_fsp"),
    ("no title", {"x": {"source": "s"}}, "scenarios.x.title: required field is missing"),
    ("unknown field", {"x": {**OK, "pins": {}}}, "scenarios.x.pins: unknown field (expected one of: title, source, set, pin) (did you mean 'pin'?)"),
    ("path not in config", {"x": {**OK, "set": {"demand.measures.lax.fsp.floor": None}}},
     "scenarios.x.set.demand.measures.lax.fsp.floor: no field 'demand.measures.lax' to change in the config (did you mean 'lac'?)"),
    ("remove a missing field", {"x": {**OK, "set": {"demand.measures.lac.fsp.flor": None}}},
     "scenarios.x.set.demand.measures.lac.fsp.flor: no field 'demand.measures.lac.fsp.flor' to remove"),
    ("change makes the config invalid", {"x": {**OK, "set": {"inputs.entry_reduction.high": -1}}},
     "scenarios.x.set: with this scenario's changes the config is invalid at inputs.entry_reduction:"),
    ("pin unknown input", {"x": {**OK, "pin": {"entry_reductio": 0.1}}},
     "scenarios.x.pin.entry_reductio: unknown input 'entry_reductio' (did you mean 'entry_reduction'?)"),
    ("pin outside what the model takes", {"x": {**OK, "pin": {"entry_reduction": 2}}},
     "scenarios.x.pin.entry_reduction: expected a value the model can take for this input, [0, 1], got 2"),
    ("pin a year outside the horizon", {"x": {**OK, "pin": {"public_health_end_year": "2031/32"}}},
     "scenarios.x.pin.public_health_end_year: expected a year within the horizon (2024/25 to 2028/29), got '2031/32'"),
    ("pin a text", {"x": {**OK, "pin": {"entry_reduction": "half"}}},
     "scenarios.x.pin.entry_reduction: expected a number, got 'half' (a text)"),
]


@pytest.mark.parametrize("label, scenarios, message", BAD, ids=[b[0] for b in BAD])
def test_bad_scenarios_are_refused_with_their_message(tmp_path, label, scenarios, message):
    path = write(tmp_path, scenarios)
    with pytest.raises(ConfigError) as err:
        fsp_risk.load_config(path)
    assert str(err.value).startswith(f"{path}: {message}")


@pytest.mark.print_charts
def test_cli_stress_and_scenarios_in_the_run_folder(tmp_path):
    from fsp_risk.app import cli
    from fsp_risk.app.results import rebuild_outputs

    assert cli.main(["run", "--iterations", "2000", "--stress", "sw_turnover=0.3", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    table = (folder / "scenarios.csv").read_text()
    assert "stress_1" in table and "sw_turnover=0.3" in table and "without_fsp" in table
    for name in ("scenarios", "value_for_money"):
        assert (folder / "charts" / f"{name}.png").is_file() and (folder / "charts" / f"{name}.svg").is_file()
    findings = (folder / "findings.md").read_text()
    assert "Stress test: sw_turnover = 0.3" in findings and "Value for money over" in findings
    (folder / "scenarios.csv").unlink()
    rebuild_outputs(folder)
    assert (folder / "scenarios.csv").read_text() == table
    assert cli.main(["run", "--iterations", "100", "--stress", "sw_turnover=7", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
