"""The risk register evaluated by simulation (issue 3, first part: risks with £ impacts)."""
import copy
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

import fsp_risk
from fsp_risk import ConfigError
from fsp_risk.analysis.register import impact_score, probability_band, risk_table

BASE = yaml.safe_load((Path(__file__).resolve().parents[1] / "configs" / "oxfordshire-2024-commissioning.yaml").read_text())
COMMON = {"units": "x", "source": "test", "owner": "test", "evidence": "red", "date": "2024-04-10", "review": "2025-04-10"}


def fixed(value, title="t"):
    return {**COMMON, "title": title, "dist": "fixed", "value": value}


def without_shipped_register(base):
    """The 2024 config without its own register, effect scales, common driver and the inputs only they use."""
    data = copy.deepcopy(base)
    del data["risk_register"]
    del data["common_drivers"]
    del data["scenarios"]  # they pin the register's mitigated inputs
    for spec in data["inputs"].values():
        spec.pop("driver", None)
    scales = [e["input"] for e in data["programme"].pop("effect_scales")]
    for name in scales + [n for n in data["inputs"] if n.endswith("_mitigated")]:
        del data["inputs"][name]
    return data


def with_register(risks, mitigations=(), drivers=None, inputs=None):
    data = without_shipped_register(BASE)
    data["inputs"].update(inputs or {})
    data["risk_register"] = {
        "scoring": {"impact_thresholds": [1, 50_000, 150_000, 500_000, 1_000_000],
                    "probability_bands": ["very low", "low", "medium", "high", "very high"],
                    "probability_thresholds": [0, 0.1, 0.3, 0.6, 0.9], "source": "test"},
        "risks": risks,
    }
    if mitigations:
        data["risk_register"]["mitigations"] = list(mitigations)
    if drivers:
        data["common_drivers"] = drivers
    return data


def risk(rid, likelihood, impact, **extra):
    return {"id": rid, "title": f"Risk {rid}", "owner": "o", "category": "finance", "type": "threat",
            "likelihood": likelihood, "impact": impact, **extra}


def load(tmp_path, data):
    path = tmp_path / "register.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return fsp_risk.load_config(path), path


def test_fixed_probability_and_impact(tmp_path):
    # p = 0.3 in one year, £200k when it happens: P(occurs) = 0.3, E[impact] = £60k.
    data = with_register([risk("R1", "p", "x", years=["2025/26"])],
                         inputs={"p": fixed(0.3), "x": fixed(200_000)})
    config, _ = load(tmp_path, data)
    n = 40_000
    ds = fsp_risk.simulate(config, iterations=n, seed=4)
    table = risk_table(ds, config).set_index("risk")
    se = np.sqrt(0.3 * 0.7 / n)
    assert abs(table.loc["R1", "p_occurs"] - 0.3) < 4.5 * se
    assert abs(table.loc["R1", "expected_impact"] - 60_000) < 4.5 * se * 200_000
    assert table.loc["R1", "impact_p50_if_occurs"] == pytest.approx(200_000)
    # It only occurs in its year, and its residual impact is a line of the net change.
    assert float(ds["risk_occurred"].sel(risk="R1").drop_sel(year="2025/26").sum()) == 0
    np.testing.assert_allclose(ds["net_change_by_line"].sel(line="risk:R1"), ds["risk_impact_residual"].sel(risk="R1"))
    np.testing.assert_allclose(ds["net_change_by_line"].sum("line"), ds["net_change_to_mtfp"], atol=1e-6)


def test_mitigation_halves_probability_and_costs_money(tmp_path):
    data = with_register(
        [risk("R1", "p", "x", years=["2025/26"])],
        mitigations=[{"id": "M1", "title": "Soft market testing", "risks": ["R1"], "likelihood_factor": "half",
                      "cost": {"values": {"2024/25": 10_000}, "source": "test"}}],
        inputs={"p": fixed(0.4), "x": fixed(100_000), "half": fixed(0.5)})
    config, _ = load(tmp_path, data)
    n = 40_000
    ds = fsp_risk.simulate(config, iterations=n, seed=6)
    table = risk_table(ds, config).set_index("risk")
    assert abs(table.loc["R1", "p_occurs_residual"] - 0.2) < 4.5 * np.sqrt(0.2 * 0.8 / n)
    assert table.loc["R1", "p_occurs_residual"] / table.loc["R1", "p_occurs"] == pytest.approx(0.5, abs=0.03)
    # Common random numbers: the mitigated risk occurs only where the unmitigated one does.
    assert bool((ds["risk_occurred_residual"] <= ds["risk_occurred"]).all())
    assert table.loc["R1", "mitigation_cost"] == 10_000
    assert float(ds["net_change_by_line"].sel(line="mitigation:M1", year="2024/25").min()) == 10_000


