"""Run outputs for readers: findings with alt text for every chart, charts in print resolution."""
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import xarray as xr

import pytest

from PIL import Image

from fsp_risk.app import cli

CONFIG_2019 = "configs/oxfordshire-2019-business-case.yaml"


@pytest.mark.print_charts
def test_findings_cover_every_chart(tmp_path):
    assert cli.main(["run", "--iterations", "4000", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    findings = (folder / "findings.md").read_text()
    charts = sorted(p.stem for p in (folder / "charts").glob("*.png"))
    assert charts == ["convergence", "demand_lac", "grouped_tornado", "net_savings_fan", "net_savings_histogram",
                      "net_savings_s_curve", "risk_heat_map", "scenarios", "tornado", "total_effects", "value_for_money"]
    assert (folder / "sensitivity.csv").is_file()
    variance = pd.read_csv(folder / "variance_sensitivity.csv")
    assert list(variance.columns[:7]) == ["output", "year", "factor", "first_order", "first_order_ci", "total_effect",
                                          "total_effect_ci"]
    assert "Sobol'" in findings and "Knowing FSP's effect would remove about" in findings
    for name in charts:
        svg = (folder / "charts" / f"{name}.svg").read_text()
        with Image.open(folder / "charts" / f"{name}.png") as png:
            assert round(png.info["dpi"][0]) == 300
            # Printed in a 16 cm column at its own size: no wider, and no text under 9 pt.
            assert png.size[0] / 300 * 2.54 <= 16.0, (name, png.size)
        sizes = [float(s) for s in re.findall(r"font-size: ?([0-9.]+)px", svg)]
        assert sizes and min(sizes) >= 9, (name, min(sizes))
        entry = re.search(rf"`charts/{name}\.png` — \*\*(.+?)\*\*\s+Alt text: (.+)", findings)
        assert entry, name
        title, alt = entry.groups()
        assert len(title.split()) <= 10, title  # an active title of ten words or fewer
        assert re.search(r"\d", alt), alt  # the alt text states key numbers
    # The quotable paragraph states the chance of meeting the MTFP target.
    assert re.search(r"the simulation gives a \d+% chance that Oxfordshire County Council's programme meets", findings)
    # Titles and alt text say what the data drawn say: the scenario chart's range covers every scenario row
    # and names the counterfactual's P80; its "highest P80" is the highest of every row drawn.
    from fsp_risk.outputs.formatting import format_money

    scen = pd.read_csv(folder / "scenarios.csv")
    cases, without = scen[scen["kind"] != "counterfactual"], scen[scen["kind"] == "counterfactual"]
    title, alt = re.search(r"`charts/scenarios\.png` — \*\*(.+?)\*\*\s+Alt text: (.+)", findings).groups()
    assert title == (f"P80 pressure {format_money(cases['p80'].min())} to {format_money(cases['p80'].max())} across "
                     f"scenarios; {format_money(without['p80'].iloc[0])} without FSP")
    assert alt.endswith(f"Highest P80 (no worse than this in 80% of outcomes): {scen.loc[scen['p80'].idxmax(), 'title']}.")
    # Every risk the simulation scores differently from the council's register is named in the findings.
    register = pd.read_csv(folder / "risk_register.csv", keep_default_na=False)
    differ = register[register["differs_from_register"] != ""]
    assert len(differ) and f"scores {len(differ)} of the register's {len(register)} risks differently" in findings
    for _, r in differ.iterrows():
        assert f"{r['risk']}, " in findings and r["differs_from_register"] in findings
    # The histogram's range is the total's P10 to P90 of net savings, in words that say which way is good.
    with xr.open_dataset(folder / "results.nc") as ds:
        total = -ds["net_change_to_mtfp"].sum("year").values
    p10, p90 = np.percentile(total, [10, 90])
    title = re.search(r"`charts/net_savings_histogram\.png` — \*\*(.+?)\*\*", findings).group(1)
    words = [f"{format_money(abs(v))} {'saving' if v >= 0 else 'pressure'}" for v in (p10, p90)]
    assert words[0] in title and words[1] in title, (title, words)


def test_sensitivity_regenerates_the_runs_own_draws(config_2024):
    import fsp_risk
    from fsp_risk.analysis.sensitivity import rank_correlations

    ds = fsp_risk.simulate(config_2024, iterations=3_000, seed=8, sampler="lhs")
    # The in-house mental health line moves with its cost outturn (and, a little, the pay award) only.
    line = ds["net_change_by_line"].sel(line="cost:mental_health_service")
    table = rank_correlations(ds, config_2024, line).set_index("input")
    assert table.loc["mental_health_cost_outturn", "rank_correlation"] > 0.95
    assert abs(table.loc["sw_vacancy", "rank_correlation"]) < 0.1
    assert table["share_of_variance"].sum() == pytest.approx(1, abs=1e-3)
    assert table.index[0] == "mental_health_cost_outturn"


def test_switching_value_put_back_gives_zero_net_savings(config_2024):
    import numpy as np

    import fsp_risk
    from fsp_risk.analysis.sensitivity import switching_values

    table = switching_values(config_2024, ["entry_reduction", "sw_agency_premium", "pay_award"]).set_index("input")
    value = table.loc["entry_reduction", "switching_value"]
    assert 0 < value < 0.2 and table.loc["entry_reduction", "net_savings_central"] < 0
    ds = fsp_risk.simulate(config_2024, deterministic=True, overrides={"entry_reduction": value})
    assert abs(float(ds["net_savings"].sum())) < 1.0  # within £1 of zero over the horizon
    # Pay awards within their range never close the central case's pressure: no switching value.
    assert np.isnan(table.loc["pay_award", "switching_value"])


def test_p50_switching_value_put_back_puts_the_median_on_the_target(config_2024):
    import numpy as np

    import fsp_risk
    from fsp_risk.analysis.sensitivity import p50_switching_values

    found = p50_switching_values(config_2024, ["entry_reduction", "pay_award"], seed=5, sampler="mc", iterations=8_192)
    value = found["entry_reduction"]
    central = config_2024.inputs["entry_reduction"].dist.central
    assert central < value < 0.2  # the median outcome is a pressure, so a larger reduction is needed
    ds = fsp_risk.simulate(config_2024, iterations=8_192, seed=5, overrides={"entry_reduction": value})
    total = ds["net_change_to_mtfp"].sum("year").values
    # Within £1k of the target at the median (a P50 over 8,192 draws moves in steps), and the target
    # met in half of the outcomes.
    assert abs(np.percentile(total, 50)) < 1_000
    assert (total <= 0).mean() == pytest.approx(0.5, abs=0.002)
    assert np.isnan(found["pay_award"])  # no pay award in range puts the median on the target


def test_grouped_tornado_holds_each_group_on_common_random_numbers(config_2024):
    import numpy as np

    import fsp_risk
    from fsp_risk.engine.simulate import net_change_totals
    from fsp_risk.analysis.sensitivity import grouped_tornado

    ds = fsp_risk.simulate(config_2024, iterations=5_000, seed=9)
    total = ds["net_change_to_mtfp"].sum("year").values
    # The fast what-if path draws exactly the run's random numbers.
    np.testing.assert_array_equal(net_change_totals(config_2024, 5_000, 9, "mc"), total)
    table = grouped_tornado(ds, config_2024).set_index("group")
    demand = [n for n, g in config_2024.input_groups.items() if g == "demand"]
    held = fsp_risk.simulate(config_2024, iterations=5_000, seed=9,
                             overrides={n: config_2024.inputs[n].dist.central for n in demand})
    p80_held = np.percentile(held["net_change_to_mtfp"].sum("year").values, 80)
    assert table.loc["Demand", "adds_to_p80"] == pytest.approx(np.percentile(total, 80) - p80_held, abs=0.01)
    assert table.loc["Demand", "adds_to_p80"] > 0  # demand uncertainty widens the pressure's upper tail
    # Every register risk has a bar; every uncertain model input sits in one driver group.
    assert {f"Risk {r.id}" for r in config_2024.risk_register.risks} <= {g.split(":")[0] for g in table.index}
    in_groups = {n for names in table.loc[table["kind"] == "driver group", "inputs_held"] for n in names.split(", ")}
    uncertain = {n for n, g in config_2024.input_groups.items()
                 if g != "risk register" and config_2024.inputs[n].dist.kind != "fixed"}
    assert in_groups == uncertain


def test_overrides_pin_inputs_and_are_validated(config_2024):
    import re

    import fsp_risk
    from fsp_risk import ConfigError

    ds = fsp_risk.simulate(config_2024, iterations=2_000, seed=1, overrides={"public_health_ends": 1.0,
                                                                           "supporting_families_ends": 1.0})
    # Both streams certainly end in 2025/26 or 2026/27: every iteration loses funding by 2026/27.
    assert bool((ds["grant_loss"].sel(year="2026/27") > 0).all())
    with pytest.raises(ConfigError, match=re.escape("overrides.entry_reductio: unknown input 'entry_reductio' (did you mean 'entry_reduction'?)")):
        fsp_risk.simulate(config_2024, deterministic=True, overrides={"entry_reductio": 0.1})
    # A stress may go beyond the assumption's own range (0 to 20%), but not beyond what the model takes.
    fsp_risk.simulate(config_2024, deterministic=True, overrides={"entry_reduction": 0.5})
    with pytest.raises(ConfigError, match=re.escape("overrides.entry_reduction: expected a value the model can take for this input, [0, 1], got 1.5")):
        fsp_risk.simulate(config_2024, deterministic=True, overrides={"entry_reduction": 1.5})


def test_no_switching_value_where_net_savings_are_flat():
    from pathlib import Path

    import fsp_risk
    from fsp_risk.analysis.sensitivity import switching_values

    config = fsp_risk.load_config(Path(__file__).resolve().parents[1] / "configs" / "west-sussex-2022.yaml")
    table = switching_values(config, ["ramp_months", "contract_cost_outturn"]).set_index("input")
    # West Sussex banks no savings, but its placement budget is set on the planned ramp: any slower ramp
    # leaves more children in care than budgeted, so the switch is at the planned ramp itself.
    assert table.loc["ramp_months", "switching_value"] == pytest.approx(config.inputs["ramp_months"].dist.central)
    # Any spend above the budgeted contract profile is a pressure: the switch is at the budget itself.
    assert table.loc["contract_cost_outturn", "switching_value"] == pytest.approx(1.0)


def test_workbook_sheets_formats_and_frozen_headers(tmp_path):
    import datetime as dt

    import openpyxl

    import fsp_risk
    from fsp_risk.outputs.workbook import MONEY_FORMAT, PERCENT_FORMAT, assumption_book

    assert cli.main(["run", "--iterations", "3000", "--out", str(tmp_path)]) == 0
    wb = openpyxl.load_workbook(next(tmp_path.iterdir()) / "summary.xlsx")
    assert wb.sheetnames == ["Headline", "By year", "Cumulative", "Risk register", "Risk portfolio", "Sensitivity",
                             "Grouped sensitivity", "Variance sensitivity", "Switching values", "Scenarios", "Convergence", "Value for money",
                             "Assumption book"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert all(cell.font.bold for cell in ws[1] if cell.value is not None), ws.title
    header = [c.value for c in wb["By year"][1]]
    row = [c for c in wb["By year"][2]]
    assert row[header.index("p80_prudent")].number_format == MONEY_FORMAT
    net_rows = [r for r in wb["By year"].iter_rows(min_row=2) if r[0].value == "net_change_to_mtfp"]
    assert net_rows[0][header.index("p_target_met")].number_format == PERCENT_FORMAT
    variance = wb["Variance sensitivity"]
    vheader = [c.value for c in variance[1]]
    assert variance[2][vheader.index("total_effect")].number_format == PERCENT_FORMAT
    risk_header = [c.value for c in wb["Risk register"][1]]
    assert wb["Risk register"][2][risk_header.index("expected_impact")].number_format == MONEY_FORMAT
    # The assumption book flags reviews that are past due on a given day.
    config = fsp_risk.load_config("configs/oxfordshire-2024-commissioning.yaml")
    book = assumption_book(config, today=dt.date(2025, 1, 1)).set_index("input")
    assert book.loc["mobilisation_effect_scale", "review_overdue"] == "OVERDUE"  # due 1 Nov 2024
    assert book.loc["entry_reduction", "review_overdue"] == ""  # due 28 Feb 2025
    assert len(book) == len(config.inputs)


@pytest.mark.print_charts
def test_html_report_is_self_contained_and_accessible(tmp_path):
    assert cli.main(["run", "--iterations", "3000", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    page = (folder / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html><html lang='en-GB'>")
    assert (folder / "report.html").stat().st_size < 1_000_000  # one file a council's email will carry
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:|//)", page)  # nothing fetched from outside
    assert not re.search(r"<link|<script", page)
    figures = re.findall(r"<figure><img ([^>]*)><figcaption>([^<]+)</figcaption></figure>", page)
    assert len(figures) == 11
    for attrs, caption in figures:
        assert "src='data:image/svg+xml;base64," in attrs  # vector, so it prints sharp
        alt = re.search(r"alt='([^']*)'", attrs).group(1)
        assert len(alt) > 40 and re.search(r"\d", alt) and caption.strip()
    # Every finding, not only the first paragraph, and a contents list that links each section.
    import html as html_lib

    findings = (folder / "findings.md").read_text().split("## Headline figures")[0].split("\n\n")[1:]
    for paragraph in filter(None, (p.strip() for p in findings)):
        assert html_lib.escape(paragraph.replace("\\", "")) in page, paragraph[:60]
    anchors = re.findall(r"<li><a href='#([a-z-]+)'>", page)
    assert {"findings", "charts", "by-year", "assumptions", "provenance"} <= set(anchors)
    assert all(f"id='{a}'" in page for a in anchors)
    assert "Provenance" in page and "seed 20240410" in page and "Assumption book" in page
    # Rebuilt from the same run, the page and its vector charts are the same bytes (no date or random ids).
    svgs = {p.name: p.read_bytes() for p in (folder / "charts").glob("*.svg")}
    assert cli.main(["report", str(folder)]) == 0
    assert (folder / "report.html").read_text() == page
    assert {p.name: p.read_bytes() for p in (folder / "charts").glob("*.svg")} == svgs


def test_report_command_renders_from_stored_data_without_running_the_model(tmp_path, monkeypatch):
    # Every way into the model or the sampler fails: 'report' must render from results.nc, scenarios.nc
    # and analysis.nc alone, and give back byte for byte what the run wrote.
    from fsp_risk.engine import blocks, sampling
    from fsp_risk.model import drivers, rollup

    assert cli.main(["run", "--iterations", "2000", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    derived = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".csv", ".md", ".txt", ".html"))
    assert len(derived) >= 12
    before = {p: p.read_bytes() for p in derived}
    for p in derived:
        p.unlink()

    def no_model(*args, **kwargs):
        raise AssertionError("report must not run the model")

    for module, name in ((drivers, "evaluate_drivers"), (rollup, "rollup"), (blocks, "simulate_block"),
                         (blocks, "evaluate_drivers"), (blocks, "central_case"), (sampling, "block_input_uniforms"),
                         (sampling, "block_uniforms")):
        monkeypatch.setattr(module, name, no_model)
    assert cli.main(["report", str(folder)]) == 0
    for p, data in before.items():
        assert p.read_bytes() == data, p.name
    assert not list(folder.glob(".tmp-*"))


def test_report_refuses_a_folder_without_its_analyses(tmp_path, capsys):
    assert cli.main(["run", CONFIG_2019, "--deterministic", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    (folder / "analysis.nc").unlink()
    assert cli.main(["report", str(folder)]) == 2
    assert "expected the run's analyses in analysis.nc beside results.nc" in capsys.readouterr().err


def test_report_command_on_a_folder_without_results(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    assert f"fsp-risk: error: {tmp_path}: expected a run folder holding results.nc" in capsys.readouterr().err


def test_every_table_says_what_a_positive_figure_means(tmp_path):
    # One sign convention, carried into every table: each CSV and each workbook sheet of figures has a
    # positive_means column, filled on every row; the headline sheet says it in each money label.
    import openpyxl
    import pandas as pd

    assert cli.main(["run", CONFIG_2019, "--iterations", "2000", "--actuals",
                     "configs/actuals/oxfordshire-children-in-care.csv", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    csvs = sorted(folder.glob("*.csv"))
    assert {"summary.csv", "cumulative.csv", "scenarios.csv", "backtest.csv", "risk_register.csv",
            "value_for_money.csv"} <= {p.name for p in csvs}
    for path in csvs:
        table = pd.read_csv(path)
        assert "positive_means" in table.columns, path.name
        assert table["positive_means"].notna().all() and (table["positive_means"].astype(str).str.len() > 3).all(), path.name
    book = openpyxl.load_workbook(folder / "summary.xlsx")
    for ws in book.worksheets:
        header = [c.value for c in ws[1]]
        if ws.title == "Headline":
            for label, value in ws.iter_rows(min_row=2, values_only=True):
                if isinstance(value, float) and ("net" in label.lower() or "saving" in label.lower()):
                    assert "positive =" in label, label
        elif ws.title != "Assumption book":
            assert "positive_means" in header, ws.title
    # P80 means the prudent side everywhere: the summary's net savings P80 is the net change's, negated.
    summary = pd.read_csv(folder / "summary.csv").set_index(["variable", "year"])
    assert summary.loc[("net_savings", "total"), "p80_prudent"] == pytest.approx(
        -summary.loc[("net_change_to_mtfp", "total"), "p80_prudent"], abs=0.02)
    assert "p80" not in summary.columns


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="charts are drawn in a forked process on Linux only")
def test_charts_drawn_in_a_second_process_keep_their_order_and_errors(monkeypatch):
    import os
    import threading

    from fsp_risk.outputs import report

    monkeypatch.setattr(threading, "active_count", lambda: 1)  # as in a command-line run: no other thread
    here = os.getpid()
    jobs = [(True, lambda: [("reads data", os.getpid() == here)]), (False, lambda: [("tables", os.getpid() == here)]),
            (False, lambda: [("tables too", os.getpid() == here)])]
    done = []
    assert report.render_charts(jobs, also=lambda: done.append(os.getpid() == here)) == [
        [("reads data", True)], [("tables", False)], [("tables too", False)]]
    assert done == [True]

    def broken():
        raise ValueError("a chart could not be drawn")

    with pytest.raises(ValueError, match="a chart could not be drawn"):
        report.render_charts([(False, broken), (False, lambda: [])])


@pytest.mark.print_charts
def test_a_run_draws_the_same_chart_files_in_two_processes_as_in_one(tmp_path, monkeypatch):
    # The command line draws the table-only charts in a forked process; 'report' here draws them all in this
    # one (forced): the files are the same bytes.
    out = tmp_path / "runs"
    proc = subprocess.run([sys.executable, "-m", "fsp_risk.app.cli", "run", "--iterations", "3000", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    folder = next(out.iterdir())
    drawn = {p.name: p.read_bytes() for p in (folder / "charts").iterdir()}
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert cli.main(["report", str(folder)]) == 0
    assert {p.name: p.read_bytes() for p in (folder / "charts").iterdir()} == drawn and len(drawn) == 22
