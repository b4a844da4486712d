"""'fsp-risk compare': the movement between two reports attributed to each change, on common random numbers."""
import numpy as np
import pytest
import yaml

import fsp_risk
from fsp_risk.app import cli
from fsp_risk.app.compare import bridge, changes, load_run

BASE = "configs/oxfordshire-2024-commissioning.yaml"


@pytest.fixture(scope="module")
def base_data():
    return yaml.safe_load(open(BASE).read())


def run_folder(tmp_path, data, seed=11, iterations=3_000):
    path = tmp_path / f"cfg-{seed}-{len(list(tmp_path.glob('cfg-*')))}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    config = fsp_risk.load_config(path)
    # compare reads a run folder's results.nc only: simulate writes it straight there.
    folder = tmp_path / "out" / path.stem
    folder.mkdir(parents=True)
    fsp_risk.simulate(config, iterations=iterations, seed=seed, path=folder / "results.nc").close()
    return folder


def test_bridge_adds_up_and_each_step_is_its_own_change(tmp_path, base_data):
    new = yaml.safe_load(yaml.safe_dump(base_data))
    new["inputs"]["entry_reduction"]["mode"] = 0.08
    new["inputs"]["sw_turnover"]["source"] = "edited wording only"  # documentation: not a change
    new["funding"]["supporting_families"]["amounts"]["values"]["2025/26"] = 500_000
    old_dir, new_dir = run_folder(tmp_path, base_data), run_folder(tmp_path, new)
    table = bridge(load_run(old_dir), load_run(new_dir))
    assert list(table["kind"]) == ["start", "model", "change", "change", "random numbers", "end"]
    assert "sw_turnover" not in " ".join(table["step"])
    assert "entry_reduction" in table["step"].iloc[3] and "mode 0.1 to 0.08" in table["step"].iloc[3]
    # Same code and same random numbers: the re-run and seed steps do not move anything.
    assert table.loc[1, "p80_change"] == 0 and table.loc[4, "p80_change"] == 0
    for p in ("p50", "p80"):
        assert table[f"{p}_change"].sum() == pytest.approx(table[p].iloc[-1] - table[p].iloc[0], abs=0.05)
    # The entry-reduction step equals its own effect measured directly on the same random numbers.
    step = yaml.safe_load(yaml.safe_dump(base_data))
    step["funding"]["supporting_families"]["amounts"]["values"]["2025/26"] = 500_000
    both = run_folder(tmp_path, new)  # already holds both changes
    only_funding = run_folder(tmp_path, step)
    direct = (np.percentile(load_run(both).total, 80) - np.percentile(load_run(only_funding).total, 80))
    assert table.loc[3, "p80_change"] == pytest.approx(direct, abs=0.01)


def test_changes_that_are_invalid_alone_move_together(base_data):
    new = yaml.safe_load(yaml.safe_dump(base_data))
    new["inputs"]["contract_cost_outturn_new"] = dict(new["inputs"]["contract_cost_outturn"], low=0.95)
    new["costs"]["domestic_abuse_service"]["multiplier"] = "contract_cost_outturn_new"
    new["costs"]["substance_use_service"]["multiplier"] = "contract_cost_outturn_new"
    new["inputs"].pop("contract_cost_outturn")
    found = changes(base_data, new)
    assert [path for path, _ in found] == [("costs", "domestic_abuse_service"), ("costs", "substance_use_service"),
                                           ("inputs", "contract_cost_outturn_new"), ("inputs", "contract_cost_outturn")]


@pytest.mark.print_charts
def test_compare_command_writes_table_waterfalls_and_alt_text(tmp_path, base_data, capsys):
    new = yaml.safe_load(yaml.safe_dump(base_data))
    new["inputs"]["contract_cost_outturn_new"] = dict(new["inputs"]["contract_cost_outturn"], low=0.95)
    for line in ("domestic_abuse_service", "substance_use_service"):
        new["costs"][line]["multiplier"] = "contract_cost_outturn_new"
    new["inputs"].pop("contract_cost_outturn")
    old_dir, new_dir = run_folder(tmp_path, base_data), run_folder(tmp_path, new, seed=12)
    assert cli.main(["compare", str(old_dir), str(new_dir), "--out", str(tmp_path / "cmp")]) == 0
    folder = next((tmp_path / "cmp").iterdir())
    table = (folder / "compare.csv").read_text()
    # Neither cost line is valid without the new input, nor is the old input's removal before them: one step.
    assert table.count(",change,") == 1
    assert "Random numbers: seed 11 to 12" in table
    md = (folder / "compare.md").read_text()
    for name in ("waterfall_p80", "waterfall_p50"):
        assert (folder / "charts" / f"{name}.png").is_file() and (folder / "charts" / f"{name}.svg").is_file()
        assert f"`charts/{name}.png`" in md
    assert md.count("Alt text: Waterfall chart of the P") == 2
    assert "Comparison written to" in capsys.readouterr().out


def test_compare_refuses_a_folder_without_results(tmp_path, capsys):
    assert cli.main(["compare", str(tmp_path), str(tmp_path), "--out", str(tmp_path / "cmp")]) == 2
    assert f"fsp-risk: error: {tmp_path}: expected a run folder holding results.nc" in capsys.readouterr().err
    assert not (tmp_path / "cmp").exists()