def test_common_driver_correlation(tmp_path):
    # Two median risks whose normal scores load 0.8 and 0.75 on one driver: correlation 0.6, so the
    # occurrence indicators correlate 2 arcsin(0.6) / pi (bivariate normal orthant probability).
    data = with_register(
        [risk("A", "p", "x", basis="horizon", driver={"name": "climate", "loading": 0.8}),
         risk("B", "p", "x", basis="horizon", driver={"name": "climate", "loading": 0.75}),
         risk("C", "p", "x", basis="horizon")],
        drivers={"climate": "Partner funding climate"},
        inputs={"p": fixed(0.5), "x": fixed(1_000)})
    config, _ = load(tmp_path, data)
    ds = fsp_risk.simulate(config, iterations=60_000, seed=2)
    occ = ds["risk_occurred"].sum("year")
    corr = np.corrcoef(occ.sel(risk="A"), occ.sel(risk="B"))[0, 1]
    assert corr == pytest.approx(2 * np.arcsin(0.6) / np.pi, abs=0.02)
    assert abs(np.corrcoef(occ.sel(risk="A"), occ.sel(risk="C"))[0, 1]) < 0.02


def test_horizon_risk_occurs_at_most_once(tmp_path):
    data = with_register([risk("R1", "p", "x", basis="horizon", years=["2025/26", "2026/27"])],
                         inputs={"p": fixed(0.5), "x": fixed(1_000)})
    config, _ = load(tmp_path, data)
    ds = fsp_risk.simulate(config, iterations=20_000, seed=1)
    per_iter = ds["risk_occurred"].sel(risk="R1").sum("year")
    assert int(per_iter.max()) == 1
    by_year = ds["risk_occurred"].sel(risk="R1").mean("iteration")
    assert float(by_year.sel(year="2025/26")) == pytest.approx(0.25, abs=0.015)
    assert float(by_year.sel(year="2024/25")) == 0


def test_opportunity_is_negative(tmp_path):
    data = with_register([risk("O1", "p", "x", type="opportunity")], inputs={"p": fixed(1.0), "x": fixed(5_000)})
    config, _ = load(tmp_path, data)
    ds = fsp_risk.simulate(config, iterations=100, seed=1)
    assert float(ds["risk_impact"].max()) == -5_000


@pytest.mark.parametrize("value, score", [(0, 0), (0.5, 0), (1, 1), (49_999, 1), (50_000, 2), (150_000, 3),
                                          (499_999.99, 3), (500_000, 4), (1_000_000, 5), (9e9, 5)])
def test_impact_score_boundaries(value, score):
    assert impact_score(value, (1, 50_000, 150_000, 500_000, 1_000_000)) == score


@pytest.mark.parametrize("p, band", [(0, "very low"), (0.0999, "very low"), (0.1, "low"), (0.3, "medium"),
                                     (0.5999, "medium"), (0.6, "high"), (0.9, "very high"), (1.0, "very high")])
def test_probability_band_boundaries(p, band):
    assert probability_band(p, (0, 0.1, 0.3, 0.6, 0.9), ("very low", "low", "medium", "high", "very high")) == band


def test_register_score_differences_are_reported(tmp_path):
    data = with_register([risk("R1", "p", "x", stated={"impact": 4, "probability": "medium"})],
                         inputs={"p": fixed(0.05), "x": fixed(200_000)})
    config, _ = load(tmp_path, data)
    table = risk_table(fsp_risk.simulate(config, iterations=20_000, seed=3), config).set_index("risk")
    # 5% a year over five years is about 23% ("low"); £200k when it happens scores 3, not 4.
    assert table.loc["R1", "simulated_impact_score"] == 3
    assert table.loc["R1", "simulated_probability_band"] == "low"
    assert table.loc["R1", "differs_from_register"] == (
        "impact simulated 3, register says 4; probability simulated 'low', register says 'medium'")


