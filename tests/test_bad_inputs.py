"""The catalogue of bad inputs: each refused through the command line before any work, with one line that
names the file, the field path (and line, where the parser knows it) and what was expected; no traceback,
no folder made.

Config cases edit the shipped 2024 config (it has every section: correlation, register, scenarios), and
a second set the 2019 business case (its own sections and years); the bad actuals files are catalogued in test_actuals.py and the impossible model states in
test_invariants.py.
"""
import copy
import re

import pytest
import yaml

from fsp_risk.app import cli

CONFIG = "configs/oxfordshire-2024-commissioning.yaml"
BASE = yaml.safe_load(open(CONFIG, encoding="utf-8"))
CONFIG_2019 = "configs/oxfordshire-2019-business-case.yaml"
BASE_2019 = yaml.safe_load(open(CONFIG_2019, encoding="utf-8"))


def _input(d, name):
    return d["inputs"][name]


def _replace_input(d, name, **spec):
    keep = {k: _input(d, name)[k] for k in ("title", "units", "source", "owner", "evidence", "date", "review")}
    d["inputs"][name] = {**keep, **spec}


# (case, edit of the config data, field path and message expected after "FILE: ")
CONFIG_CASES = [
    # distribution parameters
    ("sd of zero", lambda d: _replace_input(d, "demand_growth_multiplier", dist="normal", mean=1, sd=0),
     "inputs.demand_growth_multiplier: sd: expected a standard deviation > 0, got 0"),
    ("alpha of zero", lambda d: _replace_input(d, "demand_growth_multiplier", dist="beta", alpha=0, beta=2, low=0, high=2),
     "inputs.demand_growth_multiplier: alpha: expected a shape parameter > 0, got 0"),
    ("min above mode", lambda d: _input(d, "demand_growth_multiplier").update(low=1.5),
     "inputs.demand_growth_multiplier: low, mode, high: expected low <= mode <= high, got 1.5, 1, 2"),
    ("probability below zero", lambda d: _input(d, "public_health_ends").update(p=-0.2),
     "inputs.public_health_ends: p: expected a probability in [0, 1], got -0.2"),
    ("probabilities not summing to one", lambda d: _input(d, "budget_effect_scale").update(probs=[0.5, 0.5, 0.5]),
     "inputs.budget_effect_scale: probs: expected probabilities that sum to 1, got a sum of 1.5"),
    ("unknown distribution with hint", lambda d: _input(d, "ramp_months").update(dist="perth"),
     "inputs.ramp_months: dist: expected one of fixed, uniform, triangular, pert, normal, lognormal, beta, bernoulli, "
     "discrete; got 'perth' (did you mean 'pert'?)"),
    ("year-to-year correlation of one or more", lambda d: _input(d, "pay_award")["year_to_year"].update(value=1.2),
     "inputs.pay_award.year_to_year.value: expected a correlation strictly between -1 and 1, got 1.2"),
    # fields: missing, unknown, wrong type
    ("missing section", lambda d: d.pop("mtfp"), "mtfp: required field is missing"),
    ("unknown field with hint", lambda d: d["programme"].update(go_lve="2020-11-02"),
     "programme.go_lve: unknown field (expected one of: go_live, go_live_source, delay_months, ramp_months, "
     "effect_scales) (did you mean 'go_live'?)"),
    ("unknown input reference with hint", lambda d: d["programme"].update(ramp_months="ramp_month"),
     "programme.ramp_months: unknown input 'ramp_month' (did you mean 'ramp_months'?)"),
    ("text where a date belongs", lambda d: d["programme"].update(go_live="next spring"),
     "programme.go_live: expected a date like 2024-04-10, got 'next spring' (a text)"),
    ("empty source", lambda d: _input(d, "ramp_months").update(source=""),
     "inputs.ramp_months.source: expected a non-empty text, got '' (a text)"),
    ("review before the assumption's date", lambda d: _input(d, "ramp_months").update(review="2000-01-01"),
     "inputs.ramp_months.review: expected a review date on or after the input's date"),
    ("unsupported schema version", lambda d: d.update(schema_version=7), "schema_version: expected 1, got 7"),
    ("input nothing uses", lambda d: d["inputs"].update(spare=dict(_input(d, "ramp_months"))),
     "inputs.spare: input is not used by any part of the model; remove it or refer to it"),
    ("per-year input where one value is taken", lambda d: _input(d, "ramp_months").update(per_year=True),
     "programme.ramp_months: input 'ramp_months' is per_year, but this field takes one value per iteration"),
    ("negative FTE", lambda d: _input(d, "sw_fte").update(value=-3),
     "workforce.groups.social_workers.fte: input 'sw_fte' can take values in [-3, -3], but this field expects values >= 0"),
    ("effect scale above one", lambda d: _replace_input(d, "budget_effect_scale", dist="uniform", low=0.8, high=1.2),
     "programme.effect_scales[0].input: input 'budget_effect_scale' can take values in [0.8, 1.2], but this field "
     "expects values [0, 1]"),
    ("placement shares not summing to one", lambda d: _input(d, "share_residential").update(mode=0.3, high=0.4),
     "placements.types: expected the central shares of the placement types to sum to 1, got 1.2060"),
    ("positive MTFP target", lambda d: d["mtfp"]["target"]["values"].__setitem__("2024/25", 100000),
     "mtfp.target: expected the MTFP savings target as negative amounts (savings), got a positive amount"),
    # years
    ("no years", lambda d: d.update(years=[]), "years: expected a list of financial years like ['2025/26', '2026/27']"),
    ("years out of order", lambda d: d["years"].reverse(), "years: expected consecutive financial years in order"),
    ("amount outside the horizon", lambda d: d["funding"]["public_health"]["amounts"]["values"].__setitem__("2030/31", 5),
     "funding.public_health.amounts.values.2030/31: year '2030/31' is outside the config's years (2024/25 to 2028/29)"),
    ("funding ending before the horizon starts", lambda d: _input(d, "public_health_end_year").update(values=["2023/24", "2025/26"]),
     "inputs.public_health_end_year.values: expected year labels within the horizon (2024/25 to 2028/29), got '2023/24'"),
    # run settings
    ("no iterations", lambda d: d["run"].update(iterations=0),
     "run.iterations: expected a whole number from 1 to 100,000,000, got 0"),
    ("negative seed", lambda d: d["run"].update(seed=-4), "run.seed: expected a whole number from 0 to"),
    ("unknown sampler", lambda d: d["run"].update(sampler="halton"), "run.sampler: expected one of mc, lhs, sobol, got 'halton'"),
    # correlation
    ("correlation not symmetric", lambda d: d["correlation"]["matrix"][0].__setitem__(1, 0.5),
     "correlation.matrix[0][1]: expected a symmetric matrix: demand_growth_multiplier with placement_inflation is 0.5 "
     "but placement_inflation with demand_growth_multiplier is 0.3 (matrix[1][0])"),
    ("correlation above one", lambda d: (d["correlation"]["matrix"][0].__setitem__(1, 1.5),
                                         d["correlation"]["matrix"][1].__setitem__(0, 1.5)),
     "correlation.matrix[0][1]: expected a correlation within [-1, 1], got 1.5"),
    ("correlation diagonal not one", lambda d: d["correlation"]["matrix"][2].__setitem__(2, 0.9),
     "correlation.matrix[2][2]: expected 1 on the diagonal (an input's correlation with itself), got 0.9"),
    ("correlation not positive semi-definite", lambda d: d["correlation"].update(matrix=[[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]]),
     "correlation.matrix: rejected: the matrix is not positive semi-definite (smallest eigenvalue -0.816), so no set "
     "of inputs can have these correlations together; correct it, or set correlation.repair: true"),
    ("correlation of an unknown input", lambda d: d["correlation"]["inputs"].__setitem__(0, "demand_growth"),
     "correlation.inputs[0]: unknown input 'demand_growth' (did you mean 'demand_growth_multiplier'?)"),
    ("correlation matrix of the wrong size", lambda d: d["correlation"]["matrix"].pop(),
     "correlation.matrix: expected a 3 x 3 matrix (a list of 3 rows of 3 numbers, in the order of 'inputs')"),
    # risk register
    ("mitigation of an unknown risk", lambda d: d["risk_register"]["mitigations"][0].update(risks=["R9"]),
     "risk_register.mitigations[M1].risks: unknown risk 'R9'; risks are R1, R2, R3, R4"),
    ("mitigation replacing with an unknown input", lambda d: d["risk_register"]["mitigations"][0].update(replace={"budget_effect_scale": "nope"}),
     "risk_register.mitigations[M1].replace.budget_effect_scale: unknown input 'nope'"),
    ("risk linked to an unknown input", lambda d: d["risk_register"]["risks"][0].update(link={"budget_scale": 1}),
     "risk_register.risks[R1].link.budget_scale: unknown input 'budget_scale' (did you mean 'budget_effect_scale'?)"),
    ("risk id used twice", lambda d: d["risk_register"]["risks"][1].update(id="R1"),
     "risk_register.risks[R1].id: expected a unique risk id; this id is used twice"),
    # scenarios
    ("scenario pinning an unknown input", lambda d: d["scenarios"]["grant_lost"]["pin"].update(public_health_end=1),
     "scenarios.grant_lost.pin.public_health_end: unknown input 'public_health_end' (did you mean 'public_health_ends'?)"),
    ("scenario pin outside the input's range", lambda d: d["scenarios"]["grant_lost"]["pin"].update(public_health_ends=3),
     "scenarios.grant_lost.pin.public_health_ends: expected a value the model can take for this input, [0, 1], got 3"),
    ("scenario setting a field that does not exist", lambda d: d["scenarios"]["grant_lost"].update(set={"inputs.nope.value": 1}),
     "scenarios.grant_lost.set.inputs.nope.value: no field 'inputs.nope' to change in the config"),
    # config text that would become a path, a file name or a variable name
    ("a name that climbs out of --out", lambda d: d.update(name="../../../tmp/escaped"),
     "name: expected a config name of letters, digits, '-', '_' and '.', starting with a letter or digit, at most 80 "
     "characters (it becomes part of each run folder's name), got '../../../tmp/escaped' (a text)"),
    ("a name with a slash", lambda d: d.update(name="a/b"), "name: expected a config name of letters, digits"),
    ("a hidden name", lambda d: d.update(name=".hidden"), "name: expected a config name of letters, digits"),
    ("a name too long", lambda d: d.update(name="x" * 81), "name: expected a config name of letters, digits"),
    ("an input name with a slash", lambda d: d["inputs"].update({"a/b": d["inputs"].pop("ramp_months")}),
     "inputs.a/b: expected an input name of letters, digits and _, starting with a letter, at most 64 characters"),
    ("a measure name that is not a netCDF name",
     lambda d: d["demand"]["measures"].update({"children in care": d["demand"]["measures"]["lac"]}),
     "demand.measures.children in care: expected a measure name of letters, digits and _, starting with a letter"),
    ("a scenario name with a dot", lambda d: d["scenarios"].update({"a.b": d["scenarios"]["grant_lost"]}),
     "scenarios.a.b: expected a scenario name of letters, digits and _, starting with a letter"),
    ("a risk id with a path in it", lambda d: d["risk_register"]["risks"][0].update(id="R1/../../x"),
     "risk_register.risks[0].id: expected a risk id of letters, digits, '-', '_' and '.', starting with a letter or digit, "
     "at most 32 characters"),
    ("a register CSV outside the config's folder", lambda d: _import_csv(d, "/etc/passwd"),
     "risk_register.import_csv.file: expected a path inside the config's folder"),
    ("a register CSV above the config's folder", lambda d: _import_csv(d, "../register.csv"),
     "risk_register.import_csv.file: expected a path inside the config's folder"),
    # text that would carry markup or control a terminal
    ("a control character in a title", lambda d: _input(d, "ramp_months").update(title="ok\x1b[2J\x1b[Hcleared"),
     "inputs.ramp_months.title: expected printable text, got the control character '\\x1b' at character 3"),
    ("a text too long", lambda d: _input(d, "ramp_months").update(source="s" * 2_001),
     "inputs.ramp_months.source: expected a text of at most 2,000 characters, got 2,001"),
    # numbers that validate but break the model
    ("a cost of 1e308", lambda d: d["costs"]["domestic_abuse_service"]["amounts"]["values"].__setitem__("2024/25", 1.0e308),
     "costs.domestic_abuse_service.amounts.values.2024/25: expected an amount of money in £ within ±10,000,000,000, "
     "got 1e+308"),
    ("an infinite cost", lambda d: d["costs"]["domestic_abuse_service"]["amounts"]["values"].__setitem__("2024/25", float("inf")),
     "costs.domestic_abuse_service.amounts.values.2024/25: expected a finite number, got inf (a number)"),
    ("a PERT high of 1e308", lambda d: _input(d, "demand_growth_multiplier").update(high=1.0e308),
     "inputs.demand_growth_multiplier: high: expected a number within ±1e+12, got 1e+308"),
    ("a range float cannot resolve", lambda d: _replace_input(d, "unit_cost_residential", dist="uniform", low=1e9, high=1e9 + 1e-3),
     "inputs.unit_cost_residential: low, high: expected a uniform range wider than a billionth of its size, got "
     "1000000000.0 to 1000000000.001; use dist: fixed for a single value"),
    ("a lognormal unit cost beyond the money ceiling",
     lambda d: _replace_input(d, "unit_cost_residential", dist="lognormal", mean=1e9, sd=5e9),
     "placements.types.residential.unit_cost: input 'unit_cost_residential' can reach"),
    ("a count of children beyond the ceiling", lambda d: d["demand"]["measures"]["lac"]["as_is"]["at_31_march"].__setitem__(2029, 1e9),
     "demand.measures.lac.as_is.at_31_march.2029: expected a count within ±10,000,000, got 1e+09"),
    ("a beta too peaked to sample", lambda d: _replace_input(d, "sw_turnover", dist="beta", alpha=1e6, beta=2),
     "inputs.sw_turnover: alpha: expected a shape parameter of at most 10,000, got 1e+06"),
    ("an infinite discrete value", lambda d: _input(d, "budget_effect_scale").update(values=[1.0, 0.9, float("inf")]),
     "inputs.budget_effect_scale: values: expected finite numbers within ±1e+12, got inf"),
    ("a risk switched off by 1.5 of a 0/1 flag", lambda d: d["risk_register"]["risks"][2]["link"].update(public_health_ends=1.5),
     "risk_register.risks[R3].link.public_health_ends: expected a value the model can take for this input, [0, 1], got 1.5"),
    ("a price year long before the horizon", lambda d: d["placements"]["types"]["residential"].update(price_year="0001/02"),
     "placements.types.residential.price_year: expected a price year from 1994/95 to 2028/29 (unit costs are uplifted "
     "from it by inflation), got '0001/02'"),
    ("a horizon of centuries", lambda d: d.update(years=[f"{y}/{(y + 1) % 100:02d}" for y in range(2024, 2124)]),
     "years: expected at most 50 financial years, got 100"),
    ("a bidirectional override in a title", lambda d: _input(d, "ramp_months").update(title="cost \u202egnp.exe"),
     "inputs.ramp_months.title: expected printable text, got the control character '\\u202e' at character 6"),
    ("a risk switched off by nan", lambda d: d["risk_register"]["risks"][2]["link"].update(public_health_ends=float("nan")),
     "risk_register.risks[R3].link.public_health_ends: expected a finite number, got nan (a number)"),
    ("a scenario pinning a year to half a year", lambda d: d["scenarios"]["grant_lost"]["pin"].update(public_health_end_year=0.5),
     "scenarios.grant_lost.pin.public_health_end_year: expected a year label like 2024/25, got 0.5"),
]


