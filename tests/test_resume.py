"""An interrupted run leaves no run folder, and resumed from its completed blocks equals an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import xarray as xr

import fsp_risk
from fsp_risk import cli, model
from fsp_risk.errors import ConfigError
from fsp_risk.runs import PartialRun
from fsp_risk.sampling import BLOCK
from fsp_risk.scenarios import simulate_scenarios

CONFIG_2019 = "configs/oxfordshire-2019-business-case.yaml"
N = 4 * BLOCK


def _wait_for_blocks(out, count, proc, timeout=300):
    """The progress record once it lists ``count`` blocks of results (the run still going)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        for record in out.glob(".partial/*/progress.json"):
            try:
                done = json.loads(record.read_text())["results"]
            except (OSError, ValueError):  # being replaced this instant
                continue
            if len(done) >= count:
                return record
        time.sleep(0.05)
    raise AssertionError("the run did not get that far")


def test_ctrl_c_keeps_no_run_folder_and_resume_equals_an_uninterrupted_run(tmp_path, monkeypatch, capsys):
    out = tmp_path / "outputs"
    args = ["run", CONFIG_2019, "--iterations", str(N), "--seed", "3", "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "fsp_risk.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_blocks(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "run the same command with --resume to continue from them" in stderr
    assert "interrupted; no run folder was written" in stderr and "Traceback" not in stderr
    assert [p.name for p in out.iterdir()] == [".partial"]  # no run folder, no temporary folder
    (folder,) = (out / ".partial").iterdir()
    kept = json.loads((folder / "progress.json").read_text())["results"]
    assert 2 <= len(kept) < 4 and kept == list(range(len(kept)))

    # Resumed: only the missing blocks are simulated.
    computed = []
    original = model.simulate_block

    def counted(config, central, x, u, z, seed, block, *args, main_only=False, **kwargs):
        if not main_only and block is not None:  # the main run's blocks (not what-if or central re-runs)
            computed.append(block)
        return original(config, central, x, u, z, seed, block, *args, main_only=main_only, **kwargs)

    monkeypatch.setattr(model, "simulate_block", counted)
    assert cli.main([*args, "--resume"]) == 0
    printed = capsys.readouterr().out
    assert f"Resuming: {len(kept)} block(s) of results" in printed
    assert sorted(computed) == [b for b in range(4) if b not in kept]
    assert not (out / ".partial").exists()  # cleared once the run folder is complete
    (run,) = out.iterdir()

    config = fsp_risk.load_config(CONFIG_2019)
    with xr.open_dataset(run / "results.nc") as resumed, \
            fsp_risk.simulate(config, iterations=N, seed=3, path=tmp_path / "whole.nc") as whole:
        xr.testing.assert_identical(resumed.load(), whole.load())
    with xr.open_dataset(run / "scenarios.nc") as resumed:
        xr.testing.assert_identical(resumed.load(), simulate_scenarios(config, N, 3, config.run.sampler))


def _partial(tmp_path, seed=1):
    return PartialRun(tmp_path, "demo", {"config_sha256": "abc", "seed": seed, "iterations": N})


def test_resume_refuses_a_damaged_record_and_names_it(tmp_path):
    p = _partial(tmp_path)
    p.start_afresh()
    p.record("results", 0)
    (p.folder / "progress.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"--resume: cannot resume from .*demo-.*; expected the record of an "
                                          r"interrupted run of this config; run without --resume to start again"):
        _partial(tmp_path).load()
    p.record("results", 0)  # a good record again, but its results.nc is gone
    with pytest.raises(ConfigError, match=r"cannot resume: results\.nc is missing from"):
        _partial(tmp_path).load()


def test_another_seed_has_its_own_record(tmp_path):
    a, b = _partial(tmp_path, seed=1), _partial(tmp_path, seed=2)
    a.start_afresh()
    a.record("results", 0)
    assert a.folder != b.folder and not b.exists()


def test_a_second_run_of_the_same_config_is_refused_while_the_first_works(tmp_path):
    p = _partial(tmp_path)
    with p.lock():
        with pytest.raises(ConfigError, match=rf"another fsp-risk run of this config, seed and iterations is working "
                                              rf"\(process {os.getpid()}\)"):
            with _partial(tmp_path).lock():
                pass
    # A lock left by a process that has died is taken over.
    lock = p.folder.parent / f"{p.folder.name}.lock"
    p.folder.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("999999999")
    with _partial(tmp_path).lock():
        assert lock.read_text() == str(os.getpid())
    assert not lock.exists()
