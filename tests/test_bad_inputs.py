"""The catalogue of bad inputs: each refused through the command line before any work, with one line that
names the file, the field path (and line, where the parser knows it) and what was expected; no traceback,
no folder made.

Config cases edit the shipped 2024 config (it has every section: correlation, register, scenarios);
the bad actuals files are catalogued in test_actuals.py and the impossible model states in
test_invariants.py.
"""
import copy
import re

import pytest
import yaml

from fsp_risk import cli

CONFIG = "configs/oxfordshire-2024-commissioning.yaml"
BASE = yaml.safe_load(open(CONFIG, encoding="utf-8"))


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
     "placements.types: expected the central shares of the placement types to sum to 1, got 1.1740"),
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
]

# (case, config text, message expected after "FILE: "): YAML the parser refuses, with its line
TEXT_CASES = [
    ("malformed YAML", "schema_version: 1\nname: [unclosed\ntitle: x\n", "invalid YAML at line 3"),
    ("a key given twice", "schema_version: 1\nname: a\nname: b\n",
     "invalid YAML at line 3, column 1: the key 'name' is given twice in one mapping (first at line 2); expected each key once"),
    ("tab indentation", "schema_version: 1\nrun:\n\titerations: 5\n", "invalid YAML at line 3, column 1"),
    ("code in YAML", "!!python/object/apply:os.system ['echo hacked']\n", "invalid YAML at line 1"),
    ("a list, not a mapping", "- 1\n- 2\n", "expected a mapping of fields, got a list"),
    ("not UTF-8", b"name: caf\xe9\n", "expected a UTF-8 text (YAML) file"),
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
]


def _refused(capsys, code, out):
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and err.count("\n") <= 1, err
    assert not out.exists()
    return err.strip()


@pytest.mark.parametrize("case, edit, message", CONFIG_CASES, ids=[c[0] for c in CONFIG_CASES])
def test_bad_config_is_refused_with_its_field(tmp_path, capsys, case, edit, message):
    data = copy.deepcopy(BASE)
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    err = _refused(capsys, cli.main(["run", str(path), "--iterations", "100", "--out", str(out)]), out)
    assert err.startswith(f"fsp-risk: error: {path}: {message}"), err
    # Each names the line of the field too (or of its section, for a missing field).
    if case != "missing section":
        line = int(re.search(r"\(line (\d+)\)$", err).group(1))
        field = message.split(": ")[0]
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


def test_the_catalogue_has_at_least_forty_cases():
    assert len(CONFIG_CASES) + len(TEXT_CASES) + len(ARG_CASES) >= 40