def _import_csv(d, file):
    d["risk_register"]["import_csv"] = {
        "file": file, "likelihood_bands": [[0, 0.05], [0.05, 0.2], [0.2, 0.5], [0.5, 0.8], [0.8, 1.0]],
        "impact_bands": [[0, 1e4], [1e4, 5e4], [5e4, 2.5e5], [2.5e5, 5e5], [5e5, 1e6]],
        "source": "test", "date": "2024-04-10", "review": "2025-04-10"}

# (case, config text, message expected after "FILE: "): YAML the parser refuses, with its line
TEXT_CASES = [
    ("malformed YAML", "schema_version: 1\nname: [unclosed\ntitle: x\n", "invalid YAML at line 3"),
    ("a key given twice", "schema_version: 1\nname: a\nname: b\n",
     "invalid YAML at line 3, column 1: the key 'name' is given twice in one mapping (first at line 2); expected each key once"),
    ("tab indentation", "schema_version: 1\nrun:\n\titerations: 5\n", "invalid YAML at line 3, column 1"),
    ("code in YAML", "!!python/object/apply:os.system ['echo hacked']\n", "invalid YAML at line 1"),
    ("a list, not a mapping", "- 1\n- 2\n", "expected a mapping of fields, got a list"),
    ("not UTF-8", b"name: caf\xe9\n", "expected a UTF-8 text (YAML) file"),
    # tracebacks before: dates that do not exist
    ("an impossible date", open(CONFIG, encoding="utf-8").read().replace("go_live: 2020-11-02", "go_live: 2024-13-01"),
     "invalid YAML at line 34, column 12: '2024-13-01' is not a real date (month must be in 1..12); expected a date like "
     "2024-04-10"),
    # resource exhaustion
    ("aliases that expand to billions", "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{chr(98 + k)}: &{chr(98 + k)} [{', '.join(['*' + chr(97 + k)] * 10)}]\n" for k in range(8)),
     "invalid YAML at line 1, column 1: the document expands to 1,234,567,909 values with its aliases followed, over "
     "the limit of 200,000; expected a config without deeply nested aliases"),
    ("an integer of 5,000 digits", "schema_version: 1\nname: x\nrun:\n  seed: 1" + "0" * 5000 + "\n",
     "invalid YAML at line 4, column 9: cannot read the number (Exceeds the limit (4300 digits) for integer string "
     "conversion"),
    ("a NUL byte", "schema_version: 1\nname: x\x00\n",
     "invalid YAML at character 26: unacceptable character #x0000: special characters are not allowed"),
    ("an alias inside itself", "a: &a [1, *a]\n", "invalid YAML at line 1, column 4: an alias refers to a node that "
     "contains it; expected plain data without recursion"),
    ("a config over the size limit", "# padding\n" * 120_000,
     "the config file is 1,200,000 bytes, over the limit of 1,048,576 bytes (1.0 MiB); expected a smaller file"),
]