@pytest.mark.parametrize("change, message", [
    (lambda d: d["risk_register"]["risks"][0].update(driver={"name": "climat", "loading": 0.5}),
     "risk_register.risks[R1].driver.name: expected one of climate, got 'climat' (did you mean 'climate'?)"),
    (lambda d: d["inputs"]["p"].update(value=1.5),
     "risk_register.risks[R1].likelihood: input 'p' can take values in [1.5, 1.5], but this field expects values [0, 1]"),
    (lambda d: d["risk_register"].__setitem__("mitigations", [{"id": "M1", "title": "m", "risks": ["R11"],
                                                               "impact_factor": "p"}]),
     "risk_register.mitigations[M1].risks: unknown risk 'R11' (did you mean 'R1'?); risks are R1"),
    (lambda d: d["risk_register"]["risks"].append(dict(d["risk_register"]["risks"][0])),
     "risk_register.risks[R1].id: expected a unique risk id"),
    (lambda d: d["risk_register"]["risks"][0].update(years=["2031/32"]),
     "risk_register.risks[R1].years: year '2031/32' is outside the config's years"),
    (lambda d: d["risk_register"]["scoring"].update(probability_thresholds=[0, 0.3, 0.1, 0.6, 0.9]),
     "risk_register.scoring.probability_thresholds: expected strictly increasing numbers"),
    (lambda d: d["risk_register"]["risks"][0].update(type="worry"),
     "risk_register.risks[R1].type: expected one of threat, opportunity, got 'worry'"),
])
def test_register_errors_name_the_risk_and_field(tmp_path, change, message):
    data = with_register([risk("R1", "p", "x")], drivers={"climate": "c"},
                         inputs={"p": fixed(0.2), "x": fixed(1_000)})
    change(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError, match=re.escape(f"{path}: {message}")):
        fsp_risk.load_config(path)


def test_run_folder_has_the_risk_table(tmp_path):
    import pandas as pd

    from fsp_risk.app import cli

    data = with_register([risk("R1", "p", "x")], inputs={"p": fixed(0.2), "x": fixed(1_000)})
    _, path = load(tmp_path, data)
    assert cli.main(["run", str(path), "--iterations", "500", "--out", str(tmp_path / "out")]) == 0
    folder = next((tmp_path / "out").iterdir())
    table = pd.read_csv(folder / "risk_register.csv")
    assert list(table.risk) == ["R1"] and 0 < table.p_occurs[0] < 1


def linked_funding_register(mitigate=False):
    mitigations = []
    inputs = {}
    if mitigate:
        mitigations = [{"id": "M3", "title": "Co-funding agreed with statutory partners", "risks": ["R3"],
                        "replace": {"public_health_ends": "public_health_ends_mitigated"}}]
        inputs["public_health_ends_mitigated"] = {**COMMON, "title": "PH funding ends after mitigation",
                                                  "dist": "bernoulli", "p": 0.45}
    return with_register(
        [{"id": "R3", "title": "Sustainable funding not identified", "owner": "o", "category": "funding",
          "type": "threat", "link": {"supporting_families_ends": 0, "public_health_ends": 0}}],
        mitigations=mitigations, inputs=inputs)


def test_linked_risk_costs_what_the_model_says(tmp_path):
    # Switching both funding streams back on removes exactly the unreplaced grant loss, year by year.
    config, _ = load(tmp_path, linked_funding_register())
    n = 20_000
    ds = fsp_risk.simulate(config, iterations=n, seed=12)
    np.testing.assert_allclose(ds["risk_impact"].sel(risk="R3"), ds["grant_loss"], atol=1e-6)
    table = risk_table(ds, config).set_index("risk")
    p_any = 1 - (1 - 0.8) * (1 - 0.9)  # either stream ends (independent draws)
    assert abs(table.loc["R3", "p_occurs"] - p_any) < 4.5 * np.sqrt(p_any * (1 - p_any) / n)
    assert "risk:R3" not in ds.line.values  # already inside the model's funding lines


def test_replace_mitigation_uses_the_same_draws(tmp_path):
    config, _ = load(tmp_path, linked_funding_register(mitigate=True))
    ds = fsp_risk.simulate(config, iterations=20_000, seed=12)
    # Main result is after mitigation; the inherent net change is kept beside it.
    assert float(ds["net_change_to_mtfp"].mean()) < float(ds["net_change_inherent"].mean())
    occ, occ_res = ds["risk_occurred"].sel(risk="R3"), ds["risk_occurred_residual"].sel(risk="R3")
    assert bool((occ_res <= occ).all())
    res = ds["risk_impact_residual"].sel(risk="R3").sum("year")
    inh = ds["risk_impact"].sel(risk="R3").sum("year")
    assert bool((res <= inh + 1e-6).all()) and float(res.mean()) < float(inh.mean())


def test_linked_risk_errors(tmp_path):
    data = linked_funding_register()
    data["risk_register"]["risks"][0]["link"] = {"public_health_end": 0}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError, match=re.escape(
            "risk_register.risks[R3].link.public_health_end: unknown input 'public_health_end' (did you mean 'public_health_ends'?)")):
        fsp_risk.load_config(path)
    data = linked_funding_register()
    data["risk_register"]["risks"][0]["likelihood"] = "p"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError, match=re.escape("risk_register.risks[R3].likelihood: a risk linked to the model")):
        fsp_risk.load_config(path)


