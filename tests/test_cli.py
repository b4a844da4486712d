"""The command line: run folders, clear errors, nothing half-written, nothing overwritten."""
import subprocess
import sys

import pandas as pd
import pytest
import xarray as xr

import fsp_risk
from fsp_risk.app import cli, runs

from pathlib import Path

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
CONFIG_2019 = str(CONFIGS / "oxfordshire-2019-business-case.yaml")


def test_run_writes_results_and_summary(tmp_path, capsys):
    assert cli.main(["run", CONFIG_2019, "--iterations", "2000", "--seed", "7", "--out", str(tmp_path)]) == 0
    folders = [p for p in tmp_path.iterdir()]
    assert len(folders) == 1 and not folders[0].name.startswith(".tmp")
    ds = xr.open_dataset(folders[0] / "results.nc")
    assert ds.sizes["iteration"] == 2000 and ds.attrs["seed"] == 7
    assert list(ds.year.values)[0] == "2019/20"
    summary = pd.read_csv(folders[0] / "summary.csv")
    total = summary[(summary.variable == "net_change_to_mtfp") & (summary.year == "total")].iloc[0]
    assert total.p10 <= total.p50 <= total.p80_prudent <= total.p90
    out = capsys.readouterr().out
    assert f"Outputs written to {folders[0]}" in out and "chance the MTFP target is met" in out


def test_summary_agrees_with_numpy(tmp_path):
    cli.main(["run", CONFIG_2019, "--iterations", "3000", "--out", str(tmp_path)])
    folder = next(tmp_path.iterdir())
    ds = xr.open_dataset(folder / "results.nc")
    summary = pd.read_csv(folder / "summary.csv").set_index(["variable", "year"])
    net = ds["net_change_to_mtfp"].sel(year="2025/26").values
    row = summary.loc[("net_change_to_mtfp", "2025/26")]
    assert row.p80_prudent == pytest.approx(float(pd.Series(net).quantile(0.8)), abs=0.01)
    assert row.p_target_met == pytest.approx((net <= 0).mean(), abs=5e-5)


def test_runs_never_overwrite(tmp_path):
    for _ in range(2):
        assert cli.main(["run", CONFIG_2019, "--deterministic", "--out", str(tmp_path)]) == 0
    assert len(list(tmp_path.iterdir())) == 2


def test_failure_leaves_no_partial_folder(tmp_path, monkeypatch):
    import fsp_risk.outputs.report

    def broken(ds, config, folder, tables):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fsp_risk.outputs.report, "write_outputs", broken)
    assert cli.main(["run", CONFIG_2019, "--deterministic", "--out", str(tmp_path)]) == 1
    assert list(tmp_path.iterdir()) == []