# (case, command-line arguments after 'run CONFIG', message expected after "fsp-risk: error: ")
ARG_CASES = [
    ("no iterations", ["--iterations", "0"], "expected a whole number from 1 to 100,000,000, got 0"),
    ("absurdly many iterations", ["--iterations", "1000000000"], "expected a whole number from 1 to 100,000,000, got 1,000,000,000"),
    ("no workers", ["--workers", "0"], "expected a whole number from 1 to 100,000,000, got 0"),
    ("precision that is not money", ["--precision", "tight"], "--precision: expected"),
    ("stress test of an unknown input", ["--stress", "public_health_end=1"],
     "--stress.public_health_end: unknown input 'public_health_end' (did you mean 'public_health_ends'?)"),
    ("stress test outside the input's range", ["--stress", "public_health_ends=2"], "--stress.public_health_ends: expected a value"),
    ("scheduler with the threads engine", ["--engine", "threads", "--scheduler", "tcp://127.0.0.1:1"],
     "--scheduler: --scheduler runs on a dask cluster; expected --engine dask (or no --engine)"),
    ("actuals file missing", ["--actuals", "nope.csv"], "nope.csv: actuals file not found"),
    ("a seed beyond the cap", ["--seed", str(2**63)], "expected a whole number from 0 to 9,223,372,036,854,775,807"),
    ("a device as the actuals file", ["--actuals", "/dev/zero"],
     "/dev/zero: expected the actuals file to be a regular file, got a device or pipe"),
    ("a folder as the actuals file", ["--actuals", "/"], "/: expected the actuals file to be a regular file, got a folder"),
    ("a stress test of a year given as an index", ["--stress", "public_health_end_year=0.5"],
     "--stress.public_health_end_year: expected a year within the horizon (2024/25 to 2028/29), got '0.5'"),
    ("a stress test of every placement share at 0",
     ["--stress", "share_in_house_fostering=0,share_agency_fostering=0,share_residential=0,share_other=0"],
     "--stress.share_in_house_fostering: expected at least one placement type's share above 0"),
    ("a stress test naming an input twice", ["--stress", "sw_turnover=0.1,sw_turnover=0.2"],
     "--stress.sw_turnover: expected each input once in a stress test"),
    ("a stress test of a year outside the horizon", ["--stress", "public_health_end_year=2031/32"],
     "--stress.public_health_end_year: expected a year within the horizon (2024/25 to 2028/29), got '2031/32'"),
    ("a stress test with text for a number", ["--stress", "sw_turnover=high"],
     "--stress.sw_turnover: expected a number, got 'high' (a text)"),
    ("a stress test of nan", ["--stress", "sw_turnover=nan"], "--stress.sw_turnover: expected a finite number, got nan"),
]


