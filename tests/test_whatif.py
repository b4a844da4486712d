"""The what-if page's engine and settings, without a browser (tests/test_browser.py drives the page itself).

What the page shows must be what a full run of the same settings gives: the live model's evaluations are
checked bitwise against `simulate` of the scenario "Save as scenario" writes, loaded back from the file.
"""
import numpy as np
import pytest

import fsp_risk
from fsp_risk.analysis.summary import summary_table
from fsp_risk.app.whatif import Setting, WhatIf, apply_settings
from fsp_risk.config import parse_config
from fsp_risk.config.scenarios import add_scenario, changed_input
from fsp_risk.engine.live import LiveModel
from fsp_risk.errors import ConfigError

N = 4_096


@pytest.fixture(scope="module")
def page_2024(config_2024, tmp_path_factory):
    return WhatIf(config_2024, N, save_to=tmp_path_factory.mktemp("whatif") / "saved.yaml")


@pytest.mark.parametrize("sampler", ["mc", "sobol"])
def test_live_base_case_is_the_runs_first_iterations(config_2024, sampler):
    live = LiveModel(config_2024, N, sampler=sampler)
    ds = fsp_risk.simulate(config_2024, iterations=N, sampler=sampler)
    np.testing.assert_array_equal(live.net_change(), ds["net_change_to_mtfp"].values)


def test_live_change_is_bitwise_the_saved_scenario_run(page_2024, config_2024):
    """Pin, shift and range on one page, saved as a scenario, loaded back from the file and simulated: every
    iteration's net change and the P80 the page shows are the same to the last bit."""
    settings = {
        "sw_turnover": Setting("Shift", shift="0.05"),
        "demand_growth_multiplier": Setting("Range", params={"low": "0.5", "mode": "1.2", "high": "2"}),
        # after mitigation this follows the co-funding mitigation's replacement: the page changes that one
        "supporting_families_replaced": Setting("Range", params={"low": "0", "mode": "0.6", "high": "0.9"}),
        "public_health_end_year": Setting("Pin", pin="2025/26"),
        "entry_reduction": Setting("Pin", pin="0.05"),
    }
    view, errors = page_2024.evaluate(settings)
    assert errors == []
    path, added = page_2024.save_scenario("live_check", "Live check", settings)
    assert "live_check:" in added and "supporting_families_replaced_mitigated.mode: 0.6" in added
    saved = fsp_risk.load_config(path)
    scenario = saved.scenarios["live_check"]
    ds = fsp_risk.simulate(scenario.config, iterations=N, overrides=scenario.pins)
    np.testing.assert_array_equal(view.net_change, ds["net_change_to_mtfp"].values)
    api = summary_table(ds).query("variable == 'net_change_to_mtfp' and year == 'total'").iloc[0]
    assert f"data-value='{api['p80_prudent']:.2f}'" in page_2024.headline(view)
    # and the base case is untouched by the change: the same config text plus one scenario
    assert saved.text.startswith(config_2024.text.rstrip("\n")[:-200])
    assert set(saved.scenarios) == set(config_2024.scenarios) | {"live_check"}


def test_changing_a_mitigated_replacement_moves_the_result(config_2024):
    """The replacement a mitigation reads on the input's uniforms is keyed by its distribution too: a new range
    for it must not reuse the sub-result of the old one."""
    live = LiveModel(config_2024, N)
    base = live.net_change()
    low = changed_input(config_2024, "supporting_families_replaced_mitigated", {"low": 0.0, "mode": 0.05, "high": 0.1})
    high = changed_input(config_2024, "supporting_families_replaced_mitigated", {"low": 0.8, "mode": 0.95, "high": 1.0})
    worse = live.net_change({low.name: low}).sum(axis=1).mean()
    better = live.net_change({high.name: high}).sum(axis=1).mean()
    assert worse > base.sum(axis=1).mean() > better


@pytest.mark.parametrize("name", ["sw_turnover", "demand_growth_multiplier", "unit_cost_residential",
                                  "placement_inflation"])
def test_a_worse_pin_never_improves_the_p80(page_2024, config_2024, name):
    """Economic sense on the page: more turnover, demand or prices never lowers the pressure to plan for."""
    lo, hi = config_2024.inputs[name].dist.ppf(np.array([0.1, 0.9]))
    p80 = []
    for value in np.linspace(lo, hi, 4):
        view, errors = page_2024.evaluate({name: Setting("Pin", pin=f"{value:.6g}")})
        assert errors == []
        p80.append(float(view.summary.row()["p80_prudent"]))
    assert all(b >= a for a, b in zip(p80, p80[1:])), p80
    assert p80[-1] > p80[0]


