"""Impossible model output stops the run with a message naming the variable, year and an iteration."""
import numpy as np
import pytest
import yaml

import fsp_risk
from fsp_risk.app import cli
from fsp_risk.engine import invariants
from fsp_risk.model import placements
from fsp_risk.errors import ConfigError, ModelError
from fsp_risk.engine.sampling import BLOCK
from fsp_risk.engine.scenarios import simulate_scenarios

CONFIG_2024 = "configs/oxfordshire-2024-commissioning.yaml"


@pytest.fixture(scope="module")
def block_2024(config_2024):
    """One real block of 1,000 iterations, as the run keeps it."""
    ds = fsp_risk.simulate(config_2024, iterations=1_000, seed=3, check_invariants=False)
    return {k: v.values for k, v in ds.data_vars.items() if "iteration" in v.dims}


def test_real_output_passes_every_check(config_2024, block_2024):
    invariants.check_block(config_2024, block_2024, 0)


@pytest.mark.parametrize("variable, year, value, message", [
    ("lac_fsp", 2, np.nan, "lac_fsp in 2026/27 is not a finite number"),
    ("net_change_by_line", 0, np.inf, "net_change_by_line in 2024/25 is not a finite number"),
    ("lac_as_is", 1, -3.0, "lac_as_is in 2025/26 is a negative count of children"),
    ("effect_fraction", 3, 1.25, "effect_fraction in 2027/28 is outside [0, 1]"),
    ("risk_occurred", 0, 2, "risk_occurred in 2024/25 is outside [0, 1]"),
])
def test_each_broken_invariant_is_named(config_2024, block_2024, variable, year, value, message):
    broken = {k: v.copy() for k, v in block_2024.items()}
    broken[variable][417, year] = value
    with pytest.raises(ModelError) as err:
        invariants.check_block(config_2024, broken, 5_000)
    text = str(err.value)
    assert message in text
    assert "e.g. iteration 5,417" in text and "1 iteration(s) of this block" in text
    assert text.startswith(f"{config_2024.path}: model invariant broken")
    assert (err.value.variable, err.value.year, err.value.iteration) == (variable, config_2024.years[year], 5_417)


def test_net_change_that_is_not_the_sum_of_its_lines_is_caught(config_2024, block_2024):
    broken = {k: v.copy() for k, v in block_2024.items()}
    broken["net_change_to_mtfp"][10:20, 4] += 1.0  # a pound off in ten iterations
    with pytest.raises(ModelError, match=r"net_change_to_mtfp in 2028/29 is not the sum of its lines .*"
                                         r"e\.g\. iteration 10: .*1 from the sum of its lines; 10 iteration"):
        invariants.check_block(config_2024, broken, 0)
    # Rounding differences between two orders of adding the same lines are well inside the tolerance.
    net = block_2024["net_change_by_line"].sum(axis=-1)
    assert np.abs(net - block_2024["net_change_to_mtfp"]).max() < invariants.LINE_SUM_ATOL_GBP / 1_000


def _nan_in_last_partial_block(monkeypatch):
    """Make placement costs NaN in iteration 5 of any block shorter than a full one."""
    original = placements.sum_of_child_year_costs

    def broken(child_years, mean_cost, cv, z):
        out = original(child_years, mean_cost, cv, z)
        if z is not None and out.shape[0] < BLOCK:
            out = out.copy()
            out[5, 1] = np.nan
        return out

    monkeypatch.setattr(placements, "sum_of_child_year_costs", broken)


def test_a_run_that_breaks_an_invariant_stops_and_keeps_nothing(monkeypatch, tmp_path, capsys):
    _nan_in_last_partial_block(monkeypatch)
    code = cli.main(["run", CONFIG_2024, "--iterations", str(BLOCK + 100), "--seed", "1", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 3
    assert "model invariant broken: placement_cost_avoidance in 2025/26 is not a finite number" in err
    assert f"e.g. iteration {BLOCK + 5:,}" in err and "nothing was kept" in err
    assert list(tmp_path.iterdir()) == []  # no run folder, no temporary folder


def test_scenario_runs_are_checked_too(monkeypatch, config_2024):
    _nan_in_last_partial_block(monkeypatch)
    with pytest.raises(ModelError, match=r"total_savings in 2025/26 is not a finite number \(scenario 'base', "
                                         rf"e\.g\. iteration {BLOCK + 5:,}"):
        simulate_scenarios(config_2024, BLOCK + 100, 1, "mc")


def test_an_effect_scale_above_one_is_refused_at_load(tmp_path):
    data = yaml.safe_load(open(CONFIG_2024, encoding="utf-8"))
    scale = data["inputs"]["budget_effect_scale"]
    for k in ("values", "probs"):
        scale.pop(k)
    scale.update(dist="uniform", low=0.8, high=1.2)
    path = tmp_path / "scale.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError, match=r"programme\.effect_scales\[0\]\.input: input 'budget_effect_scale' can take "
                                          r"values in \[0\.8, 1\.2\], but this field expects values \[0, 1\]"):
        fsp_risk.load_config(path)


def test_a_line_under_another_label_is_refused(config_2024, monkeypatch):
    # The sum of lines would still equal the net change; only the labels catch a line listed out of order.
    from fsp_risk.model import rollup

    names = rollup.line_names(config_2024)
    swapped = [names[1], names[0], *names[2:]]
    monkeypatch.setattr(rollup, "line_names", lambda config: swapped)
    with pytest.raises(RuntimeError, match="are not those line_names describes"):
        fsp_risk.simulate(config_2024, deterministic=True)