def _register_config(tmp_path, csv_text, clash=False):
    """The 2024 config starting its register from ``register.csv`` (written beside it) with ``csv_text``;
    with ``clash``, the config's own input named as an imported risk's would be."""
    data = copy.deepcopy(BASE)
    _import_csv(data, "register.csv")
    if clash:
        data["inputs"]["imported_R9_likelihood"] = data["inputs"].pop("ramp_months")
        data["programme"]["ramp_months"] = "imported_R9_likelihood"
    (tmp_path / "register.csv").write_text(csv_text, encoding="utf-8")
    path = tmp_path / "register.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path), []


def _actuals(tmp_path, csv_text):
    (tmp_path / "actuals.csv").write_text(csv_text, encoding="utf-8")
    return CONFIG, ["--actuals", str(tmp_path / "actuals.csv")]


HEADER = "id,title,owner,likelihood,impact\n"
# (case, setup(tmp_path) -> (config, extra arguments), message expected after "fsp-risk: error: "); FILE is the
# file the message names, relative to tmp_path.
FILE_CASES = [
    ("a device as the config", lambda t: ("/dev/zero", []),
     "/dev/zero: expected the config file to be a regular file, got a device or pipe"),
    ("a folder as the config", lambda t: (str(t), []), "{tmp}: expected the config file to be a regular file, got a folder"),
    ("no such config", lambda t: (str(t / "nope.yaml"), []), "{tmp}/nope.yaml: config file not found"),
    ("a register CSV over the size limit", lambda t: _register_config(t, HEADER + "x" * (4 * 2**20 + 10)),
     "{tmp}/register.csv: the register CSV is 4,194,347 bytes, over the limit of 4,194,304 bytes (4.0 MiB); expected "
     "a smaller file"),
    ("a register CSV of too many rows", lambda t: _register_config(t, HEADER + "C1,t,o,2,3\n" * 10_001),
     "{tmp}/register.csv: row 10002: expected at most 10,000 rows"),
    ("a register CSV field over 128 KiB", lambda t: _register_config(t, HEADER + 'C1,"' + "t" * 140_000 + '",o,2,3\n'),
     "{tmp}/register.csv: row 2: cannot read it as CSV (field larger than field limit (131072)); expected fields of "
     "at most 10,000 characters, quoted as Excel writes them"),
    ("a register CSV field over 10,000 characters", lambda t: _register_config(t, HEADER + "C1," + "t" * 10_001 + ",o,2,3\n"),
     "{tmp}/register.csv: row 2.title: expected fields of at most 10,000 characters"),
    ("a register CSV title with a control character", lambda t: _register_config(t, HEADER + "C1,t\x1b[2J,o,2,3\n"),
     "{tmp}/register.csv: row 2.title: expected printable text, got a control character"),
    ("a register CSV id with a path in it", lambda t: _register_config(t, HEADER + "../C1,t,o,2,3\n"),
     "{tmp}/register.csv: row 2.id: expected a risk id of letters, digits"),
    ("a register CSV id that takes a config input's name", lambda t: _register_config(t, HEADER + "R9,t,o,2,3\n", clash=True),
     "{tmp}/register.csv: row 2.id: risk R9 would add the input 'imported_R9_likelihood', which the config already "
     "defines"),
    ("an actuals field over 128 KiB", lambda t: _actuals(t, 'year,measure,value,note\n2024/25,lac,770,"' + "n" * 140_000 + '"\n'),
     "{tmp}/actuals.csv: row 2: cannot read it as CSV (field larger than field limit (131072))"),
]