def test_portfolio_p80_contribution_and_reserve(tmp_path):
    # Two independent risks of £100k at 50% and £1m at 10% (one year): exposure quantiles are closed form.
    data = with_register([risk("A", "pa", "xa", years=["2025/26"]), risk("B", "pb", "xb", years=["2025/26"])],
                         inputs={"pa": fixed(0.5), "xa": fixed(100_000), "pb": fixed(0.1), "xb": fixed(1_000_000)})
    data["risk_register"]["reserve_confidence"] = 0.8
    config, _ = load(tmp_path, data)
    ds = fsp_risk.simulate(config, iterations=40_000, seed=7)
    from fsp_risk.analysis.register import portfolio_table
    from fsp_risk.outputs.findings import reserve_statement

    table = portfolio_table(ds, config).set_index("risk")
    assert table.loc["A", "emv"] == pytest.approx(50_000, rel=0.03)
    assert table.loc["B", "emv"] == pytest.approx(100_000, rel=0.08)
    # Total: 0 (45%), 100k (45%), 1m (5%), 1.1m (5%) -> P80 = £100k. Without A: P80 = 0; without B: £100k.
    assert table.loc["total", "p80_exposure"] == 100_000
    assert table.loc["A", "reserve_falls_if_removed_not_additive"] == 100_000
    assert table.loc["B", "reserve_falls_if_removed_not_additive"] == 0
    sentence = reserve_statement(ds, config, portfolio_table(ds, config))
    assert sentence.startswith("On the simulated risk register (2 risks, after mitigation), a risk-based reserve of £100k")
    assert "in 80% of outcomes" in sentence


def test_shipped_2024_register_runs_with_its_table():
    config_2024 = fsp_risk.load_config(Path(__file__).resolve().parents[1] / "configs" / "oxfordshire-2024-commissioning.yaml")
    ds = fsp_risk.simulate(config_2024, iterations=5_000, seed=1)
    table = risk_table(ds, config_2024).set_index("risk")
    assert list(table.index) == ["R1", "R2", "R3", "R4"]
    assert (table["p_occurs_residual"] <= table["p_occurs"] + 1e-12).all()
    assert (table["stated_impact_score"] == [5, 4, 4, 5]).all()
    # Paper 000 para 33: the Public Health reserve contribution is due to end, so R3 is near certain.
    assert table.loc["R3", "p_occurs"] > 0.9