def test_config_error_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nname: x\n")
    proc = subprocess.run([sys.executable, "-m", "fsp_risk.app.cli", "run", str(bad), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"fsp-risk: error: {bad}: title: required field is missing")
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, message", [
    (["--iterations", "0"], "expected a whole number from 1 to 100,000,000, got 0"),
    (["--iterations", "lots"], "expected a whole number, got 'lots'"),
    (["--seed", "-1"], "expected a whole number from 0 to 9,223,372,036,854,775,807, got -1"),
    (["--sampler", "halton"], "invalid choice: 'halton'"),
])
def test_bad_arguments(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", CONFIG_2019, *args])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


class FakeTerminal:
    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_bar_on_a_terminal_for_long_runs():
    term = FakeTerminal()
    bar = cli.ProgressBar(stream=term, width=10)
    bar(65_536, 131_072)
    bar(131_072, 131_072)
    assert "[#####     ] 65,536/131,072 iterations" in term.text
    assert "[##########] 131,072/131,072 iterations" in term.text and term.text.endswith("\n")
    short = FakeTerminal()
    cli.ProgressBar(stream=short)(1_000, 1_000)  # one block: nothing to show
    assert short.text == ""


def test_version_and_python_dash_m():
    import subprocess
    import sys

    import fsp_risk

    out = subprocess.run([sys.executable, "-m", "fsp_risk", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"fsp-risk {fsp_risk.__version__}"
    bad = subprocess.run([sys.executable, "-m", "fsp_risk", "run", "--seed", "x"], capture_output=True, text=True)
    assert bad.returncode == 2 and "--seed" in bad.stderr


def test_simulate_takes_its_options_by_name(config_2024):
    import fsp_risk

    with pytest.raises(TypeError):
        fsp_risk.simulate(config_2024, 1000)  # which of iterations, seed...? Refused, not guessed


def test_a_run_folder_from_python_as_from_the_command_line(tmp_path, config_2024):
    import numpy as np

    import fsp_risk
    from fsp_risk.app.runs import run

    said = []
    folder, lines = run(config_2024, out=tmp_path, iterations=2_000, say=said.append)
    assert lines == [] and said == []  # nothing to say without a summary, nothing kept from before
    names = {p.name for p in folder.iterdir()}
    assert {"results.nc", "findings.md", "summary.xlsx", "value_for_money.csv", "scenarios.csv"} <= names
    assert not names & {"detail.nc", "scenarios.nc"}  # kept only with keep="all"
    expected = fsp_risk.simulate(config_2024, iterations=2_000, seed=config_2024.run.seed)
    with xr.open_dataset(folder / "results.nc") as ds:
        # results.nc keeps every variable but the breakdowns and those computed exactly from the ones it keeps
        from fsp_risk.engine.variables import DETAIL

        assert set(ds.data_vars) == set(expected.data_vars) - set(DETAIL)
        for name in ds.data_vars:
            np.testing.assert_array_equal(ds[name].values, expected[name].values)


def test_keep_all_adds_the_breakdowns_which_open_results_reads_with_results(tmp_path, config_2024):
    from fsp_risk.app.results import open_results
    from fsp_risk.app.runs import run

    folder, _ = run(config_2024, out=tmp_path, iterations=1_500, keep="all", say=lambda line: None)
    assert {"results.nc", "detail.nc", "scenarios.nc"} <= {p.name for p in folder.iterdir()}
    expected = fsp_risk.simulate(config_2024, iterations=1_500, seed=config_2024.run.seed)
    with open_results(folder) as (ds, _):
        assert set(ds.data_vars) == set(expected.data_vars)
        ds = ds.load()
        ds.attrs.pop("run_id")
        xr.testing.assert_identical(ds, expected)


def test_every_phase_of_a_run_says_so_on_stderr_and_quiet_says_nothing(tmp_path, capsys):
    # Outside a terminal (as here) a run logs one plain line a phase, so no part of it is silent; -v adds the time
    # each took; --quiet prints no progress at all, and stdout keeps the summary either way.
    base = ["run", CONFIG_2019, "--iterations", "1000"]
    assert cli.main([*base, "-v", "--out", str(tmp_path / "a")]) == 0
    loud = capsys.readouterr()
    phases = [line for line in loud.err.splitlines() if line.endswith("s in)")]
    assert [p.split(":")[1].strip().split(" ")[0] for p in phases] == ["simulation", "scenarios,", "analyses", "outputs"]
    assert "\r" not in loud.err  # no progress bar outside a terminal
    assert loud.err.rstrip().endswith("in all") and "Outputs written to" in loud.out
    assert cli.main([*base, "--deterministic", "--quiet", "--out", str(tmp_path / "q")]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and "Outputs written to" in quiet.out


def test_keep_summaries_leaves_a_small_folder_that_report_explains(tmp_path, capsys):
    assert cli.main(["run", CONFIG_2019, "--iterations", "3000", "--keep", "summaries", "--out", str(tmp_path)]) == 0
    folder = next(tmp_path.iterdir())
    names = {p.name for p in folder.iterdir()}
    assert not names & {"results.nc", "detail.nc", "scenarios.nc"}
    assert {"analysis.nc", "summary.csv", "findings.md", "report.html", "summary.xlsx", "run.json"} <= names
    assert not (tmp_path / ".partial").exists() or not any((tmp_path / ".partial").iterdir())
    capsys.readouterr()
    assert cli.main(["report", str(folder)]) == 2
    assert "this run kept only its summaries (--keep summaries)" in capsys.readouterr().err


def test_a_console_without_the_true_minus_prints_a_plain_one(monkeypatch):
    # A Windows code page (output piped on a council laptop) has no U+2212: the line is printed, not lost to a
    # UnicodeEncodeError at the end of a run.
    import io

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", stream)
    cli._console_safe()
    print("P10 \u2212£4.9m, 45%\u201347%, ±£2k, \u2264 £1m")
    stream.flush()
    assert raw.getvalue().decode("cp1252") == "P10 -£4.9m, 45%\u201347%, ±£2k, <= £1m\n"


def test_a_terminal_sees_each_analysis_as_it_starts(tmp_path):
    # On a terminal no part of a phase is silent: each analysis shows in place on the phase's line; in a pipe,
    # one plain line a phase (tested above).
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    log = cli.PhaseLog(stream=screen)
    from fsp_risk.app.runs import run

    run(fsp_risk.load_config(CONFIG_2019), out=tmp_path, iterations=2_000, say=lambda line: None, phase=log)
    log.finish()
    shown = screen.getvalue()
    for step in ("summary tables", "rank correlations and the tornado", "what-if re-runs", "the risk register"):
        assert f"\r\033[K  {step}" in shown, step
    # The steps' line is cleared before the next phase's line is written over it, from its start.
    assert "\r\033[Kfsp-risk: outputs: tables, charts" in shown