@pytest.mark.parametrize("setting, expected", [
    (Setting("Pin", pin="abc"), "pin.sw_turnover: expected a number, got 'abc'"),
    (Setting("Pin", pin="1.5"), "pin.sw_turnover: expected a value the model can take for this input, [0, 1], got 1.5"),
    (Setting("Shift", shift="0.9"), "inputs.sw_turnover: this input can take values in [1.02, 1.2], but the model's "
                                    "fields that use it expect values [0, 1]"),
    (Setting("Shift", shift="lots"), "inputs.sw_turnover: shift: expected a number, got 'lots'"),
    (Setting("Range", params={"low": "0.12", "mode": "0.5", "high": "0.3"}),
     "inputs.sw_turnover: low, mode, high: expected low <= mode <= high, got 0.12, 0.5, 0.3"),
    (Setting("Range", params={"low": "0.12", "mode": "x", "high": "0.3"}), "inputs.sw_turnover: mode: expected a number"),
])
def test_bad_values_get_the_configs_one_line_messages(config_2024, page_2024, setting, expected):
    _, _, errors = apply_settings(config_2024, page_2024.controls, {"sw_turnover": setting})
    assert len(errors) == 1 and errors[0].startswith(config_2024.path + ": ") and expected in errors[0], errors
    view, shown = page_2024.evaluate({"sw_turnover": setting})
    assert view is None and shown == errors


def test_a_bad_year_pin_names_the_horizon(config_2024, page_2024):
    _, _, errors = apply_settings(config_2024, page_2024.controls,
                                  {"supporting_families_end_year": Setting("Pin", pin="2031/32")})
    assert errors and "expected a year within the horizon (2024/25 to 2028/29), got '2031/32'" in errors[0]


def test_controls_cover_the_issues_list(page_2024, config_2024):
    names = [c.name for c in page_2024.controls]
    assert len(names) == len(set(names))
    for s in config_2024.funding:
        assert {s.ends, s.end_year, s.replaced} <= set(names)
    assert {"demand_growth_multiplier", "sw_turnover", "entry_reduction"} <= set(names)
    replaced = {c.name: c.in_force for c in page_2024.controls if c.in_force != c.name}
    assert replaced == {"supporting_families_replaced": "supporting_families_replaced_mitigated",
                        "public_health_replaced": "public_health_replaced_mitigated"}


def test_saving_refuses_a_taken_or_bad_name_and_keeps_the_file(page_2024):
    settings = {"sw_turnover": Setting("Pin", pin="0.2")}
    path, _ = page_2024.save_scenario("turnover_20", "", settings)
    before = path.read_text(encoding="utf-8")
    for name, message in [("turnover_20", "already in the config"), ("grant lost", "expected letters, digits and _"),
                          ("base", "expected a name other than base")]:
        with pytest.raises(ConfigError, match=message):
            page_2024.save_scenario(name, "", settings)
    with pytest.raises(ConfigError, match="pin.sw_turnover"):
        page_2024.save_scenario("bad_one", "", {"sw_turnover": Setting("Pin", pin="2")})
    assert path.read_text(encoding="utf-8") == before
    assert "title: 'What-if: sw_turnover pinned at 0.2'" in before


def test_add_scenario_keeps_every_line_and_adds_a_section_when_there_is_none(config_2024):
    entry = {"title": "T", "source": "S", "pin": {"sw_turnover": 0.2}}
    text = add_scenario(config_2024.text, "extra", entry)
    lines = text.splitlines()
    at = lines.index("  extra:")
    assert lines[at:at + 5] == ["  extra:", "    title: T", "    source: S", "    pin:", "      sw_turnover: 0.2"]
    assert lines[:at] + lines[at + 5:] == config_2024.text.splitlines()
    bare = config_2024.text.split("\nscenarios:")[0] + "\n"
    added = add_scenario(bare, "extra", entry)
    assert added.startswith(bare) and parse_config(added, config_2024.path).scenarios["extra"].pins == {"sw_turnover": 0.2}


def test_text_from_the_config_is_escaped_on_the_page(config_2024, tmp_path):
    from dataclasses import replace

    hostile = replace(config_2024, title="<script>alert(1)</script>", council="=HYPERLINK(\"x\")")
    page = WhatIf(hostile, 1_024, save_to=tmp_path / "s.yaml")
    html = page.headline(page.base)
    assert "<script>" not in html
    pn = pytest.importorskip("panel")
    from fsp_risk.app.page import Page

    panes = Page(page).layout.select(pn.pane.HTML)
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in p.object for p in panes)
    assert not any("<script>" in p.object for p in panes)

