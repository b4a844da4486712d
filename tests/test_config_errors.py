"""Bad configs stop before any work with one message naming the file, the field path and what was expected."""
import copy
import re

import pytest
import yaml

import fsp_risk
from fsp_risk import ConfigError

from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

BASE = yaml.safe_load((CONFIGS / "oxfordshire-2019-business-case.yaml").read_text())


def write(tmp_path, data, name="bad.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data)
    return path


def mutated(change):
    data = copy.deepcopy(BASE)
    change(data)
    return data


CASES = [
    ("discount rate as a percentage", lambda d: d["price_base"]["discount_rate"].update(value=3.5),
     "price_base.discount_rate.value: expected a real discount rate as a fraction a year, like 0.035 for 3.5%, got 3.5"),
    ("discount rate without source", lambda d: d["price_base"]["discount_rate"].pop("source"),
     "price_base.discount_rate.source: required field is missing"),
    ("missing field", lambda d: d.pop("mtfp"), "mtfp: required field is missing"),
    ("missing input field", lambda d: d["inputs"]["ramp_months"].pop("source"), "inputs.ramp_months.source: required field is missing"),
    ("unknown field with hint", lambda d: d.__setitem__("savngs", {}), "savngs: unknown field (expected one of"),
    ("wrong type", lambda d: d["costs"]["training"]["amounts"]["values"].__setitem__("2019/20", "lots"),
     "costs.training.amounts.values.2019/20: expected a number, got 'lots' (a text)"),
    ("negative cost", lambda d: d["costs"]["training"]["amounts"]["values"].__setitem__("2019/20", -5),
     "costs.training.amounts.values.2019/20: expected an amount >= 0 (no negative cost here), got -5"),
    ("min above max", lambda d: d["inputs"]["ramp_months"].update(low=30),
     "inputs.ramp_months: low, mode, high: expected low <= mode <= high, got 30, 12, 24"),
    ("probability above one", lambda d: d["inputs"]["partners_do_not_fund"].update(p=1.5),
     "inputs.partners_do_not_fund: p: expected a probability in [0, 1], got 1.5"),
    ("unknown distribution", lambda d: d["inputs"]["ramp_months"].update(dist="weibull"),
     "inputs.ramp_months: dist: expected one of fixed, uniform, triangular, pert"),
    ("unknown year label", lambda d: d["costs"]["training"]["amounts"]["values"].__setitem__("2030/31", 5),
     "costs.training.amounts.values.2030/31: year '2030/31' is outside the config's years (2019/20 to 2025/26)"),
    ("malformed year label", lambda d: d["years"].__setitem__(2, "2021-22"),
     "years[2]: expected a financial year like '2025/26', got '2021-22'"),
    ("years out of order", lambda d: d["years"].reverse(), "years: expected consecutive financial years in order"),
    ("unknown input reference", lambda d: d["programme"].update(ramp_months="ramp_month"),
     "programme.ramp_months: unknown input 'ramp_month' (did you mean 'ramp_months'?)"),
    ("share out of range", lambda d: d["inputs"]["share_residential"].update(low=-0.1),
     "placements.types.residential.share: input 'share_residential' can take values in [-0.1, 0.16]"),
    ("bad evidence rating", lambda d: d["inputs"]["ramp_months"].update(evidence="purple"),
     "inputs.ramp_months.evidence: expected one of green, amber, red, got 'purple'"),
    ("positive saving", lambda d: d["savings"]["placement_savings"]["planned"]["values"].__setitem__("2021/22", 500000),
     "savings.placement_savings.planned: expected savings as negative amounts"),
    ("end year outside horizon", lambda d: d["inputs"]["partners_stop_year"].update(values=["2021/22", "2030/31"]),
     "inputs.partners_stop_year.values: expected year labels within the horizon (2019/20 to 2025/26), got '2030/31'"),
    ("missing review date", lambda d: d["inputs"]["ramp_months"].pop("review"),
     "inputs.ramp_months.review: required field is missing"),
    ("review before date", lambda d: d["inputs"]["ramp_months"].update(review="2018-01-01"),
     "inputs.ramp_months.review: expected a review date on or after the input's date"),
    ("unused input", lambda d: d["inputs"].__setitem__("spare", dict(d["inputs"]["ramp_months"])),
     "inputs.spare: input is not used by any part of the model"),
]


@pytest.mark.parametrize("name, change, message", CASES, ids=[c[0] for c in CASES])
def test_bad_config_message(tmp_path, name, change, message):
    path = write(tmp_path, mutated(change))
    with pytest.raises(ConfigError, match=re.escape(f"{path}: {message}")):
        fsp_risk.load_config(path)


def test_yaml_syntax_error_names_line(tmp_path):
    path = write(tmp_path, "schema_version: 1\nname: [unclosed\ntitle: x\n")
    with pytest.raises(ConfigError, match=re.escape(f"{path}: invalid YAML at line 3")):
        fsp_risk.load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        fsp_risk.load_config(tmp_path / "nope.yaml")


def test_safe_loader_executes_nothing(tmp_path):
    path = write(tmp_path, "!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        fsp_risk.load_config(path)


def test_planned_saving_before_go_live_is_refused(tmp_path):
    # A placement saving in 2019/20, before the June 2020 go-live, has nothing to scale from when FSP's effect
    # starts at go-live (the paper's own line has children avoided before it).
    def edit(d):
        d["savings"]["placement_savings"]["planned"]["values"]["2019/20"] = -1000
        d["demand"]["measures"]["lac"]["fsp"] = {"method": "year_on_year", "reduction": "fsm_annual_reduction"}

    path = write(tmp_path, mutated(edit))
    config = fsp_risk.load_config(path)
    with pytest.raises(ConfigError, match=re.escape("savings.placement_savings.planned.values.2019/20: a saving is planned in 2019/20")):
        fsp_risk.simulate(config, iterations=10)
