"""Runs that cannot succeed are refused before any work, with a message naming what to change."""
import shutil
from collections import namedtuple

from fsp_risk.app import cli
from fsp_risk.engine.store import RESULTS_FORMAT
from fsp_risk.app.folders import add_attrs

CONFIG_2019 = "configs/oxfordshire-2019-business-case.yaml"


def test_a_run_too_big_for_the_disk_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**12, 10**12 - 2 * 10**9, 2 * 10**9))
    out = tmp_path / "outputs"
    assert cli.main(["run", CONFIG_2019, "--iterations", "5000000", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--iterations: 5,000,000 iterations (" in err and "bytes each in results.nc and scenarios.nc) need about" in err
    assert "and 2.0 GB is free; expected fewer iterations, or an --out on a disk with room" in err
    assert not out.exists()  # nothing made
    # A run that fits goes ahead on the same disk.
    assert cli.main(["run", CONFIG_2019, "--iterations", "2000", "--out", str(out)]) == 0


def test_an_output_path_that_cannot_be_a_folder_is_named(tmp_path, capsys):
    blocker = tmp_path / "report.txt"
    blocker.write_text("a file where the output folder should be")
    assert cli.main(["run", CONFIG_2019, "--deterministic", "--out", str(blocker / "runs")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fsp-risk: error: cannot write outputs: Not a directory")
    assert str(blocker) in err


def test_a_results_file_from_another_format_is_refused_by_report(tmp_path, capsys):
    assert cli.main(["run", CONFIG_2019, "--deterministic", "--out", str(tmp_path)]) == 0
    (run,) = tmp_path.iterdir()
    add_attrs(run / "results.nc", {"results_format": 1, "version_fsp_risk": "0.0.9"})
    assert cli.main(["report", str(run)]) == 2
    err = capsys.readouterr().err
    assert (f"{run / 'results.nc'}: results.nc is in results format 1 (written by fsp-risk 0.0.9), and this "
            f"fsp-risk") in err
    assert f"reads format {RESULTS_FORMAT}; expected a run written by this version" in err


def test_error_kinds_share_one_base():
    from fsp_risk import ConfigError, FspRiskError, ModelError, RunError

    # A program catches every deliberate fsp-risk error with one except; each kind is still told apart (the
    # exit codes: bad input and a run that cannot go on 2, a broken invariant 3; tested with each error).
    assert all(issubclass(kind, FspRiskError) for kind in (ConfigError, RunError, ModelError))
    assert not issubclass(RunError, ConfigError) and not issubclass(ConfigError, RunError)
    err = ModelError("net change is not finite", file="x.yaml", variable="net_change_to_mtfp", year="2024/25",
                     iteration=7)
    assert str(err) == "x.yaml: net change is not finite" and err.iteration == 7