# Cases on the 2019 business case, whose sections and years differ (project costs, planned savings,
# partner funding, 2019/20 to 2025/26).
CONFIG_2019_CASES = [
    ("discount rate as a percentage", lambda d: d["price_base"]["discount_rate"].update(value=3.5),
     "price_base.discount_rate.value: expected a real discount rate as a fraction a year, like 0.035 for 3.5%, got 3.5"),
    ("discount rate without source", lambda d: d["price_base"]["discount_rate"].pop("source"),
     "price_base.discount_rate.source: required field is missing"),
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


def _refused(capsys, code, out):
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") <= 1, err
    assert not out.exists()
    return err.strip()


@pytest.mark.parametrize("base, case, edit, message",
                         [(BASE, *c) for c in CONFIG_CASES] + [(BASE_2019, *c) for c in CONFIG_2019_CASES],
                         ids=[c[0] for c in CONFIG_CASES] + [f"2019: {c[0]}" for c in CONFIG_2019_CASES])
def test_bad_config_is_refused_with_its_field(tmp_path, capsys, base, case, edit, message):
    data = copy.deepcopy(base)
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    err = _refused(capsys, cli.main(["run", str(path), "--iterations", "100", "--out", str(out)]), out)
    assert err.startswith(f"fsp-risk: error: {path}: {message}"), err
    assert set(tmp_path.rglob("*")) == {path}  # nothing written anywhere, inside --out or out of it
    # Each names the line of the field too, or for a missing field the line of its section (none at the top).
    field = message.split(": ")[0]
    if "required field is missing" in message:
        field = field.rpartition(".")[0]
    if field:
        line = int(re.search(r"\(line (\d+)\)$", err).group(1))
        written = path.read_text(encoding="utf-8").splitlines()[line - 1]
        last = re.split(r"[.\[\]]", field.rstrip("]"))[-1]
        assert last in written or written.lstrip().startswith("- "), (field, line, written)


def test_a_field_error_names_its_line():
    from fsp_risk.config import parse_config
    from fsp_risk.errors import ConfigError

    text = open(CONFIG, encoding="utf-8").read().replace("    low: 0\n    mode: 1.0\n", "    low: 1.5\n    mode: 1.0\n", 1)
    with pytest.raises(ConfigError) as err:
        parse_config(text, file="edited.yaml")
    line = text.splitlines().index("  demand_growth_multiplier:") + 1
    assert str(err.value).endswith(f"(line {line})") and err.value.line == line


@pytest.mark.parametrize("case, text, message", TEXT_CASES, ids=[c[0] for c in TEXT_CASES])
def test_unreadable_config_is_refused_with_its_line(tmp_path, capsys, case, text, message):
    path = tmp_path / "bad.yaml"
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    out = tmp_path / "out"
    err = _refused(capsys, cli.main(["run", str(path), "--out", str(out)]), out)
    assert err.startswith(f"fsp-risk: error: {path}: {message}"), err


@pytest.mark.parametrize("case, setup, message", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_input_file_is_refused_before_it_is_read_whole(tmp_path, capsys, case, setup, message):
    config, extra = setup(tmp_path)
    before = set(tmp_path.rglob("*"))
    out = tmp_path / "out"
    err = _refused(capsys, cli.main(["run", config, *extra, "--iterations", "100", "--out", str(out)]), out)
    assert err.startswith("fsp-risk: error: " + message.format(tmp=tmp_path)), err
    assert set(tmp_path.rglob("*")) == before  # nothing written anywhere


@pytest.mark.parametrize("case, args, message", ARG_CASES, ids=[c[0] for c in ARG_CASES])
def test_bad_command_line_is_refused(tmp_path, capsys, case, args, message):
    out = tmp_path / "out"
    args = [str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    try:
        code = cli.main(["run", CONFIG, *args, "--out", str(out)])
    except SystemExit as exc:  # argparse refuses some arguments itself, with its usage line
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err, err
    assert "Traceback" not in err and not out.exists()


def test_the_catalogue_has_at_least_eighty_cases():
    assert len(CONFIG_CASES) + len(CONFIG_2019_CASES) + len(TEXT_CASES) + len(ARG_CASES) + len(FILE_CASES) >= 104


def test_planned_saving_before_go_live_is_refused_before_simulating(tmp_path):
    # A placement saving in 2019/20, before the June 2020 go-live, has nothing to scale from when FSP's effect
    # starts at go-live (the paper's own line has children avoided before it): refused when the plan is built.
    import fsp_risk
    from fsp_risk.errors import ConfigError

    data = copy.deepcopy(BASE_2019)
    data["savings"]["placement_savings"]["planned"]["values"]["2019/20"] = -1000
    data["demand"]["measures"]["lac"]["fsp"] = {"method": "year_on_year", "reduction": "fsm_annual_reduction"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    config = fsp_risk.load_config(path)
    with pytest.raises(ConfigError, match=re.escape("savings.placement_savings.planned.values.2019/20: a saving is "
                                                    "planned in 2019/20")):
        fsp_risk.simulate(config, iterations=10)