@pytest.mark.print_charts
def test_default_run_writes_risk_table_heat_map_and_reserve(tmp_path):
    from PIL import Image

    from fsp_risk.app import cli

    assert cli.main(["run", "--iterations", "3000", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    for name in ("risk_register.csv", "risk_portfolio.csv", "risk_reserve.txt", "charts/risk_heat_map.svg"):
        assert (folder / name).is_file(), name
    with Image.open(folder / "charts" / "risk_heat_map.png") as png:
        assert round(png.info["dpi"][0]) == 300
    assert (folder / "risk_reserve.txt").read_text().startswith("On the simulated risk register (4 risks")


IMPORT = {"file": "register.csv",
          "likelihood_bands": [[0, 0.05], [0.05, 0.2], [0.2, 0.5], [0.5, 0.8], [0.8, 1.0]],
          "impact_bands": [[0, 10_000], [10_000, 50_000], [50_000, 250_000], [250_000, 500_000], [500_000, 1_000_000]],
          "source": "test council's risk matrix", "date": "2024-04-10", "review": "2025-04-10"}


def import_config(tmp_path, csv_text, **overrides):
    (tmp_path / "register.csv").write_text(csv_text)
    data = with_register([])
    del data["risk_register"]["risks"]
    data["risk_register"]["import_csv"] = {**IMPORT, **overrides}
    path = tmp_path / "import.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_import_council_register_csv(tmp_path):
    path = import_config(tmp_path, "id,title,owner,likelihood,impact\nC1,Grant ends,FBP,4,3\nC2,Fire,Estates,1,5\n")
    config = fsp_risk.load_config(path)
    assert [r.id for r in config.risk_register.risks] == ["C1", "C2"]
    p_input = config.inputs["imported_C1_likelihood"]
    assert p_input.dist.support() == (0.5, 0.8) and p_input.evidence == "red"
    assert "register.csv row 2: likelihood score 4 read as uniform" in p_input.source
    ds = fsp_risk.simulate(config, iterations=40_000, seed=5)
    table = risk_table(ds, config).set_index("risk")
    # Likelihood score 4 -> uniform(50%, 80%): occurs with probability 65%; impact score 3 -> mean £150k.
    assert table.loc["C1", "p_occurs"] == pytest.approx(0.65, abs=0.01)
    assert table.loc["C1", "expected_impact"] == pytest.approx(0.65 * 150_000, rel=0.02)
    assert table.loc["C1", "stated_impact_score"] == 3 and table.loc["C1", "stated_probability_band"] == "high"


@pytest.mark.parametrize("csv_text, message", [
    ("id,title,owner,impact\nC1,t,o,3\n", "register.csv: expected columns id, title, owner, likelihood, impact (category optional); missing 'likelihood'"),
    ("id,title,owner,likelihood,impact\nC1,t,o,high,3\n", "register.csv: row 2.likelihood: expected a whole number from 1 to 5, got 'high'"),
    ("id,title,owner,likelihood,impact\nC1,t,o,2,7\n", "register.csv: row 2.impact: expected a whole number from 1 to 5, got '7'"),
    ("id,title,owner,likelihood,impact\nC1,t,o,2,3\nC1,u,o,2,3\n", "register.csv: row 3.id: expected a unique, non-empty risk id, got 'C1'"),
])
def test_bad_register_csv(tmp_path, csv_text, message):
    path = import_config(tmp_path, csv_text)
    with pytest.raises(ConfigError, match=re.escape(message)):
        fsp_risk.load_config(path)


@pytest.mark.parametrize("written", ["../../elsewhere.csv", "../register.csv", "/etc/passwd", "link/register.csv"])
def test_register_csv_path_may_not_leave_the_config_folder(tmp_path, written):
    configs = tmp_path / "project" / "configs"
    configs.mkdir(parents=True)
    (tmp_path / "project" / "register.csv").write_text("id,title,owner,likelihood,impact\nC1,t,o,2,3\n")
    (configs / "link").symlink_to(tmp_path / "project")  # a link out of the folder is followed, then refused
    data = with_register([])
    del data["risk_register"]["risks"]
    data["risk_register"]["import_csv"] = {**IMPORT, "file": written}
    path = configs / "x.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError, match=re.escape(
            f"risk_register.import_csv.file: expected a path inside the config's folder {configs} (relative to it)")):
        fsp_risk.load_config(path)


def test_inputs_and_risks_share_a_common_driver(tmp_path):
    # Two uniform inputs loading 0.8 and -0.75 on one driver: normal scores correlate -0.6, so their
    # Spearman correlation is (6 / pi) arcsin(-0.3); each input keeps its uniform marginal.
    from scipy import stats

    from fsp_risk.engine.sampling import input_uniforms

    data = with_register([risk("R1", "p", "x", basis="horizon", driver={"name": "climate", "loading": 0.8})],
                         drivers={"climate": "Partners' appetite to co-fund"},
                         inputs={"p": fixed(0.5), "x": fixed(1_000)})
    data["inputs"]["public_health_replaced"] = {**COMMON, "title": "t", "dist": "uniform", "low": 0, "high": 1,
                                                "driver": {"name": "climate", "loading": -0.75}}
    data["inputs"]["supporting_families_replaced"] = {**COMMON, "title": "t", "dist": "uniform", "low": 0, "high": 1,
                                                      "driver": {"name": "climate", "loading": 0.8}}
    config, _ = load(tmp_path, data)
    blocks = [(0, 60_000)]
    a = input_uniforms(config.inputs["supporting_families_replaced"], 3, blocks, 5, "mc")[:, 0]
    b = input_uniforms(config.inputs["public_health_replaced"], 3, blocks, 5, "mc")[:, 0]
    rho = stats.spearmanr(a, b).statistic
    assert rho == pytest.approx(6 / np.pi * np.arcsin(-0.6 / 2), abs=0.015)
    assert stats.kstest(b, "uniform").pvalue > 1e-3
    # The risk loads +0.8 on the same driver: it occurs more often when supporting_families_replaced is high.
    ds = fsp_risk.simulate(config, iterations=60_000, seed=3)
    occurred = ds["risk_occurred"].sel(risk="R1").sum("year").values
    assert np.corrcoef(occurred, a)[0, 1] > 0.3


def test_unknown_common_driver_on_an_input(tmp_path):
    data = with_register([risk("R1", "p", "x")], inputs={"p": fixed(0.5), "x": fixed(1_000)})
    data["inputs"]["public_health_replaced"]["driver"] = {"name": "climate", "loading": 0.5}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError, match=re.escape(
            "inputs.public_health_replaced.driver.name: no common drivers are defined; add them under common_drivers")):
        fsp_risk.load_config(path)
