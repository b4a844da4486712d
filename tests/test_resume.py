"""An interrupted run leaves no run folder, and resumed from its completed blocks equals an uninterrupted run."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import xarray as xr

import fsp_risk
from fsp_risk.app import cli, runs
from fsp_risk.engine import simulate as model
from fsp_risk.engine import store
from fsp_risk.errors import RunError
from fsp_risk.app.partial import PartialRun
from fsp_risk.engine.sampling import BLOCK
from fsp_risk.engine.scenarios import simulate_scenarios

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
    args = ["run", CONFIG_2019, "--iterations", str(N), "--seed", "3", "--workers", "1", "--out", str(out),
            "--keep", "all"]
    proc = subprocess.Popen([sys.executable, "-m", "fsp_risk.app.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    _wait_for_blocks(out, 2, proc)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "run the same command with --resume to continue from them" in stderr
    assert "interrupted; no run folder was written" in stderr and "Traceback" not in stderr
    assert [p.name for p in out.iterdir()] == [".partial"]  # no run folder, no temporary folder
    (folder,) = (out / ".partial").iterdir()
    kept = sorted(map(int, json.loads((folder / "progress.json").read_text())["results"]))
    assert 2 <= len(kept) < 4 and kept == list(range(len(kept)))

    # Resumed: only the missing blocks are simulated.
    computed = []
    original = model.simulate_block

    def counted(config, central, x, u, z, *, block, main_only=False, **kwargs):
        if not main_only and block is not None:  # the main run's blocks (not what-if or central re-runs)
            computed.append(block)
        return original(config, central, x, u, z, block=block, main_only=main_only, **kwargs)

    monkeypatch.setattr(model, "simulate_block", counted)
    monkeypatch.setattr(runs, "finish_run", lambda *a, **k: {})  # what is checked is the data, not the outputs
    monkeypatch.setattr(cli, "_summary", lambda *a: [])
    assert cli.main([*args, "--resume"]) == 0
    printed = capsys.readouterr().out
    assert f"Resuming: {len(kept)} block(s) of results" in printed
    assert sorted(computed) == [b for b in range(4) if b not in kept]
    assert not (out / ".partial").exists()  # cleared once the run folder is complete
    (run,) = out.iterdir()

    config = fsp_risk.load_config(CONFIG_2019)
    with store.open_split(run / "results.nc", run / "detail.nc") as resumed, \
            fsp_risk.simulate(config, iterations=N, seed=3, path=tmp_path / "whole.nc") as whole:
        assert resumed.attrs.pop("run_id")  # the one attribute a run adds
        xr.testing.assert_identical(resumed.load(), whole.load())
    with xr.open_dataset(run / "scenarios.nc") as resumed:
        assert resumed.attrs.pop("run_id")
        xr.testing.assert_identical(resumed.load(), simulate_scenarios(config, N, 3, config.run.sampler,
                                                                       variables=runs.SCENARIO_VARIABLES))


def _partial(tmp_path, seed=1):
    return PartialRun(tmp_path, "demo", {"config_sha256": "abc", "seed": seed, "iterations": N})


def test_a_damaged_record_is_discarded_and_named(tmp_path):
    p = _partial(tmp_path)
    p.start_afresh()
    p.record("results", 0, "digest")
    (p.folder / "progress.json").write_text("{not json")
    q = _partial(tmp_path)
    (problem,) = q.load()
    assert problem.startswith(f"the record of kept blocks in {q.progress_file} cannot be used (")
    assert problem.endswith("every block will be simulated again")
    assert q.blocks == {"results": {}, "scenarios": {}} and q.exists()  # started afresh, record rewritten


def test_another_seed_has_its_own_record(tmp_path):
    a, b = _partial(tmp_path, seed=1), _partial(tmp_path, seed=2)
    a.start_afresh()
    a.record("results", 0, "digest")
    assert a.folder != b.folder and not b.exists()


def test_a_second_run_of_the_same_config_is_refused_while_the_first_works(tmp_path):
    p = _partial(tmp_path)
    with p.lock():
        with pytest.raises(RunError, match=rf"another fsp-risk run of this config, seed and iterations is working "
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


# ----------------------------------------------------------------------- what a resume trusts
def _interrupted(tmp_path, monkeypatch, n=2 * BLOCK):
    """A run stopped (as by Ctrl-C) after all its results blocks and before its scenarios."""
    import fsp_risk.engine.scenarios

    out = tmp_path / "outputs"
    args = ["run", CONFIG_2019, "--iterations", str(n), "--seed", "3", "--out", str(out), "--keep", "all"]

    def stop(*a, **k):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(fsp_risk.engine.scenarios, "simulate_scenarios", stop)
        assert cli.main(args) == 130
    (folder,) = (out / ".partial").iterdir()
    return out, args, folder


def _resumed_equals_whole(tmp_path, out, args, capsys, n=2 * BLOCK):
    with pytest.MonkeyPatch.context() as m:  # what is checked here is results.nc: skip the tables and charts
        m.setattr(runs, "finish_run", lambda *a, **k: {})
        m.setattr(cli, "_summary", lambda *a: [])
        assert cli.main([*args, "--resume"]) == 0
    captured = capsys.readouterr()
    (run,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    config = fsp_risk.load_config(CONFIG_2019)
    with store.open_split(run / "results.nc", run / "detail.nc") as resumed:  # results.nc and detail.nc as one
        assert resumed.attrs.pop("run_id")
        xr.testing.assert_identical(resumed.load(), fsp_risk.simulate(config, iterations=n, seed=3))
    return captured


@pytest.mark.parametrize("damage", ["random bytes", "an edited value", "a block never written", "a forged checksum",
                                    "an impossible value"])
def test_a_damaged_kept_block_is_named_and_simulated_again(tmp_path, monkeypatch, capsys, damage):
    import netCDF4

    out, args, folder = _interrupted(tmp_path, monkeypatch)
    results = folder / "results.nc"
    record = json.loads((folder / "progress.json").read_text())
    if damage == "random bytes":
        with open(results, "r+b") as fh:  # into the second block's values (variables are stored contiguously)
            fh.seek(results.stat().st_size - 200_000)
            fh.write(os.urandom(4096))
    elif damage == "an edited value":
        with netCDF4.Dataset(results, "a") as nc:
            nc["net_change_to_mtfp"][BLOCK + 7, 2] = -1e301
    elif damage == "a block never written":
        record["results"].pop("1")
        (folder / "progress.json").write_text(json.dumps(record))
        # claim a block of a longer run: the record lists it, the file has no such block
        record["results"]["5"] = record["results"]["0"]
        (folder / "progress.json").write_text(json.dumps(record))
    elif damage == "a forged checksum":
        # A consistent edit (the net change and its first line both £5m lower: every invariant holds) and the
        # block's checksum recomputed by the published algorithm, without the user's secret key.
        from fsp_risk.engine.store import block_digest, read_block

        with netCDF4.Dataset(results, "a") as nc, netCDF4.Dataset(folder / "detail.nc", "a") as detail:
            nc["net_change_to_mtfp"][BLOCK:] = nc["net_change_to_mtfp"][BLOCK:] - 5e6
            detail["net_change_by_line"][BLOCK:, :, 0] = detail["net_change_by_line"][BLOCK:, :, 0] - 5e6
        with netCDF4.Dataset(results) as nc, netCDF4.Dataset(folder / "detail.nc") as detail:
            values = read_block([nc, detail], BLOCK, BLOCK)
        key_digest = hashlib.sha256(json.dumps(record["key"], sort_keys=True).encode()).hexdigest()
        record["results"]["1"] = hashlib.sha256(f"{key_digest}/results/1/{block_digest(values)}".encode()).hexdigest()
        (folder / "progress.json").write_text(json.dumps(record))
    else:  # a value edited and its checksum sealed as fsp-risk would (the user's own key): the invariants catch it
        from fsp_risk.engine.store import block_digest, read_block

        with netCDF4.Dataset(results, "a") as nc:
            nc["net_change_to_mtfp"][BLOCK + 7, 2] = float("nan")
        with netCDF4.Dataset(results) as nc, netCDF4.Dataset(folder / "detail.nc") as detail:
            values = read_block([nc, detail], BLOCK, BLOCK)
        p = PartialRun(out, "x", {})
        p.key_digest = hashlib.sha256(json.dumps(record["key"], sort_keys=True).encode()).hexdigest()
        record["results"]["1"] = p._seal("results", 1, block_digest(values))
        (folder / "progress.json").write_text(json.dumps(record))
    captured = _resumed_equals_whole(tmp_path, out, args, capsys)
    err = captured.err
    assert "Traceback" not in err
    if damage == "a block never written":
        assert f"Kept block 5 of {results} is damaged (there is no such block in this run)" in err
    elif damage == "an impossible value":
        assert (f"Kept block 1 of {results} is damaged (it breaks a model invariant: net_change_to_mtfp in 2021/22, "
                f"iteration {BLOCK + 7:,}); it will be simulated again.") in err
    elif damage in ("an edited value", "a forged checksum"):
        assert (f"Kept block 1 of {results} is damaged (its values do not match the checksum recorded when it was "
                "written); it will be simulated again.") in err
    else:  # the bytes hit a block, or the file's own structure
        assert f"of {results}" in err and "simulated again" in err


def test_an_unreadable_partial_file_is_discarded_once(tmp_path, monkeypatch, capsys):
    out, args, folder = _interrupted(tmp_path, monkeypatch)
    (folder / "results.nc").write_bytes(b"not a netCDF file at all")
    captured = _resumed_equals_whole(tmp_path, out, args, capsys)
    assert captured.err.count(f"{folder / 'results.nc'} cannot be read (") == 1
    assert "its 2 kept block(s) will be simulated again" in captured.err
    assert "Resuming: 0 block(s) of results" in captured.out


def test_links_planted_in_the_partial_folder_are_never_followed(tmp_path, monkeypatch, capsys):
    out, args, folder = _interrupted(tmp_path, monkeypatch)
    victim = tmp_path / "victim.txt"
    victim.write_text("my precious notes")
    (folder / "scenarios.nc").symlink_to(victim)  # no scenario block kept: the file would be created afresh
    (folder / "progress.tmp").symlink_to(victim)  # where the record is written before it is renamed
    (out / ".partial" / "evil.lock").symlink_to(victim)  # a stale lock of another run
    (out / ".partial" / "dangling.lock").symlink_to(tmp_path / "created_outside.txt")
    captured = _resumed_equals_whole(tmp_path, out, args, capsys)
    assert victim.read_text() == "my precious notes" and not (tmp_path / "created_outside.txt").exists()
    (run,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert not (run / "scenarios.nc").is_symlink() and "Traceback" not in captured.err


def test_a_kept_results_file_replaced_by_a_link_is_simulated_again(tmp_path, monkeypatch, capsys):
    out, args, folder = _interrupted(tmp_path, monkeypatch)
    outside = tmp_path / "outside.nc"
    os.replace(folder / "results.nc", outside)
    (folder / "results.nc").symlink_to(outside)
    before = outside.read_bytes()
    captured = _resumed_equals_whole(tmp_path, out, args, capsys)
    assert f"{folder / 'results.nc'} is not a regular file; its 2 kept block(s) will be simulated again" in captured.err
    assert outside.read_bytes() == before  # never opened for writing
