"""Run folders: written to a temporary folder and renamed when complete; never overwritten."""
from __future__ import annotations

import datetime as dt
import errno
import hashlib
import hmac
import json
import os
import shutil
import sys
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Callable

import netCDF4
import numpy as np
import xarray as xr

from fsp_risk.engine.store import RESULTS_FORMAT
from fsp_risk.errors import ConfigError, ModelError, RunError
from fsp_risk.files import check_inside, fsync_dir, is_regular, pid_alive, remove_unless_regular, user_key
from fsp_risk.outputs.report import write_outputs


def utc_stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _unique_dir(root: Path, stem: str) -> Path:
    path, k = root / stem, 2
    while os.path.lexists(path):  # a dangling link counts: its name is taken
        path, k = root / f"{stem}-{k}", k + 1
    return path


class StagedFolder:
    """A new output folder written in full under a hidden temporary name, then renamed into place.

    ``with StagedFolder(root, stem) as staged:`` write into ``staged.tmp``; on leaving the block the
    folder is renamed to ``root/stem`` (``stem-2``, ``stem-3``... if that exists: nothing is ever
    overwritten) and ``staged.final`` is set. On any error, Ctrl-C or SIGTERM the temporary folder is
    removed; one left by a killed process (``kill -9``) is removed by the next run into ``root``. Both
    names are checked to resolve inside ``root``.
    """

    def __init__(self, root: str | Path, stem: str):
        self.root, self.stem = Path(root), stem
        self.final: Path | None = None

    def __enter__(self) -> "StagedFolder":
        self.root.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(self.root)
        self.tmp = check_inside(self.root, self.root / f".tmp-{self.stem}-{os.getpid()}")
        self.tmp.mkdir()
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            try:
                final = check_inside(self.root, _unique_dir(self.root, self.stem))
                os.rename(self.tmp, final)  # atomic on one file system; fails rather than replace a non-empty folder
                fsync_dir(self.root)
                self.final = final
                return False
            except BaseException:
                shutil.rmtree(self.tmp, ignore_errors=True)
                raise
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the ``.tmp-...-<pid>`` folders in ``folder`` whose process has died (a run or report
    killed before it could clean up); returns them."""
    removed = []
    for path in folder.glob(".tmp-*-*"):
        pid = path.name.rsplit("-", 1)[1]
        if path.is_dir() and not path.is_symlink() and pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextmanager
def file_lock(path: Path, busy: str):
    """Hold an exclusive kernel lock (``flock``) on ``path`` while the block runs; refused at once with a
    RunError saying ``busy`` (and the holder's process id) while another process holds it.

    The kernel releases the lock when its holder dies however it dies, so a killed run never blocks
    the next; the file is removed on release, and a lock file found free is reused.
    """
    import fcntl

    while True:
        remove_unless_regular(path)  # a link planted at the lock's name is removed, never followed
        try:
            fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a link appeared since: remove it and try again
                continue
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise RunError(f"{busy} (process {holder}); expected it to finish first, or a different --seed or "
                              "--out", path=str(path)) from None
        try:  # the previous holder may have removed the file between our open and flock: lock the one there now
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        path.unlink(missing_ok=True)  # while still held, so no one else takes a file about to go
        os.close(fd)


class PartialRun:
    """The simulated blocks of a run not yet finished, kept so that an interrupted run can be resumed.

    They live in ``<out>/.partial/<config name>-<key hash>/`` (hidden: never mistaken for a run folder):
    ``results.nc`` and ``scenarios.nc`` filled block by block, and ``progress.json`` recording each
    block on disk with its checksum, rewritten atomically (and synced) after the block itself is synced.
    ``key`` is everything the numbers depend on (config hash, seed, sampler, iterations, stress tests,
    version): only the same run resumes, and each block's checksum is bound to the key, its file and its
    number, so a block cannot pass for another. :meth:`verify` checks every kept block before a resume
    uses it; a damaged one is named and simulated again.
    """

    PHASES = ("results", "scenarios")

    def __init__(self, out_root: str | Path, name: str, key: dict):
        self.key = json.loads(json.dumps(key, sort_keys=True))
        self.key_digest = hashlib.sha256(json.dumps(self.key, sort_keys=True).encode()).hexdigest()
        self.root = Path(out_root)
        self.folder = check_inside(self.root, self.root / ".partial" / f"{name}-{self.key_digest[:12]}")
        self.progress_file = self.folder / "progress.json"
        self._secret = user_key()
        #: Phase -> {block number: sealed checksum} of the blocks on disk.
        self.blocks: dict[str, dict[int, str]] = {phase: {} for phase in self.PHASES}

    def exists(self) -> bool:
        return self.progress_file.is_file()

    @contextmanager
    def lock(self):
        """Held while the run works: a second run of the same config, seed and iterations is refused
        rather than let it write into the same partial files. Lock files left by killed runs (of any
        config) are removed here when free."""
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        check_inside(self.root, self.folder.parent)
        for stale in self.folder.parent.glob("*.lock"):
            if remove_unless_regular(stale):
                continue  # a link or anything but a file: removed, not followed
            if stale.name != f"{self.folder.name}.lock":
                try:
                    with file_lock(stale, ""):
                        pass  # free: taken and removed
                except Exception:
                    pass  # in use by a working run
        try:
            with file_lock(self.folder.parent / f"{self.folder.name}.lock",
                           "another fsp-risk run of this config, seed and iterations is working"):
                yield
        finally:
            try:
                self.folder.parent.rmdir()  # .partial itself, once nothing is left in it
            except OSError:
                pass

    def load(self) -> list[str]:
        """Read the record of kept blocks; a record that cannot be read, or is another run's, is discarded
        (the run starts afresh). Returns what was discarded, in words."""
        try:
            if not is_regular(self.progress_file):
                raise ValueError("it is not a regular file")
            saved = json.loads(self.progress_file.read_text(encoding="utf-8"))
            if saved.get("key") != self.key:
                raise ValueError("it was made by another run")
            self.blocks = {phase: {int(b): str(seal) for b, seal in saved[phase].items()} for phase in self.PHASES}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            self.start_afresh()
            return [f"the record of kept blocks in {self.progress_file} cannot be used ({exc}); every block will be "
                    "simulated again"]
        return []

    def _seal(self, phase: str, block: int, digest: str) -> str:
        """A block's checksum bound to this run's key, its file and its number, keyed (HMAC) with the user's
        secret (:func:`fsp_risk.files.user_key`) so that it cannot be recomputed for edited values."""
        message = f"{self.key_digest}/{phase}/{block}/{digest}".encode()
        if self._secret is None:
            return hashlib.sha256(message).hexdigest()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def verify(self, phase: str, check=None) -> list[str]:
        """Check every kept block of ``phase`` against its checksum, and with ``check(values, pos)`` (the
        model's invariants) against what the model can produce; discard those that fail, and the whole
        file when it cannot be read. Returns what was discarded, in words."""
        from fsp_risk.engine.sampling import BLOCK, block_sizes
        from fsp_risk.engine.store import block_digest, read_block

        done, path = self.blocks[phase], self.folder / f"{phase}.nc"
        if not done:
            remove_unless_regular(path)
            return []
        nc, why = None, "is not a regular file"  # a link (perhaps out of --out) or a folder: never opened
        if is_regular(path):
            try:
                nc = netCDF4.Dataset(path, "r")
            except (OSError, RuntimeError, ValueError) as exc:
                why = f"cannot be read ({exc})"
        if nc is None:  # the whole file goes, and every block it held is simulated again
            n = len(done)
            done.clear()
            if not remove_unless_regular(path):
                path.unlink(missing_ok=True)
            self._save()
            return [f"{path} {why}; its {n} kept block(s) will be simulated again"]
        sizes = block_sizes(self.key["iterations"])
        bad, problems = [], []
        with nc:
            for block, seal in sorted(done.items()):
                pos = block * BLOCK
                try:
                    if block >= len(sizes):
                        raise ValueError("there is no such block in this run")
                    values = read_block(nc, pos, sizes[block])
                    if self._seal(phase, block, block_digest(values)) != seal:
                        raise ValueError("its values do not match the checksum recorded when it was written")
                    if check is not None:
                        try:
                            check({k: v for k, v in values.items() if k != "iteration"}, pos)
                        except ModelError as exc:
                            raise ValueError(f"it breaks a model invariant: {exc.variable} in {exc.year}, iteration "
                                             f"{exc.iteration:,}") from None
                except (OSError, RuntimeError, ValueError, IndexError) as exc:
                    bad.append(block)
                    problems.append(f"kept block {block} of {path} is damaged ({exc}); it will be simulated again")
        for block in bad:
            del done[block]
        if bad:
            self._save()
        return problems

    def start_afresh(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.blocks = {phase: {} for phase in self.PHASES}
        self._save()

    def record(self, phase: str, block: int | None, digest: str) -> None:
        block = 0 if block is None else int(block)  # None: a deterministic run's one block
        self.blocks[phase][block] = self._seal(phase, block, digest)
        self._save()

    def _save(self) -> None:
        data = {"key": self.key, **{phase: {str(b): seal for b, seal in sorted(done.items())}
                                    for phase, done in self.blocks.items()}}
        tmp = self.progress_file.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)  # whatever is there (a planted link) goes; the record is a new file
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=1) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.progress_file)  # atomic: the record is the old one or the new one, never half
        fsync_dir(self.folder)

    def done(self) -> int:
        return len(self.blocks["results"]) + len(self.blocks["scenarios"])

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def check_disk_space(out_root: str | Path, needed_bytes: int, what: str) -> None:
    """Refuse, before any work, a run whose files would not fit on the disk of ``out_root``."""
    where = Path(out_root).resolve()
    while not where.exists():  # the folder is made later: look at the disk it will be on
        where = where.parent
    free = shutil.disk_usage(where).free
    margin = 64 * 2**20 + needed_bytes // 50  # room for the tables, charts and workbook
    if needed_bytes + margin > free:
        raise RunError(f"{what} need about {_gb(needed_bytes + margin)} of disk under {out_root}, and "
                          f"{_gb(free)} is free; expected fewer iterations, or an --out on a disk with room",
                          path="--iterations")


def _gb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e8 else f"{n / 1e6:,.0f} MB"


def run_folder_name(name: str, seed: int) -> str:
    """``<config name>-<UTC time>-seed<seed>``: the name of a new run folder."""
    return f"{name}-{utc_stamp()}-seed{seed}"


def add_attrs(path: Path, attrs: dict) -> None:
    """Add global attributes to a netCDF file in place (provenance known only after simulating)."""
    if attrs:
        with netCDF4.Dataset(path, "a") as nc:
            nc.setncatts(attrs)


def finish_run(ds: xr.Dataset, config, folder: Path, scenarios: xr.Dataset | None = None) -> None:
    """Write the tables, charts, workbook, report and ``run.json`` of a run whose results are in ``folder``."""
    write_outputs(ds, config, folder, scenarios)
    meta = {k: ds.attrs[k] for k in ("config_name", "config_path", "config_sha256", "seed", "sampler", "iterations")}
    meta.update({k: ds.attrs[k] for k in ("run_id", "precision_target", "stop_reason") if k in ds.attrs})
    meta["created_utc"] = utc_stamp()
    meta["versions"] = {k[len("version_"):]: v for k, v in ds.attrs.items() if k.startswith("version_")}
    # Attributes read back from netCDF are NumPy scalars.
    text = json.dumps(meta, indent=2, default=lambda v: v.item() if hasattr(v, "item") else str(v))
    (folder / "run.json").write_text(text + "\n", encoding="utf-8")


def write_run(ds: xr.Dataset, out_root: str | Path, name: str, config=None, scenarios: xr.Dataset | None = None) -> Path:
    """Write ``results.nc``, ``summary.csv`` and ``run.json`` to a new folder under ``out_root``.

    With a ``config``, the charts and ``findings.md`` too, and the risk outputs when it has a register
    (see :func:`fsp_risk.outputs.report.write_outputs`).

    The files are written into a hidden temporary folder first and the folder is renamed into place
    only when all of them are complete; on any error (or Ctrl-C) the temporary folder is removed.
    An existing run folder is never overwritten: a clash gets a ``-2``, ``-3``... suffix.
    """
    run_id = uuid.uuid4().hex  # the same in each file of the folder (see open_results)
    ds = ds.assign_attrs(run_id=run_id)
    with StagedFolder(out_root, run_folder_name(name, ds.attrs["seed"])) as staged:
        ds.to_netcdf(staged.tmp / "results.nc", engine="netcdf4")
        if scenarios is not None:
            scenarios = scenarios.assign_attrs(run_id=run_id)
            scenarios.to_netcdf(staged.tmp / "scenarios.nc", engine="netcdf4")
        finish_run(ds, config, staged.tmp, scenarios)
    return staged.final


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def run(config, *, out: str | Path = "outputs", iterations: int | None = None, seed: int | None = None,
        sampler: str | None = None, deterministic: bool = False, stresses: list[dict[str, float]] = (),
        actuals: str | Path | None = None, precision: str | None = None, workers: int | None = None,
        engine: str = "threads", scheduler: str | None = None, resume: bool = False,
        progress: Callable[[], Callable[[int, int], None]] | None = None,
        say: Callable[[str], None] = print, warn: Callable[[str], None] = _stderr,
        summarise: Callable | None = None) -> tuple[Path, list[str]]:
    """A whole run, as ``fsp-risk run`` makes it: simulate, the scenarios and counterfactual, every table,
    chart and report, in a new folder under ``out``; returns the folder and ``summarise(ds, scenarios,
    config)``'s lines (none without it), computed while the results are open.

    Bad input is refused before any work. Simulated blocks are kept in ``out/.partial`` as they are
    written, so an interrupted run continues with ``resume=True``; the run folder appears only complete.
    ``stresses`` are pinned inputs (:func:`fsp_risk.engine.scenarios.parse_stress`), ``actuals`` a CSV of outturns,
    ``precision`` a target such as "£50k" that sets the iterations. ``progress`` makes a progress
    callback for each simulation; ``say`` and ``warn`` take the lines a terminal shows on stdout and stderr.
    """
    from fsp_risk.engine.sampling import BLOCK
    from fsp_risk.engine.scenarios import scenario_bytes_per_iteration
    from fsp_risk.engine.simulate import _versions, result_bytes_per_iteration

    actuals_text = None
    if actuals is not None:
        from fsp_risk.config.actuals import parse_actuals, read_actuals

        actuals_text = read_actuals(actuals)
        parse_actuals(actuals_text, config, file=str(actuals))  # refuse a bad file before simulating
    seed = config.run.seed if seed is None else seed
    sampler = sampler or config.run.sampler
    stop_reason = None
    if precision is not None:
        from fsp_risk.analysis.convergence import DEFAULT_PRECISION_CAP, iterations_for_precision, parse_precision

        if deterministic:
            raise ConfigError("a deterministic run has one iteration; --precision needs a simulation",
                              path="--precision")
        target = parse_precision(precision)
        iterations, stop_reason, _ = iterations_for_precision(
            config, seed, sampler, target, iterations or DEFAULT_PRECISION_CAP, progress() if progress else None)
        say(stop_reason[0].upper() + stop_reason[1:] + ".")
    # One id in results.nc, scenarios.nc and run.json: 'report' and 'compare' refuse files of two runs.
    extra_attrs = {"run_id": uuid.uuid4().hex}
    if stop_reason is not None:
        extra_attrs.update(precision_target=precision, stop_reason=stop_reason)
    if actuals_text is not None:
        # Kept with the results, so that 'fsp-risk report' rebuilds the backtest too.
        extra_attrs.update(actuals_csv=actuals_text, actuals_file=str(actuals))
    iterations = 1 if deterministic else (iterations or config.run.iterations)
    # Simulated blocks are kept in a hidden partial folder as they are written, so an interrupted run can
    # be resumed; they move into the run folder only once everything else is written.
    partial = PartialRun(out, config.name, {
        "config_sha256": config.sha256, "seed": seed, "sampler": sampler, "iterations": iterations,
        "deterministic": deterministic, "stresses": stresses, "precision": precision,
        "version": _versions()["fsp-risk"], "block": BLOCK})
    per_iteration = result_bytes_per_iteration(config)
    if not deterministic:
        per_iteration += scenario_bytes_per_iteration(config, stresses)
    kept = sum(f.stat().st_size for f in partial.folder.glob("*.nc")) if resume else 0
    check_disk_space(out, max(iterations * per_iteration - kept, 0),
                     f"{iterations:,} iterations ({per_iteration:,} bytes each in results.nc and scenarios.nc)")
    case = dict(config=config, iterations=iterations, seed=seed, sampler=sampler, deterministic=deterministic,
                stresses=stresses, out=out, workers=workers, engine=engine, scheduler=scheduler,
                extra_attrs=extra_attrs, progress=progress, summarise=summarise)
    with partial.lock():
        try:
            folder, lines = _simulate_and_write(partial, resume, say, warn, **case)
        except BaseException as exc:
            # Blocks are kept for --resume after Ctrl-C or a crash (a full disk...), not after bad input or
            # a broken invariant, which the same run would meet again, nor for a one-iteration run.
            if partial.done() and not deterministic and not isinstance(exc, (ConfigError, ModelError)):
                warn(f"fsp-risk: {partial.done()} simulated block(s) are kept in {partial.folder}; run the same "
                     "command with --resume to continue from them")
            else:
                partial.remove()
            raise
    from fsp_risk.outputs.report import late_evidence_lines

    for line in late_evidence_lines(config):
        warn(f"fsp-risk: warning: {line}")
    return folder, lines


def _simulate_and_write(partial, resume, say, warn, *, config, iterations, seed, sampler, deterministic, stresses,
                        out, workers, engine, scheduler, extra_attrs, progress, summarise) -> tuple[Path, list[str]]:
    from fsp_risk.engine.executors import cluster
    from fsp_risk.engine.scenarios import simulate_scenarios
    from fsp_risk.engine.simulate import simulate

    if resume and partial.exists():
        # Nothing on disk is trusted: each kept block must match its checksum and the model's invariants,
        # or it is named here and simulated again.
        from fsp_risk.engine.invariants import check_block
        from fsp_risk.engine.scenarios import check_stored_block

        problems = partial.load()
        problems += partial.verify("results", lambda values, pos: check_block(config, values, pos))
        problems += partial.verify("scenarios", lambda values, pos: check_stored_block(config, stresses, values, pos))
        for problem in problems:
            warn(f"fsp-risk: {problem[0].upper()}{problem[1:]}.")
        say(f"Resuming: {len(partial.blocks['results'])} block(s) of results and {len(partial.blocks['scenarios'])} "
            f"of scenarios already simulated are kept from {partial.folder}.")
    else:
        if resume:
            say("Nothing to resume for this config, seed and iterations: starting afresh.")
        elif partial.exists():
            say(f"An interrupted run of this config left its blocks in {partial.folder}; starting afresh "
                "(--resume would have continued from them).")
        partial.start_afresh()
    # Blocks run on the dask client the cluster opens (when asked for), so no scheduler is passed down; one
    # cluster serves the main run and the scenarios. Results are written to disk block by block, so memory
    # stays bounded whatever the iterations.
    blocks = dict(engine=engine, workers=workers)
    lines: list[str] = []
    with cluster(engine, scheduler, workers), StagedFolder(out, run_folder_name(config.name, seed)) as staged:
        results = partial.folder / "results.nc"
        simulate(config, iterations=iterations, seed=seed, sampler=sampler, deterministic=deterministic,
                 progress=progress() if progress else None, path=results, done_blocks=partial.blocks["results"],
                 on_block=lambda b, digest: partial.record("results", b, digest), **blocks).close()
        add_attrs(results, extra_attrs)
        scenarios_file = partial.folder / "scenarios.nc"
        scenarios = None
        with xr.open_dataset(results, engine="netcdf4", cache=False) as ds:  # read variable by variable
            if not deterministic:
                # Scenarios, stress tests and the counterfactual without FSP, on the run's own random numbers.
                scenarios = simulate_scenarios(config, iterations, seed, sampler, stresses, path=scenarios_file,
                                               done_blocks=partial.blocks["scenarios"],
                                               on_block=lambda b, digest: partial.record("scenarios", b, digest),
                                               **blocks)
            finish_run(ds, config, staged.tmp, scenarios)
            if summarise is not None:
                lines = summarise(ds, scenarios, config)
            if scenarios is not None:
                scenarios.close()
                add_attrs(scenarios_file, {"run_id": extra_attrs["run_id"]})
        for f in (results, scenarios_file):
            if f.exists():
                os.replace(f, staged.tmp / f.name)
    partial.remove()
    return staged.final, lines


#: Files a run folder holds besides results.nc and run.json; all are derived from results.nc.
DERIVED = ("summary.csv", "cumulative.csv", "sensitivity.csv", "grouped_sensitivity.csv", "switching_values.csv", "risk_register.csv",
           "risk_portfolio.csv", "risk_reserve.txt", "backtest.csv", "scenarios.csv", "convergence.csv", "value_for_money.csv", "summary.xlsx", "findings.md", "report.html")


@contextmanager
def open_results(run_dir: str | Path, needs: tuple[str, ...] = ()):
    """A run folder's ``results.nc`` (opened lazily) and the config stored in it, checked first.

    ``needs`` names variables the caller reads; a file without them, or without a config, is refused
    with the file named.
    """
    from fsp_risk.config import parse_config
    from fsp_risk.engine.simulate import _versions

    results = Path(run_dir) / "results.nc"
    if not results.is_file():
        raise ConfigError("expected a run folder holding results.nc (written by 'fsp-risk run')", file=str(run_dir))
    with _open_netcdf(results) as ds:  # variables read when used
        missing = [k for k in needs if k not in ds]
        if "config_text" not in ds.attrs or missing:
            raise ConfigError("results.nc was not written by fsp-risk (no config_text attribute"
                              + "".join(f" or {k}" for k in missing) + ")", file=str(results))
        written = ds.attrs.get("results_format")
        if isinstance(written, str) or written != RESULTS_FORMAT:
            made_by = ds.attrs.get("version_fsp_risk", "an unknown version")
            raise ConfigError(f"results.nc is in results format {written if written is not None else 1} (written by "
                              f"fsp-risk {made_by}), and this fsp-risk ({_versions()['fsp-risk']}) reads format "
                              f"{RESULTS_FORMAT}; expected a run written by this version: run 'fsp-risk run' on its "
                              "config again", file=str(results))
        run_json = Path(run_dir) / "run.json"
        if run_json.is_file():
            try:
                recorded = json.loads(run_json.read_text(encoding="utf-8")).get("run_id")
            except (OSError, ValueError, AttributeError) as exc:
                raise ConfigError(f"cannot read run.json ({exc}); expected the record 'fsp-risk run' wrote",
                                  file=str(run_json)) from None
            _same_run(ds, recorded, run_json)
        scenarios = Path(run_dir) / "scenarios.nc"
        if scenarios.is_file():
            with _open_netcdf(scenarios) as scen:
                _same_run(ds, scen.attrs.get("run_id"), scenarios)
        attachments = _check_provenance(ds, results)
        config = parse_config(ds.attrs["config_text"], file=f"{results} (config_text)", attachments=attachments)
        try:
            yield ds, config
        except RuntimeError as exc:  # netCDF's own read errors ("NetCDF: HDF error") while the caller reads
            if isinstance(exc, ModelError) or "NetCDF" not in str(exc):
                raise
            raise ConfigError(f"cannot read results.nc ({exc}); expected an undamaged file: run 'fsp-risk run' on "
                              "its config again", file=str(results)) from None


def _check_provenance(ds: xr.Dataset, results: Path) -> dict[str, str]:
    """Refuse a results file whose attributes are not what fsp-risk writes (edited, or another tool's),
    and one whose main result holds a value no run can produce: the report would otherwise print it.
    Returns the texts of the files its config read (``config_attachments``)."""
    import numbers

    from fsp_risk.config import MAX_ITERATIONS, MAX_SEED, SAMPLERS

    a = ds.attrs
    checks = {
        "config_text": isinstance(a.get("config_text"), str),
        "seed": isinstance(a.get("seed"), numbers.Integral) and 0 <= a["seed"] <= MAX_SEED,
        "sampler": a.get("sampler") in (*SAMPLERS, "central"),
        "iterations": isinstance(a.get("iterations"), numbers.Integral) and 1 <= a["iterations"] <= MAX_ITERATIONS,
        "discount_rate": isinstance(a.get("discount_rate", 0.035), numbers.Real),
        "price_base_year": isinstance(a.get("price_base_year", ""), str),
    }
    try:
        attachments = json.loads(a.get("config_attachments", "{}"))
        checks["config_attachments"] = isinstance(attachments, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in attachments.items())
    except (TypeError, ValueError):
        attachments, checks["config_attachments"] = {}, False
    bad = [k for k, ok in checks.items() if not ok]
    if bad:
        raise ConfigError(f"cannot read results.nc: its {bad[0]} attribute is not one fsp-risk writes; expected the "
                          "file as 'fsp-risk run' wrote it", file=str(results))
    if "net_change_to_mtfp" not in ds:
        return attachments
    n = ds.sizes["iteration"]
    if n != a["iterations"]:
        raise ConfigError(f"cannot read results.nc: it holds {n:,} iterations but says {a['iterations']:,}; expected "
                          "the file as 'fsp-risk run' wrote it", file=str(results))
    step = 1_048_576  # a slice at a time: a large run's file need not fit in memory
    for start in range(0, n, step):
        if not np.isfinite(ds["net_change_to_mtfp"].isel(iteration=slice(start, start + step)).values).all():
            raise ConfigError("cannot read results.nc: its net change to the MTFP holds a value that is not a finite "
                              "number, which no run writes; expected an undamaged file", file=str(results))
    return attachments


@contextmanager
def _open_netcdf(path: Path):
    """A results or scenarios file opened lazily, refused with 'cannot read' when it is not a readable
    netCDF file (damaged, truncated, or something else renamed)."""
    try:
        ds = xr.open_dataset(path, engine="netcdf4", cache=False)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"cannot read {path.name} ({exc}); expected a file written by 'fsp-risk run'",
                          file=str(path)) from None
    with ds:
        yield ds


def _same_run(ds: xr.Dataset, other_id, other: Path) -> None:
    """Refuse a file of another run beside results.nc (a results.nc dropped into another run's folder)."""
    mine = ds.attrs.get("run_id")
    if mine is not None and other_id is not None and str(mine) == str(other_id):
        return
    if mine is None and other_id is None:
        return  # neither carries an id (written by simulate() and saved by hand): nothing to compare
    raise ConfigError(f"{other.name} belongs to run {other_id or 'unknown'} but results.nc to run {mine or 'unknown'}; "
                      "expected the files of one run folder, as 'fsp-risk run' wrote them", file=str(other))


def rebuild_outputs(run_dir: str | Path) -> Path:
    """Rebuild a run folder's derived files from its ``results.nc``, without simulating again.

    The config is read back from the Dataset's attributes. The new files are written to a temporary
    folder first and then moved over the old ones one by one (each move atomic).
    """
    folder = Path(run_dir)
    tmp = folder / f".tmp-report-{os.getpid()}"
    with open_results(folder) as (ds, config):
        remove_stale_temporaries(folder)
        tmp.mkdir()
        try:
            with ExitStack() as stack:
                scenarios = None
                if (folder / "scenarios.nc").is_file():  # checked to be this run's by open_results
                    scenarios = stack.enter_context(_open_netcdf(folder / "scenarios.nc"))
                write_outputs(ds, config, tmp, scenarios)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    try:
        charts = folder / "charts"
        remove_unless_regular(charts, folder=True)
        charts.mkdir(exist_ok=True)
        for path in sorted(tmp.rglob("*")):
            if path.is_file():
                target = check_inside(folder, folder / path.relative_to(tmp), "the run folder")
                os.replace(path, target)  # replaces a link at that name, never writes through it
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
